"""The one place that masks phone numbers: on screen, in free text, in webhook payloads, in logs.

Every mask shows what a dealership's staff shows a customer's number as: the first three digits
of the national number and its last four (``138****8000``); a landline its area code instead
(``0755****5049``). Where a value cannot be read as a number, at most its last four digits remain.

* :func:`mask_phone` — one number (a customer's mobile in the panel, the API, an event);
* :func:`mask_in_text` — every number written inside text (survey comments, error messages);
* :func:`scrub` — a webhook payload before it is stored in the outbox (and addresses dropped);
* :func:`mask_log_phones` — numbers as logs and URLs write them (``%2B86…``), for
  :mod:`followup.log_privacy`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

log = logging.getLogger("followup.webhooks")


def _shown(national: str, head: str | None = None) -> str:
    """``138****8000``: ``head`` (the first three digits by default), four stars, the last four."""
    return (national[:3] if head is None else head) + "****" + national[-4:]


def mask_phone(e164: str | None) -> str | None:
    """Mask a number for display: ``+8613800135678`` → ``138****5678``; ``+8675526605049`` → ``0755****5049``.

    Mobiles show the first 3 and last 4 digits of the national number; landlines their area code
    (with the trunk ``0``) and last 4 digits. A value that does not parse still never leaks:
    only its last 4 digits are shown.
    """
    if e164 is None:
        return None
    digits = "".join(ch for ch in str(e164) if ch.isdigit())
    try:
        number = phonenumbers.parse(str(e164), "CN")
    except NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return "****" + digits[-4:] if len(digits) > 4 else "****"
    national = phonenumbers.national_significant_number(number)
    if phonenumbers.number_type(number) == PhoneNumberType.MOBILE or number.country_code != 86:
        return _shown(national)
    area = phonenumbers.length_of_geographical_area_code(number)
    return _shown(national, "0" + national[:area] if area else None)


# --- numbers inside text ------------------------------------------------------------------------

#: a run of seven or more digits, as a phone field may hold one (separators allowed between digits)
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


def mask_in_text(text: str, *, only_valid: bool = True) -> str:
    """``text`` with every phone number in it masked (``138****8000``): free text and messages.

    Numbers are found with libphonenumber's matcher (region CN), as people write them in text.
    Without ``only_valid`` (a message about a phone field), any other run of seven or more digits
    keeps only its last four as well.
    """
    masked = _mask_valid(text)
    if only_valid:
        return masked
    return _DIGIT_RUN.sub(lambda m: "****" + re.sub(r"\D", "", m.group(0))[-4:], masked)


def _mask_valid(text: str) -> str:
    """:func:`mask_in_text` of valid numbers: what the payload scrub calls for each string."""
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


# --- webhook payloads -----------------------------------------------------------------------------

#: keys whose value is an address or a raw contact: removed, never masked into a payload
FORBIDDEN_KEYS = frozenset({"address", "customer_address", "street", "地址"})
#: keys a phone number lives under: masked even when libphonenumber does not call it valid
PHONE_KEYS = frozenset({"mobile", "phone", "to", "from", "to_number", "from_number", "destination", "手机", "电话"})


def scrub(value: Any, *, key: str = "") -> Any:
    """A copy of a webhook payload ``value`` without addresses and with phone numbers masked.

    Every event passes through here before it is stored in the outbox, so that no subscriber
    (a DMS, a group chat bot) ever receives a full number or an address, whatever a flow puts in
    ``data``.
    """
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
        return _mask_valid(value)
    return value


# --- log records ----------------------------------------------------------------------------------

#: a phone number as logs write it: E.164 (also URL-encoded, ``%2B86…``) or an 11-digit mobile,
#: not part of a longer word (SIDs, hashes)
_LOGGED_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+|%2B)?(?:\d[ \-]?){10,14}\d(?![0-9A-Za-z])")


def _mask_logged(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0).removeprefix("%2B"))
    return _shown(digits[2:] if digits.startswith("86") and len(digits) > 11 else digits)


def mask_log_phones(text: str) -> str:
    """``text`` (a log message, a URL, a traceback) with every number of 11 to 15 digits masked.

    A regular expression rather than the matcher: logs write numbers inside URLs and next to
    words, where the matcher refuses them, and a log record must cost little.
    """
    return _LOGGED_PHONE.sub(_mask_logged, text)
