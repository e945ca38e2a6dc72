"""What every bench section shares: a result row, fresh databases, a fixed clock."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from followup.clock import FixedClock
from followup.runtime import Runtime, build_runtime
from followup.schema import upgrade
from followup.settings import load_settings

PG_URL = os.environ.get("FOLLOWUP_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: a Tuesday 11:00 in Shanghai: inside the calling window, so due calls go out
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


@dataclass
class Row:
    """One measured number; ``target`` says what issue #9 asks for, ``met`` whether we got there."""

    section: str
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    quick: bool
    workdir: Path
    progress: bool = True

    def say(self, message: str) -> None:
        if self.progress:
            print(message, flush=True)


#: the worker's own settings, passed on from this process's environment (a test that kills workers
#: shortens the lease with FOLLOWUP_LEASE_SECONDS)
WORKER_VARIABLES = ("FOLLOWUP_DISPATCH_BATCH", "FOLLOWUP_LEASE_SECONDS", "FOLLOWUP_TICK_SECONDS")


def settings_env(url: str) -> dict[str, str]:
    worker = {name: os.environ[name] for name in WORKER_VARIABLES if name in os.environ}
    return {"DATABASE_URL": url, "FOLLOWUP_ENV": "test", "FOLLOWUP_CHANNEL_MODE": "sandbox", **worker}


def runtime_for(url: str, now: datetime = NOW) -> Runtime:
    rt = build_runtime(load_settings(settings_env(url)))
    return Runtime(rt.settings, rt.engine, rt.sessions, FixedClock(now))


@contextmanager
def sqlite_db(ctx: Context) -> Iterator[str]:
    d = Path(tempfile.mkdtemp(dir=ctx.workdir))
    url = f"sqlite:///{d}/bench.db"
    upgrade(runtime_for(url).engine)
    yield url


@contextmanager
def pg_db() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade(runtime_for(url).engine)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def pg_available() -> bool:
    try:
        with create_engine(PG_URL).connect() as c:
            c.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
