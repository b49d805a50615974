"""Peer mentors (issue 4): readiness, licence conditions, conflicts, suggestions with
their reasons, choosing and re-matching, batch matching, and what each role sees."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from throughgate.accounts.roles import Role
from throughgate.casework.models import AssignedHow, MentorAssignment
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.custody.models import Establishment
from throughgate.mentors import actions
from throughgate.mentors.matching import suggestions_for
from throughgate.mentors.models import (
    DBSLevel,
    LivedExperienceCategory,
    MatchProposal,
    ProposalStatus,
    TrainingCourse,
)
from throughgate.mentors.readiness import assess, with_readiness_records

from . import make

TODAY = timezone.localdate


def _fresh(profile):
    (profile,) = with_readiness_records(type(profile).objects.filter(pk=profile.pk))
    return profile


def _excluded_reasons(result, user):
    pid = user.mentor_profile.person_id
    for excluded in result.result.excluded:
        if excluded.mentor_id == pid:
            return [e.reason for e in excluded.exclusions]
    return None


def _suggested(result):
    return [s.mentor_name for s in result.result.suggestions]


@pytest.fixture
def feltham(db):
    return Establishment.objects.get(code="FMI")


@pytest.fixture
def waiting_in_feltham(cara, programme, feltham):
    """A young person held in Feltham, referred to Cara's team and waiting for triage."""
    person = make.make_person(cara, forename="Tyron", surname="Campbell", borough="Southwark")
    make.make_episode(person, cara, prison="FMI")
    return make.make_referral(person=person, actor=cara)


# --- Readiness -----------------------------------------------------------------------


def test_a_ready_mentor_has_dbs_training_and_recent_supervision(mo, cara):
    r = assess(_fresh(make.make_mentor(mo, cara)), TODAY())
    assert r.ready and r.problems == []


def test_a_new_mentor_with_nothing_recorded_is_not_offered(mo, cara):
    r = assess(_fresh(make.make_mentor(mo, cara, ready=False)), TODAY())
    assert not r.ready
    assert "no DBS check recorded" in r.problems
    assert "no supervision recorded" in r.problems
    assert "Peer mentor induction not completed" in r.problems


def test_overdue_supervision_and_lapsed_dbs_stop_new_matches(mo, cara, settings):
    profile = make.make_mentor(mo, cara)
    profile.supervision_sessions.update(held_on=TODAY() - timedelta(days=60))
    profile.dbs_checks.update(renewal_due=TODAY() - timedelta(days=1))
    r = assess(_fresh(profile), TODAY())
    due = TODAY() - timedelta(days=60) + timedelta(days=settings.SUPERVISION_INTERVAL_DAYS)
    assert f"supervision overdue since {due:%d/%m/%Y}" in r.problems
    assert f"DBS renewal overdue since {TODAY() - timedelta(days=1):%d/%m/%Y}" in r.problems


def test_an_enhanced_dbs_without_the_barred_list_is_not_enough(mo, cara):
    profile = make.make_mentor(mo, cara)
    actions.add_dbs_check(cara, profile, {
        "level": DBSLevel.ENHANCED, "certificate_number": "009876543210",
        "issued_on": TODAY(), "renewal_due": TODAY() + timedelta(days=900),
    })  # fmt: skip
    r = assess(_fresh(profile), TODAY())
    assert any("children's barred list is needed" in p for p in r.problems)


def test_anything_expiring_within_30_days_is_an_alert(mo, cara, feltham, login):
    profile = make.make_mentor(mo, cara)
    actions.add_clearance(cara, profile, {
        "establishment": feltham, "level": "escorted",
        "granted_on": TODAY() - timedelta(days=300), "expires_on": TODAY() + timedelta(days=12),
    })  # fmt: skip
    profile.dbs_checks.update(renewal_due=TODAY() + timedelta(days=25))
    r = assess(_fresh(profile), TODAY())
    assert r.ready
    whats = [a.what for a in r.alerts]
    assert whats[:2] == [f"Clearance for {feltham.display_name}", "DBS renewal"]
    page = login(cara).get(reverse("mentors:list")).content.decode()
    assert "Due soon or overdue" in page
    assert f"Clearance for {feltham.display_name}" in page and "DBS renewal" in page


