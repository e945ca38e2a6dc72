"""The visit upsert: every accepted visit is stored and gets its follow-up case (R1).

``accept_visit`` is the one way a visit enters the system, from the CSV/XLSX import and from the
API alike: it upserts store data (advisor, customer, vehicle, visit) and opens the case with its
deadline, never a second case for the same (store, RO number), never resetting attempts. A visit
stored before changes its case as the new data says (:mod:`followup.intake.reimport`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from followup import audit
from followup.advisor_calls.tasks import VisitForCall, give_dc_calls
from followup.campaigns import post_service
from followup.intake.records import VisitRow
from followup.intake.reimport import Changes, Stored, apply_reimport
from followup.models import Advisor, Customer, FollowupCase, Vehicle, Visit
from followup.models.base import Base
from followup.rules.reply_code import ALPHABET, CODE_LENGTH
from followup.settings import StoreSettings
from followup.webhooks.outbox import emit_many

#: no 0/O, 1/I/L: the code is typed from paper by people (:mod:`followup.rules.reply_code`)
REPLY_CODE_ALPHABET = ALPHABET


@dataclass(frozen=True)
class Accepted:
    """What happened to one visit."""

    visit: Visit
    case: FollowupCase | None
    created: bool


@dataclass(frozen=True)
class AcceptedRow:
    """What happened to one visit of a batch, by id (the batch keeps no objects)."""

    visit_id: int
    case_id: int | None
    created: bool


def new_reply_codes(session: Session, count: int) -> list[str]:
    """``count`` fresh reply codes, checked against the stored ones in one query."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = count - len(codes)
        fresh = {_random_code() for _ in range(wanted)} - codes
        taken = set(session.scalars(select(FollowupCase.reply_code).where(FollowupCase.reply_code.in_(fresh))))
        codes |= fresh - taken
    return list(codes)


def _random_code() -> str:
    """Twelve characters of the alphabet, each uniformly random and independent (why twelve:
    :mod:`followup.rules.reply_code`).

    One random number below 31¹² written in base 31: the same codes, equally likely, as twelve
    separate draws, for one call to the system's random source instead of twelve.
    """
    size = len(REPLY_CODE_ALPHABET)
    number = secrets.randbelow(size**CODE_LENGTH)
    chars = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, size)
        chars.append(REPLY_CODE_ALPHABET[index])
    return "".join(chars)


class _NewRow:
    """A row the batch will insert: its column values, set like an ORM object's, and its id once inserted.

    A batch of visits creates hundreds of customers, vehicles, visits and cases; building them as
    plain values and inserting each table with one multi-row INSERT costs a fraction of the ORM's
    unit of work. Rows already stored stay ORM objects and are updated as before.
    """

    __slots__ = ("values", "id")

    def __init__(self, **values: Any) -> None:
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "id", None)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "id":
            object.__setattr__(self, name, value)
        else:
            self.values[name] = value


def _insert(session: Session, model: type[Base], rows: Sequence[_NewRow], key: tuple[str, ...]) -> None:
    """Insert ``rows`` with one statement (a few on SQLite) and give each its id.

    ``key`` names columns that tell the rows apart (only used on SQLite, see :func:`_sqlite_ids`).
    """
    if not rows:
        return
    table = cast(Table, model.__table__)
    params = [r.values for r in rows]
    if session.get_bind().dialect.name == "sqlite":
        ids = _sqlite_ids(session, table, params, key)
    else:
        ids = list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), params))
    for row, row_id in zip(rows, ids, strict=True):
        row.id = row_id


