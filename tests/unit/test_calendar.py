"""Calling windows, SMS hours and holidays (RULES R2), in store local time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.rules.calendar import (
    HolidayCalendar,
    in_call_window,
    in_sms_hours,
    next_call_moment,
    next_sms_moment,
)
from followup.settings import ContactPolicy, Window, load_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def policy() -> ContactPolicy:
    return load_settings({}).stores["SZ01"].policy


def local(text: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """'2026-11-20 19:55' in ``tz`` as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


def wall(at: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-11-20 08:59", "2026-11-20 09:00:00"),
        ("2026-11-20 09:00", "2026-11-20 09:00:00"),  # start included
        ("2026-11-20 11:59:59", "2026-11-20 11:59:59"),
        ("2026-11-20 12:00", "2026-11-20 14:00:00"),  # end excluded: lunch rest
        ("2026-11-20 13:30", "2026-11-20 14:00:00"),
        ("2026-11-20 19:55", "2026-11-20 19:55:00"),
        ("2026-11-20 20:00", "2026-11-21 09:00:00"),  # end excluded: nothing late in the evening
        ("2026-11-20 23:30", "2026-11-21 09:00:00"),
        ("2026-12-31 21:00", "2027-01-01 09:00:00"),  # skip_holidays is off by default
    ],
)
def test_next_call_moment(policy: ContactPolicy, at: str, expected: str) -> None:
    moment = next_call_moment(local(at), policy, SHANGHAI, holidays=None)
    assert wall(moment) == expected
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-11-20 07:59", "2026-11-20 08:00:00"),
        ("2026-11-20 08:00", "2026-11-20 08:00:00"),
        ("2026-11-20 12:30", "2026-11-20 12:30:00"),  # no lunch rest for SMS
        ("2026-11-20 19:30", "2026-11-20 19:30:00"),
        ("2026-11-20 20:59", "2026-11-20 20:59:00"),
        ("2026-11-20 21:00", "2026-11-21 08:00:00"),
        ("2026-11-20 21:10", "2026-11-21 08:00:00"),
        ("2026-10-01 10:00", "2026-10-01 10:00:00"),  # holidays do not matter for SMS
    ],
)
def test_next_sms_moment(policy: ContactPolicy, at: str, expected: str) -> None:
    assert wall(next_sms_moment(local(at), policy, SHANGHAI)) == expected


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        ("08:59:59", False),
        ("09:00", True),
        ("11:59:59", True),
        ("12:00", False),
        ("13:59", False),
        ("14:00", True),
        ("19:59:59", True),
        ("20:00", False),
        ("00:00", False),
    ],
)
def test_in_call_window_bounds(policy: ContactPolicy, at: str, inside: bool) -> None:
    assert in_call_window(local(f"2026-11-20 {at}"), policy, SHANGHAI) is inside


@pytest.mark.parametrize(
    ("at", "inside"), [("07:59", False), ("08:00", True), ("20:59", True), ("21:00", False)]
)
def test_in_sms_hours_bounds(policy: ContactPolicy, at: str, inside: bool) -> None:
    assert in_sms_hours(local(f"2026-11-20 {at}"), policy, SHANGHAI) is inside


def test_any_zone_in_utc_out_and_naive_refused(policy: ContactPolicy) -> None:
    at = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    assert next_call_moment(at.astimezone(NEW_YORK), policy, SHANGHAI) == local("2026-11-20 14:00")
    with pytest.raises(ValueError, match="aware"):
        next_call_moment(datetime(2026, 11, 20, 12, 0), policy, SHANGHAI)


# National Day 2026 as the holidays package (0.109) has it: Sunday 10-04 is not listed (it is a
# weekend day anyway), 10-06 and 10-07 are days off moved from the make-up Saturdays/Sundays.
@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        ("2026-09-30", False),
        ("2026-10-01", True),
        ("2026-10-02", True),
        ("2026-10-03", True),
        ("2026-10-04", False),
        ("2026-10-05", True),
        ("2026-10-06", True),
        ("2026-10-07", True),
        ("2026-10-08", False),
        ("2026-01-01", True),
        ("2027-10-01", True),
        ("2025-10-01", True),
    ],
)
def test_holiday_calendar_cn_2026(day: str, holiday: bool) -> None:
    assert HolidayCalendar().is_holiday(date.fromisoformat(day)) is holiday


