"""Customers (deduplicated by mobile within a store), their consent flags and vehicles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base


class Customer(Base):
    """A person the store follows up. Phone numbers are E.164; shown masked everywhere."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("store_id", "mobile"),
        Index("ix_customers_store_phone", "store_id", "phone"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    name: Mapped[str] = mapped_column(String(200))
    #: E.164 mobile; the deduplication key within a store
    mobile: Mapped[str | None] = mapped_column(String(20))
    #: E.164 landline
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(5), default="zh")
    #: staff marked: never phone
    do_not_call: Mapped[bool] = mapped_column(default=False)
    #: staff marked: never text
    no_sms: Mapped[bool] = mapped_column(default=False)
    #: staff marked: no contact at all (no letters either)
    no_contact: Mapped[bool] = mapped_column(default=False)
    #: the customer replied an opt-out word (R6)
    sms_opted_out: Mapped[bool] = mapped_column(default=False)
    #: the provider said the mobile / landline cannot be called (invalid_number)
    mobile_bad: Mapped[bool] = mapped_column(default=False)
    phone_bad: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: R13: when the retention purge erased this customer's name, numbers, address and free texts
    anonymised_at: Mapped[datetime | None]


class Vehicle(Base):
    """A customer's car, by VIN (车架号) or plate (车牌号)."""

    __tablename__ = "vehicles"
    __table_args__ = (Index("ix_vehicles_plate", "plate"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    plate: Mapped[str | None] = mapped_column(String(32))
    vin: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(100))
