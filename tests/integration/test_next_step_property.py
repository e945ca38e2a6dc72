"""RULES R3 "an open case always has a next step", as a property of the real engine.

Hypothesis plays random histories on a fresh SQLite database each: a few visits (mobile, landline
only, no phone, no address, delivered long ago or just now, do-not-call), then random steps —
time passing with the worker ticking at every due moment, or jumping (the worker was down: one
late tick over nights and holidays), the customer's SMS (answers, garbage, 退订/TD, 恢复), staff
marking do-not-call / no-SMS, the day's letters printed and mailed. The provider plays every call
outcome (no_answer, busy, voicemail, hung_up, invalid_number, declined, callback_requested,
answered satisfied or not), SMS delivered, answered, undelivered, and outages
(:class:`TransientError`). After every step :func:`followup.cases.next_step.cases_without_next_step`
finds no open case without a next step.
"""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import accept, make_user, run_until, visit_row
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from template_db import migrated_sqlite_url

from followup.cases.next_step import cases_without_next_step
from followup.cases.staff_actions import mark_customer
from followup.channels.base import Contact, Sent, TransientError
from followup.channels.sandbox import SandboxChannel
from followup.engine.tick import run_tick
from followup.letters import letter_batch
from followup.letters.letter_batch import build_batch
from followup.letters.mailing import mark_mailed
from followup.models import ContactAttempt, Customer, FollowupCase, LetterBatch, User, Visit
from followup.runtime import Runtime, build_runtime, sync_stores
from followup.settings import load_settings
from followup.surveys.sms_survey import Inbound, handle_inbound

#: when the visits come in: a Friday morning; the eve of the National Day week; New Year's Eve evening
STARTS = (datetime(2026, 11, 20, 2, 0, tzinfo=UTC), datetime(2026, 9, 30, 10, 0, tzinfo=UTC),
          datetime(2026, 12, 31, 11, 0, tzinfo=UTC))
SATISFIED = {"overall": "10", "fixed_right": "yes", "on_time": "yes", "advisor": "9", "comment": ""}
UNHAPPY = {"overall": "3", "fixed_right": "no", "on_time": "no", "advisor": "4", "comment": "等太久了"}
CALL_OUTCOMES = ("no_answer", "busy", "voicemail", "hung_up", "invalid_number", "declined", "callback_requested",
                 "satisfied", "unhappy")
SMS_OUTCOMES = ("silence", "satisfied", "unhappy", "undelivered")
INBOUND = ("9", "3", "是", "哈哈哈", "TD", "退订", "恢复", "HELP")
_files = itertools.count()


