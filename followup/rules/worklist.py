"""The information staff's call worklist as rules (RULES R2, R3, R5; CONTRACT §9). Pure.

What a person may record for a call they made from the worklist, how a recorded outcome is
checked (each problem named by its field, so that the API answers 422 with field errors and the
page marks the field), when a call is at risk, how long a claim lasts, and the callback times the
time picker offers. The hours themselves are :func:`followup.rules.calendar.call_windows` (staff
hours intersected with the calling windows).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from followup.rules.calendar import call_windows, closed_day, in_call_window
from followup.rules.callback_slots import MIN_NOTICE
from followup.rules.values import ContactPolicy, Question

#: what staff record for a call made from the worklist (CONTRACT §9); ``failed`` is only the provider's
WORKLIST_OUTCOMES = ("no_answer", "busy", "voicemail", "hung_up", "invalid_number", "declined",
                     "callback_requested", "answered")
#: a claim keeps a call for one person this long (on the service clock); claiming again renews it
CLAIM_LENGTH = timedelta(minutes=15)
#: a call whose case's deadline is this close is marked at risk
AT_RISK = timedelta(hours=12)
#: the longest free text kept (a comment, a note)
TEXT_MAX = 2000
#: the time picker's step between two callback times
CALLBACK_STEP = timedelta(minutes=30)

# The field errors' messages (English; the panel shows them translated).
UNKNOWN_OUTCOME = "Choose one of the outcomes: " + ", ".join(WORKLIST_OUTCOMES) + "."
ANSWERS_MISSING = "An answered call needs the survey answers."
ANSWERS_NOT_MAP = "Answers are an object of question ids and values."
NOT_A_QUESTION = "Not a question of this survey."
ANSWER_REQUIRED = "Answer this question (only the comment is optional)."
SCALE_RANGE = "A score is a whole number from 0 to 10."
YES_NO = "Answer yes or no."
TEXT_TOO_LONG = f"At most {TEXT_MAX} characters."
NOT_TEXT = "Expected text."
CALLBACK_MISSING = "Give the time the customer asked to be called back."
CALLBACK_NOT_TIME = "Not a date and time (use ISO 8601, e.g. 2026-11-21T10:00:00+08:00)."
CALLBACK_PAST = "The callback time is in the past."
CALLBACK_OUTSIDE = "The callback time is outside the calling windows."


@dataclass(frozen=True)
class FieldError:
    """One problem with what was sent, named by its field (``answers.overall``, ``callback_at``)."""

    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True)
class CheckedOutcome:
    """A recorded outcome after its checks: the answers as the survey stores them, the callback
    time (aware UTC), the note; ``errors`` empty when it may be recorded."""

    outcome: str
    answers: dict[str, str]
    callback_at: datetime | None
    note: str
    errors: tuple[FieldError, ...]


def at_risk(deadline_at: datetime, now: datetime) -> bool:
    """The case's deadline is within :data:`AT_RISK` (and not past)."""
    return now < deadline_at <= now + AT_RISK


