"""What an API token may do (``followup tokens create --store --scope``): its scope and its store.

A leaked DMS token used to be able to re-point every customer's mobile in every store. A token
made ``--scope read`` now only reads, ``--scope worklist`` only works the call worklist, and
``--store SZ01`` only touches SZ01; the API answers 403 for anything else (401 stays for a token
that is unknown, revoked or expired). A token made without them keeps the old meaning.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.models import ApiToken, ContactAttempt, FollowupCase, Store

#: what each ``--scope`` allows; a token made without one (None) is allowed all three
SCOPES: dict[str | None, frozenset[str]] = {
    None: frozenset({"read", "write", "worklist"}),
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
    "worklist": frozenset({"worklist"}),
}


def needed_scope(blueprint: str | None, method: str) -> str:
    """The scope a request needs: the worklist's endpoints need ``worklist``; anything else that
    only reads (GET, HEAD, OPTIONS) ``read``; every other method ``write`` — a new endpoint that
    changes something needs ``write`` without anybody remembering to say so."""
    if blueprint == "api_worklist":
        return "worklist"
    return "read" if method in ("GET", "HEAD", "OPTIONS") else "write"


def scope_allows(token: ApiToken, need: str) -> bool:
    return need in SCOPES.get(token.scope, frozenset())


def token_store(session: Session, token: ApiToken) -> str | None:
    """The code of the one store the token may touch; None for a token of every store."""
    if token.store_id is None:
        return None
    return session.scalar(select(Store.code).where(Store.id == token.store_id)) or ""


def attempt_store(session: Session, attempt_id: int) -> str | None:
    """The store of a planned or made contact (a worklist call), None when there is no such contact."""
    return session.scalar(
        select(Store.code).join(FollowupCase, FollowupCase.store_id == Store.id)
        .join(ContactAttempt, ContactAttempt.case_id == FollowupCase.id).where(ContactAttempt.id == attempt_id))
