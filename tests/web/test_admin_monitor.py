"""The campaign monitor: today's calls, fallbacks, deadlines at risk, compliance and the funnel."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from panel_support import NOW, make_visit, post, staff_client, text_of
from sqlalchemy import select, update

from followup.cases.case_list import FUNNEL_STEPS
from followup.models import ContactAttempt, FollowupCase
from followup.runtime import Runtime


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    return staff_client(rt)


def number(html: str, key: str) -> str:
    found = re.search(rf'id="{key}">([^<]*)<', html)
    assert found, key
    return found.group(1)


def link_of(html: str, key: str) -> str:
    found = re.search(rf'<a href="([^"]+)">(?:(?!</a>).)*id="{key}"', html, flags=re.S)
    assert found, key
    return found.group(1).replace("&amp;", "&")


def listed(client: FlaskClient, url: str) -> list[str]:
    return re.findall(r'<a href="/cases/\d+">([^<]+)</a>', client.get(url).get_data(as_text=True))


def test_an_empty_store_says_what_to_do(client: FlaskClient) -> None:
    text = text_of(client.get("/").get_data(as_text=True))
    assert "还没有进站记录" in text and "followup import-visits" in text


def test_the_numbers_count_the_cases_and_link_to_them(rt: Runtime, client: FlaskClient) -> None:
    due = make_visit(rt, "RO-DUE", plan=True)  # first call planned for today
    failed = make_visit(rt, "RO-FAIL", mobile="+8613900139000", plan=True)
    answered = make_visit(rt, "RO-OK", mobile="+8613700137000", plan=True)
    risky = make_visit(rt, "RO-RISK", mobile="+8613600136000", delivered=NOW - timedelta(hours=62))
    late = make_visit(rt, "RO-LATE", mobile="+8613500135000", delivered=NOW - timedelta(days=4))
    for case_id, data in ((failed, {"outcome": "busy"}),
                          (answered, {"outcome": "answered", "q_overall": "10", "q_fixed_right": "yes",
                                      "q_on_time": "yes", "q_advisor": "10"})):
        post(client, f"/cases/{case_id}/call", data, token_from=f"/cases/{case_id}")
    with rt.sessions() as s:  # the failed case's next call is tomorrow: only RO-DUE is still due today
        s.execute(update(ContactAttempt).where(ContactAttempt.case_id == failed, ContactAttempt.status == "planned")
                  .values(due_at=NOW + timedelta(days=1)))
        s.commit()
    html = client.get("/").get_data(as_text=True)
    assert number(html, "calls-due") == "1" and listed(client, link_of(html, "calls-due")) == ["RO-DUE"]
    assert number(html, "calls-made") == "2"
    assert sorted(listed(client, link_of(html, "calls-made"))) == ["RO-FAIL", "RO-OK"]
    assert number(html, "calls-failed") == "1" and listed(client, link_of(html, "calls-failed")) == ["RO-FAIL"]
    assert number(html, "at-risk") == "1" and listed(client, link_of(html, "at-risk")) == ["RO-RISK"]
    assert number(html, "breached-open") == "1" and listed(client, link_of(html, "breached-open")) == ["RO-LATE"]
    assert number(html, "funnel-call1") == "2" and number(html, "funnel-reached") == "1"
    assert listed(client, link_of(html, "funnel-reached")) == ["RO-OK"]
    del due, risky, late


def test_each_funnel_step_counts_what_its_link_lists(rt: Runtime, client: FlaskClient) -> None:
    """The funnel is counted in one pass (COUNT … FILTER): each step must still equal its list."""
    cases = {ro: make_visit(rt, ro, mobile=f"+86139001390{i:02d}", plan=True)
             for i, ro in enumerate(("RO-A", "RO-B", "RO-C", "RO-D"))}
    outcomes = {"RO-A": ["busy", "no_answer"], "RO-B": ["answered"], "RO-C": ["no_answer"], "RO-D": []}
    answers = {"q_overall": "9", "q_fixed_right": "yes", "q_on_time": "yes", "q_advisor": "9"}
    for ro, calls in outcomes.items():
        for outcome in calls:
            data = {"outcome": outcome, **(answers if outcome == "answered" else {})}
            post(client, f"/cases/{cases[ro]}/call", data, token_from=f"/cases/{cases[ro]}")
    html = client.get("/").get_data(as_text=True)
    counts = {step: number(html, f"funnel-{step}") for step in FUNNEL_STEPS}
    assert counts["call1"] == "3" and counts["call2"] == "1" and counts["reached"] == "1", counts
    for step in FUNNEL_STEPS:
        assert int(counts[step]) == len(listed(client, link_of(html, f"funnel-{step}"))), step


def test_compliance_is_met_over_decided_cases_whose_deadline_falls_in_the_period(rt: Runtime, client: FlaskClient) -> None:
    # deadlines: today (Shanghai) for both; one met, one breached
    met = make_visit(rt, "RO-MET", delivered=NOW - timedelta(hours=71))
    make_visit(rt, "RO-BR", mobile="+8613900139000", delivered=NOW - timedelta(hours=73))  # late intake: breached
    post(client, f"/cases/{met}/call", {"outcome": "declined"}, token_from=f"/cases/{met}")
    with rt.sessions() as s:
        assert s.scalar(select(FollowupCase.three_day_rule).where(FollowupCase.id == met)) == "met"
    html = client.get("/").get_data(as_text=True)
    # deadlines in Shanghai time: RO-BR 2026-11-20 11:00 (passed), RO-MET 2026-11-20 13:00
    assert number(html, "compliance-today") == "50.0%"
    assert number(html, "compliance-month") == "50.0%"
    text = text_of(html)
    assert "1 达标 / 1 超时" in text


def test_compliance_without_decided_cases_says_so(rt: Runtime, client: FlaskClient) -> None:
    make_visit(rt, "RO-NEW", plan=True)
    html = client.get("/").get_data(as_text=True)
    assert number(html, "compliance-today") == "—"
    assert "本期还没有已判定的回访" in text_of(html)


def test_the_monitor_works_in_english(rt: Runtime, client: FlaskClient) -> None:
    make_visit(rt, "RO-EN", plan=True)
    text = text_of(client.get("/?lang=en").get_data(as_text=True))
    assert "Cases with a call still due today" in text and "Attempt funnel" in text and "今日待拨打" not in text
