"""Finding 5 of #19 — webhook subscribers pointing inside — tried as an attacker with the admin
role would, on SQLite and PostgreSQL: a port scanner and a reader of internal services.

Subscribers added in the panel may only point at public addresses (checked when added, after
resolving the name, and again before every delivery, connecting to the address checked); the
operator's own (``FOLLOWUP_WEBHOOK_URLS``) stay trusted; the delivery log shows the status and
one short line, never what an internal service answered.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import sys
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from followup.models import DeliveryTry, WebhookSubscriber
from followup.runtime import Runtime
from followup.settings import Subscriber
from followup.webhooks import admin as subscribers_page
from followup.webhooks.delivery import deliver_due
from followup.webhooks.destinations import DestinationRefused, refusal, resolve
from followup.webhooks.outbox import emit
from followup.webhooks.poster import HttpPoster
from followup.webhooks.subscribers import sync_subscribers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "webhooks"))
from webhook_world import NOW, Reply, at, receiver, subscribe, webhook_admin  # noqa: E402

INSIDE = [
    "http://127.0.0.1:5432/",  # the database next door
    "http://localhost:6379/",  # a name for loopback
    "http://2130706433/",  # 127.0.0.1 written as one number
    "http://[::1]:8080/",
    "http://[::ffff:127.0.0.1]/",  # IPv4 loopback inside IPv6
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud metadata
    "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
    "http://10.0.0.5/", "http://172.16.3.4/", "http://192.168.1.1/",  # private
    "http://100.64.0.1/",  # shared (CGNAT)
    "http://0.0.0.0:5000/", "http://224.0.0.1/", "http://[fe80::1]/",
]


def public(address: str) -> Any:
    """A resolver that answers ``address`` for every name (as a DNS server an attacker runs would)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    return getaddrinfo


@pytest.fixture
def admin(rt: Runtime) -> FlaskClient:
    return webhook_admin(rt)


def add(client: FlaskClient, url: str) -> Any:
    page = client.get("/webhooks/subscribers").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return client.post("/webhooks/subscribers", data={"url": url, "csrf_token": token.group(1)})


def admin_subscribers(rt: Runtime) -> list[str]:
    with rt.sessions() as s:
        return list(s.scalars(select(WebhookSubscriber.url).where(WebhookSubscriber.source == "admin")))


def an_event(rt: Runtime) -> None:
    with rt.sessions() as s:
        emit(s, "visit.imported", {"store_code": "SZ01", "ro_number": "RO1"}, at=at(1))
        s.commit()


@pytest.mark.parametrize("url", INSIDE)
def test_the_panel_refuses_a_subscriber_inside(rt: Runtime, admin: FlaskClient, url: str) -> None:
    resp = add(admin, url)
    assert resp.status_code == 422 and "此地址不在公网上" in resp.get_data(as_text=True)
    assert admin_subscribers(rt) == []


def test_every_address_a_name_resolves_to_is_checked() -> None:
    def both(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    with pytest.raises(DestinationRefused, match="loopback"):
        resolve("https://hooks.dms.example/in", both)
    assert resolve("https://hooks.dms.example/in", public("93.184.215.14")).address == "93.184.215.14"
    assert refusal(ip_address("2002:7f00:1::1")) is not None  # 6to4 around 127.0.0.1


def test_single_host_installs_may_allow_private_addresses(rt: Runtime, admin: FlaskClient) -> None:
    rt.settings = dataclasses.replace(rt.settings, webhook_allow_private=True)  # FOLLOWUP_WEBHOOK_ALLOW_PRIVATE=1
    assert add(admin, "http://127.0.0.1:8099/hook").status_code == 200
    assert admin_subscribers(rt) == ["http://127.0.0.1:8099/hook"]


def test_a_subscriber_inside_added_earlier_is_never_called(rt: Runtime) -> None:
    with receiver() as r:  # e.g. added while private addresses were allowed, or before the upgrade
        subscribe(rt, r.url, r.secret)  # a panel subscriber (the panel's own receiver off: nothing listens there)
        an_event(rt)
        deliver_due(rt, at(1))
    assert r.received == []
    with rt.sessions() as s:
        (logged,) = s.scalars(select(DeliveryTry)).all()
    assert logged.http_status is None and logged.response is not None
    assert logged.response.startswith("refused: 127.0.0.1 is a loopback address")


def test_dns_rebinding_gains_nothing(rt: Runtime) -> None:
    """The name was public when the admin added it; by delivery time it answers 127.0.0.1."""
    with receiver() as r:
        url = r.url.replace("127.0.0.1", "hooks.rebind.example")
        with rt.sessions() as s:
            sync_subscribers(s, rt.settings, NOW)
            s.query(WebhookSubscriber).update({"active": False})  # the panel's own receiver: nothing listens
            subscribers_page.add(s, url, now=NOW, actor="root", resolver=public("93.184.215.14"))
            s.commit()
        an_event(rt)
        deliver_due(rt, at(1), resolver=public("127.0.0.1"))
    assert r.received == []
    with rt.sessions() as s:
        assert "resolves to a non-public address: 127.0.0.1 is a loopback address" in (
            s.scalars(select(DeliveryTry.response)).one() or "")


def test_the_delivery_connects_to_the_address_that_was_checked() -> None:
    """No second look-up between the check and the connection: the name below resolves nowhere."""
    with receiver() as r:
        port = r.url.rsplit(":", 1)[1].split("/")[0]
        answer = HttpPoster().post(f"http://hooks.never-resolves.invalid:{port}/hook", b"{}",
                                   {"content-type": "application/json"}, 5, connect_to="127.0.0.1")
    assert answer.status == 200
    assert r.received[0].headers["host"] == f"hooks.never-resolves.invalid:{port}"


def test_the_operators_own_subscribers_stay_trusted(rt: Runtime) -> None:
    with receiver() as r:
        operator = dataclasses.replace(rt.settings, subscribers=(Subscriber(r.url, r.secret),))
        live = Runtime(operator, rt.engine, rt.sessions, rt.clock)
        with rt.sessions() as s:
            sync_subscribers(s, live.settings, NOW)
            s.query(WebhookSubscriber).filter(WebhookSubscriber.source == "panel").update({"active": False})
            s.commit()
        an_event(rt)
        deliver_due(live, at(1))
    assert len(r.received) == 1 and r.received[0].verified is not None


def test_the_delivery_log_shows_the_status_and_one_short_line(rt: Runtime, admin: FlaskClient) -> None:
    rt.settings = dataclasses.replace(rt.settings, webhook_allow_private=True)
    leak = b"FATAL: password authentication failed\r\nuser=postgres secret=hunter2\n" + b"x" * 2000
    with receiver([Reply(500, body=leak)]) as r:
        assert add(admin, r.url).status_code == 200
        an_event(rt)
        deliver_due(rt, at(1))
        with rt.sessions() as s:
            sub_id = s.scalar(select(WebhookSubscriber.id).where(WebhookSubscriber.url == r.url))
            stored = s.scalars(select(DeliveryTry.response)).one()
    page = admin.get(f"/webhooks/subscribers/{sub_id}/log").get_data(as_text=True)
    assert stored == "FATAL: password authentication failed"
    assert ">500<" in page and "FATAL: password authentication failed" in page
    assert "hunter2" not in page and "xxxxxxxxxx" not in page
