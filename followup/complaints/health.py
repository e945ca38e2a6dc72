"""R7: "no complaint can reach a state from which nobody can move it". What moves each complaint
on (:func:`ways_forward`), and the complaints nothing moves (:func:`stuck_complaints`), for
``followup doctor`` and the monitor.

A complaint that is not closed moves on when at least one of these holds:

* in hand (open or acknowledged): it escalates at its ``due_at`` (below level 3), and some active
  user who can see its store may act on it at its level or a level above (the assignee or
  someone above, :func:`followup.rules.complaint_levels.may_act`);
* resolved: its re-survey (or reminder) is planned or in flight, the duty looks at it again at
  ``resurvey_check_at``, or a manager's close is open (re-surveys used up, or the re-survey went
  unanswered) and an active manager or admin can see its store.

Read-only: it changes nothing and commits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.complaints.actions import can_close_unconfirmed, can_manager_close
from followup.complaints.authority import who_may_act, who_may_close
from followup.complaints.resurvey import PENDING, RESURVEY_KINDS
from followup.models import Complaint, ContactAttempt, FollowupCase, Store, Visit
from followup.rules.complaint_levels import IN_HAND, MAX_LEVEL
from followup.settings import Settings


@dataclass(frozen=True)
class Way:
    """One thing that moves a complaint on: ``escalates`` (at ``at``), ``act`` (``who`` may
    acknowledge, resolve or escalate it), ``resurvey`` (a contact due at ``at``), ``check`` (the
    duty looks again at ``at``), ``close`` (``who`` may close it as a manager)."""

    kind: str
    at: datetime | None = None
    who: tuple[str, ...] = ()


@dataclass(frozen=True)
class StuckComplaint:
    """A complaint nothing moves on, and why."""

    complaint_id: int
    store_code: str
    ro_number: str
    level: int
    status: str
    problem: str


def ways_forward(session: Session, settings: Settings, complaint: Complaint, now: datetime) -> list[Way]:  # noqa: ARG001
    """What moves ``complaint`` on from here (empty for a closed one). ``now`` is the caller's clock,
    kept in the signature so that a due time in the past reads as "at the next tick"."""
    ways: list[Way] = []
    if complaint.status == "closed":
        return ways
    if complaint.status in IN_HAND:
        if complaint.level < MAX_LEVEL:
            ways.append(Way("escalates", complaint.due_at))
        who = who_may_act(session, settings, complaint)
        if who:
            ways.append(Way("act", None, tuple(who)))
        return ways
    if complaint.resolved_at is not None:
        pending = session.scalar(select(ContactAttempt.due_at).where(
            ContactAttempt.case_id == complaint.case_id, ContactAttempt.kind.in_(RESURVEY_KINDS),
            ContactAttempt.status.in_(PENDING), ContactAttempt.created_at >= complaint.resolved_at,
        ).order_by(ContactAttempt.due_at).limit(1))
        if pending is not None:
            ways.append(Way("resurvey", pending))
    if complaint.resurvey_check_at is not None:
        ways.append(Way("check", complaint.resurvey_check_at))
    if can_manager_close(complaint, settings) or can_close_unconfirmed(complaint):
        who = who_may_close(session, complaint)
        if who:
            ways.append(Way("close", None, tuple(who)))
    return ways


def _problem(session: Session, settings: Settings, complaint: Complaint, ways: list[Way]) -> str | None:
    if complaint.status in IN_HAND:
        for level in range(complaint.level, MAX_LEVEL + 1):
            if who_may_act(session, settings, complaint, level):
                return None
        return (f"nobody can act on it at level {complaint.level} or above: no active user who sees the store "
                "is the assignee (a linked advisor, the configured service or general manager) or an admin")
    if ways:
        return None
    if can_manager_close(complaint, settings) or can_close_unconfirmed(complaint):
        return "only a manager may close it, and no active manager or admin sees its store"
    return "resolved with no re-survey planned, nothing to look at it again, and no manager close possible"


def stuck_complaints(session: Session, settings: Settings, now: datetime, *,
                     store_codes: list[str] | None = None) -> list[StuckComplaint]:
    """Every complaint that is not closed and that nothing can move on (oldest first); empty when
    all is well. ``store_codes`` limits the look to those stores."""
    query = (select(Complaint, Store.code, Visit.ro_number)
             .join(Store, Store.id == Complaint.store_id)
             .join(FollowupCase, FollowupCase.id == Complaint.case_id)
             .join(Visit, Visit.id == FollowupCase.visit_id)
             .where(Complaint.status != "closed").order_by(Complaint.id))
    if store_codes is not None:
        query = query.where(Store.code.in_(store_codes))
    out = []
    for complaint, code, ro in session.execute(query).all():
        if code not in settings.stores:
            out.append(StuckComplaint(complaint.id, code, ro, complaint.level, complaint.status,
                                      "its store is not in the configuration: nobody is assigned at levels 2 and 3"))
            continue
        problem = _problem(session, settings, complaint, ways_forward(session, settings, complaint, now))
        if problem is not None:
            out.append(StuckComplaint(complaint.id, code, ro, complaint.level, complaint.status, problem))
    return out
