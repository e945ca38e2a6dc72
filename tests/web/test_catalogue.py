"""Every string the panel's templates translate has its Chinese text (zh-CN is the default language)."""

from __future__ import annotations

import re
from pathlib import Path

from followup.web.admin.labels import LABELS
from followup.web.catalogues import ZH

TEMPLATES = Path(__file__).resolve().parents[2] / "followup" / "web" / "templates"
#: ``_("…")`` or ``_('…')`` with a literal message id (``_(error)`` with a variable is not a literal)
CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


def template_strings() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for m in CALL.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(m.group(1) if m.group(1) is not None else m.group(2), set()).add(
                str(path.relative_to(TEMPLATES)))
    return found


def test_the_scan_finds_the_strings_of_the_templates() -> None:
    # guards the scanner itself: a regex that matched nothing would make the next test pass vacuously
    strings = template_strings()
    assert "Log in" in strings and "Campaign monitor" in strings and len(strings) > 50


def test_every_template_string_has_a_chinese_text() -> None:
    missing = {msg: sorted(files) for msg, files in template_strings().items() if not ZH.get(msg)}
    assert missing == {}, "strings without a Chinese entry in followup.web.catalogues: " + repr(missing)


def test_every_label_of_a_stored_code_has_a_chinese_text() -> None:
    missing = sorted(text for text in LABELS.values() if not ZH.get(text))
    assert missing == []


def test_no_two_catalogues_give_one_message_two_chinese_texts() -> None:
    # the areas' dictionaries are merged into one: a clash silently changes another page's wording
    from followup.web import catalogues

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for area in (catalogues.panel, catalogues.twilio, catalogues.letters, catalogues.complaints,
                 catalogues.reports, catalogues.webhooks):
        name = area.__name__.rsplit(".", 1)[-1]
        for message, zh in area.ZH.items():
            if message in seen and seen[message][1] != zh:
                clashes.append(f"{message!r}: {seen[message][0]} {seen[message][1]!r} vs {name} {zh!r}")
            seen.setdefault(message, (name, zh))
    assert clashes == []
