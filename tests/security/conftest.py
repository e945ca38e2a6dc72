"""The security tests' runtime: the test configuration plus a second store, SZ02, so that store
scoping is tested between two configured stores (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import database_url, migrated_runtime

from followup.runtime import Runtime
from followup.settings import load_settings
from security.security_world import SZ02_ENV, World, build_world


def two_store_env(database_url: str, **extra: str) -> dict[str, str]:
    return {"FOLLOWUP_ENV": "test", "DATABASE_URL": database_url, "FOLLOWUP_TEST_CLOCK": "1", **SZ02_ENV, **extra}


@pytest.fixture
def rt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """Like the suite's ``rt``, with SZ01 and SZ02 configured."""
    url = database_url(backend, request, tmp_path / "security.db")
    runtime = migrated_runtime(load_settings(two_store_env(url)))
    yield runtime
    runtime.dispose()


@pytest.fixture
def world(rt: Runtime, tmp_path: Path) -> World:
    return build_world(rt, tmp_path)

