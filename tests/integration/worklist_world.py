"""A store whose calls are made by information staff (``FOLLOWUP_CALLS_BY=staff``), its visits and
its people, for the call worklist's tests (service, API, end to end).

Friday 20 November 2026 in Shanghai: the staff hours ∩ calling windows are 09:00-12:00 and
14:00-18:00. A visit delivered on Thursday at 10:00 has its first call due on Friday at 10:00
and its deadline on Sunday at 10:00.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import database_url, make_settings, migrated_runtime
from factories import add_visit, local, make_user, visit_row
from sqlalchemy import select

from followup.accounts import token_hash
from followup.models import ApiToken, ContactAttempt, Store, User
from followup.runtime import Runtime

#: Thursday 19 November 2026, 10:00 in Shanghai
DELIVERED = local(2026, 11, 19, 10, 0)
#: the first call falls due (D + 24h, inside staff hours)
FIRST_DUE = local(2026, 11, 20, 10, 0)
#: every answer of a satisfied customer, and of a dissatisfied one (R5)
GOOD = {"overall": 10, "on_time": "yes", "advisor": "9", "comment": "很好"}
BAD = {"overall": 3, "on_time": "no", "advisor": 5, "comment": "等了太久"}


def staff_runtime(backend: str, tmp_path: Path, request: pytest.FixtureRequest, **env: str) -> Runtime:
    """A runtime whose every store calls by staff, on a freshly migrated database (SQLite or PostgreSQL)."""
    url = database_url(backend, request, tmp_path / "test.db")
    return migrated_runtime(make_settings(tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1",
                                          FOLLOWUP_CALLS_BY="staff", **env))


def at(rt: Runtime, when: datetime) -> datetime:
    """Move the test clock to ``when``; returns it."""
    rt.clock.set(when)  # type: ignore[attr-defined]
    return when


def staff_visit(rt: Runtime, ro: str, *, mobile: str = "+8613800138000", delivered: datetime = DELIVERED,
                **fields: Any) -> int:
    """A visit of SZ01 imported at its delivery time with its first call planned; its case id."""
    return add_visit(rt, visit_row(ro, mobile=mobile, delivered_at=delivered, **fields), plan=True)


def staffed(backend: str, tmp_path: Path, request: pytest.FixtureRequest, when: datetime) -> Iterator[Runtime]:
    """The body of a runtime fixture (``yield from staffed(...)``): :func:`staff_runtime` with
    :func:`people`, the test clock at ``when``; disposed after the test."""
    runtime = staff_runtime(backend, tmp_path, request)
    at(runtime, when)
    people(runtime)
    yield runtime
    runtime.dispose()


def people(rt: Runtime) -> None:
    """Three information staff, a manager, an advisor (SA01, 王强) and a manager of another store."""
    for name in ("caller1", "caller2", "caller3"):
        make_user(rt, name, "info_staff", at=DELIVERED)
    make_user(rt, "boss", "manager", at=DELIVERED)
    make_user(rt, "wang", "advisor", advisor="SA01", at=DELIVERED)


def user_token(rt: Runtime, username: str, *, scope: str | None = None, store: str | None = None) -> str:
    """A bearer token that acts as ``username`` (``followup tokens create NAME --user USERNAME``,
    with ``--scope``/``--store`` when given); only its hash is stored, as the service stores them."""
    token = "fu_" + secrets.token_urlsafe(32)
    with rt.sessions() as s:
        user_id = s.scalar(select(User.id).where(User.username == username))
        store_id = s.scalar(select(Store.id).where(Store.code == store)) if store else None
        assert user_id is not None and (store is None or store_id is not None)
        s.add(ApiToken(name=f"cti-{username}", token_hash=token_hash(token), prefix=token[:8],
                       created_at=rt.clock.now(), user_id=user_id, store_id=store_id, scope=scope))
        s.commit()
    return token


def user(rt: Runtime, username: str) -> User:
    with rt.sessions() as s:
        found = s.scalar(select(User).where(User.username == username))
        assert found is not None
        s.expunge(found)
        return found


def planned_call(rt: Runtime, case_id: int) -> ContactAttempt:
    """The case's planned call (the worklist's row)."""
    with rt.sessions() as s:
        row = s.scalar(select(ContactAttempt).where(ContactAttempt.case_id == case_id, ContactAttempt.channel == "call",
                                                    ContactAttempt.status == "planned"))
        assert row is not None, f"case {case_id} has no planned call"
        s.expunge(row)
        return row


def calls_of(rt: Runtime, case_id: int) -> list[ContactAttempt]:
    with rt.sessions() as s:
        rows = list(s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id,
                                                           ContactAttempt.channel == "call")
                              .order_by(ContactAttempt.id)))
        s.expunge_all()
        return rows


HOUR = timedelta(hours=1)
