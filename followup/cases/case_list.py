"""The staff's case list: who may see which case, the filters, and one page of rows.

Everything is SQL: the filters become WHERE clauses and a page is a LIMIT/OFFSET query, so the
list stays fast with a year of visits. The campaign monitor counts with the same conditions, so a
number on the monitor and the list it links to always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from followup.models import (
    Advisor,
    ContactAttempt,
    Customer,
    FollowupCase,
    Store,
    SurveyResponse,
    Vehicle,
    Visit,
)
from followup.reports.report_month import month_bounds
from followup.rules.contact_policy import FAILED_CALL_OUTCOMES
from followup.rules.three_day_rule import REACHING_CALL_OUTCOMES

PAGE_SIZE = 50
#: a case whose deadline is this close and whose customer is not reached yet is "at risk"
AT_RISK = timedelta(hours=12)
#: the steps of the attempt funnel, in order
FUNNEL_STEPS = ("call1", "call2", "call3", "sms", "letter", "reached")
#: the activity filters the monitor links to
ACTIVITY = ("calls_due_today", "calls_made_today", "calls_failed_today")


@dataclass(frozen=True)
class Viewer:
    """Whose eyes: the stores a user may see, and for an advisor their own advisor rows only."""

    store_codes: tuple[str, ...]
    #: set for role ``advisor``: only cases of the advisors linked to this user
    advisor_user_id: int | None = None


@dataclass(frozen=True)
class StoreDay:
    """A store and the UTC bounds of a local period (today, this month) in its time zone."""

    store_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class CaseFilter:
    """What the staff asked for; every field is optional. Dates are store-local calendar days."""

    state: str | None = None
    outcome: str | None = None
    advisor_id: int | None = None
    service_type: str | None = None
    #: the local day the case's deadline falls on
    deadline_on: date | None = None
    #: the local month (its first day) the case's deadline falls in
    deadline_month: date | None = None
    #: pending | met | breached
    rule: str | None = None
    at_risk: bool = False
    activity: str | None = None
    funnel: str | None = None
    open_only: bool = False
    flagged: bool = False
    search: str | None = None

    def query_args(self) -> dict[str, str]:
        """The filter as URL query arguments (for links and the pager)."""
        out: dict[str, str] = {}
        for key, value in (
            ("state", self.state), ("outcome", self.outcome), ("service", self.service_type),
            ("rule", self.rule), ("activity", self.activity), ("funnel", self.funnel), ("q", self.search),
        ):
            if value:
                out[key] = value
        if self.advisor_id:
            out["advisor"] = str(self.advisor_id)
        if self.deadline_on:
            out["deadline"] = self.deadline_on.isoformat()
        if self.deadline_month:
            out["month"] = f"{self.deadline_month:%Y-%m}"
        for key, flag in (("at_risk", self.at_risk), ("open", self.open_only), ("flagged", self.flagged)):
            if flag:
                out[key] = "1"
        return out


@dataclass(frozen=True)
class CaseRow:
    id: int
    store_code: str
    timezone: str
    ro_number: str
    customer_name: str
    plate: str | None
    advisor_code: str
    advisor_name: str | None
    service_type: str
    delivered_at: datetime
    deadline_at: datetime
    state: str
    outcome: str | None
    three_day_rule: str
    breach_reason: str | None
    flagged: bool


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    total: int
    page: int
    page_size: int
    filter: CaseFilter = field(default_factory=CaseFilter)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def local_bounds(tz: ZoneInfo, day: date, *, days: int = 1) -> tuple[datetime, datetime]:
    """The UTC instants where a local calendar day (or ``days`` days) starts and ends."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=days), time.min, tzinfo=tz)
    return start, end


def store_rows(session: Session, store_codes: Sequence[str]) -> list[Store]:
    return list(session.scalars(select(Store).where(Store.code.in_(store_codes)).order_by(Store.code)))


def days_of(stores: Sequence[Store], now: datetime, *, month: bool = False, on: date | None = None) -> list[StoreDay]:
    """Each store's local today (or this month, or the day ``on``) as UTC bounds."""
    out = []
    for st in stores:
        tz = ZoneInfo(st.timezone)
        local = on or now.astimezone(tz).date()
        start, end = month_bounds(local, tz) if month else local_bounds(tz, local)
        out.append(StoreDay(st.id, start, end))
    return out


def in_local_period(column: Any, days: Sequence[StoreDay], store: Any = None) -> ColumnElement[bool]:
    """``column`` falls in each case's store-local period (OR over the viewer's stores); the case's
    store is ``store`` (default ``FollowupCase.store_id``)."""
    if not days:
        return false()
    store = FollowupCase.store_id if store is None else store
    return or_(*(and_(store == d.store_id, column >= d.start, column < d.end) for d in days))


