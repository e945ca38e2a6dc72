"""Builds the channel from settings, explicitly: nothing registers itself at import."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine

from followup.channels.base import Channel, Contact, Paced, Reconcilable, Routed, Sent
from followup.channels.letters import LetterQueue
from followup.channels.sandbox import DemoCustomers, SandboxChannel, silent
from followup.settings import Settings


class TwilioChannels(Paced, Routed, Reconcilable):
    """Twilio mode: calls go to the IVR, SMS to Twilio Messaging, letters to the daily batch.

    :class:`~followup.channels.base.Paced`: the dispatcher asks :meth:`admit` before each send:
    calls are paced per account, SMS per sender, through the database the dispatcher works in
    (shared by every worker). :class:`~followup.channels.base.Routed`: :meth:`route` names the
    provider channel recorded as having made the contact. :class:`~followup.channels.base.Reconcilable`:
    :meth:`lookup` asks Twilio after a crash.
    """

    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        from twilio.rest import Client

        from followup.channels.pacing import Pacer
        from followup.channels.twilio_http import BaseUrlHttpClient
        from followup.channels.twilio_sms import TwilioSms
        from followup.channels.twilio_voice import TwilioVoice

        tw = settings.twilio
        http = BaseUrlHttpClient(tw.api_base_url, timeout=tw.request_timeout)
        client = Client(tw.account_sid, tw.auth_token, http_client=http)
        self.settings = settings
        self.voice = TwilioVoice(settings, client)
        self.sms = TwilioSms(settings, client)
        self.letters = LetterQueue()
        self.pacers: dict[int, Pacer] = {}

    def route(self, contact: Contact) -> Channel:
        """The voice channel for a call, the SMS channel for an SMS, the letter queue for a letter."""
        if contact.channel == "call":
            return self.voice
        return self.sms if contact.channel == "sms" else self.letters

    def pace(self, contact: Contact) -> tuple[str, float] | None:
        tw = self.settings.twilio
        if contact.channel == "call":
            return f"call:{tw.account_sid}", tw.calls_per_second
        if contact.channel == "sms":
            return f"sms:{tw.from_number}", tw.sms_per_second
        return None

    def admit(self, contact: Contact, engine: Engine | Connection, budget: float) -> tuple[bool, float]:
        """May ``contact`` go now? Waits at most a moment, and never beyond ``budget`` seconds.

        Returns (admitted, seconds waited); a refused contact is left for the next tick.
        """
        from followup.channels.pacing import Pacer

        slot = self.pace(contact)
        if slot is None:
            return True, 0.0
        pacer = self.pacers.setdefault(id(engine), Pacer(engine))
        return pacer.admit(slot[0], slot[1], budget=budget)

    def send(self, contact: Contact, now: datetime) -> Sent:
        return self.route(contact).send(contact, now)

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        """After a worker died mid-send: the call or SMS Twilio has for this contact, if any
        (:class:`~followup.channels.base.Reconcilable`). A letter only ever queued: None."""
        route = self.route(contact)
        if route is self.voice:
            return self.voice.lookup(contact, since)
        return self.sms.lookup(contact, since) if route is self.sms else None


class AliyunSmsChannels(Paced, Routed, Reconcilable):
    """``FOLLOWUP_SMS_PROVIDER=aliyun``: SMS go to Alibaba Cloud SMS, calls and letters stay with the
    channel of the channel mode (the IVR or the sandbox; a staff store's calls are on the worklist).

    Pacing and reconciliation are those of the calls' channel; an SMS is admitted at once, and after
    a crash its row is planned again (Alibaba Cloud's QuerySendDetails is not asked yet).
    """

    name = "aliyun"

    def __init__(self, settings: Settings, calls: Channel) -> None:
        from followup.channels.aliyun_sms import AliyunSms

        self.calls = calls
        self.sms = AliyunSms(settings)

    def route(self, contact: Contact) -> Channel:
        if contact.channel == "sms":
            return self.sms
        return self.calls.route(contact) if isinstance(self.calls, Routed) else self.calls

    def admit(self, contact: Contact, engine: Engine | Connection, budget: float) -> tuple[bool, float]:
        if contact.channel != "sms" and isinstance(self.calls, Paced):
            return self.calls.admit(contact, engine, budget)
        return True, 0.0

    def send(self, contact: Contact, now: datetime) -> Sent:
        return self.route(contact).send(contact, now)

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        if contact.channel != "sms" and isinstance(self.calls, Reconcilable):
            return self.calls.lookup(contact, since)
        return None


def build_channel(settings: Settings, *, demo: bool = False) -> Channel:
    """The channel for this process: sandbox (demo customers when ``demo``) or Twilio, with the SMS
    sent by Alibaba Cloud when ``FOLLOWUP_SMS_PROVIDER=aliyun``."""
    calls: Channel
    if settings.channel_mode == "sandbox":
        calls = SandboxChannel(DemoCustomers() if demo else silent)
    else:
        calls = TwilioChannels(settings)
    return AliyunSmsChannels(settings, calls) if settings.sms_provider == "aliyun" else calls
