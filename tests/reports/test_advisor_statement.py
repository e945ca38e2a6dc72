"""R9's monthly statement on the stored rows: the rulebook's own example, 主动奖 across advisors,
the tier on the unrounded mean, and a row for every advisor with a visit or a response. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from complaints.world import add_visit, answer, get_user, local, user
from reports.november import C
from sqlalchemy import select, update

from followup.advisor_calls.recording import record_dc_call
from followup.intake.records import VisitRow
from followup.intake.visit_upsert import accept_visits
from followup.models import AdvisorCall, Store, SurveyResponse
from followup.reports.advisors import AdvisorScore, advisor_scores, find_store
from followup.runtime import Runtime

NOV = date(2026, 11, 1)


def deliver(rt: Runtime, advisor: str, count: int, *, first: datetime, every: timedelta, prefix: str | None = None,
            service: str = "repair") -> list[int]:
    """``count`` visits of ``advisor`` in one import batch, delivered ``every`` apart from ``first``;
    returns their case ids (empty for an excluded service type)."""
    prefix = prefix or f"RO-{advisor}-{service}"
    rows = [VisitRow(row=i + 2, store_code="SZ01", ro_number=f"{prefix}-{i:04d}", customer_name=f"客户{i}",
                     mobile=f"+86138{i:08d}", phone=None, address=None, plate=None, vin=None, vehicle_model=None,
                     advisor_code=advisor, advisor_name=f"顾问{advisor}", service_type=service,
                     delivered_at=first + i * every, mileage_km=None, language="zh")
            for i in range(count)]
    with rt.sessions() as s:
        store_id = s.scalar(select(Store.id).where(Store.code == "SZ01"))
        assert store_id is not None
        done = accept_visits(s, store_id, rt.settings.stores["SZ01"], rows, source="test", actor="test",
                             now=first + count * every)
        s.commit()
    return [a.case_id for a in done if a.case_id is not None]


def month_rows(rt: Runtime) -> dict[str, AdvisorScore]:
    with rt.sessions() as s:
        return {a.code: a for a in advisor_scores(s, find_store(s, "SZ01"), NOV, rt.settings)}


def answered_five(rt: Runtime, case_ids: list[int]) -> None:
    """Five of the advisor's customers answer the survey with 88 points (a mean of 88)."""
    for n, case_id in enumerate(case_ids[:5]):
        answer(rt, case_id, C, at=local(2026, 11, 25, 10, n))


def test_the_rulebooks_example_250_visits_and_88_points_is_1050_when_another_was_first(rt: Runtime) -> None:
    sa01 = deliver(rt, "SA01", 250, first=local(2026, 11, 1, 9, 0), every=timedelta(hours=2))
    # SA02 delivers faster: first to 100 and to 200 (and 300)
    deliver(rt, "SA02", 300, first=local(2026, 11, 1, 8, 0), every=timedelta(hours=1))
    answered_five(rt, sa01)
    rows = month_rows(rt)
    a = rows["SA01"]
    assert (a.visits, a.visit_commission_cny, a.score, a.bonus_cny, a.first_to_cny, a.statement_cny) == (
        250, 750, 88.0, 300, 0, 1050)
    b = rows["SA02"]  # a row without any response: visits only
    assert (b.responses, b.score, b.bonus_cny, b.visits, b.visit_commission_cny, b.first_to_cny, b.statement_cny) == (
        0, None, 0, 300, 900, 600, 1500)


def test_first_to_100_and_to_200_makes_it_1350(rt: Runtime) -> None:
    sa01 = deliver(rt, "SA01", 250, first=local(2026, 11, 1, 9, 0), every=timedelta(hours=2))
    deliver(rt, "SA02", 150, first=local(2026, 11, 1, 9, 0), every=timedelta(hours=3))
    answered_five(rt, sa01)
    a = month_rows(rt)["SA01"]
    assert (a.visit_commission_cny, a.first_to_cny, a.bonus_cny, a.statement_cny) == (750, 300, 300, 1350)
    assert a.as_json()["statement_cny"] == 1350


