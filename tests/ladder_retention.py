"""Access-ladder rows for retention (throughgate.people.retention_views).

Retention is the manager's job (DESIGN.md: Ade does configuration and retention): the
page, the periods, legal holds, the dry-run preview, "Purge now" and the record of a run
are for Ade alone. Everyone else gets 404, as for a page that does not exist, Cara and
Sam included (they see people, but not their holds or the purge).

"Purge now" asks for the password again (core.reauth): the ladder's clients have not
typed it, so Ade's GET and POST both answer 302 to "Confirm it's you" and change nothing
(tests/test_retention.py goes on from there). The preview is a POST that answers the
report itself (200); it changes no record, so it is not "personal" for the audit check.
"""

from __future__ import annotations

from typing import Any

from throughgate.people import retention

from .ladder_base import FORM, POST, READ, Page

ADMIN = frozenset({"ade"})

PAGES: list[Page] = [
    Page("people:retention", READ, ADMIN),
    Page("people:retention_periods", POST, ADMIN),
    Page("people:retention_hold_new", POST, ADMIN),
    Page("people:retention_hold_lift", POST, ADMIN, "hold"),
    Page("people:retention_preview", POST, ADMIN, personal=False, posted=200),
    Page("people:retention_purge", FORM, ADMIN, personal=False, ok=302),
    Page("people:retention_run", READ, ADMIN, "run"),
]

VISIBLE_TO: dict[str, frozenset[str]] = {"hold": ADMIN, "run": ADMIN}


def build(world: Any) -> dict[str, Any]:
    ade = world.users["ade"]
    held = world.kim.person
    hold = retention.place_hold(ade, held, "Police request 2026-11, case ref 01/2345/26")
    run = retention.purge(ade, dry_run=True).run
    return {"hold": hold, "run": run}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    if page.name == "people:retention_periods":
        return {"closed_cases": "7", "declined_referrals": "2", "safeguarding_age": "25",
                "training_delegates": "3"}  # fmt: skip
    if page.name == "people:retention_hold_new":
        return {"person": objects["person"].pk, "reason": "Court order 2026/118"}
    if page.name in ("people:retention_hold_lift", "people:retention_preview",
                     "people:retention_purge"):  # fmt: skip
        return {}
    return None
