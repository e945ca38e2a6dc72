"""Calling windows, SMS hours, holidays and closed days (RULES R2), and the deadline (R1), in store local time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_package
import pytest
from holidays.countries.china import ChinaStaticHolidays
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.rules.calendar import (
    case_deadline,
    closed_day,
    in_call_window,
    in_sms_hours,
    next_call_moment,
    next_sms_moment,
)
from followup.rules.official_calendar import HolidayCalendar
from followup.settings import ContactPolicy, Window, load_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
ZONES_FOR_DEADLINE = ["Asia/Shanghai", "America/New_York"]


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
        ("2026-12-31 21:00", "2027-01-02 09:00:00"),  # skip_holidays is on by default: not on 元旦
    ],
)
def test_next_call_moment(policy: ContactPolicy, at: str, expected: str) -> None:
    moment = next_call_moment(local(at), policy, SHANGHAI)
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
        ("2026-10-01 10:00", "2026-10-08 08:00:00"),  # no survey SMS in the National Day block
        ("2026-10-07 21:00", "2026-10-08 08:00:00"),
    ],
)
def test_next_sms_moment(policy: ContactPolicy, at: str, expected: str) -> None:
    assert wall(next_sms_moment(local(at), policy, SHANGHAI)) == expected


def test_sms_that_are_not_surveys_keep_only_the_sms_hours(policy: ContactPolicy) -> None:
    assert wall(next_sms_moment(local("2026-10-01 10:00"), policy, SHANGHAI, survey=False)) == "2026-10-01 10:00:00"
    assert wall(next_sms_moment(local("2026-10-01 21:00"), policy, SHANGHAI, survey=False)) == "2026-10-02 08:00:00"


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


# --- holidays (R2): the official calendar shipped in config/holidays_cn.toml -----------------------

CALENDAR = load_settings({}).holiday_calendar


def days(first: str, last: str) -> list[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [a + timedelta(n) for n in range((b - a).days + 1)]


def package_days(year: int) -> set[date]:
    return set(holidays_package.China(years=year))


def package_workdays(year: int) -> set[date]:
    """The make-up workdays (调休上班) the holidays package knows: the "substituted from" dates."""
    table = ChinaStaticHolidays.special_public_holidays.get(year, ())
    return {date(year, m2, d2) for _m, _d, m2, d2 in table}


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_every_statutory_day_of_the_holidays_package_lies_inside_a_shipped_block(year: int) -> None:
    shipped = CALENDAR.year(year)
    assert shipped is not None
    inside = {d for b in shipped.blocks for d in days(b.first.isoformat(), b.last.isoformat())}
    assert package_days(year) <= inside, sorted(package_days(year) - inside)
    for b in shipped.blocks:  # and no block is made of nothing but weekend days
        assert package_days(year) & set(days(b.first.isoformat(), b.last.isoformat())), b


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_official_blocks_are_the_statutory_days_with_the_weekends_between_them(year: int) -> None:
    """2025 and 2026 as the State Council published them: each block is a run of statutory days and
    the weekend days next to them, stopped by the make-up workdays; the workdays are the package's."""
    shipped = CALENDAR.year(year)
    assert shipped is not None and not shipped.provisional
    assert set(shipped.workdays) == package_workdays(year)
    statutory = package_days(year)

    def off(d: date) -> bool:
        return d in statutory or (d.weekday() >= 5 and d not in shipped.workdays)

    derived: set[date] = set()
    for d in statutory:
        for step in (1, -1):
            n = d
            while off(n):
                derived.add(n)
                n += timedelta(step)
    inside = {d for b in shipped.blocks for d in days(b.first.isoformat(), b.last.isoformat())}
    assert inside == derived, (sorted(inside - derived), sorted(derived - inside))


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        # 2025 Spring Festival 01-28..02-04: Saturday 02-01 and Sunday 02-02 inside it are closed
        ("2025-01-26", False),  # Sunday, make-up workday (调休上班)
        ("2025-01-27", False),
        ("2025-01-28", True),
        ("2025-02-01", True),
        ("2025-02-02", True),
        ("2025-02-04", True),
        ("2025-02-05", False),
        ("2025-02-08", False),  # Saturday, make-up workday
        # 2025 National Day and Mid-Autumn 10-01..10-08, weekend 10-04/05 inside
        ("2025-09-28", False),  # Sunday, make-up workday
        ("2025-10-01", True),
        ("2025-10-04", True),
        ("2025-10-05", True),
        ("2025-10-08", True),
        ("2025-10-09", False),
        ("2025-10-11", False),  # Saturday, make-up workday
        # 2026 National Day 10-01..10-07; Sunday 10-04 inside it is closed
        ("2026-09-20", False),  # Sunday, make-up workday
        ("2026-09-30", False),
        ("2026-10-04", True),
        ("2026-10-07", True),
        ("2026-10-08", False),
        ("2026-10-10", False),  # Saturday, make-up workday
        ("2026-02-21", True),  # Saturday inside the 2026 Spring Festival block
        ("2026-01-03", True),
        ("2026-01-04", False),
        ("2026-11-21", False),  # an ordinary Saturday: weekends are called
        ("2027-01-01", True),  # 2027: the package's statutory days (provisional)
        ("2028-10-01", True),  # a year not in the file: the package's statutory days
        ("2028-10-09", False),
    ],
)
def test_holiday_blocks_weekends_inside_and_make_up_workdays(policy: ContactPolicy, day: str, closed: bool) -> None:
    assert policy.skip_holidays is True  # the default (R2)
    assert closed_day(date.fromisoformat(day), policy) is closed
    assert in_call_window(local(f"{day} 10:00"), policy, SHANGHAI) is not closed
    assert in_sms_hours(local(f"{day} 10:00"), policy, SHANGHAI) is not closed  # a survey SMS
    assert in_sms_hours(local(f"{day} 10:00"), policy, SHANGHAI, survey=False)  # any other SMS


