"""Synthetic dealership data: DMS exports and bulk-loaded case backlogs.

Everything is generated from a seed, so two runs measure the same data.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕红梅"
MODELS = ("朗逸", "速腾", "迈腾", "帕萨特", "途观L", "探岳", "宝来", "凌渡", "高尔夫", "ID.4")
TYPES = ("maintenance", "repair", "warranty", "insurance", "quick", "保养", "维修")
HEADER = ["门店代码", "工单号", "客户姓名", "手机", "电话", "地址", "车牌号", "车架号", "车型",
          "服务顾问工号", "服务顾问", "维修类型", "交车时间", "里程", "语言"]


def write_dms_csv(path: Path, rows: int, *, store: str = "SZ01", seed: int = 9,
                  delivered_from: datetime | None = None) -> Path:
    """A GB18030 CSV as a Chinese DMS exports it: Chinese headers, local times, mixed phone formats."""
    rng = random.Random(seed)
    start = delivered_from or datetime(2026, 11, 20, 9, 0)
    with path.open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(rows):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            mobile = f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
            if rng.random() < 0.3:
                mobile = f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"
            delivered = start + timedelta(minutes=rng.randint(0, 60 * 24 * 2))
            w.writerow([
                store, f"WO{seed:02d}{i:08d}", name, mobile, "",
                f"深圳市南山区科技园{rng.randint(1, 300)}号{rng.randint(1, 30)}栋{rng.randint(101, 2999)}",
                f"粤B{rng.randint(10000, 99999)}", f"LSV{rng.randint(10**13, 10**14 - 1)}", rng.choice(MODELS),
                f"SA{rng.randint(1, 12):02d}", "", rng.choice(TYPES), delivered.strftime("%Y-%m-%d %H:%M"),
                rng.randint(1000, 150000), "zh",
            ])
    return path


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)
