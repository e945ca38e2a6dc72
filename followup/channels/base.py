"""The one small Protocol every channel implements, and the results and errors it speaks.

A channel is asked to send one contact (a call, an SMS or a letter) and answers with a
:class:`Sent`, or raises :class:`TransientError` (retry later; not an attempt, R3) or
:class:`PermanentError` (the contact can never go out this way, e.g. ``invalid_number``).
Anything else is a bug and fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Contact:
    """What the engine asks a channel to send."""

    attempt_id: int
    case_id: int
    channel: str  # call | sms | letter
    kind: str  # survey | reminder | resurvey | reply
    to: str | None  # E.164 for calls and SMS; None for letters
    language: str  # zh | en
    store_code: str
    body: str | None = None  # the SMS text, already rendered with signature and opt-out hint


@dataclass(frozen=True)
class Sent:
    """The provider took the contact.

    ``outcome`` is set when the result is known at once (the sandbox); otherwise it arrives
    later by callback. ``answers`` carries survey answers a simulated customer gave at once.
    """

    provider_id: str | None
    outcome: str | None = None
    ended_at: datetime | None = None
    answers: dict[str, str] = field(default_factory=dict)


class TransientError(Exception):
    """Try again later (HTTP 5xx, timeouts, 429): never counts as an attempt."""

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class PermanentError(Exception):
    """The contact cannot go out: ``outcome`` says how the attempt ends (e.g. invalid_number)."""

    def __init__(self, message: str, *, outcome: str, code: str | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.code = code


class Channel(Protocol):
    """A way to reach customers. One module per provider; built by :mod:`.registry`."""

    name: str

    def send(self, contact: Contact, now: datetime) -> Sent: ...
