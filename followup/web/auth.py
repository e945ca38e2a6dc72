"""Who is asking: the logged-in user, their view of the data, and the decorators that check it.

A session cookie carries the user id and the user's session generation (``sv``); logging out or a
password change moves the generation on, so a copy of the old cookie no longer logs anybody in.
It also carries when the session started (``iat``) and was last used (``seen``): a session unused
for ``[web] session_idle`` (8 h) or older than ``session_max`` (24 h) ends, checked on every
request. These are wall-clock times (like pacing): moving the test clock logs nobody out, and a
stolen cookie is good for real hours only. The activity list's background polls do not count as use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, request, session, url_for

from followup.accounts import session_is_current, user_store_codes
from followup.cases.case_list import Viewer
from followup.clock import wall_clock
from followup.models import User
from followup.settings import WebSettings
from followup.web.context import db_session, runtime

#: a session's last use is written back to its cookie at most this often (seconds)
SEEN_EVERY = 60


def session_alive(started: object, seen: object, now: float, limits: WebSettings) -> bool:
    """True while a session that started at ``started`` and was last used at ``seen`` (epoch
    seconds) is within both limits at ``now``; a cookie without those times (older than this
    check) is not."""
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return False
    return (now - started < limits.session_max.total_seconds()
            and now - seen < limits.session_idle.total_seconds())


def start_session(user: User) -> None:
    """A new session for ``user`` after a good login: a fresh cookie (no fixation), keeping only the
    language the visitor chose."""
    lang = session.get("lang")
    session.clear()
    now = int(wall_clock().timestamp())
    session.update(uid=user.id, sv=user.session_version or 0, iat=now, seen=now)
    if lang:
        session["lang"] = lang


def _end_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def current_user(*, touch: bool = True) -> User | None:
    """The logged-in user, or None: no session, an ended one (idle, too old, logged out elsewhere)
    or an inactive user. ``touch`` counts this request as use of the session (the idle timer)."""
    uid = session.get("uid")
    if uid is None:
        return None
    now = wall_clock().timestamp()
    if not session_alive(session.get("iat"), session.get("seen"), now, runtime().settings.web):
        _end_session()
        return None
    user = db_session().get(User, uid)
    if user is None or not user.active or not session_is_current(user, session.get("sv")):
        return None
    if touch and now - session["seen"] >= SEEN_EVERY:
        session["seen"] = int(now)
    return user


def viewer() -> Viewer:
    """The logged-in user's view of the data: their stores, and an advisor only their customers."""
    user: User = g.user
    return Viewer(tuple(g.stores), user.id if user.role == "advisor" else None)


def _logged_in(view: Callable[..., Any], *, touch: bool) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user(touch=touch)
        if user is None:
            return redirect(url_for("admin.login", next=request.path))
        g.user = user
        g.stores = user_store_codes(db_session(), user)
        return view(*args, **kwargs)

    return wrapper


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Logged in (a live session), or sent to the login page; ``g.user`` and ``g.stores`` are set."""
    return _logged_in(view, touch=True)


def background_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Like :func:`login_required` for what a page asks on its own (the activity list's polls):
    it does not keep an unattended session alive."""
    return _logged_in(view, touch=False)


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
