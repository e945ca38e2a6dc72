"""Fault 3 of issue #10: Twilio's REST API fails — exactly one call or SMS each time, never a hang.

Each fault is injected into the loopback emulator (``tests/fakes/twilio_emulator.py``), which
counts what Twilio would have created: a 500, a 503, a connection reset (before and after Twilio
took the request), a read timeout (the emulator holds the request past ``request_timeout``, before
and after creating it), and 429/20429 five times then success. Every case ends with exactly one
call or SMS in the emulator and the attempt carrying its SID; every tick returns within the
configured timeout (wall time measured). SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import import_visit
from sqlalchemy import select

from followup.channels.base import Channel
from followup.channels.registry import build_channel
from followup.channels.twilio_http import parse_retry_after
from followup.engine.tick import run_tick
from followup.models import ContactAttempt
from followup.runtime import Runtime

#: seconds one REST request may take in these tests (Settings.twilio.request_timeout)
TIMEOUT = 3.5
CALL_AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 Shanghai, the first call is due
SMS_AT = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)  # a do-not-call customer: the SMS survey at once
RESOURCE = {"call": "Calls", "sms": "Messages"}


def timed_channel(rt: Runtime) -> Channel:
    """The Twilio channel with ``request_timeout = TIMEOUT``."""
    return build_channel(dataclasses.replace(rt.settings, twilio=dataclasses.replace(rt.settings.twilio,
                                                                                     request_timeout=TIMEOUT)))


def tick(rt: Runtime, at: datetime) -> tuple[dict[str, object], float]:
    """One tick at ``at`` with ``request_timeout = TIMEOUT``; its counts and its wall time."""
    channel = timed_channel(rt)
    rt.clock.set(at)  # type: ignore[attr-defined]
    started = time.monotonic()
    counts = run_tick(rt, channel)
    return counts, time.monotonic() - started


def the_attempt(rt: Runtime, channel: str) -> ContactAttempt:
    """The first call, or the survey SMS (its reminder is planned once it went out)."""
    with rt.sessions() as s:
        return s.scalars(select(ContactAttempt).where(ContactAttempt.channel == channel, ContactAttempt.kind == "survey")
                         .order_by(ContactAttempt.id)).first()  # type: ignore[return-value]


def start(rt: Runtime, emu: TwilioEmulator, tmp_path: Path, channel: str) -> datetime:
    """A customer whose first contact (a call, or for do-not-call an SMS) is due; its tick time."""
    import_visit(rt, tmp_path, do_not_call=channel == "sms")
    at = CALL_AT if channel == "call" else SMS_AT
    emu.clock = lambda: at  # Twilio's clock is the service's (the test clock here)
    return at


def first_tick_with(rt: Runtime, emu: TwilioEmulator, tmp_path: Path, channel: str,
                    fault: Callable[[TwilioEmulator], object]) -> tuple[datetime, dict[str, object]]:
    """The first contact due, ``fault`` injected, one tick that must not hang; its time and counts."""
    at = start(rt, emu, tmp_path, channel)
    fault(emu)
    counts, took = tick(rt, at)
    assert took < TIMEOUT + 2.0, f"the tick was stuck for {took:.1f} s"
    return at, counts


FAULTS = {
    "500": lambda e: e.fail_next(500, 20500, "Internal Server Error"),
    "503": lambda e: e.fail_next(503, 20503, "Service Unavailable"),
    "reset before Twilio took it": lambda e: e.reset_next(after_create=False),
    "hang before Twilio took it": lambda e: e.hold_next(after_create=False, seconds=TIMEOUT * 3),
}
#: Twilio took the request, its answer was lost: the channel finds the call in Twilio's list
LOST_ANSWERS = {
    "reset after Twilio took it": lambda e: e.reset_next(after_create=True),
    "hang after Twilio took it": lambda e: e.hold_next(after_create=True, seconds=TIMEOUT * 3),
}


@pytest.mark.parametrize("channel", ["call", "sms"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_refused_or_unanswered_request_is_retried_later_and_sent_once(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path, channel: str, fault: str) -> None:
    at, counts = first_tick_with(twilio_rt, emulator, tmp_path, channel, FAULTS[fault])
    assert counts["retried"] == 1 and counts["dispatched"] == 0
    a = the_attempt(twilio_rt, channel)
    assert (a.status, a.retries, a.provider_id) == ("planned", 1, None)
    assert emulator.created(RESOURCE[channel]) == []
    emulator.clock = lambda: at + timedelta(minutes=5)
    counts, _ = tick(twilio_rt, at + timedelta(minutes=5))  # the backoff of R3
    (made,) = emulator.created(RESOURCE[channel])
    assert the_attempt(twilio_rt, channel).provider_id == made.sid
    assert emulator.problems == []


@pytest.mark.parametrize("channel", ["call", "sms"])
@pytest.mark.parametrize("fault", list(LOST_ANSWERS))
def test_a_request_twilio_took_but_never_answered_is_found_not_sent_again(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path, channel: str, fault: str) -> None:
    at, counts = first_tick_with(twilio_rt, emulator, tmp_path, channel, LOST_ANSWERS[fault])
    (made,) = emulator.created(RESOURCE[channel])
    a = the_attempt(twilio_rt, channel)
    assert (counts["dispatched"], counts["retried"]) == (1, 0)
    assert a.provider_id == made.sid
    assert a.status == ("in_progress" if channel == "call" else "done")
    # the lookup was Twilio's own list of calls / messages to that number from our number
    (listed,) = [r for r in emulator.requests if r.method == "GET"]
    assert listed.resource == RESOURCE[channel] and listed.params["To"] == ["+8613800138000"]
    tick(twilio_rt, at + timedelta(minutes=5))
    assert len(emulator.created(RESOURCE[channel])) == 1
    assert emulator.problems == []


def test_a_call_twilio_creates_after_our_look_is_found_by_the_retry_not_placed_again(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    at = start(twilio_rt, emulator, tmp_path, "call")
    emulator.hold_next(after_create=False, seconds=TIMEOUT + 0.5, create_late=True)
    channel = timed_channel(twilio_rt)  # one worker process: the same channel for both ticks
    twilio_rt.clock.set(at)  # type: ignore[attr-defined]
    assert run_tick(twilio_rt, channel)["retried"] == 1  # timed out, and nothing in Twilio's list yet
    deadline = time.monotonic() + 10
    while not emulator.created("Calls") and time.monotonic() < deadline:
        time.sleep(0.05)
    (late,) = emulator.created("Calls")  # Twilio placed it after all
    twilio_rt.clock.set(at + timedelta(minutes=5))  # type: ignore[attr-defined]
    counts = run_tick(twilio_rt, channel)
    assert counts["dispatched"] == 1
    assert [r.status for r in emulator.requests if r.method == "POST"] == [201]  # the one late call only
    assert the_attempt(twilio_rt, "call").provider_id == late.sid


@pytest.mark.parametrize("channel", ["call", "sms"])
def test_rate_limited_five_times_then_accepted_in_the_same_tick(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path, channel: str) -> None:
    _, counts = first_tick_with(twilio_rt, emulator, tmp_path, channel,
                                lambda e: e.fail_next(429, 20429, "Too Many Requests", times=5))
    posts = [r for r in emulator.requests if r.method == "POST"]
    assert [r.status for r in posts] == [429] * 5 + [201]
    (made,) = emulator.created(RESOURCE[channel])
    assert (counts["dispatched"], counts["retried"]) == (1, 0)
    assert the_attempt(twilio_rt, channel).provider_id == made.sid
    assert emulator.problems == []


def test_retry_after_is_waited_before_the_next_try(twilio_rt: Runtime, emulator: TwilioEmulator,
                                                   tmp_path: Path) -> None:
    at = start(twilio_rt, emulator, tmp_path, "call")
    emulator.fail_next(429, 20429, "Too Many Requests", times=2, retry_after="1")
    tick(twilio_rt, at)
    posts = [r for r in emulator.requests if r.method == "POST"]
    assert [r.status for r in posts] == [429, 429, 201]
    assert posts[1].wall_time - posts[0].wall_time >= 1.0
    assert posts[2].wall_time - posts[1].wall_time >= 1.0


def test_a_long_retry_after_is_left_to_the_dispatcher_and_respected(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    at = start(twilio_rt, emulator, tmp_path, "call")
    emulator.fail_next(429, 20429, "Too Many Requests", retry_after="1200")
    counts, took = tick(twilio_rt, at)
    assert took < 2.0  # not slept through
    assert counts["retried"] == 1
    a = the_attempt(twilio_rt, "call")
    assert (a.status, a.error_code) == ("planned", "20429")
    assert a.due_at == at + timedelta(minutes=20)  # 1200 s, not the 5-minute backoff
    assert [r.status for r in emulator.requests] == [429]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Fri, 20 Nov 2026 01:02:00 GMT", now) == 120.0
    assert parse_retry_after("Fri, 20 Nov 2026 00:59:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_the_lookup_takes_our_oldest_rest_call_since_the_row_fell_due() -> None:
    from types import SimpleNamespace

    from followup.channels.twilio_once import oldest_since

    due = datetime(2026, 11, 20, 1, 0, 0, 400_000, tzinfo=UTC)

    def item(sid: str, second: int, direction: str = "outbound-api") -> SimpleNamespace:
        return SimpleNamespace(sid=sid, direction=direction, date_created=datetime(2026, 11, 20, 1, 0, second, tzinfo=UTC))

    earlier = SimpleNamespace(sid="CAold", direction="outbound-api", date_created=due - timedelta(hours=3))
    # Twilio's date_created has whole seconds: a call in the same second as the due time is ours
    assert oldest_since([item("CAlater", 9), item("CAours", 0), earlier], due) == "CAours"
    assert oldest_since([earlier, item("SMreply", 5, "outbound-reply"), item("CAin", 5, "inbound")], due) is None
    assert oldest_since([], due) is None
