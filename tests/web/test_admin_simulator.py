"""The phone simulator (sandbox mode): a person plays the customer; what they key and text is
recorded exactly as the IVR and the SMS survey record a real customer's answers. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from factories import page, seen
from flask.testing import FlaskClient
from panel_support import NOW, add_other_store, log_in, make_user, make_visit, post, staff_client, text_of
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel
from followup.engine.tick import run_tick
from followup.models import (
    ContactAttempt,
    Customer,
    FollowupCase,
    SmsMessage,
    SurveyAnswer,
    SurveyResponse,
    Visit,
)
from followup.runtime import Runtime
from followup.web import create_app

#: 14:30 in Shanghai: inside the afternoon calling window (NOW, 12:00, is the lunch break)
CALLING = NOW + timedelta(hours=2, minutes=30)


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    return staff_client(rt, CALLING)


def customer_of(rt: Runtime, case_id: int) -> int:
    with rt.sessions() as s:
        visit = s.get_one(Visit, s.get_one(FollowupCase, case_id).visit_id)
        return visit.customer_id


def planned_call(rt: Runtime, case_id: int) -> int:
    with rt.sessions() as s:
        aid = s.scalar(select(ContactAttempt.id).where(ContactAttempt.case_id == case_id,
                                                       ContactAttempt.channel == "call",
                                                       ContactAttempt.status == "planned"))
        assert aid is not None
        return aid


def phone_page(client: FlaskClient, customer_id: int) -> str:
    resp = client.get(f"/simulator/{customer_id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def live_sid(html: str) -> str:
    found = re.search(r'name="sid" value="([^"]+)"', html)
    assert found, "no call in progress on the page"
    return found.group(1)


def press(client: FlaskClient, customer_id: int, *keys: str) -> str:
    """Press keypad buttons one by one, as a person would; the phone page afterwards."""
    for key in keys:
        html = phone_page(client, customer_id)
        resp = post(client, f"/simulator/{customer_id}/key", {"sid": live_sid(html), "key": key},
                    token_from=f"/simulator/{customer_id}")
        assert resp.status_code == 302
    return phone_page(client, customer_id)


def ring(client: FlaskClient, rt: Runtime, case_id: int, answer: str = "pickup") -> str:
    cid = customer_of(rt, case_id)
    resp = post(client, f"/simulator/{cid}/ring", {"attempt": str(planned_call(rt, case_id)), "answer": answer},
                token_from=f"/simulator/{cid}")
    assert resp.status_code == 302
    return phone_page(client, cid)


def survey_of(rt: Runtime, case_id: int) -> tuple[SurveyResponse, dict[str, str]]:
    with rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse).where(SurveyResponse.case_id == case_id)).one()
        answers = {a.question_id: a.value_text or str(int(a.value_num or 0))
                   for a in s.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == resp.id))}
        s.expunge(resp)
        return resp, answers


def the_call(rt: Runtime, case_id: int, number: int = 1) -> ContactAttempt:
    with rt.sessions() as s:
        a = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id, ContactAttempt.channel == "call",
                                                   ContactAttempt.number == number)).one()
        s.expunge(a)
        return a


def case_row(rt: Runtime, case_id: int) -> FollowupCase:
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        s.expunge(case)
        return case


def test_search_finds_the_customer_by_name_or_phone_digits(rt: Runtime, client: FlaskClient) -> None:
    make_visit(rt, "RO-1", name="张伟", mobile="+8613800138000")
    make_visit(rt, "RO-2", name="李娜", mobile="+8613900139111")
    by_name = seen(client, "/simulator/?q=李")
    assert "李娜" in by_name and "张伟" not in by_name
    by_phone = seen(client, "/simulator/?q=0138000")
    assert "张伟" in by_phone and "李娜" not in by_phone and "138****8000" in by_phone
    assert "13800138000" not in by_phone  # numbers stay masked, also in the simulator


def test_answering_the_ivr_with_the_keypad_records_each_answer_as_a_real_call(rt: Runtime,
                                                                              client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-IVR", plan=True, service="repair")
    cid = customer_of(rt, case_id)
    html = ring(client, rt, case_id)
    assert "请问您是张伟本人吗？是请按1，不是请按2" in text_of(html)  # first: is it the customer?
    html = press(client, cid, "1")  # it is me
    assert "开始回访请按1" in text_of(html)  # the intro with its choices is shown
    said_before = text_of(html)
    html = press(client, cid, "1")  # take the survey
    assert "总体满意度" in text_of(html) and text_of(html) != said_before
    html = press(client, cid, "9")  # 0-10 questions collect digits until #
    assert "<output>9</output>" in html  # shown as keyed so far, waiting for #
    with rt.sessions() as s:
        assert s.scalar(select(SurveyAnswer.id)) is None  # nothing stored before #
    press(client, cid, "#")
    resp, answers = survey_of(rt, case_id)
    assert answers == {"overall": "9"} and resp.status == "in_progress"  # stored as it arrives, like the IVR
    press(client, cid, "1", "1", "1", "0", "#")  # fixed right: yes; on time: yes; advisor 10
    html = phone_page(client, cid)
    resp, answers = survey_of(rt, case_id)
    assert answers == {"overall": "9", "fixed_right": "yes", "on_time": "yes", "advisor": "10"}
    assert (resp.channel, resp.made_by, resp.status) == ("ivr", "ivr", "completed")
    assert resp.score == 96.0 and resp.satisfied is True  # (90*.4 + 100*.2 + 100*.2 + 100*.2) / 1.0
    call = the_call(rt, case_id)
    assert (call.status, call.outcome, call.made_by) == ("done", "answered", "ivr")
    assert case_row(rt, case_id).outcome == "satisfied"
    assert "感谢您的评价" in text_of(html)  # the IVR's thanks stays on the screen after it hung up
    assert 'name="sid"' not in html  # the call is over: no keypad


def test_a_wrong_key_is_asked_again_then_the_question_is_left_unanswered(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-RE", plan=True, service="repair")
    cid = customer_of(rt, case_id)
    ring(client, rt, case_id)
    press(client, cid, "1", "1", "1", "2", "#")  # it is me, take the survey, 12 is not a score
    html = press(client, cid, "timeout")  # nothing again: overall left unanswered (R5)
    assert "一次修好" in text_of(html)
    press(client, cid, "2")  # fixed right: no
    _resp, answers = survey_of(rt, case_id)
    assert answers == {"fixed_right": "no"}


def test_nine_asks_for_a_callback_at_the_customers_time(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-CB", plan=True)
    cid = customer_of(rt, case_id)
    ring(client, rt, case_id)
    press(client, cid, "1", "9", "2")  # it is me, call me back tomorrow morning
    call = the_call(rt, case_id)
    assert call.outcome == "callback_requested"
    # tomorrow 09:30 Shanghai = 01:30 UTC
    assert call.callback_at is not None
    assert call.callback_at.replace(tzinfo=NOW.tzinfo) == (NOW + timedelta(days=1)).replace(hour=1, minute=30)
    with rt.sessions() as s:
        nxt = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id,
                                                     ContactAttempt.status == "planned")).one()
    assert nxt.channel == "call" and nxt.number == 2
    assert nxt.due_at is not None and nxt.due_at.replace(tzinfo=NOW.tzinfo) == call.callback_at.replace(
        tzinfo=NOW.tzinfo)


def test_no_call_rings_outside_the_calling_window(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-LUNCH", plan=True)
    rt.clock.set(NOW)  # type: ignore[attr-defined]  # 12:00, the lunch break (R2)
    html = text_of(ring(client, rt, case_id))
    assert "不在呼叫时段" in html
    call = the_call(rt, case_id)
    assert call.status == "planned" and call.started_at is None


def test_zero_declines_and_closes_the_case(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-NO", plan=True)
    ring(client, rt, case_id)
    press(client, customer_of(rt, case_id), "1", "0")
    assert the_call(rt, case_id).outcome == "declined"
    case = case_row(rt, case_id)
    assert (case.state, case.outcome) == ("closed", "declined")


def test_two_at_the_identity_question_ends_the_call_as_a_failed_attempt(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-WHO", plan=True)
    ring(client, rt, case_id)
    html = press(client, customer_of(rt, case_id), "2")  # "not me": a relative picked up
    assert "抱歉打扰您了" in text_of(html) and 'name="sid"' not in html
    assert the_call(rt, case_id).outcome == "hung_up"
    assert the_call(rt, case_id, 2).status == "planned"  # R3: the next attempt follows
    assert case_row(rt, case_id).state != "closed"


def test_letting_it_ring_is_a_failed_attempt_and_the_next_call_is_planned(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-NA", plan=True)
    html = ring(client, rt, case_id, answer="ignore")
    assert the_call(rt, case_id).outcome == "no_answer"
    assert "无人接听" in text_of(html)
    assert the_call(rt, case_id, 2).status == "planned"


def test_hanging_up_midway_keeps_the_answers_given(rt: Runtime, client: FlaskClient) -> None:
    case_id = make_visit(rt, "RO-HU", plan=True)
    cid = customer_of(rt, case_id)
    ring(client, rt, case_id)
    html = press(client, cid, "1", "1", "3", "#")
    post(client, f"/simulator/{cid}/hangup", {"sid": live_sid(html)}, token_from=f"/simulator/{cid}")
    resp, answers = survey_of(rt, case_id)
    assert answers == {"overall": "3"} and resp.status == "completed" and resp.satisfied is False
    assert the_call(rt, case_id).outcome == "answered"
    assert case_row(rt, case_id).state == "complaint"  # overall 3: dissatisfied (R5, R7)


def sms_case(rt: Runtime, service: str = "maintenance") -> int:
    """A visit imported after its deadline: straight to the SMS survey, whose first SMS the tick sends."""
    case_id = make_visit(rt, "RO-SMS", delivered=NOW - timedelta(hours=80), service=service)
    run_tick(rt, SandboxChannel())
    assert case_row(rt, case_id).state == "sms_survey"
    return case_id


def reply(client: FlaskClient, customer_id: int, body: str) -> str:
    resp = post(client, f"/simulator/{customer_id}/sms", {"body": body}, token_from=f"/simulator/{customer_id}")
    assert resp.status_code == 302
    return text_of(phone_page(client, customer_id))


def test_replying_to_the_sms_survey_shows_the_conversation_and_stores_the_answers(rt: Runtime,
                                                                                  client: FlaskClient) -> None:
    case_id = sms_case(rt, "repair")
    cid = customer_of(rt, case_id)
    page = text_of(phone_page(client, cid))
    assert "总体满意度" in page and "回T退订" in page  # the first SMS asks the first question
    page = reply(client, cid, "九分")
    assert "九分" in page and "一次修好" in page  # the reply, then the next question the service sent
    page = reply(client, cid, "说不清")  # unreadable: the question again with a hint
    with rt.sessions() as s:
        handled = [m.handling for m in s.scalars(select(SmsMessage).where(SmsMessage.direction == "in")
                                                 .order_by(SmsMessage.id))]
    assert handled == ["answer", "unreadable"]
    for text in ("是", "是", "10", "服务很好"):
        page = reply(client, cid, text)
    resp, answers = survey_of(rt, case_id)
    assert answers == {"overall": "9", "fixed_right": "yes", "on_time": "yes", "advisor": "10",
                       "comment": "服务很好"}
    assert (resp.channel, resp.status) == ("sms", "completed")
    assert case_row(rt, case_id).outcome == "satisfied"
    assert "感谢" in page  # the thanks SMS is shown
    assert page.index("九分") < page.index("说不清") < page.index("服务很好")


def test_an_opt_out_reply_is_confirmed_and_stops_the_sms(rt: Runtime, client: FlaskClient) -> None:
    case_id = sms_case(rt)
    cid = customer_of(rt, case_id)
    page = reply(client, cid, " 退订 ")
    with rt.sessions() as s:
        assert s.get_one(Customer, cid).sms_opted_out is True
        outs = s.scalars(select(SmsMessage.body).where(SmsMessage.direction == "out").order_by(SmsMessage.id)).all()
    assert len(outs) == 2  # the survey's first SMS and one confirmation, nothing after it
    assert " ".join(outs[-1].split()) in page  # the confirmation is shown in the conversation
    with rt.sessions() as s:
        planned = s.scalars(select(ContactAttempt.channel).where(ContactAttempt.case_id == case_id,
                                                                 ContactAttempt.status == "planned")).all()
    assert planned == ["letter"]  # the open SMS survey moves on to the letter (R6)


def test_only_in_sandbox_mode(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    make_user(rt, "staff1", "info_staff", ["SZ01"])
    live = dataclasses.replace(rt, settings=dataclasses.replace(rt.settings, channel_mode="twilio"))
    c = create_app(runtime=live).test_client()
    log_in(c, "staff1")
    case_id = make_visit(rt, "RO-TW", plan=True)
    resp = c.get(f"/simulator/{customer_of(rt, case_id)}")
    assert resp.status_code == 404 and "仅在沙盒模式" in text_of(resp.get_data(as_text=True))
    assert "/simulator" not in page(c, "/")  # not in the navigation either


def test_access_roles_stores_and_csrf(rt: Runtime, client: FlaskClient) -> None:
    add_other_store(rt)
    make_user(rt, "sa", "advisor", ["SZ01"], advisor="SA01")
    make_user(rt, "gz", "info_staff", ["GZ01"])
    case_id = make_visit(rt, "RO-AC", plan=True)
    cid = customer_of(rt, case_id)
    advisor = create_app(runtime=rt).test_client()
    log_in(advisor, "sa")
    assert advisor.get(f"/simulator/{cid}").status_code == 403
    other = create_app(runtime=rt).test_client()
    log_in(other, "gz")
    assert other.get(f"/simulator/{cid}").status_code == 404
    assert "张伟" not in seen(other, "/simulator/")
    forged = client.post(f"/simulator/{cid}/ring", data={"attempt": str(planned_call(rt, case_id))})
    assert forged.status_code == 400
    assert the_call(rt, case_id).status == "planned"  # nothing happened
    assert "/simulator" in page(client, "/")  # in the navigation in sandbox mode
