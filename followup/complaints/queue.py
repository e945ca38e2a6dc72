"""The complaints queue and one complaint's page, as the panel shows them (store-scoped).

Advisors see only the complaints about their own visits (their login is linked to their
advisor code); everybody else sees every complaint of the stores they may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, select
from sqlalchemy.orm import Session

from followup.models import (
    Advisor,
    Complaint,
    ComplaintStep,
    Customer,
    FollowupCase,
    Store,
    SurveyAnswer,
    SurveyResponse,
    User,
    Visit,
)
from followup.privacy import mask_in_text
from followup.rules.complaint_levels import IN_HAND

QUEUE_LIMIT = 500


@dataclass(frozen=True)
class QueueRow:
    id: int
    store_code: str
    ro_number: str
    customer_name: str
    advisor_code: str
    level: int
    status: str
    assignee: str | None
    opened_at: datetime
    due_at: datetime
    overdue: bool
    resurveys: int
    #: R7's category code (labels: :data:`followup.rules.complaint_words.CATEGORY_LABELS`)
    category: str = "other"
    #: survey | words | staff
    source: str = "survey"


def _row(c: Complaint, code: str, zone: ZoneInfo, ro: str, name: str, adv: str, now: datetime) -> QueueRow:
    return QueueRow(c.id, code, ro, name, adv, c.level, c.status, c.assignee, c.opened_at.astimezone(zone),
                    c.due_at.astimezone(zone), c.status in IN_HAND and c.due_at <= now, c.resurveys, c.category,
                    c.source)


def _scoped(query: Select, store_codes: list[str], user: User) -> Select:
    query = query.where(Store.code.in_(store_codes))
    if user.role == "advisor":
        query = query.where(Advisor.user_id == user.id)
    return query


def _base() -> Select:
    return (
        select(Complaint, Store.code, Store.timezone, Visit.ro_number, Customer.name, Advisor.code)
        .join(Store, Store.id == Complaint.store_id)
        .join(FollowupCase, FollowupCase.id == Complaint.case_id)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Advisor, Advisor.id == FollowupCase.advisor_id)
    )


def complaint_queue(session: Session, store_codes: list[str], user: User, *, now: datetime,
                    include_closed: bool = False) -> list[QueueRow]:
    """Open work first: overdue complaints (acknowledgement or resolution late), then by level
    (highest first) and due time."""
    overdue = and_(Complaint.status.in_(IN_HAND), Complaint.due_at <= now)
    query = _scoped(_base(), store_codes, user)
    if not include_closed:
        query = query.where(Complaint.status != "closed")
    query = query.order_by(case((overdue, 0), else_=1), Complaint.level.desc(), Complaint.due_at, Complaint.id)
    out = []
    for c, code, tz, ro, name, adv in session.execute(query.limit(QUEUE_LIMIT)).all():
        out.append(_row(c, code, ZoneInfo(tz), ro, name, adv, now))
    return out


@dataclass(frozen=True)
class StepView:
    at: datetime
    kind: str
    level: int
    by: str
    note: str | None
    cause: str | None
    fix: str | None


@dataclass(frozen=True)
class ComplaintView:
    complaint: Complaint
    row: QueueRow
    advisor_name: str | None
    score: float | None
    channel: str | None
    comment: str | None
    steps: list[StepView]


def find_complaint(session: Session, complaint_id: int, store_codes: list[str], user: User) -> Complaint | None:
    """The complaint when this user may see it; None otherwise (the page answers 404)."""
    found = session.execute(_scoped(_base(), store_codes, user).where(Complaint.id == complaint_id)).first()
    return None if found is None else found[0]


def complaint_view(session: Session, complaint_id: int, store_codes: list[str], user: User, *,
                   now: datetime) -> ComplaintView | None:
    found = session.execute(_scoped(_base(), store_codes, user).where(Complaint.id == complaint_id)).first()
    if found is None:
        return None
    c, code, tz, ro, name, adv = found
    zone = ZoneInfo(tz)
    row = _row(c, code, zone, ro, name, adv, now)
    advisor_name = session.scalar(select(Advisor.name).where(Advisor.code == adv, Advisor.store_id == c.store_id))
    resp = session.get(SurveyResponse, c.response_id) if c.response_id else None
    comment = None
    if resp is not None:
        text = session.scalar(select(SurveyAnswer.value_text).where(
            SurveyAnswer.response_id == resp.id, SurveyAnswer.value_num.is_(None), SurveyAnswer.value_text.is_not(None)))
        comment = mask_in_text(text) if text else None
    steps = [
        StepView(s.at.astimezone(zone), s.kind, s.level, s.by, s.note, s.cause, s.fix)
        for s in session.scalars(select(ComplaintStep).where(ComplaintStep.complaint_id == c.id)
                                 .order_by(ComplaintStep.at, ComplaintStep.id))
    ]
    return ComplaintView(c, row, advisor_name, resp.score if resp else None, resp.channel if resp else None,
                         comment, steps)
