"""A visit: one closed repair order (工单) delivered to the customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base


class Visit(Base):
    """One repair order; (store, RO number) is unique and a re-import updates it (R1)."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("store_id", "ro_number"),
        # a month's visits of a store: the advisor statement's 接车台次 (R9) and DC-call rate (R11)
        Index("ix_visits_store_delivered", "store_id", "delivered_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    #: 工单号
    ro_number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"))
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    #: maintenance | repair | warranty | insurance | quick | internal
    service_type: Mapped[str] = mapped_column(String(20))
    #: 交车时间 D, UTC
    delivered_at: Mapped[datetime]
    mileage_km: Mapped[int | None]
    #: "import:<file name>" or "api:<token name>"
    source: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime]
    updated_at: Mapped[datetime]
