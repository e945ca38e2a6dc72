"""The advisor table as CSV and XLSX, safe to open in a spreadsheet: scores and bonus (R9), the
monthly statement (R9) and the DC-call rate (R11, a fraction 0–1, empty without visits).

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel and LibreOffice (CSV injection): such text gets a leading apostrophe, the
usual neutraliser, so that it shows as typed. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy.orm import Session

from followup import audit
from followup.models import Store
from followup.reports.advisors import AdvisorScore

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("store_code", "month", "advisor_code", "advisor_name", "responses", "score", "insufficient_sample",
          "bonus_cny", "visits", "visit_commission_cny", "first_to_cny", "statement_cny", "dc_calls_on_time",
          "dc_call_rate")
HEADER_ZH = ("门店代码", "月份", "服务顾问工号", "服务顾问", "有效回访数", "满意度得分", "样本不足", "奖金(元)",
             "接车台次", "接车提成(元)", "主动奖(元)", "考核合计(元)", "三日DC回访及时数", "三日DC回访率")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_rows(store_code: str, month: str, advisors: Sequence[AdvisorScore]) -> list[list[object]]:
    rows: list[list[object]] = [list(HEADER_ZH), list(HEADER)]
    for a in advisors:
        rows.append([store_code, month, a.code, a.name or "", a.responses, a.score,
                     "yes" if a.insufficient_sample else "no", a.bonus_cny, a.visits, a.visit_commission_cny,
                     a.first_to_cny, a.statement_cny, a.dc_calls_on_time, a.dc_call_rate])
    return [[neutralise(v) for v in row] for row in rows]


def advisors_csv(store_code: str, month: str, advisors: Sequence[AdvisorScore]) -> bytes:
    """UTF-8 with a BOM, so that Chinese Excel opens it right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in table_rows(store_code, month, advisors):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8-sig")


def advisors_xlsx(store_code: str, month: str, advisors: Sequence[AdvisorScore]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = month
    for row in table_rows(store_code, month, advisors):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_export(session: Session, store: Store, month: str, fmt: str, *, actor: str, now: datetime,
                  rows: int) -> None:
    """R10: every export is in the audit log (who, when, which store and month, which format)."""
    audit.record(session, actor, "report.exported", at=now, store_id=store.id, report="advisors", month=month,
                 format=fmt, rows=rows)
