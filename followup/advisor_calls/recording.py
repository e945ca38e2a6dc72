"""Recording the advisor's own 3-day call (R11): reached or not, a note; audited (R10).

Only the visit's own advisor, or a manager or administrator of the store, records it. Recording
touches nothing but the task: the follow-up case, its contact attempts (the information staff's
three calls) and the survey responses (the advisor's score, R9) stay exactly as they were.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup import audit
from followup.advisor_calls.worklist import visible_to
from followup.models import AdvisorCall, FollowupCase, User, Visit
from followup.rules.advisor_statement import dc_call_on_time

#: roles that may record a DC call (an advisor only their own)
RECORDING_ROLES = ("advisor", "manager", "admin")
NOTE_MAX = 2000


class DcCallError(ValueError):
    """The call cannot be recorded as asked; ``str(exc)`` is an English message id shown translated."""


def find_dc_call(session: Session, user: User, store_codes: list[str], call_id: int) -> AdvisorCall | None:
    """The task when ``user`` may see it; None otherwise (another store's, another advisor's)."""
    return session.scalar(select(AdvisorCall).where(AdvisorCall.id == call_id, visible_to(user, store_codes)))


def record_dc_call(session: Session, call: AdvisorCall, *, user: User, reached: str, note: str,
                   now: datetime) -> None:
    """Mark the call made at ``now``: ``reached`` is ``"yes"`` or ``"no"``; the caller commits."""
    if user.role not in RECORDING_ROLES:
        raise PermissionError(user.role)
    if call.done_at is not None:
        raise DcCallError("This call is already recorded.")
    if reached not in ("yes", "no"):
        raise DcCallError("Say whether you reached the customer.")
    clean = note.strip()
    if len(clean) > NOTE_MAX:
        raise DcCallError("The note is too long (at most 2000 characters).")
    call.done_at, call.reached, call.note, call.made_by = now, reached == "yes", clean or None, f"user:{user.username}"
    visit = session.get_one(Visit, call.visit_id)
    case_id = session.scalar(select(FollowupCase.id).where(FollowupCase.visit_id == visit.id))
    audit.record(session, call.made_by, "advisor_call.recorded", at=now, store_id=call.store_id, case_id=case_id,
                 ro_number=visit.ro_number, reached=call.reached, on_time=dc_call_on_time(now, call.due_at),
                 note=clean or None)
