"""Mainland phone numbers: normalising to E.164 and masking."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.intake import normalise_phone
from followup.privacy import mask_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),  # full-width digits
        ("+86 138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("138 0013 0012", "+8613800130012"),
        ("138-0013-8001", "+8613800138001"),
        ("8613800138000", "+8613800138000"),
        ("0086 138 0013 8000", "+8613800138000"),
        ("+8613800138003", "+8613800138003"),
        ("  13800138000\u3000", "+8613800138000"),  # ideographic space
        (13800138002, "+8613800138002"),  # an Excel number cell
        (13800138002.0, "+8613800138002"),
        ("13800138002.0", "+8613800138002"),
        (Decimal("13800138002"), "+8613800138002"),
        ("19912345678", "+8619912345678"),
    ],
)
def test_mobiles(raw: object, expected: str) -> None:
    assert normalise_phone(raw) == (expected, "mobile")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0755-26605049", "+8675526605049"),
        ("0755-8888 1234", "+8675588881234"),
        ("(0755)26605049", "+8675526605049"),
        ("010-88881234", "+861088881234"),
        ("+86 755 26605049", "+8675526605049"),
        ("０７５５－２６６０５０４９", "+8675526605049"),
    ],
)
def test_landlines(raw: object, expected: str) -> None:
    assert normalise_phone(raw) == (expected, "landline")


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "12345",
        "26605049",
        "1380013800",
        "138001380001",
        "+852 9123 4567",
        "4008001234",
        "abc",
        "138OO138000",
        "13800138000 ext 12",
        "13800138000.5",
        13800138000.5,
        True,
        -13800138000,
        float("nan"),
        float("inf"),
        ["13800138000"],
        "=13800138000",
        "0755-26605049转123",
        "1" * 500,
    ],
)
def test_invalid_numbers(raw: object) -> None:
    assert normalise_phone(raw) == (None, None)


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613800135678", "138****5678"),
        ("+8675526605049", "0755****5049"),
        ("+861088881234", "010****1234"),
        (None, None),
        ("garbage 987654", "****7654"),
        ("", "****"),
    ],
)
def test_mask_phone(e164: str | None, masked: str | None) -> None:
    assert mask_phone(e164) == masked


@given(st.text(max_size=60))
def test_normalise_phone_never_raises_on_text(text: str) -> None:
    number, kind = normalise_phone(text)
    assert number is None or number.startswith("+86")
    assert (number is None) == (kind is None)


@given(st.one_of(st.integers(), st.floats(), st.decimals(), st.none(), st.booleans()))
def test_normalise_phone_never_raises_on_numbers(value: object) -> None:
    number, _ = normalise_phone(value)
    assert number is None or number.startswith("+86")


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_mobile_never_shows_the_middle(national: str) -> None:
    number, kind = normalise_phone(national)
    if kind == "mobile":
        assert mask_phone(number) == national[:3] + "****" + national[-4:]