def test_a_refresher_course_that_has_lapsed_stops_new_matches(mo, cara):
    profile = make.make_mentor(mo, cara)
    course = TrainingCourse.objects.get(name="Safeguarding children and young people")
    profile.training_records.filter(course=course).update(
        completed_on=TODAY() - timedelta(days=800)
    )
    r = assess(_fresh(profile), TODAY())
    assert any(p.startswith("Safeguarding children and young people expired") for p in r.problems)


# --- Suggestions ---------------------------------------------------------------------


def test_expired_clearance_for_that_prison_excludes_the_mentor_and_says_why(
    mo, kim, cara, feltham, waiting_in_feltham
):
    make.make_mentor(mo, cara, cleared=[feltham])
    make.make_mentor(kim, cara, expired=[feltham])
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _suggested(result) == [str(mo)]
    expired_on = TODAY() - timedelta(days=20)
    assert _excluded_reasons(result, kim) == [
        f"not cleared for {feltham.display_name} (clearance expired {expired_on:%d/%m/%Y})"
    ]


def test_suggestion_explains_itself_in_plain_words(mo, kim, cara, feltham, waiting_in_feltham):
    profile = make.make_mentor(
        mo, cara, cleared=[feltham], boroughs_known=["Southwark"],
        languages=["English", "Somali"], lived_experience=["Custody", "Gang involvement"],
    )  # fmt: skip
    profile.custody_history.add(feltham)
    person = waiting_in_feltham.person
    person.first_language = "Somali"
    person.save(update_fields=["first_language"])
    actions.set_matching_needs(
        cara, person, LivedExperienceCategory.objects.filter(name="Gang involvement"), ""
    )
    make.make_case(mentor=mo, actor=cara)
    (suggestion,) = suggestions_for(person, waiting_in_feltham.team_id, TODAY()).result.suggestions
    assert suggestion.reasons[:4] == [
        "has been in Feltham",  # as people say it, without "HMP"
        "shares lived experience: gang involvement",
        "knows Southwark",
        "speaks Somali",
    ]
    assert "5 of 6 places free" in suggestion.reasons


def test_a_mentor_in_conflict_with_the_young_person_is_excluded(
    mo, cara, feltham, waiting_in_feltham
):
    profile = make.make_mentor(mo, cara, cleared=[feltham])
    actions.record_conflict(cara, profile.person, waiting_in_feltham.person, {
        "kind": "victim_link", "source": "Probation", "recorded_on": TODAY(),
    })  # fmt: skip
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _excluded_reasons(result, mo) == ["recorded conflict with this young person"]


def test_a_conflict_with_a_current_mentee_excludes_that_mentor(
    mo, kim, cara, feltham, mo_case, waiting_in_feltham
):
    make.make_mentor(mo, cara, cleared=[feltham])
    make.make_mentor(kim, cara, cleared=[feltham])
    actions.record_conflict(cara, mo_case.person, waiting_in_feltham.person, {
        "kind": "rival_group", "source": "Prison security", "recorded_on": TODAY(),
    })  # fmt: skip
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _suggested(result) == [str(kim)]
    assert _excluded_reasons(result, mo) == ["conflict with one of their current mentees"]


def test_an_ended_conflict_no_longer_excludes(mo, cara, feltham, waiting_in_feltham):
    profile = make.make_mentor(mo, cara, cleared=[feltham])
    conflict = actions.record_conflict(cara, profile.person, waiting_in_feltham.person, {
        "kind": "family_conflict", "source": "Mother", "recorded_on": TODAY(),
    })  # fmt: skip
    actions.end_conflict(cara, conflict, TODAY(), "The families have reconciled.")
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _suggested(result) == [str(mo)]


