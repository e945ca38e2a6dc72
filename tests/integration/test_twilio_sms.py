"""The SMS survey in Twilio mode: opt-out first, HELP, unknown senders, late replies, undelivered SMS,
and provider errors through the emulator (429, 500, 21211, connection refused)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, post_signed, read_sample, tick_at
from sqlalchemy import select

from followup.channels.registry import build_channel
from followup.engine.tick import run_tick
from followup.models import ContactAttempt, Customer, FollowupCase, SmsMessage, SurveyResponse, WebhookEvent
from followup.runtime import Runtime
from followup.settings import load_settings
from followup.web import create_app

IMPORTED = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)  # 09:00 Shanghai: SMS hours


@pytest.fixture
def texting(twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> dict[str, Any]:
    """A do-not-call customer: the SMS survey starts at once (R3/R4)."""
    import_visit(twilio_rt, tmp_path, do_not_call=True)
    tick_at(twilio_rt, IMPORTED)
    (sms,) = emulator.created("Messages")
    return {"rt": twilio_rt, "client": create_app(runtime=twilio_rt).test_client(), "sms": sms, "n": 0}


def reply(t: dict[str, Any], samples: Path, body: str, sender: str = "+8613800138000") -> list[str]:
    t["n"] += 1
    sid = f"SM{t['n']:032x}"
    params = {**read_sample(samples, "sms_inbound_reply.txt"), "Body": body, "From": sender, "MessageSid": sid,
              "SmsSid": sid, "SmsMessageSid": sid}
    code, twiml = post_signed(t["client"], f"{PUBLIC}/twilio/sms/inbound", params)
    assert code == 200
    return re.findall(r"<Message>(.*?)</Message>", twiml, re.S)


def inbound_handling(rt: Runtime) -> list[str | None]:
    with rt.sessions() as s:
        return list(s.scalars(select(SmsMessage.handling).where(SmsMessage.direction == "in").order_by(SmsMessage.id)))


def sms_status(t: dict[str, Any], samples: Path, sample: str) -> int:
    params = {**read_sample(samples, sample), "MessageSid": t["sms"].sid, "SmsSid": t["sms"].sid}
    return post_signed(t["client"], t["sms"].one("StatusCallback"), params)[0]


def test_opt_out_first_with_one_confirmation_then_the_letter(texting: dict[str, Any], samples: Path,
                                                             emulator: TwilioEmulator) -> None:
    rt = texting["rt"]
    (confirmation,) = reply(texting, samples, "  退订 ")
    assert confirmation.startswith("【星河大众】您已退订") and confirmation.endswith("回T退订")
    assert reply(texting, samples, "T") == []  # already out: no second confirmation
    with rt.sessions() as s:
        assert s.scalars(select(Customer.sms_opted_out)).one() is True
        assert s.scalars(select(SurveyResponse.status)).one() == "incomplete"
        events = s.scalars(select(WebhookEvent).where(WebhookEvent.type == "customer.opted_out")).all()
        assert len(events) == 1 and "13800138000" not in str(events[0].data) and events[0].data["mobile"] == "138****8000"
    tick_at(rt, IMPORTED.replace(minute=5))
    with rt.sessions() as s:
        planned = s.scalars(select(ContactAttempt).where(ContactAttempt.status.in_(["planned", "in_progress"]))).all()
        assert [(a.channel, a.status) for a in planned] == [("letter", "in_progress")]
        assert s.scalars(select(FollowupCase.state)).one() == "letter_queued"
    assert len(emulator.created("Messages")) == 1  # nothing more was texted
    assert inbound_handling(rt) == ["optout", "optout"]


def test_stop_please_is_an_answer_not_an_opt_out(texting: dict[str, Any], samples: Path) -> None:
    (again,) = reply(texting, samples, "Stop please")
    assert "抱歉，没能看懂您的回复" in again and "总体满意度" in again
    with texting["rt"].sessions() as s:
        assert s.scalars(select(Customer.sms_opted_out)).one() is False


def test_start_opts_back_in_and_help_is_answered(texting: dict[str, Any], samples: Path) -> None:
    reply(texting, samples, "STOP")
    (back,) = reply(texting, samples, "START")
    assert "重新订阅" in back
    (help_text,) = reply(texting, samples, "HELP")
    assert "深圳星河大众4S店" in help_text and "0755-86001234" in help_text
    with texting["rt"].sessions() as s:
        assert s.scalars(select(Customer.sms_opted_out)).one() is False
    assert inbound_handling(texting["rt"]) == ["optout", "optin", "help"]


def test_two_unreadable_replies_keep_the_survey_incomplete_and_alert_staff(texting: dict[str, Any],
                                                                          samples: Path) -> None:
    first = reply(texting, samples, "😀")
    second = reply(texting, samples, "")
    assert "请回复0-10的数字" in first[0]
    assert "客服人员会尽快与您联系" in second[0]
    with texting["rt"].sessions() as s:
        case = s.scalars(select(FollowupCase)).one()
        assert case.flagged and "unreadable" in (case.flag_reason or "")
        assert s.scalars(select(SurveyResponse.status)).one() == "incomplete"
    assert reply(texting, samples, "10") == []  # later replies are kept for staff
    assert inbound_handling(texting["rt"]) == ["unreadable", "unreadable", "late"]


def test_unknown_sender_is_stored_never_dropped(texting: dict[str, Any], samples: Path) -> None:
    assert reply(texting, samples, "你们几点下班？", sender="+8613900139000") == []
    with texting["rt"].sessions() as s:
        msg = s.scalars(select(SmsMessage).where(SmsMessage.from_number == "+8613900139000")).one()
        assert (msg.body, msg.handling, msg.case_id) == ("你们几点下班？", "unknown_sender", None)


def test_a_repeated_inbound_message_is_handled_once(texting: dict[str, Any], samples: Path) -> None:
    params = {**read_sample(samples, "sms_inbound_reply.txt")}
    for _ in range(2):
        post_signed(texting["client"], f"{PUBLIC}/twilio/sms/inbound", params)
    with texting["rt"].sessions() as s:
        assert len(s.scalars(select(SmsMessage).where(SmsMessage.direction == "in")).all()) == 1
        resp = s.scalars(select(SurveyResponse)).one()
        assert resp.current_question == "fixed_right"  # １０ answered the first question once


def test_undelivered_sms_falls_back_to_a_letter(texting: dict[str, Any], samples: Path) -> None:
    rt = texting["rt"]
    assert sms_status(texting, samples, "sms_status_undelivered.txt") == 204
    assert sms_status(texting, samples, "sms_status_delivered.txt") == 204  # too late: final is final
    tick_at(rt, IMPORTED.replace(minute=5))
    with rt.sessions() as s:
        rows = s.scalars(select(ContactAttempt).order_by(ContactAttempt.id)).all()
        sms = [a for a in rows if a.channel == "sms" and a.status == "done"]
        assert [(a.outcome, a.error_code) for a in sms] == [("undelivered", "30003")]
        assert [a.channel for a in rows if a.status == "in_progress"] == ["letter"]


def test_delivered_then_late_sent_stays_delivered(texting: dict[str, Any], samples: Path) -> None:
    assert sms_status(texting, samples, "sms_status_delivered.txt") == 204
    params = {**read_sample(samples, "sms_status_delivered.txt"), "MessageSid": texting["sms"].sid,
              "MessageStatus": "sent"}
    post_signed(texting["client"], texting["sms"].one("StatusCallback"), params)
    with texting["rt"].sessions() as s:
        sent = s.scalars(select(ContactAttempt.outcome).where(ContactAttempt.provider_id == texting["sms"].sid)).one()
        assert sent == "delivered"


# -- provider errors ----------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_rate_limit_and_server_errors_are_retried_without_using_an_attempt(
    twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path, status: int, code: int
) -> None:
    import_visit(twilio_rt, tmp_path)
    # a 429 is sent again at once up to five times (channels/twilio_once.py): the sixth reaches the dispatcher
    emulator.fail_next(status, code, times=6 if status == 429 else 1)
    counts = tick_at(twilio_rt, datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    assert counts["retried"] == 1
    with twilio_rt.sessions() as s:
        a = s.scalars(select(ContactAttempt)).one()
        assert (a.status, a.number, a.retries, a.error_code) == ("planned", 1, 1, str(code))
        assert a.due_at == datetime(2026, 11, 20, 1, 5, tzinfo=UTC)
    tick_at(twilio_rt, datetime(2026, 11, 20, 1, 5, tzinfo=UTC))
    assert len(emulator.created("Calls")) == 1
    assert emulator.problems == []


def test_invalid_number_ends_calling_and_marks_the_number_bad(twilio_rt: Runtime, emulator: TwilioEmulator,
                                                             tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path)
    emulator.fail_next(400, 21211, "The 'To' number is not a valid phone number.")
    tick_at(twilio_rt, datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    with twilio_rt.sessions() as s:
        a = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "call")).one()
        assert (a.outcome, a.error_code) == ("invalid_number", "21211")
        assert s.scalars(select(Customer.mobile_bad)).one() is True


def test_connection_refused_is_transient(twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path)
    port = emulator.base_url.rsplit(":", 1)[1]
    emulator.stop()
    settings = load_settings({"FOLLOWUP_ENV": "test", "DATABASE_URL": twilio_rt.settings.database_url,
                              "FOLLOWUP_CHANNEL_MODE": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                              "TWILIO_AUTH_TOKEN": "x", "TWILIO_FROM_NUMBER": "+8675512345678",
                              "TWILIO_API_BASE_URL": f"http://127.0.0.1:{port}"})
    twilio_rt.clock.set(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    counts = run_tick(twilio_rt, build_channel(settings))
    assert counts["retried"] == 1
    with twilio_rt.sessions() as s:
        assert s.scalars(select(ContactAttempt.error_code)).one() == "network"
