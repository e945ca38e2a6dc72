"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of every /api/v1 endpoint (CONTRACT §4).

Written once, as ``openapi.json`` beside this module, and served as it is; no token is needed to
read it. ``tests/web/test_openapi.py`` checks it against the app's routes and runs schemathesis
against the live app with it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("api_openapi", __name__, url_prefix="/api/v1")

SPEC_FILE = Path(__file__).with_name("openapi.json")


@cache
def description() -> dict[str, Any]:
    """The description, read once per process."""
    spec: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return spec


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(description())
