"""The admin panel's letters pages: batches per store, build today's batch, downloads, printed /
mailed / returned, and paper replies keyed in by reply code; roles and store scoping. SQLite and
PostgreSQL."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from panel_support import add_other_store, csrf, log_in, make_user, text_of
from sqlalchemy import select

from followup.models import AuditEntry, LetterBatch, Store, SurveyResponse
from followup.rules.reply_code import grouped
from followup.runtime import Runtime
from followup.web import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "letters"))  # the letter tests' small world
from letter_world import case_row, queue_letter  # noqa: E402

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # Sunday 17:00 in Shenzhen


@pytest.fixture
def staff(rt: Runtime) -> FlaskClient:
    make_user(rt, "staff1", "info_staff", ["SZ01"])
    client = create_app(runtime=rt).test_client()
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    log_in(client, "staff1")
    return client


def form_post(client: FlaskClient, path: str, page: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf(client, page)}, follow_redirects=True)


def queued(rt: Runtime, *ns: int) -> list[int]:
    ids = [queue_letter(rt, n) for n in ns]
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    return ids


def test_staff_build_the_batch_download_it_and_mark_it_mailed(rt: Runtime, staff: FlaskClient) -> None:
    a, b = queued(rt, 1, 2)
    page = text_of(staff.get("/letters/").get_data(as_text=True))
    assert "信件批次" in page and "SZ01 2 封信待打印" in page and "还没有信件批次" in page

    built = form_post(staff, "/letters/build", "/letters/", store="SZ01")
    text = text_of(built.get_data(as_text=True))
    assert "批次已生成" in text and "SZ01 2026-11-22" in text and "已生成" in text
    assert grouped(case_row(rt, a).reply_code) in text and "深圳市" in text  # as printed: ABCD-EFGH-JKMN
    with rt.sessions() as s:
        batch = s.scalars(select(LetterBatch)).one()
    pdf = staff.get(f"/letters/{batch.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert 'filename="SZ01-2026-11-22-1.pdf"' in pdf.headers["Content-Disposition"]
    addresses = staff.get(f"/letters/{batch.id}/csv")
    assert "张伟" in addresses.get_data(as_text=True) and case_row(rt, b).reply_code in addresses.get_data(as_text=True)
    assert staff.get(f"/letters/{batch.id}/labels").data.startswith(b"%PDF")

    printed = form_post(staff, f"/letters/{batch.id}/printed", f"/letters/{batch.id}")
    assert "批次已标记为已打印" in printed.get_data(as_text=True)
    mailed = form_post(staff, f"/letters/{batch.id}/mailed", f"/letters/{batch.id}")
    assert "其中的信件计为已发送" in mailed.get_data(as_text=True)
    assert case_row(rt, a).state == case_row(rt, b).state == "letter_sent"
    with rt.sessions() as s:
        audit = [(e.actor, e.action) for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "user:staff1"))]
    assert ("user:staff1", "letters.exported") in audit and ("user:staff1", "letters.batch_mailed") in audit

    listing = text_of(staff.get("/letters/?lang=en").get_data(as_text=True))
    assert "Letter batches" in listing and "mailed" in listing


def test_a_returned_letter_is_marked_per_letter(rt: Runtime, staff: FlaskClient) -> None:
    a, b = queued(rt, 1, 2)
    form_post(staff, "/letters/build", "/letters/", store="SZ01")
    with rt.sessions() as s:
        batch = s.scalars(select(LetterBatch)).one()
    form_post(staff, f"/letters/{batch.id}/mailed", f"/letters/{batch.id}")
    from followup.models import BatchLetter

    with rt.sessions() as s:
        item = s.scalars(select(BatchLetter).where(BatchLetter.case_id == a)).one()
    done = form_post(staff, f"/letters/{batch.id}/letters/{item.id}/returned", f"/letters/{batch.id}")
    assert "以“无法联系”结束" in done.get_data(as_text=True)
    case = case_row(rt, a)
    assert (case.state, case.outcome, case.flag_reason) == ("closed", "unreachable", "letter_returned")
    assert case_row(rt, b).state == "letter_sent"


def test_nothing_waiting_builds_nothing(rt: Runtime, staff: FlaskClient) -> None:
    page = form_post(staff, "/letters/build", "/letters/", store="SZ01")
    assert "没有待打印的信件" in page.get_data(as_text=True)
    with rt.sessions() as s:
        assert s.scalars(select(LetterBatch)).all() == []


def test_a_paper_reply_is_recorded_as_channel_letter_by_the_user(rt: Runtime, staff: FlaskClient) -> None:
    (case_id,) = queued(rt, 1)
    code = case_row(rt, case_id).reply_code
    form = staff.get("/letters/replies").get_data(as_text=True)
    for qid in ("code", "overall", "fixed_right", "on_time", "advisor", "comment"):
        assert f'name="{qid}"' in form

    unknown = staff.post("/letters/replies", data={"code": "ZZZZZZ", "overall": "8",
                                                    "csrf_token": csrf(staff, "/letters/replies")})
    assert unknown.status_code == 404 and "没有与此回访码对应的回访" in unknown.get_data(as_text=True)
    empty = staff.post("/letters/replies", data={"code": code, "csrf_token": csrf(staff, "/letters/replies")})
    assert empty.status_code == 422

    ok = form_post(staff, "/letters/replies", "/letters/replies", code=grouped(code).lower(), overall="10",
                   fixed_right="yes", on_time="", advisor="9", comment="")
    assert "纸质回执已保存" in ok.get_data(as_text=True)
    case = case_row(rt, case_id)
    assert (case.state, case.outcome) == ("closed", "satisfied")
    with rt.sessions() as s:
        resp = s.scalars(select(SurveyResponse).where(SurveyResponse.status == "completed")).one()
        assert (resp.channel, resp.made_by) == ("letter", "user:staff1")
    twice = staff.post("/letters/replies", data={"code": code, "overall": "2",
                                                  "csrf_token": csrf(staff, "/letters/replies")})
    assert twice.status_code == 409 and "此问卷已经填写过" in twice.get_data(as_text=True)


def test_roles_and_stores(rt: Runtime) -> None:
    other_id = add_other_store(rt)
    make_user(rt, "sa01", "advisor", ["SZ01"], advisor="SA01")
    make_user(rt, "gz", "info_staff", ["GZ01"])
    (case_id,) = queued(rt, 1)
    with rt.sessions() as s:
        sz = s.scalar(select(Store.id).where(Store.code == "SZ01"))
        assert sz is not None and other_id != sz
    client = create_app(runtime=rt).test_client()
    assert client.get("/letters/").status_code == 302  # to the login page
    log_in(client, "sa01")
    assert client.get("/letters/").status_code == 403  # advisors do not handle letters
    assert client.get("/letters/replies").status_code == 403

    gz = create_app(runtime=rt).test_client()
    log_in(gz, "gz")
    page = text_of(gz.get("/letters/").get_data(as_text=True))
    assert "GZ01" in page and "SZ01" not in page
    assert gz.post("/letters/build", data={"store": "SZ01", "csrf_token": csrf(gz, "/letters/")}).status_code == 403
    code = case_row(rt, case_id).reply_code
    other = gz.post("/letters/replies", data={"code": code, "overall": "10",
                                              "csrf_token": csrf(gz, "/letters/replies")})
    assert other.status_code == 404  # another store's code is no code at all
