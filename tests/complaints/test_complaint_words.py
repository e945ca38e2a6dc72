"""R7's pure keyword reader: the complaint words that open a complaint whatever the scores, and the
category a customer's words point to (no database, no clock)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.rules.complaint_words import (
    CATEGORIES,
    CATEGORY_LABELS,
    DEFAULT_CATEGORY_WORDS,
    DEFAULT_COMPLAINT_WORDS,
    category_from_answers,
    complaint_word,
    read_category,
)
from followup.settings import Settings

WORDS = DEFAULT_COMPLAINT_WORDS


@pytest.mark.parametrize(("text", "found"), [
    ("服务还行，就是乱收费", "乱收费"),
    ("我要投诉你们的服务顾问", "投诉"),
    ("再也不来了！", "再也不来"),
    ("态度太差", "太差"),
    ("你们这是欺骗消费者", "欺骗"),
    ("我要到网上曝光", "曝光"),
    ("打１２３１５", "12315"),  # full-width digits are read as digits
    ("找消协", "消协"),
    ("很好，谢谢", None),
    ("", None),
    (None, None),
])
def test_the_default_complaint_words(text: str | None, found: str | None) -> None:
    assert complaint_word(text, WORDS) == found


def test_the_rulebook_words_are_all_defaults() -> None:
    assert {"投诉", "乱收费", "再也不来", "太差", "欺骗", "曝光", "12315", "消协"} <= set(WORDS)


@pytest.mark.parametrize(("text", "category"), [
    ("等了三个小时才交车", "waiting_time"),
    ("排队太久", "waiting_time"),
    ("乱收费，工时费太贵", "price"),
    ("报价和结账不一样，多收了钱", "price"),
    ("服务顾问态度冷淡，爱理不理", "attitude"),
    ("异响还在，根本没修好", "repair_quality"),
    ("漆面划伤了", "repair_quality"),
    ("休息区太脏，洗手间没纸", "environment"),
    ("我要投诉", "other"),  # a complaint word alone says nothing of the cause
    ("贵店服务一般", "other"),  # 贵店 is "your store", not a price
    ("", "other"),
    ("Waited an hour and got overcharged", "price"),  # two words for price beat one for waiting
    ("the advisor was rude", "attitude"),
])
def test_the_category_is_read_from_the_comment(text: str, category: str) -> None:
    assert read_category(text, DEFAULT_CATEGORY_WORDS) == category


def test_a_tie_goes_to_the_category_listed_first() -> None:
    words = (("price", ("钱",)), ("attitude", ("凶",)))
    assert read_category("又凶又要钱", words) == "price"


@pytest.mark.parametrize(("answers", "category"), [
    ({"overall": 4, "fixed_right": "no"}, "repair_quality"),
    ({"overall": 4, "on_time": "no"}, "waiting_time"),
    ({"overall": 4, "advisor": 3}, "attitude"),
    ({"overall": 4, "advisor": 8, "on_time": "yes"}, "other"),
])
def test_without_words_the_answers_hint_the_category(answers: dict[str, object], category: str) -> None:
    assert category_from_answers(answers) == category


def test_every_category_has_a_chinese_and_an_english_label() -> None:
    assert CATEGORIES == ("waiting_time", "price", "attitude", "repair_quality", "environment", "other")
    assert CATEGORY_LABELS["waiting_time"] == ("等待时间", "Waiting time")
    assert [CATEGORY_LABELS[c][0] for c in CATEGORIES] == ["等待时间", "价格", "服务态度", "维修质量", "环境", "其他"]


def test_the_config_carries_the_words_and_a_store_may_override_them(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from followup.settings import load_settings

    base = {"FOLLOWUP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    settings: Settings = load_settings(base)
    assert settings.complaints.words_for("SZ01") == settings.complaints.words
    assert "乱收费" in settings.complaints.words
    assert dict(settings.complaints.categories)["price"]
    over = load_settings({**base, "FOLLOWUP__stores__SZ01__complaint_words": '["差评"]'})
    assert over.complaints.words_for("SZ01") == ("差评",)
    assert over.complaints.words_for("OTHER") == over.complaints.words


@given(st.text(max_size=60))
def test_the_reader_never_crashes_and_always_names_a_category(text: str) -> None:
    assert read_category(text, DEFAULT_CATEGORY_WORDS) in CATEGORIES
    found = complaint_word(text, WORDS)
    assert found is None or found in WORDS


def test_the_committed_config_says_what_the_code_defaults_say(settings: Settings) -> None:
    assert settings.complaints.words == DEFAULT_COMPLAINT_WORDS
    assert settings.complaints.categories == DEFAULT_CATEGORY_WORDS


@pytest.mark.parametrize(("env", "key"), [
    ({"FOLLOWUP__complaints__words": "投诉"}, "complaints.words"),
    ({"FOLLOWUP__stores__SZ01__complaint_words": "[1, 2]"}, "stores.SZ01.complaint_words"),
    ({"FOLLOWUP__complaints__categories__noise": '["吵"]'}, "complaints.categories.noise"),
    ({"FOLLOWUP__complaints__resolve_sla": "3 days"}, "complaints.resolve_sla"),
    ({"FOLLOWUP__complaints__resurvey_timeout": "soon"}, "complaints.resurvey_timeout"),
])
def test_a_wrong_word_list_or_timing_names_its_key(tmp_path, env: dict[str, str], key: str) -> None:  # type: ignore[no-untyped-def]
    from followup.settings import ConfigError, load_settings

    with pytest.raises(ConfigError) as info:
        load_settings({"FOLLOWUP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **env})
    assert info.value.key == key
