"""Engine and session factories. Built by ``create_app`` / the CLI / the worker, never at import."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if u.database and u.database != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    engine = create_engine(url, **kwargs)
    _ping_after_idle(engine)

    @event.listens_for(engine, "connect")
    def _no_jit(dbapi_conn: Any, _record: Any) -> None:
        # PostgreSQL's JIT compiles any query its planner thinks large: over a million cases the
        # monitor's funnel spent 170 of its 340 ms compiling. Our queries are short; run them plain.
        cur = dbapi_conn.cursor()
        cur.execute("SET jit = off")
        cur.close()
        dbapi_conn.commit()

    return engine


#: a pooled connection unused for longer than this is tested before it is handed out
PING_AFTER_IDLE = 10.0


def _ping_after_idle(engine: Engine) -> None:
    """Test a pooled connection on checkout only when it sat idle, not on every checkout.

    ``pool_pre_ping`` costs one round trip per checkout — a third of a Twilio status callback and
    one per dispatched row. A connection that waited in the pool is the one a database restart or
    an idle timeout may have closed: that one is tested; a dead one is replaced transparently.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _test_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            cur = dbapi_conn.cursor()
            cur.execute("SELECT 1")
            cur.close()
            dbapi_conn.rollback()
        except Exception as exc:  # the pool retries with a fresh connection
            raise DisconnectionError(f"pooled connection was closed while idle: {exc}") from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def insert_once(session: Session, table: type[Any], values: dict[str, Any], keys: list[str]) -> int | None:
    """Insert a row unless one with the same ``keys`` exists: its id, or None when it did.

    One statement (``INSERT … ON CONFLICT DO NOTHING RETURNING id``) instead of a savepoint, an
    insert and a release: a concurrent insert of the same key waits for the other to commit and
    then does nothing, as a unique violation would.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys).returning(table.id)
    return session.execute(stmt).scalar()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction at a service boundary: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
