"""Golden files of message texts: a text is compared with its file; ``UPDATE_GOLDEN=1`` rewrites the
file first (after an intended wording change; review the diff)."""

from __future__ import annotations

import os
from pathlib import Path


def assert_golden(golden: Path, text: str) -> None:
    """``text`` is what ``golden`` holds (one trailing newline there); with ``UPDATE_GOLDEN`` set, rewritten first."""
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text + "\n", encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8").rstrip("\n")
