"""The `followup` command (CONTRACT §3), run in-process with click's CliRunner on a SQLite file."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from followup.cli import main
from followup.models import ApiToken, AuditEntry, FollowupCase, User, Visit
from followup.runtime import Runtime, build_runtime
from followup.settings import load_settings
from followup.web import create_app


class Cli:
    """``followup …`` against one database file, with the test clock on."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "cli.db"
        self.env: dict[str, str | None] = {
            "DATABASE_URL": f"sqlite:///{self.db}",
            "FOLLOWUP_ENV": "test",
            "FOLLOWUP_TEST_CLOCK": "1",
            "FOLLOWUP_CONFIG": None,
        }

    def __call__(self, *args: str, input: str | None = None, env: Mapping[str, str | None] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env={**self.env, **(env or {})}, input=input)

    def runtime(self) -> Runtime:
        return build_runtime(load_settings({k: v for k, v in self.env.items() if v is not None}))

    def count(self, model: type) -> int:
        rt = self.runtime()
        try:
            with rt.sessions() as s:
                return s.scalar(select(func.count()).select_from(model)) or 0
        finally:
            rt.dispose()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def ready(cli: Cli) -> Cli:
    """A migrated database with the clock on the evening after the samples' deliveries."""
    assert cli("db", "upgrade").exit_code == 0
    assert cli("clock", "set", "2026-11-20T20:00:00+08:00").exit_code == 0
    return cli


