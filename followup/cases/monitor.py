"""The campaign monitor's numbers (回访监控), computed with SQL aggregates only.

Every number counts cases with the same conditions the case list filters by, so each one links to
the list that shows exactly those cases. "Today" and "this month" are the store's local day and
month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from followup.cases.case_list import (
    CaseFilter,
    StoreDay,
    Viewer,
    count_cases,
    count_funnel,
    days_of,
    in_local_period,
    local_bounds,
    store_rows,
    visible,
)
from followup.cases.next_step import count_without_next_step
from followup.models import ContactAttempt, FollowupCase, Store
from followup.rules.calendar import call_windows, closed_day
from followup.rules.three_day_rule import REACHING_CALL_OUTCOMES
from followup.settings import DEFAULT_TIMEZONE, Settings


@dataclass(frozen=True)
class Rate:
    """The three-day compliance of a period: met / (met + breached)."""

    met: int
    breached: int

    @property
    def percent(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else round(100.0 * self.met / decided, 1)


@dataclass(frozen=True)
class Number:
    """One number of the monitor and the case-list filter it links to."""

    key: str
    value: int
    link: dict[str, str]


@dataclass(frozen=True)
class Monitor:
    stores: list[str]
    today: date
    month: date
    total: int
    numbers: dict[str, Number]
    compliance_today: Rate
    compliance_month: Rate
    funnel: list[Number]
    #: RULES R3: open cases with no next step (a defect; 0 when all is well)
    no_next_step: int = 0


def _rate(session: Session, viewer_cond: object, days: list[StoreDay]) -> Rate:
    met = func.coalesce(func.sum(case((FollowupCase.three_day_rule == "met", 1), else_=0)), 0)
    breached = func.coalesce(func.sum(case((FollowupCase.three_day_rule == "breached", 1), else_=0)), 0)
    row = session.execute(
        select(met, breached).where(viewer_cond, in_local_period(FollowupCase.deadline_at, days))  # type: ignore[arg-type]
    ).one()
    return Rate(int(row[0]), int(row[1]))


def monitor(session: Session, viewer: Viewer, now: datetime) -> Monitor:
    """Today's calls, open fallbacks, deadlines at risk, compliance and the attempt funnel."""
    stores = store_rows(session, viewer.store_codes)
    tz = ZoneInfo(stores[0].timezone) if stores else ZoneInfo(DEFAULT_TIMEZONE)
    today = now.astimezone(tz).date()
    month = today.replace(day=1)

    def number(key: str, f: CaseFilter) -> Number:
        return Number(key, count_cases(session, viewer, f, now), f.query_args())

    this_month = CaseFilter(deadline_month=month)
    numbers = [
        number("calls_due", CaseFilter(activity="calls_due_today")),
        number("calls_made", CaseFilter(activity="calls_made_today")),
        number("calls_failed", CaseFilter(activity="calls_failed_today")),
        number("sms_open", CaseFilter(state="sms_survey")),
        number("letters_queued", CaseFilter(state="letter_queued")),
        number("at_risk", CaseFilter(at_risk=True)),
        number("breached_open", CaseFilter(rule="breached", open_only=True)),
        number("breached_month", CaseFilter(rule="breached", deadline_month=month)),
        number("flagged", CaseFilter(flagged=True, open_only=True)),
    ]
    cond = visible(viewer, stores)
    return Monitor(
        stores=[s.code for s in stores],
        today=today,
        month=month,
        total=count_cases(session, viewer, CaseFilter(), now),
        numbers={n.key: n for n in numbers},
        compliance_today=_rate(session, cond, days_of(stores, now)),
        compliance_month=_rate(session, cond, days_of(stores, now, month=True)),
        funnel=[
            Number(step, n, replace(this_month, funnel=step).query_args())
            for step, n in count_funnel(session, viewer, this_month, now).items()
        ],
        no_next_step=count_without_next_step(session, cond, now),
    )


# --- staff calling capacity (calls_by = staff, RULES R2/R3) --------------------------------------


@dataclass(frozen=True)
class CallerDay:
    """One staff member's calls of today in one store."""

    #: the username (``made_by`` is ``user:<username>``)
    username: str
    calls: int
    #: calls that reached the customer: answered, declined or a callback asked for
    reached: int
    first_at: datetime | None
    last_at: datetime | None

    @property
    def per_hour(self) -> float | None:
        """The pace: calls recorded per hour between the first and the last call recorded today
        (``calls - 1`` intervals over that span); None before the second call."""
        if self.calls < 2 or self.first_at is None or self.last_at is None or self.last_at <= self.first_at:
            return None
        return round((self.calls - 1) / ((self.last_at - self.first_at).total_seconds() / 3600), 1)

    @property
    def reach_percent(self) -> float | None:
        """Reached ÷ calls made, in percent (one decimal)."""
        return None if self.calls == 0 else round(100.0 * self.reached / self.calls, 1)


