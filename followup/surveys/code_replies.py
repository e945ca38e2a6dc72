"""An SMS that starts with a reply code, followed by the answers (R4.4: a letter offers it).

``B72Y-SPK4-MQ8R 9 1 是 8 师傅很耐心`` answers the case whose reply code is ``B72YSPK4MQ8R``: the scored questions of
the visit (R5) in the letter's order, one answer each as the SMS survey reads them (``9``, ``九分``,
``是``/``1``, ``否``/``2`` …), then the comment, if any. The code is matched whatever its case and
however it is split by dashes or spaces (:func:`followup.surveys.reply_codes.normalise`), from any
phone: the customer may answer from a family member's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from followup.models import FollowupCase
from followup.rules.sms_replies import parse_answer
from followup.settings import Question
from followup.surveys.reply_codes import case_for_code, normalise

#: a reply code as typed takes at most this many characters (dashes and spaces included)
TYPED_MAX = 32
#: what a typed code is made of: letters, digits, dashes and spaces
_TYPED = re.compile(r"[0-9A-Za-z\s-]")
#: what separates the answers after the code
_SEPARATORS = re.compile(r"[\s,，、;；/|]+")
#: the example answers a letter and a hint show, per question kind and language
_EXAMPLE = {"zh": {"scale10": "9", "yesno": "是"}, "en": {"scale10": "9", "yesno": "YES"}}


@dataclass(frozen=True)
class CodedReply:
    """The case a message's leading reply code names, and what follows the code."""

    case: FollowupCase
    rest: str


def leading_code(session: Session, body: str) -> CodedReply | None:
    """The case whose reply code starts ``body``; None when the message does not start with one.

    Every beginning of the message that :func:`normalise` accepts as a code is looked up, longest
    first, so that the way it is typed (``b72y-spk4 mq8r``) does not matter, and a 12-character
    code is never taken for the older 6-character code its first six characters may also be.
    """
    text = unicodedata.normalize("NFKC", body or "").strip()
    ends: list[tuple[int, str]] = []
    for end in range(1, min(len(text), TYPED_MAX) + 1):
        if not _TYPED.fullmatch(text[end - 1]):
            break
        code = normalise(text[:end])
        if code is not None:
            ends.append((end, code))
    tried: set[str] = set()
    for end, code in reversed(ends):
        if code in tried:
            continue
        tried.add(code)
        case = case_for_code(session, code)
        if case is not None:
            return CodedReply(case, text[end:].strip(" -"))
    return None


def read_answers(questions: Sequence[Question], rest: str) -> dict[str, str] | None:
    """The answers after the code, one per scored question in order, then the comment; None when a
    scored question has no readable answer or words are left over with no comment to hold them."""
    tokens = [t for t in _SEPARATORS.split(rest.strip()) if t]
    answers: dict[str, str] = {}
    for q in questions:
        if q.kind == "text":
            continue
        if not tokens:
            return None
        value = parse_answer(q.kind, tokens.pop(0))
        if value is None or value == "":
            return None
        answers[q.id] = value
    comment = next((q for q in questions if q.kind == "text"), None)
    if tokens:
        if comment is None:
            return None
        answers[comment.id] = " ".join(tokens)
    return answers


def example_reply(code: str, questions: Sequence[Question], lang: str) -> str:
    """``B72Y-SPK4-MQ8R 9 是 是 9``: how to answer these questions by SMS, for the letter and the hint."""
    words = _EXAMPLE["en" if lang == "en" else "zh"]
    return " ".join([code, *(words[q.kind] for q in questions if q.kind in words)])
