"""Access-ladder rows for spreadsheet import (throughgate.imports).

Importing brings personal data in bulk, so Ade (manager / admin) alone uses these pages;
everyone else, the analyst included, gets 404 as for a page that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from throughgate.imports.models import ImportRun, RunStatus, Source

from .ladder_base import FORM, POST, READ, Page

ADMIN = frozenset({"ade"})
HEADERS = ["ID", "First name", "Last name", "DOB"]

PAGES: list[Page] = [
    Page("imports:index", FORM, ADMIN),
    Page("imports:run", READ, ADMIN, "import_run"),
    Page("imports:mapping", FORM, ADMIN, "import_run"),
    Page("imports:commit", POST, ADMIN, "checked_import_run"),
]

VISIBLE_TO: dict[str, frozenset[str]] = {"import_run": ADMIN, "checked_import_run": ADMIN}


def build(world: Any) -> dict[str, Any]:
    ade = world.users["ade"]
    source = Source.objects.create(name="Ladder spreadsheets", created_by=ade)

    def run(status: str) -> ImportRun:
        return ImportRun.objects.create(
            source=source,
            kind="people",
            file_name="people.csv",
            file_path="/nonexistent.csv",
            headers=HEADERS,
            status=status,
            started_by=ade,
        )

    return {"import_run": run(RunStatus.UPLOADED), "checked_import_run": run(RunStatus.CHECKED)}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    if page.name == "imports:index":
        content = ",".join(HEADERS) + "\nP1,Jo,Bloggs,01/02/2006\n"
        return {
            "new_source": "New ladder source",
            "kind": "people",
            "file": SimpleUploadedFile("people.csv", content.encode(), "text/csv"),
        }
    if page.name == "imports:mapping":
        return {
            "source_id": "ID",
            "forename": "First name",
            "surname": "Last name",
            "date_of_birth": "DOB",
        }
    if page.name == "imports:commit":
        return {}
    return None
