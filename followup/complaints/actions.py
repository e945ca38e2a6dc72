"""What staff do with a complaint (R7): acknowledge it, log each contact with the customer (note,
cause, fix), escalate it at once when it is beyond their authority, resolve it, change its
category, and a manager's close: with a reason once the re-surveys are used up
(``dissatisfied_closed``), or once the re-survey went unanswered (``resolved_unconfirmed``).

Acknowledging, resolving and escalating are for the assignee or someone above
(:mod:`followup.complaints.authority`). Each action checks the complaint's status and raises
:class:`ComplaintError` with a message a person can act on; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from followup.cases.lifecycle import close_case
from followup.complaints.assignment import assignee_for
from followup.complaints.authority import (
    CATEGORY_ROLES,
    CLOSING_ROLES,
    may_act_on,
    require_assignee_or_above,
)
from followup.complaints.errors import ComplaintError, NotAllowed
from followup.complaints.resurvey import plan_resurvey
from followup.complaints.steps import record_step, store_of
from followup.models import Complaint, ContactAttempt, FollowupCase, User
from followup.rules.complaint_levels import ComplaintFacts, resolution_due
from followup.rules.complaint_levels import escalate_now as escalation_now
from followup.rules.complaint_words import CATEGORIES
from followup.settings import Settings

__all__ = [
    "CLOSING_ROLES", "ComplaintError", "NotAllowed", "acknowledge", "can_close_unconfirmed", "can_manager_close",
    "close_dissatisfied", "close_unconfirmed", "escalate_now", "log_contact", "resolve", "set_category",
]
#: free text is kept to what fits a screen; longer input is refused, not cut
MAX_TEXT = 2000
#: what the case closes as when a manager closes an unconfirmed complaint. CONTRACT §4 lists no
#: ``resolved_unconfirmed`` outcome; the customer could not be reached to confirm the fix.
UNCONFIRMED_CASE_OUTCOME = "unreachable"


def actor(user: User) -> str:
    return f"user:{user.username}"


def _text(value: str | None, field: str) -> str | None:  # noqa: ARG001 - named at each call for the reader
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise ComplaintError("Text too long: at most 2000 characters.")
    return text or None


def _still_open(complaint: Complaint) -> None:
    if complaint.status == "closed":
        raise ComplaintError("The complaint is already closed.")


def _take_up(complaint: Complaint, settings: Settings, now: datetime) -> None:
    """Acknowledged: the resolution is due within ``resolve_sla``; the first acknowledgement also
    sets the customer's progress SMS (sent once, R7)."""
    complaint.status, complaint.acknowledged_at = "acknowledged", now
    complaint.due_at = resolution_due(now, settings.complaints)
    if complaint.progress_sms_at is None and complaint.progress_due_at is None:
        complaint.progress_due_at = now + settings.complaints.progress_sms_after


def acknowledge(session: Session, complaint: Complaint, user: User, *, settings: Settings, now: datetime) -> None:
    """The person in charge (or someone above) takes the complaint: the resolution is now due."""
    if complaint.status != "open":
        raise ComplaintError("Only an open complaint can be acknowledged.")
    require_assignee_or_above(session, settings, complaint, user)
    _take_up(complaint, settings, now)
    record_step(session, complaint, "acknowledged", at=now, by=actor(user))


def log_contact(session: Session, complaint: Complaint, user: User, *, note: str | None, cause: str | None,
                fix: str | None, settings: Settings, now: datetime) -> None:
    """Record a contact with the customer. The assignee's (or a superior's) first one also
    acknowledges the complaint; anybody else's is noted and the complaint keeps escalating."""
    _still_open(complaint)
    note, cause, fix = _text(note, "note"), _text(cause, "cause"), _text(fix, "fix")
    if not (note or cause or fix):
        raise ComplaintError("Write what was said, the cause or the fix.")
    if complaint.status == "open" and may_act_on(session, settings, complaint, user):
        _take_up(complaint, settings, now)
    record_step(session, complaint, "contact", at=now, by=actor(user), note=note, cause=cause, fix=fix)


def escalate_now(session: Session, complaint: Complaint, user: User, *, note: str | None, settings: Settings,
                 now: datetime) -> None:
    """超出自己权限范围的，立即逐级汇报: one level up at once, with a new assignee and due time."""
    if complaint.status not in ("open", "acknowledged"):
        raise ComplaintError("Only an open or acknowledged complaint can be escalated.")
    require_assignee_or_above(session, settings, complaint, user)
    step = escalation_now(ComplaintFacts(complaint.level, complaint.status, complaint.due_at), now,
                          settings.complaints)
    if step is None:
        raise ComplaintError("The complaint is at the top level (general manager) already.")
    case = session.get_one(FollowupCase, complaint.case_id)
    previous = complaint.assignee
    complaint.level, complaint.due_at, complaint.status, complaint.acknowledged_at = step.level, step.due_at, "open", None
    complaint.assignee = assignee_for(session, case, step.level, store_of(session, settings, case.store_id))
    record_step(session, complaint, "escalated", at=now, by=actor(user),
                note=_text(note, "note") or "beyond the assignee's authority",
                event="complaint.escalated", data={"from_assignee": previous, "reason": step.reason})


