"""Users and API tokens: Argon2id password hashes, SHA-256 token hashes.

Every change made here is audited here (R10: who, when, what), whoever asks for it: the panel
(``actor="user:<username>"``) or the ``followup`` command (``actor="cli:<os user>"``). The audit
row names the user or the token, never a password or a token.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from followup import audit
from followup.models import ROLES, ApiToken, LoginFailure, Store, User, UserStore

_hasher = PasswordHasher()  # argon2-cffi defaults: Argon2id, RFC 9106 low-memory profile

MIN_PASSWORD_LENGTH = 10
#: the actor of a change nobody asked for by hand: demo data and test fixtures
SYSTEM = "system"
#: the 1,000 most common passwords of at least ``MIN_PASSWORD_LENGTH`` characters (shorter ones
#: are refused by the length rule anyway); see the file's header for where the list comes from
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The refused passwords, lower case (read once per process)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


class AccountError(ValueError):
    """A user or token cannot be created as asked; the message says why."""


def check_password(password: str) -> None:
    """Refuse a password that is too short or one of the most common ones (AccountError says which)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().lower() in common_passwords():
        raise AccountError("password too common: choose another one")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(
    session: Session, username: str, password: str, role: str, stores: list[str], *, now: datetime,
    actor: str = SYSTEM,
) -> User:
    """Create or update a user (password, role, stores); audited as ``user.saved`` by ``actor``.

    The user's stores become exactly ``stores``: a store left out is taken away (a user moved from
    SZ01 to GZ01 no longer sees SZ01). The audit row has the stores and role before and after.
    """
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if not username or len(username) > 80 or not username.isprintable() or " " in username:
        raise AccountError("username: 1-80 printable characters without spaces")
    check_password(password)
    wanted = _stores_by_code(session, stores)
    user = session.scalar(select(User).where(User.username == username))
    role_before = user.role if user is not None else None
    if user is None:
        user = User(username=username, role=role, password_hash="", created_at=now, session_version=0)
        session.add(user)
    elif user.password_hash:
        end_sessions(user)  # a new password ends the sessions opened with the old one
    user.password_hash = hash_password(password)
    user.role = role
    session.flush()
    before = _set_stores(session, user, wanted)
    audit.record(session, actor, "user.saved", at=now, username=username, role=role, stores=sorted(wanted),
                 role_before=role_before, stores_before=before)
    return user


def _stores_by_code(session: Session, codes: list[str]) -> dict[str, int]:
    """Store code -> id for each of ``codes``; AccountError naming the first unknown one (nothing changed yet)."""
    found = dict(session.execute(select(Store.code, Store.id).where(Store.code.in_(set(codes)))).all())
    for code in codes:
        if code not in found:
            raise AccountError(f"unknown store {code!r}")
    return found


def _set_stores(session: Session, user: User, wanted: dict[str, int]) -> list[str]:
    """Make ``user``'s stores exactly ``wanted``; the codes they had before, sorted."""
    had = dict(session.execute(
        select(Store.code, UserStore.store_id).join(Store, Store.id == UserStore.store_id)
        .where(UserStore.user_id == user.id)
    ).all())
    for code, store_id in had.items():
        if code not in wanted:
            session.delete(session.get_one(UserStore, (user.id, store_id)))
    for code, store_id in wanted.items():
        if code not in had:
            session.add(UserStore(user_id=user.id, store_id=store_id))
    session.flush()
    return sorted(had)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: ``--scope``: what a token may do; a token made without one may do all of it (read, write, worklist)
TOKEN_SCOPES = ("read", "write", "worklist")


def create_token(session: Session, name: str, *, now: datetime, actor: str = SYSTEM, user: str | None = None,
                 store: str | None = None, scope: str | None = None, expires_in: timedelta | None = None) -> str:
    """A new API token; only its hash is stored, the token is returned once. Audited as
    ``token.created`` by ``actor``, with the token's name, its public prefix and its limits.

    ``user``: the token acts as that (active) user — the call worklist API needs it; ``store``:
    it reads and writes that store only; ``scope``: ``read``, ``write`` (read and write) or
    ``worklist``; ``expires_in``: refused from then on. Without them it keeps the meaning tokens
    always had: every store, read and write, no expiry.
    """
    if not name.strip():
        raise AccountError("token name must not be empty")
    if len(name.strip()) > 80 or not name.strip().isprintable():
        raise AccountError("token name: at most 80 printable characters")
    if scope is not None and scope not in TOKEN_SCOPES:
        raise AccountError(f"unknown scope {scope!r}: use one of {', '.join(TOKEN_SCOPES)}")
    if expires_in is not None and expires_in <= timedelta(0):
        raise AccountError("the token must expire after it is made")
    acting = None
    if user:
        acting = session.scalar(select(User).where(User.username == user))
        if acting is None or not acting.active:
            raise AccountError(f"unknown user {user!r}")
    store_row = None
    if store:
        store_row = session.scalar(select(Store).where(Store.code == store))
        if store_row is None:
            raise AccountError(f"unknown store {store!r}")
    token = "fu_" + secrets.token_urlsafe(32)
    expires_at = now + expires_in if expires_in is not None else None
    session.add(ApiToken(name=name.strip(), token_hash=token_hash(token), prefix=token[:8], created_at=now,
                         user_id=acting.id if acting else None, store_id=store_row.id if store_row else None,
                         scope=scope, expires_at=expires_at))
    audit.record(session, actor, "token.created", at=now, name=name.strip(), prefix=token[:8],
                 user=acting.username if acting else None, store=store_row.code if store_row else None,
                 scope=scope, expires_at=expires_at.isoformat() if expires_at else None)
    return token


