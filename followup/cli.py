"""The ``followup`` command (CONTRACT §3). Every error is one clear line, never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from followup.settings import ConfigError, load_settings


def _fail(message: str, code: int = 2) -> NoReturn:
    one_line = " ".join(str(message).split())  # driver messages span lines
    click.echo(f"followup: {one_line}", err=True)
    sys.exit(code)


def _actor() -> str:
    """Who runs the command, as the audit log names them (R10): ``cli:<os user>``, or ``cli``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "cli"


def _runtime(*, migrated: bool = True) -> Any:
    from followup.runtime import build_runtime
    from followup.schema import is_current

    try:
        rt = build_runtime(load_settings())
    except ConfigError as exc:
        _fail(str(exc))
    except (ArgumentError, ImportError) as exc:  # an unknown dialect, or its driver is not installed
        _fail(f"config error: DATABASE_URL: cannot use this database: {exc}")
    if migrated:
        try:
            current = is_current(rt.engine)
        except SQLAlchemyError as exc:
            _fail(f"cannot reach the database ({rt.engine.url.render_as_string()}): {getattr(exc, 'orig', exc)}")
        if not current:
            _fail("the database has no schema yet: run `followup db upgrade` first")
    return rt


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """followup: after-sales follow-up (售后回访) for car dealerships."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema (Alembic) and the configured stores."""
    from followup.db import unit_of_work
    from followup.runtime import sync_stores
    from followup.schema import upgrade

    rt = _runtime(migrated=False)
    try:
        upgrade(rt.engine)
    except SQLAlchemyError as exc:
        _fail(f"cannot reach the database ({rt.engine.url.render_as_string()}): {getattr(exc, 'orig', exc)}")
    with unit_of_work(rt.sessions) as s:
        sync_stores(s, rt.settings)
    click.echo(f"database at head: {rt.engine.url.render_as_string()}")


@main.command()
@click.option("--out", help="the file to write, or a folder (an existing one, or ending in /); default instance/backups/")
def backup(out: str | None) -> None:
    """Write a consistent copy of the database (SQLite file, or pg_dump archive); prints its path."""
    from followup.backup import BackupError, backup_database

    rt = _runtime()
    try:
        done = backup_database(rt, out, actor="cli")
    except BackupError as exc:
        _fail(str(exc))
    click.echo(str(done.path))


def _progress_printer() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        pct = 100 * done // total if total else 100
        click.echo(f"\r  {done:,} / {total:,} rows ({pct}%)", err=True, nl=done >= total)

    return show


@main.command("import-visits")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--store", help="store code for files without a store_code column")
@click.option("--dry-run", is_flag=True, help="check every row and report, import nothing")
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="write the row report CSV here")
def import_visits_cmd(path: Path, store: str | None, dry_run: bool, report_path: Path | None) -> None:
    """Import a CSV or XLSX of visits (exit 0 all accepted, 1 some rejected, 2 file unusable)."""
    from followup.intake.importer import import_visits
    from followup.intake.records import UnusableFile

    rt = _runtime()
    try:
        report = import_visits(
            path, settings=rt.settings, sessions=rt.sessions, clock=rt.clock, store=store,
            dry_run=dry_run, actor="cli", progress=_progress_printer(),
        )
    except UnusableFile as exc:
        _fail(f"{path}: {exc} (nothing imported)")
    click.echo(report.summary())
    for err in report.errors[:20]:
        click.echo(f"  row {err.row}, {report.headers.get(err.field, err.field)}: {err.reason}")
    if len(report.errors) > 20:
        click.echo(f"  … {len(report.errors) - 20} more in the report")
    if report_path:
        report.write_csv(report_path)
        click.echo(f"report: {report_path}")
    sys.exit(report.exit_code)


@main.command()
@click.option("--now", "now_text", help="move the test clock to this ISO 8601 instant first")
def tick(now_text: str | None) -> None:
    """One scheduler pass; prints one JSON line of counts."""
    from followup.clock import TestClock, parse_instant
    from followup.engine.tick import run_tick

    rt = _runtime()
    if now_text:
        if not isinstance(rt.clock, TestClock):
            _fail("--now needs the test clock (FOLLOWUP_TEST_CLOCK=1)")
        try:
            rt.clock.set(parse_instant(now_text))
        except ValueError as exc:
            _fail(str(exc))
    try:
        counts = run_tick(rt)
    except RuntimeError as exc:
        _fail(str(exc))
    click.echo(json.dumps(counts, sort_keys=True))


@main.command()
def worker() -> None:
    """The long-running scheduler (APScheduler) that ticks."""
    from followup.worker import run_worker

    rt = _runtime()
    try:
        run_worker(rt)
    except RuntimeError as exc:
        _fail(str(exc))


