"""The post-service campaign (售后回访): every accepted visit gets its follow-up case (R1).

``accept_visit`` is the one way a visit enters the system, from the CSV/XLSX import and from the
API alike: it upserts store data (advisor, customer, vehicle, visit) and opens the case with its
deadline, never a second case for the same (store, RO number), never resetting attempts.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
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
    return new_reply_codes(session, 1)[0]


def new_reply_codes(session: Session, count: int) -> list[str]:
    """``count`` fresh reply codes, checked against the stored ones in one query."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = count - len(codes)
        fresh = {"".join(secrets.choice(REPLY_CODE_ALPHABET) for _ in range(6)) for _ in range(wanted)} - codes
        taken = set(session.scalars(select(FollowupCase.reply_code).where(FollowupCase.reply_code.in_(fresh))))
        codes |= fresh - taken
    return list(codes)


class _Batch:
    """The store's existing rows for one batch of visits, loaded with one query per table."""

    def __init__(self, session: Session, store_id: int, rows: Sequence[VisitRow]) -> None:
        self.store_id = store_id
        codes = {r.advisor_code for r in rows}
        self.advisors = {a.code: a for a in session.scalars(
            select(Advisor).where(Advisor.store_id == store_id, Advisor.code.in_(codes)))}
        mobiles = {r.mobile for r in rows if r.mobile}
        self.by_mobile = {c.mobile: c for c in session.scalars(
            select(Customer).where(Customer.store_id == store_id, Customer.mobile.in_(mobiles)))} if mobiles else {}
        landlines = {r.phone for r in rows if not r.mobile and r.phone}
        self.by_landline = {(c.phone, c.name): c for c in session.scalars(select(Customer).where(
            Customer.store_id == store_id, Customer.mobile.is_(None), Customer.phone.in_(landlines)))} if landlines else {}
        ros = {r.ro_number for r in rows}
        self.visits = {v.ro_number: v for v in session.scalars(
            select(Visit).where(Visit.store_id == store_id, Visit.ro_number.in_(ros)))}
        visit_ids = [v.id for v in self.visits.values()]
        self.cases = {c.visit_id: c for c in session.scalars(
            select(FollowupCase).where(FollowupCase.visit_id.in_(visit_ids)))} if visit_ids else {}
        customer_ids = {c.id for c in (*self.by_mobile.values(), *self.by_landline.values())}
        self.vehicles: dict[int, list[Vehicle]] = {}
        if customer_ids:
            for veh in session.scalars(select(Vehicle).where(Vehicle.customer_id.in_(customer_ids))):
                self.vehicles.setdefault(veh.customer_id, []).append(veh)

    def advisor(self, session: Session, code: str, name: str | None) -> Advisor:
        adv = self.advisors.get(code)
        if adv is None:
            adv = self.advisors[code] = Advisor(store_id=self.store_id, code=code, name=name)
            session.add(adv)
        elif name and adv.name != name:
            adv.name = name
        return adv

    def customer(self, session: Session, row: VisitRow, now: datetime) -> Customer:
        if row.mobile:
            cust = self.by_mobile.get(row.mobile)
        else:
            cust = self.by_landline.get((row.phone, row.customer_name)) if row.phone else None
        if cust is None:
            cust = Customer(store_id=self.store_id, name=row.customer_name, mobile=row.mobile, created_at=now)
            session.add(cust)
            if row.mobile:
                self.by_mobile[row.mobile] = cust
            elif row.phone:
                self.by_landline[(row.phone, row.customer_name)] = cust
        cust.name = row.customer_name
        if row.phone:
            cust.phone = row.phone
        if row.address:
            cust.address = row.address
        cust.language = row.language
        cust.updated_at = now
        return cust

    def vehicle(self, session: Session, customer: Customer, row: VisitRow) -> Vehicle | None:
        if not (row.vin or row.plate):
            return None
        known = self.vehicles.setdefault(customer.id, []) if customer.id is not None else []
        veh = next((v for v in known if (v.vin == row.vin if row.vin else v.plate == row.plate)), None)
        if veh is None:
            veh = Vehicle(customer_id=customer.id)
            session.add(veh)
            known.append(veh)
            if customer.id is not None:
                self.vehicles[customer.id] = known
        veh.plate = row.plate or veh.plate
        veh.vin = row.vin or veh.vin
        veh.model = row.vehicle_model or veh.model
        return veh


