"""The call worklist over the API (CONTRACT §9): list, claim, outcome.

A call-centre system (呼叫中心/CTI) drives the worklist with a token made ``--user``: the token acts
as that user, who must be an ``info_staff`` or ``manager`` user of the store (an advisor's token
gets 403, a token that acts for nobody too). Everything else is :mod:`followup.cases.worklist`.
"""

from __future__ import annotations

import json

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from followup.cases import worklist
from followup.cases.api_record import visit_record
from followup.models import User
from followup.web.api.auth import token_required
from followup.web.context import db_session, runtime

bp = Blueprint("api_worklist", __name__, url_prefix="/api/v1/worklist")

_STATUS = {worklist.NotFound: (404, "Not Found"), worklist.Forbidden: (403, "Forbidden"),
           worklist.Conflict: (409, "Conflict")}


def _refused(exc: worklist.WorklistError) -> ResponseReturnValue:
    db_session().rollback()
    if isinstance(exc, worklist.FieldErrors):
        return jsonify({"errors": exc.errors}), 422
    status, name = next((v for k, v in _STATUS.items() if isinstance(exc, k)), (400, "Bad Request"))
    return jsonify({"error": name, "message": str(exc)}), status


def _acting_user() -> User | None:
    """The user the bearer token acts as (a token made ``--user``, whose scope includes the
    worklist); None for a token of nobody, or one scoped to ``read``/``write`` only."""
    token = g.api_token
    if getattr(token, "scope", None) not in (None, "worklist"):
        return None
    user_id = getattr(token, "user_id", None)
    user = db_session().get(User, user_id) if user_id is not None else None
    return user if user is not None and user.active else None


def _token_store() -> str | None:
    """The one store a token made ``--store`` may touch; None: any of its user's stores."""
    return worklist.store_code(db_session(), getattr(g.api_token, "store_id", None))


def _no_user() -> ResponseReturnValue:
    return jsonify({"error": "Forbidden", "message": "the worklist needs a token made --user (an info_staff or "
                    "manager user of the store) whose scope includes the worklist"}), 403


def _not_this_tokens(attempt_id: int) -> bool:
    """A token bound to one store asking about another store's call (answered 404, like a call
    that is not on the worklist)."""
    only = _token_store()
    return only is not None and worklist.store_of_call(db_session(), attempt_id) != only


def _not_found(attempt_id: int) -> ResponseReturnValue:
    return jsonify({"error": "Not Found", "message": f"no call {attempt_id} on the worklist"}), 404


@bp.get("")
@token_required
def due() -> ResponseReturnValue:
    user = _acting_user()
    if user is None:
        return _no_user()
    store = (request.args.get("store") or "").strip()
    if not store:
        return jsonify({"error": "Bad Request", "message": "give the store: ?store=CODE"}), 400
    if _token_store() not in (None, store):
        return jsonify({"error": "Forbidden", "message": f"this token is not for store {store}"}), 403
    rt = runtime()
    try:
        page = worklist.due_calls(db_session(), rt.settings, user, store, rt.clock.now())
    except worklist.WorklistError as exc:
        return _refused(exc)
    return jsonify(page.as_json(rt.settings.stores[store].timezone))


@bp.post("/<int:attempt_id>/claim")
@token_required
def claim(attempt_id: int) -> ResponseReturnValue:
    user = _acting_user()
    if user is None:
        return _no_user()
    if _not_this_tokens(attempt_id):
        return _not_found(attempt_id)
    rt, session = runtime(), db_session()
    try:
        held = worklist.claim(session, rt.settings, user, attempt_id, rt.clock.now())
    except worklist.WorklistError as exc:
        return _refused(exc)
    session.commit()
    resp = jsonify(held.as_json(rt.settings.stores[held.store_code].timezone))
    resp.headers["Cache-Control"] = "no-store"  # it carries the full number
    return resp


@bp.post("/<int:attempt_id>/outcome")
@token_required
def outcome(attempt_id: int) -> ResponseReturnValue:
    user = _acting_user()
    if user is None:
        return _no_user()
    if _not_this_tokens(attempt_id):
        return _not_found(attempt_id)
    if request.mimetype != "application/json":
        return jsonify({"error": "Unsupported Media Type", "message": "send Content-Type: application/json"}), 415
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError) as exc:
        return jsonify({"errors": [{"field": "body", "message": f"invalid JSON: {str(exc)[:200]}"}]}), 422
    if not isinstance(body, dict):
        return jsonify({"errors": [{"field": "body", "message": "expected a JSON object"}]}), 422
    rt, session = runtime(), db_session()
    try:
        done = worklist.record_outcome(session, rt.settings, user, attempt_id, body.get("outcome"),
                                       body.get("answers"), body.get("callback_at"), body.get("note"),
                                       now=rt.clock.now())
    except worklist.WorklistError as exc:
        return _refused(exc)
    session.commit()
    return jsonify(visit_record(session, done.store_code, done.ro_number))