def _sqlite_ids(session: Session, table: Table, params: list[dict[str, Any]], key: tuple[str, ...]) -> list[int]:
    """Insert ``params`` into ``table`` on SQLite and return their ids in parameter order.

    SQLAlchemy cannot batch an INSERT … RETURNING in parameter order on SQLite and would send one
    statement per row (most of an import's time). SQLite inserts the rows of a multi-row VALUES in
    order, each with the largest id + 1 (INTEGER PRIMARY KEY), so the ids sorted are in parameter
    order; the key columns returned with them check it, and map the ids when they do not agree.
    """
    stmt = insert(table).returning(table.c.id, *(table.c[name] for name in key))
    returned = sorted(tuple(r) for r in session.execute(stmt, params))
    wanted = [tuple(p[name] for name in key) for p in params]
    if [r[1:] for r in returned] == wanted:
        return [r[0] for r in returned]
    by_key = {r[1:]: r[0] for r in returned}
    if len(by_key) != len(params):
        raise RuntimeError(f"cannot tell the new rows of {table.name} apart by {key}")
    return [by_key[k] for k in wanted]


class _Batch:
    """The store's existing rows for one batch of visits, loaded with one query per table."""

    def __init__(self, session: Session, store_id: int, rows: Sequence[VisitRow]) -> None:
        self.store_id = store_id
        codes = {r.advisor_code for r in rows}
        self.advisors = {a.code: a for a in session.scalars(
            select(Advisor).where(Advisor.store_id == store_id, Advisor.code.in_(codes)))}
        mobiles = {r.mobile for r in rows if r.mobile}
        self.by_mobile: dict[str, Customer | _NewRow] = {c.mobile: c for c in session.scalars(
            select(Customer).where(Customer.store_id == store_id, Customer.mobile.in_(mobiles)))
            if c.mobile} if mobiles else {}
        landlines = {r.phone for r in rows if not r.mobile and r.phone}
        self.by_landline: dict[tuple[str | None, str], Customer | _NewRow] = {
            (c.phone, c.name): c for c in session.scalars(select(Customer).where(
                Customer.store_id == store_id, Customer.mobile.is_(None), Customer.phone.in_(landlines)))
        } if landlines else {}
        ros = {r.ro_number for r in rows}
        self.visits: dict[str, Visit | _NewRow] = {v.ro_number: v for v in session.scalars(
            select(Visit).where(Visit.store_id == store_id, Visit.ro_number.in_(ros)))}
        visit_ids = [v.id for v in self.visits.values()]
        self.cases: dict[int, FollowupCase | _NewRow] = {c.visit_id: c for c in session.scalars(
            select(FollowupCase).where(FollowupCase.visit_id.in_(visit_ids)))} if visit_ids else {}
        customer_ids = {c.id for c in (*self.by_mobile.values(), *self.by_landline.values())}
        self.vehicles: dict[int, list[Vehicle | _NewRow]] = {}
        if customer_ids:
            for veh in session.scalars(select(Vehicle).where(Vehicle.customer_id.in_(customer_ids))):
                self.vehicles.setdefault(veh.customer_id, []).append(veh)
        self.new_customers: list[_NewRow] = []
        self.new_vehicles: list[_NewRow] = []
        self.new_visits: list[_NewRow] = []
        self.new_cases: list[_NewRow] = []
        #: the visits stored before this batch, as they were (R1: a re-import changes their case)
        self.stored: dict[int, Stored] = {}

    def advisor(self, session: Session, code: str, name: str | None) -> Advisor:
        adv = self.advisors.get(code)
        if adv is None:
            adv = self.advisors[code] = Advisor(store_id=self.store_id, code=code, name=name)
            session.add(adv)
        elif name and adv.name != name:
            adv.name = name
        return adv

    def customer(self, row: VisitRow, now: datetime) -> Customer | _NewRow:
        cust: Customer | _NewRow | None
        if row.mobile:
            cust = self.by_mobile.get(row.mobile)
        else:
            cust = self.by_landline.get((row.phone, row.customer_name)) if row.phone else None
        if cust is None:
            cust = _NewRow(store_id=self.store_id, name=row.customer_name, mobile=row.mobile, phone=None,
                           address=None, language=row.language, created_at=now, updated_at=now)
            self.new_customers.append(cust)
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

    def vehicle(self, customer: Customer | _NewRow, row: VisitRow) -> Vehicle | _NewRow | None:
        if not (row.vin or row.plate):
            return None
        known = self.vehicles.setdefault(customer.id, [])
        veh = next((v for v in known if (v.vin == row.vin if row.vin else v.plate == row.plate)), None)
        if veh is None:
            veh = _NewRow(customer_id=customer.id, plate=None, vin=None, model=None)
            self.new_vehicles.append(veh)
            known.append(veh)
        veh.plate = row.plate or veh.plate
        veh.vin = row.vin or veh.vin
        veh.model = row.vehicle_model or veh.model
        return veh

    def visit(self, row: VisitRow, source: str, now: datetime) -> tuple[Visit | _NewRow, bool]:
        """The row's visit, and whether this row created it. A visit stored before this batch is
        remembered as it was (:attr:`stored`) the first time a row names it."""
        visit = self.visits.get(row.ro_number)
        if visit is None:
            visit = self.visits[row.ro_number] = _NewRow(
                store_id=self.store_id, ro_number=row.ro_number, imported_at=now, source=source,
                customer_id=None, vehicle_id=None, advisor_id=None, service_type=None, mileage_km=None,
                delivered_at=None, updated_at=None)
            self.new_visits.append(visit)
            return visit, True
        if isinstance(visit, Visit) and visit.id not in self.stored:
            case = self.cases.get(visit.id)
            self.stored[visit.id] = Stored(visit, case if isinstance(case, FollowupCase) else None,
                                           visit.service_type, visit.delivered_at)
        return visit, False

    def open_case(self, visit: Visit | _NewRow, store: StoreSettings, now: datetime,
                  reply_code: str) -> _NewRow | None:
        """The new visit's case with its deadline (R1), or None for an excluded service type."""
        if not post_service.opens_case(visit.service_type, store):
            return None
        opening = post_service.case_opening(visit.delivered_at, store, now)
        case = _NewRow(
            visit_id=visit.id, store_id=visit.store_id, advisor_id=visit.advisor_id, state="scheduled",
            deadline_at=opening.deadline_at, opened_at=now, reply_code=reply_code,
            next_check_at=now,  # the engine plans the first contact on its next tick
            three_day_rule=opening.three_day_rule, breach_reason=opening.breach_reason,
            rule_decided_at=opening.rule_decided_at,
        )
        self.new_cases.append(case)
        self.cases[visit.id] = case
        return case


