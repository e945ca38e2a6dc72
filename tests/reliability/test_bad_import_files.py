"""Bad visit files (issue #10): a clear answer each time, nothing lost, nothing garbled.

Already covered elsewhere (named in the "Bad input" table of docs/reliability-and-security.md): empty file, header only,
wrong delimiter, Excel date serials, formulas, 5,000-character fields, NUL bytes, a delivery
time with no year. Here: duplicate RO numbers with different data in one file, mixed encodings
in one file, and a 100 MB file.
"""

from __future__ import annotations

import random
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from followup.intake.encoding import detect_encoding
from followup.intake.importer import ImportReport, import_visits
from followup.intake.records import UnusableFile
from followup.models import Advisor, Customer, FollowupCase, Visit
from followup.runtime import Runtime

IMPORT_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HEADER = "门店代码,工单号,客户姓名,手机,服务顾问工号,维修类型,交车时间\n"


def run(rt: Runtime, path: Path) -> ImportReport:
    rt.clock.set(IMPORT_AT)  # type: ignore[attr-defined]
    return import_visits(path, settings=rt.settings, sessions=rt.sessions, clock=rt.clock)


def count(rt: Runtime, model: type) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def row(ro: str, name: str = "张三", mobile: str = "13800138000", advisor: str = "SA01", service: str = "保养",
        delivered: str = "2026/11/19 16:30") -> str:
    return f"SZ01,{ro},{name},{mobile},{advisor},{service},{delivered}\n"


# --- duplicate RO numbers with different data ----------------------------------------------------


def test_a_repeated_ro_number_updates_the_visit_and_the_summary_says_so(rt: Runtime, tmp_path: Path) -> None:
    filler = "".join(row(f"RO-F{i:04d}", mobile=f"1380013{i:04d}") for i in range(600))  # past one 500-row batch
    path = tmp_path / "dup.csv"
    path.write_text(HEADER + row("RO-D1") + row("RO-D2", name="李四") + filler
                    + row("RO-D1", name="张三丰", mobile="13900139000", advisor="SA02", service="维修",
                          delivered="2026/11/19 17:30")
                    + row("RO-D2", name="李四光"), encoding="utf-8")
    report = run(rt, path)
    assert report.exit_code == 0 and report.errors == []  # a repeat is not an error (shared samples' rule)
    assert (report.created, report.updated, report.cases_opened) == (602, 2, 602)
    assert [(r.row, r.reason) for r in report.repeated] == [
        (604, "same RO number as row 2 of this file; this later row updated that visit"),
        (605, "same RO number as row 3 of this file; this later row updated that visit"),
    ]
    assert "2 rows repeated an earlier RO number of the file and updated that visit" in report.summary()
    with rt.sessions() as s:
        d1 = s.scalars(select(Visit).where(Visit.ro_number == "RO-D1")).one()  # one visit, the later data
        customer = s.get_one(Customer, d1.customer_id)
        advisor = s.get_one(Advisor, d1.advisor_id)
        cases = s.scalars(select(FollowupCase).where(FollowupCase.visit_id == d1.id)).all()
    assert (customer.name, customer.mobile, advisor.code, d1.service_type) == ("张三丰", "+8613900139000", "SA02",
                                                                                "repair")
    assert d1.delivered_at == datetime(2026, 11, 19, 9, 30, tzinfo=UTC)
    assert len(cases) == 1
    assert count(rt, Visit) == 602


# --- mixed encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("most", "odd", "message"),
    [
        ("gbk", "utf-8", r"mixed encodings: line 22 is UTF-8, line 1 is not"),  # a GBK file with a UTF-8 row
        ("utf-8", "gbk", r"mixed encodings: line 1 is UTF-8, line 22 is not"),  # a UTF-8 file with a GBK row
    ],
)
def test_a_file_with_a_row_in_the_other_encoding_is_refused_naming_the_lines(
        rt: Runtime, tmp_path: Path, most: str, odd: str, message: str) -> None:
    path = tmp_path / "mixed.csv"
    body = (HEADER + "".join(row(f"RO-{most[0].upper()}{i}", name=f"王{i}") for i in range(20))).encode(most)
    path.write_bytes(body + row(f"RO-{odd[0].upper()}1", name="欧阳明").encode(odd))
    with pytest.raises(UnusableFile, match=message):
        run(rt, path)
    assert count(rt, Visit) == 0  # nothing imported with garbled names


def test_gbk_files_are_not_mistaken_for_mixed(tmp_path: Path) -> None:
    """GBK bytes of a whole line form UTF-8 Chinese only by rare chance: 5,000 random GB2312 rows pass."""
    rng = random.Random(10)
    common = [chr(c) for c in range(0x4E00, 0x9FA6) if _gb2312(chr(c))]
    rows = "".join(row(f"RO{i}", name="".join(rng.choices(common, k=rng.randint(1, 4))),
                       service=rng.choice(["保养", "维修", "快修"])) for i in range(5000))
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + rows).encode("gbk"))
    assert detect_encoding(path) == "gb18030"


def _gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


# --- a 100 MB file ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_100_mb_file_is_refused_at_once_with_flat_memory(rt: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    line = row("RO-HUGE", name="张" * 20)
    with path.open("w", encoding="utf-8") as out:  # written in pieces: the test itself stays small too
        out.write(HEADER)
        block = line * 10_000
        while out.tell() < 100 * 2**20:
            out.write(block)
    assert path.stat().st_size >= 100 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(UnusableFile, match=r"file too large \(10[01] MB, at most 50 MB\): split it"):
            run(rt, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, f"{peak / 2**20:.1f} MB held while refusing"
    assert count(rt, Visit) == 0
