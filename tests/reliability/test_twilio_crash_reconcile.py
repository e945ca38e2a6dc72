"""Fault 1 of issue #10: the worker is killed (SIGKILL) after Twilio accepted a call or an SMS and
before it committed the SID. On restart the ``dispatching`` row is reconciled against Twilio's
own list of calls / messages: never a second call, never a second SMS.

Real processes: ``followup tick`` is started against the loopback Twilio emulator, which creates
the call (or message) and then holds its answer; the test waits until Twilio has accepted it,
kills the process with ``kill -9``, lets its wall-clock lease run out and starts ``followup tick``
again. Status callbacks that Twilio sends in between (for a SID no row has yet) are kept by the
web app and applied after the reconciliation. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, post_signed, twilio_env
from sqlalchemy import select

from followup.models import ContactAttempt, SmsMessage, SurveyResponse, TwilioCallback
from followup.runtime import Runtime
from followup.web import create_app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FOLLOWUP = str(Path(sys.executable).parent / "followup")
LEASE = 2.0
CALL_AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
SMS_AT = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)


def tick_process(rt: Runtime, emu: TwilioEmulator) -> subprocess.Popen[str]:
    """``followup tick`` in its own process, on the test's database and clock, aimed at the emulator."""
    env = {**os.environ, **twilio_env(emu, rt.settings.database_url, FOLLOWUP_LEASE_SECONDS=str(LEASE),
                                       FOLLOWUP__twilio__request_timeout="60")}
    return subprocess.Popen([FOLLOWUP, "tick"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def kill_after_twilio_accepted(rt: Runtime, emu: TwilioEmulator) -> None:
    emu.hold_next(after_create=True)  # Twilio creates it, then its answer never reaches the worker
    victim = tick_process(rt, emu)
    try:
        assert emu.holding.wait(60), "the worker never reached Twilio"
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
    assert victim.returncode == -signal.SIGKILL
    emu.release()


def restart(rt: Runtime, emu: TwilioEmulator) -> dict[str, object]:
    time.sleep(LEASE + 0.5)  # the dead worker's wall-clock lease runs out
    proc = tick_process(rt, emu)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


def attempts(rt: Runtime, channel: str) -> list[ContactAttempt]:
    with rt.sessions() as s:
        return list(s.scalars(select(ContactAttempt).where(ContactAttempt.channel == channel)
                              .order_by(ContactAttempt.id)))


def test_a_call_twilio_accepted_before_the_worker_died_is_reconciled_not_made_again(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path)
    twilio_rt.clock.set(CALL_AT)  # type: ignore[attr-defined]
    emulator.clock = lambda: CALL_AT
    kill_after_twilio_accepted(twilio_rt, emulator)
    (call,) = emulator.created("Calls")
    (a,) = attempts(twilio_rt, "call")
    assert (a.status, a.provider_id) == ("dispatching", None)  # the crash window

    # Twilio goes on with the call and calls back while no row has its SID: kept, not dropped
    client = create_app(runtime=twilio_rt).test_client()
    url = call.one("StatusCallback")
    assert url == f"{PUBLIC}/twilio/voice/status?attempt={a.id}"
    base = {"AccountSid": call.account or "", "CallSid": call.sid or "", "To": call.one("To"),
            "From": call.one("From"), "Direction": "outbound-api"}
    for status in ("initiated", "ringing", "no-answer"):
        code, _ = post_signed(client, url, {**base, "CallStatus": status, "CallbackSource": "call-progress-events"})
        assert code == 204
    with twilio_rt.sessions() as s:
        kept = s.scalars(select(TwilioCallback).where(TwilioCallback.sid == call.sid)).all()
        assert {(k.status, k.pending, k.attempt_id) for k in kept} == {
            ("initiated", True, a.id), ("ringing", True, a.id), ("no-answer", True, a.id)}

    counts = restart(twilio_rt, emulator)
    assert counts["reconciled"] == 1 and counts["reclaimed"] == 0
    assert counts["callbacks_applied"] == 3
    assert len(emulator.created("Calls")) == 1, "the customer was called a second time"
    first = attempts(twilio_rt, "call")[0]
    assert (first.status, first.outcome, first.provider_id) == ("done", "no_answer", call.sid)
    assert first.made_by == "ivr"
    with twilio_rt.sessions() as s:
        assert s.scalars(select(TwilioCallback.pending).where(TwilioCallback.sid == call.sid)).all() == [False] * 3
    assert emulator.problems == []


def test_an_sms_twilio_accepted_before_the_worker_died_is_reconciled_not_sent_again(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path, do_not_call=True)  # the SMS survey starts at once
    twilio_rt.clock.set(SMS_AT)  # type: ignore[attr-defined]
    emulator.clock = lambda: SMS_AT
    kill_after_twilio_accepted(twilio_rt, emulator)
    (sms,) = emulator.created("Messages")
    (a,) = attempts(twilio_rt, "sms")
    assert (a.status, a.provider_id) == ("dispatching", None)

    counts = restart(twilio_rt, emulator)
    assert counts["reconciled"] == 1
    assert len(emulator.created("Messages")) == 1, "the customer was texted a second time"
    first = attempts(twilio_rt, "sms")[0]
    assert (first.status, first.outcome, first.provider_id, first.made_by) == ("done", "sent", sms.sid, "sms")
    # the survey the SMS asked is waiting for its reply: the customer's answer is read, not "late"
    client = create_app(runtime=twilio_rt).test_client()
    reply = {"AccountSid": sms.account or "", "MessageSid": "SM" + "7" * 32, "From": "+8613800138000",
             "To": sms.one("From"), "Body": "10分"}
    code, twiml = post_signed(client, f"{PUBLIC}/twilio/sms/inbound", reply)
    assert code == 200 and re.search(r"<Message>.+</Message>", twiml, re.S)
    with twilio_rt.sessions() as s:
        handling = s.scalars(select(SmsMessage.handling).where(SmsMessage.provider_id == reply["MessageSid"])).one()
        resp = s.scalars(select(SurveyResponse)).one()
    assert handling == "answer" and resp.status == "in_progress"
    assert emulator.problems == []


def test_a_dead_workers_row_that_twilio_never_saw_is_planned_again_and_sent_once(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path)
    twilio_rt.clock.set(CALL_AT)  # type: ignore[attr-defined]
    emulator.clock = lambda: CALL_AT
    emulator.hold_next(after_create=False)  # the worker dies before Twilio took the request
    victim = tick_process(twilio_rt, emulator)
    try:
        assert emulator.holding.wait(60)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
    emulator.release()
    assert emulator.created("Calls") == []
    counts = restart(twilio_rt, emulator)
    assert counts["reclaimed"] == 1 and counts["reconciled"] == 0
    (call,) = emulator.created("Calls")  # planned again and placed by the new worker: once
    assert attempts(twilio_rt, "call")[0].provider_id == call.sid
