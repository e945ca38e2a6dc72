"""Configuration (CONTRACT §2): committed defaults, FOLLOWUP_CONFIG, environment overrides, errors."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from settings_support import CONFIG_DIR, config_error, load

from followup.settings import DEFAULT_CONFIG, ConfigError, Window


def copy_config(tmp_path: Path, replace: dict[str, str] | None = None, append: str = "") -> Path:
    """The committed config in ``tmp_path`` (with its survey file), edited."""
    shutil.copy(CONFIG_DIR / "survey.toml", tmp_path / "survey.toml")
    shutil.copy(CONFIG_DIR / "holidays_cn.toml", tmp_path / "holidays_cn.toml")
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    out = tmp_path / "followup.toml"
    out.write_text(text + append, encoding="utf-8")
    return out


def test_the_committed_defaults_load() -> None:
    s = load()
    assert s.env == "development" and s.channel_mode == "sandbox" and s.test_clock is False
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("instance/followup.db")
    assert s.public_base_url == "http://127.0.0.1:5000"
    assert s.default_language == "zh"
    assert len(s.secret_key) >= 32
    assert list(s.stores) == ["SZ01"]
    store = s.store("SZ01")
    assert store.timezone.key == "Asia/Shanghai" and store.name == "深圳星河大众4S店"
    p = store.policy
    assert p.calling_windows == (Window(time(9), time(12)), Window(time(14), time(20)))
    assert p.sms_hours == Window(time(8), time(21))
    assert p.first_call_delay == timedelta(hours=24)
    assert (p.min_gap, p.min_gap_floor, p.deadline) == (timedelta(hours=3), timedelta(minutes=30), timedelta(hours=72))
    assert p.max_call_attempts == 3 and p.sms_enabled is True
    assert p.sms_reply_timeout == timedelta(hours=48) and p.letter_reply_timeout == timedelta(days=30)
    assert p.exclude_service_types == frozenset({"internal"})
    assert p.skip_holidays is True and p.workdays == frozenset() and p.closed_days == frozenset()  # R2
    assert p.holiday_calendar is s.holiday_calendar and s.holiday_calendar.covers(2026)
    assert s.bonus.min_responses == 5 and s.bonus.tiers == ((85.0, 300), (90.0, 600), (95.0, 900))
    assert s.survey.questions and s.subscribers == ()
    assert s.twilio.api_base_url == "https://api.twilio.com"


def test_development_gets_a_new_random_secret_key_each_start() -> None:
    assert load().secret_key != load().secret_key
    assert load(FOLLOWUP_SECRET_KEY="k" * 40).secret_key == "k" * 40


def test_the_environment_variables_of_the_contract() -> None:
    s = load(
        DATABASE_URL="postgresql+psycopg://u@db.example/followup",
        FOLLOWUP_ENV="test",
        FOLLOWUP_TEST_CLOCK="1",
        PUBLIC_BASE_URL="https://followup.example.com/",
        TWILIO_API_BASE_URL="http://127.0.0.1:4010/",
        FOLLOWUP_WEBHOOK_URLS="https://dms.example/hook|whsec_a http://127.0.0.1:9/h|whsec_b",
    )
    assert s.database_url == "postgresql+psycopg://u@db.example/followup"
    assert s.env == "test" and s.test_clock is True
    assert s.public_base_url == "https://followup.example.com"
    assert s.twilio.api_base_url == "http://127.0.0.1:4010"
    assert [(x.url, x.secret) for x in s.subscribers] == [
        ("https://dms.example/hook", "whsec_a"), ("http://127.0.0.1:9/h", "whsec_b"),
    ]


def test_twilio_mode_with_credentials() -> None:
    s = load(TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="t" * 32, TWILIO_FROM_NUMBER="+8675586001234")
    assert s.channel_mode == "twilio"
    assert s.twilio.account_sid == "AC" + "1" * 32 and s.twilio.from_number == "+8675586001234"
    sandbox = load(
        FOLLOWUP_CHANNEL_MODE="sandbox", TWILIO_ACCOUNT_SID="AC" + "1" * 32,
    )
    assert sandbox.channel_mode == "sandbox"


def test_followup_config_names_another_file(tmp_path: Path) -> None:
    path = copy_config(
        tmp_path,
        replace={'min_gap = "3h"': 'min_gap = "4h"', "default_language = \"zh\"": "default_language = \"en\""},
        append='\n[stores.GZ02]\nname = "广州天河大众4S店"\ntimezone = "Asia/Shanghai"\n'
        '[stores.GZ02.policy]\ncalling_windows = ["10:00-12:00"]\n',
    )
    s = load(FOLLOWUP_CONFIG=str(path))
    assert s.config_path == path
    assert sorted(s.stores) == ["GZ02", "SZ01"]
    assert s.default_language == "en"
    assert s.store("SZ01").policy.min_gap == timedelta(hours=4)
    gz = s.store("GZ02")
    assert gz.policy.calling_windows == (Window(time(10), time(12)),)
    assert gz.policy.min_gap == timedelta(hours=4)  # the other keys come from [policy]


def test_followup_config_that_does_not_exist(tmp_path: Path) -> None:
    err = config_error(FOLLOWUP_CONFIG=str(tmp_path / "nope.toml"))
    assert err.key == "FOLLOWUP_CONFIG" and "nope.toml" in str(err)


def test_followup_config_that_is_not_toml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy\nmin_gap = 3h\n", encoding="utf-8")
    err = config_error(FOLLOWUP_CONFIG=str(bad))
    assert err.key == "FOLLOWUP_CONFIG" and "TOML" in str(err)


def test_environment_overrides_any_key() -> None:
    s = load(
        FOLLOWUP__policy__min_gap="2h",
        FOLLOWUP__policy__max_call_attempts="2",
        FOLLOWUP__policy__calling_windows='["08:30-11:30", "13:30-19:00"]',
        FOLLOWUP__stores__SZ01__name="星河店",
        FOLLOWUP__bonus__min_responses="8",
    )
    p = s.store("SZ01").policy
    assert p.min_gap == timedelta(hours=2)
    assert p.max_call_attempts == 2
    assert p.calling_windows == (Window(time(8, 30), time(11, 30)), Window(time(13, 30), time(19)))
    assert s.store("SZ01").name == "星河店"
    assert s.bonus.min_responses == 8


def test_a_store_policy_override_wins_over_the_defaults(tmp_path: Path) -> None:
    path = copy_config(tmp_path, append='\n[stores.SZ01.policy]\nmin_gap = "1h"\n')
    s = load(FOLLOWUP_CONFIG=str(path), FOLLOWUP__policy__min_gap="2h")
    assert s.store("SZ01").policy.min_gap == timedelta(hours=1)


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"FOLLOWUP__policy__min_gap": "3 hours"}, "policy.min_gap"),
        ({"FOLLOWUP__policy__deadline": "99999999999d"}, "policy.deadline"),
        ({"FOLLOWUP__stores__SZ01__timezone": "Mars/Olympus_Mons"}, "stores.SZ01.timezone"),
        ({"FOLLOWUP__stores__SZ01__timezone": "Asia"}, "stores.SZ01.timezone"),
        ({"FOLLOWUP__policy__calling_windows": '["25:00-26:00"]'}, "policy.calling_windows"),
        ({"FOLLOWUP__policy__calling_windows": '["24:30-24:45"]'}, "policy.calling_windows"),
        ({"FOLLOWUP__policy__calling_windows": '["12:00-09:00"]'}, "policy.calling_windows"),
        ({"FOLLOWUP__policy__calling_windows": '["09:00-13:00", "12:00-15:00"]'}, "policy.calling_windows"),
        ({"FOLLOWUP__policy__calling_windows": "[]"}, "policy.calling_windows"),
        ({"FOLLOWUP__policy__sms_hours": "8-21"}, "policy.sms_hours"),
        ({"FOLLOWUP__policy__min_gap_floor": "4h"}, "policy.min_gap_floor"),
        ({"FOLLOWUP__policy__max_call_attempts": "0"}, "policy.max_call_attempts"),
        ({"FOLLOWUP__policy__sms_enabled": "yes"}, "policy.sms_enabled"),
        ({"FOLLOWUP__policy__exclude_service_types": '["car_wash"]'}, "policy.exclude_service_types"),
        ({"FOLLOWUP__policy__workdays": '["2026-02-30"]'}, "policy.workdays"),
        ({"FOLLOWUP__policy__workdays": "2026-02-28"}, "policy.workdays"),
        ({"FOLLOWUP__policy__skip_holidays": '"yes"'}, "policy.skip_holidays"),
        ({"FOLLOWUP__stores__SZ01__policy__closed_days": '["2026-12-32"]'}, "stores.SZ01.policy.closed_days"),
        ({"FOLLOWUP__stores__SZ01__policy__closed_days": "2026-12-24"}, "stores.SZ01.policy.closed_days"),
        ({"FOLLOWUP__policy__closed_days": '["24/12/2026"]'}, "policy.closed_days"),
        ({"FOLLOWUP__stores__SZ01__policy__closed_days": '["2026-10-08"]',
          "FOLLOWUP__stores__SZ01__policy__workdays": '["2026-10-08"]'}, "stores.SZ01.policy.closed_days"),
        ({"FOLLOWUP__app__holiday_calendar": "nowhere.toml"}, "app.holiday_calendar"),
        ({"FOLLOWUP__policy": "3"}, "policy"),
        ({"FOLLOWUP__stores__SZ01__policy": "3"}, "stores.SZ01.policy"),
        ({"FOLLOWUP__stores__SZ01__policy__sms_hours": "21:00-08:00"}, "stores.SZ01.policy.sms_hours"),
        ({"FOLLOWUP__stores__SZ01__name": "1"}, "stores.SZ01.name"),
        ({"FOLLOWUP__app__default_language": "fr"}, "app.default_language"),
        ({"FOLLOWUP__app__default_language__zh": "1"}, "app.default_language"),
        ({"FOLLOWUP__bonus__tiers": "[[95.0, 900], [85.0, 300]]"}, "bonus.tiers"),
        ({"FOLLOWUP__bonus__tiers": '["a lot"]'}, "bonus.tiers"),
        ({"FOLLOWUP__complaints__max_resurveys": "two"}, "complaints.max_resurveys"),
        ({"FOLLOWUP__webhooks__timeout": "soon"}, "webhooks.timeout"),
        ({"FOLLOWUP__twilio__calls_per_second": "0"}, "twilio.calls_per_second"),
        ({"FOLLOWUP_ENV": "staging"}, "FOLLOWUP_ENV"),
        ({"FOLLOWUP_CHANNEL_MODE": "twilio"}, "TWILIO_ACCOUNT_SID"),
        ({"FOLLOWUP_CHANNEL_MODE": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t"}, "TWILIO_FROM_NUMBER"),
        ({"FOLLOWUP_CHANNEL_MODE": "pigeon"}, "FOLLOWUP_CHANNEL_MODE"),
        ({"FOLLOWUP_WEBHOOK_URLS": "https://dms.example/hook"}, "FOLLOWUP_WEBHOOK_URLS"),
        ({"FOLLOWUP_WEBHOOK_URLS": "dms.example/hook|whsec_x"}, "FOLLOWUP_WEBHOOK_URLS"),
        ({"FOLLOWUP_WEBHOOK_URLS": "https://dms.example/hook|"}, "FOLLOWUP_WEBHOOK_URLS"),
        ({"PUBLIC_BASE_URL": "followup.example.com"}, "PUBLIC_BASE_URL"),
        ({"DATABASE_URL": "not a database url"}, "DATABASE_URL"),
    ],
)
def test_each_bad_value_names_its_key(env: dict[str, str], key: str) -> None:
    err = config_error(**env)
    assert err.key == key
    message = str(err)
    assert message.startswith(f"config error: {key}: ") and "\n" not in message
    assert len(message) > len(f"config error: {key}: ") + 3


def test_the_min_gap_message_is_the_documented_one() -> None:
    err = config_error(FOLLOWUP__policy__min_gap="3 hours")
    assert str(err) == "config error: policy.min_gap: not a duration: '3 hours' (use 90s, 30m, 3h or 2d)"


def test_a_webhook_error_does_not_show_the_secret() -> None:
    err = config_error(FOLLOWUP_WEBHOOK_URLS="ftp://dms.example/hook|whsec_TOPSECRET whsec_ALONE")
    assert "TOPSECRET" not in str(err) and "ALONE" not in str(err)
    err = config_error(FOLLOWUP_WEBHOOK_URLS="https://ok.example/h|whsec_1 whsec_ALONE")
    assert "ALONE" not in str(err) and "2" in str(err)


PRODUCTION = {
    "FOLLOWUP_ENV": "production",
    "FOLLOWUP_SECRET_KEY": "s" * 64,
    "PUBLIC_BASE_URL": "https://followup.example.com",
    # production refuses the sandbox (#19): Twilio, whose credentials start-up never uses
    "FOLLOWUP_CHANNEL_MODE": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "t" * 32,
    "TWILIO_FROM_NUMBER": "+8675512345678",
}


def test_production_starts_when_set_up() -> None:
    s = load(**PRODUCTION)
    assert s.env == "production" and s.secret_key == "s" * 64 and s.test_clock is False


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"FOLLOWUP_SECRET_KEY": ""}, "FOLLOWUP_SECRET_KEY"),
        ({"FOLLOWUP_SECRET_KEY": "dev-insecure-secret-key"}, "FOLLOWUP_SECRET_KEY"),
        ({"FOLLOWUP_TEST_CLOCK": "1"}, "FOLLOWUP_TEST_CLOCK"),
        ({"PUBLIC_BASE_URL": "http://followup.example.com"}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL"),
        ({"FOLLOWUP_SECRET_KEY": "s" * 31}, "FOLLOWUP_SECRET_KEY"),
        ({"FOLLOWUP_CHANNEL_MODE": "sandbox"}, "FOLLOWUP_CHANNEL_MODE"),
        ({"FOLLOWUP_SMS_PROVIDER": "sandbox"}, "FOLLOWUP_SMS_PROVIDER"),
        ({"FOLLOWUP_SANDBOX_CUSTOMERS": "demo"}, "FOLLOWUP_SANDBOX_CUSTOMERS"),
    ],
)
def test_production_refuses(change: dict[str, str], key: str) -> None:
    env = {**PRODUCTION, **change}
    if not env["PUBLIC_BASE_URL"]:
        del env["PUBLIC_BASE_URL"]  # unset: the http:// default is refused too
    assert config_error(**env).key == key


MAINLAND = {**PRODUCTION, "FOLLOWUP_CHANNEL_MODE": "sandbox", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "",
            "TWILIO_FROM_NUMBER": "", "FOLLOWUP_SMS_PROVIDER": "aliyun", "ALIYUN_ACCESS_KEY_ID": "LTAI5tExample",
            "ALIYUN_ACCESS_KEY_SECRET": "secret", "ALIYUN_CALLBACK_TOKEN": "t" * 24}


def test_a_mainland_store_needs_no_voice_provider_when_staff_make_every_call() -> None:
    """Staff calls (the worklist) and Alibaba Cloud SMS: production starts without Twilio, and the
    phone simulator is off (nothing in production may invent a customer's answer)."""
    s = load(**MAINLAND, FOLLOWUP_CALLS_BY="staff")
    assert (s.env, s.channel_mode, s.sms_provider) == ("production", "sandbox", "aliyun")
    assert all(store.calls_by == "staff" for store in s.stores.values()) and s.simulator is False
    # an IVR store would have its calls "made" by the sandbox: refused, naming the store
    err = config_error(**MAINLAND)
    assert err.key == "FOLLOWUP_CHANNEL_MODE" and "SZ01" in str(err) and "call by IVR" in str(err)


def test_the_simulator_is_offered_in_the_sandbox_outside_production() -> None:
    assert load(FOLLOWUP_CHANNEL_MODE="sandbox").simulator is True


def test_production_allows_sqlite() -> None:
    assert load(**PRODUCTION, DATABASE_URL="sqlite:////var/lib/followup/followup.db").env == "production"


def test_settings_are_frozen() -> None:
    s = load()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.env = "production"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.store("SZ01").policy.min_gap = timedelta(0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.stores["XX"] = s.store("SZ01")  # type: ignore[index]
    assert list(s.stores) == ["SZ01"]


# --- the official holiday calendar and the stores' closed days (R2) ---------------------------------


def test_a_store_adds_closed_days_of_its_own(tmp_path: Path) -> None:
    path = copy_config(tmp_path, append='\n[stores.SZ01.policy]\nclosed_days = ["2026-12-24", 2026-12-31]\n'
                       '\n[stores.GZ02]\nname = "广州天河大众4S店"\n')
    s = load(FOLLOWUP_CONFIG=str(path))
    assert s.store("SZ01").policy.closed_days == frozenset({"2026-12-24", "2026-12-31"})
    assert s.store("GZ02").policy.closed_days == frozenset()  # another store is not closed
    assert s.store("GZ02").policy.holiday_calendar is s.holiday_calendar


def test_the_shipped_calendar_is_read_with_its_blocks_and_make_up_days() -> None:
    cal = load().holiday_calendar
    y2026 = cal.year(2026)
    assert y2026 is not None and not y2026.provisional and "2026" in y2026.source
    national = y2026.blocks[-1]
    assert (national.name, national.name_en) == ("国庆节", "National Day")
    assert (national.first, national.last, national.days) == (date(2026, 10, 1), date(2026, 10, 7), 7)
    assert [d.isoformat() for d in y2026.workdays] == [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    y2027 = cal.year(2027)
    assert y2027 is not None and y2027.provisional and y2027.workdays == ()


def calendar_error(tmp_path: Path, old: str, new: str) -> ConfigError:
    path = copy_config(tmp_path)
    holidays_file = tmp_path / "holidays_cn.toml"
    text = holidays_file.read_text(encoding="utf-8")
    assert old in text, old
    holidays_file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return config_error(FOLLOWUP_CONFIG=str(path))


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('last = "2026-10-07"', 'last = "2026-10-32"', "holidays_cn.2026.blocks[6].last", "not a date"),
        ('last = "2026-10-07"', 'last = "2026-09-07"', "holidays_cn.2026.blocks[6].last", "before"),
        ('first = "2026-10-01"', 'first = "2026-09-27"', "holidays_cn.2026.blocks[6]", "overlaps"),
        ('first = "2026-10-01"', 'first = "2023-10-01"', "holidays_cn.2026.blocks[6].first", "2026"),
        ('{ name = "国庆节", name_en = "National Day", first = "2026-10-01"',
         '{ name_en = "National Day", first = "2026-10-01"', "holidays_cn.2026.blocks[6].name", "missing"),
        ('"2026-10-10"]', '"2026-10-05"]', "holidays_cn.2026.workdays", "inside the block"),
        ('"2026-10-10"]', '"10/10/2026"]', "holidays_cn.2026.workdays", "not a date"),
        ("[2026]", "[twenty-six]", "holidays_cn.twenty-six", "year"),
        ("provisional = false\nblocks = [\n  { name = \"元旦\", name_en = \"New Year's Day\", first = \"2026",
         "provisional = \"no\"\nblocks = [\n  { name = \"元旦\", name_en = \"New Year's Day\", first = \"2026",
         "holidays_cn.2026.provisional", "expected bool"),
        ("[2026]", "[2026\n", "app.holiday_calendar", "TOML"),
    ],
)
def test_a_wrong_calendar_entry_stops_start_up_naming_it(
    tmp_path: Path, old: str, new: str, key: str, words: str
) -> None:
    err = calendar_error(tmp_path, old, new)
    assert err.key == key and words in err.problem, str(err)


def test_a_missing_calendar_file_is_named(tmp_path: Path) -> None:
    path = copy_config(tmp_path)
    (tmp_path / "holidays_cn.toml").unlink()
    err = config_error(FOLLOWUP_CONFIG=str(path))
    assert err.key == "app.holiday_calendar" and "holidays_cn.toml" in err.problem


def test_an_administrator_edits_the_calendar(tmp_path: Path) -> None:
    """A new year's notice entered in the file is what the service follows after a restart."""
    path = copy_config(tmp_path)
    with (tmp_path / "holidays_cn.toml").open("a", encoding="utf-8") as f:
        f.write('\n[2028]\nsource = "国务院办公厅关于2028年部分节假日安排的通知"\n'
                'blocks = [{ name = "国庆节", name_en = "National Day", first = "2028-09-30", last = "2028-10-08" }]\n'
                'workdays = ["2028-10-09"]\n')
    cal = load(FOLLOWUP_CONFIG=str(path)).holiday_calendar
    assert cal.covers(2028) and cal.is_holiday(date(2028, 9, 30)) and cal.is_holiday(date(2028, 10, 7))
    assert not cal.is_holiday(date(2028, 10, 9)) and not cal.is_holiday(date(2028, 1, 1))  # only what is listed
