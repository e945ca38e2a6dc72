"""R7: a dissatisfied response opens a complaint for the visit's advisor, level 1, due in 24h."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from followup.complaints.assignment import assignee_for
from followup.complaints.steps import record_step, store_of
from followup.models import Complaint, FollowupCase, SurveyResponse
from followup.settings import Settings


def open_complaint(
    session: Session,
    case: FollowupCase,
    resp: SurveyResponse,
    *,
    settings: Settings,
    now: datetime,
    ref: dict[str, str] | None = None,
) -> Complaint:
    """Open the level-1 complaint of a dissatisfied response and hand the case to it.

    ``ref`` is accepted for the callers that already know the case's store code and RO number;
    the webhook body is built from the rows either way.
    """
    store = store_of(session, settings, case.store_id)
    complaint = Complaint(
        case_id=case.id, store_id=case.store_id, response_id=resp.id, level=1, status="open",
        assignee=assignee_for(session, case, 1, store), opened_at=now, due_at=now + settings.complaints.ack_sla,
        resurveys=0,
    )
    session.add(complaint)
    session.flush()
    case.state, case.next_check_at = "complaint", None
    record_step(
        session, complaint, "opened", at=now, by="system", event="complaint.opened",
        data={"score": resp.score, "channel": resp.channel},
    )
    return complaint
