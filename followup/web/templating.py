"""What every panel template can use: the language, the user, labels of stored codes, local times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g
from flask_babel import gettext

from followup.settings import DEFAULT_TIMEZONE
from followup.web.admin.labels import label
from followup.web.context import runtime
from followup.web.i18n import current_language, install_template_gettext


def local_time(at: datetime | None, zone: str = DEFAULT_TIMEZONE, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in the store's time zone, as the staff read it."""
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(zone)).strftime(fmt)


def init_app(app: Flask) -> None:
    install_template_gettext(app)

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {
            "lang": current_language(), "current_user": g.get("user"),
            "label": lambda code: gettext(label(code)) if code else "",
            "sandbox": runtime().settings.simulator,
        }

    app.add_template_filter(local_time, "local")
