"""A customer named ``<script>alert(1)</script>`` and an SMS reply ``<img src=x onerror=alert(1)>``
are shown as text everywhere: panel pages, the simulator, the live stream, the letter (HTML and
PDF), the web survey. Every HTML page carries the CSP; no template has inline script or style."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from followup.letters.content import load_letters
from followup.letters.render import letter_html
from followup.models import ContactAttempt, Customer, FollowupCase
from security.security_world import EVIL_NAME, EVIL_SMS, MOBILES, World, deliver_events_to_panel, stream_text

WEB = Path(__file__).resolve().parents[2] / "followup" / "web"
#: what must never reach a page unescaped: the tags themselves (escaped, they are harmless text)
RAW = (EVIL_NAME, EVIL_SMS, "<script>", "<img src=x")
#: an event-handler attribute inside a real tag (``&lt;img onerror=`` is text, not a tag)
HANDLER = re.compile(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=")
ESCAPED_NAME = html.escape(EVIL_NAME, quote=False)


def visible_text(page: str) -> str:
    """What a person reads: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def assert_escaped(page: str, where: str) -> None:
    for raw in RAW:
        assert raw not in page, (where, raw)
    assert not HANDLER.search(page), where


def test_the_panel_shows_the_hostile_name_and_sms_as_text(world: World) -> None:
    admin = world.client("admin")
    with world.rt.sessions() as s:
        customer = s.scalars(select(Customer.id).where(Customer.mobile == MOBILES["evil"])).one()
    shows_name = ["/cases", f"/cases/{world.cases['evil']}", "/complaints", f"/complaints/{world.complaints['evil']}",
                  f"/letters/{world.batches['SZ01']}", f"/simulator/{customer}"]
    for path in [*shows_name, "/", "/letters/", "/simulator/", "/reports?store=SZ01&month=2026-11",
                 f"/cases/{world.cases['letter']}"]:
        page = admin.get(path).get_data(as_text=True)
        assert_escaped(page, path)
    for path in shows_name:
        page = admin.get(path).get_data(as_text=True)
        assert ESCAPED_NAME in page or EVIL_NAME in visible_text(page), path
    case_page = admin.get(f"/cases/{world.cases['evil']}").get_data(as_text=True)
    assert EVIL_SMS in visible_text(case_page)  # the SMS reply is on the timeline, as text
    assert html.escape(EVIL_SMS, quote=False) in case_page
    complaint = admin.get(f"/complaints/{world.complaints['evil']}").get_data(as_text=True)
    assert EVIL_SMS in visible_text(complaint)  # the customer's comment


def test_the_live_stream_is_json_and_the_page_puts_it_in_with_text_content_only(world: World) -> None:
    sent = deliver_events_to_panel(world)
    text = stream_text(world.client("admin"), sent)
    for line in text.splitlines():
        if line.startswith("data: "):
            assert line[6:].startswith("{")  # JSON, read by activity.js, never markup
    script = (WEB / "static" / "activity.js").read_text(encoding="utf-8")
    assert "textContent" in script
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script.replace("never innerHTML", ""), sink


def test_the_letter_html_escapes_the_name_and_the_pdf_prints_it_as_text(world: World) -> None:
    rt = world.rt
    with rt.sessions() as s:
        attempt = s.scalars(select(ContactAttempt.id).where(ContactAttempt.case_id == world.cases["letter"],
                                                            ContactAttempt.channel == "letter")).one()
        (letter,) = load_letters(s, rt.settings, [attempt])
    page = letter_html(letter, rt.settings.stores["SZ01"], rt.settings, date(2026, 11, 19))
    assert EVIL_NAME not in page and ESCAPED_NAME in page
    pdf = world.client("staff1").get(f"/letters/{world.batches['SZ01']}/pdf").data
    printed = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert EVIL_NAME in printed.replace("\n", "")  # printed literally, not dropped as a tag


def test_the_web_survey_shows_nothing_of_the_customer_and_stores_html_as_text(world: World) -> None:
    with world.rt.sessions() as s:
        code = s.get_one(FollowupCase, world.cases["letter"]).reply_code
    client = world.app.test_client()
    form = client.get(f"/s/{code}").get_data(as_text=True)
    assert_escaped(form, "survey form")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answers = {"overall": "9", "fixed_right": "yes", "on_time": "yes", "advisor": "9", "comment": EVIL_SMS}
    done = client.post(f"/s/{code}", data={**answers, "csrf_token": token.group(1)})
    assert done.status_code == 200
    assert_escaped(done.get_data(as_text=True), "survey thanks")
    case_page = world.client("admin").get(f"/cases/{world.cases['letter']}").get_data(as_text=True)
    assert_escaped(case_page, "case page after the web survey")
    assert EVIL_SMS in visible_text(case_page)


def html_pages(world: World) -> list[str]:
    with world.rt.sessions() as s:
        code = s.get_one(FollowupCase, world.cases["letter"]).reply_code
    return ["/login", "/", "/cases", f"/cases/{world.cases['evil']}", "/complaints",
            f"/complaints/{world.complaints['evil']}", "/letters/", f"/letters/{world.batches['SZ01']}",
            "/letters/replies", "/reports?store=SZ01&month=2026-11", "/settings", "/settings/messages",
            "/settings/users", "/settings/tokens", "/webhooks/subscribers", "/simulator/", f"/s/{code}",
            "/cases/999999", "/s/NOSUCH"]


def test_every_html_page_has_the_csp_and_no_inline_script_or_style(world: World) -> None:
    admin = world.client("admin")
    for path in html_pages(world):
        resp = admin.get(path)
        assert resp.mimetype == "text/html", path
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        page = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert "style=" not in page and "<style" not in page, path
        assert not HANDLER.search(page), path


@pytest.mark.parametrize("template", sorted(p.relative_to(WEB) for p in (WEB / "templates").rglob("*.html")),
                         ids=str)
def test_no_template_has_inline_script_style_or_unescaped_output(template: Path) -> None:
    text = (WEB / template).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text and "style=" not in text, "inline style"
    assert not HANDLER.search(text), "inline event handler"
    assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup\(", text), "output marked safe"