def test_holiday_calendar_workdays_override() -> None:
    cal = HolidayCalendar(workdays=["2026-10-02", date(2026, 10, 3)])
    assert not cal.is_holiday(date(2026, 10, 2))
    assert not cal.is_holiday(date(2026, 10, 3))
    assert cal.is_holiday(date(2026, 10, 1))
    assert cal.name(date(2026, 10, 1)) == "National Day"
    assert cal.name(date(2026, 10, 2)) is None


@pytest.mark.parametrize(
    ("skip", "workdays", "expected"),
    [
        (False, frozenset(), "2026-10-01 10:00:00"),
        (True, frozenset(), "2026-10-04 09:00:00"),  # 10-01..03 skipped; the package leaves 10-04 open
        (True, frozenset({"2026-10-02"}), "2026-10-02 09:00:00"),  # make-up workday forced open
    ],
)
def test_next_call_moment_skips_holidays(
    policy: ContactPolicy, skip: bool, workdays: frozenset[str], expected: str
) -> None:
    p = replace(policy, skip_holidays=skip, workdays=workdays)
    assert wall(next_call_moment(local("2026-10-01 10:00"), p, SHANGHAI)) == expected
    assert in_call_window(local(expected), p, SHANGHAI)


def test_calendar_argument_and_its_workdays(policy: ContactPolicy) -> None:
    p = replace(policy, skip_holidays=True)
    cal = HolidayCalendar(workdays=["2026-10-01"])
    assert (
        wall(next_call_moment(local("2026-10-01 10:00"), p, SHANGHAI, holidays=cal)) == "2026-10-01 10:00:00"
    )
    assert not in_call_window(local("2026-10-02 10:00"), p, SHANGHAI, holidays=cal)


@pytest.fixture
def early_window(policy: ContactPolicy) -> ContactPolicy:
    return replace(
        policy,
        calling_windows=(
            Window(time(1, 0), time(1, 45)),
            Window(time(2, 30), time(5, 0)),
            Window(time(9, 0), time(12, 0)),
        ),
    )


@pytest.mark.parametrize(
    ("at_utc", "expected_utc"),
    [
        # 2026-03-08: New York springs forward at 02:00 EST -> 03:00 EDT.
        ("2026-03-08T10:00", "2026-03-08T13:00"),  # 06:00 EDT -> 09:00 EDT is 13:00 UTC, not 14:00
        ("2026-03-08T06:50", "2026-03-08T07:30"),  # 01:50 EST -> the 02:30 start does not exist: 03:30 EDT
        # 2026-11-01: New York falls back at 02:00 EDT -> 01:00 EST; 01:00-01:45 happens twice.
        ("2026-11-01T05:10", "2026-11-01T05:10"),  # 01:10 EDT, first pass, inside
        ("2026-11-01T05:50", "2026-11-01T06:00"),  # 01:50 EDT -> 01:00 EST, second pass
        ("2026-11-01T06:50", "2026-11-01T07:30"),  # 01:50 EST -> 02:30 EST
    ],
)
def test_daylight_saving_zones(early_window: ContactPolicy, at_utc: str, expected_utc: str) -> None:
    at = datetime.fromisoformat(at_utc).replace(tzinfo=UTC)
    moment = next_call_moment(at, early_window, NEW_YORK)
    assert moment == datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)
    assert in_call_window(moment, early_window, NEW_YORK)


ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe"]


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from(ZONES),
    skip=st.booleans(),
)
def test_next_call_moment_is_the_first_open_instant(at: datetime, zone: str, skip: bool) -> None:
    policy = replace(load_settings({}).stores["SZ01"].policy, skip_holidays=skip)
    tz = ZoneInfo(zone)
    moment = next_call_moment(at, policy, tz)
    assert moment >= at
    assert in_call_window(moment, policy, tz)
    if moment > at:  # it is a window opening: just before it, calls were not allowed
        assert not in_call_window(at, policy, tz)
        assert not in_call_window(moment - timedelta(seconds=1), policy, tz)
    sms = next_sms_moment(at, policy, tz)
    assert sms >= at and in_sms_hours(sms, policy, tz)
