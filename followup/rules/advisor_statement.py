"""The advisor's monthly statement (R9, the rulebook's 前台接待考核) and the DC-call rate (R11). Pure.

A statement has three lines from this system: the visits commission (接车台次 × 3 元), the
"first to" prize (主动奖: the first advisor of the month to reach 100, 200, … visits) and the
satisfaction bonus (the tier of the month's unrounded mean score).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from followup.rules.bonus_tiers import bonus_tier

#: the rulebook's 主动奖: (visits reached, CNY) — first to 100 visits gets 100 元, and so on
DEFAULT_FIRST_TO: tuple[tuple[int, int], ...] = ((100, 100), (200, 200), (300, 300), (400, 400), (500, 500))
#: the rulebook's commission per visit delivered (接车台次), in CNY
DEFAULT_PER_VISIT = 3
#: R11: the advisor calls the customer within three days of delivery
DC_CALL_WITHIN = timedelta(hours=72)


@dataclass(frozen=True)
class Milestone:
    """An advisor's ``visits``-th visit of the month, delivered at ``reached_at``."""

    advisor: str
    visits: int
    reached_at: datetime


@dataclass(frozen=True)
class Statement:
    """One advisor's month, in CNY."""

    visits: int
    visit_commission_cny: int
    first_to_cny: int
    bonus_cny: int

    @property
    def statement_cny(self) -> int:
        return self.visit_commission_cny + self.first_to_cny + self.bonus_cny


def monthly_statement(visits: int, mean_score: Decimal | float | None, first_to_cny: int, *, per_visit: int,
                      tiers: Sequence[tuple[float, int]]) -> Statement:
    """The statement of a month with ``visits`` visits and a mean score of ``mean_score``.

    ``mean_score`` must be the *unrounded* mean: 84.995 is shown as 85.00 but pays no bonus (R9).
    """
    return Statement(visits=visits, visit_commission_cny=visits * per_visit, first_to_cny=first_to_cny,
                     bonus_cny=bonus_tier(mean_score, tiers))


def first_to_awards(milestones: Iterable[Milestone], prizes: Sequence[tuple[int, int]]) -> dict[str, int]:
    """主动奖: for each ``(visits, CNY)`` prize, the advisor who reached that many visits first wins it.

    "First" is by the delivery time of the visit that reached the number; when two advisors'
    visits were delivered at the same instant, the smaller advisor code wins (a rule anybody can
    check on the statement). A number nobody reached pays nobody. Returns CNY per advisor code.
    """
    firsts: dict[int, Milestone] = {}
    for m in milestones:
        best = firsts.get(m.visits)
        if best is None or (m.reached_at, m.advisor) < (best.reached_at, best.advisor):
            firsts[m.visits] = m
    out: dict[str, int] = {}
    for visits, cny in prizes:
        winner = firsts.get(visits)
        if winner is not None:
            out[winner.advisor] = out.get(winner.advisor, 0) + cny
    return out


def dc_call_due(delivered_at: datetime) -> datetime:
    """R11: the advisor's own call is due three days (72 hours) after delivery."""
    return delivered_at + DC_CALL_WITHIN


def dc_call_on_time(done_at: datetime | None, due_at: datetime) -> bool:
    """A DC call counts when it was recorded by its due instant (the instant itself included)."""
    return done_at is not None and done_at <= due_at


def dc_call_rate(on_time: int, visits: int) -> float | None:
    """R11's rate: calls done within three days ÷ visits (0–1, four decimals); None without visits."""
    if visits <= 0:
        return None
    return round(on_time / visits, 4)
