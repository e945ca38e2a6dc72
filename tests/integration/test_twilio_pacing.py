"""Calls-per-second pacing in wall-clock time, shared through the database (CONTRACT §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import migrated_runtime
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import import_visit, tick_at, twilio_env
from sqlalchemy import select

from followup.channels.pacing import Pacer
from followup.models import ContactAttempt
from followup.runtime import Runtime
from followup.settings import load_settings

FIRST_CALL = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


class FakeWall:
    """A wall clock for the pacer that moves only when the pacer sleeps."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.t += seconds


def test_two_workers_share_one_limit(twilio_rt: Runtime) -> None:
    wall = FakeWall()
    one = Pacer(twilio_rt.engine, wall=wall, sleep=wall.sleep)
    two = Pacer(twilio_rt.engine, wall=wall, sleep=wall.sleep)
    assert one.try_take("call:AC1", 2.0) == 0.0
    assert two.try_take("call:AC1", 2.0) == 0.5  # the other worker's slot is taken for 0.5 s
    assert two.try_take("sms:+8675512345678", 2.0) == 0.0  # another key is not limited by it
    assert two.admit("call:AC1", 2.0, budget=60) == (True, 0.5)
    assert wall.slept == [0.5]
    slow = Pacer(twilio_rt.engine, wall=wall, sleep=wall.sleep, max_wait=1.0)
    assert slow.try_take("call:slow", 0.25) == 0.0
    assert slow.admit("call:slow", 0.25, budget=60) == (False, 0.0)  # 4 s away: left for the next tick


def _runtime(tmp_path: Path, emulator: TwilioEmulator, rate: str) -> Runtime:
    env = twilio_env(emulator, f"sqlite:///{tmp_path / 'paced.db'}", FOLLOWUP__twilio__calls_per_second=rate)
    return migrated_runtime(load_settings(env))


def test_a_backlog_of_calls_goes_out_at_the_configured_rate(tmp_path: Path, emulator: TwilioEmulator) -> None:
    rt = _runtime(tmp_path, emulator, "5.0")
    for n in range(5):
        import_visit(rt, tmp_path, ro=f"WO2611900{n}", mobile=f"+861380013800{n}")
    tick_at(rt, FIRST_CALL)
    times = [r.wall_time for r in emulator.created("Calls")]
    assert len(times) == 5
    # 5 per second: the k-th call at least 0.2*k s after the first (less the first request's connection setup)
    assert all(t - times[0] >= 0.2 * k - 0.1 for k, t in enumerate(times)), times
    assert times[-1] - times[0] >= 0.7
    rt.dispose()


def test_a_slow_rate_leaves_the_rest_for_the_next_tick(tmp_path: Path, emulator: TwilioEmulator) -> None:
    rt = _runtime(tmp_path, emulator, "0.2")  # one call every 5 s: no waiting that long inside a tick
    for n in range(3):
        import_visit(rt, tmp_path, ro=f"WO2611900{n}", mobile=f"+861380013800{n}")
    counts = tick_at(rt, FIRST_CALL)
    assert len(emulator.created("Calls")) == 1
    assert counts["dispatched"] == 1
    with rt.sessions() as s:
        waiting = s.scalars(select(ContactAttempt).where(ContactAttempt.status == "planned")).all()
        assert [(a.due_at, a.retries, a.claimed_by) for a in waiting] == [(FIRST_CALL, 0, None)] * 2
    rt.dispose()
