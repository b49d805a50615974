"""Access-ladder rows for training and consultancy (throughgate.prevention.training).

Pat (prevention facilitator) and Ade (manager) run training: courses, delegates (the
names of professionals: personal data), feedback. Ade alone records invoices and
payments, so Pat gets 403 there. Fay (analyst) sees only the quarterly summary, with
small numbers suppressed. Mentors, the coordinator and the safeguarding lead get 404
everywhere: delegates' names are none of their business.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests import make

from .ladder_base import FORM, READ, Page

RUNS = frozenset({"pat", "ade"})  # who runs training
MANAGER = frozenset({"ade"})
SUMMARY = frozenset({"pat", "ade", "fay"})

PAGES: list[Page] = [
    Page("training:course_list", READ, RUNS),
    Page("training:course_new", FORM, RUNS),
    Page("training:course_detail", READ, RUNS, "training_course"),
    Page("training:course_edit", FORM, RUNS, "training_course"),
    Page("training:invoice", FORM, MANAGER, "training_course"),
    Page("training:delegates_add", FORM, RUNS, "training_course"),
    Page("training:attendance", FORM, RUNS, "training_course"),
    Page("training:feedback_new", FORM, RUNS, "training_course"),
    Page("training:delegate_edit", FORM, RUNS, "training_delegate"),
    Page("training:summary", READ, SUMMARY, personal=False),
]

VISIBLE_TO: dict[str, frozenset[str]] = {
    "training_course": RUNS,
    "training_delegate": RUNS,
}


def build(world: Any) -> dict[str, Any]:
    """A course Pat delivered last week for the Met, one delegate who attended."""
    pat = world.users["pat"]
    course = make.make_course(
        pat,
        title="Child criminal exploitation for neighbourhood officers",
        audience="police",
        client="Metropolitan Police",
        start_date=timezone.localdate() - timedelta(days=7),
    )
    (delegate,) = make.make_delegates(pat, course, [("Alex Morgan", "Metropolitan Police", "PC")])
    return {"training_course": course, "training_delegate": delegate}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    today = timezone.localdate()
    course = objects.get("training_course")
    if page.name in ("training:course_new", "training:course_edit"):
        data = {
            "kind": "course",
            "title": "Knife crime: what youth workers can do",
            "audience": "youth_workers",
            "client": "Southwark Youth Service",
            "client_contact": "Dee Jones",
            "start_date": (today - timedelta(days=2)).isoformat(),
            "end_date": (today - timedelta(days=1)).isoformat(),
            "trainers": [world.users["pat"].pk],
            "sessions": "2",
            "hours": "5",
            "fee": "600.00",
            "notes": "",
        }
        if page.name == "training:course_edit":
            data["start_date"] = data["end_date"] = course.start_date.isoformat()
        return data
    if page.name == "training:invoice":
        return {"invoiced_on": today.isoformat(), "invoice_reference": "TG-2026-001",
                "paid_on": ""}  # fmt: skip
    if page.name == "training:delegates_add":
        return {"delegates": "Jo Bloggs, Metropolitan Police, PCSO\nSam Lee, , Sergeant",
                "attendance": "attended"}  # fmt: skip
    if page.name == "training:attendance":
        return {f"attendance-{objects['training_delegate'].pk}": "absent"}
    if page.name == "training:feedback_new":
        return {"overall": "5", "relevance": "4", "trainer_knowledge": "5",
                "comments": "Eye-opening."}  # fmt: skip
    if page.name == "training:delegate_edit":
        return {"name": "Alex Morgan", "organisation": "Metropolitan Police",
                "role": "Sergeant", "attendance": "attended"}  # fmt: skip
    return None
