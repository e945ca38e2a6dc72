"""Pooled PostgreSQL connections are tested only after sitting idle (``followup.db``).

A connection a database restart closed while it waited in the pool is replaced without the
caller noticing; a connection just used is handed out without the extra round trip.
"""

from __future__ import annotations

import pytest
from conftest import PG_URL
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from followup import db
from followup.db import make_engine

pytestmark = pytest.mark.postgres


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        assert c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def test_a_connection_closed_while_idle_is_replaced_without_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # every pooled connection counts as idle
    engine = make_engine(PG_URL)
    try:
        before = _backend_pid(engine)
        _terminate(before)
        after = _backend_pid(engine)  # the ping found it dead: a fresh connection, no error
        assert after != before
    finally:
        engine.dispose()


def test_a_connection_just_used_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)
    engine = make_engine(PG_URL)
    try:
        _terminate(_backend_pid(engine))
        # no ping on checkout: the dead connection is only found by the statement itself …
        with pytest.raises(OperationalError), engine.connect() as c:
            c.execute(text("SELECT 1"))
        # … and the pool then drops it, so the next caller gets a working one
        assert _backend_pid(engine) > 0
    finally:
        engine.dispose()