def test_licence_exclusion_zone_and_non_association_exclude(
    mo, kim, cara, feltham, waiting_in_feltham
):
    mo_profile = make.make_mentor(mo, cara, cleared=[feltham])
    kim_profile = make.make_mentor(kim, cara, cleared=[feltham])
    actions.add_licence_condition(cara, mo_profile, {
        "kind": "exclusion_zone", "boroughs": ["Southwark"], "starts_on": TODAY(),
        "ends_on": TODAY() + timedelta(days=90),
    })  # fmt: skip
    actions.add_licence_condition(cara, kim_profile, {
        "kind": "non_association", "starts_on": TODAY(), "ends_on": TODAY() + timedelta(days=90),
    }, named_people=[waiting_in_feltham.person])  # fmt: skip
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _suggested(result) == []
    assert _excluded_reasons(result, mo) == ["licence condition: exclusion zone covers Southwark"]
    assert _excluded_reasons(result, kim) == [
        "licence condition: non-association with this young person"
    ]


def test_a_licence_condition_that_has_ended_no_longer_applies(
    mo, cara, feltham, waiting_in_feltham
):
    profile = make.make_mentor(mo, cara, cleared=[feltham])
    actions.add_licence_condition(cara, profile, {
        "kind": "exclusion_zone", "boroughs": ["Southwark"],
        "starts_on": TODAY() - timedelta(days=400), "ends_on": TODAY() - timedelta(days=1),
    })  # fmt: skip
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _suggested(result) == [str(mo)]


def test_a_full_mentor_is_not_suggested(mo, cara, feltham, waiting_in_feltham):
    make.make_mentor(mo, cara, cleared=[feltham], capacity=1)
    make.make_case(mentor=mo, actor=cara)
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _excluded_reasons(result, mo) == ["no places free (1 of 1 taken)"]


def test_the_gender_rule_is_applied_only_where_the_case_requires_it(
    mo, kim, cara, feltham, waiting_in_feltham
):
    make.make_mentor(mo, cara, cleared=[feltham], gender="male")
    make.make_mentor(kim, cara, cleared=[feltham], gender="female")
    person = waiting_in_feltham.person
    assert len(suggestions_for(person, waiting_in_feltham.team_id, TODAY()).result.suggestions) == 2
    actions.set_matching_needs(cara, person, [], "female")
    result = suggestions_for(person, waiting_in_feltham.team_id, TODAY())
    assert _suggested(result) == [str(kim)]
    assert _excluded_reasons(result, mo) == ["young person needs a female mentor"]


def test_mentors_of_another_team_are_never_suggested(mo, cara, feltham, waiting_in_feltham):
    north = make.make_team("North team")
    nia = make.make_user("nia", Role.MENTOR, north, first_name="Nia")
    make.make_mentor(nia, cara, cleared=[feltham])
    make.make_mentor(mo, cara, cleared=[feltham])
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _suggested(result) == [str(mo)]
    assert _excluded_reasons(result, nia) is None


# --- Choosing, overriding, re-matching -----------------------------------------------


def test_accepting_a_suggestion_records_why_and_tells_the_mentor(
    mo, cara, feltham, waiting_in_feltham, login
):
    make.make_mentor(mo, cara, cleared=[feltham])
    client = login(cara)
    page = client.get(reverse("casework:referral_detail", args=[waiting_in_feltham.pk]))
    assert "Suggested, best first" in page.content.decode()
    response = client.post(
        reverse("casework:referral_accept", args=[waiting_in_feltham.pk]),
        {"match-mentor": mo.pk, "accept-opened_on": TODAY().isoformat(),
         "accept-initial_phase": "in_custody"},
    )  # fmt: skip
    assert response.status_code == 302
    assignment = MentorAssignment.objects.get(case__referral=waiting_in_feltham)
    assert (assignment.mentor, assignment.how, assignment.rank) == (mo, AssignedHow.SUGGESTED, 1)
    assert f"has been in {feltham.display_name}" not in assignment.reasons  # Mo never was
    assert any(r.endswith("places free") for r in assignment.reasons)
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="casework.mentorassignment",
        person_id=waiting_in_feltham.person_id,
    ).exists()  # fmt: skip
    # Mo sees the new mentee on his home page until he says he has seen it.
    mo_client = login(mo)
    home = mo_client.get(reverse("casework:caseload")).content.decode()
    assert "New mentee" in home and "Tyron Campbell" in home and "matched with you by Cara" in home
    mo_client.post(reverse("mentors:assignment_seen", args=[assignment.pk]))
    assert "New mentee" not in mo_client.get(reverse("casework:caseload")).content.decode()


