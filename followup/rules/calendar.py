"""Calling windows, SMS hours, closed days and the three-day deadline in the store's local time
(RULES R1, R2).

A **closed day** is a local date with no calls and no survey SMS, that does not count toward the
three days: a day of an official holiday block when the store has ``skip_holidays`` (weekend days
inside the block included; make-up workdays are ordinary days), unless the store lists it in its
``workdays``; and any of the store's own ``closed_days``. Everything comes in as values: the
policy carries the official calendar (:class:`~followup.rules.official_calendar.HolidayCalendar`)
that settings read from ``config/holidays_cn.toml``.

Everything here is pure: instants come in as aware datetimes, go out as aware UTC datetimes, and
the arithmetic happens on the store's local wall clock, localised with :class:`~zoneinfo.ZoneInfo`.
``Asia/Shanghai`` has no daylight saving time, but other zones do, so:

* a window start that falls twice (clocks go back) opens at its first occurrence, and again at
  its second if the first has already passed;
* a window start that does not exist (clocks go forward) opens where the zone maps it, e.g. a
  02:30 start on a spring-forward night opens at 03:30;
* membership is always decided on the wall clock of the instant itself.

**Staff hours** (R2): in a store whose calls are made by information staff (``calls_by = staff``,
the call worklist) a call may only be made inside the staff hours intersected with the calling
windows; :func:`call_windows` is that intersection, and every call function here uses it, so a
staff store's calls fall due (and show on the worklist) only when someone is there to make them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from followup.rules.official_calendar import HolidayCalendar
from followup.rules.values import ContactPolicy, Window

#: how far ahead the search for an open window goes before giving up (a year and a bit)
SEARCH_DAYS = 400

DayOpen = Callable[[date], bool]

__all__ = [
    "HolidayCalendar",
    "call_windows",
    "case_deadline",
    "closed_day",
    "in_call_window",
    "in_sms_hours",
    "next_call_moment",
    "next_call_opening",
    "next_moment_in",
    "next_opening_after",
    "next_sms_moment",
    "next_sms_opening",
    "intersect_windows",
    "worklist_opening",
]


@lru_cache(maxsize=256)
def _dates(days: frozenset[str]) -> frozenset[date]:
    # the policy keeps ISO strings; a frozenset caches its hash, so this lookup is cheap
    return frozenset(date.fromisoformat(d) for d in days)


def _is_closed(policy: ContactPolicy) -> DayOpen:
    """``day -> closed?`` for one store (see the module's docstring)."""
    own = _dates(policy.closed_days)
    if not policy.skip_holidays:
        return own.__contains__
    opened, calendar = _dates(policy.workdays), policy.holiday_calendar
    return lambda day: day in own or (day not in opened and calendar.is_holiday(day))


def closed_day(day: date, policy: ContactPolicy) -> bool:
    """R2: no calls and no survey SMS on this local date, and it does not count toward the three days."""
    return _is_closed(policy)(day)


def _open_days(policy: ContactPolicy) -> DayOpen:
    is_closed = _is_closed(policy)
    return lambda day: not is_closed(day)


def _every_day(day: date) -> bool:
    return True


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


def next_opening_after(at: datetime, windows: Sequence[Window], tz: ZoneInfo, day_open: DayOpen) -> datetime:
    """The next window opening after the window ``at`` lies in has closed (R3: a provider outage
    that lasted its hour waits for the next window, not the next minute of this one); when ``at``
    lies in no window, the next opening after ``at``."""
    _require_aware(at)
    if not _inside(at, windows, tz, day_open):
        return next_moment_in(at, windows, tz, day_open)
    local = at.astimezone(tz)
    clock = local.time()
    window = next(w for w in windows if _contains(w, clock))
    if window.end == time.max:
        end = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    else:
        end = datetime.combine(local.date(), window.end, tzinfo=tz)
    # windows that touch (12:00-14:00 after 09:00-12:00) open where the last one closed
    return next_moment_in(max(end, at), windows, tz, day_open)


@lru_cache(maxsize=64)
def intersect_windows(a: tuple[Window, ...], b: tuple[Window, ...]) -> tuple[Window, ...]:
    """The parts of the day inside a window of ``a`` and a window of ``b``, in order:
    ``09:00-12:00, 14:00-20:00`` with ``08:20-12:00, 13:00-18:00`` is ``09:00-12:00, 14:00-18:00``."""
    parts = (Window(max(x.start, y.start), min(x.end, y.end)) for x in a for y in b)
    return tuple(sorted((w for w in parts if w.start < w.end), key=lambda w: w.start))


def call_windows(policy: ContactPolicy) -> tuple[Window, ...]:
    """When a call may be made (R2): the calling windows, and in a store whose calls are made by
    staff only inside the staff hours too."""
    if policy.calls_by == "staff":
        return intersect_windows(policy.calling_windows, policy.staff_hours)
    return policy.calling_windows


def in_call_window(at: datetime, policy: ContactPolicy, tz: ZoneInfo) -> bool:
    """Whether a call may be placed at ``at``: inside a calling window (start included, end
    excluded; in a staff store also inside staff hours) on a day that is not closed (R2)."""
    _require_aware(at)
    return _inside(at, call_windows(policy), tz, _open_days(policy))


def next_call_moment(at: datetime, policy: ContactPolicy, tz: ZoneInfo) -> datetime:
    """The first calling-window instant (in a staff store: inside staff hours too) at or after
    ``at`` on a day that is not closed, in UTC."""
    return next_moment_in(at, call_windows(policy), tz, _open_days(policy))


def next_call_opening(at: datetime, policy: ContactPolicy, tz: ZoneInfo) -> datetime:
    """The next calling-window opening after the window ``at`` lies in has closed (R3), in UTC."""
    return next_opening_after(at, call_windows(policy), tz, _open_days(policy))


def worklist_opening(at: datetime, policy: ContactPolicy, tz: ZoneInfo) -> datetime | None:
    """None while calls may be made at ``at`` (the worklist is open); else when it opens next (R2:
    staff hours within the calling windows, on a day that is not closed)."""
    return None if in_call_window(at, policy, tz) else next_call_moment(at, policy, tz)


def in_sms_hours(at: datetime, policy: ContactPolicy, tz: ZoneInfo, *, survey: bool = True) -> bool:
    """Whether an SMS planned for ``at`` may go: inside SMS hours, and for a survey SMS (the survey,
    its reminder, a re-survey) not on a closed day (R2). Replies to a customer's own message never
    ask: they are sent at once, whatever the hour."""
    _require_aware(at)
    return _inside(at, (policy.sms_hours,), tz, _open_days(policy) if survey else _every_day)


def next_sms_moment(at: datetime, policy: ContactPolicy, tz: ZoneInfo, *, survey: bool = True) -> datetime:
    """The first instant at or after ``at`` inside SMS hours (default 08:00-21:00), in UTC; for a
    survey SMS also on a day that is not closed (R2)."""
    return next_moment_in(at, (policy.sms_hours,), tz, _open_days(policy) if survey else _every_day)


def next_sms_opening(at: datetime, policy: ContactPolicy, tz: ZoneInfo, *, survey: bool = True) -> datetime:
    """The next opening of SMS hours after the hours ``at`` lies in have closed (R3), in UTC."""
    return next_opening_after(at, (policy.sms_hours,), tz, _open_days(policy) if survey else _every_day)


def case_deadline(delivered_at: datetime, policy: ContactPolicy, tz: ZoneInfo) -> datetime:
    """R1/R2: ``D + policy.deadline`` (72h), moved out by the closed days between them.

    Only time on days that are not closed counts toward the three days: a case delivered the day
    before the National Day block keeps the rest of that day, skips the block, and continues on
    the first open day. Counted in real elapsed time, so a daylight-saving day counts as it lasts.
    The one deadline for intake and re-import alike.
    """
    _require_aware(delivered_at)
    is_closed = _is_closed(policy)
    remaining, cursor = policy.deadline, delivered_at.astimezone(UTC)
    for _ in range(SEARCH_DAYS + policy.deadline.days + 1):
        day = cursor.astimezone(tz).date()
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        if not is_closed(day):
            if cursor + remaining <= next_midnight:
                return cursor + remaining
            remaining -= next_midnight - cursor
        cursor = next_midnight
    raise ValueError(f"no deadline within {SEARCH_DAYS} days of {delivered_at.isoformat()}: every day is closed")
