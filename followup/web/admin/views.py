"""Login, logout and the campaign monitor. Views parse, authorise, call a service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from followup.accounts import end_sessions
from followup.advisor_calls.worklist import open_dc_calls
from followup.cases import monitor
from followup.login_limits import attempt_login
from followup.web.admin.worklist import worklist_is_home
from followup.web.auth import current_user, login_required, start_session, viewer
from followup.web.client_address import client_address, limit_key
from followup.web.context import db_session, runtime

bp = Blueprint("admin", __name__, template_folder="../templates")


def _possible_username(username: str) -> bool:
    return 0 < len(username) <= 80 and username.isprintable()


def _local_target(target: str) -> str:
    """``next`` when it is a path on this site; ``/`` otherwise (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and target.isprintable():
        return target
    return "/"


#: why a login was refused (:class:`followup.login_limits.LoginAttempt`): the message and the status
REFUSALS = {
    "wrong": ("Wrong username or password.", 401),
    "locked": ("Too many failed logins: try again in 15 minutes.", 429),
    "address": ("Too many failed logins from this address: try again in 15 minutes.", 429),
    "busy": ("The server is busy: try again in a moment.", 503),
}


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
        else:
            address = limit_key(client_address(request, rt.settings.trusted_proxies))
            attempt = attempt_login(s, username, password, address=address, now=now)
            s.commit()
            if attempt.user is not None:
                start_session(attempt.user)
                return redirect(_local_target(request.args.get("next", "")))
            error, status = REFUSALS[attempt.refused or "wrong"]
    headers = {"Retry-After": "1"} if status == 503 else {}
    return render_template("admin/login.html", error=error), status, headers


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
    rt = runtime()
    # information staff whose stores all call by staff start their day on the call worklist (R3)
    if worklist_is_home(g.user, g.stores, rt.settings) and request.args.get("view") != "monitor":
        return redirect(url_for("worklist.index"))
    now = rt.clock.now()
    numbers = monitor.monitor(db_session(), viewer(), now)
    # an advisor's first duty on opening the panel: their own 3-day calls (R11), above the monitor
    dc_calls = open_dc_calls(db_session(), g.user, g.stores, now) if g.user.role == "advisor" else None
    # staff calling: whether the callers keep up (an advisor does not work the worklist)
    capacity = monitor.staff_capacity(db_session(), rt.settings, g.stores, now) if g.user.role != "advisor" else []
    return render_template("admin/home.html", m=numbers, dc_calls=dc_calls, capacity=capacity)
