"""What a request works with: the process's runtime (settings, sessions, clock) and its own DB session.

Every blueprint imports these from here, never from :mod:`followup.web` (which registers the
blueprints and so imports them).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g

from followup.runtime import Runtime


def runtime() -> Runtime:
    """The current app's runtime (settings, sessions, clock)."""
    rt: Runtime = current_app.extensions["followup"]
    return rt


def db_session() -> Any:
    """One session per request, closed at teardown."""
    if "db" not in g:
        g.db = runtime().sessions()
    return g.db


def init_app(app: Flask, rt: Runtime) -> None:
    app.extensions["followup"] = rt

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()
