"""Login, logout and the campaign monitor. Views parse, authorise, call a service, render.

A session cookie carries the user id and the user's session generation (``sv``); logging out or a
password change moves the generation on, so a copy of the old cookie no longer logs anybody in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext

from ...accounts import authenticate, end_sessions, login_locked, session_is_current, user_store_codes
from ...campaigns.case_list import Viewer
from ...models import User
from .. import db_session, runtime
from ..i18n import current_language, install_template_gettext
from . import dashboard
from .labels import label

bp = Blueprint("admin", __name__, template_folder="../templates")


def init_app(app: Flask) -> None:
    from . import cases, settings_pages, simulator

    app.register_blueprint(bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(settings_pages.bp)
    simulator.init_app(app)
    install_template_gettext(app)

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {
            "lang": current_language(), "current_user": g.get("user"),
            "label": lambda code: gettext(label(code)) if code else "",
            "sandbox": runtime().settings.channel_mode == "sandbox",
        }

    app.add_template_filter(local_time, "local")


def local_time(at: datetime | None, zone: str = "Asia/Shanghai", fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in the store's time zone, as the staff read it."""
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(zone)).strftime(fmt)


def current_user() -> User | None:
    uid = session.get("uid")
    if uid is None:
        return None
    user = db_session().get(User, uid)
    if user is None or not user.active or not session_is_current(user, session.get("sv")):
        return None
    return user


def viewer() -> Viewer:
    """The logged-in user's view of the data: their stores, and an advisor only their customers."""
    user: User = g.user
    return Viewer(tuple(g.stores), user.id if user.role == "advisor" else None)


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("admin.login", next=request.path))
        g.user = user
        g.stores = user_store_codes(db_session(), user)
        return view(*args, **kwargs)

    return wrapper


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Logged in, and one of ``roles`` (``admin`` passes every check); otherwise 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user: User = g.user
            if user.role != "admin" and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _possible_username(username: str) -> bool:
    return 0 < len(username) <= 80 and username.isprintable()


def _local_target(target: str) -> str:
    """``next`` when it is a path on this site; ``/`` otherwise (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and target.isprintable():
        return target
    return "/"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        rt, s = runtime(), db_session()
        now = rt.clock.now()
        if not _possible_username(username):
            # no such user can exist (NUL, control characters, too long): wrong, and nothing to
            # look up (PostgreSQL refuses NUL in a query)
            error, status = "Wrong username or password.", 401
        elif login_locked(s, username, now=now):
            error, status = "Too many failed logins: try again in 15 minutes.", 429
        else:
            user = authenticate(s, username, password, now=now)
            s.commit()
            if user is not None:
                lang = session.get("lang")
                session.clear()  # a new session on login: no fixation
                session["uid"] = user.id
                session["sv"] = user.session_version or 0
                if lang:
                    session["lang"] = lang
                return redirect(_local_target(request.args.get("next", "")))
            error, status = "Wrong username or password.", 401
    return render_template("admin/login.html", error=error), status


@bp.post("/logout")
def logout() -> Any:
    user = current_user()
    if user is not None:
        end_sessions(user)  # every copy of this cookie ends here, not only the browser's
        db_session().commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def home() -> Any:
    if not g.stores:
        abort(403)
    numbers = dashboard.monitor(db_session(), viewer(), runtime().clock.now())
    return render_template("admin/home.html", m=numbers)
