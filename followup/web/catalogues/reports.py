"""Chinese strings of the reports pages: English message id -> zh-CN text."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Advisor scores": "满意度考核",
    "Month": "月份",
    "Show": "查看",
    "Use a month written YYYY-MM, e.g. 2026-11.": "月份请写成 YYYY-MM，例如 2026-11。",
    "Per advisor, by survey completion time in the store's local time. Only independent surveys count (IVR, SMS, "
    "letter, web and information-staff calls); never an advisor's own call, never a re-survey.":
        "按服务顾问、按回访完成时间（门店当地时间）统计。只计独立回访（语音、短信、信函、网页及客户信息员电访），"
        "不计服务顾问本人对自己客户的电访，也不计投诉后的复访。",
    "Fewer responses than": "有效回访少于",
    "insufficient sample": "样本不足",
    "Bonus tiers": "奖金档位",
    "CNY": "元",
    "Download CSV": "下载 CSV",
    "Download XLSX": "下载 Excel",
    "Advisors": "服务顾问",
    "Advisor code": "服务顾问工号",
    "Responses": "有效回访数",
    "Score": "满意度得分",
    "Bonus (CNY)": "奖金（元）",
    "Score by advisor": "各服务顾问得分",
    "No counted survey in this month.": "本月没有计入考核的回访。",
    "Questions": "各题得分",
    "Answers": "回答数",
    "Average": "平均",
    "Cases whose deadline falls in the month": "本月到期的回访",
    "pending": "未判定",
    "Compliance rate": "三日达标率",
    "Response rate by channel": "各渠道回复率",
    "Channel": "渠道",
    "Cases contacted": "已联系的回访",
    "Answered the survey": "完成问卷",
    "Rate": "比率",
    "sms": "短信",
    "Twelve months": "近十二个月",
    "Store score by month": "门店每月得分",
    "Customers' comments": "客户原话",
    "No comment this month.": "本月没有客户意见。",
}
