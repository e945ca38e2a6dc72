"""The managers' reports page and its downloads: numbers, access, safe spreadsheets, audit."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from complaints.world import add_visit, answer, local, log_in, user
from openpyxl import load_workbook
from reports.november import C, build_november
from sqlalchemy import select

from followup.models import AuditEntry
from followup.runtime import Runtime


@pytest.fixture
def month(rt: Runtime) -> None:
    rt.clock.set(local(2026, 12, 2, 10, 0))  # type: ignore[attr-defined]
    build_november(rt)
    # an advisor whose name a DMS filled with a spreadsheet formula
    for n in range(2):
        case_id = add_visit(rt, f"RO-X-{n}", delivered=local(2026, 11, 20, 9, 0), advisor="SA04",
                            advisor_name="=cmd|' /C calc'!A0")
        answer(rt, case_id, C, at=local(2026, 11, 21, 9, n))
    user(rt, "boss", "manager")
    user(rt, "staff", "info_staff")


def test_the_month_page_shows_scores_bonuses_and_the_rest(rt: Runtime, month: None) -> None:
    page = log_in(rt, "boss").get("/reports?store=SZ01&month=2026-11").get_data(as_text=True)
    assert "满意度考核" in page
    rows = re.findall(r"<td>(SA0\d)</td><td>[^<]*</td><td>(\d+)</td>\s*<td class=\"score\">([\d.]+)", page)
    assert rows == [("SA01", "5", "95.20"), ("SA02", "4", "83.50"), ("SA03", "5", "90.40"), ("SA04", "2", "88.00")]
    assert re.findall(r'<td class="bonus">(\d+)</td>', page) == ["900", "0", "600", "300"]
    # R9's statement: 接车台次 × 3 元 + 主动奖 + bonus; R11's DC calls (none recorded)
    assert "接车台次" in page and "主动奖" in page and "考核合计" in page and "三日DC回访率" in page
    assert re.findall(r'<td class="visits">(\d+)</td>', page) == ["8", "4", "5", "2"]
    assert re.findall(r'<td class="commission">(\d+)</td>', page) == ["24", "12", "15", "6"]
    assert re.findall(r'<td class="statement">(\d+)</td>', page) == ["924", "12", "615", "306"]
    assert re.findall(r'<td class="dc-rate">([^<]*)</td>', page) == ["0.0%"] * 4
    assert page.count("样本不足") >= 2  # SA02 and SA04 are flagged (and the legend says it)
    assert "近十二个月" in page and "客户原话" in page and "三日达标率" in page
    charts = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert len(charts) == 2
    svg = base64.b64decode(charts[0])
    assert b"<svg" in svg and b"<script" not in svg and b"SA03" in svg


def test_the_page_defaults_to_this_month_and_refuses_a_bad_one(rt: Runtime, month: None) -> None:
    client = log_in(rt, "boss")
    assert 'value="2026-12"' in client.get("/reports").get_data(as_text=True)
    bad = client.get("/reports?month=2026-13")
    assert bad.status_code == 400 and "YYYY-MM" in bad.get_data(as_text=True)
    assert client.get("/reports?store=GZ02&month=2026-11").status_code == 404


def test_information_staff_may_not_see_the_bonuses(rt: Runtime, month: None) -> None:
    client = log_in(rt, "staff")
    assert client.get("/reports?store=SZ01&month=2026-11").status_code == 403
    assert client.get("/reports/advisors.csv?store=SZ01&month=2026-11").status_code == 403
    assert "满意度考核" not in client.get("/").get_data(as_text=True)  # nor the menu entry


def test_csv_export_is_neutralised_and_audited(rt: Runtime, month: None) -> None:
    resp = log_in(rt, "boss").get("/reports/advisors.csv?store=SZ01&month=2026-11")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "advisor-scores-SZ01-2026-11.csv" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][0] == "门店代码" and rows[1][0] == "store_code"
    body = {r[2]: r for r in rows[2:]}
    assert body["SA01"] == ["SZ01", "2026-11", "SA01", "王强", "5", "95.2", "no", "900", "8", "24", "0", "924", "0",
                            "0.0"]
    assert rows[0][8:] == ["接车台次", "接车提成(元)", "主动奖(元)", "考核合计(元)", "三日DC回访及时数", "三日DC回访率"]
    assert body["SA04"][3] == "'=cmd|' /C calc'!A0"  # shown as text, never run
    with rt.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "report.exported")).one()
    assert entry.actor == "user:boss" and entry.detail["format"] == "csv" and entry.detail["month"] == "2026-11"


def test_xlsx_export_reads_back_with_openpyxl(rt: Runtime, month: None) -> None:
    resp = log_in(rt, "boss").get("/reports/advisors.xlsx?store=SZ01&month=2026-11")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[1] == ["store_code", "month", "advisor_code", "advisor_name", "responses", "score",
                         "insufficient_sample", "bonus_cny", "visits", "visit_commission_cny", "first_to_cny",
                         "statement_cny", "dc_calls_on_time", "dc_call_rate"]
    assert values[2] == ["SZ01", "2026-11", "SA01", "王强", 5, 95.2, "no", 900, 8, 24, 0, 924, 0, 0.0]
    sa04 = next(r for r in values if r[2] == "SA04")
    assert sa04[3] == "'=cmd|' /C calc'!A0"
    assert sheet["D6"].data_type == "s"  # text, not a formula
    with rt.sessions() as s:
        assert s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "report.exported")).one()[
            "format"] == "xlsx"
