"""The questions one case's customer is asked (R5: they follow the visit's service type).

Every channel takes its questions from here: the SMS and IVR dialogues, the web form, the letter,
a paper reply keyed in, a call recorded by staff, and any survey recorded at once (the sandbox's
customers). Built on :meth:`SurveySettings.questions_for`, the one rule.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.models import FollowupCase, Visit
from followup.settings import Question, Settings


def service_type_of(session: Session, case: FollowupCase) -> str | None:
    """The service type of the case's visit (``maintenance``, ``repair``…)."""
    return session.scalar(select(Visit.service_type).where(Visit.id == case.visit_id))


def questions_for_case(session: Session, case: FollowupCase, settings: Settings) -> tuple[Question, ...]:
    """The questions this case's customer is asked, in order."""
    return settings.survey.questions_for(service_type_of(session, case))
