"""Settings (administrators only): stores and policy, survey, message previews, users, API tokens.

Stores, calling windows and the attempt policy are shown read-only: they live in
``config/followup.toml`` so that a change is reviewed and deployed like code.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from followup import accounts, audit
from followup.message_previews import previews
from followup.models import ROLES
from followup.web.auth import role_required
from followup.web.context import db_session, runtime

bp = Blueprint("settings", __name__, template_folder="../templates")


def _actor() -> str:
    return f"user:{g.user.username}"


@bp.get("/settings")
@role_required("admin")
def index() -> Any:
    s = runtime().settings
    return render_template("admin/settings.html", stores=list(s.stores.values()), survey=s.survey,
                           config_path=s.config_path.name)


@bp.get("/settings/messages")
@role_required("admin")
def messages() -> Any:
    return render_template("admin/settings_messages.html", previews=previews(runtime().settings))


def _users_page(status: int = 200) -> Any:
    return render_template("admin/settings_users.html", users=accounts.list_users(db_session()), roles=ROLES,
                           stores=list(runtime().settings.stores)), status


@bp.get("/settings/users")
@role_required("admin")
def users() -> Any:
    return _users_page()


@bp.post("/settings/users")
@role_required("admin")
def add_user() -> Any:
    s, now = db_session(), runtime().clock.now()
    form = request.form
    username, role, store = form.get("username", "").strip(), form.get("role", ""), form.get("store", "")
    advisor_code = form.get("advisor_code", "").strip()
    try:
        if role != "admin" and not store:
            raise accounts.AccountError("choose the user's store")
        user = accounts.add_user(s, username, form.get("password", ""), role, [store] if store else [], now=now)
        if role == "advisor" and advisor_code and store:
            accounts.link_advisor(s, user, store, advisor_code)
        audit.record(s, _actor(), "user.saved", at=now, username=username, role=role, store=store or None)
    except accounts.AccountError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("settings.users"))
    s.commit()
    flash("The user is saved.", "ok")
    return redirect(url_for("settings.users"))


@bp.post("/settings/users/<int:user_id>/deactivate")
@role_required("admin")
def deactivate(user_id: int) -> Any:
    s, now = db_session(), runtime().clock.now()
    try:
        if user_id == g.user.id:
            raise accounts.AccountError("you cannot deactivate yourself")
        user = accounts.deactivate_user(s, user_id)
        audit.record(s, _actor(), "user.deactivated", at=now, username=user.username)
    except accounts.AccountError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("settings.users"))
    s.commit()
    flash("The user is deactivated.", "ok")
    return redirect(url_for("settings.users"))


def _tokens_page(new_token: str | None = None) -> Any:
    return render_template("admin/settings_tokens.html", tokens=accounts.list_tokens(db_session()),
                           new_token=new_token)


@bp.get("/settings/tokens")
@role_required("admin")
def tokens() -> Any:
    return _tokens_page()


@bp.post("/settings/tokens")
@role_required("admin")
def create_token() -> Any:
    s, now = db_session(), runtime().clock.now()
    name = request.form.get("name", "")
    try:
        token = accounts.create_token(s, name, now=now)
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("settings.tokens"))
    audit.record(s, _actor(), "token.created", at=now, name=name.strip(), prefix=token[:8])
    s.commit()
    # the token itself is shown on this response only; the database keeps its hash
    return _tokens_page(new_token=token)


@bp.post("/settings/tokens/<int:token_id>/revoke")
@role_required("admin")
def revoke_token(token_id: int) -> Any:
    s, now = db_session(), runtime().clock.now()
    try:
        row = accounts.revoke_token(s, token_id, now=now)
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("settings.tokens"))
    audit.record(s, _actor(), "token.revoked", at=now, name=row.name, prefix=row.prefix)
    s.commit()
    flash("The token is revoked.", "ok")
    return redirect(url_for("settings.tokens"))
