"""The customers' web survey ``GET/POST /s/<code>`` (CONTRACT §4b): mobile first, Chinese or
English by the customer's language, CSRF-protected, one use per code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_wtf.csrf import CSRFError

from followup.clock import wall_clock
from followup.letters.render import long_date
from followup.surveys.code_guard import must_wait, record_miss
from followup.surveys.web_survey import SurveyPage, survey_page, take_web_survey
from followup.web.client_address import client_address, limit_key
from followup.web.context import db_session, runtime
from followup.web.i18n import translate

bp = Blueprint("survey", __name__, template_folder="../templates")


def _client() -> str:
    """The customer's address as the trusted proxies tell it (CONTRACT §2)."""
    return client_address(request, runtime().settings.trusted_proxies)


def _render(name: str, lang: str, status: int, page: SurveyPage | None = None, **context: Any) -> Any:
    return render_template(
        f"survey/{name}.html", lang=lang, _=lambda m: translate(m, lang), page=page,
        questions=[{"id": q.id, "kind": q.kind, "text": q.text(lang), "optional": q.optional}
                   for q in (page.questions if page else ())],  # R5: the questions of the visit's service type
        **context,
    ), status


def _page(page: SurveyPage | None, form: dict[str, str] | None = None) -> Any:
    if page is None:
        # one answer for every unknown code (and for a code that never went out): a guess learns nothing
        session = db_session()
        session.rollback()  # nothing of a failed lookup is kept but the miss
        record_miss(session, limit_key(_client()), wall_clock())
        session.commit()
        return _render("not_found", runtime().settings.default_language, 404)
    if page.state == "thanks":
        return _render("thanks", page.language, 200, page=page)
    if page.state in ("answered", "expired"):
        return _render("closed", page.language, 410, page=page)
    return _render("form", page.language, 422 if page.errors else 200, page=page, values=form or {},
                   visit_date=long_date(page.visit_date, page.language))


@bp.errorhandler(CSRFError)
def _stale_form(_exc: CSRFError) -> Any:
    """A form without a valid token (cookies lost, or a forged post): a page, not a bare 400."""
    return _render("stale", runtime().settings.default_language, 400)


@bp.route("/s/<code>", methods=["GET", "POST"])
def survey(code: str) -> Any:
    rt, s = runtime(), db_session()
    if must_wait(s, rt.settings.code_guard, limit_key(_client()), wall_clock()):
        return _render("too_many", rt.settings.default_language, 429)
    now = rt.clock.now()
    if request.method == "GET":
        return _page(survey_page(s, rt.settings, code, now))
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    evidence = {"address": _client(), "user_agent": request.headers.get("User-Agent", "")[:300]}
    page = take_web_survey(s, rt.settings, code, form, now, evidence=evidence)
    s.commit()
    return _page(page, form)
