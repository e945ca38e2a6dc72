"""Visit intake into the database, on SQLite and PostgreSQL, with the shared samples."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from followup.intake.importer import import_visits
from followup.intake.records import UnusableFile
from followup.models import Advisor, AuditEntry, ContactAttempt, Customer, FollowupCase, Visit, WebhookEvent
from followup.runtime import Runtime

# The samples' deliveries are 2026-11-18..20 (Asia/Shanghai); import them "the evening after".
IMPORT_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def run(rt: Runtime, path: Path, **kw: object):  # type: ignore[no-untyped-def]
    rt.clock.set(IMPORT_AT)  # type: ignore[attr-defined]
    return import_visits(path, settings=rt.settings, sessions=rt.sessions, clock=rt.clock, **kw)  # type: ignore[arg-type]


def count(rt: Runtime, model: type) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_gbk_dms_export_creates_40_visits_with_deadlines(rt: Runtime, samples: Path) -> None:
    report = run(rt, samples / "visits_dms_gbk.csv")
    assert report.exit_code == 0 and report.errors == []
    assert report.encoding == "gb18030"
    assert (report.created, report.cases_opened, report.excluded) == (40, 39, 1)
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 40
        rows = s.execute(select(Visit, FollowupCase).join(FollowupCase, FollowupCase.visit_id == Visit.id)).all()
        assert len(rows) == 39
        for visit, case in rows:
            assert case.deadline_at == visit.delivered_at + timedelta(hours=72)
            assert case.state == "scheduled" and case.three_day_rule == "pending"
            assert len(case.reply_code) == 12  # unguessable at the scale of the database (#19)
        internal = s.scalar(select(Visit).where(Visit.ro_number == "RO26110031"))
        assert internal is not None and internal.service_type == "internal"
        assert s.scalar(select(FollowupCase).where(FollowupCase.visit_id == internal.id)) is None
        # 2026/11/18 08:40 Shanghai is 00:40 UTC
        first = s.scalar(select(Visit).where(Visit.ro_number == "RO26110001"))
        assert first is not None and first.delivered_at == datetime(2026, 11, 18, 0, 40, tzinfo=UTC)
        landline_only = s.scalar(
            select(Customer).join(Visit, Visit.customer_id == Customer.id).where(Visit.ro_number == "RO26110007")
        )
        assert landline_only is not None and landline_only.mobile is None and landline_only.phone
        assert s.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.type == "visit.imported")) == 40
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "visit.created")) == 40


def test_reimport_updates_and_never_resets_attempts(rt: Runtime, samples: Path) -> None:
    run(rt, samples / "visits_dms_gbk.csv")
    with rt.sessions() as s:
        case = s.scalars(select(FollowupCase).order_by(FollowupCase.id)).first()
        assert case is not None
        s.add(
            ContactAttempt(
                case_id=case.id, channel="call", number=1, status="done", outcome="no_answer",
                created_at=IMPORT_AT, started_at=IMPORT_AT, ended_at=IMPORT_AT,
            )
        )
        s.commit()
        case_ids = sorted(s.scalars(select(FollowupCase.id)))
    again = run(rt, samples / "visits_dms_gbk.csv")
    assert (again.created, again.updated, again.exit_code) == (0, 40, 0)
    with rt.sessions() as s:
        assert sorted(s.scalars(select(FollowupCase.id))) == case_ids
        assert s.scalar(select(func.count()).select_from(ContactAttempt)) == 1
        assert s.scalar(select(func.count()).select_from(Customer)) == count(rt, Customer)


def test_error_sample_reports_five_rows_and_imports_the_rest(rt: Runtime, samples: Path, tmp_path: Path) -> None:
    report = run(rt, samples / "visits_with_errors.csv")
    assert report.exit_code == 1
    assert sorted({e.row for e in report.errors}) == [4, 6, 8, 10, 12]
    out = tmp_path / "report.csv"
    report.write_csv(out)
    with out.open(encoding="utf-8-sig") as fh:
        lines = list(csv.DictReader(fh))
    assert {(int(r["row"]), r["field"]) for r in lines} == {
        (4, "工单号"), (6, "手机"), (8, "交车时间"), (10, "维修类型"), (12, "手机"),
    }
    assert all(r["reason"] for r in lines)
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 6
        advisor = s.scalar(
            select(Advisor.code).join(Visit, Visit.advisor_id == Advisor.id).where(Visit.ro_number == "RO2611E0002")
        )
        assert advisor == "SA03"
        mileage = s.scalar(select(Visit.mileage_km).where(Visit.ro_number == "RO2611E0002"))
        assert mileage == 24059


def test_xlsx_gives_the_same_visits_as_the_csv(rt: Runtime, samples: Path) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        with rt.sessions() as s:
            return [
                (v.ro_number, v.delivered_at, v.mileage_km, v.service_type, c.mobile, c.phone, c.language)
                for v, c in s.execute(
                    select(Visit, Customer).join(Customer, Customer.id == Visit.customer_id).order_by(Visit.ro_number)
                )
            ]

    csv_report = run(rt, samples / "visits_utf8_bom.csv")
    from_csv = snapshot()
    xlsx_report = run(rt, samples / "visits.xlsx")
    assert (csv_report.created, xlsx_report.created, xlsx_report.updated) == (20, 0, 20)
    assert xlsx_report.exit_code == 0
    assert snapshot() == from_csv
    assert sum(1 for row in from_csv if row[6] == "en") == 2


def test_dry_run_imports_nothing(rt: Runtime, samples: Path) -> None:
    report = run(rt, samples / "visits_with_errors.csv", dry_run=True)
    assert report.exit_code == 1 and len({e.row for e in report.errors}) == 5
    assert count(rt, Visit) == 0 and count(rt, FollowupCase) == 0


def test_late_intake_is_breached_at_once(rt: Runtime, samples: Path) -> None:
    rt.clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    import_visits(samples / "visits_utf8_bom.csv", settings=rt.settings, sessions=rt.sessions, clock=rt.clock)
    with rt.sessions() as s:
        rules = set(s.execute(select(FollowupCase.three_day_rule, FollowupCase.breach_reason)).all())
    assert rules == {("breached", "late_intake")}


def test_unusable_file_imports_nothing(rt: Runtime, tmp_path: Path) -> None:
    bad = tmp_path / "export.csv"
    bad.write_bytes(b"\x00\x01\x02binary\xff\xfe" * 50)
    with pytest.raises(UnusableFile):
        run(rt, bad)
    assert count(rt, Visit) == 0
