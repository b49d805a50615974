"""Access-ladder rows for the subject access export (throughgate.people.subject_access).

Ade (manager) alone exports everything held about a person. Those who can see Mo's
mentee (Mo, Cara, Sam) get 403; Kim, Pat and Fay get 404, as for the person's page.
The download asks for the password again (core.reauth): the ladder's clients have not
typed it, so Ade's GET answers 302 to "Confirm it's you" (tests/test_subject_access.py
goes on from there). A valid POST to the confirmation records the request in the audit
trail and sends Ade to the download.
"""

from __future__ import annotations

from typing import Any

from .ladder_base import FORM, READ, Page

ADMIN = frozenset({"ade"})

PAGES: list[Page] = [
    Page("people:subject_access", FORM, ADMIN, "person"),
    Page("people:subject_access_download", READ, ADMIN, "person", ok=302),
]

VISIBLE_TO: dict[str, frozenset[str]] = {}


def build(world: Any) -> dict[str, Any]:
    return {}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    if page.name == "people:subject_access":
        return {"reference": "SAR 2026-014, received 20 Nov", "checked": "on"}
    return None
