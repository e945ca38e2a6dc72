"""A returned paper form keyed in by staff, by its reply code: recorded as channel ``letter``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from followup.models import SurveyResponse
from followup.settings import Settings
from followup.surveys.questions import questions_for_case
from followup.surveys.reply_codes import case_for_code, code_status, parse_answers
from followup.surveys.responses import record_survey


@dataclass
class PaperReply:
    """What keying in a form did: ``problem`` (unknown_code, answered, expired, invalid) or a response."""

    problem: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    response: SurveyResponse | None = None
    store_code: str | None = None


def record_paper_reply(session: Session, settings: Settings, code: str, form: Mapping[str, str], *,
                       username: str, stores: list[str] | tuple[str, ...], now: datetime) -> PaperReply:
    """Check the code (and that the user may see its store) and record the form; the caller commits."""
    case = case_for_code(session, code, sent_only=False)  # staff, signed in, hold the returned form
    if case is None:
        return PaperReply("unknown_code")
    status = code_status(session, case, settings, now)
    if status.store_code not in stores:
        return PaperReply("unknown_code")  # another store's code looks like no code at all
    if status.state == "answered":
        return PaperReply("answered", store_code=status.store_code)
    if case.state in ("closed", "complaint"):
        return PaperReply("expired", store_code=status.store_code)
    # A form posted back after the reply timeout still counts while the case is open.
    # R5: the questions of the visit's service type; a box ticked for another question does not count
    answers, errors = parse_answers(questions_for_case(session, case, settings), form, all_required=False)
    if errors:
        return PaperReply("invalid", errors=errors, store_code=status.store_code)
    resp = record_survey(session, case, answers, channel="letter", made_by=f"user:{username}",
                         settings=settings, now=now)
    return PaperReply(response=resp, store_code=status.store_code)
