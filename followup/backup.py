"""``followup backup``: one consistent copy of the database in one file, audited (R10: an export).

SQLite: SQLite's online backup API copies the database in one step, inside one read transaction,
so the copy is consistent while the worker and the web process keep writing (they wait at most
for that step), and it includes what is committed but still in the ``-wal`` file, which copying
``followup.db`` with ``cp`` would miss. PostgreSQL: ``pg_dump --format=custom`` (one snapshot
too), only the schema the service uses when ``DATABASE_URL`` names one in its ``search_path``.

Restore (the README's "Backups" section says the same):
- SQLite: stop the web process and the worker, copy the backup over the database file (and
  remove any ``-wal``/``-shm`` files beside it), start them again.
- PostgreSQL: stop the web process and the worker, then
  ``pg_restore --clean --if-exists --no-owner -d "$DATABASE_URL_WITHOUT_+psycopg" FILE``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import URL, Engine

from followup import audit
from followup.db import unit_of_work
from followup.runtime import Runtime
from followup.settings import ROOT

DEFAULT_DIR = ROOT / "instance" / "backups"


class BackupError(Exception):
    """The backup could not be taken; the message says why in one sentence."""


@dataclass(frozen=True)
class Backup:
    """A finished backup: where it is, how big, and how to read it."""

    path: Path
    size: int
    format: str  # "sqlite" (a database file) or "pg_dump-custom" (for pg_restore)


def backup_database(rt: Runtime, out: str | Path | None = None, *, actor: str = "cli") -> Backup:
    """Write a consistent copy of ``rt``'s database to ``out`` and record it in the audit log.

    ``out`` is a file, or a folder (one that exists, or written with a trailing ``/``) where the
    backup gets a name from the time it was taken; default ``instance/backups/``.
    """
    now = rt.clock.now()
    folder = out is None or str(out).endswith(("/", os.sep)) or Path(out).is_dir()
    out = DEFAULT_DIR if out is None else Path(out)
    dialect = rt.engine.dialect.name
    if dialect == "sqlite":
        path = _target(out, folder, now, "sqlite3")
        _copy_sqlite(rt.engine, path)
        kind = "sqlite"
    elif dialect == "postgresql":
        path = _target(out, folder, now, "dump")
        _pg_dump(rt.engine.url, path)
        kind = "pg_dump-custom"
    else:
        raise BackupError(f"cannot back up a {dialect} database: only SQLite and PostgreSQL")
    done = Backup(path, path.stat().st_size, kind)
    with unit_of_work(rt.sessions) as s:
        audit.record(s, actor, "database.backup", at=now, path=str(done.path), bytes=done.size, format=kind)
    return done


def _target(out: Path, folder: bool, now: datetime, suffix: str) -> Path:
    """The file to write. A named file is never overwritten; in a folder, each backup gets a new
    name from the time it was taken (UTC), so the next backup never replaces the last."""
    if not folder:
        if out.exists():
            raise BackupError(f"{out} already exists: name another file or a folder with --out")
        out.parent.mkdir(parents=True, exist_ok=True)
        return out
    out.mkdir(parents=True, exist_ok=True)
    stem = f"followup-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    path, n = out / f"{stem}.{suffix}", 2
    while path.exists():
        path, n = out / f"{stem}-{n}.{suffix}", n + 1
    return path


def _partial(path: Path) -> Path:
    """Written first, renamed when complete: a crash never leaves a half file under the final name."""
    return path.with_name(f".{path.name}.partial")


def _copy_sqlite(engine: Engine, path: Path) -> None:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    if not Path(database).is_file():
        raise BackupError(f"the database file {database} does not exist")
    partial = _partial(path)
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # every page in one step: one read transaction, one consistent state
            ok = target.execute("PRAGMA quick_check").fetchone()
        finally:
            target.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"SQLite backup of {database} failed: {exc}") from exc
    finally:
        source.close()
    if not ok or ok[0] != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy of {database} fails SQLite's quick_check: {ok}")
    partial.replace(path)


def libpq_url(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection URI for ``pg_dump``/``pg_restore`` (no ``+psycopg``), and the environment
    carrying the password (so it never shows in a process list)."""
    env = {"PGPASSWORD": url.password} if url.password else {}
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query)  # no password: url.set(password=None) keeps it
    return plain.render_as_string(hide_password=False), env


def search_path_schema(url: URL) -> str | None:
    """The first schema of ``options=-csearch_path=...`` in the URL, where the service's tables are."""
    options = url.query.get("options") or ()
    for option in [options] if isinstance(options, str) else options:
        for word in unquote(option).replace("-c ", "-c").split():
            if word.startswith("-csearch_path="):
                return word.split("=", 1)[1].split(",")[0].strip().strip('"') or None
    return None


def _pg_dump(url: URL, path: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump not found: install the PostgreSQL client (Debian: apt-get install postgresql-client, "
            "of the server's major version or newer)"
        )
    uri, secret_env = libpq_url(url)
    cmd = [pg_dump, "--format=custom", "--no-owner", f"--file={_partial(path)}", f"--dbname={uri}"]
    schema = search_path_schema(url)
    if schema:
        cmd.insert(-1, f"--schema={schema}")
    _partial(path).unlink(missing_ok=True)
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **secret_env})
    except OSError as exc:
        raise BackupError(f"pg_dump did not start: {exc}") from exc
    if result.returncode != 0:
        _partial(path).unlink(missing_ok=True)
        message = " ".join(result.stderr.split()) or f"exit status {result.returncode}"
        raise BackupError(f"pg_dump failed: {message}")
    _partial(path).replace(path)
