"""R7's ways in: a dissatisfied response, a comment or late reply with one of the store's complaint
words, or staff opening one from a case. Every complaint starts at level 1 with the visit's
advisor, due within ``ack_sla`` (24h), with a category (read from the words, or chosen by staff).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from followup import audit
from followup.cases.lifecycle import cancel_pending
from followup.complaints.assignment import assignee_for
from followup.complaints.authority import OPENING_ROLES
from followup.complaints.errors import ComplaintError, NotAllowed
from followup.complaints.resurvey import active_complaint
from followup.complaints.steps import record_step, store_of
from followup.models import Complaint, FollowupCase, SurveyResponse, User
from followup.rules.complaint_words import CATEGORIES, category_from_answers, read_category
from followup.settings import Settings

#: the outcomes of a case that ended for reasons that are not the customer's: no complaint opens on them
NOT_REOPENED = frozenset({"cancelled", "excluded"})


def _open(session: Session, case: FollowupCase, *, settings: Settings, now: datetime, by: str, source: str,
          category: str, response_id: int | None, note: str | None, data: dict[str, object]) -> Complaint:
    """The complaint row, the case handed to it (nothing else planned for it), the step, audit and event."""
    store = store_of(session, settings, case.store_id)
    complaint = Complaint(
        case_id=case.id, store_id=case.store_id, response_id=response_id, level=1, status="open",
        assignee=assignee_for(session, case, 1, store), opened_at=now, due_at=now + settings.complaints.ack_sla,
        resurveys=0, category=category, source=source,
    )
    session.add(complaint)
    session.flush()
    if case.state == "closed":  # a customer who complains after the case closed: the case is theirs again
        audit.record(session, by, "case.reopened", at=now, store_id=case.store_id, case_id=case.id,
                     previous_outcome=case.outcome, reason="complaint")
        case.outcome, case.closed_at = None, None
    # the complaint has the customer now: no survey call or SMS goes out beside it (re-surveyed once resolved)
    cancel_pending(session, case.id, reason="complaint")
    case.state, case.next_check_at = "complaint", None
    record_step(session, complaint, "opened", at=now, by=by, note=note, event="complaint.opened", data=data)
    return complaint


def open_complaint(
    session: Session,
    case: FollowupCase,
    resp: SurveyResponse,
    *,
    settings: Settings,
    now: datetime,
    ref: dict[str, str] | None = None,
    answers: Mapping[str, object] | None = None,
    word: str | None = None,
) -> Complaint:
    """Open the level-1 complaint of a response: dissatisfied, or (``word``) satisfied by its scores
    but with a complaint word in its comment. The category is read from the comment, else from what
    the scored answers point to.

    ``ref`` is accepted for the callers that already know the case's store code and RO number;
    the webhook body is built from the rows either way.
    """
    answers = answers or {}
    comment = str(answers.get("comment") or "")
    category = read_category(comment, settings.complaints.categories)
    if category == "other":
        category = category_from_answers(answers)
    data: dict[str, object] = {"score": resp.score, "channel": resp.channel}
    note = None
    if word is not None:
        data["word"] = word
        note = f"complaint word 「{word}」 in the comment: {comment}"
    source = "words" if word is not None and resp.satisfied else "survey"  # the words alone opened it
    return _open(session, case, settings=settings, now=now, by="system", source=source,
                 category=category, response_id=resp.id, note=note, data=data)


def open_from_words(session: Session, case: FollowupCase, text: str, word: str, *, settings: Settings,
                    now: datetime, by: str, where: str) -> Complaint:
    """A late reply (``where``: how it came) with a complaint word opens a complaint on its case."""
    return _open(session, case, settings=settings, now=now, by=by, source="words",
                 category=read_category(text, settings.complaints.categories), response_id=None,
                 note=f"{where}: {text}", data={"word": word, "channel": where})


def open_by_staff(session: Session, settings: Settings, case: FollowupCase, user: User, *, category: str,
                  note: str | None, now: datetime) -> Complaint:
    """Staff (information staff, a manager, an admin) open a complaint from a case, e.g. after the
    customer phoned in. Not an advisor: the visit's own advisor never judges their own customer's
    case (R3 independence), and it is handed to them at level 1."""
    if user.role not in OPENING_ROLES:
        raise NotAllowed("A service advisor cannot open a complaint: information staff or a manager does.")
    if category not in CATEGORIES:
        raise ComplaintError("Choose the complaint's category.")
    text = (note or "").strip()
    if not text:
        raise ComplaintError("Note: say what the customer complained about.")
    if len(text) > 2000:
        raise ComplaintError("Text too long: at most 2000 characters.")
    if case.outcome in NOT_REOPENED:
        raise ComplaintError("This case was cancelled: no complaint can be opened on it.")
    if active_complaint(session, case.id) is not None:
        raise ComplaintError("This case already has an open complaint.")
    return _open(session, case, settings=settings, now=now, by=f"user:{user.username}", source="staff",
                 category=category, response_id=None, note=text, data={"by": f"user:{user.username}"})


def can_open_from_case(session: Session, case: FollowupCase, user: User) -> bool:
    """Whether the case page offers ``user`` to open a complaint (see :func:`open_by_staff`)."""
    return (user.role in OPENING_ROLES and case.outcome not in NOT_REOPENED
            and active_complaint(session, case.id) is None)
