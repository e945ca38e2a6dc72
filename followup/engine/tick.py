"""One scheduler pass (`followup tick`): plan, dispatch, decide deadlines. The rows are the truth.

The worker's APScheduler jobs and the CLI call the same :func:`run_tick`. Sending commits per
row for a real provider (per group of rows for the sandbox, see
:func:`~followup.engine.dispatch.rows_per_commit`), so a crash loses at most the rows in
hand, which their leases bring back; a tick after downtime simply finds more rows due
(misfires are caught up, not skipped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError

from followup import audit
from followup.channels.base import Channel
from followup.channels.registry import build_channel
from followup.clock import monotonic
from followup.engine.dispatch import DispatchCounts, claim, dispatch_rows, rows_per_commit
from followup.engine.leases import reclaim_expired, renew
from followup.engine.planner import plan_due_cases, sweep_deadlines
from followup.engine.staff_calls import cancel_unmade_staff_calls, staff_call_stores
from followup.runtime import Runtime

log = logging.getLogger("followup.engine")

#: One duty of the scheduler: does the work that is due at ``now`` and returns its counts.
Duty = Callable[[Runtime, datetime], dict[str, Any]]


def dispatch_contacts(rt: Runtime, now: datetime, channel: Channel, *, worker: str | None = None,
                      batch: int | None = None) -> dict[str, Any]:
    """Plan cases, claim due contacts, send them, record results and deadlines.

    A larger backlog than ``batch`` rows (default ``settings.engine.dispatch_batch``) is worked
    through over several ticks.
    """
    batch = batch or rt.settings.engine.dispatch_batch
    lease = rt.settings.engine.lease
    counts = DispatchCounts()
    if worker:
        counts.worker = worker
    planned = 0
    recovered = reclaim_expired(rt.sessions, channel, rt.settings, now, limit=batch)
    with rt.sessions() as s:
        not_made = cancel_unmade_staff_calls(s, rt.settings, now, limit=batch)  # R8: staff time ran out
        planned += plan_due_cases(s, rt.settings, now, limit=batch)
        s.commit()
    ids = claim(rt.sessions, now, counts.worker, batch, lease=lease, staff_stores=staff_call_stores(rt.settings))
    counts.due = len(ids)
    heartbeat = monotonic()
    step = rows_per_commit(channel)
    for start in range(0, len(ids), step):
        group = ids[start:start + step]
        try:
            with rt.sessions() as s:
                dispatch_rows(s, group, channel, rt.settings, now, counts)
                if monotonic() - heartbeat > lease.total_seconds() / 3:
                    renew(s, counts.worker, lease)  # still alive: keep the rest of the batch
                    heartbeat = monotonic()
                s.commit()
        except DBAPIError as exc:  # connection lost mid-row (#10 fault 4): rolled back, its lease brings it back
            log.error("attempts %s: database error, rolled back until their lease runs out: %s",
                      _ids_text(group), exc)
            counts.errors += len(group)
    # Results of this pass (a failed call, a delivered SMS) are planned at once, not next tick.
    with rt.sessions() as s:
        planned += plan_due_cases(s, rt.settings, now, limit=batch)
        breaches = sweep_deadlines(s, rt.settings, now)
        s.commit()
    return {
        "planned": planned,
        "due": counts.due,
        "dispatched": counts.dispatched,
        "retried": counts.retried,
        "rescheduled": counts.rescheduled,
        "fallbacks": counts.fallbacks,
        "breaches": breaches,
        "errors": counts.errors,
        "paced": counts.paced,
        "staff_calls_not_made": not_made,
        **recovered,  # rows of a dead worker: planned again, or recorded as the provider saw them  # left for the next tick by the calls/SMS-per-second limit
    }


def _ids_text(ids: list[int]) -> str:
    return str(ids[0]) if len(ids) == 1 else f"{ids[0]}..{ids[-1]} ({len(ids)} rows)"


def duties(rt: Runtime, channel: Channel | None = None, *, worker: str | None = None,
           batch: int | None = None) -> dict[str, Duty]:
    """Every duty of a tick, in the order one tick runs them; the worker gives each its own job.

    ``batch`` defaults to ``settings.engine.dispatch_batch``, so ``followup tick`` and the worker
    claim alike.
    """
    channel = channel or build_channel(rt.settings)
    batch = batch or rt.settings.engine.dispatch_batch

    def dispatch(rt: Runtime, now: datetime) -> dict[str, Any]:
        return dispatch_contacts(rt, now, channel, worker=worker, batch=batch)

    def escalate(rt: Runtime, now: datetime) -> dict[str, Any]:
        from followup.complaints.duty import complaint_duty  # R7: escalations, progress SMS, re-survey checks

        with rt.sessions() as s:
            counts = complaint_duty(s, rt.settings, now, limit=batch)
            s.commit()
        return dict(counts)

    def webhooks(rt: Runtime, now: datetime) -> dict[str, Any]:
        from followup.webhooks.delivery import deliver_due  # last: sends what the duties above just recorded

        return deliver_due(rt, now)

    from followup.letters.duty import build_due_batches  # R4.4: each store's daily letter batch

    letters: dict[str, Duty] = {"letters": build_due_batches}
    if rt.settings.sandbox_customers == "demo":
        from followup.sandbox.post_room import demo_post_room  # `make run`: batches are mailed at once

        letters["demo_post_room"] = demo_post_room
    from followup.engine.provider_callbacks import (
        kept_callbacks,  # Twilio callbacks that came before their SID was saved
    )

    return {"dispatch": dispatch, "twilio_callbacks": kept_callbacks, "escalate": escalate, **letters,
            "webhooks": webhooks}


def doctor(rt: Runtime, now: datetime) -> dict[str, Any]:
    """RULES R3/R7 checked once a day by the worker (``followup doctor`` on demand): the open cases
    without a next step and the complaints without a way forward. Read-only, except that a finding
    is logged and audited (``doctor.found``, with the counts and the first cases and complaints)."""
    from followup.cases.next_step import check

    with rt.sessions() as s:
        found = check(s, rt.settings, now)
        if not found.ok:
            cases = [f"{c.store_code} {c.ro_number} ({c.state})" for c in found.cases[:DOCTOR_REFS]]
            complaints = [f"{k.store_code} {k.ro_number} (complaint {k.complaint_id})"
                          for k in found.complaints[:DOCTOR_REFS]]
            log.warning("doctor: %d open cases without a next step %s, %d complaints without a way forward %s",
                        len(found.cases), cases, len(found.complaints), complaints)
            audit.record(s, "system", "doctor.found", at=now, cases=len(found.cases),
                         complaints=len(found.complaints), first_cases=cases, first_complaints=complaints)
            s.commit()
    return {"cases_without_next_step": len(found.cases), "complaints_without_way_forward": len(found.complaints)}


#: how many cases and complaints a ``doctor.found`` audit row names
DOCTOR_REFS = 10


def retention(rt: Runtime, now: datetime) -> dict[str, Any]:
    """RULES R13 once a day: customers past ``retain_months`` anonymised, raw records past their
    periods deleted (``followup privacy purge`` on demand); audited as ``privacy.purged``."""
    from followup.retention import purge

    with rt.sessions() as s:
        report = purge(s, rt.settings, now)
        s.commit()
    if report.customers:
        log.info("retention: %d customers anonymised (no visit since %s)", len(report.customers),
                 report.cutoff.date().isoformat())
    return report.counts()


def daily_duties() -> dict[str, Duty]:
    """The duties the worker runs once a day (at its start, then every 24 hours), not every tick."""
    return {"doctor": doctor, "retention": retention}


def run_tick(rt: Runtime, channel: Channel | None = None, *, worker: str | None = None,
             batch: int | None = None) -> dict[str, Any]:
    """One pass of every duty; returns the merged counts printed as one JSON line."""
    now = rt.clock.now()
    counts: dict[str, Any] = {"now": now.isoformat()}
    for duty in duties(rt, channel, worker=worker, batch=batch).values():
        counts.update(duty(rt, now))
    return counts
