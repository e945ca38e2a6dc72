"""Outbound survey calls through Twilio (CONTRACT §5), and the one table of call outcomes.

The call is placed with the IVR's TwiML URL, a status callback for every progress event, answering
machine detection and an explicit ring timeout. Its outcome arrives later by status callback and
is read with :func:`call_outcome`.
"""

from __future__ import annotations

from datetime import datetime

from followup.channels.base import Contact, Sent
from followup.channels.twilio_errors import INVALID_NUMBER_CODES
from followup.channels.twilio_once import TwilioSender

#: Twilio CallStatus -> outcome (CONTRACT §4). ``completed`` is refined by who answered and what
#: they pressed; the other statuses (queued, initiated, ringing, in-progress) are not final.
FINAL_STATUS_OUTCOMES = {
    "completed": "answered",
    "busy": "busy",
    "no-answer": "no_answer",
    "failed": "failed",
    "canceled": "failed",
}
#: AnsweredBy values of answering machine detection that mean nobody took the call (R3: voicemail)
MACHINE_ANSWERS = frozenset({"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"})
#: order of call statuses: a callback never moves a call backwards
STATUS_RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3,
               **{s: 4 for s in FINAL_STATUS_OUTCOMES}}
PROGRESS_EVENTS = ["initiated", "ringing", "answered", "completed"]


def call_outcome(status: str, answered_by: str | None, *, choice: str | None, answered_any: bool,
                 error_code: str | None = None) -> str | None:
    """The attempt's outcome for a final status; None while the call is not over.

    ``choice`` is what the customer picked in the IVR (``declined``, ``callback_requested``);
    ``answered_any`` says whether the first question got an answer (else a human hang-up).
    """
    outcome = FINAL_STATUS_OUTCOMES.get(status)
    if outcome is None:
        return None
    if error_code and error_code.isdigit() and int(error_code) in INVALID_NUMBER_CODES:
        return "invalid_number"
    if outcome != "answered":
        return outcome
    if (answered_by or "").lower() in MACHINE_ANSWERS:
        return "voicemail"
    if choice:
        return choice
    return "answered" if answered_any else "hung_up"


class TwilioVoice(TwilioSender):
    """Places survey calls; the IVR and status callbacks are served by ``web/twilio``."""

    name = "ivr"

    def urls(self, attempt_id: int) -> dict[str, str]:
        base = f"{self.settings.public_base_url}/twilio/voice"
        return {"url": f"{base}/answer?attempt={attempt_id}", "status_callback": f"{base}/status?attempt={attempt_id}"}

    def send(self, contact: Contact, now: datetime) -> Sent:
        """Place the call once (see :mod:`.twilio_once`); its outcome comes by status callback."""
        tw = self.settings.twilio
        urls = self.urls(contact.attempt_id)

        def create() -> str:
            call = self.client.api.v2010.account.calls.create(
                to=contact.to or "", from_=tw.from_number or "", url=urls["url"], method="POST",
                status_callback=urls["status_callback"], status_callback_method="POST",
                status_callback_event=PROGRESS_EVENTS, machine_detection="Enable", timeout=tw.ring_timeout,
            )
            return str(call.sid)

        return self._send_once(contact, now, create, f"call for attempt {contact.attempt_id}")

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        """The call we placed to ``contact.to`` at or after ``since``, if Twilio has one (after a crash)."""
        return self._find(self.client.api.v2010.account.calls.list, contact, since,
                          f"looking up the call of attempt {contact.attempt_id}")
