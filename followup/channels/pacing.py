"""Calls-per-second and SMS-per-second pacing, shared by every worker through the database.

Twilio queues what it cannot place at once (one call per second per account by default), so a
large backlog sent in one go would ring customers hours later, outside the calling window. Each
key ("call:<AccountSid>", "sms:<sender>") has one row holding the next free wall-clock instant;
taking a slot is one atomic ``UPDATE ... WHERE next_free_at <= now``, so several workers on
PostgreSQL respect one limit. Time here is the machine's wall clock (CONTRACT §5), also under the
test clock, which stands still between moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from followup.models import PacingSlot


@dataclass
class Pacer:
    """Hands out send slots at ``rate`` per second per key; waits briefly, never long."""

    #: the database holding the slots (a session's bind: an engine, or a connection in tests)
    engine: Engine | Connection
    #: the longest a single send waits for its slot before its row is left for the next tick
    max_wait: float = 1.5
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def try_take(self, key: str, rate: float) -> float:
        """Take the slot if it is free now (returns 0.0), else how many seconds until it is."""
        now = self.wall()
        interval = 1.0 / rate
        with Session(self.engine) as s:
            taken = s.execute(
                update(PacingSlot).where(PacingSlot.key == key, PacingSlot.next_free_at <= now)
                .values(next_free_at=now + interval)
            ).rowcount  # type: ignore[attr-defined]
            if taken:
                s.commit()
                return 0.0
            free_at = s.scalar(select(PacingSlot.next_free_at).where(PacingSlot.key == key))
            if free_at is None:
                try:
                    s.execute(insert(PacingSlot).values(key=key, next_free_at=now + interval))
                    s.commit()
                    return 0.0
                except IntegrityError:  # another worker created it this instant
                    s.rollback()
                    return interval
            s.rollback()
            return max(free_at - now, 0.001)

    def admit(self, key: str, rate: float, *, budget: float) -> tuple[bool, float]:
        """(True, waited) when a send may go now, after at most ``max_wait`` and within ``budget``
        seconds of waiting; (False, waited): leave the row for the next tick."""
        waited = 0.0
        for _ in range(20):
            wait = self.try_take(key, rate)
            if wait == 0.0:
                return True, waited
            if wait > self.max_wait or waited + wait > budget:
                return False, waited
            self.sleep(wait)
            waited += wait
        return False, waited
