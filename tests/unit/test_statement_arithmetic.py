"""R9's monthly statement (前台接待考核) and R11's DC-call rate: pure arithmetic, the rulebook's numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from followup.rules.advisor_statement import (
    DEFAULT_FIRST_TO,
    DEFAULT_PER_VISIT,
    Milestone,
    dc_call_due,
    dc_call_on_time,
    dc_call_rate,
    first_to_awards,
    monthly_statement,
)
from followup.settings import ConfigError, load_settings

TIERS = ((85.0, 300), (90.0, 600), (95.0, 900))
T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def test_the_rulebooks_example_250_visits_and_88_points_is_1050() -> None:
    s = monthly_statement(visits=250, mean_score=Decimal(88), first_to_cny=0, per_visit=3, tiers=TIERS)
    assert (s.visit_commission_cny, s.bonus_cny, s.first_to_cny, s.statement_cny) == (750, 300, 0, 1050)


def test_first_to_100_and_to_200_makes_it_1350() -> None:
    awards = first_to_awards([Milestone("SA01", 100, T0), Milestone("SA01", 200, T0 + timedelta(days=9))],
                             DEFAULT_FIRST_TO)
    assert awards == {"SA01": 300}
    s = monthly_statement(visits=250, mean_score=Decimal(88), first_to_cny=awards["SA01"], per_visit=3, tiers=TIERS)
    assert s.statement_cny == 1350


def test_the_tier_is_looked_up_on_the_unrounded_mean() -> None:
    # 84.995 is shown as 85.00 but has not reached 85
    assert monthly_statement(visits=0, mean_score=Decimal("84.995"), first_to_cny=0, per_visit=3,
                             tiers=TIERS).bonus_cny == 0
    assert monthly_statement(visits=0, mean_score=Decimal(85), first_to_cny=0, per_visit=3, tiers=TIERS).bonus_cny == 300
    assert monthly_statement(visits=4, mean_score=None, first_to_cny=0, per_visit=5, tiers=TIERS).statement_cny == 20


def test_each_prize_goes_to_whoever_reached_it_first() -> None:
    day = timedelta(days=1)
    awards = first_to_awards([
        Milestone("SA01", 100, T0 + 5 * day), Milestone("SA01", 200, T0 + 12 * day),
        Milestone("SA02", 100, T0 + 4 * day),  # SA02 reaches 100 first but never 200
        Milestone("SA03", 100, T0 + 6 * day), Milestone("SA03", 200, T0 + 13 * day),
        Milestone("SA03", 300, T0 + 20 * day),
    ], DEFAULT_FIRST_TO)
    assert awards == {"SA02": 100, "SA01": 200, "SA03": 300}


def test_a_tie_goes_to_the_smaller_advisor_code() -> None:
    same = T0 + timedelta(days=3)
    assert first_to_awards([Milestone("SA07", 100, same), Milestone("SA03", 100, same)], DEFAULT_FIRST_TO) == {
        "SA03": 100}


def test_prizes_come_from_config_and_a_milestone_nobody_reached_pays_nobody() -> None:
    assert first_to_awards([Milestone("SA01", 50, T0)], ((50, 80), (100, 100))) == {"SA01": 80}
    assert first_to_awards([], DEFAULT_FIRST_TO) == {}
    assert DEFAULT_FIRST_TO == ((100, 100), (200, 200), (300, 300), (400, 400), (500, 500))



def test_the_dc_call_is_due_three_days_after_delivery_and_on_time_until_then() -> None:
    due = dc_call_due(T0)
    assert due == T0 + timedelta(hours=72)
    assert dc_call_on_time(due, due) and dc_call_on_time(T0 + timedelta(hours=1), due)
    assert not dc_call_on_time(due + timedelta(seconds=1), due)
    assert not dc_call_on_time(None, due)


@pytest.mark.parametrize(("on_time", "visits", "rate"), [(0, 0, None), (0, 3, 0.0), (1, 3, 0.3333), (3, 3, 1.0)])
def test_the_dc_call_rate(on_time: int, visits: int, rate: float | None) -> None:
    assert dc_call_rate(on_time, visits) == rate


def test_the_statement_config_and_its_defaults() -> None:
    bonus = load_settings({"FOLLOWUP_ENV": "test"}).bonus
    assert (bonus.per_visit_commission, bonus.first_to) == (DEFAULT_PER_VISIT, DEFAULT_FIRST_TO)
    changed = load_settings({"FOLLOWUP_ENV": "test", "FOLLOWUP__bonus__per_visit_commission": "5",
                             "FOLLOWUP__bonus__first_to": "[[50, 80]]"}).bonus
    assert (changed.per_visit_commission, changed.first_to) == (5, ((50, 80),))


@pytest.mark.parametrize(("key", "value"), [
    ("per_visit_commission", "-1"), ("per_visit_commission", "'3元'"), ("first_to", "[[100]]"),
    ("first_to", "[[200, 200], [100, 100]]"), ("first_to", "[[100, 1.5]]"),
])
def test_a_bad_statement_config_names_its_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"bonus.{key}"):
        load_settings({"FOLLOWUP_ENV": "test", f"FOLLOWUP__bonus__{key}": value})
