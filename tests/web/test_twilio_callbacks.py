"""Twilio's requests to us: signature checks, status callbacks (duplicate, reordered) and the IVR."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, post_signed, press_keys, read_sample, sign, tick_at
from flask.testing import FlaskClient
from sqlalchemy import func, select

from followup.models import (
    AuditEntry,
    ContactAttempt,
    FollowupCase,
    SurveyAnswer,
    SurveyResponse,
    TwilioCallback,
    WebhookEvent,
)
from followup.runtime import Runtime
from followup.web import create_app

FIRST_CALL = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 Shanghai, the day after delivery


@pytest.fixture
def placed(twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> dict[str, Any]:
    """A visit whose first call was just placed through the emulator."""
    import_visit(twilio_rt, tmp_path)
    tick_at(twilio_rt, FIRST_CALL)
    (call,) = emulator.created("Calls")
    return {"rt": twilio_rt, "client": create_app(runtime=twilio_rt).test_client(), "sid": call.sid,
            "url": call.one("Url"), "status": call.one("StatusCallback"), "attempt": int(call.one("Url").split("=")[-1])}


def status(samples: Path, placed: dict[str, Any], name: str, **over: str) -> tuple[int, str]:
    params = {**read_sample(samples, name), "CallSid": placed["sid"], **over}
    return post_signed(placed["client"], placed["status"], params)


def attempt(rt: Runtime, attempt_id: int) -> ContactAttempt:
    with rt.sessions() as s:
        return s.get_one(ContactAttempt, attempt_id)


def outcomes_audited(rt: Runtime) -> list[tuple[str, str, int, str]]:
    """(actor, action, attempt id, outcome) of every audited contact outcome, oldest first (R10)."""
    with rt.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("%.outcome")).order_by(AuditEntry.id))
        return [(r.actor, r.action, r.detail["attempt"], r.detail["outcome"]) for r in rows]


def count(rt: Runtime, model: Any, *where: Any) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


# -- signatures ---------------------------------------------------------------------------------

ENDPOINTS = ["/twilio/voice/answer?attempt=1", "/twilio/voice/gather?attempt=1&step=intro",
             "/twilio/voice/status?attempt=1", "/twilio/sms/status?attempt=1", "/twilio/sms/inbound"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_missing_or_wrong_signature_is_403_and_changes_nothing(placed: dict[str, Any], samples: Path, path: str) -> None:
    rt, client = placed["rt"], placed["client"]
    params = {**read_sample(samples, "call_status_no_answer.txt"), "CallSid": placed["sid"], "Body": "退订",
              "From": "+8613800138000"}
    url = PUBLIC + path
    assert client.post(path, data=params).status_code == 403  # no header at all
    assert client.post(path, data=params, headers={"X-Twilio-Signature": ""}).status_code == 403
    assert post_signed(client, url, params, token="not-our-token")[0] == 403
    altered = sign(url, {**params, "CallStatus": "busy"})
    assert client.post(path, data=params, headers={"X-Twilio-Signature": altered}).status_code == 403
    other_query = sign(PUBLIC + path.replace("attempt=1", "attempt=2"), params)
    if "attempt=1" in path:
        assert client.post(path, data=params, headers={"X-Twilio-Signature": other_query}).status_code == 403
    host_signed = sign("http://localhost" + path, params)  # signed over the request's own host
    assert client.post(path, data=params, headers={"X-Twilio-Signature": host_signed}).status_code == 403
    assert attempt(rt, placed["attempt"]).status == "in_progress"
    assert count(rt, TwilioCallback) == 0
    assert count(rt, WebhookEvent, WebhookEvent.type.in_(["call.completed", "sms.received"])) == 0


def test_signature_with_explicit_port_is_accepted(placed: dict[str, Any], samples: Path) -> None:
    url = placed["status"].replace(PUBLIC, PUBLIC + ":443")
    params = {**read_sample(samples, "call_status_no_answer.txt"), "CallSid": placed["sid"]}
    sig = sign(url, params)
    path = placed["status"].removeprefix(PUBLIC)
    assert placed["client"].post(path, data=params, headers={"X-Twilio-Signature": sig}).status_code == 204
    assert attempt(placed["rt"], placed["attempt"]).outcome == "no_answer"


# -- call status callbacks ----------------------------------------------------------------------

@pytest.mark.parametrize(("sample", "over", "outcome"), [
    ("call_status_no_answer.txt", {}, "no_answer"),
    ("call_status_busy.txt", {}, "busy"),
    ("call_status_completed_machine.txt", {}, "voicemail"),
    ("call_status_completed_machine.txt", {"AnsweredBy": "fax"}, "voicemail"),
    ("call_status_completed_human.txt", {}, "hung_up"),  # a person answered, never answered question 1
    ("call_status_busy.txt", {"CallStatus": "failed", "ErrorCode": "13224"}, "invalid_number"),
    ("call_status_busy.txt", {"CallStatus": "canceled"}, "failed"),
])
def test_final_status_maps_to_one_outcome(placed: dict[str, Any], samples: Path, sample: str,
                                          over: dict[str, str], outcome: str) -> None:
    assert status(samples, placed, sample, **over)[0] == 204
    a = attempt(placed["rt"], placed["attempt"])
    assert (a.status, a.outcome, a.made_by) == ("done", outcome, "ivr")
    # R10: the outcome is audited with who made the call
    assert outcomes_audited(placed["rt"]) == [("ivr", "call.outcome", a.id, outcome)]


def test_duplicate_and_reordered_callbacks_change_state_once_and_forward(placed: dict[str, Any], samples: Path) -> None:
    rt = placed["rt"]
    assert status(samples, placed, "call_status_no_answer.txt")[0] == 204
    ended = attempt(rt, placed["attempt"]).ended_at
    rt.clock.set(FIRST_CALL.replace(hour=2))  # type: ignore[attr-defined]
    assert status(samples, placed, "call_status_no_answer.txt")[0] == 204  # the same callback again
    assert status(samples, placed, "call_status_no_answer.txt", CallStatus="ringing")[0] == 204  # late
    assert status(samples, placed, "call_status_completed_human.txt", CallSid=placed["sid"])[0] == 204
    a = attempt(rt, placed["attempt"])
    assert (a.outcome, a.ended_at) == ("no_answer", ended)
    assert count(rt, WebhookEvent, WebhookEvent.type == "call.completed") == 1
    assert count(rt, TwilioCallback) == 3  # no-answer, ringing, completed: each seen once
    assert outcomes_audited(rt) == [("ivr", "call.outcome", a.id, "no_answer")]  # once (R10)


def test_progress_callbacks_before_the_end_change_nothing(placed: dict[str, Any], samples: Path) -> None:
    for st in ("initiated", "ringing", "in-progress"):
        assert status(samples, placed, "call_status_no_answer.txt", CallStatus=st)[0] == 204
    assert attempt(placed["rt"], placed["attempt"]).status == "in_progress"


# -- the IVR ------------------------------------------------------------------------------------

def pick_up(placed: dict[str, Any], samples: Path, answered_by: str = "human") -> str:
    params = {**read_sample(samples, "gather_digits.txt"), "CallSid": placed["sid"], "AnsweredBy": answered_by}
    params.pop("Digits")
    code, body = post_signed(placed["client"], placed["url"], params)
    assert code == 200
    return body


def confirm(placed: dict[str, Any], samples: Path) -> str:
    """The customer picks up and says it is them (1): the TwiML of the intro."""
    pick_up(placed, samples)
    return press_keys(placed, samples, "identity", "1")


def start(placed: dict[str, Any], samples: Path) -> str:
    """Picked up, confirmed, agreed to the survey: the TwiML of the first question."""
    confirm(placed, samples)
    return press_keys(placed, samples, "intro", "1")


def test_ivr_first_asks_whether_it_speaks_to_the_customer(placed: dict[str, Any], samples: Path) -> None:
    hello = pick_up(placed, samples)
    assert "欧阳晓明您好，这里是深圳星河大众4S店。请问您是欧阳晓明本人吗？是请按1，不是请按2。" in hello
    assert "step=identity" in hello and 'numDigits="1"' in hello and "开始回访" not in hello
    intro = press_keys(placed, samples, "identity", "1")
    assert "感谢您11月19日到店维修" in intro and "开始回访请按1，预约其他时间回电请按9，不参加请按0" in intro
    assert "step=intro" in intro


def test_ivr_greets_by_surname_and_honorific_when_the_name_has_one(twilio_rt: Runtime, emulator: TwilioEmulator,
                                                                  samples: Path, tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path, name="欧阳女士")
    tick_at(twilio_rt, FIRST_CALL)
    (call,) = emulator.created("Calls")
    params = {**read_sample(samples, "gather_digits.txt"), "CallSid": call.sid or ""}
    params.pop("Digits")
    code, hello = post_signed(create_app(runtime=twilio_rt).test_client(), call.one("Url"), params)
    assert code == 200 and "您好，这里是深圳星河大众4S店。请问是欧阳女士吗？是请按1，不是请按2。" in hello


def test_not_the_customer_ends_the_call_politely_as_a_failed_attempt_with_the_reason(placed: dict[str, Any],
                                                                                    samples: Path) -> None:
    rt = placed["rt"]
    pick_up(placed, samples)
    bye = press_keys(placed, samples, "identity", "2")
    assert "抱歉打扰您了" in bye and "<Hangup />" in bye and "Gather" not in bye
    status(samples, placed, "call_status_completed_human.txt")
    assert attempt(rt, placed["attempt"]).outcome == "hung_up"  # R3: a failed attempt, the next call follows
    with rt.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "call.not_the_customer")).one()
        assert (entry.actor, entry.detail["attempt"]) == ("ivr", placed["attempt"])
        assert s.scalars(select(SurveyResponse)).all() == []
    tick_at(rt, datetime(2026, 11, 20, 1, 5, tzinfo=UTC))
    with rt.sessions() as s:
        nxt = s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).one()
        assert (nxt.channel, nxt.number) == ("call", 2)


def test_silence_at_the_identity_question_reprompts_once_then_ends_the_call(placed: dict[str, Any],
                                                                           samples: Path) -> None:
    pick_up(placed, samples)
    again = press_keys(placed, samples, "identity", "")
    assert "没有收到您的有效按键" in again and "请问您是欧阳晓明本人吗" in again
    bye = press_keys(placed, samples, "identity", "")
    assert "<Hangup />" in bye
    status(samples, placed, "call_status_completed_human.txt")
    assert attempt(placed["rt"], placed["attempt"]).outcome == "hung_up"


def test_ivr_full_survey_in_mandarin_closes_the_case(placed: dict[str, Any], samples: Path) -> None:
    rt = placed["rt"]
    intro = pick_up(placed, samples)
    assert 'voice="Polly.Zhiyu"' in intro and 'language="cmn-CN"' in intro and 'timeout="10"' in intro
    q1 = start(placed, samples)
    assert "请您为本次服务的总体满意度打分，0分为非常不满意，10分为非常满意，输入后请按井号键。" in q1
    assert 'finishOnKey="#"' in q1 and "step=overall" in q1
    assert "请问您的车辆问题是否一次修好？是请按1，否请按2。" in press_keys(placed, samples, "overall", "9")
    assert "请问我们是否按约定的时间为您交车？是请按1，否请按2。" in press_keys(placed, samples, "fixed_right", "1")
    assert "请您为服务顾问的服务打分，0分为非常不满意" in press_keys(placed, samples, "on_time", "2")
    bye = press_keys(placed, samples, "advisor", "10")
    assert "感谢您的评价" in bye and "<Hangup />" in bye
    assert status(samples, placed, "call_status_completed_human.txt")[0] == 204
    with rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse)).one()
        assert (resp.channel, resp.score) == ("ivr", 76.0)  # 90*.4 + 100*.2 + 0*.2 + 100*.2
        case = s.scalars(select(FollowupCase)).one()
        assert (case.state, case.outcome) == ("closed", "satisfied")
    assert attempt(rt, placed["attempt"]).outcome == "answered"


def test_ivr_dropped_call_keeps_the_answers_given(placed: dict[str, Any], samples: Path) -> None:
    start(placed, samples)
    press_keys(placed, samples, "overall", "8#")
    status(samples, placed, "call_status_completed_human.txt")  # the customer hung up at question 2
    rt = placed["rt"]
    with rt.sessions() as s:
        assert {a.question_id: a.value_num for a in s.scalars(select(SurveyAnswer))} == {"overall": 8.0}
        assert s.scalars(select(SurveyResponse.score)).one() == 80.0
    assert attempt(rt, placed["attempt"]).outcome == "answered"


def test_ivr_timeout_reprompts_once_then_leaves_the_question(placed: dict[str, Any], samples: Path) -> None:
    start(placed, samples)
    again = press_keys(placed, samples, "overall", "")
    assert "没有收到您的有效按键" in again and "step=overall" in again
    assert "step=fixed_right" in press_keys(placed, samples, "overall", "")
    assert "step=fixed_right" in press_keys(placed, samples, "overall", "5#")  # stale repeat: the current step again


def test_ivr_press_9_asks_a_slot_and_schedules_the_callback(placed: dict[str, Any], samples: Path) -> None:
    rt = placed["rt"]
    confirm(placed, samples)
    slot = press_keys(placed, samples, "intro", "9")
    assert "今天傍晚请按1，明天上午请按2，明天下午请按3" in slot  # 09:00: every slot is still ahead
    assert "明天上午" in press_keys(placed, samples, "slot", "2")
    status(samples, placed, "call_status_completed_human.txt")
    a = attempt(rt, placed["attempt"])
    assert a.outcome == "callback_requested"
    assert a.callback_at == datetime(2026, 11, 21, 1, 30, tzinfo=UTC)  # tomorrow 09:30 Shanghai
    tick_at(rt, datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    with rt.sessions() as s:
        nxt = s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).one()
        assert (nxt.channel, nxt.due_at, nxt.reason) == ("call", datetime(2026, 11, 21, 1, 30, tzinfo=UTC), "callback")


def evening_call(twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path, at: datetime
                 ) -> dict[str, Any]:
    """The first call placed at ``at`` (the earlier planned call moved there), answered and confirmed."""
    import_visit(twilio_rt, tmp_path)
    with twilio_rt.sessions() as s:
        a = s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).first()
        if a is None:
            tick_at(twilio_rt, datetime(2026, 11, 19, 1, 5, tzinfo=UTC))
            a = s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).one()
        a.due_at = at
        s.commit()
    tick_at(twilio_rt, at)
    (call,) = emulator.created("Calls")
    return {"rt": twilio_rt, "client": create_app(runtime=twilio_rt).test_client(), "sid": call.sid,
            "url": call.one("Url"), "status": call.one("StatusCallback"), "attempt": int(call.one("Url").split("=")[-1])}


@pytest.mark.parametrize(("local_time", "offered"), [
    ((17, 29), "今天傍晚请按1，明天上午请按2，明天下午请按3"),  # 18:00 is 31 minutes ahead
    ((17, 31), "明天上午请按2，明天下午请按3"),  # 18:00 is less than 30 minutes ahead: not offered
    ((19, 10), "明天上午请按2，明天下午请按3"),  # 18:00 has passed
])
def test_the_ivr_offers_only_callback_slots_still_ahead(twilio_rt: Runtime, emulator: TwilioEmulator,
                                                        tmp_path: Path, samples: Path, local_time: tuple[int, int],
                                                        offered: str) -> None:
    at = datetime(2026, 11, 20, local_time[0] - 8, local_time[1], tzinfo=UTC)
    call = evening_call(twilio_rt, emulator, tmp_path, at)
    confirm(call, samples)
    slot = press_keys(call, samples, "intro", "9")
    assert f"请选择方便的回电时间：{offered}。" in slot
    if "今天傍晚" not in offered:
        again = press_keys(call, samples, "slot", "1")  # this evening is not on offer: asked again
        assert "没有收到您的有效按键" in again and "今天傍晚" not in again


def test_a_callback_for_this_evening_chosen_after_six_is_never_placed_at_once(twilio_rt: Runtime,
                                                                              emulator: TwilioEmulator,
                                                                              tmp_path: Path, samples: Path) -> None:
    at = datetime(2026, 11, 20, 11, 10, tzinfo=UTC)  # 19:10 Shanghai
    call = evening_call(twilio_rt, emulator, tmp_path, at)
    confirm(call, samples)
    press_keys(call, samples, "intro", "9")
    press_keys(call, samples, "slot", "1")  # pressed anyway: not on offer
    press_keys(call, samples, "slot", "1")  # and again: the IVR gives up, the customer asked for "later"
    status(samples, call, "call_status_completed_human.txt")
    tick_at(twilio_rt, at.replace(minute=12))
    with twilio_rt.sessions() as s:
        done = s.get_one(ContactAttempt, call["attempt"])
        assert done.outcome == "callback_requested"
        nxt = s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).one()
        assert nxt.due_at is not None and done.ended_at is not None
        assert nxt.due_at >= done.ended_at + timedelta(minutes=30)


def test_ivr_press_0_declines_and_the_case_closes(placed: dict[str, Any], samples: Path) -> None:
    rt = placed["rt"]
    confirm(placed, samples)
    assert "不打扰您了" in press_keys(placed, samples, "intro", "0")
    status(samples, placed, "call_status_completed_human.txt")
    assert attempt(rt, placed["attempt"]).outcome == "declined"
    tick_at(rt, datetime(2026, 11, 20, 1, 5, tzinfo=UTC))
    with rt.sessions() as s:
        assert s.scalars(select(FollowupCase.outcome)).one() == "declined"


def test_answering_machine_gets_hung_up_on(placed: dict[str, Any], samples: Path) -> None:
    assert "<Hangup />" in pick_up(placed, samples, answered_by="machine_start")


def test_english_customer_hears_english(twilio_rt: Runtime, emulator: TwilioEmulator, samples: Path,
                                        tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path, name="Alexander Richardson", language="en")
    tick_at(twilio_rt, FIRST_CALL)
    (call,) = emulator.created("Calls")
    params = {**read_sample(samples, "gather_digits.txt"), "CallSid": call.sid or ""}
    client = create_app(runtime=twilio_rt).test_client()
    code, hello = post_signed(client, call.one("Url"), params)
    assert code == 200 and 'voice="Polly.Joanna"' in hello and 'language="en-US"' in hello
    assert "Hello Alexander Richardson, this is Shenzhen Xinghe VW Service Center." in hello
    assert "Am I speaking with Alexander Richardson? Press 1 for yes, or 2 for no." in hello
    attempt_id = int(call.one("Url").split("=")[-1])
    code, intro = post_signed(client, f"{PUBLIC}/twilio/voice/gather?attempt={attempt_id}&step=identity",
                              {**params, "Digits": "1"})
    assert code == 200 and "Press 1 to start" in intro


def test_unknown_call_status_is_ignored(placed: dict[str, Any], samples: Path) -> None:
    client: FlaskClient = placed["client"]
    params = {**read_sample(samples, "call_status_busy.txt")}  # a SID we never placed
    assert post_signed(client, placed["status"], params)[0] == 204
    assert attempt(placed["rt"], placed["attempt"]).status == "in_progress"
