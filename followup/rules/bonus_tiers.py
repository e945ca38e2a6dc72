"""The rulebook's bonus tiers (R9). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal


def bonus_tier(score: Decimal | float | None, tiers: Sequence[tuple[float, int]]) -> int:
    """The bonus in CNY for a monthly ``score``: the highest tier whose threshold it reaches.

    ``tiers`` ascend by threshold, e.g. ``[(85.0, 300), (90.0, 600), (95.0, 900)]``; a threshold
    is included (85.0 pays 300) and below the first one the bonus is 0. Give the *unrounded*
    mean (R9): a Decimal is compared with the threshold exactly, so 84.995 pays 0.
    """
    if score is None:
        return 0
    paid = 0
    for threshold, cny in tiers:
        if score >= threshold:
            paid = cny
    return paid
