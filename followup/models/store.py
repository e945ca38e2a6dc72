"""Stores (门店) and their service advisors (服务顾问)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base
from followup.settings import DEFAULT_TIMEZONE


class Store(Base):
    """A dealership; its rules come from config, this row anchors the data."""

    __tablename__ = "stores"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the store code of the DMS and the config, e.g. SZ01
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: IANA zone; every rule is evaluated in it
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    created_at: Mapped[datetime]


class Advisor(Base):
    """A service advisor, identified by their staff code within the store."""

    __tablename__ = "advisors"
    __table_args__ = (UniqueConstraint("store_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    #: 服务顾问工号
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    #: the admin-panel user who is this advisor (for "advisors see only their own customers")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