@main.command()
@click.option("--store", "stores", multiple=True, help="only this store (repeatable); default every store")
def doctor(stores: tuple[str, ...]) -> None:
    """Check RULES R3 (every open case has a next step) and R7 (every complaint a way forward).

    Exit 0 when none breaks them; 1 with each case and complaint that does, one per line."""
    from followup.cases.next_step import check

    rt = _runtime()
    unknown = [code for code in stores if code not in rt.settings.stores]
    if unknown:
        _fail(f"unknown store {unknown[0]!r} (configured: {', '.join(rt.settings.stores)})")
    try:
        with rt.sessions() as s:
            found = check(s, rt.settings, rt.clock.now(), store_codes=list(stores) or None)
    except SQLAlchemyError as exc:
        _fail(f"cannot read the database: {getattr(exc, 'orig', exc)}")
    if found.ok:
        click.echo(f"OK: {found.open_cases} open cases, each with a next step; "
                   f"{found.open_complaints} complaints, each with a way forward")
        return
    for c in found.cases:
        click.echo(f"case without a next step: {c.store_code} {c.ro_number} (case {c.case_id}, state {c.state}): "
                   f"{c.reason}")
    for k in found.complaints:
        click.echo(f"complaint without a way forward: {k.store_code} {k.ro_number} (complaint {k.complaint_id}, "
                   f"level {k.level}, {k.status}): {k.problem}")
    click.echo(f"{len(found.cases)} of {found.open_cases} open cases without a next step (RULES R3); "
               f"{len(found.complaints)} of {found.open_complaints} complaints without a way forward (RULES R7)")
    sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def web(host: str, port: int) -> None:
    """Development web server (production: the Procfile's gunicorn line)."""
    from followup.web import create_app

    rt = _runtime()
    create_app(runtime=rt).run(host=host, port=port, debug=False, use_reloader=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def dev(host: str, port: int) -> None:
    """`make run`: demo data, the worker in a second process, the web server in this one."""
    from followup.sandbox.demo_data import run_dev

    rt = _runtime()
    if rt.settings.env == "production":
        # the demo makes admin / followup-demo and lets invented customers answer: never in production
        _fail("config error: FOLLOWUP_ENV: `followup dev` (demo data, demo logins, the sandbox) is refused "
              "in production; run the Procfile's processes")
    run_dev(rt, host=host, port=port)


@main.group()
def users() -> None:
    """Admin-panel users."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["info_staff", "advisor", "manager", "admin"]))
@click.option("--store", "stores", multiple=True, help="store code (repeat for several)")
def users_add(username: str, role: str, stores: tuple[str, ...]) -> None:
    """Create or update a user; the password is the first line of stdin."""
    from followup.accounts import AccountError, add_user
    from followup.db import unit_of_work

    password = sys.stdin.readline().rstrip("\r\n")
    rt = _runtime()
    try:
        with unit_of_work(rt.sessions) as s:
            add_user(s, username, password, role, list(stores), now=rt.clock.now(), actor=_actor())
    except AccountError as exc:
        _fail(str(exc))
    click.echo(f"user {username} ({role}) saved")


@users.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Lift USERNAME's login lock at once (after 10 failed logins), audited."""
    from followup.accounts import AccountError
    from followup.db import unit_of_work
    from followup.login_limits import unlock

    rt = _runtime()
    try:
        with unit_of_work(rt.sessions) as s:
            cleared = unlock(s, username, now=rt.clock.now(), actor=_actor())
    except AccountError as exc:
        _fail(str(exc))
    click.echo(f"user {username} unlocked ({cleared} failed logins no longer count)")


@main.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.argument("name")
@click.option("--user", "username", help="the token acts as this user (the call worklist API needs one)")
@click.option("--store", help="the one store the token may read and write (default: every store)")
@click.option("--scope", type=click.Choice(["read", "write", "worklist"]),
              help="read; write (read and write); worklist (default: read, write and the worklist)")
@click.option("--expires", help="how long the token lasts: 90d, 12h, 30m (default: no expiry)")
def tokens_create(name: str, username: str | None, store: str | None, scope: str | None,
                  expires: str | None) -> None:
    """Print a new API token once, alone on the last line."""
    from followup.accounts import AccountError, create_token
    from followup.db import unit_of_work
    from followup.settings import parse_duration

    try:
        expires_in = parse_duration(expires, "--expires") if expires else None
    except ConfigError as exc:
        _fail(str(exc))
    rt = _runtime()
    try:
        with unit_of_work(rt.sessions) as s:
            token = create_token(s, name, now=rt.clock.now(), actor=_actor(), user=username, store=store, scope=scope,
                                 expires_in=expires_in)
    except AccountError as exc:
        _fail(str(exc))
    limits = [f"as {username}" if username else "", f"store {store}" if store else "", f"scope {scope}" if scope else "",
              f"expires in {expires}" if expires else ""]
    shown = ", ".join(x for x in limits if x)
    click.echo(f"API token {name!r}{f' ({shown})' if shown else ''} (shown once, keep it safe):")
    click.echo(token)


@main.group()
def clock() -> None:
    """The persistent test clock (FOLLOWUP_TEST_CLOCK=1)."""


def _test_clock() -> Any:
    from followup.clock import TestClock

    rt = _runtime()
    if not isinstance(rt.clock, TestClock):
        _fail("the test clock is off: set FOLLOWUP_TEST_CLOCK=1")
    return rt.clock


@clock.command("set")
@click.argument("instant")
def clock_set(instant: str) -> None:
    """Move the test clock to INSTANT (ISO 8601)."""
    from followup.clock import parse_instant

    tc = _test_clock()
    try:
        click.echo(tc.set(parse_instant(instant)).isoformat())
    except ValueError as exc:
        _fail(str(exc))


@clock.command("advance")
@click.argument("duration")
def clock_advance(duration: str) -> None:
    """Move the test clock forward by DURATION (30m, 2h, 1d)."""
    from followup.clock import parse_advance

    tc = _test_clock()
    try:
        click.echo(tc.advance(parse_advance(duration)).isoformat())
    except ValueError as exc:
        _fail(str(exc))


@main.group()
def privacy() -> None:
    """Personal data and its retention (RULES R13)."""


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="list what would be erased and change nothing")
def privacy_purge(dry_run: bool) -> None:
    """Anonymise the customers with no visit for [privacy] retain_months and delete raw records past
    their periods (the worker does it daily); audited."""
    from followup.retention import purge

    rt = _runtime()
    with rt.sessions() as s:
        report = purge(s, rt.settings, rt.clock.now(), dry_run=dry_run, actor=_actor())
        if not dry_run:
            s.commit()
    verb = "would anonymise" if dry_run else "anonymised"
    click.echo(f"{verb} {len(report.customers)} customers with no visit since {report.cutoff.date().isoformat()}")
    for due in report.customers:
        last = due.last_visit.date().isoformat() if due.last_visit else "none"
        click.echo(f"  {due.store_code} customer {due.customer_id} (last visit {last})")
    for name, n in report.deleted.items():
        click.echo(f"{'would delete' if dry_run else 'deleted'} {n} {name} rows past their retention period")


