"""Who is asking: the logged-in user, their view of the data, and the decorators that check it.

A session cookie carries the user id and the user's session generation (``sv``); logging out or a
password change moves the generation on, so a copy of the old cookie no longer logs anybody in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, request, session, url_for

from followup.accounts import session_is_current, user_store_codes
from followup.cases.case_list import Viewer
from followup.models import User
from followup.web.context import db_session


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
