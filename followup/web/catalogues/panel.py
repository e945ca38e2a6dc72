"""The panel's shared Chinese strings (login, navigation, monitor): English id -> zh-CN text."""

from __future__ import annotations

ZH: dict[str, str] = {
    "followup": "售后回访",
    "After-sales follow-up": "售后回访自动化",
    "Log in": "登录",
    "Log out": "退出",
    "Username": "用户名",
    "Password": "密码",
    "Wrong username or password.": "用户名或密码错误。",
    "Too many failed logins: try again in 15 minutes.": "登录失败次数过多，请 15 分钟后再试。",
    "Please log in.": "请先登录。",
    "Campaign monitor": "回访监控",
    "Signed in as": "当前用户",
    "Stores": "门店",
    "Open cases": "进行中的回访",
    "Cases due today": "今日到期",
    "Breached (3-day rule)": "超时（三日规则）",
    "Closed": "已结束",
    "No visits yet: import a DMS export with `followup import-visits FILE`.": "还没有进站记录：请用 `followup import-visits 文件` 导入 DMS 导出的工单。",
    "English": "English",
    "中文": "中文",
    "Page not found.": "页面不存在。",
}