def visible(viewer: Viewer, stores: Sequence[Store]) -> ColumnElement[bool]:
    """The cases this viewer may see: their stores, and for an advisor their own customers."""
    cond: ColumnElement[bool] = FollowupCase.store_id.in_([s.id for s in stores]) if stores else false()
    if viewer.advisor_user_id is not None:
        own = select(Advisor.id).where(Advisor.user_id == viewer.advisor_user_id)
        cond = and_(cond, FollowupCase.advisor_id.in_(own))
    return cond


def _call(case_cond: ColumnElement[bool]) -> Any:
    return exists().where(ContactAttempt.case_id == FollowupCase.id, ContactAttempt.channel == "call", case_cond)


def reached() -> ColumnElement[bool]:
    """The customer was reached: a completed survey, or a decline or callback request on a call."""
    return or_(
        exists().where(SurveyResponse.case_id == FollowupCase.id, SurveyResponse.status == "completed"),
        _call(ContactAttempt.outcome.in_(REACHING_CALL_OUTCOMES | {"answered"})),
    )


def funnel_condition(step: str) -> ColumnElement[bool]:
    """A case got at least this far: call 1/2/3 made, SMS survey sent, letter queued, reached."""
    if step.startswith("call"):
        n = int(step[4:])
        return _call(and_(ContactAttempt.number >= n, ContactAttempt.status == "done"))
    if step in ("sms", "letter"):
        return exists().where(
            ContactAttempt.case_id == FollowupCase.id, ContactAttempt.channel == step,
            ContactAttempt.kind == "survey", ContactAttempt.status.in_(("done", "in_progress")),
        )
    return reached()


def activity_condition(activity: str, today: Sequence[StoreDay]) -> ColumnElement[bool]:
    """Today's calls: still due (planned up to the end of today), made, or failed.

    Written ``cases.id IN (the matching calls' cases)``: both databases then start from today's
    few calls (indexes on due and end times); an EXISTS per case made SQLite visit every case of
    the store (2 s each over a million cases).
    """
    owner = aliased(FollowupCase)
    if activity == "calls_due_today":
        ends = [and_(owner.store_id == d.store_id, ContactAttempt.due_at < d.end) for d in today]
        cond = and_(ContactAttempt.status == "planned", or_(*ends) if ends else false())
    else:
        cond = and_(ContactAttempt.status == "done", in_local_period(ContactAttempt.ended_at, today, owner.store_id))
        if activity == "calls_failed_today":
            cond = and_(cond, ContactAttempt.outcome.in_(FAILED_CALL_OUTCOMES | {"invalid_number"}))
    calls = (select(ContactAttempt.case_id).join(owner, owner.id == ContactAttempt.case_id)
             .where(ContactAttempt.channel == "call", cond))
    return FollowupCase.id.in_(calls)


def at_risk(now: datetime) -> ColumnElement[bool]:
    return and_(
        FollowupCase.state != "closed", FollowupCase.three_day_rule == "pending",
        FollowupCase.deadline_at > now, FollowupCase.deadline_at <= now + AT_RISK,
    )


def _search(text: str) -> ColumnElement[bool]:
    like = f"%{text.strip()}%"
    return or_(Visit.ro_number.ilike(like), Customer.name.ilike(like), Vehicle.plate.ilike(like))


