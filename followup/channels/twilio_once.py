"""Sending through Twilio at most once: rate limits waited out briefly, unclear failures looked up.

* **429 / 20429**: Twilio refused the request before doing anything, so it is sent again after the
  wait Twilio asks for (``Retry-After``), else after 0.1 s, 0.2 s, 0.4 s, … — at most five more
  times and never longer than ``request_timeout`` seconds of waiting in all. A ``Retry-After``
  longer than that is handed to the dispatcher, which plans the retry no earlier.
* **5xx, a read timeout, a dropped connection**: whether Twilio took the request is unknown. Before
  the failure is reported (the dispatcher would retry: a second call), the calls or messages to
  that number are listed; one created since the send began is the one we made (:func:`oldest_since`).
* **The retry of such a failure** looks again first (in the same worker process): a call Twilio
  created only after our first look is found then, not placed a second time (:class:`Unconfirmed`).
* **After a crash** the same lookup answers :class:`~followup.channels.base.Reconcilable`.

The list answers do not carry our callback URLs, so a call is recognised by its number, our
caller ID, ``direction = outbound-api`` (not a TwiML reply) and its creation time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from twilio.rest import Client

from followup.channels.base import AccountError, Contact, PermanentError, Reconcilable, Sent, TransientError
from followup.channels.twilio_errors import classify, is_rate_limited
from followup.channels.twilio_http import BaseUrlHttpClient
from followup.settings import Settings

#: 429s waited out inside one send before the dispatcher's backoff takes over
RATE_LIMIT_RETRIES = 5
#: first wait after a 429 without ``Retry-After``; doubled each time
FIRST_WAIT = 0.1
#: calls/messages to one number read when looking for ours (Twilio lists newest first)
LOOKUP_LIMIT = 50


def oldest_since(items: Iterable[Any], since: datetime) -> str | None:
    """The SID of the oldest REST-created (``outbound-api``) item created at or after ``since``.

    Twilio's ``date_created`` has whole seconds, so ``since`` is cut to the second.
    """
    floor = since.replace(microsecond=0)
    found = [i for i in items if getattr(i, "direction", None) == "outbound-api"
             and i.date_created is not None and i.date_created >= floor]
    return min(found, key=lambda i: (i.date_created, i.sid)).sid if found else None


def send_once(create: Callable[[], str], lookup: Callable[[], Sent | None], what: str,
              http: BaseUrlHttpClient, budget: float, sleep: Callable[[float], None] = time.sleep) -> Sent:
    """Run ``create`` (returns the new SID) as described above; ``lookup`` finds it after a failure."""
    waited = 0.0
    for retry in range(RATE_LIMIT_RETRIES + 1):
        try:
            return Sent(provider_id=create())
        except Exception as exc:  # sorted into transient / permanent; anything else re-raised
            err = classify(exc, what, retry_after=http.retry_after)
            if isinstance(err, PermanentError | AccountError):  # nothing was created: no lookup
                raise err from exc
            assert isinstance(err, TransientError)
            if is_rate_limited(err):
                wait = err.retry_after if err.retry_after is not None else FIRST_WAIT * 2 ** retry
                if retry == RATE_LIMIT_RETRIES or waited + wait > budget:
                    raise err from exc
                sleep(wait)
                waited += wait
                continue
            try:
                found = lookup()  # did Twilio take it before the answer was lost?
            except TransientError:
                found = None  # cannot tell now: the retry after the backoff looks again at nothing
            if found is not None:
                return found
            raise err from exc
    raise AssertionError("unreachable")  # pragma: no cover


def lookup_error(exc: Exception, what: str) -> TransientError:
    """A provider failure of a lookup means "cannot tell now": the row is left for the next pass.

    Anything that is not a Twilio or network error is a bug and is raised as it is.
    """
    err = classify(exc, what)
    return TransientError(str(err), code="lookup")


class Unconfirmed:
    """Attempts whose last send failed in a way that may hide a call/SMS Twilio did make.

    Before such an attempt is sent again, Twilio's list is read once more from the moment of the
    first try; if it cannot be read, the send fails as transient (the dispatcher retries later).
    """

    def __init__(self) -> None:
        self.since: dict[int, datetime] = {}

    def send(self, contact: Contact, now: datetime, create: Callable[[], str],
             lookup: Callable[[Contact, datetime], Sent | None], what: str, http: BaseUrlHttpClient,
             budget: float) -> Sent:
        earlier = self.since.get(contact.attempt_id)
        if earlier is not None:
            found = lookup(contact, earlier)  # TransientError: cannot tell yet, try again later
            if found is not None:
                del self.since[contact.attempt_id]
                return found
        try:
            sent = send_once(create, lambda: lookup(contact, earlier or now), what, http, budget)
        except TransientError as err:
            if not is_rate_limited(err):
                self.since.setdefault(contact.attempt_id, now)
            raise
        self.since.pop(contact.attempt_id, None)
        return sent


class TwilioSender(Reconcilable):
    """What the call and the SMS sender share: the client, the attempts left unconfirmed, sending
    once and looking up what we sent. A sender says how to create its call or SMS and where to look
    (:meth:`lookup`)."""

    def __init__(self, settings: Settings, client: Client) -> None:
        self.settings = settings
        self.client = client
        self.unconfirmed = Unconfirmed()

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        raise NotImplementedError

    def _send_once(self, contact: Contact, now: datetime, create: Callable[[], str], what: str) -> Sent:
        """Run ``create`` (returns the new SID) at most once for ``contact``, as described above."""
        http = self.client.http_client
        assert isinstance(http, BaseUrlHttpClient)
        return self.unconfirmed.send(contact, now, create, self.lookup, what, http,
                                     self.settings.twilio.request_timeout)

    def _find(self, listing: Callable[..., Iterable[Any]], contact: Contact, since: datetime,
              what: str) -> Sent | None:
        """The oldest item of ``listing`` (Twilio's list of calls or of messages) sent to
        ``contact.to`` from our number at or after ``since``; a list Twilio cannot give now is a
        :class:`TransientError`."""
        try:
            items = listing(to=contact.to or "", from_=self.settings.twilio.from_number or "",
                            limit=LOOKUP_LIMIT)
        except Exception as exc:
            raise lookup_error(exc, what) from exc
        sid = oldest_since(items, since)
        return Sent(provider_id=sid) if sid else None
