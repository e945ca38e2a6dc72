"""Chinese first, English available: the panel's language for this request."""

from __future__ import annotations

from flask import request, session

from . import runtime

LANGUAGES = ("zh", "en")


def current_language() -> str:
    """``?lang=`` wins and is remembered in the session; then the session; then the config default."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return str(remembered)
    return runtime().settings.default_language
