"""Nothing secret or personal in the logs, whoever logs it: the logging wiring.

The ``twilio`` library logs every request URL at INFO (a reconciling lookup puts the customer's
number in the query string) and ``urllib3`` logs the same URL at DEBUG; an exception from Twilio
may quote the number too. Rather than trust every library, one log-record factory, installed once
per process by :func:`install` (from ``build_runtime``), rewrites each record as it is made: phone
numbers are masked like the API masks them (``138****8000``, by
:func:`followup.privacy.mask_log_phones`), and secrets are replaced by ``[redacted]``: the
configured ones (Twilio auth token, session key, webhook secrets) and anything shaped like one
(``whsec_…`` secrets, ``fu_…`` API tokens, ``Bearer …`` headers).

:func:`configure` sets the process's log output (the worker; the web app under gunicorn) in the
format ``FOLLOWUP_LOG_FORMAT`` chose: ``text`` lines, or one JSON object a line
(:class:`JsonFormatter`: ``ts``, ``level``, ``logger``, ``msg`` and the record's ``fields``, the
structured part a request or duty line carries). The JSON line is redacted once more as a whole,
so a phone number in a field is masked like one in a message.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
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


#: the attribute a record's structured fields travel in: ``log.info(msg, extra={FIELDS: {...}})``
FIELDS = "fields"
TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``, then the
    record's ``fields``; an exception as ``exc``. Phones and secrets redacted in the whole line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_info:
            line["exc"] = record.exc_text or self.formatException(record.exc_info)
        return redact(json.dumps(line, ensure_ascii=False, default=str, separators=(",", ":")))


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(settings: Settings) -> None:
    """The process's log output: one handler on stderr in ``settings.log_format``, INFO and up
    (replaces what an earlier call set; APScheduler's own chatter at WARNING)."""
    install(settings)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_followup", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format))
    handler._followup = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
