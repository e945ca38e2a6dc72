"""Each advisor's monthly satisfaction score and bonus (R9), one SQL aggregate per month."""

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
from followup.rules.bonus_tiers import bonus_tier
from followup.settings import BonusSettings


@dataclass(frozen=True)
class AdvisorScore:
    """One row of the advisor table (CONTRACT §4 ``advisors[]``)."""

    code: str
    name: str | None
    responses: int
    score: float | None
    insufficient_sample: bool
    bonus_cny: int

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "responses": self.responses, "score": self.score,
                "insufficient_sample": self.insufficient_sample, "bonus_cny": self.bonus_cny}


def find_store(session: Session, code: str | None) -> Store:
    """The store with this code; :class:`ReportError` when there is none."""
    text = (code or "").strip()
    store = session.scalar(select(Store).where(Store.code == text)) if text and "\x00" not in text else None
    if store is None:
        raise ReportError(f"store: no store with code {text!r}" if text else "store: give the store code, e.g. store=SZ01")
    return store


def mean_score(total: float, count: int) -> float | None:
    """The mean of ``count`` one-decimal scores summing to ``total``, to two decimals (half up).

    Scores have one decimal, so their exact sum has one too: rounding it first removes the
    floating-point noise of SUM, and the division is done in decimal, so that the score shown is
    exactly the score the tier is looked up on.
    """
    if count == 0:
        return None
    exact = Decimal(f"{total:.1f}") / Decimal(count)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def advisor_scores(session: Session, store: Store, month: date, bonus: BonusSettings) -> list[AdvisorScore]:
    """Every advisor with at least one counted response in the month, by advisor code."""
    start, end = month_bounds(month, ZoneInfo(store.timezone))
    rows = session.execute(
        with_advisor(
            select(Advisor.code, Advisor.name, func.count(SurveyResponse.id), func.sum(SurveyResponse.score))
        )
        .where(counted(store.id, start, end))
        .group_by(Advisor.id, Advisor.code, Advisor.name)
        .order_by(Advisor.code)
    ).all()
    out = []
    for code, name, count, total in rows:
        score = mean_score(float(total or 0), int(count))
        out.append(AdvisorScore(
            code=code, name=name, responses=int(count), score=score,
            insufficient_sample=int(count) < bonus.min_responses, bonus_cny=bonus_tier(score, bonus.tiers),
        ))
    return out
