"""The customers' web survey ``GET/POST /s/<code>`` (CONTRACT §4b): mobile first, Chinese or
English by the customer's language, CSRF-protected, one use per code."""

from __future__ import annotations

import time
from collections import deque
from threading import Lock
from typing import Any

from flask import Blueprint, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_wtf.csrf import CSRFError

from followup.letters.render import long_date
from followup.surveys.web_survey import SurveyPage, survey_page, take_web_survey
from followup.web.context import db_session, runtime
from followup.web.i18n import translate

bp = Blueprint("survey", __name__, template_folder="../templates")

#: unknown codes one address may try within WINDOW seconds before it is told to wait
MAX_MISSES, WINDOW = 20, 600.0


class MissCounter:
    """Unknown codes per client address, in wall-clock time (like Twilio pacing, CONTRACT §5:
    guessing is measured in real seconds, also under the test clock)."""

    def __init__(self) -> None:
        self._misses: dict[str, deque[float]] = {}
        self._lock = Lock()

    def blocked(self, who: str) -> bool:
        with self._lock:
            seen = self._misses.get(who)
            now = time.monotonic()
            while seen and now - seen[0] > WINDOW:
                seen.popleft()
            return seen is not None and len(seen) >= MAX_MISSES

    def miss(self, who: str) -> None:
        with self._lock:
            self._misses.setdefault(who, deque()).append(time.monotonic())


@bp.record_once
def _miss_counter(state: BlueprintSetupState) -> None:
    state.app.extensions["followup.survey_misses"] = MissCounter()


def _misses() -> MissCounter:
    from flask import current_app

    counter: MissCounter = current_app.extensions["followup.survey_misses"]
    return counter


def _render(name: str, lang: str, status: int, page: SurveyPage | None = None, **context: Any) -> Any:
    return render_template(
        f"survey/{name}.html", lang=lang, _=lambda m: translate(m, lang), page=page,
        questions=[{"id": q.id, "kind": q.kind, "text": q.text(lang), "optional": q.optional}
                   for q in (page.questions if page else ())],  # R5: the questions of the visit's service type
        **context,
    ), status


def _page(page: SurveyPage | None, form: dict[str, str] | None = None) -> Any:
    if page is None:
        # one answer for every unknown code: a guess learns nothing
        _misses().miss(request.remote_addr or "?")
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
    if _misses().blocked(request.remote_addr or "?"):
        return _render("too_many", runtime().settings.default_language, 429)
    rt, s = runtime(), db_session()
    now = rt.clock.now()
    if request.method == "GET":
        return _page(survey_page(s, rt.settings, code, now))
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    page = take_web_survey(s, rt.settings, code, form, now)
    s.commit()
    return _page(page, form)
