"""The escalation rule of R7 ("逐级汇报"). Pure: no database, no clock.

A complaint that nobody acknowledged by its ``due_at`` moves one level up: level 1 is the
visit's service advisor, level 2 the service manager, level 3 the general manager. Each level
gets ``ack_sla`` (default 24h) from the moment it was handed the complaint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from followup.rules.values import ComplaintSettings

#: level 3 (general manager) is the top: nothing escalates beyond it
MAX_LEVEL = 3
#: only a complaint nobody has taken up yet escalates
WAITING = "open"


@dataclass(frozen=True)
class ComplaintFacts:
    """What the rule needs to know about a complaint."""

    level: int
    status: str  # open | acknowledged | resolved | closed
    due_at: datetime


@dataclass(frozen=True)
class Escalation:
    """Move to ``level``; the new level must acknowledge by ``due_at``."""

    level: int
    due_at: datetime


def next_escalation(complaint: ComplaintFacts, now: datetime, settings: ComplaintSettings) -> Escalation | None:
    """The escalation due at ``now``, or None (acknowledged, not yet due, or already at the top)."""
    if complaint.status != WAITING or now < complaint.due_at or complaint.level >= MAX_LEVEL:
        return None
    return Escalation(level=complaint.level + 1, due_at=now + settings.ack_sla)


def level_above(level: int) -> int:
    """One level higher, never above the general manager (a reopened complaint, R7)."""
    return min(level + 1, MAX_LEVEL)
