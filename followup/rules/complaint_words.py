"""Reading a customer's own words for R7. Pure: no database, no clock.

* :func:`complaint_word` — the store's complaint word (投诉, 乱收费, 再也不来, …) a text contains: such
  a comment or late reply opens a complaint whatever the scores said.
* :func:`read_category` — the category (等待时间, 价格, 服务态度, 维修质量, 环境, 其他) a text points to,
  from words configured per category; ``other`` when nothing matches.

Texts are compared after NFKC folding and lower-casing, so full-width digits (１２３１５) and
capitals read like their plain forms; spaces are ignored (Chinese is written without them).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

#: the categories, in the order ties are decided; ``other`` always last
CATEGORIES = ("waiting_time", "price", "attitude", "repair_quality", "environment", "other")
#: each category's label (Chinese, English)
CATEGORY_LABELS: Mapping[str, tuple[str, str]] = {
    "waiting_time": ("等待时间", "Waiting time"),
    "price": ("价格", "Price"),
    "attitude": ("服务态度", "Attitude"),
    "repair_quality": ("维修质量", "Repair quality"),
    "environment": ("环境", "Environment"),
    "other": ("其他", "Other"),
}
#: the rulebook's complaint words, the default of ``[complaints] words``
DEFAULT_COMPLAINT_WORDS: tuple[str, ...] = (
    "投诉", "乱收费", "再也不来", "太差", "欺骗", "曝光", "12315", "消协", "骗子", "坑人", "黑店", "差评",
)
#: the default of ``[complaints.categories]``; single characters that also start polite words
#: (贵 in 贵店 "your store") are avoided
DEFAULT_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waiting_time", ("等待", "等了", "等太久", "等很久", "排队", "太慢", "很慢", "拖延", "延误", "迟迟", "耽误",
                      "没按时", "不准时", "超时", "晚交车", "wait", "slow", "late")),
    ("price", ("价格", "收费", "太贵", "很贵", "好贵", "偏贵", "费用", "多收", "报价", "加价", "结账", "宰客", "坑钱",
               "工时费", "配件费", "price", "expensive", "charge", "overcharg")),
    ("attitude", ("态度", "不耐烦", "不礼貌", "爱理不理", "冷淡", "脸色", "敷衍", "推诿", "没人理", "不理人", "骂人",
                  "rude", "impolite", "attitude")),
    ("repair_quality", ("没修好", "修不好", "没有修好", "又坏", "还是坏", "质量", "异响", "漏油", "故障", "返修", "划伤",
                        "划痕", "刮花", "问题还在", "又出现", "亮灯", "not fixed", "broken", "scratch", "noise")),
    ("environment", ("环境", "卫生", "太脏", "很脏", "休息区", "厕所", "洗手间", "停车", "太吵", "空调", "拥挤",
                     "dirty", "parking", "waiting room")),
)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def complaint_word(text: str | None, words: Sequence[str]) -> str | None:
    """The first of ``words`` that ``text`` contains, or None."""
    if not text:
        return None
    folded = _fold(text)
    return next((w for w in words if w.strip() and _fold(w) in folded), None)


def read_category(text: str | None, category_words: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The category whose words ``text`` contains most often (ties: the one listed first); ``other``."""
    if not text:
        return "other"
    folded = _fold(text)
    best, hits = "other", 0
    for category, words in category_words:
        count = sum(folded.count(_fold(w)) for w in words if w.strip())
        if count > hits:
            best, hits = category, count
    return best


def category_from_answers(answers: Mapping[str, object]) -> str:
    """When the comment says nothing: what the scored answers point to (not fixed first, late, the
    advisor), else ``other``."""
    if str(answers.get("fixed_right")) in ("no", "0", "0.0"):
        return "repair_quality"
    if str(answers.get("on_time")) in ("no", "0", "0.0"):
        return "waiting_time"
    advisor = answers.get("advisor")
    try:
        if advisor is not None and float(str(advisor)) <= 6:
            return "attitude"
    except ValueError:
        pass
    return "other"
