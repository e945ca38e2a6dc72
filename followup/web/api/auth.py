"""Bearer-token check for /api/v1: 401 without a valid token (unknown, revoked or expired), 403 for a
token used outside its scope or its store (:mod:`followup.api_access`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import g, jsonify, request

from followup.accounts import token_owner
from followup.api_access import attempt_store, needed_scope, scope_allows, token_store
from followup.web.context import db_session, runtime

_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-]+")


def _forbidden(message: str) -> Any:
    return jsonify({"error": "Forbidden", "message": message}), 403


def outside_store(codes: Iterable[object]) -> Any | None:
    """A 403 when the request's token is limited to one store and ``codes`` name another; else None."""
    mine = g.get("api_token_store")
    if mine is None:
        return None
    for code in codes:
        if code is not None and code != mine:
            return _forbidden(f"this token may only be used for store {mine}")
    return None


def _outside_store_of_request() -> Any | None:
    """A store the request names, in its path (``<store_code>``) or its query (``?store=``), other
    than the token's: 403. A worklist call (``<attempt_id>``) of another store: 404, as the worklist
    answers for any call that is not on the caller's list (its existence is not told)."""
    mine = g.get("api_token_store")
    if mine is None:
        return None
    args = request.view_args or {}
    attempt_id = args.get("attempt_id")
    if isinstance(attempt_id, int) and attempt_store(db_session(), attempt_id) not in (None, mine):
        return jsonify({"error": "Not Found", "message": "no such call on this token's worklist"}), 404
    return outside_store([args.get("store_code"), request.args.get("store")])


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
        need = needed_scope(request.blueprint, request.method)
        if not scope_allows(owner, need):
            return _forbidden(f"this token's scope ({owner.scope}) does not allow {need}")
        g.api_token_store = token_store(db_session(), owner)
        refused = _outside_store_of_request()
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    return wrapper
