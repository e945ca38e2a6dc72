"""The settings page shows the holiday calendar the service follows (RULES R2): the official blocks and
make-up workdays of the current and next year, and each store's own closed days, in Chinese and English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import database_url, make_settings, migrated_runtime
from flask.testing import FlaskClient
from panel_support import NOW, log_in, make_user, text_of

from followup.runtime import Runtime
from followup.web import create_app


@pytest.fixture
def closed_rt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    url = database_url(backend, request, tmp_path / "test.db")
    runtime = migrated_runtime(make_settings(
        tmp_path, DATABASE_URL=url, FOLLOWUP_TEST_CLOCK="1",
        FOLLOWUP__stores__SZ01__policy__closed_days='["2026-12-31", "2026-12-24"]',
        FOLLOWUP__stores__SZ01__policy__workdays='["2026-10-07"]'))
    yield runtime
    runtime.dispose()


@pytest.fixture
def client(closed_rt: Runtime) -> FlaskClient:
    closed_rt.clock.set(NOW)  # type: ignore[attr-defined]  # 2026-11-20: this year 2026, next year 2027
    make_user(closed_rt, "admin1", "admin", [])
    c = create_app(runtime=closed_rt).test_client()
    log_in(c, "admin1")
    return c


def section(html: str, ident: str) -> str:
    found = re.search(rf'id="{ident}"(.*?)</section>', html, flags=re.S)
    assert found, ident
    return text_of(found.group(1))


def test_the_calendar_of_this_year_and_next_is_shown_in_chinese(client: FlaskClient) -> None:
    html = client.get("/settings").get_data(as_text=True)
    this_year = section(html, "calendar-2026")
    assert "国庆节 2026-10-01（周四）至 2026-10-07（周三） 7天" in this_year
    assert "春节 2026-02-15（周日）至 2026-02-23（周一） 9天" in this_year
    assert "调休上班 2026-01-04（周日）、2026-02-14（周六）、2026-02-28（周六）、2026-05-09（周六）、" \
           "2026-09-20（周日）、2026-10-10（周六）" in this_year
    assert "国务院办公厅关于2026年部分节假日安排的通知" in this_year
    next_year = section(html, "calendar-2027")
    assert "暂定" in next_year and "国庆节 2027-10-01（周五）至 2027-10-05（周二） 5天" in next_year
    assert "calendar-2025" not in html  # only this year and next
    text = text_of(html)
    assert "config/holidays_cn.toml" in text
    store = section(html, "store-SZ01")
    assert "本店休息日 2026-12-24（周四）、2026-12-31（周四）" in store
    assert "本店调休上班日 2026-10-07（周三）" in store
    assert "节假日不打电话、不发调查短信 开启" in store
    assert "<input" not in html.split("<main>")[1]  # shown, not edited here


def test_the_calendar_in_english(client: FlaskClient) -> None:
    html = client.get("/settings?lang=en").get_data(as_text=True)
    this_year = section(html, "calendar-2026")
    assert "National Day 2026-10-01 (Thu) to 2026-10-07 (Wed) 7 days" in this_year
    assert "Make-up workdays 2026-01-04 (Sun), 2026-02-14 (Sat)" in this_year
    assert "Provisional" in section(html, "calendar-2027")
    store = section(html, "store-SZ01")
    assert "Closed days of the store 2026-12-24 (Thu), 2026-12-31 (Thu)" in store


def test_a_year_missing_from_the_file_is_flagged(client: FlaskClient, closed_rt: Runtime) -> None:
    from datetime import UTC, datetime

    closed_rt.clock.set(datetime(2027, 12, 1, 4, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    html = client.get("/settings").get_data(as_text=True)
    missing = section(html, "calendar-2028")
    assert "不在日历文件中" in missing and "2028-10-01（周日）" in missing  # the package's statutory days
    assert "calendar-2027" in html
