"""Holidays and closed days through the engine (RULES R1, R2): what is sent, when, and the deadline.

The clock jumps from one due moment to the next; every assertion is about what the sandbox
recorded as sent, what the case row says, or what a customer got back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import database_url, make_settings, migrated_runtime
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, post_signed, read_sample, tick_at, twilio_env
from fakes.worker_ticks import run_due_until
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import run_tick
from followup.intake.records import VisitRow
from followup.intake.visit_upsert import accept_visit
from followup.models import Customer, FollowupCase, Store
from followup.runtime import Runtime
from followup.settings import load_settings
from followup.web import create_app

SH = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(UTC)


def wall(at: datetime) -> str:
    return at.astimezone(SH).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def closed_rt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """The committed config (skip_holidays on) with one closed day of the store's own: 2026-12-24."""
    url = database_url(backend, request, tmp_path / "test.db")
    runtime = migrated_runtime(make_settings(tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1",
                                             FOLLOWUP__stores__SZ01__policy__closed_days='["2026-12-24"]'))
    yield runtime
    runtime.dispose()


def visit(ro: str, delivered: str, *, mobile: str | None = "+8613800138000") -> VisitRow:
    return VisitRow(
        row=2, store_code="SZ01", ro_number=ro, customer_name="欧阳晓明", mobile=mobile, phone=None,
        address="深圳市南山区粤海街道科技南十二路38号", plate=None, vin=None, vehicle_model=None,
        advisor_code="SA01", advisor_name="王强", service_type="repair", delivered_at=local(delivered),
        mileage_km=None, language="zh",
    )


def deliver(rt: Runtime, row: VisitRow, now: datetime, *, do_not_call: bool = False) -> int:
    rt.clock.set(now)  # type: ignore[attr-defined]
    with rt.sessions() as s:
        store_id = s.scalar(select(Store.id).where(Store.code == "SZ01"))
        assert store_id is not None
        accepted = accept_visit(s, store_id, rt.settings.stores["SZ01"], row, source="test", actor="test", now=now)
        if do_not_call:
            s.scalars(select(Customer).where(Customer.mobile == row.mobile)).one().do_not_call = True
        s.commit()
        assert accepted.case is not None
        return accepted.case.id


def sent_until(rt: Runtime, until: datetime) -> list[tuple[str, str, str]]:
    channel = SandboxChannel(silent)  # nobody ever answers
    run_due_until(rt, lambda: run_tick(rt, channel), until, most=300)
    return [(wall(at), c.channel, c.kind) for at, c in channel.sent]


def case_row(rt: Runtime, case_id: int) -> FollowupCase:
    with rt.sessions() as s:
        return s.get_one(FollowupCase, case_id)


def test_nothing_is_sent_in_the_national_day_block_and_its_days_do_not_count(rt: Runtime) -> None:
    """2025: the block 10-01..10-08 (its Saturday and Sunday included) is skipped; the deadline moves out
    by its 8 days (D 09-30 16:00 -> 10-11 16:00), so the three calls still fit and the rule is met."""
    case_id = deliver(rt, visit("WO25093001", "2025-09-30 16:00"), local("2025-09-30 16:05"))
    assert wall(case_row(rt, case_id).deadline_at) == "2025-10-11 16:00"
    sent = sent_until(rt, local("2025-10-20 00:00"))
    assert sent[:4] == [
        ("2025-10-09 09:00", "call", "survey"),
        ("2025-10-09 14:00", "call", "survey"),
        ("2025-10-09 17:00", "call", "survey"),
        ("2025-10-09 17:00", "sms", "survey"),
    ]
    block = {date(2025, 10, 1) + timedelta(n) for n in range(8)}
    assert not [s for s in sent if date.fromisoformat(s[0][:10]) in block]
    case = case_row(rt, case_id)
    assert (case.three_day_rule, case.breach_reason) == ("met", None)


def test_the_survey_sms_of_a_do_not_call_customer_waits_for_the_end_of_the_block(rt: Runtime) -> None:
    deliver(rt, visit("WO26100201", "2026-10-02 09:00"), local("2026-10-02 10:00"), do_not_call=True)
    sent = sent_until(rt, local("2026-10-12 00:00"))
    assert sent[0] == ("2026-10-08 08:00", "sms", "survey")


def test_a_store_closed_day_is_skipped_and_moves_the_deadline(closed_rt: Runtime) -> None:
    case_id = deliver(closed_rt, visit("WO26122301", "2026-12-23 16:00"), local("2026-12-23 16:05"))
    assert wall(case_row(closed_rt, case_id).deadline_at) == "2026-12-27 16:00"
    sent = sent_until(closed_rt, local("2026-12-31 00:00"))
    assert [s for s in sent if s[0].startswith("2026-12-24")] == []
    assert sent[:3] == [("2026-12-25 09:00", "call", "survey"), ("2026-12-25 14:00", "call", "survey"),
                        ("2026-12-25 17:00", "call", "survey")]


def test_a_reimport_with_another_delivery_time_moves_the_deadline_the_same_way(closed_rt: Runtime) -> None:
    row = visit("WO26122001", "2026-12-20 16:00")
    case_id = deliver(closed_rt, row, local("2026-12-20 16:05"))
    assert wall(case_row(closed_rt, case_id).deadline_at) == "2026-12-23 16:00"  # 12-24 lies after it
    deliver(closed_rt, replace(row, delivered_at=local("2026-12-21 10:00")), local("2026-12-21 11:00"))
    assert wall(case_row(closed_rt, case_id).deadline_at) == "2026-12-25 10:00"  # 12-24 does not count


# --- R2: a reply to the customer's own message is sent at once, whatever the hour or the day --------


@pytest.fixture
def texting_on_a_closed_day(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                            emulator: TwilioEmulator) -> Iterator[Runtime]:
    url = database_url(backend, request, tmp_path / "twilio.db")
    env = twilio_env(emulator, url, FOLLOWUP__stores__SZ01__policy__closed_days='["2026-11-20"]')
    runtime = migrated_runtime(load_settings(env))
    import_visit(runtime, tmp_path, do_not_call=True)  # delivered 2026-11-19 08:35: the SMS survey at once
    tick_at(runtime, local("2026-11-19 09:00"))
    assert len(emulator.created("Messages")) == 1
    yield runtime
    runtime.dispose()


def test_a_reply_on_a_closed_day_at_night_is_sent_at_once(texting_on_a_closed_day: Runtime, samples: Path) -> None:
    rt = texting_on_a_closed_day
    rt.clock.set(local("2026-11-20 23:30"))  # type: ignore[attr-defined]  # the store's closed day, after 21:00
    client = create_app(runtime=rt).test_client()
    params = {**read_sample(samples, "sms_inbound_reply.txt"), "Body": "9", "From": "+8613800138000",
              "MessageSid": "SM" + "1" * 32, "SmsSid": "SM" + "1" * 32, "SmsMessageSid": "SM" + "1" * 32}
    code, twiml = post_signed(client, f"{PUBLIC}/twilio/sms/inbound", params)
    replies = re.findall(r"<Message>(.*?)</Message>", twiml, re.S)
    assert code == 200 and len(replies) == 1 and "【星河大众】" in replies[0]  # the next question, now
