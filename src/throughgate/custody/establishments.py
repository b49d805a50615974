"""Reading the MoJ prison register shipped in custody/data/."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REGISTER_CSV = Path(__file__).resolve().parent / "data" / "prisons-england-wales.csv"
PLACEHOLDER_CODES = {"FOI", "ZZGHI"}  # "Foreign Prison", "Ghost Holding Establishment"


def _bool(value: str) -> bool:
    return value.strip().lower() == "true"


def read_register(path: Path = REGISTER_CSV) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {
                "code": row["prison_id"].strip(),
                "name": row["name"].strip(),
                "active": _bool(row["active"]) and row["prison_id"] not in PLACEHOLDER_CODES,
                "male": _bool(row["male"]),
                "female": _bool(row["female"]),
                "contracted": _bool(row["contracted"]),
                "types": row["types"].strip(),
                "categories": row["categories"].strip(),
                "address_line1": row["address_line1"].strip(),
                "address_line2": row["address_line2"].strip(),
                "town": row["town"].strip(),
                "county": row["county"].strip(),
                "postcode": row["postcode"].strip(),
                "country": row["country"].strip(),
                "name_welsh": row["name_welsh"].strip(),
            }


def load_register(model: Any, path: Path = REGISTER_CSV) -> tuple[int, int]:
    """Insert or update every establishment; returns (created, updated)."""
    created = updated = 0
    for row in read_register(path):
        code = row.pop("code")
        _, was_created = model.objects.update_or_create(code=code, defaults=row)
        created += was_created
        updated += not was_created
    return created, updated