def accept_visits(
    session: Session, store_id: int, store: StoreSettings, rows: Sequence[VisitRow], *, source: str, actor: str,
    now: datetime,
) -> list[AcceptedRow]:
    """Insert or update a batch of one store's visits and open their cases; the caller commits.

    The store's existing rows for the batch are loaded with one query per table, and the new
    ones written with one INSERT per table, so a 1,000-row batch costs a handful of round trips
    instead of thousands. A later row of the batch with the same RO number updates the earlier.
    """
    if not rows:
        return []
    batch = _Batch(session, store_id, rows)
    staged = [(batch.advisor(session, row.advisor_code, row.advisor_name), batch.customer(row, now)) for row in rows]
    session.flush()  # new advisors and changed customers
    _insert(session, Customer, batch.new_customers, ("mobile", "phone", "name"))
    vehicles = [batch.vehicle(customer, row) for row, (_, customer) in zip(rows, staged, strict=True)]
    _insert(session, Vehicle, batch.new_vehicles, ("customer_id", "vin", "plate"))
    results: list[tuple[Visit | _NewRow, bool]] = []
    for row, (advisor, customer), vehicle in zip(rows, staged, vehicles, strict=True):
        visit, created = batch.visit(row, source, now)
        visit.customer_id = customer.id
        visit.vehicle_id = vehicle.id if vehicle else None
        visit.advisor_id = advisor.id
        visit.service_type = row.service_type
        visit.mileage_km = row.mileage_km
        visit.delivered_at = row.delivered_at
        visit.updated_at = now
        results.append((visit, created))
    _insert(session, Visit, batch.new_visits, ("ro_number",))
    # R1: a stored visit without a case whose service type is no longer excluded gets one now
    included = [i.visit for i in batch.stored.values()
                if i.case is None and post_service.opens_case(i.visit.service_type, store)]
    included_ids = {visit.id for visit in included}
    codes = iter(new_reply_codes(session, len(batch.new_visits) + len(included)))
    cases: list[FollowupCase | _NewRow | None] = []
    for visit, created in results:
        case = batch.cases.get(visit.id)
        if case is None and (created or visit.id in included_ids):
            # the case is opened with the visit's values after the whole batch (a repeat may change them)
            case = batch.open_case(visit, store, now, reply_code=next(codes))
        elif case is not None:
            case.advisor_id = visit.advisor_id
        cases.append(case)
    _insert(session, FollowupCase, batch.new_cases, ("visit_id",))
    session.flush()  # stored visits, vehicles and cases the batch changed
    changes = apply_reimport(session, store, list(batch.stored.values()), now)
    _opened_again(store, included, batch.cases, changes)
    session.flush()
    # R11: the advisor's own 3-day call, one task per visit not excluded (one INSERT for the batch)
    give_dc_calls(session, store_id, store, [
        VisitForCall(visit.id, visit.advisor_id, visit.service_type, visit.delivered_at, created)
        for visit, created in results], now=now)
    accepted = [AcceptedRow(visit.id, case.id if case else None, created)
                for (visit, created), case in zip(results, cases, strict=True)]
    _record(session, store, store_id, rows, accepted, cases, changes, source=source, actor=actor, now=now)
    return accepted


