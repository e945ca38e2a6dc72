"""R5: the questions follow the service type, and a response is scored over the questions asked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from followup.rules.survey_scoring import is_dissatisfied, score
from followup.settings import DEFAULT_CONFIG, ConfigError, Settings, load_settings

CONFIG_DIR = DEFAULT_CONFIG.parent


def ids(settings: Settings, service_type: str) -> list[str]:
    return [q.id for q in settings.survey.questions_for(service_type)]


@pytest.mark.parametrize("service_type", ["repair", "warranty", "insurance"])
def test_fixed_right_is_asked_after_repairs(settings: Settings, service_type: str) -> None:
    assert ids(settings, service_type) == ["overall", "fixed_right", "on_time", "advisor", "comment"]


@pytest.mark.parametrize("service_type", ["maintenance", "quick", "inspection"])
def test_fixed_right_is_not_asked_after_maintenance_quick_service_or_inspection(settings: Settings,
                                                                                 service_type: str) -> None:
    assert ids(settings, service_type) == ["overall", "on_time", "advisor", "comment"]


def test_the_survey_file_says_after_which_service_types_a_question_is_asked(settings: Settings) -> None:
    q = settings.survey.question("fixed_right")
    assert q.asked_after == frozenset({"repair", "warranty", "insurance"})
    assert settings.survey.question("overall").asked_after == frozenset()  # no list: asked after every type


def test_an_unknown_service_type_in_asked_after_is_a_config_error(tmp_path: Path) -> None:
    text = (CONFIG_DIR / "survey.toml").read_text(encoding="utf-8")
    assert 'asked_after = ["repair", "warranty", "insurance"]' in text
    (tmp_path / "survey.toml").write_text(text.replace('"insurance"]', '"insurence"]'), encoding="utf-8")
    shutil.copy(CONFIG_DIR / "holidays_cn.toml", tmp_path / "holidays_cn.toml")
    (tmp_path / "followup.toml").write_text(DEFAULT_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings({"FOLLOWUP_CONFIG": str(tmp_path / "followup.toml")})
    assert info.value.key == "survey.questions[1].asked_after" and "insurence" in str(info.value)


def test_a_maintenance_response_is_scored_over_the_questions_asked(settings: Settings) -> None:
    survey = settings.survey
    answers = {"overall": "10", "fixed_right": "no", "on_time": "yes", "advisor": "10"}
    # after a repair, "not fixed right first time" costs 20 points and makes the customer dissatisfied
    assert score(answers, survey, "repair") == 80.0
    assert is_dissatisfied(answers, 80.0, survey, "repair") is True
    # after maintenance the question was never asked: a stray answer to it counts for nothing
    assert score(answers, survey, "maintenance") == 100.0
    assert is_dissatisfied(answers, 100.0, survey, "maintenance") is False
    on_time_no = {"overall": "10", "on_time": "no", "advisor": "10"}
    assert score(on_time_no, survey, "maintenance") == 75.0  # (40 + 0 + 20) / 0.8
