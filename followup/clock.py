"""The only place that reads the time.

``SystemClock`` reads the machine's clock. ``TestClock`` (CONTRACT §6, ``FOLLOWUP_TEST_CLOCK=1``)
reads one persistent instant from the database, so that the web app, the worker and the CLI all
see the same "now", moved only by ``followup clock set/advance`` or ``tick --now``.
Pacing and webhook timestamps use :func:`wall_clock` on purpose: they are about real seconds.
"""

from __future__ import annotations

import re
import time as _time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from followup.models import TestClockRow
from followup.settings import DEFAULT_TIMEZONE


class Clock(Protocol):
    """Something that tells the current instant (aware UTC)."""

    def now(self) -> datetime: ...


def wall_clock() -> datetime:
    """Real time, for pacing and webhook timestamps (never the test clock)."""
    return datetime.now(UTC)


def monotonic() -> float:
    return _time.monotonic()


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for unit tests of services."""

    def __init__(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class TestClock:
    """The persistent test clock: one row in ``test_clock``, shared by every process."""

    __test__ = False  # not a pytest test class

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def now(self) -> datetime:
        with self._sessions() as s:
            row = s.get(TestClockRow, 1)
            if row is not None:
                return row.now
        # First use: start at the machine's time. Another process may start it at the same moment.
        start = datetime.now(UTC).replace(microsecond=0)
        with self._sessions() as s:
            s.add(TestClockRow(id=1, now=start))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                row = s.get(TestClockRow, 1)
                assert row is not None
                return row.now
        return start

    def set(self, at: datetime) -> datetime:
        at = at.astimezone(UTC)
        self.now()  # creates the row on first use (safely, if another process races us)
        with self._sessions() as s:
            s.get_one(TestClockRow, 1).now = at
            s.commit()
        return at

    def advance(self, delta: timedelta) -> datetime:
        try:
            target = self.now() + delta
        except OverflowError:
            raise ValueError(f"cannot advance the clock by {delta}: past the year 9999") from None
        return self.set(target)


_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_advance(text: str) -> timedelta:
    """``"2h"``, ``"1d"``, ``"30m"``, ``"1d2h"`` -> timedelta; ValueError otherwise."""
    total = timedelta()
    text = text.strip()
    parts = re.findall(r"(\d+)([smhdw])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (examples: 30m, 2h, 1d)")
    try:
        for number, unit in parts:
            total += timedelta(**{_UNIT[unit]: int(number)})
    except OverflowError:
        raise ValueError(f"duration too long: {text!r}") from None
    return total


def parse_instant(text: str, default_tz: str = DEFAULT_TIMEZONE) -> datetime:
    """ISO 8601; a naive time is read in ``default_tz`` (the store's zone)."""
    from zoneinfo import ZoneInfo

    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(default_tz))
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"out of range: {text!r}") from None
