"""Shared fixtures: settings, a migrated database on SQLite and PostgreSQL, and a network guard."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from template_db import empty_postgres, prepare_database

import followup.db
import followup.runtime
from followup import accounts
from followup.db import make_engine
from followup.runtime import Runtime, build_runtime, sync_stores
from followup.schema import upgrade
from followup.settings import Settings, load_settings

#: fixtures shared by many areas, defined beside their fakes (``emulator``, ``twilio_rt``)
pytest_plugins = ["fakes.twilio_env", "e2e.browser_fixtures"]

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
PG_URL = os.environ.get("FOLLOWUP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach beyond loopback."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address:
            host = str(address[0])
            try:
                ok = ipaddress.ip_address(host).is_loopback
            except ValueError:
                ok = host == "localhost"
            if not ok:
                raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


#: Argon2id as the service stores it, at the least cost argon2 allows: a hash and a check take a
#: millisecond instead of a third of a second (the suite adds users and logs in hundreds of times).
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_password_hash: hash passwords with the service's own Argon2id cost")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, the longest of them (``slow(seconds=…)``) leading: with ``-n 2`` a long
    test that starts last keeps one worker busy after the other has run out of tests (longest first
    is the usual way to balance). Otherwise the order stays as collected."""

    def expected_seconds(item: pytest.Item) -> float:
        slow = item.get_closest_marker("slow")
        return 0.0 if slow is None else float(slow.kwargs.get("seconds", 5))

    items.sort(key=expected_seconds, reverse=True)


@pytest.fixture(autouse=True)
def _quick_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords are hashed and checked with ``QUICK_HASHER`` (the same code, the same Argon2id
    format), except in tests marked ``real_password_hash``, which prove the real cost."""
    if request.node.get_closest_marker("real_password_hash") is None:
        monkeypatch.setattr(accounts, "_hasher", QUICK_HASHER)


UNIT = Path(__file__).resolve().parent / "unit"
#: the fixtures that open a database (here, fakes/twilio_env.py, security/conftest.py)
DATABASE_FIXTURES = {"rt", "backend", "pg_template", "twilio_rt", "world"}


@pytest.fixture(autouse=True)
def _unit_tests_are_pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """``tests/unit`` holds the pure tests (``make unit`` runs them alone, in seconds): one there that
    asks for a database fixture or builds an engine fails, saying where it belongs. (A guard here,
    not in a ``tests/unit/conftest.py``: a second module named ``conftest`` would shadow this one
    for ``from conftest import ...``.)"""
    if not request.node.path.is_relative_to(UNIT):
        return
    asked = DATABASE_FIXTURES.intersection(request.fixturenames)
    if asked:
        pytest.fail(f"a unit test asks for {', '.join(sorted(asked))}: move it to tests/integration/ or its area")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a unit test builds a database engine: move it to tests/integration/ or its area")

    monkeypatch.setattr(followup.db, "make_engine", refuse)
    monkeypatch.setattr(followup.runtime, "make_engine", refuse)


def make_settings(tmp_path: Path, **env: str) -> Settings:
    base = {"FOLLOWUP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}"}
    base.update(env)
    return load_settings(base)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@contextmanager
def new_pg_schema(prefix: str) -> Iterator[str]:
    """A schema of its own (``prefix`` and a random tail) on the test server; the URL that works in it.
    Dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # pragma: no cover - only when PostgreSQL is down
        pytest.fail(f"PostgreSQL at {PG_URL} is not answering: {exc}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """One PostgreSQL schema per test process, migrated once; each test empties it (``migrated_runtime``)."""
    with new_pg_schema("t") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


def migrated_runtime(settings: Settings) -> Runtime:
    """A runtime on ``settings``' fresh database, its stores synced: the session's PostgreSQL schema
    is emptied, a new SQLite file is a copy of the migrated template (``template_db.py``); an
    existing SQLite file is migrated in place. Shared by every ``rt``-like fixture; the caller disposes."""
    copied = prepare_database(settings.database_url)
    runtime = build_runtime(settings)
    if runtime.engine.dialect.name == "postgresql":
        empty_postgres(runtime.engine)
    elif not copied:
        upgrade(runtime.engine)
    with runtime.sessions() as s:
        sync_stores(s, runtime.settings)
        s.commit()
    return runtime


def database_url(backend: str, request: pytest.FixtureRequest, sqlite_file: Path) -> str:
    """The session's migrated PostgreSQL schema, or a new SQLite file (``migrated_runtime`` makes it
    a copy of the migrated template)."""
    return str(request.getfixturevalue("pg_template")) if backend == "postgres" else f"sqlite:///{sqlite_file}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def rt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A runtime on a freshly migrated database, SQLite and PostgreSQL."""
    url = database_url(backend, request, tmp_path / "test.db")
    runtime = migrated_runtime(make_settings(tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1"))
    yield runtime
    runtime.dispose()


@pytest.fixture
def samples() -> Path:
    assert SAMPLES.is_dir(), f"shared samples not found at {SAMPLES}"
    return SAMPLES
