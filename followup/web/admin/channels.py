"""Paused channels in the panel (RULES R3): the banner on every page while a channel of the user's
stores is paused for an account or configuration error, and the administrator's resume button."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, request
from flask_babel import gettext

from followup.engine.pauses import PAUSABLE, PauseError, open_pauses, resume
from followup.models import User
from followup.web.auth import role_required
from followup.web.context import db_session, runtime

bp = Blueprint("channels", __name__, template_folder="../templates")

#: who sees the banner: the people who run the follow-up (an advisor has nothing to do about it)
BANNER_ROLES = ("info_staff", "manager", "admin")


@bp.app_context_processor
def _banner() -> dict[str, Any]:
    """``channel_pauses``: the open pauses of the logged-in user's stores, for the layout's banner."""
    user: User | None = g.get("user")
    stores = g.get("stores")
    if user is None or stores is None or user.role not in BANNER_ROLES:
        return {"channel_pauses": []}
    return {"channel_pauses": open_pauses(db_session(), list(stores))}


def _back() -> str:
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and target.isprintable():
        return target
    return "/"


@bp.route("/channels/<store_code>/<channel>/resume", methods=["POST"])
@role_required("admin")
def resume_channel(store_code: str, channel: str) -> Any:
    """Resume a paused channel of a store (admin only): the waiting contacts go out in due order."""
    if channel not in PAUSABLE or store_code not in g.stores:
        abort(404)
    user: User = g.user
    s = db_session()
    try:
        resume(s, store_code, channel, f"user:{user.username}", runtime().clock.now())
    except PauseError:
        s.rollback()
        flash(gettext("This channel is not paused."), "error")
        return redirect(_back())
    s.commit()
    flash(gettext("Resumed: the waiting contacts go out in due order."), "info")
    return redirect(_back())
