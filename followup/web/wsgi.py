"""The WSGI entry point for gunicorn (Procfile). The scheduler never runs in here."""

from __future__ import annotations

from followup.web import create_app

app = create_app()
