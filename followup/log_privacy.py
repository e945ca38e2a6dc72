"""Nothing secret or personal in the logs, whoever logs it: the logging wiring.

The ``twilio`` library logs every request URL at INFO (a reconciling lookup puts the customer's
number in the query string) and ``urllib3`` logs the same URL at DEBUG; an exception from Twilio
may quote the number too. Rather than trust every library, one log-record factory, installed once
per process by :func:`install` (from ``build_runtime``), rewrites each record as it is made: phone
numbers are masked like the API masks them (``138****8000``, by
:func:`followup.privacy.mask_log_phones`), and secrets are replaced by ``[redacted]``: the
configured ones (Twilio auth token, session key, webhook secrets) and anything shaped like one
(``whsec_…`` secrets, ``fu_…`` API tokens, ``Bearer …`` headers).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from followup.privacy import mask_log_phones
from followup.settings import Settings

REDACTED = "[redacted]"
_SHAPED = re.compile(r"whsec_[A-Za-z0-9+/=]+|\bfu_[A-Za-z0-9_\-]{16,}|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]+")

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """``text`` with every known secret, secret-shaped string and phone number hidden."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _SHAPED.sub(REDACTED, text)
    return mask_log_phones(text)


def install(settings: Settings) -> None:
    """Redact every log record of this process from now on; remembers ``settings``' secrets."""
    global _installed
    found = [settings.twilio.auth_token, settings.secret_key, *(s.secret for s in settings.subscribers)]
    with _lock:
        _secrets.update(s for s in found if s and len(s) >= 8)
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a broken format string: let logging report it as it always does
                return record
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, ()
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            return record

        logging.setLogRecordFactory(redacting_record)
        _installed = True