def test_choosing_someone_other_than_the_first_suggestion_needs_a_reason(
    mo, kim, cara, feltham, mo_case, login
):
    make.make_mentor(mo, cara, cleared=[feltham])
    make.make_mentor(kim, cara, cleared=[feltham])
    suggestions = suggestions_for(mo_case.person, mo_case.team_id, TODAY())
    second = [s for s in suggestions.result.suggestions if s.mentor_name != str(mo)]
    assert suggestions.result.suggestions[0].mentor_name == str(mo)  # continuity
    assert [s.mentor_name for s in second] == [str(kim)]
    with pytest.raises(ValidationError) as refused:
        actions.choose_mentor(cara, mo_case, kim)
    assert "override_reason" in refused.value.message_dict
    actions.choose_mentor(cara, mo_case, kim, "Mo is moving to the North team.")
    history = list(mo_case.mentor_assignments.order_by("id"))
    assert [a.mentor for a in history] == [mo, kim]
    assert history[0].ended_on == TODAY() and history[1].ended_on is None
    assert history[1].how == AssignedHow.OVERRIDE and history[1].rank == 2
    assert history[1].override_reason == "Mo is moving to the North team."
    assert "would change mentor" in history[1].reasons
    # The case page keeps Mo's time on the case.
    page = login(cara).get(reverse("casework:case_detail", args=[mo_case.pk])).content.decode()
    assert "Mentors on this case (2)" in page


def test_closing_a_case_ends_the_mentors_time_on_it(mo, cara, mo_case):
    from throughgate.casework import actions as casework_actions

    casework_actions.close_case(cara, mo_case, "completed", TODAY())
    assert mo_case.mentor_assignments.get().ended_on == TODAY()


# --- Batch ---------------------------------------------------------------------------


def test_batch_proposes_safe_matches_and_accepts_the_ticked_ones(
    mo, kim, cara, team, programme, feltham, login
):
    make.make_mentor(mo, cara, cleared=[feltham], capacity=2)
    make.make_mentor(kim, cara, capacity=1)
    waiting = [make.make_case(actor=cara) for _ in range(2)]
    in_feltham = make.make_case(actor=cara)
    make.make_episode(in_feltham.person, cara, prison="FMI")
    never = make.make_case(actor=cara)
    make.make_episode(never.person, cara, prison="ISI")  # nobody cleared for Isis
    client = login(cara)
    response = client.post(reverse("mentors:batch"))
    batch = cara_batch = response.url.rstrip("/").rsplit("/", 1)[-1]
    proposals = MatchProposal.objects.filter(batch_id=batch)
    proposed = proposals.filter(status=ProposalStatus.PROPOSED)
    assert proposed.count() == 3  # three places for three who can safely be matched
    assert proposed.filter(case=in_feltham, mentor=mo).exists()  # only Mo may go to Feltham
    no_match = proposals.get(case=never)
    assert no_match.status == ProposalStatus.NO_MATCH
    assert "not cleared for HMP/YOI Isis" in " ".join(no_match.reasons)
    assert proposed.filter(case__in=waiting).count() == 2
    page = client.get(reverse("mentors:batch_detail", args=[cara_batch])).content.decode()
    assert "No safe match" in page
    response = client.post(
        reverse("mentors:batch_accept", args=[cara_batch]),
        {"proposal": list(proposed.values_list("pk", flat=True))},
    )
    assert response.status_code == 302
    assert MentorAssignment.objects.filter(how=AssignedHow.BATCH).count() == 3
    in_feltham.refresh_from_db()
    assert in_feltham.mentor == mo


