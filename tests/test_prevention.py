"""Prevention in schools: schools and venues, workshops, surveys and the reach dashboard.

Pat (prevention facilitator) records; Ade (manager) configures and deletes; Sam reads;
Fay (analyst) sees only reach figures, with small numbers suppressed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import make
from throughgate.accounts.models import User
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.engines.disclosure import HIDDEN
from throughgate.prevention import actions
from throughgate.prevention.models import (
    DEFAULT_REACH_TARGET,
    MAX_WORKSHOP_HEADCOUNT,
    SurveyQuestion,
    SurveyResponse,
    SurveyResult,
    Venue,
    Workshop,
    WorkshopGroup,
    WorkshopTopic,
    academic_year_of,
)
from throughgate.prevention.reach import reach_for

TODAY = timezone.localdate()
THIS_YEAR = academic_year_of(TODAY)


def changes() -> int:
    return AuditEvent.objects.filter(
        action__in=[AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]
    ).count()


@pytest.fixture
def venue(pat):
    return make.make_venue(pat, name="Stockwell Park Academy", borough="Lambeth")


@pytest.fixture
def question(db):
    return SurveyQuestion.objects.get(text__startswith="I know who to tell")


def workshop_post(venue, **changes):
    data = {
        "held_on": (TODAY - timedelta(days=1)).isoformat(),
        "venue": venue.pk,
        "topics": [WorkshopTopic.objects.get(name="County lines").pk],
        "facilitators": [User.objects.get(username="pat").pk],
        "duration_minutes": "60",
        "g1-year_group": "Y9",
        "g1-girls": "12",
        "g1-boys": "14",
        "g1-other": "1",
    }  # fmt: skip
    data.update(changes)
    return data


# --- Configuration seeded by the data migration ----------------------------------


def test_the_six_topics_from_the_issue_are_there_from_the_start(db):
    names = set(WorkshopTopic.objects.filter(active=True).values_list("name", flat=True))
    assert names >= {
        "County lines", "Knife crime", "Exploitation and grooming", "Online safety",
        "Gangs and violence", "Healthy relationships",
    }  # fmt: skip
    assert SurveyQuestion.objects.filter(text__icontains="signs that someone is being exploited")


# --- Recording a workshop ------------------------------------------------------------


def test_facilitator_records_a_workshop_and_its_headcount_is_the_sum_of_the_groups(
    pat, venue, login
):
    before = changes()
    response = login(pat).post(
        reverse("prevention:workshop_new"),
        workshop_post(venue, **{"g2-year_group": "Y10", "g2-girls": "9", "g2-boys": "8"}),
    )
    assert response.status_code == 302
    workshop = Workshop.objects.get()
    assert workshop.headcount == 12 + 14 + 1 + 9 + 8
    assert workshop.academic_year == academic_year_of(workshop.held_on)
    assert list(workshop.groups.values_list("year_group", flat=True)) == ["Y9", "Y10"]
    assert list(workshop.facilitators.all()) == [pat]
    assert changes() == before + 1
    event = AuditEvent.objects.filter(object_type="prevention.workshop").get()
    assert event.action == AuditAction.CREATE and event.actor == pat


def test_save_and_enter_survey_results_goes_to_the_survey_page(pat, venue, login):
    response = login(pat).post(
        reverse("prevention:workshop_new"), workshop_post(venue, next="survey")
    )
    workshop = Workshop.objects.get()
    assert response.url == reverse("prevention:survey_counts", args=[workshop.pk])


def test_add_another_row_shows_one_more_blank_row_and_saves_nothing(pat, venue, login):
    client = login(pat)
    blank = client.get(reverse("prevention:workshop_new"))
    shown = blank.content.decode()
    assert "g3-year_group" in shown and "g4-year_group" not in shown
    response = client.post(reverse("prevention:workshop_new"), workshop_post(venue, more="1"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="g4-year_group"' in body
    assert 'value="12"' in body  # what was typed is kept
    assert "There is a problem" not in body
    assert not Workshop.objects.exists()


def bad_workshop(client, venue, **changes):
    before = changes_count = AuditEvent.objects.count()
    response = client.post(reverse("prevention:workshop_new"), workshop_post(venue, **changes))
    assert response.status_code == 400
    assert not Workshop.objects.exists() and not WorkshopGroup.objects.exists()
    assert AuditEvent.objects.count() == changes_count == before
    return response


def test_a_count_below_zero_is_refused_naming_the_row(pat, venue, login):
    response = bad_workshop(login(pat), venue, **{"g1-boys": "-3"})
    errors = response.context["form"].errors
    assert errors["g1-boys"] == ["Row 1 (Year 9): the number of boys cannot be below zero."]
    assert "Row 1 (Year 9): the number of boys cannot be below zero." in response.content.decode()


def test_a_headcount_above_the_plausible_maximum_is_refused(pat, venue, login):
    response = bad_workshop(
        login(pat), venue,
        **{"g1-girls": "200", "g1-boys": "150", "g2-year_group": "Y10", "g2-girls": "100"},
    )  # fmt: skip
    message = response.context["form"].non_field_errors()[0]
    assert message.startswith("Headcount: 451 children in all is more than 400")


def test_one_row_above_the_plausible_maximum_is_refused_naming_the_row(pat, venue, login):
    response = bad_workshop(login(pat), venue, **{"g1-girls": "4000"})
    assert (
        "Row 1 (Year 9): 4,015 children is more than 400"
        in (response.context["form"].errors["g1-girls"][0])
    )
    assert MAX_WORKSHOP_HEADCOUNT == 400


def test_a_workshop_with_no_groups_is_refused(pat, venue, login):
    response = bad_workshop(
        login(pat), venue, **{"g1-year_group": "", "g1-girls": "", "g1-boys": "", "g1-other": ""}
    )
    assert response.context["form"].errors["g1-year_group"] == [
        "Add at least one group: its year group and how many took part."
    ]


def test_a_row_with_counts_but_no_year_group_is_refused(pat, venue, login):
    response = bad_workshop(login(pat), venue, **{"g2-girls": "5"})
    assert "Row 2: choose the year group" in response.context["form"].errors["g2-year_group"][0]


def test_a_date_after_today_is_refused(pat, venue, login):
    response = bad_workshop(login(pat), venue, held_on=(TODAY + timedelta(days=1)).isoformat())
    assert "cannot be in the future" in response.context["form"].errors["held_on"][0]


@pytest.mark.parametrize("minutes", ["9", "481", "-60", "99999999"])
def test_a_length_outside_10_to_480_minutes_is_refused(minutes, pat, venue, login):
    response = bad_workshop(login(pat), venue, duration_minutes=minutes)
    assert response.context["form"].errors["duration_minutes"] == [
        "The length must be from 10 to 480 minutes (a full school day)."
    ]


def test_a_workshop_needs_a_topic_and_a_facilitator(pat, venue, login):
    response = bad_workshop(login(pat), venue, topics=[], facilitators=[])
    errors = response.context["form"].errors
    assert errors["topics"] == ["Choose at least one topic."]
    assert errors["facilitators"] == ["Choose who ran the workshop."]


# --- Changing and deleting ---------------------------------------------------------


def test_two_people_editing_the_same_workshop_the_second_is_told(pat, ade, venue, login):
    workshop = make.make_workshop(pat, venue)
    pats = login(pat)
    form = pats.get(reverse("prevention:workshop_edit", args=[workshop.pk])).context["form"]
    version = form["version"].value()
    actions.update_workshop(
        ade, workshop, {"duration_minutes": 90}, [{"year_group": "Y9", "girls": 12, "boys": 13}],
        workshop.topics.all(), [pat],
    )  # fmt: skip
    response = pats.post(
        reverse("prevention:workshop_edit", args=[workshop.pk]),
        workshop_post(venue, version=version, duration_minutes="45"),
    )
    assert response.status_code == 400
    assert "after you opened it" in response.content.decode()
    workshop.refresh_from_db()
    assert workshop.duration_minutes == 90


def test_only_the_manager_deletes_a_workshop_and_it_is_audited(pat, ade, venue, login):
    workshop = make.make_workshop(pat, venue)
    url = reverse("prevention:workshop_delete", args=[workshop.pk])
    assert login(pat).post(url).status_code == 403
    assert Workshop.objects.filter(pk=workshop.pk).exists()
    assert login(ade).post(url).status_code == 302
    assert not Workshop.objects.filter(pk=workshop.pk).exists()
    event = AuditEvent.objects.get(object_type="prevention.workshop", action=AuditAction.DELETE)
    assert event.actor == ade and event.object_id == str(workshop.pk)


def test_lowering_the_headcount_below_the_surveys_respondents_is_refused(pat, venue, question):
    workshop = make.make_workshop(pat, venue)  # 25 children
    counts = {"before_respondents": 25, "before_yes": 10, "after_respondents": 24, "after_yes": 20}
    actions.save_survey_counts(pat, workshop, {question.pk: counts})
    with pytest.raises(Exception) as refused:
        actions.update_workshop(
            pat, workshop, {}, [{"year_group": "Y9", "girls": 10, "boys": 10}],
            workshop.topics.all(), [pat],
        )  # fmt: skip
    assert "25 children answered this workshop's survey" in str(refused.value)
    assert Workshop.objects.get(pk=workshop.pk).headcount == 25


# --- Surveys -----------------------------------------------------------------------


def survey_post(question, **counts):
    data = {"before_respondents": "25", "before_yes": "8", "after_respondents": "24",
            "after_yes": "20"}  # fmt: skip
    data.update(counts)
    return {f"q{question.pk}-{k}": v for k, v in data.items()}


def test_survey_counts_are_saved_and_the_change_shown_with_an_interval(pat, venue, question, login):
    workshop = make.make_workshop(pat, venue)
    client = login(pat)
    url = reverse("prevention:survey_counts", args=[workshop.pk])
    assert client.post(url, survey_post(question)).status_code == 302
    result = SurveyResult.objects.get(workshop=workshop, question=question)
    assert (result.before_respondents, result.before_yes) == (25, 8)
    assert (result.after_respondents, result.after_yes) == (24, 20)
    body = client.get(reverse("prevention:workshop_detail", args=[workshop.pk])).content.decode()
    assert "32% (8 of 25)" in body and "83% (20 of 24)" in body
    assert "51 points (" in body  # 83.3 - 32.0 with its interval beside


def test_post_survey_respondents_above_attendance_are_refused_and_nothing_saved(
    pat, venue, question, login
):
    workshop = make.make_workshop(pat, venue)  # 25 children attended
    before = changes()
    response = login(pat).post(
        reverse("prevention:survey_counts", args=[workshop.pk]),
        survey_post(question, after_respondents="30"),
    )
    assert response.status_code == 400
    message = response.context["form"].errors[f"q{question.pk}-after_respondents"][0]
    assert "30 answered after, more than the 25 children who attended" in message
    assert question.text[:20] in message  # names the question
    assert not SurveyResult.objects.exists()
    assert changes() == before


def test_more_yes_answers_than_respondents_are_refused(pat, venue, question, login):
    workshop = make.make_workshop(pat, venue)
    response = login(pat).post(
        reverse("prevention:survey_counts", args=[workshop.pk]),
        survey_post(question, before_yes="26"),
    )
    assert response.status_code == 400
    assert (
        "26 said yes before, more than the 25 who answered before"
        in (response.context["form"].errors[f"q{question.pk}-before_yes"][0])
    )
    assert not SurveyResult.objects.exists()


def test_individual_answer_sheets_are_counted_into_the_same_results(pat, venue, question, login):
    workshop = make.make_workshop(pat, venue)
    client = login(pat)
    url = reverse("prevention:survey_response_new", args=[workshop.pk])
    for stage, answer in [("before", "no"), ("before", "yes"), ("before", "skip"),
                          ("after", "yes"), ("after", "yes")]:  # fmt: skip
        client.post(url, {"stage": stage, f"q{question.pk}": answer, "next": "another"})
    result = SurveyResult.objects.get(workshop=workshop, question=question)
    assert (result.before_respondents, result.before_yes) == (2, 1)  # the skip is not counted
    assert (result.after_respondents, result.after_yes) == (2, 2)
    assert result.source == "responses"
    # Counts cannot then be typed over the sheets' tally.
    response = client.post(reverse("prevention:survey_counts", args=[workshop.pk]),
                           survey_post(question))  # fmt: skip
    assert response.status_code == 400
    assert "individual answer sheets" in response.content.decode()


def test_answer_sheets_cannot_outnumber_the_children(pat, venue, question):
    workshop = make.make_workshop(pat, venue, groups=[("Y6", 1, 1, 0)])
    for _ in range(2):
        actions.add_survey_response(pat, workshop, "after", {question.pk: "yes"})
    with pytest.raises(Exception) as refused:
        actions.add_survey_response(pat, workshop, "after", {question.pk: "yes"})
    assert "more than the 2 children who attended" in str(refused.value)
    assert SurveyResponse.objects.count() == 2


# --- Schools and venues --------------------------------------------------------------


def test_a_school_needs_its_type_and_phase_but_a_youth_club_does_not(pat, login):
    client = login(pat)
    response = client.post(
        reverse("prevention:venue_new"), {"name": "Lambeth Academy", "kind": "school",
                                          "borough": "Lambeth"},
    )  # fmt: skip
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["school_type"] == ["Choose the type of school."]
    assert errors["phase"] == ["Choose the school's phase."]
    response = client.post(
        reverse("prevention:venue_new"),
        {"name": "Marcus Lipton Youth Centre", "kind": "youth_club", "borough": "Lambeth",
         "active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Venue.objects.get().name == "Marcus Lipton Youth Centre"


def test_a_urn_is_six_digits_and_belongs_to_one_school(pat):
    make.make_venue(pat, urn="100001")
    with pytest.raises(Exception) as refused:
        make.make_venue(pat, urn="100001")
    assert "already has URN 100001" in str(refused.value)
    with pytest.raises(Exception) as refused:
        make.make_venue(pat, urn="12345")
    assert "6 digits" in str(refused.value)


def test_school_list_filters_by_borough_and_search(pat, login):
    make.make_venue(pat, name="Harris Academy Peckham", borough="Southwark")
    make.make_venue(pat, name="Lambeth Academy", borough="Lambeth")
    client = login(pat)
    body = client.get(reverse("prevention:venue_list"), {"borough": "Southwark"}).content.decode()
    assert "Harris Academy Peckham" in body and "Lambeth Academy" not in body
    body = client.get(reverse("prevention:venue_list"), {"q": "lambeth"}).content.decode()
    assert "Lambeth Academy" in body and "Harris" not in body


def test_safeguarding_lead_reads_a_school_but_cannot_change_it(sam, pat, venue, login):
    client = login(sam)
    assert client.get(reverse("prevention:venue_detail", args=[venue.pk])).status_code == 200
    assert client.get(reverse("prevention:venue_edit", args=[venue.pk])).status_code == 403


@pytest.mark.parametrize("who", ["mo", "cara"])
def test_mentors_and_the_coordinator_cannot_find_schools_or_workshops(who, request, pat, venue,
                                                                      login):  # fmt: skip
    client = login(request.getfixturevalue(who))
    workshop = make.make_workshop(pat, venue)
    for url in (reverse("prevention:venue_list"), reverse("prevention:reach"),
                reverse("prevention:workshop_detail", args=[workshop.pk])):  # fmt: skip
        assert client.get(url).status_code == 404


# --- The reach dashboard -----------------------------------------------------------


def test_reach_rises_by_the_headcount_and_repeat_sessions_count_only_as_attendances(pat, venue):
    assert reach_for(THIS_YEAR, exact=True).reached.value == 0
    make.make_workshop(pat, venue, groups=[("Y9", 12, 13, 0)])
    make.make_workshop(pat, venue, groups=[("Y9", 12, 13, 0)], repeat_group=True)
    reach = reach_for(THIS_YEAR, exact=True)
    assert reach.reached.value == 25
    assert reach.attendances.value == 50
    assert reach.workshops == 2
    assert reach.target == DEFAULT_REACH_TARGET


def test_the_academic_year_runs_september_to_august(pat, venue):
    start = THIS_YEAR
    make.make_workshop(pat, venue, held_on=date(start, 8, 31), groups=[("Y9", 10, 0, 0)])
    make.make_workshop(pat, venue, held_on=date(start, 9, 1), groups=[("Y9", 0, 7, 0)])
    assert reach_for(start - 1, exact=True).reached.value == 10
    assert reach_for(start, exact=True).reached.value == 7
    months = next(b for b in reach_for(start, exact=True).breakdowns if b.heading == "Month")
    assert months.labels[0] == f"Sep {start}" and months.labels[-1] == f"Aug {start + 1}"
    assert months.reached[0].value == 7


def test_breakdowns_by_borough_school_and_topic(pat):
    lambeth = make.make_venue(pat, name="Lambeth Academy", borough="Lambeth")
    bexley = make.make_venue(pat, name="Bexley Grammar", borough="Bexley")
    knife = WorkshopTopic.objects.get(name="Knife crime")
    lines = WorkshopTopic.objects.get(name="County lines")
    make.make_workshop(pat, lambeth, groups=[("Y9", 20, 10, 0)], topics=[knife, lines])
    make.make_workshop(pat, bexley, groups=[("Y7", 3, 4, 0)], topics=[knife])
    reach = reach_for(THIS_YEAR, exact=True)
    by = {b.heading: dict(zip(b.labels, [c.value for c in b.reached], strict=True))
          for b in reach.breakdowns}  # fmt: skip
    assert by["Borough"] == {"Bexley": 7, "Lambeth": 30}
    assert by["School or venue"] == {"Bexley Grammar": 7, "Lambeth Academy": 30}
    assert by["Topic"] == {"County lines": 30, "Knife crime": 37}
    assert reach.reached.value == 37


def test_the_dashboard_query_count_does_not_grow_with_the_workshops(pat, venue, login):
    client = login(pat)
    make.make_workshop(pat, venue)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("prevention:reach"))
    other = make.make_venue(pat, name="Bexley Grammar", borough="Bexley")
    for n in range(12):
        make.make_workshop(pat, other if n % 2 else venue, groups=[("Y8", 5 + n, 5, 0)])
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("prevention:reach"))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_analyst_sees_a_small_borough_count_suppressed_and_the_facilitator_sees_it_exact(
    pat, fay, login
):
    small = make.make_venue(pat, name="Bexley Grammar", borough="Bexley", contact_name="Mr Small")
    big = make.make_venue(pat, name="Lambeth Academy", borough="Lambeth")
    make.make_workshop(pat, small, groups=[("Y7", 1, 2, 0)])  # 3 children in Bexley
    make.make_workshop(pat, big, groups=[("Y9", 40, 45, 0)])
    url = reverse("prevention:reach")

    def bexley_cell(client):
        response = client.get(url)
        assert response.status_code == 200
        borough = next(b for b in response.context["reach"].breakdowns if b.heading == "Borough")
        return str(dict(zip(borough.labels, borough.reached, strict=True))["Bexley"]), response

    exact, _ = bexley_cell(login(pat))
    hidden, response = bexley_cell(login(fay))
    assert exact == "3"
    assert hidden == HIDDEN
    body = response.content.decode()
    assert '<th scope="row">Bexley</th><td>[c]</td>' in body
    assert "Mr Small" not in body and "okonjo@example.org" not in body


def test_analysts_csv_is_suppressed_too(pat, fay, login):
    small = make.make_venue(pat, name="Bexley Grammar", borough="Bexley")
    make.make_workshop(pat, small, groups=[("Y7", 1, 2, 0)])
    make.make_workshop(pat, make.make_venue(pat, borough="Lambeth"), groups=[("Y9", 40, 45, 0)])
    body = login(fay).get(reverse("prevention:reach_csv")).content.decode()
    assert "Bexley,[c]" in body
    assert "Bexley,3" in login(pat).get(reverse("prevention:reach_csv")).content.decode()


def test_analyst_sees_a_survey_row_with_few_respondents_hidden(pat, fay, venue, question):
    workshop = make.make_workshop(pat, venue)
    counts = {"before_respondents": 3, "before_yes": 1, "after_respondents": 20, "after_yes": 15}
    actions.save_survey_counts(pat, workshop, {question.pk: counts})
    assert reach_for(THIS_YEAR, exact=False).survey[0].change is None
    exact = reach_for(THIS_YEAR, exact=True).survey[0].change
    assert exact is not None and exact.difference == pytest.approx(75 - 100 / 3)


def test_manager_sets_the_target_and_the_dashboard_uses_it(ade, login):
    client = login(ade)
    response = client.post(
        reverse("prevention:target_edit"), {"academic_year": THIS_YEAR, "target": "30000"}
    )
    assert response.status_code == 302
    page = client.get(reverse("prevention:reach"))
    assert page.context["reach"].target == 30000
    assert "of 30,000" in page.content.decode()


def test_manager_retires_a_topic_and_it_is_no_longer_offered(ade, pat, login):
    topic = WorkshopTopic.objects.get(name="Online safety")
    response = login(ade).post(
        reverse("prevention:topic_edit", args=[topic.pk]),
        {"name": "Online safety", "order": "4"},  # "active" unticked
    )
    assert response.status_code == 302
    form = login(pat).get(reverse("prevention:workshop_new")).context["form"]
    assert topic not in form.fields["topics"].queryset


def test_two_people_changing_a_schools_details_the_second_is_told(pat, ade, venue, login):
    pats = login(pat)
    url = reverse("prevention:venue_edit", args=[venue.pk])
    version = pats.get(url).context["form"]["version"].value()
    actions.update_venue(ade, venue, {"contact_name": "Mr Boateng"})
    data = {
        "name": venue.name, "kind": "school", "school_type": "academy", "phase": "secondary",
        "borough": "Lambeth", "contact_name": "Ms Rahman", "active": "on", "version": version,
    }  # fmt: skip
    response = pats.post(url, data)
    assert response.status_code == 400
    assert "Ade Bello changed this record" in response.content.decode()
    venue.refresh_from_db()
    assert venue.contact_name == "Mr Boateng"


def test_a_search_with_a_nul_character_finds_nothing_rather_than_failing(pat, login):
    """Found by the fuzzer on PostgreSQL, which refuses NUL in text."""
    make.make_venue(pat, name="Lambeth Academy")
    response = login(pat).get(reverse("prevention:venue_list"), {"q": "Lambeth\x00"})
    assert response.status_code == 200
    assert "Lambeth Academy" in response.content.decode()  # the NUL is dropped, not the search
