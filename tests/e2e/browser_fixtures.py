"""The browser tests' fixtures, loaded as a plugin from ``tests/conftest.py`` (``pytest_plugins``):
a second ``conftest.py`` here would shadow the root one's ``from conftest import ...`` (every test
module imports it by that name).

``browser``: the system's Chromium, headless, driven by Playwright. After each browser scenario on a
served database (a test using a ``served`` fixture), ``followup doctor`` must find no open case
without a next step (RULES R3, issue #16).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e.browser_support import CHROMIUM
from next_step_check import assert_every_open_case_has_a_next_step


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture(autouse=True)
def _every_open_case_has_a_next_step(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each browser scenario on a served database: no open case without a next step."""
    yield
    if "served" in request.fixturenames:
        _base, rt = request.getfixturevalue("served")
        assert_every_open_case_has_a_next_step(rt)
