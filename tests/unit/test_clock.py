"""Clocks (CONTRACT §6), pure: the fixed clock, durations and instants.

The persistent test clock, kept in the database, is tested in ``tests/integration/test_test_clock.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup.clock import FixedClock, parse_advance, parse_instant

SHANGHAI = ZoneInfo("Asia/Shanghai")


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
