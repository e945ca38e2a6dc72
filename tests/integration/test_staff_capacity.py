"""The monitor's staff calling capacity (:func:`followup.cases.monitor.staff_capacity`) on SQLite and
PostgreSQL, against numbers computed by hand from calls recorded through the worklist service.

Friday 20 November 2026 in Shanghai. SZ01 calls by staff (09:00-12:00 and 14:00-18:00 once the
staff hours 08:20-12:00/13:00-18:00 meet the calling windows 09:00-12:00/14:00-20:00); SZ02 calls
by the IVR and has no capacity panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import database_url, make_settings, migrated_runtime
from factories import add_visit, local, make_user, visit_row
from sqlalchemy import select
from worklist_world import user

from followup.cases import worklist
from followup.cases.monitor import CallerDay, StaffCapacity, call_hours_on, staff_capacity
from followup.models import ContactAttempt, FollowupCase, Visit
from followup.runtime import Runtime

#: the moment the supervisor looks: Friday 17:00
LOOK = local(2026, 11, 20, 17, 0)


@pytest.fixture
def crt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    url = database_url(backend, request, tmp_path / "test.db")
    rt = migrated_runtime(make_settings(
        tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1", FOLLOWUP__stores__SZ01__calls_by="staff",
        FOLLOWUP__stores__SZ02__name="深圳福田大众4S店"))
    rt.clock.set(local(2026, 11, 18, 8, 0))
    make_user(rt, "caller1")
    make_user(rt, "caller2")
    yield rt
    rt.dispose()


def visit(rt: Runtime, ro: str, delivered: datetime, n: int) -> None:
    add_visit(rt, visit_row(ro, delivered_at=delivered, customer_name=f"客户{n}", mobile=f"+86138001380{n:02d}"),
              at=delivered, plan=True)


def record(rt: Runtime, username: str, ro: str, outcome: str, at: datetime, **extra: object) -> None:
    """``username`` takes the call of ``ro`` from the worklist and records ``outcome``, at ``at``."""
    with rt.sessions() as s:
        attempt = s.scalar(select(ContactAttempt.id).join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
                           .join(Visit, Visit.id == FollowupCase.visit_id)
                           .where(Visit.ro_number == ro, ContactAttempt.status == "planned",
                                  ContactAttempt.channel == "call"))
        assert attempt is not None
        who = user(rt, username)
        worklist.claim(s, rt.settings, who, attempt, at)
        worklist.record_outcome(s, rt.settings, who, attempt, outcome, now=at, **extra)
        s.commit()


def test_capacity_counts_today_per_caller_and_tomorrow_as_computed_by_hand(crt: Runtime) -> None:
    visit(crt, "RO-Y", local(2026, 11, 18, 9, 0), 0)  # first call due Thursday 09:00
    for n in range(1, 7):
        visit(crt, f"RO-{n}", local(2026, 11, 19, 9, 0), n)  # first calls due Friday 09:00
    visit(crt, "RO-7", local(2026, 11, 20, 9, 0), 7)  # first call due Saturday 09:00
    # yesterday's call is not today's: RO-Y's next call falls due at 18:00 -> Friday 09:00
    record(crt, "caller1", "RO-Y", "no_answer", local(2026, 11, 19, 15, 0))
    good = {"overall": 9, "on_time": "yes", "advisor": 9}
    record(crt, "caller1", "RO-1", "answered", local(2026, 11, 20, 10, 0), answers=good)
    record(crt, "caller2", "RO-5", "callback_requested", local(2026, 11, 20, 10, 5),
           callback_at=local(2026, 11, 21, 10, 0).isoformat())
    record(crt, "caller1", "RO-2", "no_answer", local(2026, 11, 20, 10, 6))  # next call 13:06 -> 14:00 today
    record(crt, "caller1", "RO-3", "declined", local(2026, 11, 20, 10, 12))
    record(crt, "caller1", "RO-4", "busy", local(2026, 11, 20, 10, 18))  # next call 14:00 today
    record(crt, "caller2", "RO-6", "voicemail", local(2026, 11, 20, 10, 35))  # next call 14:00 today
    visit(crt, "RO-8", local(2026, 11, 20, 16, 0), 8)  # first call due Saturday 16:00

    with crt.sessions() as s:
        (cap,) = staff_capacity(s, crt.settings, ["SZ01", "SZ02"], LOOK)  # SZ02 calls by the IVR: no panel
    assert (cap.store_code, cap.today, cap.tomorrow) == ("SZ01", date(2026, 11, 20), date(2026, 11, 21))
    # made: RO-1..6; still waiting today: RO-Y's second call (09:00) and RO-2, RO-4, RO-6's (14:00)
    assert (cap.made_today, cap.waiting_today, cap.due_today) == (6, 4, 10)
    one, two = cap.callers
    # caller1: 4 calls, 3 intervals in the 18 minutes from 10:00 to 10:18 -> 10 an hour; reached 2 of 4
    assert (one.username, one.calls, one.reached, one.per_hour, one.reach_percent) == ("caller1", 4, 2, 10.0, 50.0)
    # caller2: 2 calls, 1 interval in 30 minutes -> 2 an hour; reached 1 (the callback) of 2
    assert (two.username, two.calls, two.reached, two.per_hour, two.reach_percent) == ("caller2", 2, 1, 2.0, 50.0)
    # tomorrow: RO-5's callback (10:00), RO-7 (09:00), RO-8 (16:00); Saturday's hours 3 + 4
    assert (cap.due_tomorrow, cap.staff_hours_tomorrow) == (3, 7.0)
    # pace (10 + 2) / 2 = 6 an hour: 3 calls take one caller half an hour, so one caller is enough
    assert (cap.pace, cap.hours_needed_tomorrow, cap.callers_needed_tomorrow) == (6.0, 0.5, 1)


def test_calling_hours_follow_the_store_and_closed_days(crt: Runtime) -> None:
    assert call_hours_on(date(2026, 11, 21), crt.settings, "SZ01") == 7.0  # staff store: 09-12 and 14-18
    assert call_hours_on(date(2026, 11, 21), crt.settings, "SZ02") == 9.0  # IVR store: 09-12 and 14-20
    assert call_hours_on(date(2026, 10, 1), crt.settings, "SZ01") == 0.0  # National Day


def test_a_pace_needs_two_calls_and_a_closed_tomorrow_needs_nobody() -> None:
    first = datetime(2026, 11, 20, 2, 0)
    alone = CallerDay("caller1", 1, 1, first, first)
    assert (alone.per_hour, alone.reach_percent) == (None, 100.0)
    busy = CallerDay("caller2", 31, 12, first, first + timedelta(hours=5))
    assert (busy.per_hour, busy.reach_percent) == (6.0, 38.7)
    cap = StaffCapacity("SZ01", "店", date(2026, 11, 20), 32, 50, [alone, busy], date(2026, 11, 21), 100, 7.0)
    # 100 calls at 6 an hour are 16.7 hours of one caller: three people within 7 hours
    assert (cap.pace, cap.hours_needed_tomorrow, cap.callers_needed_tomorrow) == (6.0, 16.7, 3)
    closed = StaffCapacity("SZ01", "店", date(2026, 11, 20), 0, 0, [busy], date(2026, 11, 21), 4, 0.0)
    assert closed.callers_needed_tomorrow is None
    unknown = StaffCapacity("SZ01", "店", date(2026, 11, 20), 1, 0, [alone], date(2026, 11, 21), 4, 7.0)
    assert (unknown.pace, unknown.hours_needed_tomorrow, unknown.callers_needed_tomorrow) == (None, None, None)
