"""The webhook receiver of the admin panel, its live activity stream, and the subscribers page."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect


def init_app(app: Flask, csrf: CSRFProtect) -> None:
    from ..admin import webhooks as admin_page
    from . import receiver

    app.register_blueprint(receiver.bp)
    csrf.exempt(receiver.bp)  # signed by Standard Webhooks, not by a form token
    app.register_blueprint(admin_page.bp)
