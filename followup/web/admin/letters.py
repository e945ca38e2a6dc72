"""Letters in the admin panel: the day's batches, their PDF and address list, printed / mailed /
returned, and returned paper forms keyed in by reply code. Thin views over ``followup.letters``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from followup import audit
from followup.letters import panel
from followup.letters.duty import batch_files
from followup.letters.letter_batch import build_batch
from followup.letters.mailing import MailingError, mark_mailed, mark_printed, mark_returned
from followup.letters.paper_replies import record_paper_reply
from followup.models import BatchLetter
from followup.web.auth import role_required
from followup.web.context import db_session, runtime
from followup.web.i18n import current_language

bp = Blueprint("letters", __name__, url_prefix="/letters", template_folder="../templates")
ROLES = ("info_staff", "manager")  # and admin, who passes every check



def _actor() -> str:
    return f"user:{g.user.username}"


def _say(message: str, kind: str = "ok") -> None:
    flash(gettext(message), kind)


@bp.get("/")
@role_required(*ROLES)
def batches() -> Any:
    rt, s = runtime(), db_session()
    now = rt.clock.now()
    return render_template(
        "admin/letters.html", rows=panel.batches(s, g.stores), waiting=panel.waiting(s, rt.settings, g.stores, now),
        held=panel.held(s, g.stores),
    )


@bp.post("/build")
@role_required(*ROLES)
def build() -> Any:
    rt, s = runtime(), db_session()
    code = request.form.get("store", "")
    if code not in g.stores or code not in rt.settings.stores:
        abort(403)
    now = rt.clock.now()
    result = build_batch(s, rt.settings, code, now.astimezone(rt.settings.stores[code].timezone).date(),
                         now=now, actor=_actor())
    s.commit()
    if result.held:
        _say("Some letters were held back for staff: no usable address, or the customer asked for no contact.", "warn")
    if result.batch is None:
        _say("No letter is waiting: no batch was built.", "warn")
        return redirect(url_for("letters.batches"))
    _say("Batch built.")
    return redirect(url_for("letters.batch", batch_id=result.batch.id))


def _batch_or_404(batch_id: int) -> panel.BatchRow:
    row = panel.batch_in_stores(db_session(), batch_id, g.stores)
    if row is None:
        abort(404)
    return row


@bp.get("/<int:batch_id>")
@role_required(*ROLES)
def batch(batch_id: int) -> Any:
    row = _batch_or_404(batch_id)
    return render_template("admin/letters_batch.html", row=row, letters=panel.letters_of(db_session(), batch_id),
                           files=batch_files(row.batch, row.store_code))


@bp.get("/<int:batch_id>/<kind>")
@role_required(*ROLES)
def download(batch_id: int, kind: str) -> Any:
    row = _batch_or_404(batch_id)
    b, names = row.batch, batch_files(row.batch, row.store_code)
    files = {"pdf": (b.pdf, "application/pdf"), "labels": (b.labels_pdf, "application/pdf"),
             "csv": (b.address_csv.encode("utf-8"), "text/csv; charset=utf-8")}
    if kind not in files:
        abort(404)
    body, mimetype = files[kind]
    s = db_session()
    audit.record(s, _actor(), "letters.exported", at=runtime().clock.now(), store_id=b.store_id, batch=b.id, file=kind)
    s.commit()
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{names[kind]}"'})


@bp.post("/<int:batch_id>/<step>")
@role_required(*ROLES)
def mark(batch_id: int, step: str) -> Any:
    row = _batch_or_404(batch_id)
    s, now = db_session(), runtime().clock.now()
    try:
        if step == "printed":
            mark_printed(s, row.batch, now=now, actor=_actor())
            _say("Batch marked printed.")
        elif step == "mailed":
            mark_mailed(s, row.batch, now=now, actor=_actor())
            _say("Batch marked mailed: its letters count as sent.")
        else:
            abort(404)
        s.commit()
    except MailingError:
        s.rollback()
        _say("That step was already done.", "warn")
    return redirect(url_for("letters.batch", batch_id=batch_id))


@bp.post("/<int:batch_id>/letters/<int:item_id>/returned")
@role_required(*ROLES)
def returned(batch_id: int, item_id: int) -> Any:
    row = _batch_or_404(batch_id)
    s = db_session()
    item = s.get(BatchLetter, item_id)
    if item is None or item.batch_id != row.batch.id:
        abort(404)
    try:
        closed = mark_returned(s, item, now=runtime().clock.now(), actor=_actor())
        s.commit()
        _say("Letter marked returned: the case is closed as unreachable and flagged." if closed
             else "Letter marked returned.")
    except MailingError:
        s.rollback()
        _say("Only a letter of a mailed batch can be marked returned, once.", "warn")
    return redirect(url_for("letters.batch", batch_id=batch_id))


PROBLEMS = {
    "unknown_code": "No follow-up has this reply code.",
    "answered": "This survey has already been answered.",
    "expired": "This follow-up is already closed.",
    "invalid": "Please check the answers marked below.",
}


@bp.route("/replies", methods=["GET", "POST"])
@role_required(*ROLES)
def paper_reply() -> Any:
    rt = runtime()
    lang = current_language()
    questions = [{"id": q.id, "kind": q.kind, "text": q.text(lang), "optional": q.optional}
                 for q in rt.settings.survey.questions]
    if request.method == "GET":
        return render_template("admin/letters_reply.html", questions=questions, values={}, errors={}, problem=None)
    s = db_session()
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    result = record_paper_reply(s, rt.settings, form.pop("code", ""), form, username=g.user.username,
                                stores=g.stores, now=rt.clock.now())
    if result.response is None:
        s.rollback()
        status = 422 if result.problem == "invalid" else 404 if result.problem == "unknown_code" else 409
        return render_template("admin/letters_reply.html", questions=questions, values=request.form,
                               errors=result.errors, problem=PROBLEMS[result.problem or "invalid"]), status
    s.commit()
    _say("Paper reply recorded." if result.response.satisfied else
         "Paper reply recorded: the customer is dissatisfied, a complaint was opened.")
    return redirect(url_for("letters.paper_reply"))
