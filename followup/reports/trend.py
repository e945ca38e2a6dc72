"""Twelve months at a glance: the store's score, responses and three-day-rule rate per month.

One query per measure: each row is put in its local month by a CASE over the months' UTC bounds
(computed from the store's zone), so the grouping is right in every time zone and on every
database, without a per-month loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from followup.models import FollowupCase, Store, SurveyResponse
from followup.reports.advisors import mean_score
from followup.reports.details import rate
from followup.reports.independent import counted, with_advisor
from followup.reports.report_month import month_bounds, month_label, recent_months


@dataclass(frozen=True)
class TrendPoint:
    month: str
    responses: int
    score: float | None
    compliance_rate: float | None


def _bucket(column: Any, months: list[date], tz: ZoneInfo) -> ColumnElement[int]:
    """The index of the month ``column`` falls in (the caller bounds the range)."""
    ends = [month_bounds(m, tz)[1] for m in months]
    return case(*[(column < end, i) for i, end in enumerate(ends)], else_=len(months))


def trend(session: Session, store: Store, month: date, *, count: int = 12) -> list[TrendPoint]:
    tz = ZoneInfo(store.timezone)
    months = recent_months(month, count)
    start, end = month_bounds(months[0], tz)[0], month_bounds(months[-1], tz)[1]
    bucket = _bucket(SurveyResponse.completed_at, months, tz).label("m")
    scores = {int(b): (int(n), float(total or 0)) for b, n, total in session.execute(
        with_advisor(select(bucket, func.count(SurveyResponse.id), func.sum(SurveyResponse.score)))
        .where(counted(store.id, start, end))
        .group_by(bucket)
    ).all()}
    deadline_bucket = _bucket(FollowupCase.deadline_at, months, tz).label("m")
    rules: dict[int, dict[str, int]] = {}
    for b, rule, n in session.execute(
        select(deadline_bucket, FollowupCase.three_day_rule, func.count())
        .where(FollowupCase.store_id == store.id, FollowupCase.deadline_at >= start, FollowupCase.deadline_at < end)
        .group_by(deadline_bucket, FollowupCase.three_day_rule)
    ).all():
        rules.setdefault(int(b), {})[rule] = int(n)
    out = []
    for i, m in enumerate(months):
        n, total = scores.get(i, (0, 0.0))
        met, breached = rules.get(i, {}).get("met", 0), rules.get(i, {}).get("breached", 0)
        out.append(TrendPoint(month_label(m), n, mean_score(total, n), rate(met, met + breached)))
    return out
