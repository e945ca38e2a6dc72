"""End to end in Twilio mode, through the emulator and signed callbacks (issue #4 "done when").

A visit is imported, three calls ring out unanswered (status callbacks ``no-answer``), the SMS
survey starts with the first question, the customer replies (full-width digits, Chinese words,
one unreadable emoji) and the survey is stored with its R5 score. Every request the real
``twilio`` library made passed the spec check; an unsigned callback changed nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from factories import run_until
from fakes.twilio_emulator import Recorded, TwilioEmulator
from fakes.twilio_env import FROM_NUMBER, PUBLIC, post_signed, read_sample
from flask.testing import FlaskClient
from sqlalchemy import select

from followup.channels.registry import build_channel
from followup.intake.importer import import_visits
from followup.models import (
    ContactAttempt,
    FollowupCase,
    SmsMessage,
    SurveyAnswer,
    SurveyResponse,
    WebhookEvent,
)
from followup.runtime import Runtime
from followup.web import create_app

CSV_HEADER = "store_code,ro_number,customer_name,mobile,phone,address,advisor_code,advisor_name,service_type,delivered_at\n"
VISIT = "SZ01,WO26119001,欧阳晓明,+86 138 0013 8000,,深圳市南山区粤海街道科技南十二路38号,SA01,王强,repair,2026-11-19T08:35:00+08:00\n"


class Customer:
    """Plays Twilio and the customer: answers each new call or SMS with its signed callbacks."""

    def __init__(self, client: FlaskClient, emu: TwilioEmulator, samples: Path) -> None:
        self.client, self.emulator, self.samples = client, emu, samples
        self.calls_seen = self.sms_seen = 0

    def answer(self) -> None:
        """What Twilio and the customer do after a tick: the new calls ring unanswered, the SMS arrive."""
        self.ring_unanswered()
        self.deliver_sms()

    def ring_unanswered(self) -> int:
        """Every new call rings and is not answered: ``ringing`` then ``no-answer``."""
        calls = self.emulator.created("Calls")
        for call in calls[self.calls_seen:]:
            sid = self._sid_of(call)
            base = read_sample(self.samples, "call_status_no_answer.txt")
            for status in ("initiated", "ringing", "no-answer"):
                params = {**base, "CallSid": sid, "CallStatus": status, "To": call.one("To")}
                code, _ = post_signed(self.client, call.one("StatusCallback"), params)
                assert code == 204
        new = len(calls) - self.calls_seen
        self.calls_seen = len(calls)
        return new

    def deliver_sms(self) -> None:
        msgs = self.emulator.created("Messages")
        for msg in msgs[self.sms_seen:]:
            params = {**read_sample(self.samples, "sms_status_delivered.txt"), "MessageSid": self._sid_of(msg),
                      "SmsSid": self._sid_of(msg)}
            assert post_signed(self.client, msg.one("StatusCallback"), params)[0] == 204
        self.sms_seen = len(msgs)

    def reply(self, body: str, n: int) -> str:
        params = {**read_sample(self.samples, "sms_inbound_reply.txt"), "Body": body,
                  "MessageSid": f"SM{n:032x}", "SmsSid": f"SM{n:032x}", "SmsMessageSid": f"SM{n:032x}"}
        code, twiml = post_signed(self.client, f"{PUBLIC}/twilio/sms/inbound", params)
        assert code == 200
        return twiml

    @staticmethod
    def _sid_of(rec: Recorded) -> str:
        assert rec.sid is not None
        return rec.sid


def messages(twiml: str) -> list[str]:
    return re.findall(r"<Message>(.*?)</Message>", twiml, re.S)


def test_import_three_unanswered_calls_then_sms_survey_scored(
    twilio_rt: Runtime, emulator: TwilioEmulator, samples: Path, tmp_path: Path
) -> None:
    rt = twilio_rt
    csv = tmp_path / "visits.csv"
    csv.write_text(CSV_HEADER + VISIT, encoding="utf-8")
    rt.clock.set(datetime(2026, 11, 19, 2, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    report = import_visits(csv, settings=rt.settings, sessions=rt.sessions, clock=rt.clock)
    assert (report.exit_code, report.cases_opened) == (0, 1)
    channel = build_channel(rt.settings)
    client = create_app(runtime=rt).test_client()
    customer = Customer(client, emulator, samples)

    # an unsigned callback for a call that does not exist yet: refused before anything is read
    assert client.post("/twilio/voice/status?attempt=1", data={"CallStatus": "completed"}).status_code == 403

    run_until(rt, channel, datetime(2026, 11, 21, 12, 0, tzinfo=UTC), after_tick=customer.answer, most=200)
    calls = emulator.created("Calls")
    assert len(calls) == 3
    for call in calls:
        assert call.one("To") == "+8613800138000" and call.one("From") == FROM_NUMBER
        assert call.one("Url").startswith(f"{PUBLIC}/twilio/voice/answer?attempt=")
        assert call.one("StatusCallback").startswith(f"{PUBLIC}/twilio/voice/status?attempt=")
        assert call.params["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
        assert call.one("MachineDetection") == "Enable" and call.one("Timeout") == "30"
    sms = emulator.created("Messages")
    assert len(sms) == 1
    first = sms[0].one("Body")
    assert first.startswith("【星河大众】欧阳晓明您好") and first.endswith("回T退订")
    assert "请您为本次服务的总体满意度打分。请回复0-10的数字（10分为非常满意）。" in first
    assert sms[0].one("StatusCallback").startswith(f"{PUBLIC}/twilio/sms/status?attempt=")
    with rt.sessions() as s:
        outcomes = s.scalars(select(ContactAttempt.outcome).where(ContactAttempt.channel == "call")).all()
        assert outcomes == ["no_answer"] * 3
        assert s.scalar(select(FollowupCase.state)) == "sms_survey"

    rt.clock.set(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    asked = [messages(customer.reply(body, n)) for n, body in enumerate(["１０", "是", "好", "😀", "九分", "洗车很干净"], 1)]
    assert "请问您的车辆问题是否一次修好？请回复“是”或“否”。" in asked[0][0]  # a repair visit (R5)
    assert "请问我们是否按约定的时间为您交车？" in asked[1][0]
    assert "请您为服务顾问的服务打分。" in asked[2][0]
    assert asked[3][0].startswith("【星河大众】抱歉，没能看懂您的回复。请您为服务顾问的服务打分。")
    assert "其他意见或建议" in asked[4][0]
    assert "感谢您的评价" in asked[5][0]
    assert all(m[0].startswith("【星河大众】") and m[0].endswith("回T退订") for m in asked)

    with rt.sessions() as s:
        case = s.scalars(select(FollowupCase)).one()
        assert (case.state, case.outcome, case.three_day_rule) == ("closed", "satisfied", "met")
        resp = s.scalars(select(SurveyResponse).where(SurveyResponse.status == "completed")).one()
        assert (resp.channel, resp.score, resp.satisfied) == ("sms", 98.0, True)  # 100*.4 + 100*.2*2 + 90*.2
        answers = {a.question_id: (a.value_num, a.value_text) for a in s.scalars(select(SurveyAnswer))}
        assert answers == {"overall": (10.0, None), "fixed_right": (1.0, "yes"), "on_time": (1.0, "yes"),
                           "advisor": (9.0, None), "comment": (None, "洗车很干净")}
        inbound = s.scalars(select(SmsMessage.handling).where(SmsMessage.direction == "in")).all()
        assert inbound == ["answer", "answer", "answer", "unreadable", "answer", "answer"]
        types = s.scalars(select(WebhookEvent.type)).all()
        assert types.count("call.completed") == 3 and types.count("sms.received") == 6
        assert "survey.completed" in types and "case.fallback" in types
        # the reminder that was planned is cancelled: the customer answered
        assert not s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).all()
    assert emulator.problems == []
    assert all(r.status == 201 for r in emulator.requests)
