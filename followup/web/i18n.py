"""Chinese first, English available: the panel's language and its gettext catalogue (Flask-Babel).

English is the message id; the Chinese texts live in ``followup/translations/zh/LC_MESSAGES/
messages.po`` (compiled to ``messages.mo``). Templates call ``_("…")``; Python code calls
:func:`flask_babel.gettext` inside a request, or :func:`translate` with an explicit language (the
live stream, the customers' survey pages). Strings kept in tables are marked with :func:`N_` so
that ``pybabel extract`` finds them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Flask, has_request_context, request, session
from flask_babel import Babel, gettext, ngettext

from followup.web.context import runtime

LANGUAGES = ("zh", "en")
#: where the compiled catalogues are (inside the package, shipped as package data)
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name for "mark only")
    """Mark ``message`` for extraction without translating it now (it is translated when shown)."""
    return message


def current_language() -> str:
    """``?lang=`` wins and is remembered in the session; then the session; then the config default."""
    if not has_request_context():
        return runtime().settings.default_language
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return str(remembered)
    return runtime().settings.default_language


def init_babel(app: Flask) -> None:
    """Flask-Babel with the panel's language rule; ``_``/``gettext`` become template globals."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    Babel(app, locale_selector=current_language)


@lru_cache(maxsize=4)
def _catalogue(lang: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [lang], domain="messages")


def translate(message: str, lang: str) -> str:
    """``message`` in ``lang``, outside Flask-Babel's per-request locale (English: the id itself)."""
    if lang == "en" or not message:
        return message
    return _catalogue(lang).gettext(message)


def _template_gettext(message: object) -> str:
    """``_()`` in templates: a plain string (escaped on output like any other), never formatted;
    an empty value stays empty."""
    if not message:
        return ""
    return str(gettext(str(message)))


def install_template_gettext(app: Flask) -> None:
    """Templates get ``_``/``gettext`` that return plain strings (Flask-Babel's own are "newstyle":
    they mark the text safe and %-format it, which would let a translated value carrying user
    input through unescaped)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext,
        ngettext=lambda s, p, n: str(ngettext(s, p, n)),
        newstyle=False,
    )
