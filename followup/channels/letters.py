"""Letters (R4.4): "sending" one queues it for the store's daily printed batch.

Nothing leaves the building here: the letter attempt stays ``in_progress`` with outcome
``queued`` until staff mark its batch mailed (then it counts as sent).
"""

from __future__ import annotations

from datetime import datetime

from followup.channels.base import Contact, Sent


class LetterQueue:
    """The letter channel used with every provider: queue now, print in the daily batch."""

    name = "letters"

    def send(self, contact: Contact, now: datetime) -> Sent:
        return Sent(provider_id=None, outcome="queued")
