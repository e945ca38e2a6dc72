"""R5 SMS answers and R6 keywords, as tables of what customers really type.

``sms_replies_corpus.tsv`` holds the replies (reply, question kind, expected reading); every row
is one test. A hypothesis property checks that no text at all crashes the reader or reads a score
outside 0-10.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.rules.sms_replies import keyword, parse_answer

CORPUS = Path(__file__).with_name("sms_replies_corpus.tsv")


def corpus() -> list[tuple[str, str, str | None]]:
    """(reply, kind, expected value) rows; ``-`` means "not read" (None), ``<empty>`` the value ``""``."""
    rows = []
    lines = [line for line in CORPUS.read_text(encoding="utf-8").split("\n") if line and not line.startswith("#")]
    assert lines[0] == "reply\tkind\treading"
    for line in lines[1:]:
        reply, kind, reading = line.split("\t")
        rows.append((reply, kind, None if reading == "-" else "" if reading == "<empty>" else reading))
    return rows


ROWS = corpus()


def test_the_corpus_is_large_and_covers_every_kind_of_reply() -> None:
    assert len(ROWS) >= 200
    assert len({(r, k) for r, k, _v in ROWS}) == len(ROWS)  # no reply listed twice for one kind
    replies = {r for r, _k, _v in ROWS}
    # what the issue found not understood, and the forms RULES R5 names
    assert {"很满意", "比较满意", "还可以", "十分满意", "修好了", "9分，很满意", "１０", "十", "九分", "十分",
            "11", "-1", "100分"} <= replies
    assert {k for _r, k, _v in ROWS} == {"scale10", "yesno", "text"}
    assert sum(v is None for _r, _k, v in ROWS) >= 40  # enough that must NOT be read


@pytest.mark.parametrize(("text", "kind", "value"), ROWS, ids=[f"{k}:{r!r}" for r, k, _v in ROWS])
def test_corpus_reply_is_read_as_expected(text: str, kind: str, value: str | None) -> None:
    assert parse_answer(kind, text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("很满意", "10"), ("十分满意", "10"), ("特别满意", "10"), ("比较满意", "8"), ("挺满意", "8"), ("还不错", "8"),
    ("还可以", "6"), ("还行", "6"), ("一般般", "6"), ("不太满意", "3"), ("差", "3"), ("很差", "0"), ("太差了", "0"),
    ("非常满意", "10"), ("满意", "8"), ("一般", "6"), ("不满意", "3"), ("非常不满意", "0"),
    ("9分，很满意", "9"), ("十分", "10"), ("十分不满意", "0"),
])
def test_the_degree_words_of_rules_r5(text: str, value: str) -> None:
    assert parse_answer("scale10", text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("修好了", "yes"), ("准时", "yes"), ("是的", "yes"), ("嗯", "yes"), ("是", "yes"), ("对", "yes"), ("好", "yes"),
    ("有", "yes"), ("Y", "yes"), ("YES", "yes"), ("没修好", "no"), ("晚了", "no"), ("不准时", "no"), ("否", "no"),
    ("不是", "no"), ("没有", "no"), ("N", "no"), ("NO", "no"),
])
def test_the_yes_no_phrases_of_rules_r5(text: str, value: str) -> None:
    assert parse_answer("yesno", text) == value


#: any text a phone can send: CJK, digits of every script, emoji, punctuation, control characters
ANY_TEXT = st.text(alphabet=st.one_of(
    st.characters(), st.sampled_from(list("0123456789０１２３４５６７８９零〇一二两三四五六七八九十百分满意很非常不是否没好了"
                                          "修准时晚差般行可以还-./，。！ "))), max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=ANY_TEXT)
def test_no_reply_crashes_the_reader_or_reads_out_of_range(text: str) -> None:
    scale = parse_answer("scale10", text)
    assert scale is None or (scale.isdigit() and 0 <= int(scale) <= 10 and str(int(scale)) == scale)
    assert parse_answer("yesno", text) in (None, "yes", "no")
    comment = parse_answer("text", text)
    assert comment is None or isinstance(comment, str)
    assert keyword(text) in (None, "optout", "optin", "help")


@pytest.mark.parametrize(("text", "word"), [
    ("  退订 ", "optout"), ("STOP", "optout"), ("stop", "optout"), ("T", "optout"), ("td", "optout"),
    ("R", "optout"), ("拒收", "optout"), ("Unsubscribe", "optout"), ("ＳＴＯＰ", "optout"), ("quit", "optout"),
    ("Stop please", None), ("请退订", None), ("退订吧", None), ("10", None), ("", None), ("😀", None),
    ("START", "optin"), ("unstop", "optin"), ("HELP", "help"), ("帮助", "help"),
])
def test_whole_message_keywords(text: str, word: str | None) -> None:
    assert keyword(text) == word


def test_a_long_message_is_never_read_as_a_score_or_a_yes_no() -> None:
    essay = "非常满意，" * 14 + "!"  # 71 characters: more than one SMS of Chinese
    assert parse_answer("scale10", essay[:70]) == "10"
    assert parse_answer("scale10", essay) is None and parse_answer("yesno", "是的，" * 24) is None
    assert parse_answer("text", essay) == essay  # as a comment it is kept whole


def test_stop_please_is_an_answer_not_an_opt_out() -> None:
    assert keyword("Stop please") is None
    assert parse_answer("text", "Stop please") == "Stop please"  # kept as the customer's comment
    assert parse_answer("scale10", "Stop please") is None  # asked again with a hint, never an opt-out
