"""Everything the reports page shows for one store and month, gathered in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from followup.models import Store
from followup.reports.advisors import AdvisorScore, advisor_scores
from followup.reports.details import (
    ChannelRate,
    Compliance,
    QuestionAverage,
    Verbatim,
    channel_rates,
    compliance,
    question_averages,
    verbatims,
)
from followup.reports.report_month import month_bounds, month_label
from followup.reports.trend import TrendPoint, trend
from followup.settings import Settings


@dataclass(frozen=True)
class MonthReport:
    store_code: str
    store_name: str
    month: str
    advisors: list[AdvisorScore]
    questions: list[QuestionAverage]
    compliance: Compliance
    channels: list[ChannelRate]
    verbatims: list[Verbatim]
    trend: list[TrendPoint]


def month_report(session: Session, settings: Settings, store: Store, month: date) -> MonthReport:
    start, end = month_bounds(month, ZoneInfo(store.timezone))
    return MonthReport(
        store_code=store.code,
        store_name=store.name,
        month=month_label(month),
        advisors=advisor_scores(session, store, month, settings),
        questions=question_averages(session, store, start, end, settings.survey),
        compliance=compliance(session, store, start, end),
        channels=channel_rates(session, store, start, end),
        verbatims=verbatims(session, store, start, end),
        trend=trend(session, store, month),
    )
