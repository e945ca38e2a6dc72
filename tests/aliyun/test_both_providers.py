"""One behaviour, two SMS providers (#18): the same scenarios run over Twilio (its emulator, signed
inbound SMS answered as TwiML, status callbacks) and over Alibaba Cloud (its emulator, SmsUp and
SmsReport pushes, every answer a new SendSms). Only the adapters differ; what the customer's
replies do to the case, and how many answers they get, must not."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from conftest import database_url, migrated_runtime
from fakes.aliyun_emulator import AliyunEmulator, reply, report
from fakes.aliyun_env import TOKEN, aliyun_env, emulator_for
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, post_signed, read_sample, twilio_env
from flask.testing import FlaskClient
from sqlalchemy import select

from followup.channels.base import Channel
from followup.channels.registry import build_channel
from followup.engine.tick import run_tick
from followup.models import ContactAttempt, Customer, FollowupCase, SmsMessage, SurveyResponse
from followup.runtime import Runtime
from followup.settings import load_settings
from followup.web import create_app

MOBILE = "+8613800138000"


class Adapter(Protocol):
    rt: Runtime

    def tick(self) -> None: ...
    def texted(self) -> int: ...
    def reply(self, text: str) -> None: ...
    def undelivered(self) -> None: ...


@dataclass
class TwilioAdapter:
    rt: Runtime
    emu: TwilioEmulator
    client: FlaskClient
    samples: Path
    channel: Channel
    answers: list[str] = field(default_factory=list)
    n: int = 0

    def tick(self) -> None:
        run_tick(self.rt, self.channel)

    def texted(self) -> int:
        return len(self.emu.created("Messages")) + len(self.answers)

    def reply(self, text: str) -> None:
        self.n += 1
        sid = f"SM{self.n:032x}"
        params = {**read_sample(self.samples, "sms_inbound_reply.txt"), "Body": text, "From": MOBILE,
                  "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}
        code, twiml = post_signed(self.client, f"{PUBLIC}/twilio/sms/inbound", params)
        assert code == 200
        self.answers += re.findall(r"<Message>(.*?)</Message>", twiml, re.S)

    def undelivered(self) -> None:
        (sms,) = self.emu.created("Messages")
        params = {**read_sample(self.samples, "sms_status_undelivered.txt"), "MessageSid": sms.sid, "SmsSid": sms.sid}
        assert post_signed(self.client, sms.one("StatusCallback"), params)[0] == 204


@dataclass
class AliyunAdapter:
    rt: Runtime
    emu: AliyunEmulator
    client: FlaskClient
    channel: Channel
    seq: int = 0

    def tick(self) -> None:
        run_tick(self.rt, self.channel)

    def texted(self) -> int:
        return len(self.emu.sent)

    def _push(self, kind: str, items: list[dict[str, object]]) -> None:
        resp = self.client.post(f"/aliyun/sms/{kind}/{TOKEN}", data=json.dumps(items, ensure_ascii=False),
                                content_type="application/json")
        assert resp.status_code == 200 and resp.get_json() == {"code": 0, "msg": "接收成功"}

    def reply(self, text: str) -> None:
        self.seq += 1
        self._push("up", [reply(MOBILE[3:], text, self.seq, when=f"2026-11-19 09:{self.seq:02d}:00")])

    def undelivered(self) -> None:
        (sms,) = self.emu.sent[:1]
        self._push("report", [report(sms, success=False, err_code="MOBILE_NOT_ON_SERVICE")])


@pytest.fixture(params=["twilio", "aliyun"])
def provider(request: pytest.FixtureRequest, tmp_path: Path, samples: Path) -> Iterator[Adapter]:
    url = database_url("sqlite", request, tmp_path / "both.db")
    if request.param == "twilio":
        temu = TwilioEmulator("ACe48d698e99f0ad6a1c9c3e7f6ce05ea7", "f0e1d2c3b4a5968778695a4b3c2d1e0f").start()
        rt = migrated_runtime(load_settings(twilio_env(temu, url)))
        yield TwilioAdapter(rt, temu, create_app(runtime=rt).test_client(), samples, build_channel(rt.settings))
        temu.stop()
    else:
        aemu = emulator_for(load_settings(aliyun_env("http://127.0.0.1:1", tmp_path)))
        endpoint = aemu.start()
        rt = migrated_runtime(load_settings(aliyun_env(endpoint, tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1")))
        yield AliyunAdapter(rt, aemu, create_app(runtime=rt).test_client(), build_channel(rt.settings))
        assert aemu.problems == []
        aemu.stop()
    rt.dispose()


def handled(rt: Runtime) -> list[str | None]:
    with rt.sessions() as s:
        return list(s.scalars(select(SmsMessage.handling).where(SmsMessage.direction == "in").order_by(SmsMessage.id)))


def test_replies_answer_the_survey_question_by_question(provider: Adapter, tmp_path: Path) -> None:
    import_visit(provider.rt, tmp_path, mobile=MOBILE, do_not_call=True, service_type="maintenance")
    provider.tick()
    assert provider.texted() == 1
    questions = provider.rt.settings.survey.questions_for("maintenance")
    words = {"scale10": "十分", "yesno": "准时", "text": "无"}
    for q in questions:
        provider.reply(words[q.kind])
    assert handled(provider.rt) == ["answer"] * len(questions)
    assert provider.texted() == 1 + len(questions)  # each next question, then the thanks
    with provider.rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse)).one()
        assert resp.status == "completed" and resp.score == 100.0


def test_an_unreadable_reply_is_asked_again_then_two_make_it_incomplete(provider: Adapter, tmp_path: Path) -> None:
    import_visit(provider.rt, tmp_path, mobile=MOBILE, do_not_call=True)
    provider.tick()
    provider.reply("😀")
    provider.reply("???")
    assert handled(provider.rt) == ["unreadable", "unreadable"] and provider.texted() == 3
    with provider.rt.sessions() as s:
        assert s.scalars(select(SurveyResponse.status)).one() == "incomplete"
        assert s.scalars(select(FollowupCase.flagged)).one() is True


def test_r_opts_out_then_nothing_until_hui_fu(provider: Adapter, tmp_path: Path) -> None:
    import_visit(provider.rt, tmp_path, mobile=MOBILE, do_not_call=True)
    provider.tick()
    provider.reply("R")
    provider.reply("帮助")
    provider.reply("9")
    assert provider.texted() == 2  # the survey and the one confirmation: not even HELP after it
    provider.reply("恢复")
    assert provider.texted() == 3
    assert handled(provider.rt) == ["optout", "help", "late", "optin"]
    with provider.rt.sessions() as s:
        assert s.scalars(select(Customer.sms_opted_out)).one() is False


def test_an_undelivered_sms_moves_the_case_to_the_letter(provider: Adapter, tmp_path: Path) -> None:
    import_visit(provider.rt, tmp_path, mobile=MOBILE, do_not_call=True)
    provider.tick()
    provider.undelivered()
    provider.undelivered()  # the same failure reported again changes nothing more
    provider.tick()
    with provider.rt.sessions() as s:
        sms = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "sms", ContactAttempt.kind == "survey")).one()
        assert sms.outcome == "undelivered"
        assert [a.channel for a in s.scalars(select(ContactAttempt).where(ContactAttempt.status != "cancelled",
                                                                             ContactAttempt.channel == "letter"))] == ["letter"]
        assert s.scalars(select(FollowupCase.state)).one() == "letter_queued"
