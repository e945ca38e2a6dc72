"""The worker's own settings (``FOLLOWUP_DISPATCH_BATCH``, ``FOLLOWUP_LEASE_SECONDS``,
``FOLLOWUP_TICK_SECONDS``): read once by ``load_settings``, a bad value named like any other key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from followup.settings import ConfigError, load_settings


def test_the_defaults_when_nothing_is_set() -> None:
    engine = load_settings({}).engine
    assert (engine.dispatch_batch, engine.lease_seconds, engine.tick_seconds) == (500, 300.0, 10.0)
    assert engine.lease == timedelta(minutes=5)


def test_an_empty_value_is_the_default() -> None:
    engine = load_settings({"FOLLOWUP_DISPATCH_BATCH": "", "FOLLOWUP_LEASE_SECONDS": " ",
                            "FOLLOWUP_TICK_SECONDS": ""}).engine
    assert (engine.dispatch_batch, engine.lease_seconds, engine.tick_seconds) == (500, 300.0, 10.0)


@pytest.mark.parametrize(("name", "value", "field", "expected"), [
    ("FOLLOWUP_DISPATCH_BATCH", "20", "dispatch_batch", 20),
    ("FOLLOWUP_DISPATCH_BATCH", "1", "dispatch_batch", 1),
    ("FOLLOWUP_LEASE_SECONDS", "1", "lease_seconds", 1.0),
    ("FOLLOWUP_LEASE_SECONDS", "2.5", "lease_seconds", 2.5),
    ("FOLLOWUP_LEASE_SECONDS", "86400", "lease_seconds", 86400.0),
    ("FOLLOWUP_TICK_SECONDS", "0.2", "tick_seconds", 0.2),
    ("FOLLOWUP_TICK_SECONDS", "3", "tick_seconds", 3.0),
])
def test_a_good_value_is_read(name: str, value: str, field: str, expected: float) -> None:
    assert getattr(load_settings({name: value}).engine, field) == expected


def test_the_lease_follows_the_seconds() -> None:
    assert load_settings({"FOLLOWUP_LEASE_SECONDS": "1.5"}).engine.lease == timedelta(seconds=1.5)


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("FOLLOWUP_DISPATCH_BATCH", "lots", "must be a whole number of rows (1 or more), got 'lots'"),
    ("FOLLOWUP_DISPATCH_BATCH", "0", "must be a whole number of rows (1 or more), got '0'"),
    ("FOLLOWUP_DISPATCH_BATCH", "-5", "must be a whole number of rows (1 or more), got '-5'"),
    ("FOLLOWUP_DISPATCH_BATCH", "2.5", "must be a whole number of rows (1 or more), got '2.5'"),
    ("FOLLOWUP_LEASE_SECONDS", "abc", "not a number of seconds: 'abc' (e.g. 300 or 0.5)"),
    ("FOLLOWUP_LEASE_SECONDS", "5m", "not a number of seconds: '5m' (e.g. 300 or 0.5)"),
    ("FOLLOWUP_LEASE_SECONDS", "0", "must be more than 0 and at most 86400 seconds, got '0'"),
    ("FOLLOWUP_LEASE_SECONDS", "-1", "must be more than 0 and at most 86400 seconds, got '-1'"),
    ("FOLLOWUP_LEASE_SECONDS", "nan", "must be more than 0 and at most 86400 seconds, got 'nan'"),
    ("FOLLOWUP_LEASE_SECONDS", "1e300", "must be more than 0 and at most 86400 seconds, got '1e300'"),
    ("FOLLOWUP_TICK_SECONDS", "often", "not a number of seconds: 'often' (e.g. 300 or 0.5)"),
    ("FOLLOWUP_TICK_SECONDS", "0", "must be more than 0 and at most 86400 seconds, got '0'"),
    ("FOLLOWUP_TICK_SECONDS", "inf", "must be more than 0 and at most 86400 seconds, got 'inf'"),
])
def test_a_bad_value_stops_start_up_naming_the_variable(name: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({name: value})
    assert (info.value.key, info.value.problem) == (name, problem)
    assert str(info.value) == f"config error: {name}: {problem}"
