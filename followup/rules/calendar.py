"""Calling windows and SMS hours in the store's local time (RULES R2).

Everything here is pure: instants come in as aware datetimes, go out as aware UTC datetimes, and
the arithmetic happens on the store's local wall clock, localised with :class:`~zoneinfo.ZoneInfo`.
``Asia/Shanghai`` has no daylight saving time, but other zones do, so:

* a window start that falls twice (clocks go back) opens at its first occurrence, and again at
  its second if the first has already passed;
* a window start that does not exist (clocks go forward) opens where the zone maps it, e.g. a
  02:30 start on a spring-forward night opens at 03:30;
* membership is always decided on the wall clock of the instant itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_package

from followup.rules.values import ContactPolicy, Window

#: how far ahead the search for an open window goes before giving up (a year and a bit)
SEARCH_DAYS = 400

DayOpen = Callable[[date], bool]


class HolidayCalendar:
    """Statutory holidays of one country (default China), with make-up workdays (调休) forced open.

    Years are built lazily by the ``holidays`` package, one at a time, the first time a date of
    that year is asked about.
    """

    def __init__(self, country: str = "CN", *, workdays: Iterable[date | str] = ()) -> None:
        self.country = country
        self.workdays: frozenset[date] = frozenset(_as_date(d) for d in workdays)
        self._years: dict[int, holidays_package.HolidayBase] = {}

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` is a statutory holiday that is not overridden as a workday."""
        if day in self.workdays:
            return False
        return day in self._year(day.year)

    def name(self, day: date) -> str | None:
        """The holiday's name as the package spells it, or None."""
        return None if day in self.workdays else self._year(day.year).get(day)

    def _year(self, year: int) -> holidays_package.HolidayBase:
        if year not in self._years:
            self._years[year] = holidays_package.country_holidays(self.country, years=year)
        return self._years[year]


@lru_cache(maxsize=8)
def default_calendar(country: str = "CN") -> HolidayCalendar:
    """One shared calendar per country, for callers that do not bring their own."""
    return HolidayCalendar(country)


@lru_cache(maxsize=64)
def _workday_dates(workdays: frozenset[str]) -> frozenset[date]:
    return frozenset(_as_date(d) for d in workdays)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _call_days(policy: ContactPolicy, calendar: HolidayCalendar | None) -> DayOpen:
    """Which local dates allow calls: every day, or every non-holiday with ``skip_holidays``."""
    if not policy.skip_holidays:
        return lambda day: True
    cal = calendar or default_calendar()
    forced_open = _workday_dates(policy.workdays)
    return lambda day: day in forced_open or not cal.is_holiday(day)


def _contains(window: Window, clock: time) -> bool:
    # "24:00" is read as time.max by settings: the window then runs to midnight.
    return window.start <= clock and (clock < window.end or window.end == time.max)


def _inside(at: datetime, windows: Sequence[Window], tz: ZoneInfo, day_open: DayOpen) -> bool:
    local = at.astimezone(tz)
    clock = local.time()
    return day_open(local.date()) and any(_contains(w, clock) for w in windows)


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, got naive {at!r}")


def next_moment_in(at: datetime, windows: Sequence[Window], tz: ZoneInfo, day_open: DayOpen) -> datetime:
    """The first instant >= ``at`` whose local wall clock lies in one of ``windows`` on an open day."""
    _require_aware(at)
    if _inside(at, windows, tz, day_open):
        return at.astimezone(UTC)
    first_day = at.astimezone(tz).date()
    for offset in range(SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if not day_open(day):
            continue
        starts = (
            datetime.combine(day, w.start, tzinfo=tz).replace(fold=fold) for w in windows for fold in (0, 1)
        )
        fits = [s for s in starts if s >= at and _inside(s, windows, tz, day_open)]
        if fits:
            return min(fits).astimezone(UTC)
    raise ValueError(f"no open window within {SEARCH_DAYS} days of {at.isoformat()}")


def in_call_window(
    at: datetime, policy: ContactPolicy, tz: ZoneInfo, *, holidays: HolidayCalendar | None = None
) -> bool:
    """Whether a call may be placed at ``at`` (R2: start included, end excluded)."""
    _require_aware(at)
    return _inside(at, policy.calling_windows, tz, _call_days(policy, holidays))


def in_sms_hours(at: datetime, policy: ContactPolicy, tz: ZoneInfo) -> bool:
    """Whether an SMS may be sent at ``at`` (R2; holidays do not matter for SMS)."""
    _require_aware(at)
    return _inside(at, (policy.sms_hours,), tz, lambda day: True)


def next_call_moment(
    at: datetime, policy: ContactPolicy, tz: ZoneInfo, *, holidays: HolidayCalendar | None = None
) -> datetime:
    """The first calling-window instant at or after ``at``, in UTC.

    With ``policy.skip_holidays`` statutory holidays are skipped, except the dates listed in
    ``policy.workdays`` (and the calendar's own ``workdays``), which stay open.
    """
    return next_moment_in(at, policy.calling_windows, tz, _call_days(policy, holidays))


def next_sms_moment(at: datetime, policy: ContactPolicy, tz: ZoneInfo) -> datetime:
    """The first instant at or after ``at`` inside SMS hours (default 08:00-21:00), in UTC."""
    return next_moment_in(at, (policy.sms_hours,), tz, lambda day: True)
