"""Reading what customers reply by SMS (R5) and the opt-out / opt-in / help words (R6). Pure.

:func:`parse_answer` turns one reply into the stored value of one question (``"0"``-``"10"``,
``"yes"``/``"no"`` or the text), or ``None`` when it cannot be read. :func:`keyword` recognises a
whole-message keyword: ``"  退订 "`` and ``"STOP"`` opt out, ``"Stop please"`` does not.

The reader is driven by the tables below, in the words customers actually write (the corpus in
``tests/unit/sms_replies_corpus.tsv`` shows them). How a 0-10 reply is read:

1. the text is cleaned: full-width characters become ASCII (NFKC), emoji and symbols are dropped,
   frequent typos and traditional characters are corrected (:data:`SPELLING`), ``十分`` before a
   word becomes the degree word ``非常`` (``十分满意``) while ``十分`` on its own stays 10 points;
2. a score the customer wrote (``9``, ``9分``, ``九分``, ``9/10``) wins over any words; a number out
   of 0-10 (``11``, ``100分``, ``-1``, ``8.5``) or two different numbers make the reply unreadable;
3. otherwise the degree words (:data:`SCALE_PHRASES`, longest first) give the value; two words
   that disagree (``一般，但是很满意``), or a positive word right after a negation (``不是特别满意``),
   make the reply unreadable: asking again is better than guessing.

A yes/no reply is read from whole words (``是``, ``嗯``, ``Y``; :data:`YES_WORDS`, :data:`NO_WORDS`)
and from phrases found anywhere in it (``修好了``, ``晚了一天``; :data:`YES_PHRASES`,
:data:`NO_PHRASES`); a yes and a no in one reply is unreadable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import TypeVar

V = TypeVar("V", int, str)

#: R6: whole-message opt-out words (any case, surrounding spaces ignored)
OPT_OUT_WORDS = frozenset({"T", "TD", "R", "退订", "拒收", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END",
                           "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "恢复"})  # R6: the Chinese customer's word is 恢复
HELP_WORDS = frozenset({"HELP", "帮助", "INFO"})

#: typos of the pinyin keyboard and traditional characters -> what was meant (applied in this order)
SPELLING: tuple[tuple[str, str], ...] = (
    ("🔟", "10"), ("滿", "满"), ("還", "还"), ("對", "对"), ("沒", "没"), ("準時", "准时"), ("遲", "迟"),
    ("晚點", "晚点"), ("壞", "坏"), ("極", "极"), ("滿意", "满意"), ("満", "满"),
    ("非长", "非常"), ("满以", "满意"), ("满易", "满意"), ("满义", "满意"), ("满亿", "满意"), ("瞒意", "满意"),
    ("慢意", "满意"), ("漫意", "满意"),
)

#: R5: words for a 0-10 answer (the old ones and the ways people write them)
SCALE_PHRASES: dict[str, int] = {
    # 10
    "非常满意": 10, "很满意": 10, "十分满意": 10, "特别满意": 10, "超级满意": 10, "相当满意": 10, "万分满意": 10,
    "非常非常满意": 10, "太满意": 10, "很好": 10, "非常好": 10, "特别好": 10, "超级好": 10, "完美": 10, "满分": 10,
    # 8
    "满意": 8, "比较满意": 8, "挺满意": 8, "蛮满意": 8, "还算满意": 8, "基本满意": 8, "还不错": 8, "不错": 8,
    "挺好": 8, "蛮好": 8, "比较好": 8,
    # 6
    "一般": 6, "一般般": 6, "还可以": 6, "还行": 6, "还好": 6, "马马虎虎": 6, "凑合": 6, "差不多": 6, "过得去": 6,
    # 3
    "不满意": 3, "不太满意": 3, "不怎么满意": 3, "不是很满意": 3, "有点不满意": 3, "不大满意": 3, "较差": 3,
    "比较差": 3, "有点差": 3, "不好": 3, "不太好": 3, "不怎么样": 3,
    # 0
    "非常不满意": 0, "很不满意": 0, "特别不满意": 0, "十分不满意": 0, "太不满意": 0, "极不满意": 0,
    "一点都不满意": 0, "一点也不满意": 0, "很差": 0, "太差": 0, "非常差": 0, "特别差": 0, "极差": 0,
    "非常不好": 0, "很不好": 0, "太烂": 0, "垃圾": 0,
}
#: a 0-10 word that only counts as the whole reply (inside other words it means something else)
SCALE_WORDS: dict[str, int] = {"差": 3}

#: yes/no: a whole reply (or one clause of it) that means yes / no
YES_WORDS = frozenset({"是", "是的", "是滴", "是啊", "是呀", "是哒", "对", "对的", "对啊", "对呀", "对头", "没错", "好",
                       "好的", "有", "有的", "嗯", "嗯嗯", "恩", "恩恩", "当然", "当然是", "当然了", "Y", "YES", "YEP",
                       "YEAH", "OK", "OKAY", "1"})
NO_WORDS = frozenset({"否", "不是", "不是的", "不", "没", "没有", "没呢", "不对", "N", "NO", "NOPE", "2"})
#: yes/no: phrases that mean yes / no wherever they are in the reply
YES_PHRASES = ("修好了", "修好啦", "修好", "已修好", "一次修好", "一次就修好", "好了", "准时", "按时", "准点", "没问题",
               "没毛病")
NO_PHRASES = ("不太准时", "不是很准时", "不够准时", "没修好", "没有修好", "没好", "还没好", "修不好", "没修", "不准时", "没准时", "没有准时", "不按时", "没按时",
              "没有按时", "晚了", "迟了", "晚点", "延迟", "延误", "推迟", "拖了", "超时", "返修")
#: words said along with an answer that change nothing (thanks, particles)
NOISE_WORDS = frozenset({"谢谢", "谢谢你", "谢谢你们", "感谢", "多谢", "辛苦了", "THANKS", "THANK", "YOU", "PLEASE",
                         "THX", "TY"})

#: a score or yes/no reply is at most this long (one SMS); anything longer is kept for staff, not read
MAX_ANSWER_CHARS = 70

#: a comment reply that means "nothing to add"
NOTHING_WORDS = frozenset({"无", "没有", "没", "不", "NO", "N", "NONE", "NOTHING", "无意见", "没有意见", "暂无",
                           "没有了", "没意见", "没了", "暂时没有"})

#: particles at the end of a clause that change nothing (``没有哦``, ``一般吧``)
_PARTICLES = "啊呀吧哦噢喔啦哈嘛呢滴哒咯么"
#: words around a score that change nothing (``打9分吧``, ``给你们十分``)
_FILLERS = re.compile(r"给你们|给你|给|打|个|就|吧|啊|呀|哦|的|了|我|分数")
#: a negation right before a positive word makes it unreadable (``不是特别满意``, ``不是很准时``)
_NEGATED = re.compile(r"(?:不|没|别)(?:是|有)?(?:很|太|特别|那么|怎么|非常|十分|大|够|算)?$")
#: "but": words alone cannot say which half counts (``很满意，就是等太久了``); a number still can
_CONTRAST = re.compile(r"但|可是|就是|不过|只是|然而")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_NUMBER = "零〇一二两三四五六七八九十百千"
#: a number token: ASCII (maybe negative or decimal) or Chinese numerals
_NUMBER = re.compile(rf"-?\d+(?:\.\d+)?|[{_CN_NUMBER}]+")
#: what makes a number a score: 分 (not 分钟), points, or "out of 10"
_SCORE_SUFFIX = re.compile(r"\s*(?:分(?!钟)|POINTS?\b|PTS?\b)")
_OUT_OF_TEN = re.compile(r"(\d+)\s*/\s*10(?!\d)")
#: 十分 used as the adverb "very" (十分满意, 十分不好), not "ten points" (十分钟 is ten minutes)
_VERY = re.compile(r"十分(?=[\u4e00-\u9fff])(?!钟)")
_REPEATED = re.compile(r"^(\D{1,3}?)\1+$")
_CLAUSE = re.compile(r"[\s,，.。!！?？;；:：、~～/\\|]+")
_TRAILING = re.compile(r"[\s。．.!！~～,，、]+$")


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


def _is_symbol(ch: str) -> bool:
    """Emoji, pictographs, keycap marks and variation selectors: dropped before reading."""
    cat = unicodedata.category(ch)
    return cat in ("So", "Sk", "Cf", "Cs", "Co", "Cn", "Me", "Cc") or "\ufe00" <= ch <= "\ufe0f"


def clean(text: str) -> str:
    """The reply as the tables expect it: NFKC, upper-case ASCII, no emoji, typos corrected."""
    t = unicodedata.normalize("NFKC", text or "")
    for wrong, right in SPELLING:
        t = t.replace(wrong, right)
    t = "".join(" " if _is_symbol(ch) else ch for ch in t)
    return t.upper().strip()


def _chinese_number(token: str) -> int | None:
    """十 -> 10, 九 -> 9, 十一 -> 11, 二十 -> 20, 一百 -> 100; None when it is not a number."""
    if any(ch in "百千" for ch in token):
        return 100  # a hundred or more: out of range whatever it is
    if token in _CN_DIGITS:
        return _CN_DIGITS[token]
    if token.count("十") == 1:
        tens, _, ones = token.partition("十")
        if len(tens) <= 1 and len(ones) <= 1 and all(ch in _CN_DIGITS for ch in tens + ones):
            return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return None


def _number_value(token: str) -> int | None:
    """An integer, or None for a decimal, a negative number or something that is not a number."""
    if token[0].isdigit() and token.isdigit():
        return int(token) if len(token) <= 3 else 1000
    if token[0] in _CN_NUMBER:
        return _chinese_number(token)
    return None  # -1, 8.5: never a score


def _phrase_pattern(phrases: tuple[str, ...] | list[str]) -> re.Pattern[str]:
    """One alternation, longest first: at each position the longest phrase wins (不满意 before 满意)."""
    return re.compile("|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)))


_SCALE_RE = _phrase_pattern(list(SCALE_PHRASES))
_YES_NO = {p: "yes" for p in YES_PHRASES} | {p: "no" for p in NO_PHRASES}
_YES_NO_RE = _phrase_pattern(list(_YES_NO))


def _phrases(text: str, pattern: re.Pattern[str], table: Mapping[str, V],
             positive: Callable[[V], bool]) -> tuple[set[V], str, bool]:
    """The values of the phrases found (leftmost, longest), the text left over, and whether a
    positive phrase came right after a negation (``不是特别满意``: not read)."""
    values: set[V] = set()
    negated = False
    rest: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        before = text[pos:m.start()]
        value = table[m.group()]
        if positive(value) and _NEGATED.search(before):
            negated = True
        values.add(value)
        rest.append(before)
        rest.append(" ")
        pos = m.end()
    rest.append(text[pos:])
    return values, "".join(rest), negated


def _leftover_is_empty(text: str) -> bool:
    """Nothing but punctuation, particles and fillers is left: the number was the whole reply."""
    return not _FILLERS.sub("", _CLAUSE.sub("", text)).strip(_PARTICLES)


def parse_scale(text: str) -> int | None:
    """A 0-10 answer: ``10``, ``１０``, ``10分``, ``十``, ``九分``, ``很满意``, ``9分，很满意`` ...; None otherwise."""
    t = _VERY.sub("非常", clean(text))
    t = _OUT_OF_TEN.sub(r"\1分", t)
    whole = _CLAUSE.sub("", t).strip(_PARTICLES)
    if whole in SCALE_WORDS:
        return SCALE_WORDS[whole]
    values, rest, negated = _phrases(t, _SCALE_RE, SCALE_PHRASES, lambda v: v >= 8)
    tokens = list(_NUMBER.finditer(rest))
    without_numbers = _NUMBER.sub(" ", rest)
    scores: set[int | None] = set()
    for m in tokens:
        is_score = bool(_SCORE_SUFFIX.match(rest, m.end())) or _leftover_is_empty(without_numbers)
        if not is_score:
            continue
        scores.add(_number_value(m.group()))
    if scores:  # a number the customer wrote wins over the words
        if len(scores) != 1:
            return None
        (n,) = scores
        return n if n is not None and 0 <= n <= 10 else None
    if negated or len(values) != 1 or _CONTRAST.search(rest):
        return None
    (value,) = values
    return value


def parse_yesno(text: str) -> str | None:
    """``yes`` / ``no`` from 是/对/好/有/Y/YES, 修好了, 准时 ... and 否/不是/没有/N/NO, 没修好, 晚了 ...
    (also 1 = yes, 2 = no, as on the phone); None when it cannot be read or says both."""
    t = clean(text)
    found: set[str] = set()
    unknown: list[str] = []
    for clause in _CLAUSE.split(t):
        word = clause.strip(_PARTICLES) if clause not in YES_WORDS | NO_WORDS else clause
        word = _REPEATED.sub(r"\1", word)  # 是的是的, 对对对
        if not word or word in NOISE_WORDS:
            continue
        if word in YES_WORDS or clause in YES_WORDS:
            found.add("yes")
        elif word in NO_WORDS or clause in NO_WORDS:
            found.add("no")
        else:
            unknown.append(clause)
    for clause in unknown:
        values, _rest, negated = _phrases(clause, _YES_NO_RE, _YES_NO, lambda v: v == "yes")
        if negated:
            return None
        found |= values
    return found.pop() if len(found) == 1 else None


def parse_answer(kind: str, text: str) -> str | None:
    """The value to store for a question of ``kind`` (scale10, yesno, text), or None if unreadable.

    A text answer is the reply as written; "nothing to add" (无, 没有, no) is stored as ``""``. A
    reply longer than :data:`MAX_ANSWER_CHARS` is never read as a score or a yes/no: a customer who
    writes that much is telling something staff should read, not answering the question.
    """
    if kind in ("scale10", "yesno") and len((text or "").strip()) > MAX_ANSWER_CHARS:
        return None
    if kind == "scale10":
        n = parse_scale(text)
        return None if n is None else str(n)
    if kind == "yesno":
        return parse_yesno(text)
    body = (text or "").strip()
    if not body:
        return None
    return "" if normalise(body).upper() in NOTHING_WORDS else body