def test_the_other_advisor_reaches_100_first(rt: Runtime) -> None:
    # SA02: 100 visits in the first three days; SA01 is slower but goes on to 250 (first to 200)
    sa01 = deliver(rt, "SA01", 250, first=local(2026, 11, 1, 9, 0), every=timedelta(hours=2))
    deliver(rt, "SA02", 100, first=local(2026, 11, 1, 9, 0), every=timedelta(minutes=40))
    answered_five(rt, sa01)
    rows = month_rows(rt)
    assert (rows["SA01"].first_to_cny, rows["SA01"].statement_cny) == (200, 750 + 200 + 300)
    assert (rows["SA02"].first_to_cny, rows["SA02"].statement_cny) == (100, 300 + 100)


def test_only_the_months_visits_of_types_not_excluded_count(rt: Runtime) -> None:
    deliver(rt, "SA01", 3, first=local(2026, 11, 30, 23, 0), every=timedelta(minutes=30))  # 23:00, 23:30 Nov; 00:00 Dec
    deliver(rt, "SA01", 2, first=local(2026, 10, 31, 23, 30), every=timedelta(minutes=40), prefix="RO-OCT")  # Oct, Nov
    assert deliver(rt, "SA01", 4, first=local(2026, 11, 5, 9, 0), every=timedelta(hours=1), service="internal") == []
    deliver(rt, "SA03", 1, first=local(2026, 12, 1, 9, 0), every=timedelta(hours=1))  # December only: no row
    rows = month_rows(rt)
    assert list(rows) == ["SA01"]
    assert (rows["SA01"].visits, rows["SA01"].visit_commission_cny, rows["SA01"].statement_cny) == (3, 9, 9)


def test_an_advisor_with_a_response_but_no_visit_in_the_month_has_a_row(rt: Runtime) -> None:
    case_id = add_visit(rt, "RO-OCT-1", delivered=local(2026, 10, 30, 10, 0), advisor="SA05")
    answer(rt, case_id, C, at=local(2026, 11, 2, 10, 0))
    a = month_rows(rt)["SA05"]
    assert (a.responses, a.score, a.visits, a.visit_commission_cny, a.dc_calls_on_time, a.dc_call_rate) == (
        1, 88.0, 0, 0, 0, None)
    assert a.statement_cny == 300  # the bonus alone (flagged insufficient sample, the tier still paid)


def test_the_tier_is_looked_up_on_the_unrounded_mean(rt: Runtime) -> None:
    # 19 responses of 85.0 and one of 84.9: the mean is 1699.9 / 20 = 84.995, shown 85.00, paying 0
    cases = deliver(rt, "SA01", 20, first=local(2026, 11, 2, 9, 0), every=timedelta(hours=1))
    for n, case_id in enumerate(cases):
        answer(rt, case_id, C, at=local(2026, 11, 10, 9, n))
    with rt.sessions() as s:
        s.execute(update(SurveyResponse).values(score=85.0))
        first = s.scalar(select(SurveyResponse.id).order_by(SurveyResponse.id).limit(1))
        s.execute(update(SurveyResponse).where(SurveyResponse.id == first).values(score=84.9))
        s.commit()
    a = month_rows(rt)["SA01"]
    assert (a.responses, a.score, a.bonus_cny) == (20, 85.0, 0)
    assert a.as_json()["score"] == 85.0
    assert a.statement_cny == 20 * 3


def test_the_dc_call_rate_counts_only_calls_recorded_within_three_days(rt: Runtime) -> None:
    deliver(rt, "SA01", 4, first=local(2026, 11, 10, 9, 0), every=timedelta(hours=1))
    user(rt, "sa01", "advisor", advisor="SA01")
    with rt.sessions() as s:
        calls = list(s.scalars(select(AdvisorCall).order_by(AdvisorCall.due_at)))
        sa01 = get_user(s, "sa01")
        # early, at the very instant due, one minute late; the fourth is never recorded
        for call, at in zip(calls, (calls[0].due_at - timedelta(hours=50), calls[1].due_at,
                                    calls[2].due_at + timedelta(minutes=1)), strict=False):
            record_dc_call(s, call, user=sa01, reached="no", note="", now=at)
        s.commit()
    a = month_rows(rt)["SA01"]
    assert (a.visits, a.dc_calls_on_time, a.dc_call_rate) == (4, 2, 0.5)
    assert (a.responses, a.score, a.statement_cny) == (0, None, 12)  # never a survey, never in the score
