"""The subscribers page (admin only): list, add, turn off/on, rotate a secret, test, delivery log, replay."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template, request

from followup.web.admin.actions import done, refused
from followup.web.auth import role_required
from followup.web.context import db_session, runtime
from followup.web.no_store import no_store
from followup.webhooks import admin as service
from followup.webhooks.robots import KINDS

bp = Blueprint("admin_webhooks", __name__, url_prefix="/webhooks/subscribers", template_folder="../templates")


def _subscriber(sub_id: int) -> Any:
    try:
        return service.get(db_session(), sub_id)
    except LookupError:
        abort(404)


def _page(status: int = 200, **shown: Any) -> Any:
    rows = service.overview(db_session())
    return render_template("admin/webhooks.html", rows=rows, kinds=KINDS, shown_url=service.shown_url,
                           **shown), status


@bp.get("")
@role_required("admin")
def index() -> Any:
    return _page()


@bp.post("")
@role_required("admin")
@no_store  # the new secret is shown on this response only
def add() -> Any:
    s, kind = db_session(), request.form.get("kind", "standard")
    try:
        sub, secret = service.add(s, request.form.get("url", ""), now=runtime().clock.now(), actor=g.user.username,
                                  allow_private=runtime().settings.webhook_allow_private, kind=kind,
                                  robot_secret=request.form.get("robot_secret", ""))
    except service.SubscriberError as exc:
        return _page(422, error=str(exc), url=request.form.get("url", ""), kind=kind)
    s.commit()
    if secret is None:
        return _page(added=service.shown_url(sub.url, sub.kind))
    return _page(new_secret=secret, secret_for=sub.url)


@bp.post("/<int:sub_id>/<action>")
@role_required("admin")
@no_store  # rotate shows the new secret
def act(sub_id: int, action: str) -> Any:
    s, now, actor = db_session(), runtime().clock.now(), g.user.username
    sub = _subscriber(sub_id)
    try:
        if action == "disable":
            service.turn_off(s, sub, now=now, actor=actor)
            message = "Subscriber turned off."
        elif action == "enable":
            service.turn_on(s, sub, now=now, actor=actor)
            message = "Subscriber turned on."
        elif action == "test":
            service.queue_test(s, sub, now=now, actor=actor)
            message = "Test event queued: the next delivery pass sends it."
        elif action == "rotate":
            secret = service.rotate(s, sub, now=now, actor=actor)
            s.commit()
            return _page(new_secret=secret, secret_for=sub.url)
        else:
            abort(404)
    except service.SubscriberError as exc:
        s.rollback()
        return _page(422, error=str(exc))
    return done(message, "admin_webhooks.index")


@bp.get("/<int:sub_id>/log")
@role_required("admin")
def log(sub_id: int) -> Any:
    sub = _subscriber(sub_id)
    return render_template("admin/webhooks_log.html", sub=sub, lines=service.delivery_log(db_session(), sub),
                           shown_url=service.shown_url)


@bp.post("/<int:sub_id>/deliveries/<int:delivery_id>/replay")
@role_required("admin")
def replay(sub_id: int, delivery_id: int) -> Any:
    s = db_session()
    sub = _subscriber(sub_id)
    try:
        d = service.replay(s, delivery_id, now=runtime().clock.now(), actor=g.user.username)
    except LookupError:
        abort(404)
    except service.SubscriberError as exc:
        return refused(exc, "admin_webhooks.log", sub_id=sub.id)
    if d.subscriber_id != sub.id:
        s.rollback()
        abort(404)
    return done("Replay queued: the next delivery pass sends it again, with the same webhook id.",
                "admin_webhooks.log", sub_id=sub.id)
