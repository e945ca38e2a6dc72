"""The plain values the rules take: calling windows, a store's contact policy, the survey, the bonus
tiers and the complaint timings.

They are frozen dataclasses built from the standard library only, so that ``followup/rules/`` stays
pure: ``followup.settings`` reads the configuration and builds them; the rules only read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from followup.rules.complaint_words import DEFAULT_CATEGORY_WORDS, DEFAULT_COMPLAINT_WORDS
from followup.rules.official_calendar import HolidayCalendar


@dataclass(frozen=True)
class Window:
    """A daily window in store local time, start included, end excluded."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


#: who may make a store's survey calls (``calls_by``, RULES R3)
CALLS_BY = ("ivr", "staff")
#: the rulebook's front-desk hours, the default staff hours (R2)
STAFF_HOURS = (Window(time(8, 20), time(12, 0)), Window(time(13, 0), time(18, 0)))


@dataclass(frozen=True)
class ContactPolicy:
    """The attempt policy of one store (RULES R1-R4)."""

    calling_windows: tuple[Window, ...]
    sms_hours: Window
    first_call_delay: timedelta
    min_gap: timedelta
    min_gap_floor: timedelta
    deadline: timedelta
    max_call_attempts: int
    sms_enabled: bool
    sms_reply_timeout: timedelta
    letter_reply_timeout: timedelta
    transient_retry_first: timedelta
    transient_give_up: timedelta
    skip_holidays: bool
    exclude_service_types: frozenset[str]
    #: make-up workdays (调休) of the store's own, "YYYY-MM-DD": open even inside a holiday block
    workdays: frozenset[str]
    #: the store's own closed days, "YYYY-MM-DD": no calls, no survey SMS, not counted in the three days (R2)
    closed_days: frozenset[str] = frozenset()
    #: the official holiday blocks (config/holidays_cn.toml), skipped with ``skip_holidays`` (R2)
    holiday_calendar: HolidayCalendar = HolidayCalendar()
    #: who makes the survey calls (R3): ``ivr`` (the voice provider) or ``staff`` (the call worklist)
    calls_by: str = "ivr"
    #: the information staff's hours (R2): with ``calls_by = staff`` calls are due only inside these
    #: intersected with ``calling_windows``; the rulebook's front-desk hours by default
    staff_hours: tuple[Window, ...] = STAFF_HOURS


@dataclass(frozen=True)
class Question:
    """One survey question (RULES R5)."""

    id: str
    kind: str  # scale10 | yesno | text
    weight: float
    zh: str
    en: str
    optional: bool = False
    #: the service types after which it is asked (``fixed_right``: repairs only); empty: after every type
    asked_after: frozenset[str] = frozenset()
    #: the question as a complete sentence to the customer (IVR and SMS add how to answer); "" = from zh/en
    ask_zh: str = ""
    ask_en: str = ""

    def text(self, lang: str) -> str:
        """The short label (panel, letter, reports)."""
        return self.en if lang == "en" else self.zh

    def asked_for(self, service_type: str | None) -> bool:
        """Whether a visit of this service type is asked this question (None: type unknown, asked)."""
        return not self.asked_after or service_type is None or service_type in self.asked_after

    def ask(self, lang: str) -> str:
        """The question said to the customer: ``请您为本次服务的总体满意度打分``, ``请问……？``."""
        if lang == "en":
            return self.ask_en or (f"Please rate: {self.en}" if self.kind == "scale10" else f"{self.en}?")
        if self.ask_zh:
            return self.ask_zh
        if self.kind == "scale10":
            return f"请您为{self.zh.removeprefix('对')}打分"
        return f"请问{self.zh}？" if self.kind == "yesno" else f"请问您还有{self.zh}吗？"


@dataclass(frozen=True)
class SurveySettings:
    """The survey's questions and what makes a response dissatisfied (RULES R5)."""

    questions: tuple[Question, ...]
    overall_at_most: int = 6
    fixed_right_no: bool = True
    score_below: float = 60.0

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def questions_for(self, service_type: str | None) -> tuple[Question, ...]:
        """The questions a visit of ``service_type`` is asked, in order (R5: ``fixed_right`` only
        after repairs). Every channel lists, asks, reads and scores these and no others."""
        return tuple(q for q in self.questions if q.asked_for(service_type))


@dataclass(frozen=True)
class BonusSettings:
    """The satisfaction bonus tiers and the advisor's monthly statement (RULES R9)."""

    min_responses: int
    tiers: tuple[tuple[float, int], ...]  # ascending (threshold, CNY)
    #: R9's statement: CNY per visit delivered in the month (接车台次)
    per_visit_commission: int = 3
    #: R9's 主动奖: (visits reached first in the month, CNY), ascending
    first_to: tuple[tuple[int, int], ...] = ((100, 100), (200, 200), (300, 300), (400, 400), (500, 500))


@dataclass(frozen=True)
class ComplaintSettings:
    """The complaint loop's timings and words (RULES R7)."""

    ack_sla: timedelta
    resurvey_delay: timedelta
    max_resurveys: int
    #: an acknowledged complaint must be resolved within this, or it escalates
    resolve_sla: timedelta = timedelta(hours=72)
    #: the customer's one progress SMS, this long after the acknowledgement while still unresolved
    progress_sms_after: timedelta = timedelta(hours=24)
    #: an unanswered re-survey: after this a manager may close the complaint ``resolved_unconfirmed``
    resurvey_timeout: timedelta = timedelta(days=7)
    #: words in a comment or late reply that open a complaint whatever the scores
    words: tuple[str, ...] = DEFAULT_COMPLAINT_WORDS
    #: a store's own complaint words (``[stores.CODE] complaint_words``), instead of ``words``
    store_words: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: (category, words) in the order ties are decided
    categories: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_CATEGORY_WORDS

    def words_for(self, store_code: str) -> tuple[str, ...]:
        """The complaint words of one store."""
        return next((words for code, words in self.store_words if code == store_code), self.words)
