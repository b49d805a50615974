"""Validators for UK criminal-justice identifiers and contact details.

Each returns the normalised value (upper case, canonical spacing) so forms can
store one spelling, and raises ValidationError with a message that says what a
correct value looks like.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError

# Prison number (NOMS number): a letter, four digits, two letters, e.g. A1234BC.
PRISON_NUMBER_RE = re.compile(r"^[A-Z]\d{4}[A-Z]{2}$")
# Probation case reference number (nDelius CRN): a letter and six digits, e.g. X123456.
CRN_RE = re.compile(r"^[A-Z]\d{6}$")
# PNC ID: 2- or 4-digit year, slash, serial of up to seven digits, check letter.
PNC_RE = re.compile(r"^(?P<year>\d{2}|\d{4})/(?P<serial>\d{1,7})(?P<check>[A-Z])$")
PNC_CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"
# UK postcode (the outward and inward parts; GIR 0AA included for completeness).
POSTCODE_RE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|"
    r"[A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{7,20}$")


def _squash(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def normalise_prison_number(value: str) -> str:
    cleaned = _squash(value)
    if not PRISON_NUMBER_RE.match(cleaned):
        raise ValidationError(
            "Enter a prison number as one letter, four digits and two letters, like A1234BC.",
            code="invalid_prison_number",
        )
    return cleaned


def normalise_crn(value: str) -> str:
    cleaned = _squash(value)
    if not CRN_RE.match(cleaned):
        raise ValidationError(
            "Enter a probation CRN as one letter and six digits, like X123456.",
            code="invalid_crn",
        )
    return cleaned


def pnc_check_letter(year: str, serial: str) -> str:
    """The PNC check character: (two-digit year + 7-digit serial) mod 23."""
    return PNC_CHECK_LETTERS[int(year[-2:] + serial.zfill(7)) % len(PNC_CHECK_LETTERS)]


def normalise_pnc_id(value: str) -> str:
    cleaned = _squash(value)
    if "/" not in cleaned and re.match(r"^\d{4}\d{1,7}[A-Z]$", cleaned):
        cleaned = f"{cleaned[:4]}/{cleaned[4:]}"
    match = PNC_RE.match(cleaned)
    if not match:
        raise ValidationError(
            "Enter a PNC ID as year/serial number and check letter, like 2012/0123456Z.",
            code="invalid_pnc",
        )
    year, serial, check = match["year"], match["serial"], match["check"]
    if pnc_check_letter(year, serial) != check:
        raise ValidationError(
            "This PNC ID's check letter does not match its number; check it was copied exactly.",
            code="invalid_pnc_check",
        )
    if len(year) == 2:
        # Expand to the long form so one person has one spelling.
        this_year = date.today().year % 100
        year = f"{'20' if int(year) <= this_year else '19'}{year}"
    return f"{year}/{serial.zfill(7)}{check}"


def normalise_postcode(value: str) -> str:
    cleaned = _squash(value)
    if not POSTCODE_RE.match(cleaned):
        raise ValidationError("Enter a UK postcode, like SE1 7TP.", code="invalid_postcode")
    return f"{cleaned[:-3]} {cleaned[-3:]}"


def normalise_phone(value: str) -> str:
    cleaned = (value or "").strip()
    if not PHONE_RE.match(cleaned) or sum(ch.isdigit() for ch in cleaned) < 7:
        raise ValidationError(
            "Enter a phone number using digits, spaces and an optional +, like 07700 900123.",
            code="invalid_phone",
        )
    return cleaned
