"""What a webhook payload may not carry: a full phone number or the customer's address.

Every event passes through :func:`scrub` before it is stored in the outbox, so that no
subscriber (a DMS, a group chat bot) ever receives one, whatever a flow puts in ``data``.
Phone numbers found in any string are masked as the API masks them (``138****5678``);
address fields are dropped.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import phonenumbers

from followup.intake.phones import mask_phone

log = logging.getLogger("followup.webhooks")

#: keys whose value is an address or a raw contact: removed, never masked into a payload
FORBIDDEN_KEYS = frozenset({"address", "customer_address", "street", "地址"})
#: keys a phone number lives under: masked even when libphonenumber does not call it valid
PHONE_KEYS = frozenset({"mobile", "phone", "to", "from", "to_number", "from_number", "destination", "手机", "电话"})

_DIGIT_RUN = re.compile(r"\+?\d(?:[\s\-.()]?\d){6,}")

#: No valid phone number of any country is written with fewer digits (country code included):
#: the shortest are 2-digit country codes with 4-digit numbers (Austria, Germany, Iran), and
#: mainland numbers have at least 7. A test checks this against libphonenumber's metadata.
MIN_PHONE_DIGITS = 6
_ENOUGH_DIGITS = re.compile(rf"(?:\D*+\d){{{MIN_PHONE_DIGITS}}}")  # possessive: no backtracking
#: A whole-second instant as ``datetime.isoformat`` writes it (``2026-11-21T09:01:00+00:00``).
#: The matcher never finds a number in one: the date is followed by the letter ``T`` (a number
#: touching a Latin letter is refused) and every other digit group has 2 digits. With a
#: fraction of a second it can (``…:16.012345`` reads as a premium-rate number), so that form
#: still goes through the matcher.
_WHOLE_SECOND_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}")
#: A code of Latin letters and digits that starts with a letter (an RO number such as
#: ``WO0300000000``): every group of digits in it touches a Latin letter on its left, which the
#: matcher refuses, and it has none of the separators the matcher looks inside a group for.
_LETTER_CODE = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def mask_in_text(text: str) -> str:
    """``text`` with every phone number in it masked."""
    # The matcher costs tens of microseconds per string; most strings of a payload (codes,
    # service types, timestamps) cannot hold a number, and are returned as they are.
    if not _ENOUGH_DIGITS.match(text) or _WHOLE_SECOND_INSTANT.fullmatch(text) or _LETTER_CODE.fullmatch(text):
        return text
    return mask_every_match(text)


def mask_every_match(text: str) -> str:
    """Every number libphonenumber's matcher finds in ``text``, masked (no pre-checks)."""
    out, last = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.VALID):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        out += [text[last : match.start], mask_phone(e164) or "****"]
        last = match.end
    return "".join(out) + text[last:]


def scrub(value: Any, *, key: str = "") -> Any:
    """A copy of ``value`` without addresses and with phone numbers masked."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if str(k).lower() in FORBIDDEN_KEYS:
                log.warning("webhook payload key %r dropped: addresses are never sent", k)
                continue
            out[k] = scrub(v, key=str(k).lower())
        return out
    if isinstance(value, list | tuple):
        return [scrub(v, key=key) for v in value]
    if isinstance(value, str):
        if key in PHONE_KEYS and _DIGIT_RUN.search(value):
            return mask_phone(value)
        return mask_in_text(value)
    return value