def test_the_calendar_value_names_blocks_and_falls_back_to_the_package() -> None:
    block = CALENDAR.block_of(date(2025, 10, 4))
    assert block is not None and (block.name, block.name_en) == ("国庆节、中秋节", "National Day and Mid-Autumn Festival")
    assert (block.first, block.last, block.days) == (date(2025, 10, 1), date(2025, 10, 8), 8)
    assert CALENDAR.block_of(date(2025, 10, 11)) is None
    assert CALENDAR.covers(2026) and not CALENDAR.covers(2028)
    assert CALENDAR.is_holiday(date(2028, 1, 1)) and not CALENDAR.is_holiday(date(2028, 1, 4))
    empty = HolidayCalendar()  # no file at all: the package's statutory days for every year
    assert empty.is_holiday(date(2026, 10, 5)) and not empty.is_holiday(date(2026, 10, 4))


@pytest.mark.parametrize(
    ("skip", "workdays", "closed_days", "expected"),
    [
        (False, frozenset(), frozenset(), "2026-10-01 10:00:00"),
        (True, frozenset(), frozenset(), "2026-10-08 09:00:00"),  # the whole block, Sunday 10-04 too
        (True, frozenset({"2026-10-04"}), frozenset(), "2026-10-04 09:00:00"),  # the store works that day
        (True, frozenset(), frozenset({"2026-10-08"}), "2026-10-09 09:00:00"),  # and is closed the day after
        (False, frozenset(), frozenset({"2026-10-01"}), "2026-10-02 09:00:00"),  # its own closed day always holds
    ],
)
def test_next_call_moment_skips_closed_days(
    policy: ContactPolicy, skip: bool, workdays: frozenset[str], closed_days: frozenset[str], expected: str
) -> None:
    p = replace(policy, skip_holidays=skip, workdays=workdays, closed_days=closed_days)
    assert wall(next_call_moment(local("2026-10-01 10:00"), p, SHANGHAI)) == expected
    assert in_call_window(local(expected), p, SHANGHAI)


def test_a_store_closed_day_gets_no_calls_and_no_survey_sms(policy: ContactPolicy) -> None:
    p = replace(policy, closed_days=frozenset({"2026-12-24"}))
    assert not in_call_window(local("2026-12-24 10:00"), p, SHANGHAI)
    assert not in_sms_hours(local("2026-12-24 10:00"), p, SHANGHAI)
    assert wall(next_call_moment(local("2026-12-23 19:30"), p, SHANGHAI)) == "2026-12-23 19:30:00"
    assert wall(next_call_moment(local("2026-12-23 20:00"), p, SHANGHAI)) == "2026-12-25 09:00:00"
    assert wall(next_sms_moment(local("2026-12-23 21:00"), p, SHANGHAI)) == "2026-12-25 08:00:00"
    # an SMS that is not a survey (e.g. a complaint's progress) keeps only the SMS hours
    assert wall(next_sms_moment(local("2026-12-23 21:00"), p, SHANGHAI, survey=False)) == "2026-12-24 08:00:00"
    assert in_call_window(local("2026-12-24 10:00"), policy, SHANGHAI)  # other stores are open


