"""The ``/twilio/*`` blueprint: thin views over the IVR, SMS survey and status services.

Every request's signature is checked first (403 when missing or wrong, nothing read or changed);
then the view parses, calls one service function, commits and answers TwiML.

When the database cannot be reached (a connection refused or cut, a lock held too long) the
request is answered **503** with ``Retry-After`` and nothing is half-written (the transaction is
rolled back): Twilio records the failure and its webhook retry (``rp=5xx`` connection override)
or fallback URL brings the request again; a repeat is handled once (MessageSid, (SID, status)).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse

from followup.engine import provider_callbacks as provider_status
from followup.settings import Settings
from followup.surveys import ivr_survey, sms_survey
from followup.web.context import db_session, runtime
from followup.web.twilio.signature import is_valid

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
log = logging.getLogger("followup.twilio")
#: a status callback's service: (session, settings, form, now, attempt of the URL) -> what happened
_StatusHandler = Callable[[Session, Settings, dict[str, str], datetime, int | None], str]


@bp.before_request
def _check_signature() -> None:
    settings = runtime().settings
    if not is_valid(request, settings.public_base_url, settings.twilio.auth_token):
        log.warning("refused %s: missing or wrong X-Twilio-Signature", request.path)
        abort(403)


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
@bp.errorhandler(PoolTimeout)
def _database_unavailable(exc: Exception) -> Response:
    with contextlib.suppress(Exception):  # the connection may be gone; the session closes at teardown
        db_session().rollback()
    log.error("database unavailable for %s: %s; answered 503 so that Twilio tries again",
              request.path, type(exc).__name__)
    return Response("database unavailable, try again", status=503, mimetype="text/plain",
                    headers={"Retry-After": "30"})


def _optional_attempt() -> int | None:
    """The ``attempt`` of a status callback URL (kept with a callback that comes before its SID)."""
    value = request.args.get("attempt", "")
    return int(value) if value.isdigit() else None


def _params() -> dict[str, str]:
    return {k: v for k, v in request.form.items()}


def _attempt_id() -> int:
    try:
        return int(request.args.get("attempt", ""))
    except ValueError:
        abort(400)


def _once_more_after_a_closed_connection(view: Callable[[], Response]) -> Callable[[], Response]:
    """Run ``view`` again, once, when its pooled connection turned out closed (a database restart).

    Pooled connections are tested only after sitting idle (``followup.db``), so the first request
    after a restart can meet a connection that was fine a moment ago. Its transaction is rolled
    back and the pool has dropped the dead connections: the second run is a fresh request.
    """

    @functools.wraps(view)
    def run() -> Response:
        try:
            return view()
        except (OperationalError, InterfaceError) as exc:
            if not exc.connection_invalidated:
                raise
            with contextlib.suppress(Exception):
                db_session().rollback()
            log.warning("database connection closed under %s (restart?): tried once more", request.path)
            return view()

    return run


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


@bp.post("/voice/answer")
@_once_more_after_a_closed_connection
def voice_answer() -> Response:
    rt, s = runtime(), db_session()
    twiml = ivr_survey.answer_call(s, rt.settings, _attempt_id(), _params(), rt.clock.now())
    s.commit()
    return _xml(twiml)


@bp.post("/voice/gather")
@_once_more_after_a_closed_connection
def voice_gather() -> Response:
    rt, s = runtime(), db_session()
    twiml = ivr_survey.gather(s, rt.settings, _attempt_id(), request.args.get("step", ""), _params(), rt.clock.now())
    s.commit()
    return _xml(twiml)


def _status_callback(handle: _StatusHandler, what: str, sid_param: str) -> Response:
    """Hand one status callback to ``handle``, save what it changed and answer 204 (no TwiML)."""
    rt, s = runtime(), db_session()
    result = handle(s, rt.settings, _params(), rt.clock.now(), _optional_attempt())
    s.commit()
    log.info("%s status %s: %s", what, request.form.get(sid_param, ""), result)
    return Response(status=204)


@bp.post("/voice/status")
@_once_more_after_a_closed_connection
def voice_status() -> Response:
    return _status_callback(provider_status.call_status, "call", "CallSid")


@bp.post("/sms/status")
@_once_more_after_a_closed_connection
def sms_status() -> Response:
    return _status_callback(provider_status.sms_status, "sms", "MessageSid")


@bp.post("/sms/inbound")
@_once_more_after_a_closed_connection
def sms_inbound() -> Response:
    rt, s = runtime(), db_session()
    msg = sms_survey.Inbound(sid=request.form.get("MessageSid", ""), from_number=request.form.get("From", ""),
                             to_number=request.form.get("To", ""), body=request.form.get("Body", ""))
    replies = sms_survey.handle_inbound(s, rt.settings, msg, rt.clock.now())
    s.commit()
    twiml = MessagingResponse()
    for text in replies:
        twiml.message(text)
    return _xml(str(twiml))
