"""Twilio REST errors sorted into what the engine does with them (R3), shared by voice and SMS."""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

from followup.channels.base import AccountError, PermanentError, TransientError

#: the number can never be called or texted: ends the calling phase, marks the number bad (R3)
INVALID_NUMBER_CODES = frozenset({21211, 21214, 21217, 13224, 21614})
#: the store's account or configuration is wrong, not the customer (R3): the channel pauses for the
#: store until an administrator resumes it, and no customer loses an attempt. Kept to codes whose
#: meaning is clear from Twilio's error list:
#: 20003 authentication failed (wrong SID/token) · 20005 account not active (suspended or closed;
#: also what an account out of balance gets) · 10001 account is not active · 20008 test
#: credentials used for a real request · 10002 a trial account cannot do this · 21210 the caller
#: ID (From) is not verified / not ours · 21212 invalid caller ID (From) · 21606 the From number
#: cannot send SMS to this destination · 21603 no From number · 21215 geographic permission does
#: not allow calling this region · 21408 SMS to this region not enabled · 21219 a trial account
#: may only call verified numbers. 21610 (the customer texted STOP) is the customer's, not ours.
ACCOUNT_CODES = frozenset({20003, 20005, 10001, 20008, 10002, 21210, 21212, 21606, 21603, 21215, 21408, 21219})
#: too many requests (Twilio's code and the HTTP status)
RATE_LIMITED = frozenset({20429, 429})


def classify(exc: Exception, what: str, *, retry_after: float | None = None) -> Exception:
    """The :class:`TransientError`, :class:`PermanentError` or :class:`AccountError` for an exception
    from the library (an HTTP 401 is an account error whatever its code).

    ``retry_after`` is the answer's ``Retry-After`` in seconds, carried on the transient error.
    """
    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        label = f"{what}: Twilio {exc.status} code {code}: {exc.msg}"[:300]
        if code in ACCOUNT_CODES or exc.status == 401:
            return AccountError(label, code=str(code or exc.status))
        if code in INVALID_NUMBER_CODES:
            return PermanentError(label, outcome="invalid_number", code=str(code))
        if exc.status >= 500 or exc.status == 429 or code in RATE_LIMITED:
            return TransientError(label, code=str(code or exc.status), retry_after=retry_after)
        return PermanentError(label, outcome="failed", code=str(code or exc.status))
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return TransientError(f"{what}: {type(exc).__name__} talking to Twilio", code="network")
    if isinstance(exc, TwilioException):  # e.g. a response the library could not read
        return TransientError(f"{what}: {exc}"[:300], code="twilio")
    raise exc


def is_rate_limited(err: Exception) -> bool:
    """Twilio refused the request before doing anything (429 / 20429): safe to send again."""
    return isinstance(err, TransientError) and err.code in {str(c) for c in RATE_LIMITED}