def test_a_batch_proposal_made_unsafe_since_is_refused_and_nothing_is_saved(
    mo, cara, team, programme, login
):
    profile = make.make_mentor(mo, cara)
    case = make.make_case(actor=cara)
    batch = actions.propose_matches(cara, team.pk)
    proposal = batch.proposals.get()
    actions.record_conflict(cara, profile.person, case.person, {
        "kind": "co_defendant", "source": "Police", "recorded_on": TODAY(),
    })  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        actions.accept_proposals(cara, batch, [proposal.pk])
    assert "recorded conflict with this young person" in refused.value.messages[0]
    case.refresh_from_db()
    assert case.mentor is None


@pytest.mark.parametrize("proposal", ["²", str(2**63)], ids=["superscript-two", "2**63"])
def test_an_id_that_is_no_proposal_is_refused_clearly_on_accepting_a_batch(
    proposal, mo, cara, ade, team, programme, login
):
    """A superscript "²" passes str.isdigit() but not int(), and SQLite cannot look up an
    id past 2**63 - 1: both were server errors (found by tests/test_fuzz_forms.py)."""
    make.make_mentor(mo, cara)
    make.make_case(actor=cara)
    batch = actions.propose_matches(cara, team.pk)
    response = login(cara).post(
        reverse("mentors:batch_accept", args=[batch.pk]), {"proposal": proposal}, follow=True
    )
    assert "Choose proposals from this batch that are still open." in response.content.decode()
    assert not MentorAssignment.objects.filter(how=AssignedHow.BATCH).exists()


def test_a_superscript_digit_where_a_mentors_page_takes_an_id_is_no_id(
    mo, cara, ade, team, programme, login
):
    """Like any text that is no id, "²" picks no team and no person (it was a server
    error: str.isdigit() says yes, int() says no)."""
    assert login(ade).get(reverse("mentors:batch"), {"team": "²"}).status_code == 200
    assert login(cara).get(reverse("mentors:conflict_new"), {"person": "²"}).status_code == 200


@pytest.mark.parametrize("next_url", ["1", ":", "https://evil.example/", "//evil.example/"])
def test_matching_needs_go_back_only_to_a_page_of_this_site(next_url, cara, mo_case, login):
    """A `next` that is no path of this site goes to the person's page; a bare word used
    to be taken for a URL name, a server error (found by tests/test_fuzz_forms.py)."""
    person = mo_case.person
    url = reverse("mentors:matching_needs", args=[person.pk])
    response = login(cara).post(f"{url}?next={next_url}", {"mentor_gender_required": "male"})
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[person.pk])
    back = reverse("casework:case_detail", args=[mo_case.pk])
    response = login(cara).post(f"{url}?next={back}", {"mentor_gender_required": "male"})
    assert response.url == back


# --- Who sees what -------------------------------------------------------------------


def test_a_mentor_sees_their_own_vetting_but_not_the_conflicts_register(mo, kim, cara, login):
    profile = make.make_mentor(mo, cara)
    kim_profile = make.make_mentor(kim, cara)
    client = login(mo)
    assert client.get(reverse("mentors:mine")).url == reverse("mentors:detail", args=[profile.pk])
    assert client.get(reverse("mentors:detail", args=[profile.pk])).status_code == 200
    assert client.get(reverse("mentors:detail", args=[kim_profile.pk])).status_code == 404
    assert client.get(reverse("mentors:conflicts")).status_code == 404


def test_viewing_a_mentor_profile_is_audited(mo, cara, login):
    profile = make.make_mentor(mo, cara)
    login(cara).get(reverse("mentors:detail", args=[profile.pk]))
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type="mentors.mentorprofile", person_id=profile.person_id
    ).exists()


