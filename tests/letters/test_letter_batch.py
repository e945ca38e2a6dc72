"""The daily letter batch: one A4 page per letter with an embedded CJK font and the customer's
name, plate and reply code in its text; nothing printed when nothing is queued; letters that
cannot be posted are held for staff; `followup letters build` (CONTRACT §3)."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from letter_world import case_row, queue_letter
from pypdf import PdfReader
from sqlalchemy import func, select

from followup.cli import main
from followup.letters.letter_batch import build_batch
from followup.models import ContactAttempt, Customer, FollowupCase, LetterBatch, Visit
from followup.rules.reply_code import grouped
from followup.runtime import Runtime

DAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # 17:00 in Shenzhen
CUSTOMERS = [
    {"customer_name": "张伟", "plate": "粤B12345"},
    {"customer_name": "欧阳娜娜", "plate": "粤B6N7Q8", "vehicle_model": "途观L"},
    {"customer_name": "Emily Chen", "plate": "粤BD00001", "language": "en",
     "address": "Flat 12B, 88 Keyuan Road, Nanshan District, Shenzhen"},
]


def queue(rt: Runtime, customers: list[dict[str, object]]) -> list[int]:
    """Letters queued for these customers, none printed yet."""
    return [queue_letter(rt, n, **c) for n, c in enumerate(customers, start=1)]


def build(rt: Runtime, day: date = DAY) -> tuple[LetterBatch | None, list[tuple[int, str]]]:
    with rt.sessions() as s:
        result = build_batch(s, rt.settings, "SZ01", day, now=NOW, actor="test")
        s.commit()
        if result.batch is not None:
            s.refresh(result.batch)
            s.expunge(result.batch)
        return result.batch, result.held


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdf_fonts(path: Path) -> str:
    return subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout


@pytest.mark.slow
def test_the_batch_pdf_has_one_page_per_letter_with_an_embedded_cjk_font(rt: Runtime, tmp_path: Path) -> None:
    case_ids = queue(rt, CUSTOMERS)
    batch, held = build(rt)
    assert batch is not None and held == []
    assert batch.letters == 3
    pdf = tmp_path / "batch.pdf"
    pdf.write_bytes(batch.pdf)

    reader = PdfReader(pdf)
    assert len(reader.pages) == 3
    for page in reader.pages:  # A4 portrait, in points
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    fonts = pdf_fonts(pdf)
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK" in line or "Noto-Serif-CJK" in line]
    assert cjk, fonts
    assert all(" yes " in line.split("Identity-H", 1)[1] for line in cjk)  # emb = yes: Chinese cannot turn into boxes

    codes = [case_row(rt, i).reply_code for i in case_ids]
    for page_no, (customer, code) in enumerate(zip(CUSTOMERS, codes, strict=True)):
        text = reader.pages[page_no].extract_text()
        assert str(customer["customer_name"]) in text
        assert str(customer["plate"]) in text
        assert grouped(code) in text  # printed grouped for reading: B72Y-SPK4-MQ8R
        assert f"/s/{code}" in text.replace("\n", "")  # the short link under the QR code (it may wrap)
    whole = pdf_text(pdf)
    assert "服务满意度问卷" in whole and "Satisfaction survey" in whole  # each letter in its customer's language

    rows = list(csv.reader(io.StringIO(batch.address_csv.lstrip("\ufeff"))))
    assert [r[1] for r in rows[1:]] == [c["customer_name"] for c in CUSTOMERS]
    assert [r[5] for r in rows[1:]] == codes
    labels = tmp_path / "labels.pdf"
    labels.write_bytes(batch.labels_pdf)
    assert "欧阳娜娜" in pdf_text(labels)


def test_no_letter_queued_builds_no_batch_and_no_pdf(rt: Runtime) -> None:
    batch, held = build(rt)
    assert batch is None and held == []
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LetterBatch)) == 0


def _set_customer(rt: Runtime, case_id: int, **values: object) -> None:
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        customer = s.get_one(Customer, s.get_one(Visit, case.visit_id).customer_id)
        for k, v in values.items():
            setattr(customer, k, v)
        s.commit()


@pytest.mark.parametrize(("change", "reason"), [
    ({"address": ""}, "letter_no_address"),
    ({"address": "深圳市" + "南山区科技园" * 25}, "letter_no_address"),  # too long for the envelope window
    ({"no_contact": True}, "letter_no_contact"),
])
def test_a_letter_that_cannot_be_posted_is_held_and_flagged(rt: Runtime, change: dict[str, object], reason: str) -> None:
    held_case, good_case = queue(rt, CUSTOMERS[:2])
    _set_customer(rt, held_case, **change)
    batch, held = build(rt)
    assert held == [(held_case, reason)]
    assert batch is not None and batch.letters == 1
    case = case_row(rt, held_case)
    assert case.flagged and case.flag_reason == reason
    assert not case_row(rt, good_case).flagged
    with rt.sessions() as s:  # still queued: printed once staff fix the address
        letter = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == held_case,
                                                        ContactAttempt.channel == "letter")).one()
        assert (letter.status, letter.outcome) == ("in_progress", "queued")


def test_new_letters_join_the_days_batch_until_it_is_printed(rt: Runtime) -> None:
    from followup.letters.mailing import mark_printed

    queue(rt, CUSTOMERS[:1])
    first, _ = build(rt)
    queue_letter(rt, 2, **CUSTOMERS[1])
    again, _ = build(rt)
    assert first is not None and again is not None
    assert again.id == first.id and again.letters == 2 and again.seq == 1
    with rt.sessions() as s:
        mark_printed(s, s.get_one(LetterBatch, first.id), now=NOW, actor="test")
        s.commit()
    queue_letter(rt, 3, **CUSTOMERS[2])
    third, _ = build(rt)
    assert third is not None and third.id != first.id and (third.seq, third.letters) == (2, 1)


def _cli(rt: Runtime, *args: str):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": rt.settings.database_url, "FOLLOWUP_ENV": "test", "FOLLOWUP_TEST_CLOCK": "1",
           "FOLLOWUP_CONFIG": None}
    return CliRunner().invoke(main, ["letters", "build", *args], env=env)


def test_cli_letters_build_prints_each_file_and_writes_no_pdf_when_nothing_is_queued(rt: Runtime, tmp_path: Path) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    out = tmp_path / "letters"
    empty = _cli(rt, "--out", str(out), "--date", "2026-11-22")
    assert empty.exit_code == 0, empty.output
    assert "no PDF written" in empty.output and not list(out.glob("*.pdf"))

    queue(rt, CUSTOMERS[:2])
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    result = _cli(rt, "--store", "SZ01", "--out", str(out))
    assert result.exit_code == 0, result.output
    paths = [Path(line) for line in result.output.splitlines()]
    assert [p.name for p in paths] == ["SZ01-2026-11-22-1.pdf", "SZ01-2026-11-22-1-addresses.csv",
                                       "SZ01-2026-11-22-1-labels.pdf"]
    assert all(p.is_file() for p in paths)
    assert len(PdfReader(paths[0]).pages) == 2
    bad = _cli(rt, "--store", "XX99", "--out", str(out))
    assert bad.exit_code != 0 and "XX99" in bad.output