# --- the deadline (R1): D + 72h, moved out by the closed days -------------------------------------


@pytest.mark.parametrize(
    ("delivered", "store", "expected"),
    [
        ("2026-11-18 10:00", {}, "2026-11-21 10:00:00"),  # no closed day: D + 72h
        # just before the 2026 National Day block (10-01..10-07, 7 days): 8h on 09-30, 64h from 10-08
        ("2026-09-30 16:00", {}, "2026-10-10 16:00:00"),
        # just before the 2025 block (10-01..10-08, 8 days)
        ("2025-09-30 16:00", {}, "2025-10-11 16:00:00"),
        # delivered inside a block: the three days start on the first open day
        ("2025-10-04 15:00", {}, "2025-10-12 00:00:00"),
        # just before a store's own closed day
        ("2026-12-23 16:00", {"closed_days": frozenset({"2026-12-24"})}, "2026-12-27 16:00:00"),
        ("2026-12-23 16:00", {"closed_days": frozenset({"2026-12-24", "2026-12-26"})}, "2026-12-28 16:00:00"),
        # a closed day after D + 72h does not matter
        ("2026-12-20 16:00", {"closed_days": frozenset({"2026-12-24"})}, "2026-12-23 16:00:00"),
        # skip_holidays off: holidays count, the store's own closed days still do not
        ("2026-09-30 16:00", {"skip_holidays": False}, "2026-10-03 16:00:00"),
        ("2026-09-30 16:00", {"skip_holidays": False, "closed_days": frozenset({"2026-10-02"})}, "2026-10-04 16:00:00"),
        # a make-up workday the store listed counts like any open day
        ("2026-09-30 16:00", {"workdays": frozenset({"2026-10-02"})}, "2026-10-09 16:00:00"),
    ],
)
def test_the_deadline_moves_out_by_the_closed_days(
    policy: ContactPolicy, delivered: str, store: dict[str, object], expected: str
) -> None:
    p = replace(policy, **store)  # type: ignore[arg-type]
    deadline = case_deadline(local(delivered), p, SHANGHAI)
    assert wall(deadline) == expected
    assert deadline.tzinfo is UTC


@settings(max_examples=200, deadline=None)
@given(
    delivered=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 20), timezones=st.just(UTC)),
    closed=st.sets(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)), max_size=20),
    zone=st.sampled_from(ZONES_FOR_DEADLINE),
    skip=st.booleans(),
)
def test_the_deadline_holds_three_open_days(
    delivered: datetime, closed: set[date], zone: str, skip: bool
) -> None:
    """Between D and the deadline lie exactly 72 hours that are not on a closed day."""
    p = replace(load_settings({}).stores["SZ01"].policy, skip_holidays=skip,
                closed_days=frozenset(d.isoformat() for d in closed))
    tz = ZoneInfo(zone)
    deadline = case_deadline(delivered, p, tz)
    assert deadline >= delivered + p.deadline
    open_time, at = timedelta(0), delivered
    while at < deadline:  # walk local midnight to local midnight
        day = at.astimezone(tz).date()
        midnight = datetime.combine(day + timedelta(1), time(0), tzinfo=tz).astimezone(UTC)
        end = min(midnight, deadline)
        if not closed_day(day, p):
            open_time += end - at
        at = end
    assert open_time == p.deadline


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
    closed=st.sets(st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 1, 10)), max_size=10),
)
def test_next_call_moment_is_the_first_open_instant(at: datetime, zone: str, skip: bool, closed: set[date]) -> None:
    policy = replace(load_settings({}).stores["SZ01"].policy, skip_holidays=skip,
                     closed_days=frozenset(d.isoformat() for d in closed))
    tz = ZoneInfo(zone)
    moment = next_call_moment(at, policy, tz)
    assert moment >= at
    assert in_call_window(moment, policy, tz)
    if moment > at:  # it is a window opening: just before it, calls were not allowed
        assert not in_call_window(at, policy, tz)
        assert not in_call_window(moment - timedelta(seconds=1), policy, tz)
    assert not closed_day(moment.astimezone(tz).date(), policy)
    sms = next_sms_moment(at, policy, tz)
    assert sms >= at and in_sms_hours(sms, policy, tz)
    assert not closed_day(sms.astimezone(tz).date(), policy)
    if sms > at:
        assert not in_sms_hours(sms - timedelta(seconds=1), policy, tz)
