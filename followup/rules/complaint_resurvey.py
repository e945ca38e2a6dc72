"""A resolved complaint's re-survey that gets no answer (R7). Pure: no database, no clock.

When staff mark a complaint resolved the customer is surveyed again (``resurvey``). If that
re-survey gets no answer within the store's ``sms_reply_timeout`` (48h) it is reminded once; after
``resurvey_timeout`` (7 days) from the re-survey (or from the resolution, when no re-survey could
go out) a manager may close the complaint as ``resolved_unconfirmed``. Until then the complaint is
looked at again at the instant this rule names, so it never waits on nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from followup.rules.values import ComplaintSettings


@dataclass(frozen=True)
class ResurveyFacts:
    """The re-survey of one resolution, as the rows tell it."""

    resolved_at: datetime
    #: when this resolution's first re-survey contact went out; None while none has
    first_sent_at: datetime | None
    #: due time of a re-survey contact (or its reminder) still planned or in flight; None when none is
    pending_due: datetime | None
    #: the reminder of this resolution was planned already (it is sent once)
    reminded: bool
    #: a channel is left for a reminder (not opted out, a usable number, not declined)
    can_remind: bool


@dataclass(frozen=True)
class ResurveyStep:
    """``wait`` until ``at``; ``remind`` now; or ``unconfirmed``: a manager may close it from ``at``."""

    action: str  # wait | remind | unconfirmed
    at: datetime


def resurvey_step(facts: ResurveyFacts, now: datetime, settings: ComplaintSettings,
                  reply_timeout: timedelta) -> ResurveyStep:
    """What the unanswered re-survey of a resolved complaint leads to at ``now``."""
    if facts.pending_due is not None:
        return ResurveyStep("wait", max(now, facts.pending_due) + reply_timeout)
    if facts.first_sent_at is not None and facts.can_remind and not facts.reminded:
        remind_at = facts.first_sent_at + reply_timeout
        return ResurveyStep("remind", now) if now >= remind_at else ResurveyStep("wait", remind_at)
    timeout_at = (facts.first_sent_at or facts.resolved_at) + settings.resurvey_timeout
    return ResurveyStep("unconfirmed", now) if now >= timeout_at else ResurveyStep("wait", timeout_at)
