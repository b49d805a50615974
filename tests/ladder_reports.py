"""Access-ladder rows for the funder / board report (throughgate.reports).

Ade (manager) and Fay (analyst) open it, download it as CSV and XLSX, start its PDF and
download a PDF made earlier: aggregate figures only, small numbers suppressed. Everyone
else gets 404, as on the reports dashboard.
"""

from __future__ import annotations

from typing import Any

from .ladder_base import POST, READ, Page

REPORTERS = frozenset({"ade", "fay"})

PAGES: list[Page] = [
    Page("reports:funder", READ, REPORTERS, personal=False),
    Page("reports:funder_csv", READ, REPORTERS, personal=False),
    Page("reports:funder_xlsx", READ, REPORTERS, personal=False),
    Page("reports:funder_pdf", POST, REPORTERS, personal=False),
    Page("reports:funder_pdf_file", READ, REPORTERS, "funder_pdf", personal=False),
]

VISIBLE_TO: dict[str, frozenset[str]] = {"funder_pdf": REPORTERS}


def build(world: Any) -> dict[str, Any]:
    from throughgate.reports.models import FunderReportFile

    kept = FunderReportFile.objects.create(
        name="funder-report.pdf",
        description="1 April 2026 to 30 June 2026; Custody to community",
        pdf=b"%PDF-1.7\n%%EOF\n",
        made_by=world.users["ade"],
    )
    return {"funder_pdf": kept}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    if page.name == "reports:funder_pdf":
        return {"start": "2026-04-01", "end": "2026-06-30"}
    return None
