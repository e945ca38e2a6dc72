"""The ``/aliyun/*`` blueprint: receipts (SmsReport) and replies (SmsUp) pushed by Alibaba Cloud SMS.

These pushes carry no signature: the secret token in the path (``ALIYUN_CALLBACK_TOKEN``, compared
in constant time) is their authentication, and a wrong one is answered 404 before anything is read.
``GET`` is the provider's connectivity check. ``POST`` stores every item of the pushed array and
commits, then answers 200 ``{"code": 0, "msg": "接收成功"}``; a body that is not such an array gets
400 and a storage failure 500 (Alibaba Cloud pushes again after 1, 5 and 10 minutes; a repeat
changes nothing). The answers a reply gets are sent after the commit, each a new ``SendSms``.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from followup.channels.base import Channel
from followup.engine import aliyun_pushes
from followup.web.context import db_session, runtime

bp = Blueprint("aliyun", __name__, url_prefix="/aliyun")
log = logging.getLogger("followup.aliyun")
RECEIVED = {"code": 0, "msg": "接收成功"}
CHECKED = {"code": 0, "msg": "成功"}
T = TypeVar("T")


def _check_token(token: str) -> None:
    expected = runtime().settings.aliyun.callback_token
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        log.warning("refused %s push: wrong callback token", request.method)
        abort(404)


def _sms_channel() -> Channel:
    """The Alibaba Cloud SMS sender of this app (built once)."""
    channel: Channel | None = current_app.extensions.get("followup.aliyun_sms")
    if channel is None:
        from followup.channels.aliyun_sms import AliyunSms

        channel = current_app.extensions["followup.aliyun_sms"] = AliyunSms(runtime().settings)
    return channel


def _items() -> list[dict[str, object]]:
    items = aliyun_pushes.read_items(request.get_data(cache=False))
    if items is None:
        abort(400)
    return items


def _failed(what: str, exc: Exception) -> Response:
    with contextlib.suppress(Exception):
        db_session().rollback()
    log.error("%s push not stored (%s): answered 500 so that Alibaba Cloud pushes it again", what, type(exc).__name__)
    response = jsonify({"code": 1, "msg": "storage failed"})
    response.status_code = 500
    return response


@bp.get("/sms/report/<token>")
@bp.get("/sms/up/<token>")
def check(token: str) -> Response:
    _check_token(token)
    return jsonify(CHECKED)


def _stored(token: str, what: str, store: Callable[..., T]) -> T:
    """The one path of both pushes: the token checked, the pushed array read, stored by ``store``
    (session, settings, items, now) and committed; a storage failure is answered 500 at once."""
    _check_token(token)
    items = _items()
    rt, s = runtime(), db_session()
    try:
        result = store(s, rt.settings, items, rt.clock.now())
        s.commit()
    except SQLAlchemyError as exc:
        abort(_failed(what, exc))
    return result


@bp.post("/sms/report/<token>")
def report(token: str) -> Response:
    results = _stored(token, "receipt", aliyun_pushes.store_reports)
    log.info("aliyun receipts: %s", ", ".join(results))
    return jsonify(RECEIVED)


@bp.post("/sms/up/<token>")
def up(token: str) -> Response:
    replies = _stored(token, "reply", aliyun_pushes.store_replies)
    rt, s = runtime(), db_session()
    if replies:  # stored and committed: the push is answered 200 whatever the sending does
        try:
            aliyun_pushes.send_replies(s, _sms_channel(), replies, rt.clock.now())
            s.commit()
        except SQLAlchemyError as exc:
            with contextlib.suppress(Exception):
                s.rollback()
            log.error("answers to SMS replies sent, their ids not saved: %s", type(exc).__name__)
    return jsonify(RECEIVED)
