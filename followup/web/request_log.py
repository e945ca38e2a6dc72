"""One structured log line per HTTP request, when ``FOLLOWUP_LOG_FORMAT=json``.

Fields: ``method``, ``path`` (made private as the access log makes it: ``/s/…`` for a survey
code, ``/aliyun/sms/up/…`` for a callback token, never the query string), ``status``,
``duration_ms``, ``store`` and ``ro`` when the request names them (path or ``?store=``), and
``user`` (the panel's user, or ``token:<name>`` for an API token). In text mode nothing is added:
gunicorn's access log (:mod:`followup.web.access_log`) already writes a line per request.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, request

from followup.clock import monotonic
from followup.log_privacy import FIELDS
from followup.web.access_log import private_path

log = logging.getLogger("followup.requests")


def request_fields(status: int, duration_ms: float) -> dict[str, Any]:
    """The fields of the line for the current request."""
    args = request.view_args or {}
    store = args.get("store_code") or request.args.get("store")
    user = g.get("user")
    token = g.get("api_token")
    fields: dict[str, Any] = {
        "method": request.method, "path": private_path(request.path), "status": status,
        "duration_ms": round(duration_ms, 1),
    }
    if store:
        fields["store"] = str(store)[:20]
    if args.get("ro_number"):
        fields["ro"] = str(args["ro_number"])[:40]
    if user is not None:
        fields["user"] = user.username
    elif token is not None:
        fields["user"] = f"token:{token.name}"
    return fields


def init_app(app: Flask, log_format: str) -> None:
    """Log every request of ``app`` when ``log_format`` is json."""
    if log_format != "json":
        return

    @app.before_request
    def _started() -> None:
        g.request_started = monotonic()

    @app.after_request
    def _log(resp: Any) -> Any:
        started = g.get("request_started")
        duration = (monotonic() - started) * 1000 if started is not None else 0.0
        fields = request_fields(resp.status_code, duration)
        log.info("%s %s %s", fields["method"], fields["path"], fields["status"], extra={FIELDS: fields})
        return resp
