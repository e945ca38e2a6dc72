"""The escalation rule of R7 ("逐级汇报", "超出自己权限范围的，立即逐级汇报"). Pure: no database, no clock.

Level 1 is the visit's service advisor, level 2 the service manager, level 3 the general manager.
A complaint waits on its ``due_at``:

* ``open`` (nobody has taken it up at this level): acknowledgement due ``ack_sla`` (24h) after it
  was handed to the level;
* ``acknowledged``: the resolution is due ``resolve_sla`` (72h) after the acknowledgement
  ("acknowledged is not solved").

Missing either moves it one level up, where the new assignee must acknowledge it within
``ack_sla``. The assignee may also escalate at once (``beyond_authority``). Only the assignee or
someone above may act on it (:func:`may_act`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from followup.rules.values import ComplaintSettings

#: level 3 (general manager) is the top: nothing escalates beyond it
MAX_LEVEL = 3
#: nobody has taken the complaint up at its level yet
WAITING = "open"
#: statuses in which the complaint waits on its ``due_at`` (and escalates when it passes)
IN_HAND = ("open", "acknowledged")
#: why a complaint moved up (the ``reason`` of ``complaint.escalated``)
ESCALATION_REASONS = ("not_acknowledged", "not_resolved", "beyond_authority", "dissatisfied_again")


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
    reason: str = "not_acknowledged"


def next_escalation(complaint: ComplaintFacts, now: datetime, settings: ComplaintSettings) -> Escalation | None:
    """The escalation due at ``now``, or None (not yet due, resolved, closed, or already at the top)."""
    if complaint.status not in IN_HAND or now < complaint.due_at or complaint.level >= MAX_LEVEL:
        return None
    reason = "not_acknowledged" if complaint.status == WAITING else "not_resolved"
    return Escalation(complaint.level + 1, now + settings.ack_sla, reason)


def escalate_now(complaint: ComplaintFacts, now: datetime, settings: ComplaintSettings) -> Escalation | None:
    """The assignee's "beyond my authority": one level up at once; None at the top or when not in hand."""
    if complaint.status not in IN_HAND or complaint.level >= MAX_LEVEL:
        return None
    return Escalation(complaint.level + 1, now + settings.ack_sla, "beyond_authority")


def resolution_due(acknowledged_at: datetime, settings: ComplaintSettings) -> datetime:
    """When an acknowledged complaint must be resolved (its new ``due_at``)."""
    return acknowledged_at + settings.resolve_sla


def level_above(level: int) -> int:
    """One level higher, never above the general manager (a reopened complaint, R7)."""
    return min(level + 1, MAX_LEVEL)


@dataclass(frozen=True)
class Authority:
    """Who a user is to one complaint: their role and the parts the store's config gives them."""

    role: str  # info_staff | advisor | manager | admin
    #: the user is linked to the visit's own service advisor
    is_visit_advisor: bool = False
    #: the store's ``service_manager`` (level 2)
    is_service_manager: bool = False
    #: the store's ``general_manager`` (level 3)
    is_general_manager: bool = False


def may_act(level: int, who: Authority) -> bool:
    """Whether ``who`` may acknowledge, resolve or escalate a complaint at ``level``: the assignee
    or someone above. Level 1: the visit's advisor, any manager, the service manager, the general
    manager, an admin; level 2: the service manager, the general manager, an admin; level 3: the
    general manager or an admin."""
    if who.role == "admin" or who.is_general_manager:
        return True
    if level >= MAX_LEVEL:
        return False
    if who.is_service_manager:
        return True
    return level <= 1 and (who.role == "manager" or who.is_visit_advisor)
