"""The ``/twilio/*`` blueprint: thin views over the IVR, SMS survey and status services.

Every request's signature is checked first (403 when missing or wrong, nothing read or changed);
then the view parses, calls one service function, commits and answers TwiML.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request
from twilio.twiml.messaging_response import MessagingResponse

from ...campaigns import ivr_survey, provider_status, sms_survey
from .. import db_session, runtime
from .signature import is_valid

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
log = logging.getLogger("followup.twilio")


@bp.before_request
def _check_signature() -> None:
    settings = runtime().settings
    if not is_valid(request, settings.public_base_url, settings.twilio.auth_token):
        log.warning("refused %s: missing or wrong X-Twilio-Signature", request.path)
        abort(403)


def _params() -> dict[str, str]:
    return {k: v for k, v in request.form.items()}


def _attempt_id() -> int:
    try:
        return int(request.args.get("attempt", ""))
    except ValueError:
        abort(400)


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


@bp.post("/voice/answer")
def voice_answer() -> Response:
    rt, s = runtime(), db_session()
    twiml = ivr_survey.answer_call(s, rt.settings, _attempt_id(), _params(), rt.clock.now())
    s.commit()
    return _xml(twiml)


@bp.post("/voice/gather")
def voice_gather() -> Response:
    rt, s = runtime(), db_session()
    twiml = ivr_survey.gather(s, rt.settings, _attempt_id(), request.args.get("step", ""), _params(), rt.clock.now())
    s.commit()
    return _xml(twiml)


@bp.post("/voice/status")
def voice_status() -> Response:
    rt, s = runtime(), db_session()
    result = provider_status.call_status(s, rt.settings, _params(), rt.clock.now())
    s.commit()
    log.info("call status %s: %s", request.form.get("CallSid", ""), result)
    return Response(status=204)


@bp.post("/sms/status")
def sms_status() -> Response:
    rt, s = runtime(), db_session()
    result = provider_status.sms_status(s, rt.settings, _params(), rt.clock.now())
    s.commit()
    log.info("sms status %s: %s", request.form.get("MessageSid", ""), result)
    return Response(status=204)


@bp.post("/sms/inbound")
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