def _opened_again(store: StoreSettings, visits: Sequence[Visit], cases: dict[int, FollowupCase | _NewRow],
                  changes: Changes) -> None:
    """Audit the cases opened for stored visits no longer excluded; a late one is breached at once (R8)."""
    for visit in visits:
        case = cases[visit.id]
        changes.entries.append(("case.opened", case.id, {"reason": "included", "service_type": visit.service_type}))
        if case.breach_reason == "late_intake":
            changes.events.append(("three_day_rule.breached", {
                "store_code": store.code, "ro_number": visit.ro_number, "reason": "late_intake",
                "deadline_at": case.deadline_at.isoformat()}, case.id))


def _record(
    session: Session, store: StoreSettings, store_id: int, rows: Sequence[VisitRow], accepted: Sequence[AcceptedRow],
    cases: Sequence[FollowupCase | _NewRow | None], changes: Changes, *, source: str, actor: str, now: datetime,
) -> None:
    """The batch's audit rows (one per row, then what the re-imports changed in their cases) and webhook
    events (new visits, late intakes, cases closed or breached by a re-import), in row order."""
    entries: list[tuple[str, int | None, dict[str, Any]]] = []
    events: list[tuple[str, dict[str, Any], int | None]] = []
    for acc, row, case in zip(accepted, rows, cases, strict=True):
        entries.append(("visit.created" if acc.created else "visit.updated", acc.case_id,
                        {"ro_number": row.ro_number, "source": source}))
        if acc.created:
            events.append(("visit.imported", {
                "store_code": store.code, "ro_number": row.ro_number, "service_type": row.service_type,
                "delivered_at": row.delivered_at.isoformat(), "case_opened": case is not None,
            }, acc.case_id))
            if case is not None and case.breach_reason == "late_intake":  # R8, decided at intake
                events.append(("three_day_rule.breached", {
                    "store_code": store.code, "ro_number": row.ro_number, "reason": "late_intake",
                    "deadline_at": case.deadline_at.isoformat(),
                }, acc.case_id))
    audit.record_many(session, actor, [*entries, *changes.entries], at=now, store_id=store_id)
    emit_many(session, [*events, *changes.events], at=now)


def accept_visit(
    session: Session, store_id: int, store: StoreSettings, row: VisitRow, *, source: str, actor: str, now: datetime
) -> Accepted:
    """Insert or update one visit and open its case; the caller commits."""
    done = accept_visits(session, store_id, store, [row], source=source, actor=actor, now=now)[0]
    visit = session.get(Visit, done.visit_id)
    case = session.get(FollowupCase, done.case_id) if done.case_id is not None else None
    assert visit is not None
    return Accepted(visit, case, done.created)
