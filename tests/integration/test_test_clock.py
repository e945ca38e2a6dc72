"""The persistent test clock (CONTRACT §6), kept in the database and shared by every runtime on it.

The pure clocks and the parsing of durations and instants are in ``tests/unit/test_clock.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from template_db import copy_migrated_sqlite

from followup.clock import SystemClock, TestClock, parse_advance, wall_clock
from followup.runtime import Runtime, build_runtime
from followup.settings import load_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def runtime_on(db: Path, **env: str) -> Runtime:
    return build_runtime(load_settings({"FOLLOWUP_ENV": "test", "DATABASE_URL": f"sqlite:///{db}", **env}))


def migrated_runtime_on(db: Path, **env: str) -> Runtime:
    """A runtime on a new migrated SQLite file ``db``."""
    copy_migrated_sqlite(db)
    return runtime_on(db, **env)


def test_the_test_clock_persists_across_runtimes(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first = migrated_runtime_on(db, FOLLOWUP_TEST_CLOCK="1")
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
