"""How an admin form post ends: the change is kept or refused, the page says so, the browser goes back.

The service function did the work (and its audit row) in the request's session; the view only
chooses between :func:`done` and :func:`refused`, so that no refused change is ever half-committed.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, url_for

from followup.web.context import db_session


def panel_actor() -> str:
    """Who is acting, as the audit log names a panel user (R10)."""
    return f"user:{g.user.username}"


def done(message: str | None, endpoint: str, **values: Any) -> Any:
    """Commit the request's change, flash ``message`` (the page translates it) and go to ``endpoint``."""
    db_session().commit()
    if message:
        flash(message, "ok")
    return redirect(url_for(endpoint, **values))


def refused(error: Exception | str, endpoint: str, **values: Any) -> Any:
    """Roll back whatever the request changed, flash why (the page translates it) and go to ``endpoint``."""
    db_session().rollback()
    flash(str(error), "error")
    return redirect(url_for(endpoint, **values))
