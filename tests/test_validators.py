"""UK criminal-justice identifiers and contact details."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from throughgate.core.validators import (
    normalise_crn,
    normalise_phone,
    normalise_pnc_id,
    normalise_postcode,
    normalise_prison_number,
    pnc_check_letter,
)


def test_prison_numbers_are_normalised_to_upper_case_without_spaces():
    assert normalise_prison_number(" a1234 bc ") == "A1234BC"


@pytest.mark.parametrize("bad", ["12345AB", "A123BC", "AA1234BC", "A1234B", ""])
def test_malformed_prison_numbers_are_refused(bad):
    with pytest.raises(ValidationError, match="like A1234BC"):
        normalise_prison_number(bad)


def test_crn_is_a_letter_and_six_digits():
    assert normalise_crn("x123456") == "X123456"
    with pytest.raises(ValidationError, match="like X123456"):
        normalise_crn("X12345")


def test_pnc_check_letter_follows_the_mod_23_rule():
    # 12 and 0123456 -> 120123456 mod 23 = 22 -> "Y" in ZABCDEFGHJKLMNPQRTUVWXY
    assert 120123456 % 23 == 22
    assert pnc_check_letter("2012", "123456") == "Y"
    assert normalise_pnc_id("2012/123456Y") == "2012/0123456Y"


def test_short_pnc_ids_are_expanded_to_the_long_form():
    assert normalise_pnc_id("12/123456Y") == "2012/0123456Y"
    # 990000001 mod 23 = 7 -> "G"; a year after this one belongs to the last century.
    assert normalise_pnc_id("99/1G") == "1999/0000001G"


def test_pnc_with_a_wrong_check_letter_is_refused():
    with pytest.raises(ValidationError, match="check letter does not match"):
        normalise_pnc_id("2012/0123456C")


@pytest.mark.parametrize("bad", ["12345", "2012-0123456C", "2012/01234567C", "ABCD/123C"])
def test_malformed_pnc_ids_are_refused(bad):
    with pytest.raises(ValidationError, match="year/serial number"):
        normalise_pnc_id(bad)


def test_postcodes_get_their_space():
    assert normalise_postcode("se17tp") == "SE1 7TP"
    assert normalise_postcode("TW13 4ND") == "TW13 4ND"
    with pytest.raises(ValidationError, match="UK postcode"):
        normalise_postcode("NOTAPOSTCODE")


def test_phone_numbers_need_enough_digits():
    assert normalise_phone("07700 900123") == "07700 900123"
    with pytest.raises(ValidationError):
        normalise_phone("call me")