@main.group()
def letters() -> None:
    """Letters: the last channel, printed and mailed."""


@letters.command("build")
@click.option("--store")
@click.option("--date", "day")
@click.option("--out", type=click.Path(path_type=Path))
def letters_build(store: str | None, day: str | None, out: Path | None) -> None:
    """Write the day's letter batch (PDF + address list)."""
    try:
        from followup.letters.duty import build_cli
    except ImportError:
        _fail("letter batches are not built yet in this version (see the README's roadmap)", code=3)
    build_cli(_runtime(), store=store, day=day, out=out)


@main.group()
def channels() -> None:
    """Channels paused for a store on an account or configuration error (RULES R3)."""


@channels.command("list")
def channels_list() -> None:
    """Show every paused channel (store, channel, since, the provider's code and message)."""
    from followup.engine.pauses import open_pauses

    rt = _runtime()
    with rt.sessions() as s:
        pauses = open_pauses(s)
    if not pauses:
        click.echo("no channel is paused")
    for p in pauses:
        click.echo(f"{p.store_code} {p.channel} paused since {p.paused_at.isoformat()} "
                   f"(code {p.code or '-'}: {p.message})")


@channels.command("resume")
@click.argument("store")
@click.argument("channel", type=click.Choice(["call", "sms"]))
def channels_resume(store: str, channel: str) -> None:
    """Resume STORE's paused CHANNEL once its account is fixed: the waiting contacts go out in due
    order from the next tick (audited, channel.resumed webhook)."""
    from followup.db import unit_of_work
    from followup.engine.pauses import PauseError, resume

    rt = _runtime()
    try:
        with unit_of_work(rt.sessions) as s:
            resume(s, store, channel, _actor(), rt.clock.now())
    except PauseError as exc:
        _fail(str(exc))
    click.echo(f"{store} {channel} resumed: the waiting contacts go out in due order")


if __name__ == "__main__":  # pragma: no cover
    main()
