"""The Chinese Markdown of a robot message: what happened, where, to whom (masked), and a link.

Every message names the store (its name, not only its code), the RO number, the customer's phone
masked as the panel shows it (``138****5678``: never a full number, whoever reads the group), the
complaint's level when there is one, what happened, and a link to the case or complaint page
(``PUBLIC_BASE_URL``). The whole text goes through :func:`followup.privacy.mask_in_text` once more
before it leaves, whatever an event's data holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.models import Customer, FollowupCase, Store, Visit, WebhookEvent
from followup.privacy import mask_in_text, mask_phone

#: every title starts with it: a DingTalk robot with the 自定义关键词 security setting can use it
KEYWORD = "售后回访"

LEVELS = {1: "一级（服务顾问）", 2: "二级（服务经理）", 3: "三级（总经理）"}
CHANNELS = {"call": "电话回访", "sms": "短信"}
ESCALATION = {"not_acknowledged": "未按时确认", "not_resolved": "未按时解决"}
BREACH = {"late_intake": "工单录入过晚", "insufficient_window": "可联系时段不足", "system_delay": "系统延误",
          "no_phone": "无可用电话", "staff_capacity": "人工外呼人手不足"}


@dataclass(frozen=True)
class Facts:
    """What a message says besides the event's own data, read from the database."""

    store_name: str
    timezone: str
    phone: str | None  # masked


def facts(session: Session, event: WebhookEvent) -> Facts:
    code = str(event.data.get("store_code") or "")
    store = session.scalar(select(Store).where(Store.code == code)) if code else None
    phone = None
    if event.case_id is not None:
        row = session.execute(
            select(Customer.mobile, Customer.phone, Store.name, Store.timezone)
            .join(Visit, Visit.customer_id == Customer.id).join(FollowupCase, FollowupCase.visit_id == Visit.id)
            .join(Store, Store.id == FollowupCase.store_id).where(FollowupCase.id == event.case_id)
        ).first()
        if row is not None:
            phone = mask_phone(row[0] or row[1])
            if store is None:
                return Facts(row[2], row[3], phone)
    if store is None:
        return Facts(code or "—", "Asia/Shanghai", phone)
    return Facts(store.name, store.timezone, phone)


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else "—"


def _local(value: Any, timezone: str) -> str:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return _one_line(value)
    return at.astimezone(ZoneInfo(timezone)).strftime("%m月%d日 %H:%M")


def compose(event: WebhookEvent, facts: Facts, public_base_url: str) -> tuple[str, str]:
    """``(title, markdown text)`` of ``event`` for a group robot."""
    data, base = event.data, public_base_url.rstrip("/")
    ro = _one_line(data.get("ro_number"))
    lines: list[str]
    if event.type in ("complaint.opened", "complaint.escalated"):
        level = LEVELS.get(int(data.get("level") or 0), _one_line(data.get("level")))
        if event.type == "complaint.opened":
            heading = "客户投诉已立案"
            what = f"客户对本次服务不满意，已立案投诉，请 {_one_line(data.get('assignee'))} 及时跟进。"
        else:
            heading = "投诉已升级"
            why = ESCALATION.get(str(data.get("reason")), _one_line(data.get("reason")))
            what = f"投诉{why}，已由 {_one_line(data.get('from_assignee'))} 升级至 {_one_line(data.get('assignee'))}。"
        link = f"{base}/complaints/{data.get('complaint_id')}"
        lines = [f"- 级别：{level}", f"- 处理时限：{_local(data.get('due_at'), facts.timezone)}",
                 f"- 情况：{what}", "", f"[查看投诉]({link})"]
    elif event.type == "three_day_rule.breached":
        heading = "三日回访超时"
        why = BREACH.get(str(data.get("reason")), _one_line(data.get("reason")))
        lines = [f"- 期限：{_local(data.get('deadline_at'), facts.timezone)}",
                 f"- 情况：未能在交车后三日内完成回访（原因：{why}）。", "", f"[查看案件]({base}/cases/{event.case_id})"]
    elif event.type == "channel.paused":
        heading = "回访渠道已暂停"
        channel = CHANNELS.get(str(data.get("channel")), _one_line(data.get("channel")))
        lines = [f"- 渠道：{channel}", f"- 错误：{_one_line(data.get('code'))} {_one_line(data.get('message'))}",
                 "- 情况：服务商账号或配置出错，本门店该渠道已暂停，修复后请管理员在后台恢复。", "",
                 f"[打开后台]({base}/)"]
    else:  # webhook.test
        heading = "测试消息"
        lines = [f"- 情况：群机器人已接通，由 {_one_line(data.get('by'))} 在后台发送。", "", f"[打开后台]({base}/)"]
    title = f"{KEYWORD}｜{heading}"
    head = [f"### {title}", f"- 门店：{facts.store_name}"]
    if event.type != "channel.paused" and event.type != "webhook.test":
        head += [f"- 工单号：{ro}", f"- 客户电话：{facts.phone or '—'}"]
    return title, mask_in_text("\n".join(head + lines))
