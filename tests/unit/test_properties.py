"""Property-based tests (issue #10, hypothesis): the SMS answer parser, the phone normaliser, the CSV
reader and the contact policy, for any input.

The phone normaliser's "never raises" properties live in ``tests/unit/test_intake_phones.py`` and a
simulated-campaign property of the policy in ``tests/unit/test_policy.py``; these add the rest.
Example counts stay modest so that the suite stays fast.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followup.intake.phones import normalise_phone
from followup.intake.records import UnusableFile
from followup.intake.table import open_table
from followup.rules.calendar import in_call_window, in_sms_hours
from followup.rules.contact_policy import (
    FAILED_CALL_OUTCOMES,
    AttemptFacts,
    CaseFacts,
    Decision,
    plan_next_contact,
)
from followup.rules.sms_replies import parse_answer
from followup.settings import load_settings

TZ = ZoneInfo("Asia/Shanghai")
POLICY = load_settings({}).stores["SZ01"].policy

# --- the SMS answer parser -----------------------------------------------------------------------

ANSWER_WORDS = ["十", "九分", "１０", "非常满意", "满意", "一般", "不满意", "非常不满意", "是", "否", "Y", "NO",
                "没有", "无", "10分", "０", "11", "-1", "2.5", "😀", "\u202e满意", "<b>9</b>", "'; DROP TABLE x;--"]


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["scale10", "yesno", "text"]),
       text=st.one_of(st.text(max_size=80), st.sampled_from(ANSWER_WORDS),
                      st.builds(lambda a, b, c: a + b + c, st.text(max_size=5), st.sampled_from(ANSWER_WORDS),
                                st.text(max_size=5))))
def test_the_answer_parser_never_raises_and_gives_only_valid_values(kind: str, text: str) -> None:
    value = parse_answer(kind, text)
    if kind == "scale10":
        assert value is None or value in {str(n) for n in range(11)}
    elif kind == "yesno":
        assert value in (None, "yes", "no")
    else:  # free text: as written (trimmed), "" for "nothing to add", None for an empty reply
        assert value is None or value == "" or value == text.strip()
        assert (value is None) == (not text.strip())


# --- the phone normaliser ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(national=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
       style=st.sampled_from(["{n}", "+86{n}", "86 {a} {b} {c}", "0086-{a}-{b}-{c}", "({a}) {b}.{c}", "wide"]))
def test_one_mobile_written_any_way_gives_one_number(national: str, style: str) -> None:
    a, b, c = national[:3], national[3:7], national[7:]
    written = (national.translate(str.maketrans("0123456789", "０１２３４５６７８９")) if style == "wide"
               else style.format(n=national, a=a, b=b, c=c))
    plain, kind = normalise_phone(national)
    assert normalise_phone(written) == (plain, kind)
    if plain is not None:
        assert plain == "+86" + national
        assert normalise_phone(plain) == (plain, kind)  # idempotent: a stored number reads back the same


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_a_normalised_number_normalises_to_itself(text: str) -> None:
    number, kind = normalise_phone(text)
    if number is not None:
        assert normalise_phone(number) == (number, kind)


# --- the CSV reader ---------------------------------------------------------------------------------

HEADER = "门店代码,工单号,客户姓名,手机,服务顾问工号,维修类型,交车时间\n"


def _read(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"visits{suffix}"
        path.write_bytes(content)
        try:
            with open_table(path) as table:
                for number, row in table.rows():
                    assert number >= 2 and isinstance(row, dict)
        except UnusableFile as exc:
            assert str(exc) and "\n" not in str(exc)  # one line saying why


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_any_bytes_give_rows_or_a_clear_refusal(content: bytes, suffix: str) -> None:
    _read(content, suffix)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.text(max_size=400), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_a_real_header_with_any_text_below_gives_rows_or_a_clear_refusal(body: str, encoding: str) -> None:
    try:
        content = (HEADER + body).encode(encoding)
    except UnicodeEncodeError:
        content = (HEADER + body).encode("utf-8", "replace")
    _read(content, ".csv")


# --- the contact policy: any history, any clock ----------------------------------------------------

OUTCOMES = {
    "call": sorted(FAILED_CALL_OUTCOMES) + ["answered", "declined", "callback_requested", "invalid_number", None],
    "sms": ["delivered", "undelivered", "failed", "replied", "sent", None],
    "letter": ["queued", "sent", "replied", "returned", None],
}
INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC))


@st.composite
def attempts(draw: st.DrawFn) -> AttemptFacts:
    channel = draw(st.sampled_from(["call", "sms", "letter"]))
    due = draw(INSTANTS)
    started = draw(st.one_of(st.none(), st.just(due), INSTANTS))
    return AttemptFacts(
        channel=channel,
        kind=draw(st.sampled_from(["survey", "reminder", "resurvey", "reply"])) if channel == "sms" else "survey",
        status=draw(st.sampled_from(["done", "done", "done", "cancelled", "error"])),
        outcome=draw(st.sampled_from(OUTCOMES[channel])),
        due_at=due,
        started_at=started,
        ended_at=None if started is None else started + timedelta(minutes=draw(st.integers(0, 30))),
        callback_at=draw(st.one_of(st.none(), INSTANTS)),
    )


@settings(max_examples=400, deadline=None)
@given(delivered=INSTANTS, late=st.integers(0, 100 * 60), now_after=st.integers(0, 40 * 24 * 60),
       history=st.lists(attempts(), max_size=8), flags=st.fixed_dictionaries({
           k: st.booleans() for k in ("closed", "has_mobile", "has_landline", "has_address", "do_not_call",
                                      "no_sms", "no_contact", "reached")}),
       skip_holidays=st.booleans())
def test_for_any_history_and_clock_the_next_contact_is_allowed(
        delivered: datetime, late: int, now_after: int, history: list[AttemptFacts], flags: dict[str, bool],
        skip_holidays: bool) -> None:
    policy = replace(POLICY, skip_holidays=skip_holidays)
    opened = delivered + timedelta(minutes=late)
    case = CaseFacts(delivered, delivered + policy.deadline, opened, **flags)
    now = opened + timedelta(minutes=now_after)
    history = sorted(history, key=lambda a: a.due_at or now)
    d = plan_next_contact(case, history, now, policy, TZ)
    assert isinstance(d, Decision)
    if case.closed:
        assert d == Decision("wait", None, "closed")  # nothing ever after a terminal state
        return
    done = [a for a in history if a.status == "done"]
    terminal = case.reached or case.no_contact or any(
        a.channel == "call" and a.outcome in ("answered", "declined") for a in done)
    if terminal:
        assert d.action in ("close", "wait"), d
    if d.action == "call":
        assert d.due_at is not None and in_call_window(d.due_at, policy, TZ)
        failed = sum(1 for a in done if a.channel == "call" and a.outcome in FAILED_CALL_OUTCOMES)
        assert failed < policy.max_call_attempts, "a fourth failed call"
        assert not case.do_not_call
    if d.action in ("sms", "reminder_sms"):
        assert d.due_at is not None and in_sms_hours(d.due_at, policy, TZ)
        assert case.has_mobile and not case.no_sms
    if d.action == "letter":
        assert case.has_address
