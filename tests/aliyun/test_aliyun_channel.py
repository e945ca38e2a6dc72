"""The Alibaba Cloud SMS channel against the local emulator (CONTRACT §10): what SendSms carries,
and how every listed error code is sorted (R3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.aliyun_env import running_emulator

from followup.channels.aliyun_sms import ACCOUNT_CODES, NUMBER_CODES, AliyunSms, mainland_mobile
from followup.channels.base import AccountError, Contact, PermanentError, TransientError

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
VARS = {"customer_name": "王先生", "visit_date": "12月5日", "service_label": "保养",
        "question": "对本次服务的总体满意度？", "hint": "请回复0-10的数字（10分为非常满意）。",
        "store_name": "深圳星河大众4S店", "store_phone": "0755-86001234", "survey_url": "http://x/s/ABCD"}


def contact(kind: str = "survey", to: str = "+8613800138000", **variables: str) -> Contact:
    return Contact(41, 7, "sms", kind, to, "zh", "SZ01", "【星河大众】…", {**VARS, **variables})


def test_send_sms_carries_the_template_its_variables_and_our_attempt_id(tmp_path: Path) -> None:
    with running_emulator(tmp_path) as (emu, settings):
        sent = AliyunSms(settings).send(contact(), NOW)
    assert emu.problems == []
    [msg] = emu.sent
    survey = settings.aliyun.template("survey")
    assert (msg.phone, msg.sign_name, msg.template_code, msg.out_id) == ("13800138000", "星河大众", survey.code, "41")
    assert msg.params == {name: VARS[name] for name in survey.params}  # exactly the template's variables
    assert sent.provider_id == msg.biz_id and sent.outcome is None  # delivery comes by receipt


def test_the_emulator_refuses_a_wrong_secret(tmp_path: Path) -> None:
    wrong = {"ALIYUN_ACCESS_KEY_SECRET": "not-the-secret"}
    with running_emulator(tmp_path, **wrong) as (emu, settings), pytest.raises(AccountError) as info:
        AliyunSms(settings).send(contact(), NOW)
    assert info.value.code == "SignatureDoesNotMatch" and emu.sent == []


@pytest.mark.parametrize("code", sorted(["isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL",
                                         "isv.MONTH_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling.User"]))
def test_retry_later_codes_are_transient(tmp_path: Path, code: str) -> None:
    with running_emulator(tmp_path) as (emu, settings):
        emu.fail_next(code)
        with pytest.raises(TransientError) as info:
            AliyunSms(settings).send(contact(), NOW)
    assert info.value.code == code


def test_http_5xx_and_a_dead_endpoint_are_transient(tmp_path: Path) -> None:
    with running_emulator(tmp_path) as (emu, settings):
        emu.fail_next("ServiceUnavailable", status=503)
        with pytest.raises(TransientError):
            AliyunSms(settings).send(contact(), NOW)
    with pytest.raises(TransientError) as info:  # stopped: connection refused
        AliyunSms(settings).send(contact(), NOW)
    assert info.value.code == "network"


@pytest.mark.parametrize("code", sorted(NUMBER_CODES))
def test_number_codes_end_the_sms_as_invalid_number(tmp_path: Path, code: str) -> None:
    with running_emulator(tmp_path) as (emu, settings):
        emu.fail_next(code)
        with pytest.raises(PermanentError) as info:
            AliyunSms(settings).send(contact(), NOW)
    assert (info.value.outcome, info.value.code) == ("invalid_number", code)


@pytest.mark.parametrize("code", sorted(ACCOUNT_CODES))
def test_account_codes_pause_the_channel(tmp_path: Path, code: str) -> None:
    with running_emulator(tmp_path) as (emu, settings):
        emu.fail_next(code)
        with pytest.raises(AccountError) as info:
            AliyunSms(settings).send(contact(), NOW)
    assert info.value.code == code


def test_the_emulator_itself_refuses_a_bad_number(tmp_path: Path) -> None:
    with running_emulator(tmp_path) as (emu, settings):
        channel = AliyunSms(settings)
        with pytest.raises(PermanentError):  # not a mainland mobile: refused before any request
            channel.send(contact(to="+14155550100"), NOW)
        assert emu.requests == 0
        req = channel.request_for(contact())
        assert json.loads(req["TemplateParam"])["customer_name"] == "王先生"


def test_a_value_over_35_characters_is_our_configuration_not_the_customer(tmp_path: Path) -> None:
    with running_emulator(tmp_path) as (emu, settings), pytest.raises(AccountError) as info:
        AliyunSms(settings).send(contact(question="很" * 36), NOW)
    assert info.value.code == "isv.PARAM_LENGTH_LIMIT" and emu.requests == 0


def test_mainland_mobile() -> None:
    assert mainland_mobile("+86 138-0013-8000") == "13800138000"
    assert mainland_mobile("008613800138000") == mainland_mobile("13800138000") == "13800138000"
    assert mainland_mobile("+8602161234567") is None and mainland_mobile("12800138000") is None
    assert mainland_mobile(None) is None


def test_the_registry_routes_sms_to_alibaba_cloud_and_calls_to_the_channel_mode(tmp_path: Path) -> None:
    from followup.channels.registry import AliyunSmsChannels, build_channel
    from followup.channels.sandbox import SandboxChannel

    with running_emulator(tmp_path) as (_emu, settings):
        channel = build_channel(settings)
    assert isinstance(channel, AliyunSmsChannels)
    assert isinstance(channel.route(contact()), AliyunSms) and channel.route(contact()).name == "sms"
    call = Contact(42, 7, "call", "survey", "+8613800138000", "zh", "SZ01")
    assert isinstance(channel.route(call), SandboxChannel)
