"""Access-ladder rows for the pages added to bring the slow pages within their budgets
(issue 10): the outcomes dashboard's "Recalculate now" (Ade only; Fay reads the figures
but does not start the work)."""

from __future__ import annotations

from typing import Any

from .ladder_base import POST, Page

PAGES: list[Page] = [
    Page("outcomes:recalculate", POST, frozenset({"ade"}), personal=False),
]

VISIBLE_TO: dict[str, frozenset[str]] = {}


def build(world: Any) -> dict[str, Any]:
    return {}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    if page.name == "outcomes:recalculate":
        return {"as_of": ""}
    return None
