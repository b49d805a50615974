"""Access-ladder rows for prevention in schools: schools and venues, workshops, surveys,
settings and the reach dashboard (throughgate.prevention).

Pat (prevention facilitator) and Ade (manager) record schools, workshops and surveys;
Sam (safeguarding lead) reads them and gets 403 on every change; Ade alone deletes a
workshop and changes the settings (topics, survey questions, targets), so Pat gets 403
there. Fay (analyst) sees only the reach dashboard and its CSV, with small numbers
suppressed. Mentors and the coordinator get 404 everywhere.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tests import make
from throughgate.prevention import actions
from throughgate.prevention.models import SurveyQuestion, WorkshopTopic

from .ladder_base import FORM, POST, READ, Page

READERS = frozenset({"pat", "sam", "ade"})
RECORDERS = frozenset({"pat", "ade"})
ADMIN = frozenset({"ade"})
REACH = frozenset({"pat", "sam", "ade", "fay"})

PAGES: list[Page] = [
    Page("prevention:venue_list", READ, READERS),
    Page("prevention:venue_new", FORM, RECORDERS),
    Page("prevention:venue_detail", READ, READERS, "venue"),
    Page("prevention:venue_edit", FORM, RECORDERS, "venue"),
    Page("prevention:workshop_list", READ, READERS),
    Page("prevention:workshop_new", FORM, RECORDERS),
    Page("prevention:workshop_detail", READ, READERS, "workshop"),
    Page("prevention:workshop_edit", FORM, RECORDERS, "workshop"),
    Page("prevention:workshop_delete", POST, ADMIN, "workshop"),
    Page("prevention:survey_counts", FORM, RECORDERS, "workshop"),
    # Its own workshop: answer sheets cannot go on one whose survey was entered as counts.
    Page("prevention:survey_response_new", FORM, RECORDERS, "sheet_workshop"),
    Page("prevention:reach", READ, REACH, personal=False),
    Page("prevention:reach_csv", READ, REACH, personal=False),
    Page("prevention:settings", READ, READERS),
    Page("prevention:topic_new", FORM, ADMIN),
    Page("prevention:topic_edit", FORM, ADMIN, "topic"),
    Page("prevention:question_new", FORM, ADMIN),
    Page("prevention:question_edit", FORM, ADMIN, "question"),
    Page("prevention:target_edit", FORM, ADMIN),
]

VISIBLE_TO: dict[str, frozenset[str]] = {
    "venue": READERS,
    "workshop": READERS,
    "sheet_workshop": READERS,
    "topic": READERS,
    "question": READERS,
}


def build(world: Any) -> dict[str, Any]:
    pat = world.users["pat"]
    venue = make.make_venue(pat, name="Stockwell Park Academy", urn="139915")
    workshop = make.make_workshop(pat, venue, groups=[("Y8", 14, 12, 1), ("Y9", 10, 11, 0)])
    question = SurveyQuestion.objects.get(text__startswith="I know who to tell")
    actions.save_survey_counts(pat, workshop, {
        question.pk: {"before_respondents": 40, "before_yes": 20,
                      "after_respondents": 38, "after_yes": 33},
    })  # fmt: skip
    sheet_workshop = make.make_workshop(pat, venue, groups=[("Y7", 10, 10, 0)])
    return {
        "venue": venue,
        "workshop": workshop,
        "sheet_workshop": sheet_workshop,
        "topic": WorkshopTopic.objects.get(name="Online safety"),
        "question": question,
    }


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    today = timezone.localdate()
    if page.name in ("prevention:venue_new", "prevention:venue_edit"):
        return {
            "name": "Lilian Baylis Technology School",
            "kind": "school",
            "school_type": "academy",
            "phase": "secondary",
            "borough": "Lambeth",
            "contact_name": "Ms Adeyemi",
            "contact_phone": "020 7091 9500",
            "active": "on",
        }
    if page.name in ("prevention:workshop_new", "prevention:workshop_edit"):
        return {
            "held_on": today.isoformat(),
            "venue": objects["venue"].pk,
            "topics": [WorkshopTopic.objects.get(name="Knife crime").pk],
            "facilitators": [world.users["pat"].pk],
            "duration_minutes": "50",
            "teacher_rating": "4",
            "g1-year_group": "Y10",
            "g1-girls": "23",
            "g1-boys": "24",
            "g1-other": "",
        }
    if page.name == "prevention:workshop_delete":
        return {}
    if page.name == "prevention:survey_counts":
        question = SurveyQuestion.objects.get(text__startswith="I know who to tell")
        return {
            f"q{question.pk}-before_respondents": "45",
            f"q{question.pk}-before_yes": "20",
            f"q{question.pk}-after_respondents": "44",
            f"q{question.pk}-after_yes": "39",
        }
    if page.name == "prevention:survey_response_new":
        question = SurveyQuestion.objects.get(text__startswith="I know who to tell")
        return {"stage": "before", f"q{question.pk}": "yes"}
    if page.name in ("prevention:topic_new", "prevention:topic_edit"):
        return {"name": "Staying safe at festivals", "active": "on", "order": "9"}
    if page.name in ("prevention:question_new", "prevention:question_edit"):
        return {"text": "I know where to get help with a debt.", "active": "on", "order": "9"}
    if page.name == "prevention:target_edit":
        return {"academic_year": str(objects.get("year", _current_year())), "target": "26000"}
    return None


def _current_year() -> int:
    from throughgate.prevention.models import academic_year_of

    return academic_year_of(timezone.localdate())
