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
    from .i18n import init_babel

    init_babel(app)  # zh-CN first, ?lang=en; catalogues in followup/translations

    from . import health
    from .admin import views as admin_views
    from .api import visits as api_visits

    app.register_blueprint(health.bp)
    app.register_blueprint(api_visits.bp)
    csrf.exempt(api_visits.bp)
    from .twilio import views as twilio_views  # signed by Twilio instead of a CSRF token

    app.register_blueprint(twilio_views.bp)
    csrf.exempt(twilio_views.bp)
    admin_views.init_app(app)
    from .admin import complaints as admin_complaints  # complaints and scores (#6)
    from .admin import reports as admin_reports
    from .api import reports as api_reports

    app.register_blueprint(api_reports.bp)
    csrf.exempt(api_reports.bp)  # bearer token, no cookie: nothing to forge
    admin_complaints.init_app(app)
    admin_reports.init_app(app)
    from .admin import letters as admin_letters  # letter batches and paper replies (#5)
    from .survey import init_app as survey_init_app  # the customers' web survey /s/<code> (#5)

    survey_init_app(app)
    admin_letters.init_app(app)
    from .webhooks import init_app as webhooks_init_app  # receiver, live stream, subscribers page (#7)

    webhooks_init_app(app, csrf)

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
