"""Access-ladder rows for safeguarding concerns, the safeguarding queue and chronology,
and exploitation risk checks (casework.safeguarding_views).

The ladder's concern is one Mo raised about his mentee, already triaged by Sam (so it
can be closed). Its details are for Sam (the safeguarding lead), Ade (the manager) and
Mo (who raised it); Cara, who can see the young person, gets 404 like everyone else.
Only Sam and Ade act on it: Mo gets 403 on triage, actions, MASH, NRM and closing.
Anyone who can see a young person may raise a concern about them and read their
chronology (which shows each reader only the concerns they may read).
Risk checks go on any case, recorded by whoever may log its contacts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from throughgate.casework import safeguarding
from throughgate.casework.models import RiskIndicator

from .ladder_base import FORM, LOGGED_IN, READ, Page

LEADS = frozenset({"sam", "ade"})
CONCERN_READERS = frozenset({"mo", "sam", "ade"})  # the lead, the manager, the raiser

PAGES: list[Page] = [
    Page("casework:safeguarding_queue", READ, LEADS),
    Page("casework:concern_new", FORM, LOGGED_IN - {"fay"}, "person", kwarg="person_pk"),
    Page(
        "casework:safeguarding_chronology", READ, LOGGED_IN - {"fay"}, "person", kwarg="person_pk"
    ),  # fmt: skip
    Page("casework:concern_detail", READ, CONCERN_READERS, "concern"),
    Page("casework:concern_triage", FORM, LEADS, "concern"),
    Page("casework:concern_action_new", FORM, LEADS, "concern"),
    Page("casework:concern_mash", FORM, LEADS, "concern"),
    Page("casework:concern_nrm", FORM, LEADS, "concern"),
    Page("casework:concern_close", FORM, LEADS, "concern"),
    # Whoever logs the case's contacts; Sam reads the checks on the case page (403 here).
    Page("casework:risk_check_new", FORM, frozenset({"mo", "kim", "pat", "cara", "ade"}), "case"),
]

VISIBLE_TO: dict[str, frozenset[str]] = {"concern": CONCERN_READERS}


def build(world: Any) -> dict[str, Any]:
    mo, sam = world.users["mo"], world.users["sam"]
    observed = timezone.now() - timedelta(days=1)
    concern = safeguarding.raise_concern(mo, world.mo.person, {
        "observed_at": observed, "what_happened": "Turned up with a new phone and £200 cash.",
        "at_risk": "young_person", "at_risk_name": "", "category": "county_lines",
        "immediate_action": "Talked with him; told Sam.", "immediate_danger": False,
    })  # fmt: skip
    safeguarding.triage_concern(sam, concern, "monitor", "Known to YJS; watch for going missing.")
    return {"concern": concern}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    today = timezone.localdate()
    if page.name == "casework:concern_new":
        return {
            "what_happened": "Said older boys made him carry a bag to Southend.",
            "observed_at": f"{today - timedelta(days=1):%Y-%m-%d}T16:30",
            "category": "county_lines",
            "at_risk": "young_person",
            "immediate_action": "Stayed with him and rang his mum.",
        }
    if page.name == "casework:concern_triage":
        return {"decision": "refer_mash", "rationale": "Signs of county lines; MASH today."}
    if page.name == "casework:concern_action_new":
        return {"taken_on": today.isoformat(), "description": "Rang the school DSL.",
                "taken_by": "Sam Okafor"}  # fmt: skip
    if page.name == "casework:concern_mash":
        return {"referred_on": today.isoformat(), "local_authority": "Lambeth",
                "reference": "MASH-2041"}  # fmt: skip
    if page.name == "casework:concern_nrm":
        return {"referred_on": today.isoformat(),
                "first_responder": "Lambeth Children's Services"}  # fmt: skip
    if page.name == "casework:concern_close":
        return {"outcome": "Child in need plan in place; concern closed."}
    if page.name == "casework:risk_check_new":
        indicators = RiskIndicator.objects.filter(
            key__in=["missing_episodes", "unexplained_money"]
        ).values_list("pk", flat=True)
        return {"checked_on": today.isoformat(), "indicators": list(indicators), "notes": ""}
    return None
