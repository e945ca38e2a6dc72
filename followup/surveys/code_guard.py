"""How many unknown reply codes ``/s/<code>`` answers before a client must wait.

The state is rows of ``survey_code_misses`` (one per unknown code tried), so that every web
process sees the same counts and a restart forgets nothing. Two limits, over the same window
(``[web_survey]``, wall-clock time, also under the test clock: guessing is about real seconds):

* one client address (an IPv6 /64) may miss ``misses_per_address`` times;
* when every address together has missed ``misses_alarm`` times, an address that has missed at
  all waits for the window to pass: a scanner that rotates addresses gets one guess per address
  instead of twenty, while a customer who types their own code right has never missed and is
  answered as usual.

A client that must wait is not told whether its code exists (the code is not even looked up).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from followup.models import CodeMiss
from followup.settings import CodeGuardSettings


def _misses(session: Session, since: datetime, enough: int, client: str | None = None) -> int:
    """Misses since ``since`` (of ``client``, or of everybody), counted up to ``enough`` at most:
    the count stops at the limit, however many rows a scanner left."""
    q = select(CodeMiss.id).where(CodeMiss.at > since)
    if client is not None:
        q = q.where(CodeMiss.client == client)
    return int(session.scalar(select(func.count()).select_from(q.limit(enough).subquery())) or 0)


def must_wait(session: Session, guard: CodeGuardSettings, client: str, wall: datetime) -> bool:
    """True when ``client`` is to be told to wait instead of having its code looked up."""
    since = wall - guard.window
    mine = _misses(session, since, guard.misses_per_address, client)
    if mine >= guard.misses_per_address:
        return True
    return mine > 0 and _misses(session, since, guard.misses_alarm) >= guard.misses_alarm


def record_miss(session: Session, client: str, wall: datetime) -> None:
    """One unknown code tried by ``client`` (the caller commits)."""
    session.add(CodeMiss(client=client, at=wall))


def forget_misses(session: Session, guard: CodeGuardSettings, wall: datetime) -> int:
    """Delete the misses older than the window (they count for nothing): the daily purge."""
    done = cast("CursorResult[Any]", session.execute(delete(CodeMiss).where(CodeMiss.at <= wall - guard.window)))
    return int(done.rowcount or 0)
