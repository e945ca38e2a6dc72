"""Outbound SMS through Alibaba Cloud SMS (阿里云短信服务, CONTRACT §10), the mainland provider.

Every SMS is an approved template (``[aliyun.templates.<kind>]``: its ``TemplateCode`` and the
variables it takes) filled with the contact's :attr:`~followup.channels.base.Contact.variables`,
signed with the store's ``sms_signature``; ``OutId`` is our attempt id, the answer's ``BizId`` the
provider id receipts come back with. Delivery comes later by receipt (SmsReport,
:mod:`followup.web.aliyun`).

Codes are sorted as R3 asks: throttling and system errors are retried later (never an attempt),
a bad number ends the SMS as ``invalid_number``, signature, template, balance, permission and
source-address errors pause the channel (:class:`~followup.channels.base.AccountError`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from followup.channels.base import AccountError, Contact, PermanentError, Sent, TransientError
from followup.settings import ALIYUN_VARIABLE_MAX, AliyunSettings, ConfigError, Settings

#: retry later: not an attempt (R3); ``Throttling.*`` by prefix
RETRY_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL",
                         "isp.SYSTEM_ERROR", "SignatureNonceUsed"})
#: the number can never be texted: the SMS ends ``invalid_number`` and the mobile is marked bad
NUMBER_CODES = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "isv.BLACK_KEY_CONTROL_LIMIT"})
#: the account or our configuration is wrong: the channel pauses, nobody loses anything (R3)
ACCOUNT_CODES = frozenset({
    "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL", "isv.INVALID_JSON_PARAM", "isv.PARAM_LENGTH_LIMIT",
    "isp.RAM_PERMISSION_DENY", "isv.OUT_OF_SERVICE", "isv.AMOUNT_NOT_ENOUGH", "isv.DENY_IP_RANGE",
    "InvalidAccessKeyId.NotFound", "SignatureDoesNotMatch", "Forbidden.RAM",
})
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


def mainland_mobile(number: str | None) -> str | None:
    """``+8613800138000`` / ``8613800138000`` / ``13800138000`` -> ``13800138000``; None if not a mainland mobile."""
    digits = re.sub(r"[\s-]", "", number or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    return digits if _MAINLAND_MOBILE.fullmatch(digits) else None


def classify(code: str, message: str, what: str) -> Exception:
    """The engine's error for a ``Code`` other than ``OK`` (R3)."""
    label = f"{what}: Alibaba Cloud SMS {code}: {message}"[:300]
    if code in NUMBER_CODES:
        return PermanentError(label, outcome="invalid_number", code=code)
    if code in ACCOUNT_CODES:
        return AccountError(label, code=code)
    # retry later: the listed codes, Throttling.*, and an unknown code (never costs a customer; after
    # an hour of it the dispatcher flags the case for staff)
    return TransientError(label, code=code or "aliyun")


class AliyunSms:
    """The SMS channel over Alibaba Cloud; built by :mod:`followup.channels.registry`."""

    name = "sms"

    def __init__(self, settings: Settings) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config

        self.settings = settings
        self.aliyun: AliyunSettings = settings.aliyun
        cfg = self.aliyun
        self.client = Client(Config(access_key_id=cfg.access_key_id, access_key_secret=cfg.access_key_secret,
                                    endpoint=cfg.endpoint, protocol=cfg.protocol))

    def request_for(self, contact: Contact) -> dict[str, str]:
        """``SendSms``'s parameters for ``contact``; AccountError for a template the configuration
        cannot fill (a missing variable, a value over 35 characters), PermanentError for a number
        that is not a mainland mobile."""
        what = f"SMS for attempt {contact.attempt_id}"
        phone = mainland_mobile(contact.to)
        if phone is None:
            raise PermanentError(f"{what}: not a mainland mobile number", outcome="invalid_number",
                                 code="isv.MOBILE_NUMBER_ILLEGAL")
        try:
            template = self.aliyun.template(contact.kind)
        except ConfigError as exc:
            raise AccountError(f"{what}: {exc}", code="isv.SMS_TEMPLATE_ILLEGAL") from None
        params: dict[str, str] = {}
        for name in template.params:
            value = contact.variables.get(name)
            if value is None:
                raise AccountError(f"{what}: template {contact.kind} ({template.code}) takes ${{{name}}}, which "
                                   "this message does not have", code="isv.TEMPLATE_MISSING_PARAMETERS")
            if len(value) > ALIYUN_VARIABLE_MAX:
                raise AccountError(f"{what}: ${{{name}}} of template {contact.kind} is {len(value)} characters "
                                   f"(Alibaba Cloud allows {ALIYUN_VARIABLE_MAX})", code="isv.PARAM_LENGTH_LIMIT")
            params[name] = value
        store = self.settings.stores[contact.store_code]
        req = {"PhoneNumbers": phone, "SignName": store.sms_signature, "TemplateCode": template.code,
               "TemplateParam": json.dumps(params, ensure_ascii=False)}
        if contact.attempt_id:  # a reply to the customer's SMS has no attempt (attempt_id 0): no OutId
            req["OutId"] = str(contact.attempt_id)
        return req

    def send(self, contact: Contact, now: datetime) -> Sent:
        """One ``SendSms``; the ``BizId`` is the provider id receipts name. Raises as :func:`classify`."""
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
        from alibabacloud_tea_util.models import RuntimeOptions
        from Tea.exceptions import TeaException

        what = f"SMS for attempt {contact.attempt_id}"
        req = self.request_for(contact)
        ms = int(self.aliyun.request_timeout * 1000)
        runtime = RuntimeOptions(autoretry=False, connect_timeout=ms, read_timeout=ms)
        try:
            resp = self.client.send_sms_with_options(SendSmsRequest(
                phone_numbers=req["PhoneNumbers"], sign_name=req["SignName"], template_code=req["TemplateCode"],
                template_param=req["TemplateParam"], out_id=req.get("OutId")), runtime)
        except AlibabaCloudException as exc:  # HTTP 4xx (ClientException) or 5xx (ServerException)
            code, status = str(exc.code or ""), exc.status_code or 0
            if status >= 500 or status == 429 or code.startswith("Throttling"):
                raise TransientError(f"{what}: Alibaba Cloud SMS HTTP {status} {code}"[:300], code=code or str(status)) from None
            raise classify(code, str(exc.message or ""), what) from None
        except TeaException as exc:  # timeouts, refused connections (the SDK's UnretryableException)
            raise TransientError(f"{what}: {type(exc).__name__} talking to Alibaba Cloud SMS", code="network") from None
        body = resp.body
        code = (body.code if body else None) or ""
        if code != "OK":
            raise classify(code, (body.message if body else None) or "", what)
        return Sent(provider_id=body.biz_id if body else None)
