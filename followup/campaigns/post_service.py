"""The post-service campaign (售后回访): every accepted visit gets its follow-up case (R1).

``accept_visit`` is the one way a visit enters the system, from the CSV/XLSX import and from the
API alike: it upserts store data (advisor, customer, vehicle, visit) and opens the case with its
deadline, never a second case for the same (store, RO number), never resetting attempts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..intake.records import VisitRow
from ..models import Advisor, Customer, FollowupCase, Vehicle, Visit
from ..settings import StoreSettings
from ..webhooks.outbox import emit

#: no 0/O, 1/I/L: the code is typed from paper by people
REPLY_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Accepted:
    """What happened to one visit."""

    visit: Visit
    case: FollowupCase | None
    created: bool


def new_reply_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(REPLY_CODE_ALPHABET) for _ in range(6))
        if session.scalar(select(FollowupCase.id).where(FollowupCase.reply_code == code)) is None:
            return code


def _advisor(session: Session, store_id: int, code: str, name: str | None) -> Advisor:
    adv = session.scalar(select(Advisor).where(Advisor.store_id == store_id, Advisor.code == code))
    if adv is None:
        adv = Advisor(store_id=store_id, code=code, name=name)
        session.add(adv)
        session.flush()
    elif name and adv.name != name:
        adv.name = name
    return adv


def _customer(session: Session, store_id: int, row: VisitRow, now: datetime) -> Customer:
    cust = None
    if row.mobile:
        cust = session.scalar(select(Customer).where(Customer.store_id == store_id, Customer.mobile == row.mobile))
    elif row.phone:
        cust = session.scalar(
            select(Customer).where(
                Customer.store_id == store_id,
                Customer.mobile.is_(None),
                Customer.phone == row.phone,
                Customer.name == row.customer_name,
            )
        )
    if cust is None:
        cust = Customer(store_id=store_id, name=row.customer_name, mobile=row.mobile, created_at=now, updated_at=now)
        session.add(cust)
    cust.name = row.customer_name
    if row.phone:
        cust.phone = row.phone
    if row.address:
        cust.address = row.address
    cust.language = row.language
    cust.updated_at = now
    session.flush()
    return cust


def _vehicle(session: Session, customer: Customer, row: VisitRow) -> Vehicle | None:
    if not (row.vin or row.plate):
        return None
    q = select(Vehicle).where(Vehicle.customer_id == customer.id)
    q = q.where(Vehicle.vin == row.vin) if row.vin else q.where(Vehicle.plate == row.plate)
    veh = session.scalar(q)
    if veh is None:
        veh = Vehicle(customer_id=customer.id)
        session.add(veh)
    veh.plate = row.plate or veh.plate
    veh.vin = row.vin or veh.vin
    veh.model = row.vehicle_model or veh.model
    session.flush()
    return veh


def open_case(session: Session, visit: Visit, store: StoreSettings, now: datetime) -> FollowupCase | None:
    """The visit's case with its deadline (R1), or None for an excluded service type."""
    if visit.service_type in store.policy.exclude_service_types:
        return None
    deadline = visit.delivered_at + store.policy.deadline
    case = FollowupCase(
        visit_id=visit.id,
        store_id=visit.store_id,
        advisor_id=visit.advisor_id,
        state="scheduled",
        deadline_at=deadline,
        opened_at=now,
        reply_code=new_reply_code(session),
        next_check_at=now,  # the engine plans the first contact on its next tick
    )
    if now >= deadline:
        # Late intake: the rule is already broken, but the customer is still followed up (R4).
        case.three_day_rule, case.breach_reason, case.rule_decided_at = "breached", "late_intake", now
    session.add(case)
    session.flush()
    return case


def accept_visit(
    session: Session, store_id: int, store: StoreSettings, row: VisitRow, *, source: str, actor: str, now: datetime
) -> Accepted:
    """Insert or update one visit and open its case; the caller commits."""
    advisor = _advisor(session, store_id, row.advisor_code, row.advisor_name)
    customer = _customer(session, store_id, row, now)
    vehicle = _vehicle(session, customer, row)
    visit = session.scalar(select(Visit).where(Visit.store_id == store_id, Visit.ro_number == row.ro_number))
    created = visit is None
    if visit is None:
        visit = Visit(store_id=store_id, ro_number=row.ro_number, imported_at=now, source=source)
        session.add(visit)
    old_delivered = None if created else visit.delivered_at
    visit.customer_id = customer.id
    visit.vehicle_id = vehicle.id if vehicle else None
    visit.advisor_id = advisor.id
    visit.service_type = row.service_type
    visit.mileage_km = row.mileage_km
    visit.delivered_at = row.delivered_at
    visit.updated_at = now
    session.flush()
    case = session.scalar(select(FollowupCase).where(FollowupCase.visit_id == visit.id))
    if case is None and created:
        case = open_case(session, visit, store, now)
    elif case is not None:
        case.advisor_id = advisor.id
        if old_delivered != row.delivered_at and case.three_day_rule == "pending":
            case.deadline_at = row.delivered_at + store.policy.deadline
    audit.record(
        session,
        actor,
        "visit.created" if created else "visit.updated",
        at=now,
        store_id=store_id,
        case_id=case.id if case else None,
        ro_number=row.ro_number,
        source=source,
    )
    if created:
        emit(
            session,
            "visit.imported",
            {
                "store_code": store.code,
                "ro_number": row.ro_number,
                "service_type": row.service_type,
                "delivered_at": row.delivered_at.isoformat(),
                "case_opened": case is not None,
            },
            at=now,
            case_id=case.id if case else None,
        )
    return Accepted(visit, case, created)
