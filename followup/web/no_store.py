"""``Cache-Control: no-store`` for the responses that show a secret once: a new API token, a
webhook secret, a revealed phone number. Neither the browser's cache, its back button nor a proxy
may keep them (the worklist claim of the API sets the same header itself)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import make_response


def no_store(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view's response, whatever it is, is never stored."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        resp = make_response(view(*args, **kwargs))
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
        return resp

    return wrapper
