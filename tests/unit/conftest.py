"""``tests/unit`` holds the pure tests: no database, no runtime (``make unit`` runs them alone, in
seconds). A test here that asks for a database fixture or builds an engine fails with where it
belongs: ``tests/integration/`` or its area's folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import followup.db
import followup.runtime

#: the fixtures that open a database (tests/conftest.py, tests/fakes/twilio_env.py, tests/security/conftest.py)
DATABASE_FIXTURES = {"rt", "backend", "pg_template", "twilio_rt", "world"}


@pytest.fixture(autouse=True)
def _no_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    asked = DATABASE_FIXTURES.intersection(request.fixturenames)
    if asked:
        pytest.fail(f"a unit test asks for {', '.join(sorted(asked))}: move it to tests/integration/ or its area")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a unit test builds a database engine: move it to tests/integration/ or its area")

    monkeypatch.setattr(followup.db, "make_engine", refuse)
    monkeypatch.setattr(followup.runtime, "make_engine", refuse)
    yield
