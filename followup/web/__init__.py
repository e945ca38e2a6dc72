"""The Flask application: admin panel, JSON API, Twilio endpoints, webhook receiver."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from followup.runtime import Runtime, build_runtime
from followup.settings import Settings
from followup.web import context, request_log, templating
from followup.web.i18n import init_babel

csrf = CSRFProtect()

#: request bodies above this are refused with 413 (a DMS batch of ~2,000 visits fits)
MAX_BODY = 2 * 1024 * 1024
#: ``Strict-Transport-Security`` in production: a year, subdomains included
HSTS = "max-age=31536000; includeSubDomains"


class RowId(IntegerConverter):
    """``<int:...>`` in every route: a row id, so at most 2**31 - 1 (an INTEGER key on PostgreSQL,
    and within SQLite's range); a larger number is no row: 404, instead of a database error."""

    def __init__(self, url_map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)  # type: ignore[arg-type]


def blueprints() -> list[tuple[Blueprint, bool]]:
    """Every blueprint of the app, each with whether it is exempt from CSRF tokens (its callers
    sign or authenticate otherwise: bearer tokens, Twilio's signature, Standard Webhooks)."""
    from followup.web import health, survey
    from followup.web.admin import advisor_calls as advisor_calls_page
    from followup.web.admin import cases, complaints, letters, reports, settings_pages, simulator, views
    from followup.web.admin import channels as channels_page
    from followup.web.admin import webhooks as webhooks_page
    from followup.web.admin import worklist as worklist_page
    from followup.web.aliyun import views as aliyun_views
    from followup.web.api import openapi as api_openapi
    from followup.web.api import reports as api_reports
    from followup.web.api import visits as api_visits
    from followup.web.api import worklist as api_worklist
    from followup.web.twilio import views as twilio_views
    from followup.web.webhooks import receiver

    return [
        (health.bp, False),
        (api_openapi.bp, True),  # read-only, public: the API's description
        (api_visits.bp, True),  # bearer token, no cookie: nothing to forge
        (api_reports.bp, True),
        (api_worklist.bp, True),  # bearer token of a --user token (CONTRACT §9)
        (twilio_views.bp, True),  # signed by Twilio instead of a CSRF token
        (aliyun_views.bp, True),  # Alibaba Cloud's pushes: the secret token in the path (CONTRACT §10)
        (views.bp, False),
        (cases.bp, False),
        (settings_pages.bp, False),
        (simulator.bp, False),
        (complaints.bp, False),
        (reports.bp, False),
        (survey.bp, False),  # the customers' web survey /s/<code>
        (letters.bp, False),
        (receiver.bp, True),  # signed by Standard Webhooks, not by a form token
        (webhooks_page.bp, False),
        (advisor_calls_page.bp, False),  # R11: the advisor's own 3-day calls
        (worklist_page.bp, False),  # R3: the information staff's call worklist (/worklist)
        (channels_page.bp, False),  # R3: the paused-channel banner and the administrator's resume
    ]


def create_app(*, runtime: Runtime | None = None, settings: Settings | None = None) -> Flask:
    """Build the app; nothing is created at import time."""
    rt = runtime or build_runtime(settings)
    app = Flask(__name__)
    app.url_map.converters["int"] = RowId
    app.config.update(
        SECRET_KEY=rt.settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=rt.settings.env == "production",
        PERMANENT_SESSION_LIFETIME=rt.settings.web.session_max,
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=rt.settings.env == "test",
    )
    context.init_app(app, rt)
    csrf.init_app(app)
    init_babel(app)  # zh-CN first, ?lang=en; catalogues in followup/translations
    templating.init_app(app)
    request_log.init_app(app, rt.settings.log_format)  # FOLLOWUP_LOG_FORMAT=json: a line per request
    for bp, exempt in blueprints():
        app.register_blueprint(bp)
        if exempt:
            csrf.exempt(bp)

    production = rt.settings.env == "production"

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
        if production:
            # production is served over https only (PUBLIC_BASE_URL): browsers never try plain http again
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        from flask import request

        if request.path.startswith(("/api/", "/healthz")):
            return jsonify({"error": exc.name, "message": exc.description}), exc.code
        return exc

    return app
