"""One case as the staff see it: the visit, the customer and a timeline of everything that happened.

The timeline merges, oldest first, every contact attempt (planned and made), survey answer, SMS in
and out, complaint step and audit entry. Phone numbers leave here masked, also those a customer or
a colleague wrote inside free text (a comment, an SMS, a note: "请打我老婆电话13912345678"); the
full number is only given by :func:`followup.cases.staff_actions.reveal_phone`, which writes the
audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.models import (
    Advisor,
    AuditEntry,
    Complaint,
    ComplaintStep,
    ContactAttempt,
    Customer,
    FollowupCase,
    SmsMessage,
    Store,
    SurveyAnswer,
    SurveyResponse,
    Vehicle,
    Visit,
)
from followup.privacy import mask_in_text, mask_phone, scrub


def _text(value: str | None) -> str | None:
    """Free text as the timeline shows it: every phone number in it masked."""
    return None if value is None else mask_in_text(value)


@dataclass(frozen=True)
class Event:
    """One line of the timeline. ``kind`` picks the label; ``detail`` holds what to show."""

    at: datetime
    kind: str  # attempt | answer | survey | sms | complaint | audit
    title: str
    detail: dict[str, Any] = field(default_factory=dict)
    by: str | None = None


@dataclass(frozen=True)
class CaseFile:
    case: FollowupCase
    visit: Visit
    customer: Customer
    vehicle: Vehicle | None
    advisor: Advisor
    store: Store
    mobile_masked: str | None
    phone_masked: str | None
    open_call: ContactAttempt | None
    complaint: Complaint | None
    timeline: list[Event]


def _attempt_events(rows: list[ContactAttempt]) -> list[Event]:
    out = []
    for a in rows:
        at = a.ended_at or a.started_at or a.due_at or a.created_at
        out.append(Event(at, "attempt", f"{a.channel}", {
            "channel": a.channel, "number": a.number, "kind": a.kind, "status": a.status, "outcome": a.outcome,
            "to": mask_phone(a.destination) if a.destination and a.destination.startswith("+") else a.destination,
            "due_at": a.due_at, "callback_at": a.callback_at, "reason": a.reason,
        }, a.made_by))
    return out


def _survey_events(session: Session, case_id: int) -> list[Event]:
    out = []
    responses = list(session.scalars(select(SurveyResponse).where(SurveyResponse.case_id == case_id)))
    ids = [r.id for r in responses]
    answers = list(session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id.in_(ids)))) if ids else []
    by_response: dict[int, list[SurveyAnswer]] = {}
    for ans in answers:
        by_response.setdefault(ans.response_id, []).append(ans)
    for r in responses:
        out.append(Event(r.completed_at or r.started_at, "survey", r.status, {
            "channel": r.channel, "score": r.score, "satisfied": r.satisfied, "status": r.status,
            "answers": [(a.question_id, _text(a.value_text) if a.value_text is not None else a.value_num)
                        for a in sorted(by_response.get(r.id, []), key=lambda a: a.id)],
        }, r.made_by))
    return out


def _sms_events(session: Session, case_id: int) -> list[Event]:
    rows = session.scalars(select(SmsMessage).where(SmsMessage.case_id == case_id).order_by(SmsMessage.id))
    return [Event(m.received_at, "sms", m.direction, {
        "direction": m.direction, "body": _text(m.body), "status": m.status, "handling": m.handling,
    }) for m in rows]


def _complaint_events(session: Session, case_id: int) -> list[Event]:
    rows = session.execute(
        select(ComplaintStep).join(Complaint, Complaint.id == ComplaintStep.complaint_id)
        .where(Complaint.case_id == case_id).order_by(ComplaintStep.id)
    ).scalars()
    return [Event(s.at, "complaint", s.kind,
                  {"level": s.level, "note": _text(s.note), "cause": _text(s.cause), "fix": _text(s.fix)}, s.by)
            for s in rows]


def _audit_events(session: Session, case_id: int) -> list[Event]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id))
    # the audit keeps what happened as it was; the page shows it with numbers masked, addresses out
    return [Event(e.at, "audit", e.action, scrub(dict(e.detail or {})), e.actor) for e in rows]


def case_file(session: Session, case: FollowupCase) -> CaseFile:
    """Everything the detail page shows about ``case`` (already checked visible to the viewer)."""
    visit = session.get_one(Visit, case.visit_id)
    customer = session.get_one(Customer, visit.customer_id)
    vehicle = session.get(Vehicle, visit.vehicle_id) if visit.vehicle_id else None
    attempts = list(session.scalars(
        select(ContactAttempt).where(ContactAttempt.case_id == case.id).order_by(ContactAttempt.id)))
    timeline = [
        *_attempt_events(attempts), *_survey_events(session, case.id), *_sms_events(session, case.id),
        *_complaint_events(session, case.id), *_audit_events(session, case.id),
    ]
    timeline.sort(key=lambda e: e.at)
    complaint = session.scalar(
        select(Complaint).where(Complaint.case_id == case.id).order_by(Complaint.id.desc()).limit(1))
    open_call = next((a for a in attempts if a.channel == "call" and a.status == "planned"), None)
    return CaseFile(
        case=case, visit=visit, customer=customer, vehicle=vehicle,
        advisor=session.get_one(Advisor, case.advisor_id), store=session.get_one(Store, case.store_id),
        mobile_masked=mask_phone(customer.mobile), phone_masked=mask_phone(customer.phone),
        open_call=open_call, complaint=complaint, timeline=timeline,
    )
