"""A user of one store gets 404 for everything of the other store (case, complaint, letter batch and
its downloads, report and export), as if it did not exist; advisors see only their own customers."""

from __future__ import annotations

import pytest
from factories import csrf
from sqlalchemy import select

from followup.models import Customer, FollowupCase, Visit
from security.db_snapshot import changed_tables, snapshot
from security.security_world import World


def other_store_paths(world: World, store: str) -> list[str]:
    """Every page and download of ``store``'s objects."""
    key = "gz" if store == "SZ02" else "evil"
    batch = world.batches[store]
    with world.rt.sessions() as s:
        customer = s.scalar(select(Customer.id).join(Visit, Visit.customer_id == Customer.id)
                            .join(FollowupCase, FollowupCase.visit_id == Visit.id)
                            .where(FollowupCase.id == world.cases[key]))
    return [
        f"/cases/{world.cases[key]}",
        f"/complaints/{world.complaints[key]}",
        f"/letters/{batch}",
        f"/letters/{batch}/pdf",
        f"/letters/{batch}/csv",
        f"/letters/{batch}/labels",
        f"/reports?store={store}&month=2026-11",
        f"/reports/advisors.csv?store={store}&month=2026-11",
        f"/reports/advisors.xlsx?store={store}&month=2026-11",
        f"/simulator/{customer}",
    ]


@pytest.mark.parametrize(("user", "own", "other"), [("gz_manager", "SZ02", "SZ01"), ("manager1", "SZ01", "SZ02")])
def test_everything_of_the_other_store_is_404_and_leaves_no_trace(world: World, user: str, own: str,
                                                                   other: str) -> None:
    client = world.client(user)
    for path in other_store_paths(world, own):
        assert client.get(path).status_code == 200, path  # the user's own store's page exists
    before = snapshot(world.rt)
    for path in other_store_paths(world, other):
        resp = client.get(path)
        assert resp.status_code == 404, (path, resp.status_code)
        assert b"RO-GZ" not in resp.data and b"RO-EVIL" not in resp.data
    # a refused download writes no audit row: nothing was exported
    assert changed_tables(before, snapshot(world.rt)) == {}


def test_actions_on_the_other_stores_objects_are_404_and_change_nothing(world: World) -> None:
    client = world.client("gz_staff")
    token = csrf(client, "/")
    before = snapshot(world.rt)
    sz01_case, sz01_complaint, sz01_batch = world.cases["evil"], world.complaints["evil"], world.batches["SZ01"]
    for path, data in [
        (f"/cases/{sz01_case}/reveal", {"which": "mobile"}),
        (f"/cases/{sz01_case}/note", {"text": "不该出现"}),
        (f"/cases/{sz01_case}/flags", {"flag": "do_not_call", "value": "1"}),
        (f"/complaints/{sz01_complaint}/acknowledge", {}),
        (f"/letters/{sz01_batch}/printed", {}),
        ("/letters/build", {"store": "SZ01"}),
    ]:
        resp = client.post(path, data={**data, "csrf_token": token})
        assert resp.status_code in (403, 404), (path, resp.status_code)
    assert changed_tables(before, snapshot(world.rt)) == {}


def test_listings_show_only_the_users_store(world: World) -> None:
    gz = world.client("gz_staff")
    for path in ("/cases", "/complaints", "/letters/", "/"):
        page = gz.get(path).get_data(as_text=True)
        assert "RO-EVIL" not in page and "RO-PLAIN" not in page and "RO-LETTER" not in page, path
    assert "RO-GZ" in gz.get("/cases").get_data(as_text=True)
    assert "RO-GZ" in gz.get("/complaints").get_data(as_text=True)
    sz = world.client("staff1")
    for path in ("/cases", "/complaints", "/letters/", "/"):
        assert "RO-GZ" not in sz.get(path).get_data(as_text=True), path


def test_an_advisor_sees_only_their_own_customers(world: World) -> None:
    sa02 = world.client("sa02")
    listing = sa02.get("/cases").get_data(as_text=True)
    assert "RO-PLAIN" in listing and "RO-EVIL" not in listing and "RO-LETTER" not in listing
    assert sa02.get(f"/cases/{world.cases['plain']}").status_code == 200
    assert sa02.get(f"/cases/{world.cases['evil']}").status_code == 404
    assert "RO-EVIL" not in sa02.get("/complaints").get_data(as_text=True)
    assert sa02.get(f"/complaints/{world.complaints['evil']}").status_code == 404
    sa01 = world.client("sa01")
    listing = sa01.get("/cases").get_data(as_text=True)
    assert "RO-EVIL" in listing and "RO-LETTER" in listing and "RO-PLAIN" not in listing
    assert sa01.get(f"/complaints/{world.complaints['evil']}").status_code == 200
    assert sa01.get(f"/cases/{world.cases['plain']}").status_code == 404
