"""What staff do with a complaint: acknowledge it, log each contact with the customer (note,
cause, fix), resolve it, and — after the re-surveys are used up — a manager's close with a reason.

Each action checks the complaint's status and raises :class:`ComplaintError` with a message a
person can act on; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from followup.cases.lifecycle import close_case
from followup.complaints.resurvey import plan_resurvey
from followup.complaints.steps import record_step
from followup.models import Complaint, FollowupCase, User
from followup.settings import Settings

#: roles that may close a complaint the customer is still unhappy with (R7)
CLOSING_ROLES = frozenset({"manager", "admin"})
#: free text is kept to what fits a screen; longer input is refused, not cut
MAX_TEXT = 2000


class ComplaintError(ValueError):
    """The action is not possible in the complaint's current state; the message says why."""


class NotAllowed(ComplaintError):
    """The user's role may not do this."""


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


def acknowledge(session: Session, complaint: Complaint, user: User, *, now: datetime) -> None:
    """The person in charge takes the complaint: it stops escalating."""
    if complaint.status != "open":
        raise ComplaintError("Only an open complaint can be acknowledged.")
    complaint.status, complaint.acknowledged_at = "acknowledged", now
    record_step(session, complaint, "acknowledged", at=now, by=actor(user))


def log_contact(session: Session, complaint: Complaint, user: User, *, note: str | None, cause: str | None,
                fix: str | None, now: datetime) -> None:
    """Record a contact with the customer; the first one also acknowledges the complaint."""
    _still_open(complaint)
    note, cause, fix = _text(note, "note"), _text(cause, "cause"), _text(fix, "fix")
    if not (note or cause or fix):
        raise ComplaintError("Write what was said, the cause or the fix.")
    if complaint.status == "open":
        complaint.status, complaint.acknowledged_at = "acknowledged", now
    record_step(session, complaint, "contact", at=now, by=actor(user), note=note, cause=cause, fix=fix)


def resolve(session: Session, complaint: Complaint, user: User, *, cause: str | None, fix: str | None,
            note: str | None = None, settings: Settings, now: datetime) -> None:
    """Mark the complaint resolved and plan the customer's re-survey (while re-surveys are left)."""
    if complaint.status not in ("open", "acknowledged"):
        raise ComplaintError("Only an open or acknowledged complaint can be resolved.")
    cause, fix, note = _text(cause, "cause"), _text(fix, "fix"), _text(note, "note")
    if not fix:
        raise ComplaintError("Fix: say what was done for the customer.")
    complaint.status, complaint.resolved_at = "resolved", now
    complaint.acknowledged_at = complaint.acknowledged_at or now
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


def can_manager_close(complaint: Complaint, settings: Settings) -> bool:
    """After ``max_resurveys`` re-surveys (R7) a manager may close a complaint that is not closed."""
    return complaint.status != "closed" and complaint.resurveys >= settings.complaints.max_resurveys


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
    complaint.status, complaint.closed_at, complaint.close_reason = "closed", now, text
    record_step(session, complaint, "closed", at=now, by=actor(user), note=text)
    case = session.get_one(FollowupCase, complaint.case_id)
    close_case(session, case, "dissatisfied_closed", now=now, actor=actor(user))