def _scale(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if 0 <= value <= 10 else None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and 0 <= value <= 10 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
        return str(number) if 0 <= number <= 10 else None
    return None


def _yes_no(value: object) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return value.strip().lower()
    return None


def check_answers(answers: object, questions: Sequence[Question], known: Collection[str] = (),
                  ) -> tuple[dict[str, str], list[FieldError]]:
    """R5: every question asked for this visit answered (the optional comment aside), each value as
    the survey defines it (0-10, ``yes``/``no``, text). Answers to a question of the survey
    (``known``: every question id) that this visit is not asked are left out; an id that is no
    question at all is an error."""
    if answers is None or answers == {}:
        return {}, [FieldError("answers", ANSWERS_MISSING)]
    if not isinstance(answers, Mapping) or not all(isinstance(k, str) for k in answers):
        return {}, [FieldError("answers", ANSWERS_NOT_MAP)]
    asked = {q.id: q for q in questions}
    errors = [FieldError(f"answers.{qid}", NOT_A_QUESTION) for qid in answers if qid not in asked and qid not in known]
    out: dict[str, str] = {}
    for q in questions:
        raw = answers.get(q.id)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if not q.optional:
                errors.append(FieldError(f"answers.{q.id}", ANSWER_REQUIRED))
            continue
        if q.kind == "scale10":
            value, problem = _scale(raw), SCALE_RANGE
        elif q.kind == "yesno":
            value, problem = _yes_no(raw), YES_NO
        elif not isinstance(raw, str):
            value, problem = None, NOT_TEXT
        else:
            value, problem = (raw.strip() if len(raw.strip()) <= TEXT_MAX else None), TEXT_TOO_LONG
        if value is None:
            errors.append(FieldError(f"answers.{q.id}", problem))
        else:
            out[q.id] = value
    return out, errors


def parse_time(value: object, tz: ZoneInfo) -> datetime | None:
    """An instant from ISO 8601 text (or a datetime); a time without an offset is store local time."""
    if isinstance(value, datetime):
        at = value
    elif isinstance(value, str) and value.strip():
        try:
            at = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if at.tzinfo is None or at.utcoffset() is None:
        at = at.replace(tzinfo=tz)
    return at.astimezone(UTC)


def check_callback(value: object, now: datetime, policy: ContactPolicy, tz: ZoneInfo,
                   ) -> tuple[datetime | None, list[FieldError]]:
    """R3: the time the customer asked for, ahead of ``now`` and inside the store's calling windows
    (in a staff store: its staff hours too) on a day that is not closed."""
    if value is None or value == "":
        return None, [FieldError("callback_at", CALLBACK_MISSING)]
    at = parse_time(value, tz)
    if at is None:
        return None, [FieldError("callback_at", CALLBACK_NOT_TIME)]
    if at <= now:
        return None, [FieldError("callback_at", CALLBACK_PAST)]
    if not in_call_window(at, policy, tz):
        return None, [FieldError("callback_at", CALLBACK_OUTSIDE)]
    return at, []


def check_outcome(outcome: object, answers: object, callback_at: object, note: object,
                  questions: Sequence[Question], now: datetime, policy: ContactPolicy, tz: ZoneInfo,
                  known: Collection[str] = ()) -> CheckedOutcome:
    """Check an outcome as sent (CONTRACT §9): a known outcome; answers with ``answered`` (to
    ``questions``, this visit's; ``known``: every question id of the survey); a callback time with
    ``callback_requested``; a short note. What does not belong to the outcome (answers of an
    unanswered call) is left out."""
    errors: list[FieldError] = []
    clean: dict[str, str] = {}
    at: datetime | None = None
    if not isinstance(outcome, str) or outcome not in WORKLIST_OUTCOMES:
        errors.append(FieldError("outcome", UNKNOWN_OUTCOME))
    elif outcome == "answered":
        clean, problems = check_answers(answers, questions, known)
        errors += problems
    elif outcome == "callback_requested":
        at, problems = check_callback(callback_at, now, policy, tz)
        errors += problems
    text = ""
    if note is not None and not isinstance(note, str):
        errors.append(FieldError("note", NOT_TEXT))
    elif note:
        text = note.strip()
        if len(text) > TEXT_MAX:
            errors.append(FieldError("note", TEXT_TOO_LONG))
    return CheckedOutcome(outcome if isinstance(outcome, str) else "", clean, at, text, tuple(errors))


def callback_times(now: datetime, policy: ContactPolicy, tz: ZoneInfo, *, days: int = 3,
                   step: timedelta = CALLBACK_STEP) -> list[datetime]:
    """The times a callback may be booked at (the time picker): every ``step`` inside the store's
    call windows, at least :data:`~followup.rules.callback_slots.MIN_NOTICE` ahead, over the next
    ``days`` days that have any (closed days skipped), in UTC."""
    earliest = now + MIN_NOTICE
    out: list[datetime] = []
    day, found_days = now.astimezone(tz).date(), 0
    for _ in range(days + 60):  # a holiday block is never longer than a few weeks
        if found_days >= days:
            break
        found: list[datetime] = []
        if not closed_day(day, policy):
            for w in call_windows(policy):
                at = datetime.combine(day, w.start, tzinfo=tz)
                end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) if w.end == time.max \
                    else datetime.combine(day, w.end, tzinfo=tz)
                while at < end:
                    if at >= earliest and in_call_window(at, policy, tz):
                        found.append(at.astimezone(UTC))
                    at += step
        if found:
            out += found
            found_days += 1
        day += timedelta(days=1)
    return out
