"""The gettext catalogue is complete: every message the templates and the Python code translate has
its Chinese text in ``followup/translations/zh/LC_MESSAGES/messages.po`` (zh-CN is the default
language), nothing is fuzzy, and the compiled ``messages.mo`` says the same as the ``.po``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from followup.web.admin.labels import LABELS
from followup.web.i18n import TRANSLATIONS, translate
from followup.web.webhooks.activity import LABELS as EVENT_LABELS
from followup.web.webhooks.activity import VALUES as EVENT_VALUES

ROOT = Path(__file__).resolve().parents[2]
PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
METHODS = [("followup/**.py", "python"), ("followup/web/templates/**.html", "jinja2")]


def used_messages() -> dict[str, set[str]]:
    """Every literal ``_()``, ``gettext()`` and ``N_()`` id in the package, found as ``pybabel extract`` finds
    them (same mapping as ``babel.cfg``)."""
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _ctx in extract_from_dir(str(ROOT), METHODS):
        if isinstance(message, str):
            found.setdefault(message, set()).add(filename)
    return found


@pytest.fixture(scope="module")
def po():  # type: ignore[no-untyped-def]
    with PO.open("rb") as f:
        return read_po(f)


def test_babel_cfg_maps_the_same_files_as_this_test() -> None:
    cfg = (ROOT / "babel.cfg").read_text(encoding="utf-8")
    assert "[python: followup/**.py]" in cfg and "[jinja2: followup/web/templates/**.html]" in cfg


def test_the_scan_finds_strings_of_templates_and_python() -> None:
    # guards the scanner: a scan that found nothing would make the next test pass vacuously
    used = used_messages()
    assert "Log in" in used and "Campaign monitor" in used and "Phone simulator" in used
    assert "Scheduled" in used  # a label marked N_() in labels.py
    assert "Wrong username or password." in used  # a message built at run time (runtime_messages.py)
    assert len(used) > 400


def test_every_message_used_has_a_chinese_text(po) -> None:  # type: ignore[no-untyped-def]
    texts = {m.id: m.string for m in po if m.id}
    missing = {msg: sorted(files) for msg, files in used_messages().items() if not texts.get(msg)}
    assert missing == {}, "add these to messages.po (see docs/admin-panel.md, Languages: how to add a string): " + repr(missing)


def test_no_fuzzy_or_obsolete_entries(po) -> None:  # type: ignore[no-untyped-def]
    assert [m.id for m in po if m.id and m.fuzzy] == []
    assert list(po.obsolete) == []


def test_chinese_keeps_the_placeholders_of_the_english(po) -> None:  # type: ignore[no-untyped-def]
    placeholder = re.compile(r"%\(\w+\)s|\{\w*\}")
    wrong = [m.id for m in po if m.id and sorted(placeholder.findall(m.id)) != sorted(placeholder.findall(m.string))]
    assert wrong == []


def test_the_compiled_catalogue_matches_the_po(po) -> None:  # type: ignore[no-untyped-def]
    # a .po edited without `pybabel compile` would show stale Chinese
    with MO.open("rb") as f:
        mo = read_mo(f)
    assert {m.id: m.string for m in mo if m.id} == {m.id: m.string for m in po if m.id}


def test_every_label_of_a_stored_code_and_every_activity_word_is_translated() -> None:
    words = set(LABELS.values()) | set(EVENT_LABELS.values()) | set(EVENT_VALUES.values())
    untranslated = sorted(w for w in words if translate(w, "zh") == w)
    assert untranslated == []
    assert translate("Campaign monitor", "en") == "Campaign monitor"
