"""The callback slots the IVR offers when the customer presses 9 (R3). Pure.

1 = this evening 18:00, 2 = tomorrow 09:30, 3 = tomorrow 15:00, store local time. Only slots at
least :data:`MIN_NOTICE` ahead are offered (no "this evening" at 17:45 or after 18:00), and the
contact policy never places a callback sooner than :data:`MIN_NOTICE` after it was asked for.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

#: slot key -> (days from today, local time)
CALLBACK_SLOTS: dict[int, tuple[int, time]] = {1: (0, time(18, 0)), 2: (1, time(9, 30)), 3: (1, time(15, 0))}
#: a callback is at least this far ahead of the moment it was asked for
MIN_NOTICE = timedelta(minutes=30)


def slot_time(slot: int | None, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The instant of ``slot`` as seen at ``now`` (aware, in ``tz``'s offset); None for no such slot."""
    if slot not in CALLBACK_SLOTS:
        return None
    days, at = CALLBACK_SLOTS[slot]
    day = now.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(day, at, tzinfo=tz)


def offered_slots(now: datetime, tz: ZoneInfo) -> tuple[int, ...]:
    """The slots the IVR may offer at ``now``: those at least :data:`MIN_NOTICE` ahead, in key order."""
    return tuple(slot for slot in sorted(CALLBACK_SLOTS)
                 if (at := slot_time(slot, now, tz)) is not None and at >= now + MIN_NOTICE)
