"""The WSGI entry point for gunicorn (Procfile). The scheduler never runs in here."""

from __future__ import annotations

from followup.log_privacy import configure as configure_logs
from followup.runtime import build_runtime
from followup.web import create_app

_runtime = build_runtime()
configure_logs(_runtime.settings)  # FOLLOWUP_LOG_FORMAT: text, or a JSON line per request
app = create_app(runtime=_runtime)
