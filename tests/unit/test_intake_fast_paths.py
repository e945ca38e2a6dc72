"""The importer's shortcuts give exactly what the full libphonenumber work gives.

``normalise_phone`` recognises the usual mainland mobile forms without a parse, and the webhook
scrubber skips strings that cannot hold a phone number; both must agree with the slow way.
"""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata

from followup.intake.phones import MOBILE, normalise_phone, parse_mainland
from followup.privacy import MIN_PHONE_DIGITS, mask_every_match, mask_in_text, scrub

# --- the mobile fast path ------------------------------------------------------------------------

_PREFIXES = ("", "+86", "86", "0086", "+86 ", "86-", "0086 ")


@pytest.mark.parametrize("head", [f"1{d}" for d in range(10)])
def test_every_mobile_range_agrees_with_libphonenumber(head: str) -> None:
    """Validity of a mainland mobile depends on its first 5 digits: try each with two endings."""
    for middle in range(1000):
        for tail in ("000000", "987654"):
            national = f"{head}{middle:03d}{tail}"
            for prefix in _PREFIXES:
                text = prefix + national
                assert normalise_phone(text) == parse_mainland(text), text


@settings(max_examples=300, deadline=None)
@given(national=st.from_regex(r"1[0-9]{10}", fullmatch=True), prefix=st.sampled_from(_PREFIXES),
       cuts=st.lists(st.tuples(st.integers(0, 11), st.sampled_from([" ", "-", "  ", " - "])), max_size=4),
       lead=st.sampled_from(["", " ", "-", "+"]))
def test_fast_path_and_libphonenumber_agree(national: str, prefix: str, cuts: list[tuple[int, str]],
                                            lead: str) -> None:
    """Mobiles written with spaces and dashes anywhere: the shortcut never differs from a parse."""
    digits = list(national)
    for at, sep in sorted(cuts, reverse=True):
        digits.insert(at, sep)
    text = (lead + prefix + "".join(digits)).strip()
    assert normalise_phone(text) == parse_mainland(text)


def test_fast_path_answers_for_a_plain_mobile() -> None:
    assert normalise_phone("+86 139-0879 5134") == ("+8613908795134", MOBILE)
    assert normalise_phone("14012345678") == (None, None)  # not a mobile range: refused as before


# --- the webhook scrubber's pre-checks ------------------------------------------------------------


def _matcher(text: str) -> str:
    """What ``mask_in_text`` gave before its pre-checks: every match of libphonenumber masked."""
    return mask_every_match(text)


def test_no_country_has_shorter_numbers_than_the_pre_check_assumes() -> None:
    metas = [PhoneMetadata.metadata_for_region(region) for region in phonenumbers.SUPPORTED_REGIONS]
    metas += [PhoneMetadata.metadata_for_nongeo_region(code) for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS]
    shortest = []
    for meta in metas:
        assert meta is not None and meta.general_desc is not None
        shortest.append(len(str(meta.country_code)) + min(n for n in meta.general_desc.possible_length if n > 0))
    assert min(shortest) >= MIN_PHONE_DIGITS


def test_a_number_inside_text_is_still_masked() -> None:
    assert mask_in_text("请回电 13812345678，谢谢") == "请回电 138****5678，谢谢"
    assert mask_in_text("call +86 755 2660 5049 now") == "call 0755****5049 now"
    assert scrub({"note": "客户手机13908795134"}) == {"note": "客户手机139****5134"}
    assert mask_in_text("+683 4002") == _matcher("+683 4002") != "+683 4002"  # a short foreign number


@pytest.mark.parametrize("text", ["SZ01", "WO12345", "maintenance", "1 2 3 4 5", "５５５５５", "",
                                  "2026-11-21T09:01:00+00:00", "2026-01-02T23:59:59-05:30", "WO0300000000",
                                  "RO2611E0001", "A13812345678", "Rx13812345678int5"])
def test_text_that_cannot_hold_a_number_is_returned_unchanged(text: str) -> None:
    assert mask_in_text(text) is text
    assert _matcher(text) == text


def test_a_fraction_of_a_second_still_goes_through_the_matcher() -> None:
    text = "2026-11-21T09:01:16.012345+00:00"  # the matcher reads 16.012345 as a number
    assert mask_in_text(text) == _matcher(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 -+().x/ab中T:") + ["０", "٣"]), max_size=30))
def test_pre_checks_never_change_the_masking(text: str) -> None:
    assert mask_in_text(text) == _matcher(text)


@settings(max_examples=300, deadline=None)
@given(letters=st.from_regex(r"[A-Za-z]{1,3}", fullmatch=True),
       rest=st.lists(st.sampled_from(["1", "3", "8", "0", "5", "13812345678", "0755", "x", "X", "int", "ext", "e",
                                      "T", "9", "86"]), max_size=8))
def test_letter_codes_mask_as_the_matcher_masks_them(letters: str, rest: list[str]) -> None:
    text = letters + "".join(rest)
    assert mask_in_text(text) == _matcher(text)
    assert _matcher(text) == text


@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=st.timezones()))
def test_timestamps_mask_as_the_matcher_masks_them(when: object) -> None:
    text = when.isoformat()  # type: ignore[attr-defined]
    assert mask_in_text(text) == _matcher(text)
