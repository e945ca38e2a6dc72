"""R3: the IVR offers only callback slots still ahead, and a callback is never placed sooner than
30 minutes after it was asked for (the IVR's slots, or a time staff record)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import case_facts

from followup.rules.callback_slots import MIN_NOTICE, offered_slots, slot_time
from followup.rules.contact_policy import AttemptFacts, plan_next_contact
from followup.settings import ContactPolicy, load_settings

TZ = ZoneInfo("Asia/Shanghai")
POLICY: ContactPolicy = load_settings({}).stores["SZ01"].policy


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


@pytest.mark.parametrize(("now", "slots"), [
    ("2026-11-20 09:00", (1, 2, 3)),
    ("2026-11-20 17:30", (1, 2, 3)),  # 18:00 is exactly 30 minutes ahead
    ("2026-11-20 17:31", (2, 3)),
    ("2026-11-20 18:00", (2, 3)),
    ("2026-11-20 19:59", (2, 3)),
    ("2026-11-20 23:50", (2, 3)),  # "tomorrow" is the next day of the store's calendar
])
def test_only_slots_at_least_30_minutes_ahead_are_offered(now: str, slots: tuple[int, ...]) -> None:
    assert offered_slots(local(now), TZ) == slots


def test_slot_times_in_store_local_time() -> None:
    now = local("2026-11-20 10:00")
    assert slot_time(1, now, TZ) == local("2026-11-20 18:00")
    assert slot_time(2, now, TZ) == local("2026-11-21 09:30")
    assert slot_time(3, now, TZ) == local("2026-11-21 15:00")
    assert slot_time(4, now, TZ) is None and slot_time(None, now, TZ) is None
    assert timedelta(minutes=30) == MIN_NOTICE


def callback_call(ended: str, callback_at: datetime | None) -> AttemptFacts:
    at = local(ended)
    return AttemptFacts("call", "survey", "done", "callback_requested", at, at - timedelta(minutes=2), at,
                        callback_at=callback_at)


@pytest.mark.parametrize(("ended", "asked_for", "due"), [
    ("2026-11-20 18:05", "2026-11-20 18:00", "2026-11-20 18:35"),  # a slot already passed: not at once
    ("2026-11-20 17:50", "2026-11-20 18:00", "2026-11-20 18:20"),  # 10 minutes ahead: 30 after asking
    ("2026-11-20 10:00", "2026-11-20 10:10", "2026-11-20 10:30"),  # staff wrote a time 10 minutes ahead
    ("2026-11-20 10:00", "2026-11-21 09:30", "2026-11-21 09:30"),  # far enough ahead: as asked
    ("2026-11-20 19:45", "2026-11-20 19:50", "2026-11-21 09:00"),  # 20:15 is outside: next window
])
def test_a_callback_is_never_placed_sooner_than_30_minutes_after_it_was_asked_for(ended: str, asked_for: str,
                                                                                    due: str) -> None:
    case = case_facts(local("2026-11-19 10:00"), POLICY.deadline, None)
    history = [callback_call(ended, local(asked_for))]
    decision = plan_next_contact(case, history, local(ended) + timedelta(minutes=1), POLICY, TZ)
    assert (decision.action, decision.reason, decision.due_at) == ("call", "callback", local(due))
