"""The case list and the case page, and what staff do on a case: SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from panel_support import NOW, log_in, make_user, make_visit, post, staff_client, text_of
from sqlalchemy import select

from followup.models import (
    AuditEntry,
    Complaint,
    ContactAttempt,
    Customer,
    FollowupCase,
    SurveyResponse,
    WebhookEvent,
)
from followup.runtime import Runtime
from followup.web import create_app

ANSWERS_SATISFIED = {"q_overall": "9", "q_fixed_right": "yes", "q_on_time": "yes", "q_advisor": "10",
                     "q_comment": "师傅很专业"}


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    return staff_client(rt)


def page(client: FlaskClient, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, path
    return text_of(resp.get_data(as_text=True))


def listed(client: FlaskClient, query: str) -> list[str]:
    """The RO numbers of the case list for ``query``, in order."""
    html = client.get("/cases" + query).get_data(as_text=True)
    return re.findall(r'<a href="/cases/\d+">([^<]+)</a>', html)


def case_row(rt: Runtime, case_id: int) -> FollowupCase:
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        s.expunge(case)
        return case


def test_the_list_filters_by_what_staff_ask(rt: Runtime, client: FlaskClient) -> None:
    make_visit(rt, "RO-A", name="王芳", plate="粤B11111", service="repair")
    make_visit(rt, "RO-B", name="李强", plate="粤B22222", advisor="SA02", mobile="+8613900139000")
    late = make_visit(rt, "RO-C", name="陈静", plate="粤B33333", mobile="+8613700137000",
                      delivered=NOW - timedelta(days=4))
    assert case_row(rt, late).three_day_rule == "breached"
    assert sorted(listed(client, "")) == ["RO-A", "RO-B", "RO-C"]
    assert listed(client, "?q=粤B22222") == ["RO-B"]  # plate
    assert listed(client, "?q=王芳") == ["RO-A"]  # name
    assert listed(client, "?q=ro-c") == ["RO-C"]  # RO number, any case
    assert listed(client, "?service=repair") == ["RO-A"]
    assert listed(client, "?rule=breached") == ["RO-C"]
    assert sorted(listed(client, "?state=scheduled")) == ["RO-A", "RO-B", "RO-C"]
    assert listed(client, "?state=closed") == []
    with rt.sessions() as s:
        sa02 = s.scalar(select(FollowupCase.advisor_id).where(FollowupCase.id != late).order_by(FollowupCase.advisor_id.desc()))
    assert listed(client, f"?advisor={sa02}") == ["RO-B"]
    deadline_day = (NOW - timedelta(days=4) + timedelta(hours=72)).astimezone().date()
    assert "RO-C" in listed(client, f"?deadline={deadline_day.isoformat()}")
    # an unknown value is ignored rather than an error
    assert sorted(listed(client, "?state=nonsense&advisor=x")) == ["RO-A", "RO-B", "RO-C"]
    text = page(client, "/cases?q=nobody")
    assert "没有符合条件的工单" in text


def test_the_list_is_paginated_on_the_server(rt: Runtime, client: FlaskClient) -> None:
    for i in range(53):
        make_visit(rt, f"RO-P{i:03d}", mobile=f"+861380013{i:04d}", delivered=NOW - timedelta(hours=30, minutes=i))
    first, second = listed(client, ""), listed(client, "?page=2")
    assert len(first) == 50 and len(second) == 3 and not set(first) & set(second)
    assert "页码 1 / 2" in page(client, "/cases") and "找到工单: 53" in page(client, "/cases")
    # oldest deadline first: the visit delivered longest ago leads
    assert first[0] == "RO-P052"
    assert listed(client, "?page=99") == second  # past the end: the last page


def test_the_case_page_shows_the_visit_and_a_masked_phone(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-D", name="赵敏", plan=True)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    text = text_of(html)
    assert "RO-D" in text and "赵敏" in text and "粤B12345 帕萨特" in text and "保养" in text
    assert "138****8000" in text and "13800138000" not in html
    # the planned first call is on the timeline, in Shanghai time (delivered 26 h ago at 10:00 local)
    assert "已计划" in text and "2026-11-20" in text and "Asia/Shanghai" in text


def test_reveal_shows_the_number_once_and_is_audited(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-E")
    resp = post(client, f"/cases/{case_id}/reveal", {"which": "mobile"}, token_from=f"/cases/{case_id}")
    assert resp.status_code == 200
    assert "+8613800138000" in text_of(resp.get_data(as_text=True))
    assert "+8613800138000" not in client.get(f"/cases/{case_id}").get_data(as_text=True)
    with rt.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "pii.revealed")).all()
        assert [(r.actor, r.case_id, r.detail["field"]) for r in rows] == [("user:staff1", case_id, "mobile")]
    assert "查看完整号码" in page(client, f"/cases/{case_id}")  # the reveal is on the timeline


def test_a_manual_call_with_answers_scores_the_survey_and_closes_the_case(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-F", plan=True, service="repair")  # asked fixed_right too (R5)
    with rt.sessions() as s:
        planned = s.scalar(select(ContactAttempt.id).where(ContactAttempt.case_id == case_id))
    resp = post(client, f"/cases/{case_id}/call", {"outcome": "answered", **ANSWERS_SATISFIED},
                token_from=f"/cases/{case_id}")
    assert resp.status_code == 302
    with rt.sessions() as s:
        calls = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id)).all()
        assert [(a.id, a.status, a.outcome, a.made_by) for a in calls] == [(planned, "done", "answered", "user:staff1")]
        resp_row = s.scalars(select(SurveyResponse).where(SurveyResponse.case_id == case_id)).one()
        # R5: 0.4*90 + 0.2*100 + 0.2*100 + 0.2*100
        assert (resp_row.channel, resp_row.score, resp_row.satisfied, resp_row.made_by) == ("staff", 96.0, True, "user:staff1")
        case = s.get_one(FollowupCase, case_id)
        assert (case.state, case.outcome, case.three_day_rule) == ("closed", "satisfied", "met")
        assert s.scalar(select(WebhookEvent.type).where(WebhookEvent.type == "call.completed")) == "call.completed"
    text = page(client, f"/cases/{case_id}")
    assert "电访结果已登记" in text and "已结束 · 满意" in text and "96.0" in text and "师傅很专业" in text
    assert "登记人工电访" not in text  # a closed case offers no call form


def test_a_dissatisfied_manual_call_opens_a_complaint(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-G")
    answers = {**ANSWERS_SATISFIED, "q_overall": "4", "q_fixed_right": "no"}
    post(client, f"/cases/{case_id}/call", {"outcome": "answered", **answers}, token_from=f"/cases/{case_id}")
    with rt.sessions() as s:
        assert s.get_one(FollowupCase, case_id).state == "complaint"
        assert s.scalars(select(Complaint).where(Complaint.case_id == case_id)).one().level == 1
        call = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id)).one()
        assert (call.number, call.reason, call.made_by) == (1, "manual_call", "user:staff1")


def _own_advisor(rt: Runtime) -> FlaskClient:
    """A browser logged in as ``sa01``, the advisor SA01 of the visits ``make_visit`` makes."""
    make_user(rt, "sa01", "advisor", ["SZ01"], advisor="SA01")
    advisor = create_app(runtime=rt).test_client()
    log_in(advisor, "sa01")
    return advisor


@pytest.mark.parametrize("outcome", ["answered", "declined", "no_answer"])
def test_the_visits_own_advisor_cannot_record_the_survey_call(rt: Runtime, client: FlaskClient, outcome: str) -> None:
    """R3: the advisor's own call is R11's separate task; it never answers, declines or uses up an attempt."""
    case_id = make_visit(rt, "RO-H", plan=True)
    advisor = _own_advisor(rt)
    html = advisor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "RO-H" in html and "登记人工电访" not in html  # the case is shown, without the call form
    assert f"/cases/{case_id}/call" not in html and f"/cases/{case_id}/flags" not in html  # nor the marks
    resp = post(advisor, f"/cases/{case_id}/call", {"outcome": outcome, **ANSWERS_SATISFIED},
                token_from=f"/cases/{case_id}")
    assert resp.status_code == 403
    assert "服务顾问不能登记自己客户的回访电话" in text_of(resp.get_data(as_text=True))
    with rt.sessions() as s:
        assert s.scalars(select(SurveyResponse)).all() == []
        calls = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id)).all()
        assert [(a.number, a.status, a.outcome) for a in calls] == [(1, "planned", None)]
        case = s.get_one(FollowupCase, case_id)
        assert (case.state, case.outcome) == ("scheduled", None)
        assert s.scalars(select(AuditEntry).where(AuditEntry.action.like("call.%"))).all() == []
    # information staff still record it, and it counts
    post(client, f"/cases/{case_id}/call", {"outcome": outcome, **ANSWERS_SATISFIED}, token_from=f"/cases/{case_id}")
    with rt.sessions() as s:
        first = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id, ContactAttempt.number == 1)).one()
        assert (first.outcome, first.made_by) == (outcome, "user:staff1")


@pytest.mark.parametrize("flag", ["no_contact", "do_not_call", "no_sms"])
def test_the_visits_own_advisor_cannot_mark_their_customer(rt: Runtime, client: FlaskClient, flag: str) -> None:
    """R3: no closing the case early as opted out, no moving it off the calls."""
    case_id = make_visit(rt, "RO-HM", plan=True)
    advisor = _own_advisor(rt)
    resp = post(advisor, f"/cases/{case_id}/flags", {"flag": flag, "on": "1"}, token_from=f"/cases/{case_id}")
    assert resp.status_code == 403
    assert "服务顾问不能标记自己的客户" in text_of(resp.get_data(as_text=True))
    with rt.sessions() as s:
        customer = s.scalars(select(Customer)).one()
        assert (customer.no_contact, customer.do_not_call, customer.no_sms) == (False, False, False)
        assert s.get_one(FollowupCase, case_id).state == "scheduled"
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "customer.marked")).all() == []
    # a note is still theirs to add
    post(advisor, f"/cases/{case_id}/note", {"text": "客户说下周再来"}, token_from=f"/cases/{case_id}")
    assert "客户说下周再来" in page(advisor, f"/cases/{case_id}")


def test_a_manager_who_is_not_the_visits_advisor_still_acts(rt: Runtime) -> None:
    case_id = make_visit(rt, "RO-HN", plan=True)
    make_user(rt, "sa01", "advisor", ["SZ01"], advisor="SA01")
    make_user(rt, "boss", "manager", ["SZ01"])
    manager = create_app(runtime=rt).test_client()
    log_in(manager, "boss")
    html = manager.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "登记人工电访" in html and f"/cases/{case_id}/flags" in html
    resp = post(manager, f"/cases/{case_id}/flags", {"flag": "no_contact", "on": "1"}, token_from=f"/cases/{case_id}")
    assert resp.status_code == 302
    assert (case_row(rt, case_id).state, case_row(rt, case_id).outcome) == ("closed", "opted_out")


def test_an_incomplete_survey_is_refused_with_a_message(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-I")
    resp = post(client, f"/cases/{case_id}/call", {"outcome": "answered", "q_overall": "11"},
                token_from=f"/cases/{case_id}")
    assert resp.status_code == 302
    text = page(client, f"/cases/{case_id}")
    assert "请填写所有问卷题目" in text or "分数须为 0 到 10 的整数" in text
    with rt.sessions() as s:
        assert s.scalars(select(SurveyResponse)).all() == []
        assert s.get_one(FollowupCase, case_id).state == "scheduled"


def test_a_failed_manual_call_plans_the_next_call(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-J", plan=True)
    post(client, f"/cases/{case_id}/call", {"outcome": "no_answer"}, token_from=f"/cases/{case_id}")
    with rt.sessions() as s:
        rows = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id).order_by(ContactAttempt.id)).all()
        assert [(a.number, a.status, a.outcome) for a in rows] == [(1, "done", "no_answer"), (2, "planned", None)]
        assert rows[1].due_at is not None and rows[1].due_at >= NOW + timedelta(minutes=30)
        # R10: one audit row for the outcome, with who recorded it (not one by the page and one by the engine)
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action.like("call.%"))).all()
        assert [(e.actor, e.action, e.detail["attempt"], e.detail["outcome"]) for e in audited] == [
            ("user:staff1", "call.outcome", rows[0].id, "no_answer")]
    assert "无人接听" in page(client, f"/cases/{case_id}")


def test_a_callback_request_needs_a_time_and_plans_the_call_then(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-K", plan=True)
    post(client, f"/cases/{case_id}/call", {"outcome": "callback_requested"}, token_from=f"/cases/{case_id}")
    assert "请填写客户要求的回拨时间" in page(client, f"/cases/{case_id}")
    # 15:30 Shanghai tomorrow = 07:30 UTC
    post(client, f"/cases/{case_id}/call", {"outcome": "callback_requested", "callback_at": "2026-11-21T15:30"},
         token_from=f"/cases/{case_id}")
    with rt.sessions() as s:
        rows = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id).order_by(ContactAttempt.id)).all()
        assert [(a.status, a.outcome) for a in rows] == [("done", "callback_requested"), ("planned", None)]
        assert rows[0].callback_at == NOW.replace(day=21, hour=7, minute=30)
        assert rows[1].due_at == NOW.replace(day=21, hour=7, minute=30)
        assert s.get_one(FollowupCase, case_id).three_day_rule == "met"


def test_declined_closes_the_case(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-L", plan=True)
    post(client, f"/cases/{case_id}/call", {"outcome": "declined"}, token_from=f"/cases/{case_id}")
    case = case_row(rt, case_id)
    assert (case.state, case.outcome) == ("closed", "declined")


def test_no_contact_closes_every_open_case_of_the_customer_as_opted_out(rt: Runtime, client: FlaskClient) -> None:
    first = make_visit(rt, "RO-M1", plan=True)
    second = make_visit(rt, "RO-M2", plan=True)  # same mobile: the same customer
    resp = post(client, f"/cases/{first}/flags", {"flag": "no_contact", "on": "1"}, token_from=f"/cases/{first}")
    assert resp.status_code == 302
    with rt.sessions() as s:
        for case_id in (first, second):
            case = s.get_one(FollowupCase, case_id)
            assert (case.state, case.outcome) == ("closed", "opted_out")
        assert {a.status for a in s.scalars(select(ContactAttempt))} == {"cancelled"}
        marked = s.scalars(select(AuditEntry).where(AuditEntry.action == "customer.marked")).one()
        assert (marked.actor, marked.detail["flag"], marked.detail["on"]) == ("user:staff1", "no_contact", True)
        assert s.scalar(select(WebhookEvent.type).where(WebhookEvent.type == "customer.opted_out")) is not None
    assert "勿联系: 是" in page(client, f"/cases/{first}")


def test_do_not_call_cancels_the_planned_call_and_moves_to_sms(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-N", plan=True)
    post(client, f"/cases/{case_id}/flags", {"flag": "do_not_call", "on": "1"}, token_from=f"/cases/{case_id}")
    with rt.sessions() as s:
        rows = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id).order_by(ContactAttempt.id)).all()
        assert [(a.channel, a.status) for a in rows] == [("call", "cancelled"), ("sms", "planned")]
        assert rows[0].reason == "staff:do_not_call"
        assert s.scalars(select(Customer)).one().do_not_call is True
    # and the mark can be taken back
    post(client, f"/cases/{case_id}/flags", {"flag": "do_not_call", "on": "0"}, token_from=f"/cases/{case_id}")
    with rt.sessions() as s:
        assert s.scalars(select(Customer)).one().do_not_call is False


def test_a_note_is_audited_and_shown_on_the_timeline(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-O")
    post(client, f"/cases/{case_id}/note", {"text": "客户周末才方便接电话"}, token_from=f"/cases/{case_id}")
    post(client, f"/cases/{case_id}/note", {"text": "   "}, token_from=f"/cases/{case_id}")
    text = page(client, f"/cases/{case_id}")
    assert "客户周末才方便接电话" in text and "备注不能为空" in text
    with rt.sessions() as s:
        notes = s.scalars(select(AuditEntry).where(AuditEntry.action == "note.added")).all()
        assert [(n.actor, n.detail["text"]) for n in notes] == [("user:staff1", "客户周末才方便接电话")]


def test_a_closed_case_refuses_another_call(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-Q", plan=True)
    post(client, f"/cases/{case_id}/call", {"outcome": "declined"}, token_from=f"/cases/{case_id}")
    with rt.sessions() as s:
        before = len(s.scalars(select(ContactAttempt)).all())
    html = client.post(f"/cases/{case_id}/call", data={"outcome": "no_answer", "csrf_token": _token(client)},
                       follow_redirects=True).get_data(as_text=True)
    assert "该工单已结束" in text_of(html)
    with rt.sessions() as s:
        assert len(s.scalars(select(ContactAttempt)).all()) == before


def _token(client: FlaskClient) -> str:
    from panel_support import csrf

    return csrf(client, "/cases")
