"""#19 finding 6: a user's stores are exactly what the administrator last saved.

Before: saving ``staff1`` (of SZ01) again with store SZ02 added SZ02 and kept SZ01; no way existed
to take a store away, in the panel or with ``followup users add --store``. Now the stores become
exactly the ones ticked (or given), audited with the stores before and after.
"""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from factories import PASSWORD, csrf
from sqlalchemy import select

from followup.accounts import user_store_codes
from followup.cli import main
from followup.models import AuditEntry, User
from security.security_world import World


def stores_of(world: World, username: str) -> list[str]:
    with world.rt.sessions() as s:
        return user_store_codes(s, s.scalars(select(User).where(User.username == username)).one())


def save(world: World, username: str, role: str, *stores: str) -> Any:
    admin = world.client("admin")
    data: dict[str, Any] = {"csrf_token": csrf(admin, "/settings/users"), "username": username, "password": PASSWORD,
                            "role": role, "store": list(stores)}
    return admin.post("/settings/users", data=data, follow_redirects=True)


def last_saved(world: World, username: str) -> dict[str, Any]:
    with world.rt.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.saved").order_by(AuditEntry.id)).all()
    return next(r.detail for r in reversed(rows) if r.detail["username"] == username)


def test_moving_a_user_to_another_store_takes_the_old_one_away(world: World) -> None:
    assert save(world, "staff1", "info_staff", "SZ02").status_code == 200
    assert stores_of(world, "staff1") == ["SZ02"]
    staff1 = world.client("staff1")
    assert staff1.get(f"/cases/{world.cases['evil']}").status_code == 404  # SZ01's case: gone from sight
    assert "RO-GZ" in staff1.get("/cases").get_data(as_text=True)
    assert "RO-PLAIN" not in staff1.get("/cases").get_data(as_text=True)
    detail = last_saved(world, "staff1")
    assert detail["stores_before"] == ["SZ01"] and detail["stores"] == ["SZ02"]
    assert detail["role_before"] == detail["role"] == "info_staff"


def test_the_ticked_stores_are_exactly_the_users_stores(world: World) -> None:
    save(world, "manager1", "manager", "SZ01", "SZ02")
    assert stores_of(world, "manager1") == ["SZ01", "SZ02"]
    save(world, "manager1", "manager", "SZ02")
    assert stores_of(world, "manager1") == ["SZ02"]
    assert last_saved(world, "manager1")["stores_before"] == ["SZ01", "SZ02"]
    page = world.client("admin").get("/settings/users").get_data(as_text=True)
    assert 'type="checkbox" name="store" value="SZ02"' in page


def test_no_store_ticked_is_refused_and_changes_nothing(world: World) -> None:
    resp = save(world, "staff1", "info_staff")
    assert "请选择用户所属门店" in resp.get_data(as_text=True)
    assert stores_of(world, "staff1") == ["SZ01"]


def test_users_add_sets_exactly_the_stores_given(world: World) -> None:
    env = {"DATABASE_URL": world.rt.settings.database_url, "FOLLOWUP_ENV": "test", "FOLLOWUP_TEST_CLOCK": "1",
           "FOLLOWUP_CONFIG": None, "FOLLOWUP__stores__SZ02__name": "广州天河店"}
    result = CliRunner().invoke(main, ["users", "add", "gz_staff", "--role", "info_staff", "--store", "SZ01"],
                                env=env, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert stores_of(world, "gz_staff") == ["SZ01"]
    detail = last_saved(world, "gz_staff")
    assert detail["stores_before"] == ["SZ02"] and detail["stores"] == ["SZ01"]
    refused = CliRunner().invoke(main, ["users", "add", "gz_staff", "--role", "info_staff", "--store", "XX9"],
                                 env=env, input=PASSWORD + "\n")
    assert refused.exit_code == 2 and "XX9" in refused.stderr
    assert stores_of(world, "gz_staff") == ["SZ01"]
