"""A small world for the letter tests: one store, visits accepted at a given time, a customer who
never picks up and whose SMS bounces, and a clock moved from one due moment to the next."""

from __future__ import annotations

from datetime import UTC, datetime

import factories
from factories import SH, run_until
from sqlalchemy import select

from followup.channels.base import Contact, Sent
from followup.channels.sandbox import SandboxChannel, silent
from followup.intake.records import VisitRow
from followup.models import FollowupCase, SurveyResponse
from followup.runtime import Runtime

__all__ = ["DELIVERED", "SH", "add_visit", "case_row", "queue_letter", "run_until", "unreachable", "visit_row"]

#: delivered Friday 20 November 2026, 10:00 in Shenzhen
DELIVERED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def visit_row(n: int = 1, **changes: object) -> VisitRow:
    """The ``n``-th visit of the letter tests: its own RO number and mobile, delivered at ``DELIVERED``."""
    fields: dict[str, object] = dict(row=n + 1, mobile=f"+861380013{n:04d}", vehicle_model="大众朗逸",
                                     address="深圳市南山区科技南十二路18号3栋2单元1101", delivered_at=DELIVERED)
    return factories.visit_row(f"RO2611{n:04d}", **{**fields, **changes})


def add_visit(rt: Runtime, row: VisitRow, *, now: datetime | None = None) -> int:
    """Accept the visit (at its delivery time unless told) and return its case id."""
    return factories.add_visit(rt, row, at=now)


def unreachable(contact: Contact, now: datetime) -> Sent:
    """Nobody picks up the phone and every SMS bounces (the provider says undelivered)."""
    if contact.channel == "sms":
        return Sent(f"SBS{contact.attempt_id:08d}", outcome="undelivered", ended_at=now)
    return silent(contact, now)


def case_row(rt: Runtime, case_id: int) -> FollowupCase:
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        s.expunge(case)
        return case


def queue_letter(rt: Runtime, n: int = 1, **changes: object) -> int:
    """A case whose three calls failed and whose SMS bounced: its letter is queued (in no batch yet);
    the case id."""
    rt.clock.set(DELIVERED)  # type: ignore[attr-defined]
    case_id = add_visit(rt, visit_row(n, **changes))
    run_until(rt, SandboxChannel(unreachable), datetime(2026, 11, 21, 12, 0, tzinfo=UTC), only=("dispatch",))
    return case_id


def answered_on_the_web(rt: Runtime, case_id: int) -> SurveyResponse:
    """The case of a maintenance visit whose customer answered the web survey satisfied: closed
    ``satisfied``, and its one completed response (web, 95.0); that response."""
    case = case_row(rt, case_id)
    assert (case.state, case.outcome) == ("closed", "satisfied")
    with rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse).where(SurveyResponse.status == "completed")).one()
        # a maintenance visit: fixed_right was not asked, the score is over the questions asked (R5)
        assert (resp.channel, resp.made_by, resp.score) == ("web", "web", 95.0)  # (36 + 20 + 20) / 0.8
        s.expunge(resp)
        return resp
