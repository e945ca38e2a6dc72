"""Migration 0011 takes up the rows earlier versions left ``error`` after an hour of provider
errors (issue #16: "a case can go silent"): a call past its case's deadline is cancelled so the
fallback starts; any other is planned again. SQLite and PostgreSQL (the statements run on each)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta

from factories import add_visit, visit_row
from sqlalchemy import select, text

from followup.engine.planner import plan_due_cases
from followup.models import ContactAttempt, FollowupCase
from followup.rules.three_day_rule import PROVIDER_OUTAGE
from followup.runtime import Runtime
from followup.schema import MIGRATIONS


def revive_statements() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("m0011", MIGRATIONS / "versions" / "0011_channel_pauses.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.REVIVE)


def errored_call(rt: Runtime, case_id: int, due: datetime) -> int:
    with rt.sessions() as s:
        a = ContactAttempt(case_id=case_id, channel="call", kind="survey", number=1, status="error",
                           reason="provider_errors", destination="+8613800138000", due_at=due, created_at=due,
                           retries=7, first_error_at=due)
        s.add(a)
        s.get_one(FollowupCase, case_id).next_check_at = None  # nothing would ever look at it again
        s.commit()
        return a.id


def test_silent_rows_are_cancelled_past_the_deadline_or_planned_again(rt: Runtime) -> None:
    wall = datetime.now(UTC).replace(microsecond=0)  # the migration's "now" is the database's clock
    old = visit_row("RO-OLD", delivered_at=wall - timedelta(days=10))
    fresh = visit_row("RO-NEW", mobile="+8613800138001", delivered_at=wall - timedelta(hours=26))
    closed = visit_row("RO-SHUT", mobile="+8613800138002", delivered_at=wall - timedelta(days=10))
    ids = {r.ro_number: add_visit(rt, r, at=r.delivered_at) for r in (old, fresh, closed)}
    rows = {ro: errored_call(rt, case_id, wall - timedelta(hours=2)) for ro, case_id in ids.items()}
    with rt.sessions() as s:
        s.get_one(FollowupCase, ids["RO-SHUT"]).state = "closed"
        s.commit()
    with rt.engine.begin() as conn:
        for statement in revive_statements():
            conn.execute(text(statement))
    with rt.sessions() as s:
        got = {ro: s.get_one(ContactAttempt, rid) for ro, rid in rows.items()}
        assert (got["RO-OLD"].status, got["RO-OLD"].reason) == ("cancelled", PROVIDER_OUTAGE)
        assert (got["RO-NEW"].status, got["RO-NEW"].reason, got["RO-NEW"].retries, got["RO-NEW"].first_error_at) == (
            "planned", PROVIDER_OUTAGE, 0, None)
        assert got["RO-SHUT"].status == "error"  # a closed case is left as it was
        assert s.get_one(FollowupCase, ids["RO-OLD"]).next_check_at is not None
    rt.clock.set(wall)  # type: ignore[attr-defined]
    with rt.sessions() as s:
        plan_due_cases(s, rt.settings, wall)
        s.commit()
        fallback = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == ids["RO-OLD"],
                                                          ContactAttempt.status == "planned")).one()
        assert (fallback.channel, fallback.reason) == ("sms", "system_delay")  # the fallback starts
