"""What the browser tests share: the app served for real on 127.0.0.1 with the persistent test clock,
and the check, through the DevTools protocol, that Chinese text was drawn with Noto Sans CJK (the
platform font Chromium really used for the glyphs), so a page of ``.notdef`` boxes fails.

The ``browser`` fixture (the system's Chromium) is in ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from template_db import migrated_sqlite_url
from werkzeug.serving import make_server

from followup.runtime import Runtime, build_runtime, sync_stores
from followup.settings import load_settings
from followup.web import create_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def e2e_runtime(db: Path, now: datetime, **env: str) -> Runtime:
    """A runtime on a migrated SQLite file at ``db``, stores synced, the test clock set to ``now``."""
    settings = load_settings({"FOLLOWUP_ENV": "test", "DATABASE_URL": migrated_sqlite_url(db),
                              "FOLLOWUP_TEST_CLOCK": "1", "FOLLOWUP_CHANNEL_MODE": "sandbox", **env})
    rt = build_runtime(settings)
    with rt.sessions() as s:
        sync_stores(s, rt.settings)
        s.commit()
    rt.clock.set(now)  # type: ignore[attr-defined]
    return rt


@contextmanager
def serving(rt: Runtime) -> Iterator[str]:
    """The app on ``rt`` served on a free port of 127.0.0.1 (its base URL); the runtime disposed after."""
    server = make_server("127.0.0.1", 0, create_app(runtime=rt), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    rt.dispose()


def drawn_fonts(page: Any, selector: str) -> set[str]:
    """The platform fonts Chromium used to draw the text of ``selector`` (DevTools: CSS.getPlatformFontsForNode)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, f"{selector} not on the page"
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {f["familyName"] for f in fonts if f["glyphCount"] > 0}


def assert_drawn_in_noto_cjk(page: Any, name: str, selector: str) -> None:
    fonts = drawn_fonts(page, selector)
    assert any("Noto Sans CJK" in f for f in fonts), f"{name}: {selector} drawn with {fonts}, not Noto Sans CJK"


def save_full_page(page: Any, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
