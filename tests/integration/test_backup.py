"""``followup backup`` and the restore notes: a backup restores to the very rows it was taken from.

SQLite: the copy holds what is committed but still in the ``-wal`` file (a ``cp`` of the database
file does not), and never half a transaction while another process writes. PostgreSQL: the
``pg_dump`` archive of the service's schema restores with the README's ``pg_restore`` line, over
the changed schema and into a fresh one.
"""

from __future__ import annotations

import gc
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url

from followup.backup import libpq_url, search_path_schema
from followup.cli import main
from followup.db import make_engine
from tests.conftest import PG_URL, new_pg_schema

Snapshot = dict[str, list[tuple[str, ...]]]


class Cli:
    """``followup …`` against one database, with the test clock on."""

    def __init__(self, url: str) -> None:
        self.env: dict[str, str | None] = {
            "DATABASE_URL": url, "FOLLOWUP_ENV": "test", "FOLLOWUP_TEST_CLOCK": "1", "FOLLOWUP_CONFIG": None,
        }

    def __call__(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env={**self.env, **(env or {})})

    def ready(self, samples: Path) -> None:
        """Migrated, the clock set, the samples' visits imported (cases, customers, audit rows)."""
        assert self("db", "upgrade").exit_code == 0
        assert self("clock", "set", "2026-11-20T20:00:00+08:00").exit_code == 0
        assert self("import-visits", str(samples / "visits_utf8_bom.csv")).exit_code == 0


def snapshot(url: str) -> Snapshot:
    """Every row of every table (the Alembic version too), as text, in a stable order."""
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as c:
            return {
                name: sorted(tuple(str(v) for v in row) for row in c.execute(select(table)))
                for name, table in sorted(meta.tables.items())
            }
    finally:
        engine.dispose()


def backed_up_path(result: Result) -> Path:
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout  # the path, alone: `cp "$(followup backup)" …` works
    return Path(lines[0])


