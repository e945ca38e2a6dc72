"""#19 finding 7: the live activity is scoped as the pages are.

Before: every logged-in user of a store got every event of the store on ``/events/stream`` (an
advisor saw every RO, outcome and score of their colleagues' customers), and ``?last_id=0`` /
``Last-Event-ID: 0`` replayed the whole history. Now an advisor gets only events about their own
customers' cases, and no ask looks further back than the last ``SCAN`` events.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from followup.models import ReceivedEvent
from followup.webhooks import inbox
from followup.webhooks.activity_feed import BACKLOG, SCAN
from security.security_world import World, deliver_events_to_panel, stream_text

ROS = re.compile(r"RO-[A-Z]+")


def streamed(world: World, username: str, last_event_id: str | None = None) -> str:
    """What ``/events/stream`` sends ``username`` within two seconds (it used to stay open)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    resp = world.client(username).get("/events/stream", headers=headers, buffered=False)
    assert resp.status_code == 200
    chunks: list[bytes] = []
    reading = threading.Thread(target=lambda: chunks.extend(resp.response), daemon=True)
    reading.start()
    reading.join(2.0)
    text = b"".join(chunks).decode("utf-8")
    assert not reading.is_alive(), f"the stream is still open; sent so far: {sorted(set(ROS.findall(text)))}"
    return text


def ros_streamed(world: World, username: str, last_event_id: str | None = None) -> set[str]:
    return set(ROS.findall(streamed(world, username, last_event_id)))


def ros_asked(world: World, username: str) -> set[str]:
    """The RO numbers of the events ``/events/recent?last_id=0`` gives ``username``."""
    resp = world.client(username).get("/events/recent?last_id=0")
    assert resp.status_code == 200
    return {ro for event in resp.get_json()["events"] for ro in ROS.findall(event["text"])}


def test_an_advisor_gets_only_events_about_their_own_customers(world: World) -> None:
    sent = deliver_events_to_panel(world)
    assert sent >= 8
    # sa01 is the advisor of RO-EVIL and RO-LETTER; RO-PLAIN is sa02's, RO-GZ another store's
    assert ros_streamed(world, "sa01") == {"RO-EVIL", "RO-LETTER"}
    assert ros_streamed(world, "sa01", "0") == {"RO-EVIL", "RO-LETTER"}
    assert ros_asked(world, "sa01") == {"RO-EVIL", "RO-LETTER"}
    assert ros_asked(world, "sa02") == {"RO-PLAIN"}
    # the store's staff see the whole store, and nothing of the other one
    assert ros_asked(world, "staff1") == {"RO-EVIL", "RO-LETTER", "RO-PLAIN"}
    assert ros_asked(world, "gz_staff") == {"RO-GZ"}
    assert ros_streamed(world, "gz_staff", "0") == {"RO-GZ"}


def test_the_admin_stream_still_shows_every_store(world: World) -> None:
    sent = deliver_events_to_panel(world)
    text = stream_text(world.client("admin"), sent)
    assert {"RO-EVIL", "RO-PLAIN", "RO-LETTER", "RO-GZ"} <= set(ROS.findall(text))


def test_asking_from_the_start_never_replays_the_whole_history(world: World) -> None:
    deliver_events_to_panel(world)
    at = datetime.now(UTC)
    with world.rt.sessions() as s:
        for n in range(SCAN + 50):
            inbox.accept(s, f"msg_old_{n}", {"type": "visit.imported", "timestamp": at.isoformat(),
                                             "data": {"store_code": "SZ01", "ro_number": f"RO-N{n}"}},
                         received_at=at)
        s.commit()
        top = s.scalar(select(func.max(ReceivedEvent.id))) or 0
    client = world.client("staff1")
    stream = streamed(world, "staff1", "0")
    ids = [int(i) for i in re.findall(r"^id: (\d+)$", stream, flags=re.M)]
    assert min(ids) > top - SCAN and max(ids) == top
    # the world's own events (the hostile customer's among them) are older than the last SCAN
    assert "RO-EVIL" not in stream
    for last_id in ("0", "1"):
        got = client.get(f"/events/recent?last_id={last_id}").get_json()
        ids = [e["id"] for e in got["events"]]
        assert ids and min(ids) > top - SCAN and len(ids) <= SCAN, last_id
        assert got["last_id"] == top
    fresh = client.get("/events/recent").get_json()["events"]
    assert len(fresh) == BACKLOG and fresh[-1]["id"] == top
