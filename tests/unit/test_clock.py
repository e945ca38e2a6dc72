"""Clocks (CONTRACT §6): the persistent test clock, durations and instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from followup.clock import FixedClock, SystemClock, TestClock, parse_advance, parse_instant, wall_clock
from followup.runtime import Runtime, build_runtime
from followup.schema import upgrade
from followup.settings import load_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def runtime_on(db: Path, **env: str) -> Runtime:
    return build_runtime(load_settings({"FOLLOWUP_ENV": "test", "DATABASE_URL": f"sqlite:///{db}", **env}))


def test_the_test_clock_persists_across_runtimes(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first = runtime_on(db, FOLLOWUP_TEST_CLOCK="1")
    upgrade(first.engine)
    assert isinstance(first.clock, TestClock)
    first.clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    first.dispose()

    second = runtime_on(db, FOLLOWUP_TEST_CLOCK="1")
    try:
        assert second.clock.now() == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
        assert second.clock.now().tzinfo is not None
        moved = second.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
        assert moved == datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    finally:
        second.dispose()

    third = runtime_on(db, FOLLOWUP_TEST_CLOCK="1")
    try:
        assert third.clock.now() == datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    finally:
        third.dispose()


def test_the_test_clock_stands_still_until_moved(rt: Runtime) -> None:
    clock = rt.clock
    assert isinstance(clock, TestClock)
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    assert clock.now() == clock.now() == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert clock.advance(timedelta(days=1, minutes=30)) == datetime(2026, 11, 21, 12, 30, tzinfo=UTC)
    assert clock.now() == datetime(2026, 11, 21, 12, 30, tzinfo=UTC)
    # it can be moved back too (a demo restarts)
    assert clock.set(datetime(2026, 11, 18, tzinfo=UTC)) == datetime(2026, 11, 18, tzinfo=UTC)
    assert clock.now() == datetime(2026, 11, 18, tzinfo=UTC)


def test_the_test_clock_starts_at_the_machines_time(rt: Runtime) -> None:
    before = wall_clock().replace(microsecond=0)
    started = rt.clock.now()
    assert before <= started <= wall_clock()
    assert rt.clock.now() == started


def test_two_clocks_on_one_database_agree(rt: Runtime) -> None:
    other = TestClock(rt.sessions)
    other.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    assert rt.clock.now() == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_advancing_past_the_calendar_is_a_value_error(rt: Runtime) -> None:
    rt.clock.set(datetime(2026, 11, 20, tzinfo=UTC))  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        rt.clock.advance(parse_advance("3000000d"))  # type: ignore[attr-defined]
    assert rt.clock.now() == datetime(2026, 11, 20, tzinfo=UTC)


def test_without_the_flag_the_system_clock_is_used(tmp_path: Path) -> None:
    rt = runtime_on(tmp_path / "x.db")
    try:
        assert isinstance(rt.clock, SystemClock)
        assert abs(rt.clock.now() - wall_clock()) < timedelta(seconds=5)
        assert rt.clock.now().tzinfo is not None
    finally:
        rt.dispose()


def test_fixed_clock() -> None:
    clock = FixedClock(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    assert clock.now() == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    clock.advance(timedelta(minutes=5))
    assert clock.now() == datetime(2026, 11, 20, 2, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("30m", timedelta(minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("1w", timedelta(weeks=1)),
        ("1d2h", timedelta(days=1, hours=2)),
        ("1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        (" 3h ", timedelta(hours=3)),
    ],
)
def test_parse_advance(text: str, delta: timedelta) -> None:
    assert parse_advance(text) == delta


@pytest.mark.parametrize("text", ["2 hours", "", "h", "2", "-2h", "2H", "1.5h", "2h 30m", "2x", "99999999999d"])
def test_parse_advance_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_advance(text)


def test_parse_instant() -> None:
    assert parse_instant("2026-11-20T10:00:00+08:00") == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert parse_instant("2026-11-20T02:00:00Z") == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    # naive: store local time, Asia/Shanghai
    naive = parse_instant("2026-11-20T10:00:00")
    assert naive == datetime(2026, 11, 20, 2, 0, tzinfo=UTC) and naive.tzinfo == UTC
    assert parse_instant("2026-11-20 10:00") == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert parse_instant("2026-11-20T10:00:00", "Europe/London") == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["tomorrow", "", "2026-13-01T00:00:00", "0001-01-01T00:00:00"])
def test_parse_instant_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_instant(text)
