"""Admin-panel users, their stores, and API tokens (stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base

ROLES = ("info_staff", "advisor", "manager", "admin")


class User(Base):
    """A person who logs in to the admin panel. Passwords are Argon2id hashes."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: info_staff | advisor | manager | admin
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime]
    #: the generation of this user's sessions: a session cookie is valid only while it carries the
    #: current one, so logging out (or a password change) ends every copy of the old cookie
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class UserStore(Base):
    """Store scoping: a user sees only the stores listed here (admins see all)."""

    __tablename__ = "user_stores"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)


class ApiToken(Base):
    """A bearer token for /api/v1; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    #: hex SHA-256 of the token
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the first characters, to recognise a token in the settings page
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: ``--user``: the token acts as this user (the call worklist, CONTRACT §9); None: nobody's
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: ``--store``: the one store it may read or write; None: every store
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    #: ``--scope``: read | write (read and write) | worklist; None: read, write and the worklist
    scope: Mapped[str | None] = mapped_column(String(10))
    #: ``--expires``: refused (401) from this instant on; None: never
    expires_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed login, kept to refuse a username after 10 failures in 15 minutes (CONTRACT §4b)
    and an address after too many failures for any username (:mod:`followup.login_limits`)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_user_at", "username", "at"),
                      Index("ix_login_failures_address_at", "address", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
    #: the client address the attempt came from, as limits count it (an IPv6 address: its /64)
    address: Mapped[str | None] = mapped_column(String(64))
    #: set by ``followup users unlock``: no longer counts toward the username's lock
    cleared_at: Mapped[datetime | None]
