"""Alibaba Cloud SMS settings (CONTRACT §2, §10): the provider, its credentials, endpoint,
callback token and the template of every message kind, with one clear error per mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from settings_support import CONFIG_DIR, config_error, load

from followup.settings import ALIYUN_TEMPLATE_VARIABLES, DEFAULT_CONFIG

ALIYUN = {"ALIYUN_ACCESS_KEY_ID": "LTAI5tTestKey", "ALIYUN_ACCESS_KEY_SECRET": "secret",
          "ALIYUN_CALLBACK_TOKEN": "cb-token-0123456789abcdef"}


def config_with(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copy(CONFIG_DIR / "survey.toml", tmp_path / "survey.toml")
    shutil.copy(CONFIG_DIR / "holidays_cn.toml", tmp_path / "holidays_cn.toml")
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    assert old in text, old
    out = tmp_path / "followup.toml"
    out.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def test_without_aliyun_the_sms_provider_follows_the_channel_mode() -> None:
    assert load().sms_provider == "sandbox"
    tw = load(TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="t", TWILIO_FROM_NUMBER="+15005550006")
    assert tw.sms_provider == "twilio"
    assert tw.aliyun.access_key_id is None


def test_an_aliyun_key_chooses_aliyun_with_the_official_endpoint() -> None:
    s = load(**ALIYUN)
    assert s.sms_provider == "aliyun" and s.channel_mode == "sandbox"  # calls stay with the channel mode
    assert (s.aliyun.endpoint, s.aliyun.protocol) == ("dysmsapi.aliyuncs.com", "https")
    assert s.aliyun.access_key_id == "LTAI5tTestKey" and s.aliyun.callback_token == ALIYUN["ALIYUN_CALLBACK_TOKEN"]


def test_the_committed_config_has_a_template_for_every_kind() -> None:
    s = load(**ALIYUN)
    assert set(s.aliyun.templates) == set(ALIYUN_TEMPLATE_VARIABLES)
    survey = s.aliyun.template("survey")
    assert survey.code.startswith("SMS_") and "question" in survey.params and "hint" in survey.params
    assert s.aliyun.template("thanks").params == ()


def test_a_full_url_points_the_endpoint_at_an_emulator() -> None:
    s = load(**ALIYUN, ALIYUN_SMS_ENDPOINT="http://127.0.0.1:18080/")
    assert (s.aliyun.endpoint, s.aliyun.protocol) == ("127.0.0.1:18080", "http")
    assert load(**ALIYUN, ALIYUN_SMS_ENDPOINT="dysmsapi.ap-southeast-1.aliyuncs.com").aliyun.protocol == "https"


@pytest.mark.parametrize("value", ["ftp://x", "http://host/path", "not a host"])
def test_a_wrong_endpoint_is_named(value: str) -> None:
    assert config_error(**ALIYUN, ALIYUN_SMS_ENDPOINT=value).key == "ALIYUN_SMS_ENDPOINT"


@pytest.mark.parametrize("missing", ["ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_CALLBACK_TOKEN"])
def test_aliyun_needs_its_secret_and_callback_token(missing: str) -> None:
    env = {k: v for k, v in ALIYUN.items() if k != missing}
    err = config_error(**env)
    assert err.key == missing and "FOLLOWUP_SMS_PROVIDER=aliyun" in str(err)


def test_the_explicit_provider_without_a_key_names_the_key() -> None:
    assert config_error(FOLLOWUP_SMS_PROVIDER="aliyun").key == "ALIYUN_ACCESS_KEY_ID"


def test_a_short_or_odd_callback_token_is_refused() -> None:
    assert config_error(**{**ALIYUN, "ALIYUN_CALLBACK_TOKEN": "short"}).key == "ALIYUN_CALLBACK_TOKEN"
    assert config_error(**{**ALIYUN, "ALIYUN_CALLBACK_TOKEN": "has/slash/0123456789"}).key == "ALIYUN_CALLBACK_TOKEN"


def test_unknown_provider_and_twilio_without_twilio() -> None:
    err = config_error(FOLLOWUP_SMS_PROVIDER="yunpian")
    assert err.key == "FOLLOWUP_SMS_PROVIDER" and "twilio, aliyun or sandbox" in str(err)
    assert "TWILIO_ACCOUNT_SID" in str(config_error(FOLLOWUP_SMS_PROVIDER="twilio"))


def test_sandbox_sms_with_aliyun_keys_set_is_still_the_sandbox() -> None:
    assert load(**ALIYUN, FOLLOWUP_SMS_PROVIDER="sandbox").sms_provider == "sandbox"


def test_a_template_variable_the_kind_does_not_have_is_refused(tmp_path: Path) -> None:
    path = config_with(tmp_path, 'params = ["question", "hint"]\n[aliyun.templates.reask]',
                       'params = ["question", "coupon"]\n[aliyun.templates.reask]')
    err = config_error(**ALIYUN, FOLLOWUP_CONFIG=str(path))
    assert err.key == "aliyun.templates.question.params" and "'coupon'" in str(err)


def test_a_template_code_must_look_like_one(tmp_path: Path) -> None:
    path = config_with(tmp_path, 'code = "SMS_100000006"', 'code = "问卷模板"')
    assert config_error(**ALIYUN, FOLLOWUP_CONFIG=str(path)).key == "aliyun.templates.question.code"


def test_a_missing_kind_is_refused_only_when_aliyun_sends(tmp_path: Path) -> None:
    path = config_with(tmp_path, '[aliyun.templates.help]', '[aliyun.templates_unused_help]')
    err = config_error(**ALIYUN, FOLLOWUP_CONFIG=str(path))
    assert err.key == "aliyun.templates.help" and "missing" in str(err)
    assert load(FOLLOWUP_CONFIG=str(path)).sms_provider == "sandbox"


def test_an_unknown_kind_is_named(tmp_path: Path) -> None:
    path = config_with(tmp_path, "[aliyun.templates.optin]", "[aliyun.templates.coupon]")
    assert config_error(FOLLOWUP_CONFIG=str(path)).key == "aliyun.templates.coupon"


def test_production_refuses_an_http_endpoint() -> None:
    prod = {"FOLLOWUP_ENV": "production", "FOLLOWUP_SECRET_KEY": "k" * 40, "PUBLIC_BASE_URL": "https://followup.example.cn",
            "FOLLOWUP_CHANNEL_MODE": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t",
            "TWILIO_FROM_NUMBER": "+8675512345678", **ALIYUN}
    err = config_error(**prod, ALIYUN_SMS_ENDPOINT="http://127.0.0.1:18080")
    assert err.key == "ALIYUN_SMS_ENDPOINT" and "https" in str(err)
    assert load(**prod).aliyun.protocol == "https"
