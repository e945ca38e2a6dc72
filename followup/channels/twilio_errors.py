"""Twilio REST errors sorted into what the engine does with them (R3), shared by voice and SMS."""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

from followup.channels.base import PermanentError, TransientError

#: the number can never be called or texted: ends the calling phase, marks the number bad (R3)
INVALID_NUMBER_CODES = frozenset({21211, 21214, 21217, 13224, 21614})
#: too many requests (Twilio's code and the HTTP status)
RATE_LIMITED = frozenset({20429, 429})


def classify(exc: Exception, what: str, *, retry_after: float | None = None) -> Exception:
    """The :class:`TransientError` or :class:`PermanentError` for an exception from the library.

    ``retry_after`` is the answer's ``Retry-After`` in seconds, carried on the transient error.
    """
    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        label = f"{what}: Twilio {exc.status} code {code}: {exc.msg}"[:300]
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
