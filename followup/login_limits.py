"""The admin panel's login limits: nobody can guess passwords, lock a colleague out, or exhaust memory.

- **A username** is refused for 15 minutes after 10 failed logins for it within 15 minutes
  (CONTRACT §4b), even with the right password, from the addresses that failed.
- **A correct password from an address that has not failed for that username** still logs in:
  an attacker who keeps ``admin`` locked from elsewhere does not lock the real administrator out.
  Such an address gets one try while the lock lasts; a wrong one makes it an address that failed.
- **An address** (an IPv6 address counts as its /64) is refused for 15 minutes after 20 failed
  logins from it within 15 minutes, whatever usernames it tried: guessing across usernames costs
  the attacker, not the users.
- **Password checks** (Argon2id, 64 MiB each) run at most ``HASHING_SLOTS`` at a time per
  process; one more is answered "busy" at once instead of queueing on the threads the Twilio
  webhooks need.
- ``followup users unlock USERNAME`` lifts a username's lock at once (audited).

Failures live in the database (``login_failures``, with the address), so every web process counts
the same failures. The clock is the service's (``rt.clock``), like the lock of CONTRACT §4b.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from followup import audit
from followup.accounts import AccountError, authenticate
from followup.models import LoginFailure, User

#: failures for one username within ``WINDOW`` that lock it (CONTRACT §4b)
USERNAME_FAILURES = 10
#: failures from one address, any usernames, within ``WINDOW`` that refuse the address
ADDRESS_FAILURES = 20
#: how far back failures count, and how long a lock lasts from the failure that completed it
WINDOW = timedelta(minutes=15)
#: password checks one web process runs at the same time (each Argon2id check takes 64 MiB)
HASHING_SLOTS = 3

_hashing = threading.BoundedSemaphore(HASHING_SLOTS)


class HashingBusy(Exception):
    """Every password-check slot of this process is taken: answer "busy", do not queue."""


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the process's ``HASHING_SLOTS`` while a password is checked; :class:`HashingBusy`
    at once when none is free."""
    if not _hashing.acquire(blocking=False):
        raise HashingBusy
    try:
        yield
    finally:
        _hashing.release()


def _locked(times: list[datetime], n: int, now: datetime) -> bool:
    """True when ``n`` of ``times`` (in order) fell within ``WINDOW`` and the last of them is less
    than ``WINDOW`` ago: the lock runs from the failure that completed the ``n``, so it lasts the
    full 15 minutes however the failures were spread (refused attempts are not failures)."""
    return any(times[i] - times[i - n + 1] < WINDOW and now - times[i] < WINDOW for i in range(n - 1, len(times)))


def username_locked(session: Session, username: str, *, now: datetime) -> bool:
    """CONTRACT §4b's lock: 10 failures for ``username`` within 15 minutes, for 15 minutes
    (failures cleared by ``followup users unlock`` do not count)."""
    times = list(session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.username == username, LoginFailure.cleared_at.is_(None),
               LoginFailure.at > now - 2 * WINDOW, LoginFailure.at <= now)
        .order_by(LoginFailure.at)
    ))
    return _locked(times, USERNAME_FAILURES, now)


def address_refused(session: Session, address: str, *, now: datetime) -> bool:
    """20 failures from ``address`` (any usernames) within 15 minutes refuse it for 15 minutes."""
    times = list(session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.address == address, LoginFailure.at > now - 2 * WINDOW, LoginFailure.at <= now)
        .order_by(LoginFailure.at)
    ))
    return _locked(times, ADDRESS_FAILURES, now)


def failed_from(session: Session, username: str, address: str, *, now: datetime) -> bool:
    """True when ``address`` failed a login for ``username`` recently enough to count toward its lock."""
    return session.scalar(
        select(LoginFailure.id)
        .where(LoginFailure.username == username, LoginFailure.address == address,
               LoginFailure.cleared_at.is_(None), LoginFailure.at > now - 2 * WINDOW, LoginFailure.at <= now)
        .limit(1)
    ) is not None


@dataclass(frozen=True)
class LoginAttempt:
    """What a login attempt came to: ``user`` when it succeeded, else why not (``refused``)."""

    user: User | None
    #: "wrong" (401), "locked" (the username, 429), "address" (this address, 429) or "busy" (503)
    refused: str | None = None


def attempt_login(session: Session, username: str, password: str, *, address: str, now: datetime) -> LoginAttempt:
    """Check the limits, then the password (in a hashing slot); a wrong password is recorded with
    ``address``. The caller commits. No password is checked for a refused address or username."""
    if address_refused(session, address, now=now):
        return LoginAttempt(None, "address")
    locked = username_locked(session, username, now=now)
    if locked and failed_from(session, username, address, now=now):
        return LoginAttempt(None, "locked")
    try:
        with hashing_slot():
            user = authenticate(session, username, password, now=now, address=address)
    except HashingBusy:
        return LoginAttempt(None, "busy")
    if user is None:
        return LoginAttempt(None, "locked" if locked else "wrong")
    return LoginAttempt(user)


def unlock(session: Session, username: str, *, now: datetime, actor: str) -> int:
    """Lift ``username``'s login lock at once: its failures no longer count toward the lock (they
    still count for their addresses). Audited as ``user.unlocked`` by ``actor``; the number of
    failures cleared. AccountError when there is no such user (a typo would unlock nobody)."""
    if session.scalar(select(User.id).where(User.username == username)) is None:
        raise AccountError(f"no user named {username!r}")
    done = session.execute(
        update(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.cleared_at.is_(None))
        .values(cleared_at=now)
    )
    cleared = cast(CursorResult[Any], done).rowcount
    audit.record(session, actor, "user.unlocked", at=now, username=username, failures_cleared=cleared)
    return int(cleared or 0)