def resolve(session: Session, complaint: Complaint, user: User, *, cause: str | None, fix: str | None,
            note: str | None = None, settings: Settings, now: datetime) -> None:
    """Mark the complaint resolved and plan the customer's re-survey (while re-surveys are left)."""
    if complaint.status not in ("open", "acknowledged"):
        raise ComplaintError("Only an open or acknowledged complaint can be resolved.")
    require_assignee_or_above(session, settings, complaint, user)
    cause, fix, note = _text(cause, "cause"), _text(fix, "fix"), _text(note, "note")
    if not fix:
        raise ComplaintError("Fix: say what was done for the customer.")
    complaint.status, complaint.resolved_at = "resolved", now
    complaint.acknowledged_at = complaint.acknowledged_at or now
    # solved: no progress SMS is due any more (a planned one is taken back)
    complaint.progress_due_at = None
    session.execute(update(ContactAttempt).where(
        ContactAttempt.case_id == complaint.case_id, ContactAttempt.kind == "progress",
        ContactAttempt.status == "planned").values(status="cancelled", reason="complaint_resolved"))
    complaint.resurvey_check_at = complaint.resurvey_reminded_at = complaint.unconfirmed_at = None
    data: dict[str, object] = {"resurveys": complaint.resurveys}
    if complaint.resurveys < settings.complaints.max_resurveys:
        planned = plan_resurvey(session, complaint, settings, now)
        data["resurvey"] = None if planned is None else {"channel": planned.channel,
                                                         "due_at": planned.due_at.isoformat() if planned.due_at else None}
    else:
        data["resurvey"] = None
        note = note or "no re-survey left: a manager closes the complaint"
    record_step(session, complaint, "resolved", at=now, by=actor(user), note=note, cause=cause, fix=fix,
                event="complaint.resolved", data=data)


def set_category(session: Session, complaint: Complaint, user: User, *, category: str, now: datetime) -> None:
    """Staff choose the category (information staff, a manager, an admin)."""
    if user.role not in CATEGORY_ROLES:
        raise NotAllowed("Only information staff or a manager can change the category.")
    if category not in CATEGORIES:
        raise ComplaintError("Choose the complaint's category.")
    if category == complaint.category:
        return
    before, complaint.category = complaint.category, category
    record_step(session, complaint, "category", at=now, by=actor(user), note=f"{before} → {category}")


def can_manager_close(complaint: Complaint, settings: Settings) -> bool:
    """After ``max_resurveys`` re-surveys (R7) a manager may close a complaint that is not closed."""
    return complaint.status != "closed" and complaint.resurveys >= settings.complaints.max_resurveys


def can_close_unconfirmed(complaint: Complaint) -> bool:
    """A resolved complaint whose re-survey went unanswered past ``resurvey_timeout`` (R7)."""
    return complaint.status == "resolved" and complaint.unconfirmed_at is not None


def _close(session: Session, complaint: Complaint, user: User, *, outcome: str, case_outcome: str, note: str,
           now: datetime) -> None:
    complaint.status, complaint.closed_at, complaint.close_reason, complaint.outcome = "closed", now, note, outcome
    complaint.progress_due_at = complaint.resurvey_check_at = None
    record_step(session, complaint, "closed", at=now, by=actor(user), note=note,
                data={"outcome": outcome, "case_outcome": case_outcome})
    case = session.get_one(FollowupCase, complaint.case_id)
    if case.state != "closed":  # e.g. closed opted_out by a no-contact mark: that outcome stays
        close_case(session, case, case_outcome, now=now, actor=actor(user))


def close_dissatisfied(session: Session, complaint: Complaint, user: User, *, reason: str | None,
                       settings: Settings, now: datetime) -> None:
    """A manager closes the complaint with a reason; the case closes ``dissatisfied_closed``."""
    if user.role not in CLOSING_ROLES:
        raise NotAllowed("Only a manager can close a complaint the customer is still unhappy with.")
    _still_open(complaint)
    if not can_manager_close(complaint, settings):
        raise ComplaintError("A manager closes a complaint only after its re-surveys are used up.")
    text = _text(reason, "reason")
    if not text:
        raise ComplaintError("Reason: say why the complaint is closed.")
    _close(session, complaint, user, outcome="dissatisfied_closed", case_outcome="dissatisfied_closed", note=text,
           now=now)


def close_unconfirmed(session: Session, complaint: Complaint, user: User, *, note: str | None,
                      settings: Settings, now: datetime) -> None:  # noqa: ARG001 - the same call as the other closes
    """A manager closes a resolved complaint whose re-survey went unanswered: the complaint's outcome
    is ``resolved_unconfirmed``, the case's ``unreachable`` (see ``UNCONFIRMED_CASE_OUTCOME``)."""
    if user.role not in CLOSING_ROLES:
        raise NotAllowed("Only a manager can close a complaint the customer did not confirm.")
    _still_open(complaint)
    if not can_close_unconfirmed(complaint):
        raise ComplaintError("A resolved complaint is closed unconfirmed only once its re-survey went unanswered "
                             "for the re-survey timeout (7 days by default).")
    text = _text(note, "note") or "re-survey unanswered"
    _close(session, complaint, user, outcome="resolved_unconfirmed", case_outcome=UNCONFIRMED_CASE_OUTCOME,
           note=text, now=now)