def backup_audit_rows(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(text("SELECT actor, detail FROM audit_log WHERE action = 'database.backup'"))
            return [(actor, str(detail)) for actor, detail in rows]
    finally:
        engine.dispose()


# --- SQLite -----------------------------------------------------------------------------------------


def test_a_sqlite_backup_restores_to_the_same_rows_wal_included(tmp_path: Path, samples: Path) -> None:
    db = tmp_path / "live.db"
    url = f"sqlite:///{db}"
    cli = Cli(url)
    cli.ready(samples)

    # Another process's committed change, still in followup.db-wal: nothing checkpoints it while
    # this connection stays open (as the worker's would).
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE stores SET name = name || ' (renamed before the backup)'")
    writer.commit()
    before = snapshot(url)
    assert any("renamed before the backup" in str(row) for row in before["stores"])

    naive = tmp_path / "cp.db"
    shutil.copyfile(db, naive)  # what `cp followup.db` would have kept
    out = tmp_path / "backups" / "monday.sqlite3"
    path = backed_up_path(cli("backup", "--out", str(out)))
    writer.close()
    assert path == out and out.is_file()
    copied = snapshot(f"sqlite:///{naive}").get("stores", [])  # often not even the tables: all in the -wal
    assert not any("renamed before the backup" in str(row) for row in copied)
    assert [actor for actor, _ in backup_audit_rows(url)] == ["cli"]  # R10: the export is audited
    assert str(out) in backup_audit_rows(url)[0][1]

    # Life goes on after the backup: more visits come in.
    assert cli("import-visits", str(samples / "visits_dms_gbk.csv")).exit_code == 0
    assert snapshot(url) != before

    # Restore as the README says: service stopped, the file copied back, -wal/-shm removed.
    gc.collect()  # "stopped": the connections the in-process commands left in their pools are closed
    shutil.copyfile(out, db)
    for leftover in (tmp_path / "live.db-wal", tmp_path / "live.db-shm"):
        leftover.unlink(missing_ok=True)
    assert snapshot(url) == before
    assert cli("db", "upgrade").exit_code == 0  # the restored database is at head and usable


def test_a_sqlite_backup_taken_while_the_worker_writes_holds_whole_transactions(tmp_path: Path, samples: Path) -> None:
    db = tmp_path / "busy.db"
    cli = Cli(f"sqlite:///{db}")
    cli.ready(samples)
    stop = threading.Event()

    def worker() -> None:  # two audit rows per transaction, as fast as it can
        conn = sqlite3.connect(db, timeout=30)
        n = 0
        while not stop.is_set():
            with conn:
                for half in ("a", "b"):
                    conn.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES "
                                 "('2026-11-20 12:00:00', 'system', ?, '{}')", (f"pair.{half}",))
            n += 1
        conn.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        paths = [backed_up_path(cli("backup", "--out", f"{tmp_path / 'backups'}/")) for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    assert len(set(paths)) == 3  # a folder gets a new name each time, never overwrites the last
    for path in paths:
        copy = sqlite3.connect(path)
        counts = dict(copy.execute("SELECT action, count(*) FROM audit_log WHERE action LIKE 'pair.%' GROUP BY action"))
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copy.close()
        assert counts.get("pair.a", 0) == counts.get("pair.b", 0)


def test_a_backup_never_overwrites_a_file(tmp_path: Path, samples: Path) -> None:
    cli = Cli(f"sqlite:///{tmp_path / 'live.db'}")
    cli.ready(samples)
    kept = tmp_path / "last-week.sqlite3"
    kept.write_bytes(b"last week's backup")
    result = cli("backup", "--out", str(kept))
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "Traceback" not in result.output
    assert kept.read_bytes() == b"last week's backup"
    assert backup_audit_rows(cli.env["DATABASE_URL"] or "") == []  # nothing taken, nothing audited


def test_pg_dump_gets_the_password_by_environment_never_on_its_command_line() -> None:
    url = make_url("postgresql+psycopg://app:s3cr%40t@db:5432/followup?options=-csearch_path%3Dshop,public")
    uri, env = libpq_url(url)
    assert uri == "postgresql://app@db:5432/followup?options=-csearch_path%3Dshop%2Cpublic"
    assert env == {"PGPASSWORD": "s3cr@t"}
    assert search_path_schema(url) == "shop"
    assert search_path_schema(make_url("postgresql+psycopg://app@db/followup")) is None


# --- PostgreSQL -------------------------------------------------------------------------------------


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A schema of this test's own on the test server; its URL. Dropped afterwards."""
    with new_pg_schema("bk") as url:
        yield url


def pg_restore(url: str, archive: Path, *, clean: bool) -> None:
    """The README's restore line: pg_restore [--clean --if-exists] --no-owner -d URL FILE."""
    uri, env = libpq_url(make_url(url))
    cmd = ["pg_restore", *(["--clean", "--if-exists"] if clean else []), "--no-owner", "--exit-on-error",
           "-d", uri, str(archive)]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**env, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


@pytest.mark.postgres
def test_a_postgresql_backup_restores_over_the_schema_and_into_a_fresh_one(
    pg_schema: str, tmp_path: Path, samples: Path
) -> None:
    cli = Cli(pg_schema)
    cli.ready(samples)
    before = snapshot(pg_schema)
    assert before["visits"] and before["cases"] and before["audit_log"]

    path = backed_up_path(cli("backup", "--out", str(tmp_path)))
    assert path.parent == tmp_path and path.suffix == ".dump" and path.read_bytes()[:5] == b"PGDMP"
    assert [actor for actor, _ in backup_audit_rows(pg_schema)] == ["cli"]

    assert cli("import-visits", str(samples / "visits_dms_gbk.csv")).exit_code == 0
    assert snapshot(pg_schema) != before

    pg_restore(pg_schema, path, clean=True)  # over the changed schema
    assert snapshot(pg_schema) == before

    schema = search_path_schema(make_url(pg_schema))
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()
    pg_restore(pg_schema, path, clean=False)  # into a fresh one: the archive creates the schema
    assert snapshot(pg_schema) == before

    # The restored schema works: at head, writable (sequences restored), audit still append-only.
    assert cli("db", "upgrade").exit_code == 0
    assert cli("import-visits", str(samples / "visits_dms_gbk.csv")).exit_code == 0
    engine = make_engine(pg_schema)
    try:
        with pytest.raises(Exception, match="append-only"), engine.begin() as c:
            c.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_without_pg_dump_the_backup_says_what_to_install(pg_schema: str, tmp_path: Path, samples: Path) -> None:
    cli = Cli(pg_schema)
    cli.ready(samples)
    result = cli("backup", "--out", str(tmp_path), env={"PATH": str(tmp_path)})
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in result.output
    assert "pg_dump not found" in message and "postgresql-client" in message
    assert list(tmp_path.iterdir()) == [] and backup_audit_rows(pg_schema) == []
