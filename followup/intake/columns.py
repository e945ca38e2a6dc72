"""Column names of a visits file (CONTRACT §4): canonical fields, header aliases, required columns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from followup.intake.records import UnusableFile

FIELDS: tuple[str, ...] = (
    "store_code",
    "ro_number",
    "customer_name",
    "mobile",
    "phone",
    "address",
    "plate",
    "vin",
    "vehicle_model",
    "advisor_code",
    "advisor_name",
    "service_type",
    "delivered_at",
    "mileage_km",
    "language",
)

#: The Chinese header of each field, as CONTRACT §4 names it (used in messages too).
CHINESE_HEADERS: dict[str, str] = {
    "store_code": "门店代码",
    "ro_number": "工单号",
    "customer_name": "客户姓名",
    "mobile": "手机",
    "phone": "电话",
    "address": "地址",
    "plate": "车牌号",
    "vin": "车架号",
    "vehicle_model": "车型",
    "advisor_code": "服务顾问工号",
    "advisor_name": "服务顾问",
    "service_type": "维修类型",
    "delivered_at": "交车时间",
    "mileage_km": "里程",
    "language": "语言",
}

# Further spellings seen in DMS exports and hand-made sheets, beyond the canonical and contract names.
_VARIANTS: dict[str, tuple[str, ...]] = {
    "store_code": ("store", "dealer_code", "门店编码", "门店编号", "门店"),
    "ro_number": ("ro", "ro_no", "repair_order", "工单编号", "维修工单号", "委托书号"),
    "customer_name": ("customer", "name", "客户名称", "客户", "姓名"),
    "mobile": ("mobile_phone", "cell", "手机号", "手机号码", "移动电话"),
    "phone": ("landline", "telephone", "tel", "固定电话", "座机", "联系电话"),
    "address": ("客户地址", "联系地址"),
    "plate": ("plate_number", "license_plate", "车牌", "车牌号码"),
    "vin": ("车架号码", "vin码"),
    "vehicle_model": ("model", "车辆型号"),
    "advisor_code": ("advisor_id", "服务顾问编号", "顾问工号"),
    "advisor_name": ("advisor", "服务顾问姓名"),
    "service_type": ("维修类别", "业务类型"),
    "delivered_at": ("delivery_time", "delivered", "交车日期"),
    "mileage_km": ("mileage", "km", "行驶里程", "公里数"),
    "language": ("lang",),
}

#: Columns that must be present (``store_code`` only when no store is given on the command line).
REQUIRED: tuple[str, ...] = (
    "store_code",
    "ro_number",
    "customer_name",
    "advisor_code",
    "service_type",
    "delivered_at",
)

_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_header(text: object) -> str:
    """Normalise a header cell for lookup: NFKC, BOM removed, stripped, case-folded, ``-``/spaces → ``_``."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text))
    value = value.replace("\ufeff", "").strip().casefold()
    return _SEPARATORS.sub("_", value)


def _build_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for field in FIELDS:
        names = (field, field.replace("_", " "), CHINESE_HEADERS[field], *_VARIANTS.get(field, ()))
        for name in names:
            aliases[normalise_header(name)] = field
    return aliases


#: Normalised header text (see :func:`normalise_header`) → canonical field name.
HEADER_ALIASES: dict[str, str] = _build_aliases()


def describe(field: str) -> str:
    """``"ro_number (工单号)"``: a field named for messages, canonical and Chinese."""
    chinese = CHINESE_HEADERS.get(field)
    return f"{field} ({chinese})" if chinese else field


def map_headers(headers: Sequence[object], *, store_given: bool) -> dict[int, tuple[str, str]]:
    """Map column positions to ``(canonical field, header as written)``; unknown columns are left out.

    Raises :class:`UnusableFile` for a header row in the wrong delimiter, a field given by two
    columns, or a missing required column.
    """
    written = ["" if h is None else str(h).replace("\ufeff", "").strip() for h in headers]
    if len([h for h in written if h]) == 1:
        only = next(h for h in written if h)
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs")):
            if delimiter in only:
                raise UnusableFile(
                    f"wrong delimiter: the header row is separated by {label}, expected commas"
                )
    mapping: dict[int, tuple[str, str]] = {}
    seen: dict[str, str] = {}
    for index, text in enumerate(written):
        field = HEADER_ALIASES.get(normalise_header(text))
        if field is None:
            continue
        if field in seen:
            raise UnusableFile(f"two columns for {describe(field)}: {seen[field]!r} and {text!r}")
        seen[field] = text
        mapping[index] = (field, text)
    missing = [f for f in REQUIRED if f not in seen and not (f == "store_code" and store_given)]
    if "mobile" not in seen and "phone" not in seen:
        missing.append(f"{describe('mobile')} or {describe('phone')}")
    if missing:
        names = [describe(m) if m in CHINESE_HEADERS else m for m in missing]
        label = "column" if len(names) == 1 else "columns"
        raise UnusableFile(f"missing required {label}: {', '.join(names)}")
    return mapping
