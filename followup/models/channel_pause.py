"""A channel paused for one store because the provider said the account or configuration is
wrong (RULES R3): the store's due calls (or SMS) wait until an administrator resumes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base

#: the one open pause of a (store, channel): a second account error while paused writes nothing
OPEN = "resumed_at IS NULL"


class ChannelPause(Base):
    """One pause, from the first account error to the administrator's resume (kept afterwards)."""

    __tablename__ = "channel_pauses"
    __table_args__ = (
        Index("ux_channel_pauses_open", "store_code", "channel", unique=True,
              postgresql_where=text(OPEN), sqlite_where=text(OPEN)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    store_code: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))  # call | sms
    paused_at: Mapped[datetime]
    #: the provider's error code (Twilio 20003, Alibaba Cloud isv.ACCOUNT_ABNORMAL …)
    code: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(String(300))
    resumed_at: Mapped[datetime | None]
    #: "user:<username>" (the panel) or "cli"
    resumed_by: Mapped[str | None] = mapped_column(String(80))
