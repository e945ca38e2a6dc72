"""A case's lifecycle: who it is (``case_ref``), closing it, and cancelling what was planned for it.

Used by every part that ends a case: the planner (unreachable, opted out), surveys (satisfied),
complaints (satisfied, dissatisfied_closed), letters (returned) and staff actions (no-contact).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from followup import audit
from followup.models import ContactAttempt, FollowupCase, Store, Visit
from followup.webhooks.outbox import emit


def case_ref(session: Session, case: FollowupCase) -> dict[str, str]:
    """``store_code`` and ``ro_number`` of a case, as every webhook about a visit carries them."""
    row = session.execute(
        select(Store.code, Visit.ro_number).join(Visit, Visit.store_id == Store.id).where(Visit.id == case.visit_id)
    ).one()
    return {"store_code": row[0], "ro_number": row[1]}


def cancel_pending(session: Session, case_id: int, *, reason: str, keep: int | None = None) -> int:
    """Cancel every planned contact of a case (the customer answered, or the case closed)."""
    q = update(ContactAttempt).where(ContactAttempt.case_id == case_id, ContactAttempt.status == "planned")
    if keep is not None:
        q = q.where(ContactAttempt.id != keep)
    return session.execute(q.values(status="cancelled", reason=reason)).rowcount  # type: ignore[attr-defined]


def close_case(session: Session, case: FollowupCase, outcome: str, *, now: datetime, actor: str) -> None:
    """Close ``case`` with ``outcome``: nothing planned stays, the audit and ``case.closed`` say so."""
    case.state, case.outcome, case.closed_at, case.next_check_at = "closed", outcome, now, None
    cancel_pending(session, case.id, reason=f"closed:{outcome}")
    audit.record(session, actor, "case.closed", at=now, store_id=case.store_id, case_id=case.id, outcome=outcome)
    emit(session, "case.closed", {**case_ref(session, case), "outcome": outcome}, at=now, case_id=case.id)