def conditions(f: CaseFilter, stores: Sequence[Store], now: datetime) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter (store scoping is added by the caller)."""
    out: list[ColumnElement[bool]] = []
    if f.state:
        out.append(FollowupCase.state == f.state)
    if f.outcome:
        out.append(FollowupCase.outcome == f.outcome)
    if f.advisor_id:
        out.append(FollowupCase.advisor_id == f.advisor_id)
    if f.service_type:
        out.append(Visit.service_type == f.service_type)
    if f.rule:
        out.append(FollowupCase.three_day_rule == f.rule)
    if f.deadline_on:
        out.append(in_local_period(FollowupCase.deadline_at, days_of(stores, now, on=f.deadline_on)))
    if f.deadline_month:
        out.append(in_local_period(FollowupCase.deadline_at, days_of(stores, now, on=f.deadline_month, month=True)))
    if f.at_risk:
        out.append(at_risk(now))
    if f.activity in ACTIVITY:
        out.append(activity_condition(f.activity, days_of(stores, now)))
    if f.funnel in FUNNEL_STEPS:
        out.append(funnel_condition(f.funnel))
    if f.open_only:
        out.append(FollowupCase.state != "closed")
    if f.flagged:
        out.append(FollowupCase.flagged.is_(True))
    if f.search and f.search.strip():
        out.append(_search(f.search))
    return out


def _rows_query() -> Any:  # a 16-column Select; its exact generic type adds nothing here
    return (
        select(
            FollowupCase.id, Store.code, Store.timezone, Visit.ro_number, Customer.name, Vehicle.plate,
            Advisor.code, Advisor.name, Visit.service_type, Visit.delivered_at, FollowupCase.deadline_at,
            FollowupCase.state, FollowupCase.outcome, FollowupCase.three_day_rule, FollowupCase.breach_reason,
            FollowupCase.flagged,
        )
        .select_from(FollowupCase)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Store, Store.id == FollowupCase.store_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Advisor, Advisor.id == FollowupCase.advisor_id)
        .outerjoin(Vehicle, Vehicle.id == Visit.vehicle_id)
    )


def list_cases(session: Session, viewer: Viewer, f: CaseFilter, now: datetime, *, page: int = 1,
               page_size: int = PAGE_SIZE) -> CasePage:
    """One page of the cases this viewer may see, most urgent deadline first among open cases."""
    stores = store_rows(session, viewer.store_codes)
    base = _rows_query().where(visible(viewer, stores), *conditions(f, stores, now))
    total = _count(session, viewer, stores, f, now)
    page = max(1, min(page, max(1, -(-total // page_size))))
    ordered = base.order_by((FollowupCase.state == "closed").asc(), FollowupCase.deadline_at.asc(), FollowupCase.id)
    rows = [CaseRow(*r) for r in session.execute(ordered.limit(page_size).offset((page - 1) * page_size))]
    return CasePage(rows, total, page, page_size, f)


def _counting(columns: list[Any], viewer: Viewer, stores: Sequence[Store], f: CaseFilter, now: datetime) -> Any:
    """``SELECT columns`` over the cases the list would show for ``f``."""
    q = select(*columns).select_from(FollowupCase)
    searching = bool(f.search and f.search.strip())
    # Every case has its visit: join it only when a condition reads it (the join alone cost a
    # full scan of visits for the monitor's total over a million cases).
    if searching or f.service_type:
        q = q.join(Visit, Visit.id == FollowupCase.visit_id)
    if searching:
        q = q.join(Customer, Customer.id == Visit.customer_id).outerjoin(Vehicle, Vehicle.id == Visit.vehicle_id)
    return q.where(visible(viewer, stores), *conditions(f, stores, now))


def _count(session: Session, viewer: Viewer, stores: Sequence[Store], f: CaseFilter, now: datetime) -> int:
    return session.scalar(_counting([func.count(FollowupCase.id)], viewer, stores, f, now)) or 0


def count_funnel(session: Session, viewer: Viewer, f: CaseFilter, now: datetime) -> dict[str, int]:
    """For each funnel step, what :func:`count_cases` gives for ``f`` with ``funnel=step``, in one
    pass over ``f``'s cases (``COUNT … FILTER``) instead of one query per step."""
    stores = store_rows(session, viewer.store_codes)
    columns = [func.count(FollowupCase.id).filter(funnel_condition(step)) for step in FUNNEL_STEPS]
    row = session.execute(_counting(columns, viewer, stores, replace(f, funnel=None), now)).one()
    return {step: int(n or 0) for step, n in zip(FUNNEL_STEPS, row, strict=True)}


def count_cases(session: Session, viewer: Viewer, f: CaseFilter, now: datetime) -> int:
    """How many cases the list would show for ``f`` (the monitor's numbers): one COUNT query."""
    return _count(session, viewer, store_rows(session, viewer.store_codes), f, now)


def find_case(session: Session, viewer: Viewer, case_id: int) -> FollowupCase | None:
    """The case when this viewer may see it; None otherwise (the view answers 404 either way)."""
    stores = store_rows(session, viewer.store_codes)
    return session.scalar(select(FollowupCase).where(FollowupCase.id == case_id, visible(viewer, stores)))


def advisors_of(session: Session, viewer: Viewer) -> list[Advisor]:
    """The advisors offered in the filter: those of the viewer's stores (an advisor: only themself)."""
    stores = store_rows(session, viewer.store_codes)
    q = select(Advisor).where(Advisor.store_id.in_([s.id for s in stores])).order_by(Advisor.code)
    if viewer.advisor_user_id is not None:
        q = q.where(Advisor.user_id == viewer.advisor_user_id)
    return list(session.scalars(q))


def with_changes(f: CaseFilter, **changes: Any) -> CaseFilter:
    return replace(f, **changes)