@dataclass(frozen=True)
class StaffCapacity:
    """Whether a staff store's callers keep up: today's calls and tomorrow's, for the supervisor."""

    store_code: str
    store_name: str
    today: date
    #: calls made today by staff
    made_today: int
    #: calls still on the worklist, due by the end of today (carried over from earlier days included)
    waiting_today: int
    callers: list[CallerDay]
    tomorrow: date
    #: cases with a call falling due tomorrow (inside staff hours: staff calls are planned only there)
    due_tomorrow: int
    #: hours the store's staff may call tomorrow: staff hours ∩ calling windows; 0 on a closed day
    staff_hours_tomorrow: float

    @property
    def due_today(self) -> int:
        """Today's calls: those made today and those still waiting."""
        return self.made_today + self.waiting_today

    @property
    def pace(self) -> float | None:
        """Calls per hour of one caller: the mean of today's callers' paces (None when none is known)."""
        paces = [c.per_hour for c in self.callers if c.per_hour is not None]
        return round(sum(paces) / len(paces), 1) if paces else None

    @property
    def hours_needed_tomorrow(self) -> float | None:
        """Hours of one caller that tomorrow's calls take at today's pace."""
        pace = self.pace
        return None if pace is None else round(self.due_tomorrow / pace, 1)

    @property
    def callers_needed_tomorrow(self) -> int | None:
        """People needed tomorrow at today's pace within tomorrow's staff hours (None: unknown)."""
        hours = self.hours_needed_tomorrow
        if hours is None or self.staff_hours_tomorrow <= 0:
            return None
        return max(1, math.ceil(hours / self.staff_hours_tomorrow)) if self.due_tomorrow else 0


def _minutes(at: time) -> int:
    return 24 * 60 if at == time.max else at.hour * 60 + at.minute


def call_hours_on(day: date, settings: Settings, store_code: str) -> float:
    """How many hours a store's calls may be made on ``day`` (staff hours ∩ calling windows in a
    staff store), 0 on a closed day (R2)."""
    policy = settings.stores[store_code].policy
    if closed_day(day, policy):
        return 0.0
    return sum(_minutes(w.end) - _minutes(w.start) for w in call_windows(policy)) / 60


def staff_capacity(session: Session, settings: Settings, store_codes: tuple[str, ...] | list[str],
                   now: datetime) -> list[StaffCapacity]:
    """For each of ``store_codes`` whose calls are made by staff: calls due today (made and still
    waiting), per staff member calls, pace and reach rate today, and the cases whose calls fall due
    tomorrow. Today and tomorrow are the store's local days; SQL aggregates only."""
    out: list[StaffCapacity] = []
    staff_codes = sorted(c for c in store_codes if c in settings.stores and settings.stores[c].calls_by == "staff")
    for store in session.scalars(select(Store).where(Store.code.in_(staff_codes)).order_by(Store.code)):
        tz = settings.stores[store.code].timezone
        today = now.astimezone(tz).date()
        start, end = local_bounds(tz, today)
        tomorrow_end = local_bounds(tz, today + timedelta(days=1))[1]
        of_store = (ContactAttempt.channel == "call",
                    ContactAttempt.case_id.in_(select(FollowupCase.id).where(FollowupCase.store_id == store.id)))
        reached = func.coalesce(func.sum(case((ContactAttempt.outcome.in_(sorted(REACHING_CALL_OUTCOMES)), 1),
                                              else_=0)), 0)
        callers = [
            CallerDay(str(made_by).removeprefix("user:"), int(n), int(r), first, last)
            for made_by, n, r, first, last in session.execute(
                select(ContactAttempt.made_by, func.count(), reached, func.min(ContactAttempt.ended_at),
                       func.max(ContactAttempt.ended_at))
                .where(*of_store, ContactAttempt.status == "done", ContactAttempt.made_by.like("user:%"),
                       ContactAttempt.ended_at >= start, ContactAttempt.ended_at < end)
                .group_by(ContactAttempt.made_by).order_by(ContactAttempt.made_by))
        ]
        waiting = session.scalar(select(func.count()).select_from(ContactAttempt).where(
            *of_store, ContactAttempt.status == "planned", ContactAttempt.due_at < end)) or 0
        due_tomorrow = session.scalar(select(func.count(distinct(ContactAttempt.case_id))).where(
            *of_store, ContactAttempt.status == "planned", ContactAttempt.due_at >= end,
            ContactAttempt.due_at < tomorrow_end)) or 0
        out.append(StaffCapacity(
            store_code=store.code, store_name=store.name, today=today, made_today=sum(c.calls for c in callers),
            waiting_today=int(waiting), callers=callers, tomorrow=today + timedelta(days=1),
            due_tomorrow=int(due_tomorrow),
            staff_hours_tomorrow=call_hours_on(today + timedelta(days=1), settings, store.code)))
    return out
