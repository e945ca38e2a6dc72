"""Opening visits files: encodings, kinds, headers, row numbering and files refused as a whole."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from followup.intake import FIELDS, HEADER_ALIASES, UnusableFile, normalise_header, open_table
from followup.intake.encoding import CHUNK_SIZE

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
HEADER = "store_code,ro_number,customer_name,mobile,advisor_code,service_type,delivered_at"
ROW = "SZ01,RO1,张三,13800138000,SA01,保养,2026/11/20 16:30"
PLAIN_ROW = "SZ01,RO1,{name},13800138000,SA01,maintenance,2026-11-20 16:30"
CN_HEADER = "门店代码,工单号,客户姓名,手机,服务顾问工号,维修类型,交车时间"


def write(tmp_path: Path, content: bytes | str, name: str = "visits.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def refused(path: Path, *, store_given: bool = False) -> str:
    with pytest.raises(UnusableFile) as info:
        open_table(path, store_given=store_given)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- the shared samples ---------------------------------------------------------------------------


def test_dms_export_is_read_as_gb18030_without_being_told() -> None:
    with open_table(SAMPLES / "visits_dms_gbk.csv") as table:
        assert (table.kind, table.encoding, table.total_rows) == ("csv", "gb18030", 40)
        assert table.header_for("ro_number") == "工单号"
        assert table.header_for("language") == "language"  # no such column: the field name
        rows = list(table.rows())
    assert [number for number, _ in rows] == list(range(2, 42))
    assert rows[0][1]["customer_name"] == "赵宇航"
    assert rows[11][1]["mobile"] == "138 0013 0012"
    assert set(rows[0][1]) == set(FIELDS) - {"language"}


def test_utf8_bom_sample() -> None:
    with open_table(SAMPLES / "visits_utf8_bom.csv") as table:
        assert (table.kind, table.encoding, table.total_rows) == ("csv", "utf-8-sig", 20)
        assert table.header_for("store_code") == "store_code"  # the BOM is not part of the name
        assert sum(1 for _ in table.rows()) == 20


def test_xlsx_sample_streams_typed_cells() -> None:
    with open_table(SAMPLES / "visits.xlsx") as table:
        assert (table.kind, table.encoding, table.total_rows) == ("xlsx", None, 20)
        rows = dict(table.rows())
    assert rows[4]["mobile"] == 13800138002
    assert rows[2]["mileage_km"] == 59455
    assert rows[2]["delivered_at"].__class__.__name__ == "datetime"


def test_errors_sample_is_plain_utf8() -> None:
    with open_table(SAMPLES / "visits_with_errors.csv") as table:
        assert (table.encoding, table.total_rows) == ("utf-8", 12)
        assert table.header_for("mobile") == "手机"


# --- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("门店代码", "store_code"),
        ("工单号", "ro_number"),
        ("客户姓名", "customer_name"),
        ("手机", "mobile"),
        ("手机号码", "mobile"),
        ("电话", "phone"),
        ("地址", "address"),
        ("车牌号", "plate"),
        ("车架号", "vin"),
        ("车型", "vehicle_model"),
        ("服务顾问工号", "advisor_code"),
        ("服务顾问", "advisor_name"),
        ("维修类型", "service_type"),
        ("交车时间", "delivered_at"),
        ("里程", "mileage_km"),
        ("语言", "language"),
        (" Store Code ", "store_code"),
        ("RO_NUMBER", "ro_number"),
        ("ｍｏｂｉｌｅ", "mobile"),
        ("Delivered-At", "delivered_at"),
        ("VIN", "vin"),
    ],
)
def test_header_aliases(header: str, field: str) -> None:
    assert HEADER_ALIASES[normalise_header(header)] == field


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8", "utf-8-sig"])
def test_chinese_headers_in_any_order_with_extra_columns(tmp_path: Path, encoding: str) -> None:
    content = (
        "备注,交车时间,维修类型,服务顾问工号,电话,客户姓名,工单号,门店代码\r\n"
        "老客户,2026/11/20 16:30,保养,SA01,0755-26605049,王波,RO9,SZ01\r\n"
    )
    with open_table(write(tmp_path, content, encoding=encoding)) as table:
        expected = "gb18030" if encoding.startswith("gb") else encoding
        assert table.encoding == expected
        assert table.header_for("phone") == "电话"
        [(number, raw)] = list(table.rows())
    assert number == 2
    assert raw == {
        "delivered_at": "2026/11/20 16:30",
        "service_type": "保养",
        "advisor_code": "SA01",
        "phone": "0755-26605049",
        "customer_name": "王波",
        "ro_number": "RO9",
        "store_code": "SZ01",
    }


def test_header_only_is_a_valid_file_with_no_rows(tmp_path: Path) -> None:
    with open_table(write(tmp_path, CN_HEADER + "\r\n", encoding="gb18030")) as table:
        assert table.total_rows == 0
        assert list(table.rows()) == []


def test_store_column_optional_when_store_given(tmp_path: Path) -> None:
    path = write(tmp_path, "ro_number,customer_name,phone,advisor_code,service_type,delivered_at\n")
    assert "store_code (门店代码)" in refused(path)
    with open_table(path, store_given=True) as table:
        assert table.header_for("store_code") == "store_code"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER.replace("ro_number,", ""), "missing required column: ro_number (工单号)"),
        (CN_HEADER.replace("工单号,", ""), "missing required column: ro_number (工单号)"),
        (HEADER.replace("mobile,", ""), "missing required column: mobile (手机) or phone (电话)"),
        ("a,b,c", "missing required columns: store_code (门店代码), ro_number (工单号)"),
        (HEADER.replace(",", ";"), "wrong delimiter"),
        (HEADER.replace(",", "\t"), "wrong delimiter"),
        (HEADER + ",手机号码", "two columns for mobile (手机)"),
    ],
)
def test_bad_header_rows(tmp_path: Path, header: str, message: str) -> None:
    assert message in refused(write(tmp_path, header + "\n" + ROW + "\n"))


# --- rows -----------------------------------------------------------------------------------------


def test_blank_rows_skipped_and_numbers_kept(tmp_path: Path) -> None:
    content = f"{HEADER}\n{ROW}\n\n,,,,,,\n  , ,\n{ROW.replace('RO1', 'RO2')}\n"
    with open_table(write(tmp_path, content)) as table:
        assert table.total_rows == 2
        assert [(n, raw["ro_number"]) for n, raw in table.rows()] == [(2, "RO1"), (6, "RO2")]


def test_quoted_multiline_cell_counts_as_one_spreadsheet_row(tmp_path: Path) -> None:
    content = f'{HEADER},address\n{ROW},"深圳市\n福田区"\n{ROW.replace("RO1", "RO2")},x\n'
    with open_table(write(tmp_path, content)) as table:
        rows = list(table.rows())
    assert [n for n, _ in rows] == [2, 3]
    assert rows[0][1]["address"] == "深圳市\n福田区"


def test_short_rows_give_none(tmp_path: Path) -> None:
    with open_table(write(tmp_path, f"{HEADER}\nSZ01,RO1\n")) as table:
        [(_, raw)] = list(table.rows())
    assert raw["ro_number"] == "RO1" and raw["delivered_at"] is None


def test_a_5000_character_field_is_read_whole(tmp_path: Path) -> None:
    long_name = "张" * 5000
    with open_table(
        write(tmp_path, f"{HEADER}\n{ROW.replace('张三', long_name)}\n", encoding="gb18030")
    ) as t:
        [(_, raw)] = list(t.rows())
    assert raw["customer_name"] == long_name


def test_gb18030_across_chunk_boundaries(tmp_path: Path) -> None:
    rows = "".join(f"SZ01,RO{i},深圳王{i},13800138000,SA01,保养,2026/11/20 16:30\r\n" for i in range(3000))
    path = write(tmp_path, HEADER + "\r\n" + rows, encoding="gb18030")
    assert path.stat().st_size > 2 * CHUNK_SIZE
    with open_table(path) as table:
        assert (table.encoding, table.total_rows) == ("gb18030", 3000)


def test_rows_can_be_read_twice_and_close_is_idempotent(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, f"{HEADER}\n{ROW}\n"))
    assert list(table.rows()) == list(table.rows())
    iterator = table.rows()
    next(iterator)
    table.close()
    table.close()


# --- files refused as a whole ---------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in refused(tmp_path / "nope.csv")
    assert "not a file" in refused(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b" , ,\n"])
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    assert "empty file" in refused(write(tmp_path, content))


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 4,  # random-looking binary with NULs
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        (HEADER + "\n" + ROW.replace("张三", "张\x00三") + "\n").encode(),  # a NUL inside a cell
        b"\xff\xfe" + HEADER.encode("utf-16-le"),  # UTF-16 "Unicode text" from Excel
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,  # legacy .xls
    ],
)
def test_binary_files(tmp_path: Path, content: bytes) -> None:
    message = refused(write(tmp_path, content))
    assert "binary" in message or "UTF-16" in message


@pytest.mark.parametrize(
    "content",
    [
        (HEADER + "\n" + PLAIN_ROW.format(name="Ren\xe9e M\xfcller") + "\n").encode("latin-1"),
        (HEADER + "\n" + PLAIN_ROW.format(name="Caf\xe9 Cr\xe8me, Zo\xeb") + "\n").encode("latin-1"),
        (HEADER + "\n" + PLAIN_ROW.format(name="山田タロウ") + "\n").encode("shift_jis"),
        (HEADER + "\n" + PLAIN_ROW.format(name="山田太郎") + "\n").encode("shift_jis"),
        (HEADER + "\n" + ROW + "\n").encode("utf-8") + b"\x81\x20",
        (HEADER + "\n").encode() + b"\xff\xfe\x01\x80\x81\x20",
    ],
)
def test_neither_utf8_nor_gb18030(tmp_path: Path, content: bytes) -> None:
    assert "unsupported text encoding" in refused(write(tmp_path, content))


def test_a_bad_byte_at_the_very_end_refuses_the_whole_file(tmp_path: Path) -> None:
    rows = "".join(f"SZ01,RO{i},王{i},13800138000,SA01,保养,2026/11/20 16:30\n" for i in range(5000))
    path = write(tmp_path, (HEADER + "\n" + rows).encode("gb18030") + b"\x81\x20\n")
    assert path.stat().st_size > 2 * CHUNK_SIZE
    assert "unsupported text encoding (invalid bytes on line 5002)" in refused(path)


def test_xlsx_name_on_a_text_file(tmp_path: Path) -> None:
    assert "not a valid XLSX" in refused(write(tmp_path, HEADER + "\n", name="visits.xlsx"))


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "visits.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("visits.csv", HEADER)
    assert "XLSX" in refused(path)


def test_truncated_zip(tmp_path: Path) -> None:
    good = (SAMPLES / "visits.xlsx").read_bytes()
    assert "XLSX" in refused(write(tmp_path, good[: len(good) // 2], name="visits.xlsx"))


# --- generated workbooks --------------------------------------------------------------------------


def make_workbook(tmp_path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / "generated.xlsx"
    book.save(path)
    return path


def test_xlsx_with_chinese_headers_blank_rows_and_formulas(tmp_path: Path) -> None:
    header = CN_HEADER.split(",")
    path = make_workbook(
        tmp_path,
        [
            header,
            ["SZ01", "RO1", '=HYPERLINK("http://x")', 13800138000, "SA01", "保养", 46345.5],
            [None] * 7,
            ["SZ01", "RO2", "李四", "13800138001", "SA01", "维修", "2026/11/20 16:30"],
        ],
    )
    with open_table(path) as table:
        assert (table.kind, table.total_rows) == ("xlsx", 2)
        assert table.header_for("customer_name") == "客户姓名"
        rows = list(table.rows())
    assert [n for n, _ in rows] == [2, 4]
    # data_only: a formula never computed by Excel has no value; it is never evaluated here
    assert rows[0][1]["customer_name"] is None
    assert rows[0][1]["mobile"] == 13800138000


def test_xlsx_header_only_and_empty(tmp_path: Path) -> None:
    with open_table(make_workbook(tmp_path, [HEADER.split(",")])) as table:
        assert table.total_rows == 0 and list(table.rows()) == []
    assert "empty file" in refused(make_workbook(tmp_path, []))


def test_xlsx_missing_column(tmp_path: Path) -> None:
    header = HEADER.replace(",delivered_at", "").split(",")
    assert "missing required column: delivered_at (交车时间)" in refused(make_workbook(tmp_path, [header]))
