"""The campaign monitor's numbers (回访监控), computed with SQL aggregates only.

Every number counts cases with the same conditions the case list filters by, so each one links to
the list that shows exactly those cases. "Today" and "this month" are the store's local day and
month.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from followup.cases.case_list import (
    CaseFilter,
    StoreDay,
    Viewer,
    count_cases,
    count_funnel,
    days_of,
    in_local_period,
    store_rows,
    visible,
)
from followup.models import FollowupCase
from followup.settings import DEFAULT_TIMEZONE


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
    )
