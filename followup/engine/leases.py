"""Leases on claimed contacts: a dead worker's claims come back, never as a second call.

A worker claims due rows by marking them ``dispatching`` with its id and a lease. Leases run on
the wall clock (like pacing): they are about processes being alive, not about the service's
clock, which stands still under the test clock. A worker renews the leases of the rows it still
holds while it works through them (the heartbeat). A row whose lease has run out belonged to a
worker that died (SIGKILL, power loss) somewhere between claiming and committing the result:

* if the channel can tell whether the contact went out (:class:`~followup.channels.base.Reconcilable`,
  e.g. Twilio's list of calls to that number since the claim), the result is recorded as if the
  send had returned — the customer is not called a second time;
* otherwise it was never sent from this row's point of view, and it goes back to ``planned``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from followup.channels.base import Channel, Contact, Reconcilable, TransientError
from followup.clock import wall_clock
from followup.engine.loading import load_cases_of
from followup.engine.recording import SURVEY_SMS_KINDS, maker_of, record_sent
from followup.models import ContactAttempt
from followup.settings import Settings
from followup.surveys import sms_survey


def lease_until(length: timedelta) -> datetime:
    """When a claim made now runs out; ``length`` is ``settings.engine.lease`` (``FOLLOWUP_LEASE_SECONDS``)."""
    return wall_clock() + length


def renew(session: Session, worker: str, length: timedelta) -> int:
    """The heartbeat: push back the leases of every row this worker still holds by ``length``."""
    result = session.execute(
        update(ContactAttempt)
        .where(ContactAttempt.claimed_by == worker, ContactAttempt.status == "dispatching")
        .values(lease_until=lease_until(length))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reclaim_expired(sessions: sessionmaker[Session], channel: Channel, settings: Settings, now: datetime,
                    *, limit: int = 500) -> dict[str, int]:
    """Resolve rows whose worker died: record what the provider did, or plan them again."""
    counts = {"reclaimed": 0, "reconciled": 0}
    with sessions() as s:
        rows = s.scalars(
            select(ContactAttempt)
            .where(ContactAttempt.status == "dispatching", ContactAttempt.lease_until < wall_clock())
            .order_by(ContactAttempt.lease_until, ContactAttempt.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        parts = load_cases_of(s, rows)  # one query per table, not four per row
        for a in rows:
            loaded = parts[a.case_id]
            case, visit, customer, code = loaded.case, loaded.visit, loaded.customer, loaded.store_code
            contact = Contact(a.id, case.id, a.channel, a.kind, a.destination, customer.language, code)
            # Sent no earlier than it fell due (nor was created): older calls to the number are not it.
            since = max(a.created_at, a.due_at or a.created_at)
            try:
                sent = channel.lookup(contact, since) if isinstance(channel, Reconcilable) else None
            except TransientError:
                continue  # the provider cannot tell now: the row waits, never a blind second call
            if sent is None:
                a.status, a.claimed_by, a.lease_until, a.reason = "planned", None, None, "lease_expired"
                counts["reclaimed"] += 1
                continue
            ref = {"store_code": code, "ro_number": visit.ro_number}
            record_sent(s, a, case, customer, sent, settings, now, ref, maker_of(channel, contact), None)
            if a.channel == "sms" and a.kind in SURVEY_SMS_KINDS and not sent.answers and case.state != "closed":
                # the survey SMS went out: its replies go to a response waiting at its question
                sms_survey.begin(s, case, a.kind, sms_survey.question_to_send(s, case, a.kind, settings),
                                 settings, now)
            counts["reconciled"] += 1
        s.commit()
    return counts
