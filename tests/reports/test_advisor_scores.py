"""R9 on the stored rows, against numbers computed by hand (see november.py), SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from complaints.world import add_visit, answer, local
from reports.november import EXPECTED, C, build_november
from sqlalchemy import select, update

from followup.models import ContactAttempt, FollowupCase, SurveyResponse, Visit
from followup.reports.advisors import advisor_scores, find_store
from followup.reports.month_page import month_report
from followup.runtime import Runtime

NOV, OCT, DEC = date(2026, 11, 1), date(2026, 10, 1), date(2026, 12, 1)


def test_the_advisor_table_matches_the_hand_computed_month(rt: Runtime) -> None:
    build_november(rt)
    with rt.sessions() as s:
        store = find_store(s, "SZ01")
        rows = [a.as_json() for a in advisor_scores(s, store, NOV, rt.settings)]
        assert rows == EXPECTED
        # the edges of the month in Shanghai: 31 Oct 23:30 is October, 1 Dec 00:10 is December
        assert [(a.code, a.responses, a.score) for a in advisor_scores(s, store, OCT, rt.settings)] == [
            ("SA01", 1, 100.0)]
        assert [(a.code, a.responses, a.score, a.insufficient_sample, a.bonus_cny)
                for a in advisor_scores(s, store, DEC, rt.settings)] == [("SA01", 1, 88.0, True, 300)]
        # what was left out really is stored: two own calls and a re-survey for SA01 in November
        assert s.scalar(select(SurveyResponse.id).where(SurveyResponse.is_resurvey.is_(True))) is not None


def test_an_advisors_own_call_never_counts(rt: Runtime) -> None:
    case_id = add_visit(rt, "RO-OWN-1", delivered=local(2026, 11, 2, 9, 0), advisor="SA09", advisor_name="周")
    from complaints.world import user

    user(rt, "sa09", "advisor", advisor="SA09")
    answer(rt, case_id, C, at=local(2026, 11, 3, 10, 0), channel="staff", made_by="user:sa09")
    other = add_visit(rt, "RO-OWN-2", delivered=local(2026, 11, 2, 9, 0), advisor="SA09", advisor_name="周")
    answer(rt, other, C, at=local(2026, 11, 3, 11, 0), channel="staff", made_by="user:staff")
    with rt.sessions() as s:
        rows = advisor_scores(s, find_store(s, "SZ01"), NOV, rt.settings)
    assert [(a.code, a.responses) for a in rows] == [("SA09", 1)]  # only the information staff's call


def test_the_month_page_numbers(rt: Runtime) -> None:
    build_november(rt)
    with rt.sessions() as s:
        report = month_report(s, rt.settings, find_store(s, "SZ01"), NOV)
    questions = {q.id: (q.answers, q.average) for q in report.questions}
    # overall over the 14 counted responses: (46 + 32 + 42) / 14; on time: 13 of 14 said yes
    assert questions["overall"] == (14, 8.57)
    assert questions["on_time"] == (14, 92.9)
    assert "comment" not in questions
    trend = {p.month: (p.responses, p.score) for p in report.trend}
    assert len(report.trend) == 12 and report.trend[-1].month == "2026-11"
    assert trend["2026-11"] == (14, 90.14)  # 1262 / 14
    assert trend["2026-10"] == (1, 100.0)
    assert trend["2025-12"] == (0, None)


def test_three_day_rule_rate_channel_rates_and_verbatims(rt: Runtime) -> None:
    deadlines = {  # deadline (local) -> rule; only the first two fall in November
        "RO-R-1": ((2026, 11, 1, 0, 30), "met"),
        "RO-R-2": ((2026, 11, 30, 23, 30), "breached"),
        "RO-R-3": ((2026, 12, 1, 0, 30), "met"),
        "RO-R-4": ((2026, 10, 31, 23, 30), "met"),
        "RO-R-5": ((2026, 11, 15, 12, 0), "pending"),
    }
    ids = {}
    for ro, (deadline, rule) in deadlines.items():
        delivered = local(*deadline) - timedelta(hours=72)
        ids[ro] = add_visit(rt, ro, delivered=delivered)
        with rt.sessions() as s:
            s.execute(update(FollowupCase).where(FollowupCase.id == ids[ro]).values(three_day_rule=rule))
            s.commit()
    with rt.sessions() as s:
        for ro, channel in (("RO-R-1", "call"), ("RO-R-1", "sms"), ("RO-R-2", "call"), ("RO-R-5", "letter")):
            s.add(ContactAttempt(case_id=ids[ro], channel=channel, kind="survey", status="done",
                                 started_at=local(2026, 11, 1), created_at=local(2026, 11, 1)))
        s.commit()
    answer(rt, ids["RO-R-1"], {**C, "comment": "顾问很好，有事打13800138000"}, at=local(2026, 11, 2, 9, 0))
    with rt.sessions() as s:
        report = month_report(s, rt.settings, find_store(s, "SZ01"), NOV)
        ro_of = dict(s.execute(select(FollowupCase.id, Visit.ro_number).join(Visit)).all())
    assert (report.compliance.met, report.compliance.breached, report.compliance.pending) == (1, 1, 1)
    assert report.compliance.rate == 50.0
    assert [(c.channel, c.contacted, c.answered, c.rate) for c in report.channels] == [
        ("call", 2, 0, 0.0), ("sms", 1, 1, 100.0), ("letter", 1, 0, 0.0)]
    (said,) = report.verbatims
    assert said.text == "顾问很好，有事打138****8000" and said.ro_number == "RO-R-1" == ro_of[ids["RO-R-1"]]
    assert said.completed_at.utcoffset() == timedelta(hours=8)
