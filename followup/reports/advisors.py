"""Each advisor's month (R9, R11): satisfaction score and bonus, the monthly statement, DC calls.

One SQL aggregate per figure and month; every advisor with a visit or a counted response in the
month has a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.models import Advisor, Store, SurveyResponse
from followup.reports.independent import counted, with_advisor
from followup.reports.report_month import ReportError, month_bounds
from followup.reports.statement import (
    dc_calls_on_time,
    excluded_types,
    month_visit,
    nth_visits,
    visits_per_advisor,
)
from followup.rules.advisor_statement import Milestone, dc_call_rate, first_to_awards, monthly_statement
from followup.settings import Settings


@dataclass(frozen=True)
class AdvisorScore:
    """One row of the advisor table (CONTRACT §4 ``advisors[]``)."""

    code: str
    name: str | None
    responses: int
    score: float | None
    insufficient_sample: bool
    bonus_cny: int
    #: 接车台次: visits delivered in the month (excluded service types left out)
    visits: int = 0
    visit_commission_cny: int = 0
    #: 主动奖: the prizes for being first to 100, 200, … visits in the month
    first_to_cny: int = 0
    #: commission + first_to + satisfaction bonus
    statement_cny: int = 0
    #: R11: the month's visits whose DC call was recorded within three days
    dc_calls_on_time: int = 0
    #: dc_calls_on_time ÷ visits (0–1); None without visits
    dc_call_rate: float | None = None

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "responses": self.responses, "score": self.score,
                "insufficient_sample": self.insufficient_sample, "bonus_cny": self.bonus_cny,
                "visits": self.visits, "visit_commission_cny": self.visit_commission_cny,
                "first_to_cny": self.first_to_cny, "statement_cny": self.statement_cny,
                "dc_calls_on_time": self.dc_calls_on_time, "dc_call_rate": self.dc_call_rate}


def find_store(session: Session, code: str | None) -> Store:
    """The store with this code; :class:`ReportError` when there is none."""
    text = (code or "").strip()
    store = session.scalar(select(Store).where(Store.code == text)) if text and "\x00" not in text else None
    if store is None:
        raise ReportError(f"store: no store with code {text!r}" if text else "store: give the store code, e.g. store=SZ01")
    return store


def exact_mean(total: float, count: int) -> Decimal | None:
    """The unrounded mean of ``count`` one-decimal scores summing to ``total`` (R9 looks the tier up on it).

    Scores have one decimal, so their exact sum has one too: rounding it first removes the
    floating-point noise of SUM, and the division is done in decimal.
    """
    if count == 0:
        return None
    return Decimal(f"{total:.1f}") / Decimal(count)


def shown_score(mean: Decimal | None) -> float | None:
    """The score as shown: two decimals, half up (84.995 is shown 85.0 and still pays no 85 tier)."""
    return None if mean is None else float(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def mean_score(total: float, count: int) -> float | None:
    """The mean of ``count`` one-decimal scores summing to ``total``, to two decimals (half up)."""
    return shown_score(exact_mean(total, count))


def advisor_scores(session: Session, store: Store, month: date, settings: Settings) -> list[AdvisorScore]:
    """Every advisor with a visit or a counted response in the month, by advisor code."""
    bonus = settings.bonus
    start, end = month_bounds(month, ZoneInfo(store.timezone))
    responses = {advisor_id: (int(n), float(total or 0)) for advisor_id, n, total in session.execute(
        with_advisor(select(SurveyResponse.advisor_id, func.count(SurveyResponse.id), func.sum(SurveyResponse.score)))
        .where(counted(store.id, start, end))
        .group_by(SurveyResponse.advisor_id)
    )}
    in_month = month_visit(store.id, start, end, excluded_types(settings, store))
    visits = visits_per_advisor(session, in_month)
    ids = set(responses) | set(visits)
    if not ids:
        return []
    advisors = {a.id: a for a in session.scalars(select(Advisor).where(Advisor.id.in_(ids)))}
    code_of = {advisor_id: advisors[advisor_id].code for advisor_id in ids}
    awards = first_to_awards(
        [Milestone(code_of[a], n, at) for a, n, at in nth_visits(session, in_month, [n for n, _ in bonus.first_to])],
        bonus.first_to)
    on_time = dc_calls_on_time(session, in_month)
    out = []
    for advisor_id in sorted(ids, key=lambda i: code_of[i]):
        count, total = responses.get(advisor_id, (0, 0.0))
        mean = exact_mean(total, count)
        month_visits = visits.get(advisor_id, 0)
        statement = monthly_statement(month_visits, mean, awards.get(code_of[advisor_id], 0),
                                      per_visit=bonus.per_visit_commission, tiers=bonus.tiers)
        done = on_time.get(advisor_id, 0)
        out.append(AdvisorScore(
            code=code_of[advisor_id], name=advisors[advisor_id].name, responses=count, score=shown_score(mean),
            insufficient_sample=count < bonus.min_responses, bonus_cny=statement.bonus_cny,
            visits=month_visits, visit_commission_cny=statement.visit_commission_cny,
            first_to_cny=statement.first_to_cny, statement_cny=statement.statement_cny,
            dc_calls_on_time=done, dc_call_rate=dc_call_rate(done, month_visits),
        ))
    return out
