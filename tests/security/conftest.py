"""The security tests' runtime: the test configuration plus a second store, SZ02, so that store
scoping is tested between two configured stores (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from followup.runtime import Runtime, build_runtime, sync_stores
from followup.schema import upgrade
from followup.settings import load_settings
from security.security_world import SZ02_ENV, World, build_world


def two_store_env(database_url: str, **extra: str) -> dict[str, str]:
    return {"FOLLOWUP_ENV": "test", "DATABASE_URL": database_url, "FOLLOWUP_TEST_CLOCK": "1", **SZ02_ENV, **extra}


@pytest.fixture
def rt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """Like the suite's ``rt``, with SZ01 and SZ02 configured."""
    if backend == "postgres":
        url = request.getfixturevalue("pg_template")
        runtime = build_runtime(load_settings(two_store_env(url)))
        with runtime.engine.connect() as c:
            names = [t for t in runtime.engine.dialect.get_table_names(c) if t != "alembic_version"]
        with runtime.engine.begin() as c:
            c.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    else:
        runtime = build_runtime(load_settings(two_store_env(f"sqlite:///{tmp_path / 'security.db'}")))
        upgrade(runtime.engine)
    with runtime.sessions() as s:
        sync_stores(s, runtime.settings)
        s.commit()
    yield runtime
    runtime.dispose()


@pytest.fixture
def world(rt: Runtime, tmp_path: Path) -> World:
    return build_world(rt, tmp_path)