def open_case(session: Session, visit: Visit, store: StoreSettings, now: datetime,
              reply_code: str | None = None) -> FollowupCase | None:
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
        reply_code=reply_code or new_reply_code(session),
        next_check_at=now,  # the engine plans the first contact on its next tick
    )
    if now >= deadline:
        # Late intake: the rule is already broken, but the customer is still followed up (R4).
        case.three_day_rule, case.breach_reason, case.rule_decided_at = "breached", "late_intake", now
    session.add(case)
    return case


def accept_visits(
    session: Session, store_id: int, store: StoreSettings, rows: Sequence[VisitRow], *, source: str, actor: str,
    now: datetime,
) -> list[Accepted]:
    """Insert or update a batch of one store's visits and open their cases; the caller commits.

    The store's existing rows for the batch are loaded with one query per table, and the new
    ones written with one flush per table, so a 500-row batch costs a handful of round trips
    instead of thousands. A later row of the batch with the same RO number updates the earlier.
    """
    if not rows:
        return []
    batch = _Batch(session, store_id, rows)
    staged = []
    for row in rows:
        advisor = batch.advisor(session, row.advisor_code, row.advisor_name)
        customer = batch.customer(session, row, now)
        staged.append((row, advisor, customer))
    session.flush()  # advisors and customers get their ids
    placed = []
    for row, advisor, customer in staged:
        vehicle = batch.vehicle(session, customer, row)
        placed.append((row, advisor, customer, vehicle))
    session.flush()  # vehicles
    results: list[tuple[Visit, bool, datetime | None]] = []
    for row, advisor, customer, vehicle in placed:
        visit = batch.visits.get(row.ro_number)
        created = visit is None
        if visit is None:
            visit = batch.visits[row.ro_number] = Visit(store_id=store_id, ro_number=row.ro_number,
                                                        imported_at=now, source=source)
            session.add(visit)
        old_delivered = None if created or visit.id is None else visit.delivered_at
        visit.customer_id = customer.id
        visit.vehicle_id = vehicle.id if vehicle else None
        visit.advisor_id = advisor.id
        visit.service_type = row.service_type
        visit.mileage_km = row.mileage_km
        visit.delivered_at = row.delivered_at
        visit.updated_at = now
        results.append((visit, created, old_delivered))
    session.flush()  # visits
    new_visits = {id(v): v for v, created, _ in results if created and v.id not in batch.cases}
    codes = iter(new_reply_codes(session, len(new_visits)))
    accepted: list[Accepted] = []
    for (visit, created, old_delivered), row in zip(results, rows, strict=True):
        case = batch.cases.get(visit.id)
        if case is None and id(visit) in new_visits:
            case = open_case(session, visit, store, now, reply_code=next(codes))
            if case is not None:
                batch.cases[visit.id] = case
        elif case is not None:
            case.advisor_id = visit.advisor_id
            if old_delivered is not None and old_delivered != row.delivered_at and case.three_day_rule == "pending":
                case.deadline_at = row.delivered_at + store.policy.deadline
        accepted.append(Accepted(visit, case, created))
    session.flush()  # cases
    for acc, row in zip(accepted, rows, strict=True):
        case_id = acc.case.id if acc.case else None
        audit.record(session, actor, "visit.created" if acc.created else "visit.updated", at=now,
                     store_id=store_id, case_id=case_id, ro_number=row.ro_number, source=source)
        if acc.created:
            emit(session, "visit.imported", {
                "store_code": store.code, "ro_number": row.ro_number, "service_type": row.service_type,
                "delivered_at": row.delivered_at.isoformat(), "case_opened": acc.case is not None,
            }, at=now, case_id=case_id)
            if acc.case is not None and acc.case.breach_reason == "late_intake":  # R8, decided at intake
                emit(session, "three_day_rule.breached", {
                    "store_code": store.code, "ro_number": row.ro_number, "reason": "late_intake",
                    "deadline_at": acc.case.deadline_at.isoformat(),
                }, at=now, case_id=case_id)
    return accepted


def accept_visit(
    session: Session, store_id: int, store: StoreSettings, row: VisitRow, *, source: str, actor: str, now: datetime
) -> Accepted:
    """Insert or update one visit and open its case; the caller commits."""
    return accept_visits(session, store_id, store, [row], source=source, actor=actor, now=now)[0]
