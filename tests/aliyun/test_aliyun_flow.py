"""Issue #18's "Done when", end to end on the Alibaba Cloud SMS emulator (CONTRACT §10): calls by
the sandbox (nobody answers), SMS by Alibaba Cloud through the official client, receipts and
replies pushed to /aliyun/sms/{report,up}/<token> as Alibaba Cloud pushes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import database_url, migrated_runtime
from fakes.aliyun_emulator import AliyunEmulator, Pusher, SentSms, reply, report
from fakes.aliyun_env import TOKEN, aliyun_env, emulator_for
from fakes.twilio_env import import_visit
from fakes.worker_ticks import next_due
from flask.testing import FlaskClient
from sqlalchemy import func, select

from followup.channels.base import Channel
from followup.channels.registry import build_channel
from followup.engine.provider_callbacks import apply_kept
from followup.engine.tick import run_tick
from followup.models import AuditEntry, ContactAttempt, Customer, FollowupCase, SmsMessage, SurveyResponse
from followup.runtime import Runtime
from followup.settings import load_settings
from followup.surveys.sms_survey import ask, hint
from followup.web import create_app

MOBILE, PHONE = "+8613800138000", "13800138000"


@dataclass
class World:
    rt: Runtime
    emu: AliyunEmulator
    channel: Channel
    client: FlaskClient
    push: Pusher

    def tick(self) -> dict[str, Any]:
        return run_tick(self.rt, self.channel)

    def tick_until(self, done: Any, most: int = 40) -> None:
        """Jump the clock from one due moment to the next, ticking, until ``done()``."""
        for _ in range(most):
            if done():
                return
            at = next_due(self.rt)
            assert at is not None, "nothing due any more"
            if at > self.rt.clock.now():
                self.rt.clock.set(at)  # type: ignore[attr-defined]
            self.tick()
        raise AssertionError("not done after the ticks allowed")

    def sms_attempts(self) -> list[ContactAttempt]:
        """The survey SMS attempts (not the reminder R4.3 plans after one went out)."""
        with self.rt.sessions() as s:
            return list(s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "sms",
                                                               ContactAttempt.kind == "survey")
                                  .order_by(ContactAttempt.id)))


@pytest.fixture
def world(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    url = database_url(backend, request, tmp_path / "aliyun.db")
    base = load_settings(aliyun_env("http://127.0.0.1:1", tmp_path))
    emu = emulator_for(base)
    endpoint = emu.start()
    rt = migrated_runtime(load_settings(aliyun_env(endpoint, tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1")))
    client = create_app(runtime=rt).test_client()

    def post(path: str, body: bytes) -> tuple[int, bytes]:
        resp = client.post(path, data=body, content_type="application/json")
        return resp.status_code, resp.get_data()

    pusher = Pusher(post, f"/aliyun/sms/report/{TOKEN}", f"/aliyun/sms/up/{TOKEN}")
    yield World(rt, emu, build_channel(rt.settings), client, pusher)
    emu.stop()
    rt.dispose()


def template_of(w: World, sent: SentSms) -> str:
    return next(t.kind for t in w.rt.settings.aliyun.templates.values() if t.code == sent.template_code)


def test_three_unanswered_calls_then_the_sms_survey_answered_by_pushed_replies(world: World, tmp_path: Path) -> None:
    w = world
    import_visit(w.rt, tmp_path, service_type="repair")
    w.tick_until(lambda: w.emu.sent)
    with w.rt.sessions() as s:
        calls = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "call")).all()
        assert [(a.number, a.outcome) for a in calls] == [(1, "no_answer"), (2, "no_answer"), (3, "no_answer")]
        case = s.scalars(select(FollowupCase)).one()
        assert case.state == "sms_survey"
    [first] = w.emu.sent
    questions = w.rt.settings.survey.questions_for("repair")
    assert template_of(w, first) == "survey" and first.phone == PHONE and first.sign_name == "星河大众"
    assert first.params == {"customer_name": "欧阳晓明", "visit_date": "11月19日", "service_label": "维修",
                            "question": ask(questions[0], "zh"), "hint": hint(questions[0], "zh")}
    [sms] = w.sms_attempts()
    assert (sms.made_by, sms.provider_id, first.out_id) == ("sms", first.biz_id, str(sms.id))

    answers = {"scale10": "9分", "yesno": "是", "text": "服务很好"}
    items = [reply(PHONE, answers[q.kind], 9000 + n if n % 2 else str(9000 + n), when=f"2026-11-20 10:0{n}:00")
             for n, q in enumerate(questions)]
    assert w.push.replies(items[:2]) == 200  # two replies in one push (a number and a string sequence_id)
    assert w.push.replies([items[1], *items[2:4]]) == 200  # the second one pushed again, with the next two
    assert w.push.replies(items[4:]) == 200
    assert all(a == (200, {"code": 0, "msg": "接收成功"}) for a in w.push.answers)

    with w.rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse)).one()
        assert resp.status == "completed" and resp.channel == "sms"
        incoming = s.scalars(select(SmsMessage.handling).where(SmsMessage.direction == "in")).all()
        assert incoming == ["answer"] * len(questions)  # the duplicate was stored and handled once
    kinds = [template_of(w, m) for m in w.emu.sent]
    assert kinds == ["survey"] + ["question"] * (len(questions) - 1) + ["thanks"]
    assert w.emu.sent[1].params == {"question": ask(questions[1], "zh"), "hint": hint(questions[1], "zh")}
    assert w.emu.problems == []


def test_an_undelivered_receipt_moves_the_case_to_the_letter_once(world: World, tmp_path: Path) -> None:
    w = world
    import_visit(w.rt, tmp_path, do_not_call=True)  # R3: straight to the SMS
    w.tick()
    [sent] = w.emu.sent
    failed = report(sent, success=False, err_code="MOBILE_NOT_ON_SERVICE")
    assert w.push.reports([failed, dict(failed, sign_name="星河大众")]) == 200  # twice in one push
    assert w.push.reports([failed]) == 200  # and pushed again later
    w.tick()
    with w.rt.sessions() as s:
        [sms] = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "sms",
                                                       ContactAttempt.kind == "survey")).all()
        assert (sms.outcome, sms.error_code) == ("undelivered", "MOBILE_NOT_ON_SERVICE")
        letters = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "letter")).all()
        assert len(letters) == 1 and s.scalars(select(FollowupCase.state)).one() == "letter_queued"
        outcomes = s.scalars(select(AuditEntry).where(AuditEntry.action == "sms.outcome")).all()
        assert [o.detail["outcome"] for o in outcomes] == ["undelivered"]  # state changed once


def test_a_delivered_receipt_is_recorded_and_never_goes_backwards(world: World, tmp_path: Path) -> None:
    w = world
    import_visit(w.rt, tmp_path, do_not_call=True)
    w.tick()
    [sent] = w.emu.sent
    assert w.push.reports([report(sent)]) == 200
    assert w.sms_attempts()[0].outcome == "delivered"
    assert w.push.reports([report(sent, success=False, err_code="LATE")]) == 200  # never backwards
    assert w.sms_attempts()[0].outcome == "delivered"
    with w.rt.sessions() as s:
        copy = s.scalars(select(SmsMessage).where(SmsMessage.provider_id == sent.biz_id)).one()
        assert (copy.status, copy.from_number, copy.to_number) == ("delivered", "aliyun", MOBILE)


def test_a_receipt_before_its_bizid_is_saved_is_kept_and_applied_once_it_is(world: World, tmp_path: Path) -> None:
    """A receipt can overtake the commit of the BizId (or a worker died in between): kept, never dropped."""
    w = world
    import_visit(w.rt, tmp_path, do_not_call=True)
    w.tick()
    [sent] = w.emu.sent
    early = SentSms(sent.phone, sent.sign_name, sent.template_code, sent.params, sent.out_id, "777777777777^0")
    assert w.push.reports([report(early, success=False, err_code="MOBILE_NOT_ON_SERVICE")]) == 200
    assert w.sms_attempts()[0].outcome != "undelivered"
    with w.rt.sessions() as s:
        s.get_one(ContactAttempt, int(sent.out_id or 0)).provider_id = early.biz_id  # as the reconciler finds it
        s.commit()
        assert apply_kept(s, w.rt.settings, w.rt.clock.now()) == 1
        s.commit()
    assert (w.sms_attempts()[0].outcome, w.sms_attempts()[0].error_code) == ("undelivered", "MOBILE_NOT_ON_SERVICE")


def test_business_limit_control_is_retried_later_without_costing_an_attempt(world: World, tmp_path: Path) -> None:
    w = world
    import_visit(w.rt, tmp_path, do_not_call=True)
    w.emu.fail_next("isv.BUSINESS_LIMIT_CONTROL")
    w.tick()
    [a] = w.sms_attempts()
    assert (a.status, a.retries, a.error_code, a.outcome) == ("planned", 1, "isv.BUSINESS_LIMIT_CONTROL", None)
    assert a.due_at is not None and a.due_at > w.rt.clock.now() and w.emu.sent == []
    w.rt.clock.set(a.due_at)  # type: ignore[attr-defined]
    w.tick()
    [a] = w.sms_attempts()
    assert a.status == "done" and len(w.emu.sent) == 1 and w.emu.sent[0].out_id == str(a.id)


def test_opt_out_r_and_help_and_resume_through_the_shared_conversation(world: World, tmp_path: Path) -> None:
    w = world
    import_visit(w.rt, tmp_path, do_not_call=True)
    w.tick()
    assert w.push.replies([reply(PHONE, "帮助", 1), reply(PHONE, " R ", 2)]) == 200
    assert w.push.replies([reply(PHONE, "10", 3)]) == 200  # opted out: not answered, not even HELP
    assert w.push.replies([reply(PHONE, "恢复", 4)]) == 200
    kinds = [template_of(w, m) for m in w.emu.sent]
    assert kinds == ["survey", "help", "opt_out_confirmation", "optin"]
    assert w.emu.sent[1].params == {"store_name": "深圳星河大众4S店", "store_phone": "0755-86001234"}
    with w.rt.sessions() as s:
        assert s.scalars(select(Customer.sms_opted_out)).one() is False
        handled = s.scalars(select(SmsMessage.handling).where(SmsMessage.direction == "in")
                            .order_by(SmsMessage.id)).all()
        assert handled == ["help", "optout", "late", "optin"]
        answers = s.scalars(select(SmsMessage).where(SmsMessage.direction == "out", SmsMessage.handling == "reply")).all()
        assert {m.status for m in answers} == {"sent"}
        assert {m.provider_id for m in answers} == {m.biz_id for m in w.emu.sent[1:]}


def test_the_connectivity_check_and_a_wrong_token_or_body(world: World, tmp_path: Path) -> None:
    w = world
    import_visit(w.rt, tmp_path, do_not_call=True)
    w.tick()
    [sent] = w.emu.sent
    for kind in ("report", "up"):
        ok = w.client.get(f"/aliyun/sms/{kind}/{TOKEN}")
        assert ok.status_code == 200 and ok.get_json() == {"code": 0, "msg": "成功"}
        assert w.client.get(f"/aliyun/sms/{kind}/{TOKEN[:-1]}x").status_code == 404
        bad = w.client.post(f"/aliyun/sms/{kind}/{TOKEN}", data=b'{"not": "an array"}',
                            content_type="application/json")
        assert bad.status_code == 400

    def state() -> tuple[object, ...]:
        with w.rt.sessions() as s:
            return (s.scalar(select(func.count()).select_from(SmsMessage)), w.sms_attempts()[0].outcome,
                    s.scalars(select(FollowupCase.state)).one(), s.scalar(select(func.count()).select_from(AuditEntry)))

    before = state()
    for path, items in ((f"/aliyun/sms/report/{'x' * len(TOKEN)}", [report(sent, success=False)]),
                        (f"/aliyun/sms/up/{TOKEN.upper()}", [reply(PHONE, "T", 1)]),
                        ("/aliyun/sms/up/", [reply(PHONE, "T", 1)])):
        resp = w.client.post(path, data=json.dumps(items), content_type="application/json")
        assert resp.status_code == 404
    assert state() == before and len(w.emu.sent) == 1


def test_reply_ids_for_number_and_string_sequence_ids() -> None:
    from followup.engine.aliyun_pushes import reply_id

    assert reply_id(reply(PHONE, "9", 123)) == reply_id(reply(PHONE, "9", "123")) == f"aliyun-up:{PHONE}:123"
    no_seq = {"phone_number": PHONE, "content": "9", "send_time": "2026-11-20 10:00:00"}
    assert reply_id(no_seq) == reply_id(dict(no_seq)) != reply_id(dict(no_seq, content="8"))
