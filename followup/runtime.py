"""What a process needs at run time, built once from settings: engine, sessions, clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from followup.clock import Clock, SystemClock, TestClock
from followup.db import make_engine, make_session_factory
from followup.models import Store
from followup.settings import Settings, load_settings


@dataclass
class Runtime:
    """The process's wiring. Built by the CLI, ``create_app`` and the worker; never at import."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock

    def dispose(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings | None = None, *, engine: Engine | None = None) -> Runtime:
    settings = settings or load_settings()
    from followup.log_privacy import (
        install as redact_logs,  # no secret or full phone number in any log record
    )

    redact_logs(settings)
    engine = engine or make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    clock: Clock = TestClock(sessions) if settings.test_clock else SystemClock()
    return Runtime(settings, engine, sessions, clock)


def sync_stores(session: Session, settings: Settings) -> dict[str, int]:
    """Make sure every configured store has its row; returns code -> id."""
    existing = {s.code: s for s in session.scalars(select(Store))}
    for code, cfg in settings.stores.items():
        row = existing.get(code)
        if row is None:
            row = Store(code=code, name=cfg.name, timezone=cfg.timezone.key, created_at=datetime.now(UTC))
            session.add(row)
            existing[code] = row
        else:
            row.name, row.timezone = cfg.name, cfg.timezone.key
    session.flush()
    return {code: s.id for code, s in existing.items()}
