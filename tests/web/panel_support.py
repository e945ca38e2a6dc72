"""The admin-panel tests' world: a visit as the panel shows it, the ``staff1`` browser, a second
store with rows only. Visits, users, logging in and CSRF tokens come from ``tests/factories.py``
(re-exported here for the panel tests)."""

from __future__ import annotations

from datetime import datetime

from factories import NOW, PASSWORD, add_visit, csrf, log_in, logged_in_client, post, text_of, visit_row
from factories import make_user as new_user
from flask.testing import FlaskClient

from followup.models import Store
from followup.runtime import Runtime

__all__ = ["NOW", "OTHER_STORE", "PASSWORD", "add_other_store", "csrf", "log_in", "make_user", "make_visit", "post",
           "staff_client", "text_of"]

#: a second store the default configuration does not have: rows only, for scoping tests
OTHER_STORE = "GZ01"


def add_other_store(rt: Runtime) -> int:
    with rt.sessions() as s:
        store = Store(code=OTHER_STORE, name="广州店", timezone="Asia/Shanghai", created_at=NOW)
        s.add(store)
        s.commit()
        return store.id


def make_visit(rt: Runtime, ro: str, *, name: str = "张伟", advisor: str = "SA01", store: str = "SZ01",
               delivered: datetime | None = None, mobile: str | None = "+8613800138000", plate: str = "粤B12345",
               service: str = "maintenance", plan: bool = False) -> int:
    """A visit accepted at ``NOW`` and its case; returns the case id. ``plan`` plans the first call as a
    tick would."""
    row = visit_row(ro, customer_name=name, advisor_code=advisor, advisor_name="王强" if advisor == "SA01" else "李娜",
                    store_code=store, mobile=mobile, plate=plate, service_type=service,
                    **({"delivered_at": delivered} if delivered else {}))
    return add_visit(rt, row, at=NOW, plan=plan)


def make_user(rt: Runtime, username: str, role: str, stores: list[str], *, advisor: str | None = None) -> None:
    new_user(rt, username, role, stores, advisor=advisor, at=NOW)


def staff_client(rt: Runtime, at: datetime = NOW) -> FlaskClient:
    """A browser logged in as ``staff1`` (info staff of SZ01), the clock at ``at``."""
    rt.clock.set(at)  # type: ignore[attr-defined]
    make_user(rt, "staff1", "info_staff", ["SZ01"])
    return logged_in_client(rt, "staff1")
