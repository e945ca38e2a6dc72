"""Outbound SMS through Twilio with a status callback (R4: undelivered/failed -> letter)."""

from __future__ import annotations

from datetime import datetime

from followup.channels.base import Contact, Sent
from followup.channels.twilio_once import TwilioSender

#: MessageStatus order: a late ``sent`` never overwrites ``delivered``
STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2,
               "delivered": 3, "undelivered": 3, "failed": 3, "read": 4}
#: final statuses that mean the customer never got it
NOT_DELIVERED = frozenset({"undelivered", "failed"})


class TwilioSms(TwilioSender):
    """Sends the already rendered SMS text (signature and 回T退订 included by the dispatcher)."""

    name = "sms"

    def status_url(self, attempt_id: int) -> str:
        return f"{self.settings.public_base_url}/twilio/sms/status?attempt={attempt_id}"

    def send(self, contact: Contact, now: datetime) -> Sent:
        """Send the SMS once (see :mod:`.twilio_once`); delivery comes by status callback."""

        def create() -> str:
            msg = self.client.api.v2010.account.messages.create(
                to=contact.to or "", from_=self.settings.twilio.from_number or "", body=contact.body or "",
                status_callback=self.status_url(contact.attempt_id),
            )
            return str(msg.sid)

        return self._send_once(contact, now, create, f"SMS for attempt {contact.attempt_id}")

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        """The SMS we sent to ``contact.to`` at or after ``since`` (REST-created, not a TwiML reply)."""
        return self._find(self.client.api.v2010.account.messages.list, contact, since,
                          f"looking up the SMS of attempt {contact.attempt_id}")
