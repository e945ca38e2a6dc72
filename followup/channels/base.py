"""The one small Protocol every channel implements, the results and errors it speaks, and the
abilities some channels add.

A channel is asked to send one contact (a call, an SMS or a letter) and answers with a
:class:`Sent`, or raises :class:`TransientError` (retry later; not an attempt, R3) or
:class:`PermanentError` (the contact can never go out this way, e.g. ``invalid_number``) or
:class:`AccountError` (the store's account or configuration is wrong: the channel pauses).
Anything else is a bug and fails loudly.

Beyond :class:`Channel`, the engine asks a channel what it can do with ``isinstance``:
:class:`Paced` (calls/SMS per second), :class:`Routed` (which provider channel makes a contact),
:class:`Reconcilable` (did a contact go out, after a crash) and :class:`GroupRecorded` (may its
results be committed several at a time). A channel declares the ones it has by naming them as
bases, so that mypy checks their signatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection, Engine


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
    #: what the SMS text was rendered from (customer_name, visit_date, question, hint, store_name …):
    #: a template provider (Alibaba Cloud SMS) sends these as its approved template's variables
    variables: Mapping[str, str] = field(default_factory=dict)


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


class AccountError(Exception):
    """The provider refuses because of the store's account or configuration, not the customer
    (bad credentials, suspended account, a caller ID or sender not allowed, no balance): R3.

    Never an attempt. The dispatcher puts the contact back as it was and pauses the channel for
    that store until an admin resumes it (``followup channels resume STORE CHANNEL``).
    ``code`` is the provider's error code, kept for the pause record and the webhook.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Channel(Protocol):
    """A way to reach customers. One module per provider; built by :mod:`.registry`."""

    name: str

    def send(self, contact: Contact, now: datetime) -> Sent: ...


@runtime_checkable
class Paced(Protocol):
    """A channel whose provider takes only so many calls or SMS per second (CONTRACT §5).

    Implemented by the Twilio channels (:class:`~followup.channels.registry.TwilioChannels`):
    Twilio queues what it cannot place at once, so a backlog sent in one go would ring customers
    hours later, outside the calling window. The dispatcher asks :meth:`admit` before each send.
    """

    def admit(self, contact: Contact, engine: Engine | Connection, budget: float) -> tuple[bool, float]:
        """May ``contact`` go now? (admitted, seconds waited); waits never beyond ``budget`` seconds,
        through pacing slots in the database of ``engine`` (the dispatcher's session's bind, shared
        by every worker). A refused contact is left for the next tick."""
        ...


@runtime_checkable
class Routed(Protocol):
    """A channel made of several provider channels, one per kind of contact.

    Implemented by :class:`~followup.channels.registry.TwilioChannels` (calls to the IVR, SMS to
    Twilio Messaging, letters to the daily batch). The attempt records who made the contact
    (``made_by``): the name of the routed channel (``ivr``, ``sms``), not of the whole.
    """

    def route(self, contact: Contact) -> Channel:
        """The provider channel that sends ``contact``."""
        ...


@runtime_checkable
class Reconcilable(Protocol):
    """A channel that can say whether a contact already went out, after a worker died mid-send.

    Implemented by the Twilio senders (their list of calls or messages to that number since the
    claim) and the benchmark's recorder (its log). :func:`~followup.engine.leases.reclaim_expired`
    records what it finds as if the send had returned, instead of calling the customer twice;
    a channel without it has its expired rows planned again.
    """

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        """What went out for ``contact`` at or after ``since``; None when nothing did. Raises
        :class:`TransientError` when the provider cannot tell now."""
        ...


@runtime_checkable
class GroupRecorded(Protocol):
    """A channel whose results may be committed several rows at a time, when
    ``results_in_groups`` is true.

    Implemented by the sandbox (its sends reach nobody: a crash before the commit plans them
    again) and the benchmark's recorder (its log is looked up after a crash). A real provider's
    result, above all the call SID status callbacks look for, is committed before the next
    send (:func:`~followup.engine.dispatch.rows_per_commit`).
    """

    results_in_groups: bool