def test_recording_a_conflict_is_audited_against_both_people(cara, mo_case):
    other = make.make_person(cara, forename="Kai", surname="Reed")
    actions.record_conflict(cara, mo_case.person, other, {
        "kind": "rival_group", "source": "Police", "recorded_on": TODAY(),
    })  # fmt: skip
    people = set(
        AuditEvent.objects.filter(object_type="mentors.conflict").values_list(
            "person_id", flat=True
        )
    )
    assert people == {mo_case.person_id, other.pk}


def test_the_mentor_list_costs_the_same_queries_for_3_or_12_mentors(team, cara, login):
    client = login(cara)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("mentors:list")).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        make.make_mentor(make.make_user(f"m{i}", Role.MENTOR, team), cara)
    few = queries()
    for i in range(3, 12):
        make.make_mentor(make.make_user(f"m{i}", Role.MENTOR, team), cara)
    assert queries() == few


def test_making_a_mentor_profile_makes_their_person_record(mo, cara):
    profile = make.make_mentor(mo, cara, date_of_birth=date(1989, 6, 2))
    assert profile.person.full_name == "Mo Ahmed"
    assert profile.person.date_of_birth == date(1989, 6, 2)
    with pytest.raises(ValidationError):
        make.make_mentor(mo, cara)  # only one profile each


def test_a_borough_the_mentor_must_avoid_for_their_own_safety_excludes(
    mo, cara, feltham, waiting_in_feltham
):
    make.make_mentor(mo, cara, cleared=[feltham], boroughs_to_avoid=["Southwark"])
    result = suggestions_for(waiting_in_feltham.person, waiting_in_feltham.team_id, TODAY())
    assert _excluded_reasons(result, mo) == ["must avoid Southwark for their own safety"]


def test_accepting_a_batch_counts_the_places_its_own_proposals_take(mo, cara, team, programme):
    make.make_mentor(mo, cara, capacity=2)
    first, second = make.make_case(actor=cara), make.make_case(actor=cara)
    batch = actions.propose_matches(cara, team.pk)
    assert batch.proposals.filter(mentor=mo).count() == 2
    mo.mentor_profile.capacity = 1  # a place went elsewhere since the batch ran
    mo.mentor_profile.save(update_fields=["capacity"])
    actions.record_conflict(cara, first.person, second.person, {
        "kind": "rival_group", "source": "Police", "recorded_on": TODAY(),
    })  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        actions.accept_proposals(cara, batch, batch.proposals.values_list("pk", flat=True))
    (problem,) = refused.value.messages
    assert "no places free (1 of 1 taken)" in problem
    assert "conflict with one of their current mentees" in problem
    first.refresh_from_db()
    assert first.mentor is None  # all or nothing


@pytest.mark.parametrize("pk", [str(2**63), str(-(2**63) - 1), "99999999999999999999999"])
def test_an_experience_id_past_any_row_is_refused_on_the_field(pk, cara, mo_case, login):
    """Found by the fuzzer in CI: a list of ids with one past 2**63 - 1 reached SQLite
    and was a server error; now it is refused on the field like any unknown choice."""
    url = reverse("mentors:matching_needs", args=[mo_case.person.pk])
    response = login(cara).post(url, {"experiences": [pk], "mentor_gender_required": "male"})
    assert response.status_code == 400
    assert "is not one of the available choices" in response.content.decode()


def test_a_nul_typed_among_a_mentors_languages_is_refused_by_name():
    """Found by the form fuzz test on PostgreSQL, which cannot store a NUL in the JSON
    list: the box's text is checked, not the list made of it."""
    from django import forms as django_forms

    from throughgate.mentors.forms import ListField

    field = ListField(required=False)
    assert field.clean("English; Somali, english") == ["English", "Somali"]
    with pytest.raises(django_forms.ValidationError, match="Null characters are not allowed"):
        field.clean("English,\x00")
