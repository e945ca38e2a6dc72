"""The DC-call tasks a user sees (R11): an advisor their own open calls, a manager their stores'.

Open tasks come due soonest first, so the overdue ones lead. A call more than :data:`LATE_LIMIT`
past its due time drops off the list (it counts as not on time in the reports either way), so that
a backlog never buries today's calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from followup.models import Advisor, AdvisorCall, Customer, FollowupCase, Store, User, Visit
from followup.privacy import mask_phone

#: how long after its due time an unrecorded call is still offered
LATE_LIMIT = timedelta(days=7)
#: at most this many tasks on one page
LIMIT = 200


@dataclass(frozen=True)
class OpenDcCall:
    """One open task as the list shows it; the phone is masked (the case page reveals it, audited)."""

    id: int
    store_code: str
    timezone: str
    ro_number: str
    advisor_code: str
    advisor_name: str | None
    customer_name: str
    phone: str | None
    service_type: str
    delivered_at: datetime
    due_at: datetime
    overdue: bool
    case_id: int | None


def visible_to(user: User, store_codes: list[str]) -> ColumnElement[bool]:
    """The tasks ``user`` may see and record: an advisor only their own; others their stores'."""
    cond: ColumnElement[bool] = AdvisorCall.store_id.in_(select(Store.id).where(Store.code.in_(store_codes)))
    if user.role == "advisor":
        cond = and_(cond, AdvisorCall.advisor_id.in_(select(Advisor.id).where(Advisor.user_id == user.id)))
    return cond


def open_dc_calls(session: Session, user: User, store_codes: list[str], now: datetime) -> list[OpenDcCall]:
    """The open DC-call tasks ``user`` may record, due soonest first (overdue ones marked)."""
    rows = session.execute(
        select(AdvisorCall, Store.code, Store.timezone, Visit.ro_number, Visit.service_type, Visit.delivered_at,
               Advisor.code, Advisor.name, Customer.name, Customer.mobile, Customer.phone, FollowupCase.id)
        .join(Visit, Visit.id == AdvisorCall.visit_id)
        .join(Store, Store.id == AdvisorCall.store_id)
        .join(Advisor, Advisor.id == AdvisorCall.advisor_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .outerjoin(FollowupCase, FollowupCase.visit_id == Visit.id)
        .where(visible_to(user, store_codes), AdvisorCall.done_at.is_(None), AdvisorCall.due_at >= now - LATE_LIMIT)
        .order_by(AdvisorCall.due_at, AdvisorCall.id)
        .limit(LIMIT)
    ).all()
    return [
        OpenDcCall(id=call.id, store_code=code, timezone=zone, ro_number=ro, advisor_code=adv_code,
                   advisor_name=adv_name, customer_name=name, phone=mask_phone(mobile or phone),
                   service_type=service, delivered_at=delivered, due_at=call.due_at, overdue=call.due_at < now,
                   case_id=case_id)
        for call, code, zone, ro, service, delivered, adv_code, adv_name, name, mobile, phone, case_id in rows
    ]
