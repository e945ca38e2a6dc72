"""isv.AMOUNT_NOT_ENOUGH on Alibaba Cloud SMS (#18, RULES R3): the store's SMS channel pauses, no
customer loses anything, and after the resume the waiting SMS go out in due order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import database_url, migrated_runtime
from fakes.aliyun_emulator import AliyunEmulator
from fakes.aliyun_env import aliyun_env, emulator_for
from fakes.twilio_env import import_visit
from sqlalchemy import select

from followup.channels.registry import build_channel
from followup.engine.pauses import open_pauses, resume
from followup.engine.tick import run_tick
from followup.models import ContactAttempt, FollowupCase
from followup.runtime import Runtime
from followup.settings import load_settings

MOBILES = ("+8613800138001", "+8613800138002", "+8613800138003")


@pytest.fixture
def paused_world(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Runtime, AliyunEmulator]]:
    url = database_url(backend, request, tmp_path / "aliyun.db")
    emu = emulator_for(load_settings(aliyun_env("http://127.0.0.1:1", tmp_path)))
    endpoint = emu.start()
    rt = migrated_runtime(load_settings(aliyun_env(endpoint, tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1")))
    yield rt, emu
    emu.stop()
    rt.dispose()


def sms_rows(rt: Runtime) -> list[ContactAttempt]:
    with rt.sessions() as s:
        return list(s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "sms",
                                                           ContactAttempt.kind == "survey")
                              .order_by(ContactAttempt.due_at, ContactAttempt.id)))


def test_amount_not_enough_pauses_the_channel_and_the_resume_sends_in_due_order(
        paused_world: tuple[Runtime, AliyunEmulator], tmp_path: Path) -> None:
    rt, emu = paused_world
    for n, mobile in enumerate(MOBILES):
        import_visit(rt, tmp_path, ro=f"WO2611900{n}", mobile=mobile, do_not_call=True)  # R3: straight to SMS
    channel = build_channel(rt.settings)
    emu.fail_next("isv.AMOUNT_NOT_ENOUGH")
    run_tick(rt, channel)  # plans the three survey SMS and sends the first: refused for the balance
    assert emu.sent == [] and emu.requests == 1  # one refusal; the others never tried while paused
    rows = sms_rows(rt)
    before = [(a.id, a.due_at) for a in rows]
    assert len(rows) == 3
    # nothing consumed: still due now (not moved later like a retry), no retry, no outcome, never started
    assert all(a.due_at is not None and a.due_at <= rt.clock.now() for a in rows)
    assert all((a.status, a.retries, a.outcome, a.started_at) == ("planned", 0, None, None) for a in rows)
    with rt.sessions() as s:
        [pause] = open_pauses(s)
        assert (pause.store_code, pause.channel, pause.code) == ("SZ01", "sms", "isv.AMOUNT_NOT_ENOUGH")
        assert not any(c.flagged for c in s.scalars(select(FollowupCase)))
        assert {c.state for c in s.scalars(select(FollowupCase))} != {"closed"}
    rt.clock.set(rt.clock.now().replace(minute=30))  # type: ignore[attr-defined]
    run_tick(rt, channel)
    assert emu.requests == 1  # still paused: nothing asked of the provider
    assert [(a.id, a.due_at) for a in sms_rows(rt)] == before

    with rt.sessions() as s:
        resume(s, "SZ01", "sms", "admin", rt.clock.now())
        s.commit()
    run_tick(rt, channel)
    assert [m.out_id for m in emu.sent] == [str(i) for i, _ in before]  # in due order
    assert [m.phone for m in emu.sent] == [m[3:] for m in MOBILES]
    assert all(a.status == "done" and a.provider_id for a in sms_rows(rt))
    assert emu.problems == []


def test_an_account_error_answering_a_reply_pauses_the_stores_sms_too(
        paused_world: tuple[Runtime, AliyunEmulator], tmp_path: Path) -> None:
    from fakes.aliyun_env import TOKEN

    from followup.models import SmsMessage
    from followup.web import create_app

    rt, emu = paused_world
    import_visit(rt, tmp_path, mobile=MOBILES[0], do_not_call=True)
    run_tick(rt, build_channel(rt.settings))
    assert len(emu.sent) == 1
    client = create_app(runtime=rt).test_client()
    emu.fail_next("isv.SMS_TEMPLATE_ILLEGAL")
    items = f'[{{"phone_number": "{MOBILES[0][3:]}", "content": "9", "send_time": "2026-11-19 09:01:00", ' \
            '"dest_code": "1", "sequence_id": 5}]'
    resp = client.post(f"/aliyun/sms/up/{TOKEN}", data=items.encode(), content_type="application/json")
    assert resp.status_code == 200 and resp.get_json() == {"code": 0, "msg": "接收成功"}  # stored all the same
    with rt.sessions() as s:
        [pause] = open_pauses(s)
        assert (pause.channel, pause.code) == ("sms", "isv.SMS_TEMPLATE_ILLEGAL")
        answer = s.scalars(select(SmsMessage).where(SmsMessage.handling == "reply")).one()
        assert answer.status == "failed" and answer.provider_id is None
        assert s.scalars(select(SmsMessage.handling).where(SmsMessage.direction == "in")).one() == "answer"
    assert len(emu.sent) == 1