class ScriptedProvider:
    """The customers and the provider, as hypothesis draws them contact by contact."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        #: out of 10 sends, how many the provider fails (an outage: HTTP 503), for this whole example
        self.flaky = data.draw(st.sampled_from((0, 3, 8)), label="provider outages in 10 sends")

    def __call__(self, contact: Contact, now: datetime) -> Sent:
        pid = f"P{contact.channel[0]}{contact.attempt_id}"
        if contact.channel == "letter":
            return Sent(pid, outcome="queued")
        if self.data.draw(st.integers(min_value=0, max_value=9), label="outage?") < self.flaky:
            event("a provider outage")
            raise TransientError("HTTP 503 from provider", code="503")
        if contact.channel == "call":
            what = self.data.draw(st.sampled_from(CALL_OUTCOMES), label=f"call {contact.attempt_id}")
            if what in ("satisfied", "unhappy"):
                return Sent(pid, outcome="answered", ended_at=now,
                            answers=dict(SATISFIED if what == "satisfied" else UNHAPPY))
            return Sent(pid, outcome=what, ended_at=now)
        what = self.data.draw(st.sampled_from(SMS_OUTCOMES), label=f"sms {contact.attempt_id} ({contact.kind})")
        if what == "undelivered":
            return Sent(pid, outcome="undelivered", ended_at=now)
        answers = {} if what == "silence" else dict(SATISFIED if what == "satisfied" else UNHAPPY)
        return Sent(pid, outcome="delivered", ended_at=now, answers=answers)


customers = st.fixed_dictionaries({
    "phones": st.sampled_from(("mobile", "mobile", "landline", "both", "none")),
    "address": st.booleans(),
    "hours_ago": st.sampled_from((0, 2, 20, 30, 60, 80, 200)),  # 80 and 200: imported after the deadline
    "do_not_call": st.booleans(),
})
steps = st.one_of(
    st.tuples(st.just("run"), st.integers(min_value=10, max_value=2 * 24 * 60)),
    st.tuples(st.just("jump"), st.integers(min_value=60, max_value=5 * 24 * 60)),
    st.tuples(st.just("sms"), st.sampled_from(INBOUND)),
    st.tuples(st.just("mark"), st.sampled_from(("do_not_call", "no_sms"))),
    st.tuples(st.just("post"), st.just(0)),
)


def runtime(folder: Path, start: datetime) -> Runtime:
    url = migrated_sqlite_url(folder / f"property-{next(_files)}.db")
    rt = build_runtime(load_settings({"FOLLOWUP_ENV": "test", "DATABASE_URL": url, "FOLLOWUP_TEST_CLOCK": "1"}))
    with rt.sessions() as s:
        sync_stores(s, rt.settings)
        s.commit()
    rt.clock.set(start)  # type: ignore[attr-defined]
    return rt


def add_customers(rt: Runtime, drawn: list[dict[str, Any]]) -> list[str]:
    start = rt.clock.now()
    mobiles = []
    for i, c in enumerate(drawn):
        mobile = f"+86139001390{i:02d}" if c["phones"] in ("mobile", "both") else None
        phone = f"+86755123456{i:02d}" if c["phones"] in ("landline", "both") else None
        row = visit_row(f"RO-P{i}", customer_name=f"客户{i}", mobile=mobile, phone=phone,
                        address="深圳市南山区科技园北区松坪山路3号" if c["address"] else None,
                        plate=f"粤B1234{i}", delivered_at=start - timedelta(hours=c["hours_ago"]))
        accept(rt, row, at=start, do_not_call=c["do_not_call"])
        if mobile:
            mobiles.append(mobile)
    return mobiles


def play(rt: Runtime, channel: SandboxChannel, step: tuple[str, Any], mobiles: list[str], data: st.DataObject) -> None:
    kind, arg = step
    now = rt.clock.now()
    if kind == "run":  # the worker ticks at every due moment
        run_until(rt, channel, now + timedelta(minutes=arg), skip=("letters",))
    elif kind == "jump":  # the worker was down: one tick, late
        rt.clock.set(now + timedelta(minutes=arg))  # type: ignore[attr-defined]
        run_tick(rt, channel)
    elif kind == "sms" and mobiles:
        sender = data.draw(st.sampled_from(mobiles), label="sender")
        with rt.sessions() as s:
            handle_inbound(s, rt.settings, Inbound(f"SM{next(_files)}", sender, "+8675500000000", arg), now)
            s.commit()
    elif kind == "mark":
        with rt.sessions() as s:
            open_ids = list(s.scalars(select(FollowupCase.id).where(FollowupCase.state != "closed")
                                      .order_by(FollowupCase.id)))
            if open_ids:
                case = s.get_one(FollowupCase, data.draw(st.sampled_from(open_ids), label="marked case"))
                staff = s.scalars(select(User).where(User.username == "staff")).one()
                mark_customer(s, rt.settings, case, flag=arg, on=True, user=staff, now=now)
                s.commit()
    elif kind == "post":  # the day's letters printed, then mailed
        with rt.sessions() as s:
            build_batch(s, rt.settings, "SZ01", now.astimezone(rt.settings.stores["SZ01"].timezone).date(),
                        now=now, actor="test")
            for batch in s.scalars(select(LetterBatch).where(LetterBatch.status != "mailed")):
                mark_mailed(s, batch, now=now, actor="test")
            s.commit()


def history(rt: Runtime, case_id: int) -> str:
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        customer = s.scalars(select(Customer).join(Visit, Visit.customer_id == Customer.id)
                             .where(Visit.id == case.visit_id)).one()
        rows = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id).order_by(ContactAttempt.id))
        lines = [f"case {case_id} {case.state} rule={case.three_day_rule}/{case.breach_reason} "
                 f"flag={case.flag_reason} deadline={case.deadline_at:%m-%d %H:%M} mobile={customer.mobile} "
                 f"bad={customer.mobile_bad} phone={customer.phone} dnc={customer.do_not_call} "
                 f"no_sms={customer.no_sms or customer.sms_opted_out}"]
        lines += [f"  {a.channel}#{a.number} {a.kind} {a.status} {a.outcome} due={a.due_at} end={a.ended_at} "
                  f"reason={a.reason} err={a.error_code} retries={a.retries}" for a in rows]
        return "\n".join(lines)


@pytest.mark.slow(seconds=30)  # 25-30 s of one core here
@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(start=st.sampled_from(STARTS), drawn=st.lists(customers, min_size=1, max_size=3), script=st.lists(steps, min_size=1, max_size=8),
       data=st.data())
def test_every_open_case_keeps_a_next_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: datetime, drawn: list[dict[str, Any]],
                                           script: list[tuple[str, Any]], data: st.DataObject) -> None:
    # The batch is built and mailed by the real code; only its PDF is not drawn (WeasyPrint takes 1-2 s a
    # batch, half of this test's time; tests/letters prints letters and checks what they say).
    monkeypatch.setattr(letter_batch, "pdf_of_pages", lambda pages, *, one_page_each: (b"%PDF-", []))
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        rt = runtime(Path(folder), start)
        try:
            make_user(rt, "staff", "info_staff", at=start)
            make_user(rt, "admin", "admin", at=start)  # someone can always act on a complaint (R7)
            channel = SandboxChannel(ScriptedProvider(data))
            mobiles = add_customers(rt, drawn)
            for n, step in enumerate([("run", 0), *script]):
                play(rt, channel, step, mobiles, data)
                with rt.sessions() as s:
                    found = cases_without_next_step(s, rt.settings, rt.clock.now())
                assert not found, (f"after step {n} {step} at {rt.clock.now():%Y-%m-%d %H:%M}Z: "
                                   + "\n".join(f"{c.reason}\n{history(rt, c.case_id)}" for c in found))
            with rt.sessions() as s:
                for state, outcome in s.execute(select(FollowupCase.state, FollowupCase.outcome)):
                    event(f"a case ends {state}" + (f" {outcome}" if outcome else ""))
        finally:
            rt.dispose()
