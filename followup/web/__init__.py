"""The Flask application: admin panel, JSON API, Twilio endpoints, webhook receiver."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

from ..runtime import Runtime, build_runtime
from ..settings import Settings

csrf = CSRFProtect()

#: request bodies above this are refused with 413 (a DMS batch of ~2,000 visits fits)
MAX_BODY = 2 * 1024 * 1024


def create_app(*, runtime: Runtime | None = None, settings: Settings | None = None) -> Flask:
    """Build the app; nothing is created at import time."""
    rt = runtime or build_runtime(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=rt.settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=rt.settings.env == "production",
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=rt.settings.env == "test",
    )
    app.extensions["followup"] = rt
    csrf.init_app(app)

    from . import health
    from .admin import views as admin_views
    from .api import visits as api_visits

    app.register_blueprint(health.bp)
    app.register_blueprint(api_visits.bp)
    csrf.exempt(api_visits.bp)
    admin_views.init_app(app)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    @app.after_request
    def _security_headers(resp: Any) -> Any:
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        from flask import request

        if request.path.startswith(("/api/", "/healthz")):
            return jsonify({"error": exc.name, "message": exc.description}), exc.code
        return exc

    return app


def runtime() -> Runtime:
    """The current app's runtime (settings, sessions, clock)."""
    from flask import current_app

    return current_app.extensions["followup"]


def db_session() -> Any:
    """One session per request, closed at teardown."""
    if "db" not in g:
        g.db = runtime().sessions()
    return g.db