def token_owner(session: Session, token: str, *, now: datetime) -> ApiToken | None:
    """The token's row while it is valid: not revoked, not expired (the API answers 401 otherwise)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None)))
    if row is None or (row.expires_at is not None and now >= row.expires_at):
        return None
    row.last_used_at = now
    return row


def authenticate(session: Session, username: str, password: str, *, now: datetime,
                 address: str | None = None) -> User | None:
    """The user when the password is right; a failure is recorded otherwise, with the client
    ``address`` (as :mod:`followup.login_limits` counts it). Caller commits; callers from the web
    go through :func:`followup.login_limits.attempt_login`, which checks the limits first."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        # as slow as a wrong password, so that timing does not tell which usernames exist
        verify_password(_dummy_hash(), password)
    elif verify_password(user.password_hash, password):
        return user
    session.add(LoginFailure(username=username[:80], at=now, address=address[:64] if address else None))
    return None


def user_store_codes(session: Session, user: User) -> list[str]:
    """The stores a user may see; admins see every store."""
    if user.role == "admin":
        return list(session.scalars(select(Store.code).order_by(Store.code)))
    return list(
        session.scalars(
            select(Store.code).join(UserStore, UserStore.store_id == Store.id).where(UserStore.user_id == user.id)
        )
    )


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every session cookie issued before this is refused from now on."""
    user.session_version = (user.session_version or 0) + 1


def session_is_current(user: User, version: object) -> bool:
    """True when a session cookie's generation is the user's current one."""
    return isinstance(version, int) and version == (user.session_version or 0)


def deactivate_user(session: Session, user_id: int, *, now: datetime, actor: str) -> User:
    """Turn a user off: they can no longer log in and their open sessions end. Audited as
    ``user.deactivated`` by ``actor``."""
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("no such user")
    user.active = False
    end_sessions(user)
    audit.record(session, actor, "user.deactivated", at=now, username=user.username)
    return user


def link_advisor(session: Session, user: User, store_code: str, advisor_code: str) -> None:
    """Make ``user`` the panel login of a service advisor, so they see their own customers' cases."""
    from followup.models import Advisor

    store = session.scalar(select(Store).where(Store.code == store_code))
    if store is None:
        raise AccountError(f"unknown store {store_code!r}")
    advisor = session.scalar(select(Advisor).where(Advisor.store_id == store.id, Advisor.code == advisor_code))
    if advisor is None:
        advisor = Advisor(store_id=store.id, code=advisor_code, name=None)
        session.add(advisor)
    advisor.user_id = user.id
    session.flush()


def list_users(session: Session) -> list[tuple[User, list[str]]]:
    """Every user with the store codes they are scoped to, by username."""
    users = list(session.scalars(select(User).order_by(User.username)))
    pairs = session.execute(
        select(UserStore.user_id, Store.code).join(Store, Store.id == UserStore.store_id).order_by(Store.code)
    ).all()
    stores: dict[int, list[str]] = {}
    for uid, code in pairs:
        stores.setdefault(uid, []).append(code)
    return [(u, stores.get(u.id, [])) for u in users]


@dataclass(frozen=True)
class TokenRow:
    """A token as the settings page lists it: with the user it acts as and its store, by name."""

    token: ApiToken
    username: str | None
    store_code: str | None


def list_tokens(session: Session) -> list[TokenRow]:
    rows = session.execute(
        select(ApiToken, User.username, Store.code)
        .outerjoin(User, User.id == ApiToken.user_id).outerjoin(Store, Store.id == ApiToken.store_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return [TokenRow(token, username, code) for token, username, code in rows]


def revoke_token(session: Session, token_id: int, *, now: datetime, actor: str) -> ApiToken:
    """A revoked token is refused by the API from now on; the row stays for the record. Audited
    as ``token.revoked`` by ``actor``."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountError("no such token")
    if row.revoked_at is None:
        row.revoked_at = now
    audit.record(session, actor, "token.revoked", at=now, name=row.name, prefix=row.prefix)
    return row
