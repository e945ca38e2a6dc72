"""Reading what customers reply by SMS (R5) and the opt-out / opt-in / help words (R6). Pure.

:func:`parse_answer` turns one reply into the stored value of one question (``"0"``-``"10"``,
``"yes"``/``"no"`` or the text), or ``None`` when it cannot be read. :func:`keyword` recognises a
whole-message keyword: ``"  退订 "`` and ``"STOP"`` opt out, ``"Stop please"`` does not.
"""

from __future__ import annotations

import re
import unicodedata

#: R6: whole-message opt-out words (any case, surrounding spaces ignored)
OPT_OUT_WORDS = frozenset({"T", "TD", "R", "退订", "拒收", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END",
                           "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "帮助", "INFO"})

#: R5 words for a 0-10 answer; longest first so 非常不满意 is not read as 不满意 or 满意
SCALE_WORDS = (("非常不满意", 0), ("非常满意", 10), ("不满意", 3), ("满意", 8), ("一般", 6))
YES_WORDS = frozenset({"是", "对", "好", "有", "Y", "YES", "是的", "对的"})
NO_WORDS = frozenset({"否", "不是", "没有", "N", "NO", "不", "没"})
#: a comment reply that means "nothing to add"
NOTHING_WORDS = frozenset({"无", "没有", "没", "不", "NO", "N", "NONE", "NOTHING", "无意见", "没有意见"})

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_TRAILING = re.compile(r"[\s。．.!！~～,，、]+$")
_SCORE_SUFFIX = re.compile(r"(分|points?|pts?)$", re.IGNORECASE)


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), trimmed, trailing punctuation dropped."""
    return _TRAILING.sub("", unicodedata.normalize("NFKC", text or "").strip())


def keyword(text: str) -> str | None:
    """``optout``, ``optin`` or ``help`` when the WHOLE message is such a word, else None."""
    word = normalise(text).upper()
    if word in OPT_OUT_WORDS:
        return "optout"
    if word in OPT_IN_WORDS:
        return "optin"
    if word in HELP_WORDS:
        return "help"
    return None


def _chinese_number(text: str) -> int | None:
    """十 -> 10, 九 -> 9, 零 -> 0 (0-10 is all a survey needs)."""
    if text == "十":
        return 10
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    return None


def parse_scale(text: str) -> int | None:
    """A 0-10 answer: ``10``, ``１０``, ``10分``, ``十``, ``九分``, ``非常满意`` ...; None otherwise."""
    t = normalise(text)
    for word, value in SCALE_WORDS:
        if t == word:
            return value
    t = _SCORE_SUFFIX.sub("", t).strip()
    if t.isascii() and t.isdigit():
        n = int(t)
        return n if 0 <= n <= 10 else None
    return _chinese_number(t)


def parse_yesno(text: str) -> str | None:
    """``yes`` / ``no`` from 是/对/好/有/Y/YES and 否/不是/没有/N/NO (also 1 = yes, 2 = no); else None."""
    t = normalise(text).upper()
    if t in YES_WORDS or t == "1":
        return "yes"
    if t in NO_WORDS or t == "2":
        return "no"
    return None


def parse_answer(kind: str, text: str) -> str | None:
    """The value to store for a question of ``kind`` (scale10, yesno, text), or None if unreadable.

    A text answer is the reply as written; "nothing to add" (无, 没有, no) is stored as ``""``.
    """
    if kind == "scale10":
        n = parse_scale(text)
        return None if n is None else str(n)
    if kind == "yesno":
        return parse_yesno(text)
    body = (text or "").strip()
    if not body:
        return None
    return "" if normalise(body).upper() in NOTHING_WORDS else body