def one_line_error(result: Result) -> str:
    """The command's error: one line on stderr, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    text = result.stderr.strip()
    assert text and "\n" not in text, text
    assert "Traceback" not in result.output
    return text


# --- db upgrade ---------------------------------------------------------------------------------


def test_db_upgrade_then_import_works(cli: Cli, samples: Path) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "head" in result.stdout and str(cli.db) in result.stdout
    assert cli("db", "upgrade").exit_code == 0  # again: nothing to do
    assert cli("clock", "set", "2026-11-20T20:00:00+08:00").exit_code == 0
    assert cli("import-visits", str(samples / "visits_utf8_bom.csv")).exit_code == 0
    assert cli.count(Visit) == 20


def test_import_before_db_upgrade_says_what_to_do(cli: Cli, samples: Path) -> None:
    result = cli("import-visits", str(samples / "visits_dms_gbk.csv"))
    assert result.exit_code == 2
    assert "followup db upgrade" in one_line_error(result)


def test_an_unreachable_database_is_one_clear_line(cli: Cli, samples: Path) -> None:
    down = {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"}
    for args in (("db", "upgrade"), ("import-visits", str(samples / "visits_dms_gbk.csv"))):
        result = cli(*args, env=down)
        assert result.exit_code == 2
        assert "cannot reach the database" in one_line_error(result)


@pytest.mark.parametrize("url", ["nonsense://somewhere", "not a url"])
def test_an_unusable_database_url_names_the_variable(cli: Cli, url: str) -> None:
    result = cli("db", "upgrade", env={"DATABASE_URL": url})
    assert result.exit_code == 2
    assert "DATABASE_URL" in one_line_error(result)


# --- import-visits ------------------------------------------------------------------------------


def test_import_the_gbk_dms_export(ready: Cli, samples: Path) -> None:
    result = ready("import-visits", str(samples / "visits_dms_gbk.csv"))
    assert result.exit_code == 0, result.output
    summary = result.stdout.splitlines()[0]
    assert "40 rows" in summary and "40 new" in summary and "39 follow-up cases" in summary
    assert ready.count(Visit) == 40 and ready.count(FollowupCase) == 39
    again = ready("import-visits", str(samples / "visits_dms_gbk.csv"))
    assert again.exit_code == 0 and "40 updated" in again.stdout
    assert ready.count(FollowupCase) == 39


def test_import_uses_the_test_clock(ready: Cli, samples: Path) -> None:
    # a week later every case is late: breached at intake
    assert ready("clock", "set", "2026-11-27T12:00:00+08:00").exit_code == 0
    assert ready("import-visits", str(samples / "visits_utf8_bom.csv")).exit_code == 0
    rt = ready.runtime()
    try:
        with rt.sessions() as s:
            assert set(s.scalars(select(FollowupCase.three_day_rule))) == {"breached"}
    finally:
        rt.dispose()


def test_rejected_rows_give_exit_1_and_the_report(ready: Cli, samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "out.csv"
    result = ready("import-visits", str(samples / "visits_with_errors.csv"), "--report", str(out))
    assert result.exit_code == 1
    assert "5 rows rejected" in result.stdout
    assert "row 6, 手机" in result.stdout
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["row", "field", "reason"]
    assert [int(r["row"]) for r in rows] == [4, 6, 8, 10, 12]
    assert [r["field"] for r in rows] == ["工单号", "手机", "交车时间", "维修类型", "手机"]
    assert ready.count(Visit) == 6


def test_an_unusable_file_is_exit_2_one_line_nothing_imported(ready: Cli, tmp_path: Path) -> None:
    binary = tmp_path / "export.csv"
    binary.write_bytes(b"\x00\x01\x02binary\xff\xfe" * 50)
    result = ready("import-visits", str(binary))
    assert result.exit_code == 2
    message = one_line_error(result)
    assert "export.csv" in message and "nothing imported" in message
    assert result.stdout == ""
    assert ready.count(Visit) == 0


def test_a_missing_file_is_exit_2(ready: Cli, tmp_path: Path) -> None:
    result = ready("import-visits", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "nope.csv" in one_line_error(result)


def test_a_missing_column_is_exit_2_naming_it(ready: Cli, tmp_path: Path) -> None:
    f = tmp_path / "no_delivery.csv"
    f.write_text("门店代码,工单号,客户姓名,手机,服务顾问工号,维修类型\nSZ01,R1,张三,13800138000,SA01,保养\n", encoding="utf-8")
    result = ready("import-visits", str(f))
    assert result.exit_code == 2
    message = one_line_error(result)
    assert "delivered_at" in message or "交车时间" in message
    assert ready.count(Visit) == 0


def test_store_option_for_files_without_a_store_column(ready: Cli, tmp_path: Path) -> None:
    f = tmp_path / "no_store.csv"
    f.write_text(
        "ro_number,customer_name,mobile,advisor_code,service_type,delivered_at\n"
        "R1,张三,13800138000,SA01,repair,2026-11-19 10:00\n",
        encoding="utf-8",
    )
    result = ready("import-visits", str(f), "--store", "SZ01")
    assert result.exit_code == 0, result.output
    assert ready.count(Visit) == 1
    unknown = ready("import-visits", str(f), "--store", "BJ99")
    assert unknown.exit_code == 2 and "BJ99" in one_line_error(unknown)


def test_dry_run_imports_nothing(ready: Cli, samples: Path, tmp_path: Path) -> None:
    ok = ready("import-visits", str(samples / "visits_utf8_bom.csv"), "--dry-run")
    assert ok.exit_code == 0
    assert "20 would be imported" in ok.stdout and "nothing imported" in ok.stdout
    out = tmp_path / "dry.csv"
    bad = ready("import-visits", str(samples / "visits_with_errors.csv"), "--dry-run", "--report", str(out))
    assert bad.exit_code == 1
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 6
    assert ready.count(Visit) == 0 and ready.count(FollowupCase) == 0


def test_a_delivery_time_off_the_calendar_is_a_rejected_row(ready: Cli, tmp_path: Path) -> None:
    f = tmp_path / "odd.csv"
    f.write_text(
        "store_code,ro_number,customer_name,mobile,advisor_code,service_type,delivered_at\n"
        "SZ01,R1,张三,13800138000,SA01,repair,0001-01-01T00:00:00+08:00\n"
        "SZ01,R2,李四,13800138001,SA01,repair,2026-11-19 10:00\n",
        encoding="utf-8",
    )
    result = ready("import-visits", str(f))
    if isinstance(result.exception, OverflowError):
        raise result.exception
    assert result.exit_code == 1 and "row 2" in result.stdout
    assert ready.count(Visit) == 1


# --- users and tokens ---------------------------------------------------------------------------


def login_page_token(client) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert found
    return found.group(1)


def test_users_add_then_the_user_logs_in(ready: Cli) -> None:
    result = ready("users", "add", "manager1", "--role", "manager", "--store", "SZ01", input="a-good-pass-123\n")
    assert result.exit_code == 0, result.output
    assert "manager1" in result.stdout
    assert "a-good-pass-123" not in result.output
    rt = ready.runtime()
    try:
        with rt.sessions() as s:
            user = s.scalar(select(User).where(User.username == "manager1"))
            assert user is not None and user.role == "manager"
            assert user.password_hash.startswith("$argon2id$")
        client = create_app(runtime=rt).test_client()
        resp = client.post(
            "/login",
            data={"username": "manager1", "password": "a-good-pass-123", "csrf_token": login_page_token(client)},
        )
        assert resp.status_code == 302 and resp.headers["Location"] == "/"
        assert "回访监控" in client.get("/").get_data(as_text=True)
    finally:
        rt.dispose()


def test_users_add_again_changes_the_password(ready: Cli) -> None:
    assert ready("users", "add", "u1", "--role", "advisor", "--store", "SZ01", input="first-password-1\n").exit_code == 0
    assert ready("users", "add", "u1", "--role", "admin", input="second-password-2\r\n").exit_code == 0
    assert ready.count(User) == 1
    rt = ready.runtime()
    try:
        client = create_app(runtime=rt).test_client()
        for password, status in (("first-password-1", 401), ("second-password-2", 302)):
            resp = client.post(
                "/login", data={"username": "u1", "password": password, "csrf_token": login_page_token(client)}
            )
            assert resp.status_code == status
    finally:
        rt.dispose()


@pytest.mark.parametrize(
    ("args", "password", "words"),
    [
        (("users", "add", "u2", "--role", "manager"), "short\n", "too short"),
        (("users", "add", "u2", "--role", "manager"), "", "too short"),
        (("users", "add", "u2", "--role", "manager"), "Password12\n", "too common"),
        (("users", "add", "u2", "--role", "manager", "--store", "BJ99"), "a-good-pass-123\n", "BJ99"),
        (("users", "add", "has space", "--role", "manager"), "a-good-pass-123\n", "username"),
    ],
)
def test_users_add_refuses_with_a_clear_message(ready: Cli, args: tuple[str, ...], password: str, words: str) -> None:
    result = ready(*args, input=password)
    assert result.exit_code == 2
    assert words in one_line_error(result)
    assert ready.count(User) == 0


def test_users_add_refuses_an_unknown_role(ready: Cli) -> None:
    result = ready("users", "add", "u3", "--role", "boss", input="a-good-pass-123\n")
    assert result.exit_code == 2
    assert "boss" in result.output
    assert ready.count(User) == 0


def test_tokens_create_prints_a_token_that_works(ready: Cli) -> None:
    result = ready("tokens", "create", "dms")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"fu_[A-Za-z0-9_-]{20,}", token)
    rt = ready.runtime()
    try:
        with rt.sessions() as s:
            assert token not in {row.token_hash for row in s.scalars(select(ApiToken))}  # only its hash is kept
        client = create_app(runtime=rt).test_client()
        assert client.get("/api/v1/visits/SZ01/RO-X").status_code == 401
        resp = client.get("/api/v1/visits/SZ01/RO-X", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 404 and resp.get_json()["error"] == "Not Found"
    finally:
        rt.dispose()
    other = ready("tokens", "create", "dms").stdout.strip().splitlines()[-1]
    assert other != token


def test_tokens_create_refuses_an_empty_name(ready: Cli) -> None:
    result = ready("tokens", "create", "  ")
    assert result.exit_code == 2 and "name" in one_line_error(result)
    assert ready.count(ApiToken) == 0


def audit_rows(cli: Cli) -> list[AuditEntry]:
    rt = cli.runtime()
    try:
        with rt.sessions() as s:
            return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    finally:
        rt.dispose()


AS_WANG = {"LOGNAME": "wang", "USER": "wang"}  # the operating-system user running the command


def test_users_add_is_audited_with_who_ran_it_and_never_the_password(ready: Cli) -> None:
    result = ready("users", "add", "manager1", "--role", "manager", "--store", "SZ01", input="a-good-pass-123\n",
                   env=AS_WANG)
    assert result.exit_code == 0, result.output
    (row,) = audit_rows(ready)
    assert (row.actor, row.action) == ("cli:wang", "user.saved")  # R10: who and what
    assert row.at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # when, by the service's clock
    # a new user: no role or stores before
    assert row.detail == {"username": "manager1", "role": "manager", "stores": ["SZ01"], "role_before": None,
                          "stores_before": []}
    assert "a-good-pass-123" not in repr((row.actor, row.action, row.detail))
    ready("users", "add", "manager1", "--role", "manager", input="short\n", env=AS_WANG)  # refused: nothing saved
    assert len(audit_rows(ready)) == 1


def test_tokens_create_is_audited_with_its_name_never_the_token(ready: Cli) -> None:
    result = ready("tokens", "create", "DMS 接口", env=AS_WANG)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    (row,) = audit_rows(ready)
    assert (row.actor, row.action) == ("cli:wang", "token.created")
    # the prefix the token list shows too; no limits: every store, read and write, no expiry
    assert row.detail == {"name": "DMS 接口", "prefix": token[:8], "user": None, "store": None, "scope": None,
                          "expires_at": None}
    assert token not in repr((row.actor, row.action, row.detail))


# --- clock --------------------------------------------------------------------------------------


def test_clock_set_and_advance_print_the_new_time(ready: Cli) -> None:
    result = ready("clock", "set", "2026-11-20T10:00:00+08:00")
    assert result.exit_code == 0
    assert datetime.fromisoformat(result.stdout.strip()) == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    result = ready("clock", "advance", "2h")
    assert result.exit_code == 0
    assert datetime.fromisoformat(result.stdout.strip()) == datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    result = ready("clock", "advance", "1d")
    assert datetime.fromisoformat(result.stdout.strip()) == datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
    rt = ready.runtime()
    try:
        assert rt.clock.now() == datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
    finally:
        rt.dispose()


def test_clock_set_reads_a_naive_time_as_shanghai(ready: Cli) -> None:
    result = ready("clock", "set", "2026-11-20T10:00:00")
    assert result.exit_code == 0
    assert datetime.fromisoformat(result.stdout.strip()) == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "args", [("clock", "set", "yesterday"), ("clock", "advance", "2 hours"), ("clock", "advance", "99999999999d")]
)
def test_clock_refuses_bad_values(ready: Cli, args: tuple[str, ...]) -> None:
    before = ready("clock", "advance", "0s").stdout.strip()
    result = ready(*args)
    assert result.exit_code == 2
    assert args[-1] in one_line_error(result)
    assert ready("clock", "advance", "0s").stdout.strip() == before


@pytest.mark.parametrize("args", [("clock", "set", "2026-11-20T10:00:00+08:00"), ("clock", "advance", "2h")])
def test_clock_without_the_test_clock_is_exit_2(ready: Cli, args: tuple[str, ...]) -> None:
    result = ready(*args, env={"FOLLOWUP_TEST_CLOCK": None})
    assert result.exit_code == 2
    assert "FOLLOWUP_TEST_CLOCK" in one_line_error(result)
    rt = ready.runtime()
    try:
        assert rt.clock.now() == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # unmoved
    finally:
        rt.dispose()


# --- help and configuration ---------------------------------------------------------------------


def test_help_lists_the_commands(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    listed = set(re.findall(r"^  ([a-z-]+)\s", result.stdout, re.MULTILINE))
    assert {"db", "import-visits", "tick", "worker", "web", "users", "tokens", "clock", "letters"} <= listed


def test_a_bad_config_value_is_exit_2_naming_the_key(cli: Cli, samples: Path) -> None:
    for args in (("db", "upgrade"), ("import-visits", str(samples / "visits_dms_gbk.csv"))):
        result = cli(*args, env={"FOLLOWUP__policy__min_gap": "3 hours"})
        assert result.exit_code == 2
        message = one_line_error(result)
        assert "policy.min_gap" in message and "3 hours" in message
    assert not cli.db.exists() or cli.count(Visit) == 0


def test_production_refuses_the_test_clock(cli: Cli) -> None:
    result = cli(
        "db", "upgrade",
        env={"FOLLOWUP_ENV": "production", "FOLLOWUP_SECRET_KEY": "s" * 64, "PUBLIC_BASE_URL": "https://f.example"},
    )
    assert result.exit_code == 2
    assert "FOLLOWUP_TEST_CLOCK" in one_line_error(result)


def test_timestamps_printed_by_the_clock_are_aware(ready: Cli) -> None:
    printed = datetime.fromisoformat(ready("clock", "advance", "30m").stdout.strip())
    assert printed.utcoffset() == timedelta(0)
