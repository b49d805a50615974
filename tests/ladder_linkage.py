"""Access-ladder rows for duplicate linkage and merging (people.duplicates_views).

Merging people is the manager's job (DESIGN.md: Ade sees and does everything): the
review list, the "check everyone now" button, the merge screen and "not the same
person" are for Ade alone. Everyone else gets 404, as for a record that does not
exist, Cara and Sam included (they can see the people but not the pair).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests import make
from throughgate.people.merge import MERGE_FIELDS
from throughgate.people.models import DuplicateCandidate, FoundBy

from .ladder_base import FORM, POST, READ, Page

ADMIN = frozenset({"ade"})

PAGES: list[Page] = [
    Page("people:duplicates", READ, ADMIN),
    # Queues the check of everyone as a background job and shows its progress page.
    Page("people:duplicates_review", POST, ADMIN),
    Page("people:merge", FORM, ADMIN, "candidate"),
    Page("people:duplicate_decline", POST, ADMIN, "candidate"),
]

VISIBLE_TO: dict[str, frozenset[str]] = {"candidate": ADMIN}


def build(world: Any) -> dict[str, Any]:
    ade = world.users["ade"]
    born = date(2005, 11, 2)
    jon = make.make_person(ade, forename="Jon", surname="Smyth", date_of_birth=born)
    john = make.make_person(ade, forename="John", surname="Smith", date_of_birth=born)
    candidate = DuplicateCandidate.objects.create(
        person_a=jon, person_b=john, match_probability=0.94, match_weight=4.1,
        agreements=["date of birth: same"], found_by=FoundBy.REVIEW,
    )  # fmt: skip
    return {"candidate": candidate}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    if page.name == "people:merge":
        candidate = objects["candidate"]
        a, b = candidate.person_a, candidate.person_b
        differing = [n for n in MERGE_FIELDS if getattr(a, n) != getattr(b, n)]
        return {"keep": a.pk, **{f"take_{name}": a.pk for name in differing}}
    if page.name == "people:duplicate_decline":
        return {"note": "Cousins"}
    if page.name in ("people:duplicates", "people:duplicates_review"):
        return {}
    return None
