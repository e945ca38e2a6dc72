"""R10: every contact's outcome is audited once, with who made it, whichever way the result came
(here: the sandbox channel, which knows it at once). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import NOW, add_visit, run_until, visit_row
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel, silent
from followup.models import AuditEntry, ContactAttempt
from followup.runtime import Runtime


def test_each_call_and_sms_outcome_is_audited_once_by_its_maker(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    case_id = add_visit(rt, visit_row("RO-AUD", delivered_at=NOW - timedelta(hours=26)), at=NOW)
    channel = SandboxChannel(silent)  # nobody answers the phone; the SMS is delivered
    run_until(rt, channel, NOW + timedelta(days=2), only=("dispatch",))
    with rt.sessions() as s:
        made = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id,
                                                      ContactAttempt.status == "done").order_by(ContactAttempt.id)).all()
        audited = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id,
                                                     AuditEntry.action.like("%.outcome")).order_by(AuditEntry.id)).all()
    assert [(a.channel, a.outcome) for a in made] == [("call", "no_answer")] * 3 + [("sms", "delivered")]
    assert [(e.action, e.actor, e.detail["attempt"], e.detail["outcome"]) for e in audited] == [
        (f"{a.channel}.outcome", a.made_by, a.id, a.outcome) for a in made]
    assert all(a.made_by for a in made)
    assert datetime(2026, 1, 1, tzinfo=UTC) < audited[0].at
