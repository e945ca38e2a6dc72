"""Bearer-token check for /api/v1 (401 without a valid token)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, jsonify, request

from followup.accounts import token_owner
from followup.web.context import db_session, runtime

_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-]+")


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        owner = None
        token = token.strip()
        # tokens are URL-safe ASCII ("fu_" + base64url); anything else cannot match one
        if scheme.lower() == "bearer" and token and len(token) <= 200 and _TOKEN_CHARS.fullmatch(token):
            session = db_session()
            owner = token_owner(session, token, now=runtime().clock.now())
            session.commit()
        if owner is None:
            resp = jsonify({"error": "Unauthorized", "message": "a valid bearer token is required"})
            resp.headers["WWW-Authenticate"] = 'Bearer realm="followup"'
            return resp, 401
        g.api_token = owner
        return view(*args, **kwargs)

    return wrapper
