"""Fault 4 (issue #10): the database connection is lost in the middle of a tick (PostgreSQL).

While the worker is inside a dispatch transaction — the claimed row locked, the provider
taking the call — a second connection ends the worker's backend with ``pg_terminate_backend``.
That row's transaction rolls back (no outcome, no audit row, no event: nothing half-written),
the tick counts and logs one error and goes on with the rest of its batch, and the row comes
back when its lease runs out — reconciled against the provider's log, so the customer whose call
went out is not called again.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select, text

from bench.backlog import load_cases
from bench.common import NOW
from followup.channels.base import Contact, Sent
from followup.channels.sandbox import silent
from followup.db import make_engine
from followup.engine.tick import dispatch_contacts, duties
from followup.models import AuditEntry, ContactAttempt, FollowupCase, WebhookEvent
from followup.runtime import Runtime, build_runtime

pytestmark = pytest.mark.postgres

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class TerminatingChannel:
    """Takes every call (its list is the provider's log); during the ``victim``-th send it ends the
    database backend of the worker's open dispatch transaction, found by the runtime's application name."""

    name = "sandbox"

    def __init__(self, application: str, victim: int) -> None:
        self.application = application
        self.victim = victim
        self.sent: list[int] = []
        self.terminated = 0

    def send(self, contact: Contact, now: datetime) -> Sent:
        self.sent.append(contact.attempt_id)
        if len(self.sent) == self.victim:
            admin = make_engine(ADMIN_URL)
            with admin.connect() as c:
                self.terminated = len(c.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :app AND state = 'idle in transaction'"), {"app": self.application}).all())
            admin.dispose()
        return silent(contact, now)

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        return silent(contact, since) if contact.attempt_id in self.sent else None


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_terminated_backend_rolls_back_the_row_and_the_lease_brings_it_back_once(
        rt: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    application = f"followup-fault4-{uuid.uuid4().hex[:8]}"
    url = f"{rt.engine.url.render_as_string(hide_password=False)}&application_name={application}"
    one_second_lease = dataclasses.replace(rt.settings.engine, lease_seconds=1.0)  # FOLLOWUP_LEASE_SECONDS=1
    worker = build_runtime(dataclasses.replace(rt.settings, engine=one_second_lease), engine=make_engine(url))
    try:
        load_cases(worker, 6, now=NOW, open_due=True, tag="DB")
        channel = TerminatingChannel(application, victim=3)
        with caplog.at_level(logging.ERROR):
            counts = dispatch_contacts(worker, NOW, channel, worker="w-fault4")
        assert channel.terminated == 1, "the worker was not inside a dispatch transaction"
        assert counts["due"] == 6 and counts["errors"] == 1
        # the rest of the batch went on after the lost connection (the victim's call did go out)
        assert counts["dispatched"] == 6 and len(channel.sent) == 6
        assert "connection" in caplog.text.lower() or "terminat" in caplog.text.lower()

        victim = channel.sent[2]
        with worker.sessions() as s:
            row = s.get_one(ContactAttempt, victim)
            case = s.get_one(FollowupCase, row.case_id)
            # nothing of the lost transaction was written: the claim stands, no result, no trace
            assert (row.status, row.started_at, row.outcome, row.claimed_by) == ("dispatching", None, None, "w-fault4")
            assert case.state == "calling"
            assert s.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)).all() == []
            assert s.scalars(select(WebhookEvent).where(WebhookEvent.case_id == case.id)).all() == []
            others = s.scalars(select(ContactAttempt).where(ContactAttempt.id != victim,
                                                            ContactAttempt.number == 1)).all()
            assert {(a.status, a.outcome) for a in others} == {("done", "no_answer")}

        time.sleep(1.2)  # the claim's lease runs out (wall clock)
        again = duties(worker, channel, worker="w-next")["dispatch"](worker, NOW)
        assert again["reconciled"] == 1 and again["errors"] == 0
        assert sorted(channel.sent) == sorted(set(channel.sent)) and len(channel.sent) == 6, "a call went out twice"
        with worker.sessions() as s:
            row = s.get_one(ContactAttempt, victim)
            assert (row.status, row.outcome, row.claimed_by) == ("done", "no_answer", None)
            events = s.scalars(select(WebhookEvent.type).where(WebhookEvent.case_id == row.case_id)).all()
            assert events.count("call.completed") == 1
    finally:
        worker.dispose()
