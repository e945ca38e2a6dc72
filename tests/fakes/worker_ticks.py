"""The worker over simulated days: the test clock jumps from one due moment to the next and a tick
runs there (no test sleeps).

Importable from any test as ``from fakes.worker_ticks import ...`` (``tests/`` is on the path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.sql import Executable

from followup.models import ContactAttempt, FollowupCase
from followup.runtime import Runtime

T = TypeVar("T")

#: the earliest planned contact, and the earliest check of a case still open
CONTACT_DUE = select(func.min(ContactAttempt.due_at)).where(ContactAttempt.status == "planned")
CASE_CHECK_DUE = select(func.min(FollowupCase.next_check_at)).where(FollowupCase.state != "closed")


def next_due(rt: Runtime, *also: Executable) -> datetime | None:
    """The next moment a contact or a case check falls due; ``also``: more moments that count
    (each a query for one time, e.g. a complaint's escalation)."""
    with rt.sessions() as s:
        times = [s.scalar(q) for q in (CONTACT_DUE, CASE_CHECK_DUE, *also)]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def run_due_until(rt: Runtime, step: Callable[[], T], until: datetime, *, also_due: Sequence[Executable] = (),
                  most: int = 500) -> list[T]:
    """Run ``step`` (a tick, usually) at every moment something falls due, up to ``until``, at most
    ``most`` times; the clock ends at ``until`` (or later, if a step moved it). What each step
    returned, in order."""
    done: list[T] = []
    for _ in range(most):
        at = next_due(rt, *also_due)
        if at is None or at > until:
            break
        if at > rt.clock.now():
            rt.clock.set(at)  # type: ignore[attr-defined]
        done.append(step())
    rt.clock.set(max(until, rt.clock.now()))  # type: ignore[attr-defined]
    return done
