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
from sqlalchemy.orm import Session

from followup.channels.registry import build_channel
from followup.engine.tick import run_tick
from followup.models import (
    AuditEntry,
    ContactAttempt,
    Customer,
    FollowupCase,
    SmsMessage,
    SurveyAnswer,
    SurveyResponse,
    WebhookEvent,
)
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


def audited_outcomes(s: Session) -> list[tuple[str, str, str, str | None]]:
    """(actor, action, outcome, provider error) of each audited contact outcome, oldest first (R10)."""
    rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("%.outcome")).order_by(AuditEntry.id))
    return [(r.actor, r.action, r.detail["outcome"], r.detail.get("error_code")) for r in rows]


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
    # R6: no opt-out hint on the confirmation itself, and no English keyword for a Chinese customer
    assert confirmation == "【星河大众】您已成功退订本店短信，今后不再向您发送短信。如需恢复，请回复“恢复”。"
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


def test_after_opt_out_nothing_is_texted_not_even_help_until_the_customer_opts_back_in(
        texting: dict[str, Any], samples: Path) -> None:
    rt = texting["rt"]
    reply(texting, samples, "退订")
    assert reply(texting, samples, "HELP") == []
    assert reply(texting, samples, "帮助") == []
    assert reply(texting, samples, "10") == []
    with rt.sessions() as s:
        assert s.scalars(select(SmsMessage).where(SmsMessage.direction == "out", SmsMessage.status == "reply")
                         .order_by(SmsMessage.id)).all()[-1].body.startswith("【星河大众】您已成功退订")
    (back,) = reply(texting, samples, " 恢复 ")
    assert back.startswith("【星河大众】") and "重新订阅" in back and back.endswith("回T退订")
    (help_text,) = reply(texting, samples, "帮助")
    assert "0755-86001234" in help_text
    with rt.sessions() as s:
        assert s.scalars(select(Customer.sms_opted_out)).one() is False
    assert inbound_handling(rt) == ["optout", "help", "help", "late", "optin", "help"]


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
        # R10: the SMS's final status is audited once, by the SMS channel (the stale one is not)
        assert audited_outcomes(s) == [("sms", "sms.outcome", "undelivered", "30003")]


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
        # R10: a permanent provider error is an outcome too, audited (the system tried; nobody was called)
        assert audited_outcomes(s) == [("system", "call.outcome", "invalid_number", "21211")]


def test_a_permanent_sms_error_is_recorded_and_audited(twilio_rt: Runtime, emulator: TwilioEmulator,
                                                       tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path, do_not_call=True)  # the SMS survey is the first contact
    emulator.fail_next(400, 21211, "The 'To' number is not a valid phone number.")
    tick_at(twilio_rt, IMPORTED)
    with twilio_rt.sessions() as s:
        a = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "sms")).one()
        assert (a.status, a.outcome, a.error_code) == ("done", "invalid_number", "21211")
        assert audited_outcomes(s) == [("system", "sms.outcome", "invalid_number", "21211")]


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


@pytest.fixture
def lettered(twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> dict[str, Any]:
    """A repair visit whose letter went out (its batch mailed): the customer answers by SMS with the
    letter's reply code, from a phone that is not on file (a family member's)."""
    import_visit(twilio_rt, tmp_path)
    with twilio_rt.sessions() as s:
        case = s.scalars(select(FollowupCase)).one()
        case.state, case.next_check_at = "letter_sent", None
        s.add(ContactAttempt(case_id=case.id, channel="letter", kind="survey", number=1, status="done",
                             outcome="sent", due_at=IMPORTED, started_at=IMPORTED, ended_at=IMPORTED,
                             created_at=IMPORTED))
        # something still planned for the case, which the answer must cancel (R4.6)
        s.add(ContactAttempt(case_id=case.id, channel="call", kind="survey", number=1, status="planned",
                             due_at=IMPORTED.replace(day=25), created_at=IMPORTED))
        s.commit()
        code = case.reply_code
    return {"rt": twilio_rt, "client": create_app(runtime=twilio_rt).test_client(), "n": 0, "code": code}


def _typed(code: str) -> str:
    """The code as a person types it from paper: lower case, a dash in the middle."""
    half = len(code) // 2
    return f"{code[:half].lower()}-{code[half:].lower()}"


def test_an_sms_that_starts_with_the_letters_reply_code_records_the_survey(lettered: dict[str, Any],
                                                                           samples: Path) -> None:
    """R4.4: every way of answering that a letter offers works, the SMS with the reply code too."""
    rt, sender = lettered["rt"], "+8613900139111"
    (thanks,) = reply(lettered, samples, f" {_typed(lettered['code'])} 9 1 是 8 师傅很耐心", sender=sender)
    assert thanks.startswith("【星河大众】感谢您的评价") and thanks.endswith("回T退订")
    with rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse)).one()
        assert (resp.channel, resp.made_by, resp.status, resp.satisfied) == ("sms", "sms", "completed", True)
        answers = {a.question_id: a.value_text or a.value_num for a in s.scalars(select(SurveyAnswer))}
        assert answers == {"overall": 9.0, "fixed_right": "yes", "on_time": "yes", "advisor": 8.0,
                           "comment": "师傅很耐心"}
        case = s.scalars(select(FollowupCase)).one()
        assert (case.state, case.outcome) == ("closed", "satisfied")
        call = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "call")).one()
        assert (call.status, call.reason) == ("cancelled", "reached")
        msg = s.scalars(select(SmsMessage).where(SmsMessage.direction == "in")).one()
        assert (msg.case_id, msg.handling) == (case.id, "reply_code")
    # the same code again: stored against the case for staff, not a second survey
    assert reply(lettered, samples, f"{lettered['code']} 3 2 2 3", sender=sender) == []
    with rt.sessions() as s:
        assert len(s.scalars(select(SurveyResponse)).all()) == 1
    assert inbound_handling(rt) == ["reply_code", "late"]


def test_a_reply_code_without_readable_answers_gets_the_way_to_write_them(lettered: dict[str, Any],
                                                                          samples: Path) -> None:
    code = lettered["code"]
    (hint,) = reply(lettered, samples, code, sender="+8613900139111")
    assert hint.startswith("【星河大众】") and f"{code} 9 是 是 9" in hint and hint.endswith("回T退订")
    (again,) = reply(lettered, samples, f"{code} 很好", sender="+8613900139111")
    assert f"{code} 9 是 是 9" in again
    with lettered["rt"].sessions() as s:
        assert s.scalars(select(SurveyResponse)).all() == []
        assert s.scalars(select(FollowupCase.state)).one() == "letter_sent"
    assert inbound_handling(lettered["rt"]) == ["code_unreadable", "code_unreadable"]
