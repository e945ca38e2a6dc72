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

from ..intake.phones import mask_phone

log = logging.getLogger("followup.webhooks")

#: keys whose value is an address or a raw contact: removed, never masked into a payload
FORBIDDEN_KEYS = frozenset({"address", "customer_address", "street", "地址"})
#: keys a phone number lives under: masked even when libphonenumber does not call it valid
PHONE_KEYS = frozenset({"mobile", "phone", "to", "from", "to_number", "from_number", "destination", "手机", "电话"})

_DIGIT_RUN = re.compile(r"\+?\d(?:[\s\-.()]?\d){6,}")


def mask_in_text(text: str) -> str:
    """``text`` with every phone number in it masked."""
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
