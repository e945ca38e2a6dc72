"""The batch's address list: a CSV for the post room or a mail-merge, and a printable label sheet."""

from __future__ import annotations

import csv
import io

from followup.letters.content import Letter

COLUMNS = ("序号 page", "客户姓名 name", "地址 address", "车牌号 plate", "工单号 ro_number", "回访码 reply_code")


def address_csv(letters: list[Letter]) -> str:
    """UTF-8 CSV text with a BOM (so that Excel shows the Chinese), one row per letter in page order."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for page, letter in enumerate(letters, start=1):
        writer.writerow(
            (page, _cell(letter.customer_name), _cell(letter.address), _cell(letter.plate), _cell(letter.ro_number),
             letter.reply_code)
        )
    return out.getvalue()


def _cell(value: str) -> str:
    """A cell Excel will not run as a formula (CSV injection), e.g. a name starting with ``=``."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
