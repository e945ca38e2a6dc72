"""The Alembic migration against the models, and the database's own guards, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, inspect, text, update
from sqlalchemy.exc import DBAPIError

from followup.db import make_engine
from followup.models import AuditEntry, Base
from followup.runtime import Runtime
from followup.schema import alembic_config, is_current, upgrade

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PG_URL = os.environ.get("FOLLOWUP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, Base.metadata))


def test_the_migration_and_the_models_agree(rt: Runtime) -> None:
    # Any difference here means a model changed without its migration (or the reverse).
    assert differences(rt.engine) == []


def test_every_model_table_exists(rt: Runtime) -> None:
    tables = set(inspect(rt.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert is_current(rt.engine)


def partial_index_sql(engine: Engine, name: str) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"), {"n": name})
        else:
            sql = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n AND schemaname = current_schema()"), {"n": name})
        return str(sql.scalar_one())


@pytest.mark.parametrize(("name", "status"), [("ix_attempts_due", "planned"), ("ix_attempts_dispatching", "dispatching")])
def test_the_partial_indexes_are_partial(rt: Runtime, name: str, status: str) -> None:
    # compare_metadata does not look at an index's WHERE clause
    sql = partial_index_sql(rt.engine, name)
    assert "WHERE" in sql.upper() and status in sql


def add_audit_row(rt: Runtime) -> int:
    with rt.sessions() as s:
        entry = AuditEntry(at=NOW, actor="system", action="test.row", detail={"n": 1})
        s.add(entry)
        s.commit()
        return entry.id


def test_the_audit_log_refuses_update(rt: Runtime) -> None:
    row_id = add_audit_row(rt)
    with pytest.raises(DBAPIError) as info, rt.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.id == row_id).values(action="rewritten"))
    assert "append-only" in str(info.value)
    with rt.sessions() as s:
        entry = s.get(AuditEntry, row_id)
        assert entry is not None and entry.action == "test.row"


def test_the_audit_log_refuses_delete(rt: Runtime) -> None:
    row_id = add_audit_row(rt)
    with pytest.raises(DBAPIError) as info, rt.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.id == row_id))
    assert "append-only" in str(info.value)
    with pytest.raises(DBAPIError), rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    with rt.sessions() as s:
        assert s.get(AuditEntry, row_id) is not None


def test_the_audit_log_refuses_an_orm_rewrite(rt: Runtime) -> None:
    row_id = add_audit_row(rt)
    with rt.sessions() as s:
        entry = s.get(AuditEntry, row_id)
        assert entry is not None
        entry.actor = "someone-else"
        with pytest.raises(DBAPIError):
            s.commit()
        s.rollback()
    with rt.sessions() as s:
        entry = s.get(AuditEntry, row_id)
        assert entry is not None and entry.actor == "system"


def test_the_audit_log_accepts_inserts(rt: Runtime) -> None:
    first, second = add_audit_row(rt), add_audit_row(rt)
    assert second > first


@pytest.fixture
def fresh_engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """An engine on an empty database of its own (a new file, or a new PostgreSQL schema)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_downgrade_and_upgrade_again(fresh_engine: Engine) -> None:
    assert not is_current(fresh_engine)
    upgrade(fresh_engine)
    assert is_current(fresh_engine)
    cfg = alembic_config(fresh_engine.url.render_as_string(hide_password=False))
    with fresh_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(fresh_engine).get_table_names()) <= {"alembic_version"}
    upgrade(fresh_engine)
    assert differences(fresh_engine) == []
