"""R5 SMS answers and R6 keywords, as tables of what customers really type."""

from __future__ import annotations

import pytest

from followup.rules.sms_replies import keyword, parse_answer

SCALE = [
    ("10", "10"), ("１０", "10"), (" 10 ", "10"), ("10分", "10"), ("10。", "10"), ("0", "0"), ("７", "7"),
    ("十", "10"), ("九分", "9"), ("零", "0"), ("非常满意", "10"), ("满意", "8"), ("一般", "6"), ("不满意", "3"),
    ("非常不满意", "0"), ("11", None), ("-1", None), ("8.5", None), ("", None), ("   ", None), ("😀", None),
    ("很好", None), ("10 分", "10"), ("9 points", "9"),
]
YESNO = [
    ("是", "yes"), ("对", "yes"), ("好", "yes"), ("有", "yes"), ("Y", "yes"), ("yes", "yes"), ("ＹＥＳ", "yes"),
    ("1", "yes"), ("否", "no"), ("不是", "no"), ("没有", "no"), ("N", "no"), ("no", "no"), ("2", "no"),
    ("也许", None), ("", None), ("👍", None), ("10", None),
]


@pytest.mark.parametrize(("text", "value"), SCALE)
def test_scale_answers(text: str, value: str | None) -> None:
    assert parse_answer("scale10", text) == value


@pytest.mark.parametrize(("text", "value"), YESNO)
def test_yes_no_answers(text: str, value: str | None) -> None:
    assert parse_answer("yesno", text) == value


@pytest.mark.parametrize(("text", "value"), [("洗车不太干净", "洗车不太干净"), ("  等待太久 ", "等待太久"),
                                             ("无", ""), ("没有", ""), ("No", ""), ("", None), ("   ", None)])
def test_comment_answers(text: str, value: str | None) -> None:
    assert parse_answer("text", text) == value


@pytest.mark.parametrize(("text", "word"), [
    ("  退订 ", "optout"), ("STOP", "optout"), ("stop", "optout"), ("T", "optout"), ("td", "optout"),
    ("R", "optout"), ("拒收", "optout"), ("Unsubscribe", "optout"), ("ＳＴＯＰ", "optout"), ("quit", "optout"),
    ("Stop please", None), ("请退订", None), ("退订吧", None), ("10", None), ("", None), ("😀", None),
    ("START", "optin"), ("unstop", "optin"), ("HELP", "help"), ("帮助", "help"),
])
def test_whole_message_keywords(text: str, word: str | None) -> None:
    assert keyword(text) == word
