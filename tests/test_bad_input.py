"""Bad input is refused clearly and saves nothing.

Every form answers an invalid POST with 400, puts the message on the field it is
about (inside `id="id_<field>_error"`, with the input marked aria-invalid and
linked from the error summary), and leaves the database as it was: no new or
changed rows and no create/update/delete audit event. The action functions the
importer and API will call refuse the same input with a ValidationError keyed
by the field's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from throughgate.casework import actions as casework_actions
from throughgate.casework.models import (
    Case,
    Contact,
    MentorAssignment,
    PhaseChange,
    Referral,
    ReferralStatus,
)
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.core.validators import PNC_CHECK_LETTERS, pnc_check_letter
from throughgate.custody import actions as custody_actions
from throughgate.custody.models import (
    KEY_DATES,
    CustodyEpisode,
    Establishment,
    ItemKind,
    KeyDateChange,
    PlanItem,
    ReleasePlan,
    Transfer,
)
from throughgate.mentors import actions as mentor_actions
from throughgate.mentors.models import (
    Conflict,
    DBSCheck,
    LicenceCondition,
    MatchingNeeds,
    MatchProposal,
    MentorProfile,
    SecurityClearance,
    SupervisionSession,
    TrainingRecord,
)
from throughgate.people import actions as people_actions
from throughgate.people.models import Alias, FamilyMember, Person

from . import make

TODAY = timezone.localdate  # called when each test runs, not once at import


def _wrong_pnc_id() -> str:
    right = pnc_check_letter("2012", "0123456")
    wrong = next(letter for letter in PNC_CHECK_LETTERS if letter != right)
    return f"2012/0123456{wrong}"


TAKEN_PRISON_NUMBER = "B2345CD"

# (field, bad value, part of the message the person entering it should see)
BAD_PERSON_INPUT = [
    pytest.param(
        "date_of_birth",
        lambda: (TODAY() + timedelta(days=1)).isoformat(),
        "Date of birth cannot be in the future.",
        id="future-date-of-birth",
    ),
    pytest.param(
        "pnc_id", lambda: "12345", "Enter a PNC ID as year/serial number", id="malformed-pnc-id"
    ),
    pytest.param(
        "pnc_id", _wrong_pnc_id, "check letter does not match", id="pnc-id-with-wrong-check-letter"
    ),
    pytest.param(
        "prison_number",
        lambda: "12345AB",
        "Enter a prison number as one letter, four digits and two letters",
        id="malformed-prison-number",
    ),
    pytest.param(
        "crn",
        lambda: "12345X",
        "Enter a probation CRN as one letter and six digits",
        id="malformed-crn",
    ),
    pytest.param("postcode", lambda: "XX1 1XX", "Enter a UK postcode", id="bad-postcode"),
    pytest.param(
        "prison_number",
        lambda: TAKEN_PRISON_NUMBER,
        "Another person already has this prison number",
        id="another-persons-prison-number",
    ),
]


# --- Helpers ----------------------------------------------------------------------


COUNTED = [
    Person, Referral, Case, Contact, FamilyMember, Alias, PhaseChange,
    CustodyEpisode, KeyDateChange, Transfer, ReleasePlan, PlanItem, MentorAssignment,
    MentorProfile, LicenceCondition, Conflict, DBSCheck, SecurityClearance, TrainingRecord,
    SupervisionSession, MatchingNeeds, MatchProposal,
]  # fmt: skip
CHANGE_ACTIONS = [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def change_events() -> int:
    return AuditEvent.objects.filter(action__in=CHANGE_ACTIONS).count()


def database_rows() -> dict[str, list[dict[str, Any]]]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in COUNTED}


class SavesNothing:
    """`with SavesNothing(): ...` fails unless the block left every row as it was."""

    def __enter__(self) -> SavesNothing:
        self.counts, self.events, self.rows = row_counts(), change_events(), database_rows()
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None:
            return
        assert row_counts() == self.counts
        assert change_events() == self.events, "a create/update/delete was audited"
        assert database_rows() == self.rows, "an existing row was changed"


class _Tag(HTMLParser):
    def __init__(self, element_id: str):
        super().__init__()
        self.element_id, self.attrs = element_id, None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") == self.element_id and self.attrs is None:
            self.attrs = found


def attributes_of(html: str, element_id: str) -> dict[str, Any]:
    parser = _Tag(element_id)
    parser.feed(html)
    assert parser.attrs is not None, f"no element with id={element_id!r} on the page"
    return parser.attrs


def errors_on(html: str, field_id: str) -> list[str]:
    """The texts of the field's error elements (`id="<field_id>_error"`)."""
    pattern = rf'<(?P<tag>[a-z]+) id="{re.escape(field_id)}_error"[^>]*>(?P<text>.*?)</(?P=tag)>'
    return [
        " ".join(unescape(strip_tags(m["text"])).split()) for m in re.finditer(pattern, html, re.S)
    ]


def assert_refused_on_field(response: Any, field: str, message: str, prefix: str = "") -> None:
    field_id = f"id_{prefix}-{field}" if prefix else f"id_{field}"
    assert response.status_code == 400, f"an invalid POST answered {response.status_code}"
    html = response.content.decode()
    errors = errors_on(html, field_id)
    assert any(message in e for e in errors), f"{message!r} is not on {field_id}: {errors}"
    attrs = attributes_of(html, field_id)
    assert attrs.get("aria-invalid") == "true"
    assert f"{field_id}_error" in (attrs.get("aria-describedby") or "").split()
    assert f'href="#{field_id}"' in html, "the error summary does not link to the field"


def person_post(person: Person | None = None, prefix: str = "", **changes: Any) -> dict[str, Any]:
    """A valid person form POST (of `person`'s current details, or of a new person)."""
    if person is None:
        data: dict[str, Any] = {
            "forename": "Amani",
            "surname": "Okoro",
            "date_of_birth": "2007-03-09",
            "gender": "not_stated",
            "ethnicity": "not_stated",
            "first_language": "English",
        }
    else:
        data = make.person_form_data(person)
    data.update(changes)
    return {f"{prefix}-{k}" if prefix else k: v for k, v in data.items()}


def referral_post(programme: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "programme": programme.pk,
        "source_type": "probation",
        "referral_date": TODAY().isoformat(),
        "reasons": "Asked for a mentor on release.",
        "consent_recorded": "on",
    }
    data.update(changes)
    return {f"referral-{k}": v for k, v in data.items()}


def contact_post(**changes: Any) -> dict[str, Any]:
    data = {
        "occurred_at": f"{TODAY() - timedelta(days=1):%Y-%m-%d}T14:00",
        "mode": "phone",
        "attendance": "attended",
        "duration_minutes": "30",
        "summary": "Talked about the college course.",
    }
    data.update(changes)
    return data


def at_two_pm(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(14, 0)))


@pytest.fixture
def other_person(cara):
    """Someone else, who already holds TAKEN_PRISON_NUMBER."""
    return make.make_person(
        cara, forename="Kezia", surname="Farrow", prison_number=TAKEN_PRISON_NUMBER
    )


@pytest.fixture
def pending_referral(cara, programme):
    return make.make_referral(
        person=make.make_person(cara, forename="Leon", surname="Ashdown"), actor=cara
    )


@pytest.fixture
def establishment(db):
    return Establishment.objects.filter(active=True).order_by("code").first()


# --- Person details ---------------------------------------------------------------


@pytest.mark.parametrize(("field", "bad", "message"), BAD_PERSON_INPUT)
def test_person_edit_form_rejects_bad_input_on_the_field(
    field, bad, message, mo_case, mo, other_person, login
):
    person = mo_case.person
    with SavesNothing():
        response = login(mo).post(
            reverse("people:edit", args=[person.pk]), person_post(person, **{field: bad()})
        )
    assert_refused_on_field(response, field, message)


@pytest.mark.parametrize(("field", "bad", "message"), BAD_PERSON_INPUT)
def test_new_referral_form_rejects_bad_person_input_on_the_field(
    field, bad, message, cara, programme, other_person, login
):
    data = person_post(prefix="person", **{field: bad()}) | referral_post(programme)
    with SavesNothing():
        response = login(cara).post(reverse("casework:referral_new"), data)
    assert_refused_on_field(response, field, message, prefix="person")


def test_referral_for_new_person_with_bad_date_of_birth_saves_neither_person_nor_referral(
    cara, programme, login
):
    tomorrow = (TODAY() + timedelta(days=1)).isoformat()
    data = person_post(prefix="person", date_of_birth=tomorrow) | referral_post(programme)
    with SavesNothing():
        response = login(cara).post(reverse("casework:referral_new"), data)
    assert_refused_on_field(
        response, "date_of_birth", "Date of birth cannot be in the future.", prefix="person"
    )
    assert not Person.objects.filter(surname="Okoro").exists()


# --- Referrals ----------------------------------------------------------------------


def test_referral_dated_in_the_future_is_refused_for_a_known_person(
    cara, programme, mo_case, login
):
    tomorrow = (TODAY() + timedelta(days=1)).isoformat()
    data = referral_post(programme, referral_date=tomorrow) | {"existing_person": mo_case.person.pk}
    with SavesNothing():
        response = login(cara).post(reverse("casework:referral_new"), data)
    assert_refused_on_field(
        response, "referral_date", "The referral date cannot be in the future.", prefix="referral"
    )


def test_referral_dated_in_the_future_for_a_new_person_saves_neither(cara, programme, login):
    tomorrow = (TODAY() + timedelta(days=1)).isoformat()
    data = person_post(prefix="person") | referral_post(programme, referral_date=tomorrow)
    with SavesNothing():
        response = login(cara).post(reverse("casework:referral_new"), data)
    assert_refused_on_field(
        response, "referral_date", "The referral date cannot be in the future.", prefix="referral"
    )
    assert not Person.objects.filter(surname="Okoro").exists()
    # Said once, on the referral: not also as a problem with the young person's details.
    html = response.content.decode()
    assert 'class="form-error"' not in html
    assert html.count("<li>The referral date cannot be in the future.</li>") == 0


def test_accepting_a_referral_without_consent_is_refused(cara, programme, login):
    referral = make.make_referral(actor=cara, consent_recorded=False)
    data = {"accept-opened_on": TODAY().isoformat(), "accept-initial_phase": "referred"}
    with SavesNothing():
        response = login(cara).post(reverse("casework:referral_accept", args=[referral.pk]), data)
    # Consent missing from the referral is asked for on the accept form itself.
    assert_refused_on_field(
        response, "consent_recorded", "Record the young person's consent", prefix="accept"
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING
    assert referral.consent_recorded is False


def test_consent_given_since_the_referral_is_recorded_when_accepting(cara, login):
    referral = make.make_referral(actor=cara, consent_recorded=False)
    data = {
        "accept-opened_on": TODAY().isoformat(),
        "accept-initial_phase": "referred",
        "accept-consent_recorded": "on",
    }
    response = login(cara).post(reverse("casework:referral_accept", args=[referral.pk]), data)
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.consent_recorded and referral.status == ReferralStatus.ACCEPTED
    event = AuditEvent.objects.get(
        object_type="casework.referral", object_id=str(referral.pk), summary="accepted"
    )
    assert event.fields == ["consent_recorded", "status"]


def test_accepting_a_referral_with_case_opened_before_the_referral_is_refused(
    cara, pending_referral, login
):
    too_early = pending_referral.referral_date - timedelta(days=1)
    data = {"accept-opened_on": too_early.isoformat(), "accept-initial_phase": "referred"}
    with SavesNothing():
        response = login(cara).post(
            reverse("casework:referral_accept", args=[pending_referral.pk]), data
        )
    assert_refused_on_field(
        response, "opened_on", "A case cannot open before the referral was made.", prefix="accept"
    )


def test_declining_for_other_reason_without_notes_is_refused(cara, pending_referral, login):
    data = {"decline-decline_reason": "other", "decline-decision_notes": "   "}
    with SavesNothing():
        response = login(cara).post(
            reverse("casework:referral_decline", args=[pending_referral.pk]), data
        )
    assert_refused_on_field(
        response, "decision_notes", "Explain the reason when you choose 'Other'.", prefix="decline"
    )


# --- Contacts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param(
            lambda: {"occurred_at": f"{TODAY() - timedelta(days=60):%Y-%m-%d}T14:00"},
            "occurred_at",
            "This is before the case began on",
            id="before-the-case-began",
        ),
        pytest.param(
            lambda: {"occurred_at": f"{TODAY() + timedelta(days=1):%Y-%m-%d}T14:00"},
            "occurred_at",
            "A contact cannot be logged for a time in the future.",
            id="in-the-future",
        ),
        pytest.param(
            lambda: {"attendance": "did_not_attend", "non_attendance_reason": ""},
            "non_attendance_reason",
            "Say why the contact did not happen.",
            id="did-not-attend-without-a-reason",
        ),
        pytest.param(
            lambda: {"duration_minutes": "0"},
            "duration_minutes",
            "Enter a length between 1 and 720 minutes.",
            id="lasting-0-minutes",
        ),
        pytest.param(
            lambda: {"duration_minutes": "1000"},
            "duration_minutes",
            "Enter a length between 1 and 720 minutes.",
            id="lasting-1000-minutes",
        ),
    ],
)
def test_contact_form_rejects_bad_input_on_the_field(changes, field, message, mo_case, mo, login):
    with SavesNothing():
        response = login(mo).post(
            reverse("casework:contact_new", args=[mo_case.pk]), contact_post(**changes())
        )
    assert_refused_on_field(response, field, message)


# --- Family, aliases, custody -----------------------------------------------------------


def test_family_member_with_bad_phone_is_refused(mo_case, mo, login):
    data = {"name": "Grace Test", "relationship": "mother", "phone": "call the shop"}
    with SavesNothing():
        response = login(mo).post(reverse("people:family_new", args=[mo_case.person.pk]), data)
    assert_refused_on_field(response, "phone", "Enter a phone number using digits")


def test_family_member_edit_with_bad_phone_changes_nothing(mo_case, mo, cara, login):
    member = make.make_family_member(mo_case.person, cara, phone="07700 900123")
    data = {"name": member.name, "relationship": member.relationship, "phone": "12"}
    with SavesNothing():
        response = login(mo).post(reverse("people:family_edit", args=[member.pk]), data)
    assert_refused_on_field(response, "phone", "Enter a phone number using digits")


def test_alias_with_neither_name_is_refused(mo_case, mo, login):
    data = {"forename": "  ", "surname": "", "note": "what friends call him"}
    with SavesNothing():
        response = login(mo).post(reverse("people:alias_new", args=[mo_case.person.pk]), data)
    assert_refused_on_field(response, "surname", "Enter a first name, a last name or both")


# Key dates as the custody form posts them: days from today ("" leaves a date blank).
def custody_post(establishment: Any, received: int = -30, **dates: int | str) -> dict[str, Any]:
    def day(offset: int | str) -> str:
        return offset if isinstance(offset, str) else (TODAY() + timedelta(days=offset)).isoformat()

    data = {"establishment": establishment.pk, "received_on": day(received)}
    data |= {"sentence_type": "determinate", "sentence_date": day(received)}
    data |= {name: day(offset) for name, offset in dates.items()}
    return data


def dates_post(episode: CustodyEpisode, reason: str = "Added days", **dates: int) -> dict[str, Any]:
    """The change-dates form as it stands for `episode`, with `dates` moved by days."""
    data = {"sentence_type": episode.sentence_type, "reason": reason}
    for name in KEY_DATES:
        value = getattr(episode, name)
        if name in dates:
            value = TODAY() + timedelta(days=dates[name])
        data[name] = value.isoformat() if value else ""
    return data


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        pytest.param(
            lambda dob: {"received": (dob - TODAY()).days - 1},
            "received_on",
            "This is before the person was born.",
            id="received-before-birth",
        ),
        pytest.param(
            lambda dob: {"received": 1, "sentence_date": ""},
            "received_on",
            "The date they went into custody cannot be in the future.",
            id="received-in-the-future",
        ),
        pytest.param(
            lambda dob: {"received": -30, "crd": -31},
            "crd",
            "The conditional release date is before the sentence date.",
            id="release-before-sentence",
        ),
        pytest.param(
            lambda dob: {"crd": 30, "led": 20},
            "led",
            "The licence expiry date is before the conditional release date.",
            id="led-before-crd",
        ),
    ],
)
def test_custody_episode_form_rejects_impossible_dates(
    dates, field, message, mo_case, mo, establishment, login
):
    person = mo_case.person
    data = custody_post(establishment, **dates(person.date_of_birth))
    with SavesNothing():
        response = login(mo).post(reverse("custody:episode_new", args=[person.pk]), data)
    assert_refused_on_field(response, field, message)


@pytest.mark.parametrize("code", ["ZZZ", "closed"])
def test_custody_episode_form_refuses_an_unknown_or_closed_prison(
    code, mo_case, mo, establishment, login
):
    if code == "closed":
        code = Establishment.objects.filter(active=False).values_list("pk", flat=True)[0]
    data = custody_post(establishment, crd=30) | {"establishment": code}
    with SavesNothing():
        response = login(mo).post(reverse("custody:episode_new", args=[mo_case.person.pk]), data)
    assert_refused_on_field(response, "establishment", "Select a valid choice.")


@pytest.fixture
def episode(mo_case, cara):
    """Mo's mentee, in custody since 100 days ago with a release-day plan."""
    plan = make.make_plan(mo_case, cara)
    return CustodyEpisode.objects.get(pk=plan.episode_id)


@pytest.mark.parametrize(
    ("reason", "dates", "field", "message"),
    [
        pytest.param("", {"crd": 40}, "reason", "This field is required.", id="no-reason"),
        pytest.param(
            "Added days",
            {"crd": 40, "led": 35},
            "led",
            "The licence expiry date is before the conditional release date.",
            id="led-before-crd",
        ),
    ],
)
def test_changing_key_dates_refuses_bad_input_and_keeps_no_history(
    reason, dates, field, message, episode, cara, login
):
    data = dates_post(episode, reason, **dates)
    with SavesNothing():
        response = login(cara).post(reverse("custody:episode_dates", args=[episode.pk]), data)
    assert_refused_on_field(response, field, message)


def test_transfer_to_the_same_prison_is_refused(episode, cara, login):
    data = {"to_establishment": episode.establishment_id, "transferred_on": TODAY().isoformat()}
    with SavesNothing():
        response = login(cara).post(reverse("custody:episode_transfer", args=[episode.pk]), data)
    assert_refused_on_field(response, "to_establishment", "They are already at this prison.")


def test_release_recorded_for_a_future_date_is_refused(episode, mo, login):
    data = {"released_on": (TODAY() + timedelta(days=1)).isoformat()}
    with SavesNothing():
        response = login(mo).post(reverse("custody:episode_release", args=[episode.pk]), data)
    assert_refused_on_field(response, "released_on", "A release cannot be recorded for a future")


def test_gate_meeting_marked_done_without_a_time_is_refused(episode, mo, login):
    gate = PlanItem.objects.get(plan__episode=episode, kind=ItemKind.GATE_MEETING)
    data = {"status": "done", "owner": "mentor", "assignee": mo.pk, "appointment_at": ""}
    with SavesNothing():
        response = login(mo).post(reverse("custody:plan_item_edit", args=[gate.pk]), data)
    assert_refused_on_field(response, "appointment_at", "Give the time of the gate meeting.")


def test_plan_item_owned_by_an_agency_needs_the_agencys_name(episode, mo_case, mo, login):
    data = {"label": "Collect birth certificate", "status": "to_do", "owner": "agency"}
    with SavesNothing():
        response = login(mo).post(reverse("custody:plan_item_new", args=[mo_case.pk]), data)
    assert_refused_on_field(response, "owner_detail", "Name the agency.")


# --- Phase changes and closure -----------------------------------------------------------


def test_phase_change_dated_in_the_future_is_refused(mo_case, cara, login):
    data = {"to_phase": "in_custody", "changed_on": (TODAY() + timedelta(days=1)).isoformat()}
    with SavesNothing():
        response = login(cara).post(reverse("casework:case_phase", args=[mo_case.pk]), data)
    assert_refused_on_field(
        response, "changed_on", "The date of a phase change cannot be in the future."
    )


def test_phase_change_to_the_same_phase_is_refused(mo_case, cara, login):
    data = {"to_phase": mo_case.phase, "changed_on": TODAY().isoformat()}
    with SavesNothing():
        response = login(cara).post(reverse("casework:case_phase", args=[mo_case.pk]), data)
    # The form offers only other phases, so the current one is not a valid choice.
    assert_refused_on_field(response, "to_phase", "Select a valid choice.")


def test_closing_for_other_reason_without_notes_is_refused(mo_case, cara, login):
    data = {"closure_reason": "other", "closed_on": TODAY().isoformat(), "closure_notes": "",
            "closure_accommodation": "family", "closure_ete": "neet"}  # fmt: skip
    with SavesNothing():
        response = login(cara).post(reverse("casework:case_close", args=[mo_case.pk]), data)
    assert_refused_on_field(
        response, "closure_notes", "Explain the reason when you choose 'Other'."
    )


def test_closing_before_the_last_contact_is_refused(mo_case, cara, login):
    make.make_contact(mo_case, days_ago=3)
    data = {"closure_reason": "completed", "closed_on": (TODAY() - timedelta(days=10)).isoformat(),
            "closure_accommodation": "family", "closure_ete": "neet"}  # fmt: skip
    with SavesNothing():
        response = login(cara).post(reverse("casework:case_close", args=[mo_case.pk]), data)
    assert_refused_on_field(response, "closed_on", "A contact is logged after this date")


# --- The actions refuse the same input, keyed by field ------------------------------------


@dataclass
class Scene:
    mo: Any
    cara: Any
    case: Any
    person: Any
    pending: Any
    unconsented: Any
    establishment: Any
    family_member: Any


@pytest.fixture
def scene(mo, cara, mo_case, pending_referral, other_person, establishment) -> Scene:
    return Scene(
        mo=mo,
        cara=cara,
        case=mo_case,
        person=mo_case.person,
        pending=pending_referral,
        unconsented=make.make_referral(actor=cara, consent_recorded=False),
        establishment=establishment,
        family_member=make.make_family_member(mo_case.person, cara, phone="07700 900123"),
    )


def _new_person(**changes: Any) -> dict[str, Any]:
    data = {"forename": "Amani", "surname": "Okoro", "date_of_birth": date(2007, 3, 9)}
    data.update(changes)
    return data


def _value(field: str, bad: Callable[[], str]) -> Any:
    value = bad()
    return date.fromisoformat(value) if field == "date_of_birth" else value


def _contact(**changes: Any) -> dict[str, Any]:
    data = {
        "occurred_at": at_two_pm(TODAY() - timedelta(days=1)),
        "mode": "phone",
        "attendance": "attended",
        "duration_minutes": 30,
        "summary": "Talked about the college course.",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(("field", "bad", "message"), BAD_PERSON_INPUT)
def test_create_person_action_refuses_bad_input_keyed_by_field(field, bad, message, scene):
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        people_actions.create_person(scene.cara, _new_person(**{field: _value(field, bad)}))
    assert any(message in m for m in refused.value.message_dict[field])


@pytest.mark.parametrize(("field", "bad", "message"), BAD_PERSON_INPUT)
def test_update_person_action_refuses_bad_input_keyed_by_field(field, bad, message, scene):
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        people_actions.update_person(
            scene.mo, Person.objects.get(pk=scene.person.pk), {field: _value(field, bad)}
        )
    assert any(message in m for m in refused.value.message_dict[field])


ACTION_CASES = [
    pytest.param(
        lambda s: casework_actions.create_referral(
            s.cara,
            s.person,
            s.case.programme,
            {
                "source_type": "self",
                "reasons": "Asked for help.",
                "consent_recorded": True,
                "referral_date": TODAY() + timedelta(days=1),
            },
        ),
        "referral_date",
        id="create_referral-dated-in-the-future",
    ),
    pytest.param(
        lambda s: casework_actions.accept_referral(s.cara, s.unconsented, opened_on=TODAY()),
        "consent_recorded",
        id="accept_referral-without-consent",
    ),
    pytest.param(
        lambda s: casework_actions.accept_referral(
            s.cara, s.pending, opened_on=s.pending.referral_date - timedelta(days=1)
        ),
        "opened_on",
        id="accept_referral-opened-before-the-referral",
    ),
    pytest.param(
        lambda s: casework_actions.decline_referral(s.cara, s.pending, "other", "  "),
        "decision_notes",
        id="decline_referral-other-without-notes",
    ),
    pytest.param(
        lambda s: casework_actions.log_contact(
            s.mo, s.case, _contact(occurred_at=at_two_pm(TODAY() - timedelta(days=60)))
        ),
        "occurred_at",
        id="log_contact-before-the-case-began",
    ),
    pytest.param(
        lambda s: casework_actions.log_contact(
            s.mo, s.case, _contact(occurred_at=at_two_pm(TODAY() + timedelta(days=1)))
        ),
        "occurred_at",
        id="log_contact-in-the-future",
    ),
    pytest.param(
        lambda s: casework_actions.log_contact(
            s.mo, s.case, _contact(attendance="did_not_attend", non_attendance_reason="")
        ),
        "non_attendance_reason",
        id="log_contact-did-not-attend-without-a-reason",
    ),
    pytest.param(
        lambda s: casework_actions.log_contact(s.mo, s.case, _contact(duration_minutes=0)),
        "duration_minutes",
        id="log_contact-lasting-0-minutes",
    ),
    pytest.param(
        lambda s: casework_actions.log_contact(s.mo, s.case, _contact(duration_minutes=1000)),
        "duration_minutes",
        id="log_contact-lasting-1000-minutes",
    ),
    pytest.param(
        lambda s: people_actions.add_family_member(
            s.mo, s.person, {"name": "Grace Test", "relationship": "mother", "phone": "call me"}
        ),
        "phone",
        id="add_family_member-with-bad-phone",
    ),
    pytest.param(
        lambda s: people_actions.update_family_member(s.mo, s.family_member, {"phone": "12"}),
        "phone",
        id="update_family_member-with-bad-phone",
    ),
    pytest.param(
        lambda s: people_actions.add_alias(s.mo, s.person, " ", ""),
        "surname",
        id="add_alias-with-neither-name",
    ),
    pytest.param(
        lambda s: custody_actions.start_custody_episode(
            s.mo, s.person, s.establishment, s.person.date_of_birth - timedelta(days=1)
        ),
        "received_on",
        id="start_custody_episode-received-before-birth",
    ),
    pytest.param(
        lambda s: casework_actions.change_phase(
            s.cara, s.case, "in_custody", TODAY() + timedelta(days=1)
        ),
        "changed_on",
        id="change_phase-dated-in-the-future",
    ),
    pytest.param(
        lambda s: casework_actions.change_phase(s.cara, s.case, s.case.phase, TODAY()),
        "to_phase",
        id="change_phase-to-the-same-phase",
    ),
    pytest.param(
        lambda s: casework_actions.close_case(s.cara, s.case, "other", TODAY(), "  "),
        "closure_notes",
        id="close_case-other-without-notes",
    ),
    pytest.param(
        lambda s: casework_actions.close_case(
            s.cara, s.case, "completed", TODAY() - timedelta(days=10)
        ),
        "closed_on",
        id="close_case-before-the-last-contact",
    ),
]


@pytest.mark.parametrize(("act", "field"), ACTION_CASES)
def test_action_refuses_bad_input_keyed_by_field(act, field, scene):
    make.make_contact(scene.case, days_ago=3)  # for closing before the last contact
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        act(scene)
    assert field in refused.value.message_dict, refused.value


# --- Custody actions refuse the same input, keyed by field --------------------------------


def _days(n: int) -> date:
    return TODAY() + timedelta(days=n)


def _start(s: Scene, received: int = -30, establishment: Any = None, **dates: int) -> Any:
    return custody_actions.start_custody_episode(
        s.mo,
        s.person,
        establishment or s.establishment,
        _days(received),
        key_dates={"sentence_date": _days(received)} | {k: _days(v) for k, v in dates.items()},
    )


def _gate(episode: CustodyEpisode) -> PlanItem:
    return PlanItem.objects.get(plan__episode=episode, kind=ItemKind.GATE_MEETING)


CUSTODY_ACTION_CASES = [
    pytest.param(
        lambda s, episode: custody_actions.start_custody_episode(
            s.mo, s.person, s.establishment, s.person.date_of_birth - timedelta(days=1)
        ),
        "received_on",
        id="start_custody_episode-received-before-birth",
    ),
    pytest.param(
        lambda s, episode: _start(s, received=1),
        "received_on",
        id="start_custody_episode-received-in-the-future",
    ),
    pytest.param(
        lambda s, episode: _start(s, received=-30, crd=-31),
        "crd",
        id="start_custody_episode-release-before-sentence",
    ),
    pytest.param(
        lambda s, episode: _start(s, crd=30, led=20),
        "led",
        id="start_custody_episode-led-before-crd",
    ),
    pytest.param(
        lambda s, episode: _start(
            s, establishment=Establishment.objects.filter(active=False).first(), crd=30
        ),
        "establishment",
        id="start_custody_episode-at-a-closed-prison",
    ),
    pytest.param(
        lambda s, episode: custody_actions.update_key_dates(s.mo, episode, {"crd": _days(40)}, " "),
        "reason",
        id="update_key_dates-without-a-reason",
    ),
    pytest.param(
        lambda s, episode: custody_actions.update_key_dates(
            s.mo, episode, {"crd": _days(40), "led": _days(35)}, "Added days"
        ),
        "led",
        id="update_key_dates-led-before-crd",
    ),
    pytest.param(
        lambda s, episode: custody_actions.record_transfer(
            s.mo, episode, episode.establishment, TODAY()
        ),
        "to_establishment",
        id="record_transfer-to-the-same-prison",
    ),
    pytest.param(
        lambda s, episode: custody_actions.record_release(s.mo, episode, _days(1)),
        "released_on",
        id="record_release-for-a-future-date",
    ),
    pytest.param(
        lambda s, episode: custody_actions.update_plan_item(
            s.mo, _gate(episode), {"status": "done", "assignee": s.mo, "appointment_at": None}
        ),
        "appointment_at",
        id="update_plan_item-gate-meeting-done-without-a-time",
    ),
    pytest.param(
        lambda s, episode: custody_actions.add_plan_item(
            s.mo, _gate(episode).plan, {"label": "Birth certificate", "owner": "agency"}
        ),
        "owner_detail",
        id="add_plan_item-agency-without-a-name",
    ),
]


@pytest.mark.parametrize(("act", "field"), CUSTODY_ACTION_CASES)
def test_custody_action_refuses_bad_input_keyed_by_field(act, field, scene, episode):
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        act(scene, episode)
    assert field in refused.value.message_dict, refused.value


# --- Mentors, licence conditions and conflicts (issue 4) ------------------------------


def test_capacity_below_the_current_caseload_is_refused(mo, cara, mo_case, login):
    profile = make.make_mentor(mo, cara)
    make.make_case(mentor=mo, actor=cara)  # Mo now has two open cases
    data = {"capacity": "1", "available": "on", "languages": "English"}
    with SavesNothing():
        response = login(cara).post(reverse("mentors:edit", args=[profile.pk]), data)
    assert_refused_on_field(
        response, "capacity", "has 2 active mentees: capacity cannot be below that"
    )
    with pytest.raises(ValidationError) as refused:
        mentor_actions.update_mentor_profile(cara, profile, {"capacity": 1})
    assert "capacity" in refused.value.message_dict


@pytest.mark.parametrize("kind", ["exclusion_zone", "non_association", "curfew"])
def test_licence_condition_without_an_end_date_is_refused(kind, mo, cara, login):
    profile = make.make_mentor(mo, cara)
    data = {
        "kind": kind, "starts_on": (TODAY() - timedelta(days=30)).isoformat(), "ends_on": "",
        "boroughs": ["Hackney"], "named_description": "His co-defendant, R. Hayes",
        "curfew_from": "19:00", "curfew_until": "07:00",
    }  # fmt: skip
    with SavesNothing():
        response = login(cara).post(
            reverse("mentors:record_new", args=[profile.pk, "licence"]), data
        )
    assert_refused_on_field(response, "ends_on", "give the end date (the licence expiry date)")


def test_a_court_order_until_further_notice_needs_no_end_date(mo, cara, login):
    profile = make.make_mentor(mo, cara)
    victim = make.make_referral(actor=cara).person  # someone Cara's team knows
    data = {
        "kind": "court_order", "starts_on": (TODAY() - timedelta(days=30)).isoformat(),
        "named_people": [victim.pk],
    }  # fmt: skip
    response = login(cara).post(reverse("mentors:record_new", args=[profile.pk, "licence"]), data)
    assert response.status_code == 302
    condition = LicenceCondition.objects.get(mentor=profile)
    assert condition.ends_on is None
    assert list(condition.named_people.all()) == [victim]


def test_licence_condition_ending_before_it_starts_is_refused(mo, cara):
    profile = make.make_mentor(mo, cara)
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        mentor_actions.add_licence_condition(cara, profile, {
            "kind": "exclusion_zone", "boroughs": ["Hackney"], "starts_on": TODAY(),
            "ends_on": TODAY() - timedelta(days=1),
        })  # fmt: skip
    assert refused.value.message_dict["ends_on"] == ["The end date is before the start date."]


def test_exclusion_zone_naming_no_place_is_refused(mo, cara):
    profile = make.make_mentor(mo, cara)
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        mentor_actions.add_licence_condition(cara, profile, {
            "kind": "exclusion_zone", "starts_on": TODAY(),
            "ends_on": TODAY() + timedelta(days=100),
        })  # fmt: skip
    assert "boroughs" in refused.value.message_dict


def test_a_conflict_of_a_person_with_themselves_is_refused(cara, mo_case, login):
    person = mo_case.person
    data = {
        "person_a": person.pk, "person_b": person.pk, "kind": "rival_group",
        "source": "Prison security", "recorded_on": TODAY().isoformat(),
    }  # fmt: skip
    with SavesNothing():
        response = login(cara).post(reverse("mentors:conflict_new"), data)
    assert_refused_on_field(response, "person_b", "A conflict needs two different people")


def test_the_same_conflict_twice_is_refused(cara, mo_case):
    other = make.make_person(cara, forename="Kai", surname="Reed")
    data = {"kind": "rival_group", "source": "Police", "recorded_on": TODAY()}
    mentor_actions.record_conflict(cara, mo_case.person, other, data)
    with SavesNothing(), pytest.raises(ValidationError) as refused:
        mentor_actions.record_conflict(cara, other, mo_case.person, data)
    assert refused.value.messages == ["This conflict is already recorded."]


def test_dbs_certificate_number_must_be_twelve_digits(mo, cara, login):
    profile = make.make_mentor(mo, cara, ready=False)
    data = {"level": "enhanced_barred_children", "certificate_number": "12345",
            "issued_on": TODAY().isoformat()}  # fmt: skip
    with SavesNothing():
        response = login(cara).post(reverse("mentors:record_new", args=[profile.pk, "dbs"]), data)
    assert_refused_on_field(response, "certificate_number", "A DBS certificate number is 12 digits")


def test_clearance_expiring_before_it_was_granted_is_refused(mo, cara, login):
    profile = make.make_mentor(mo, cara)
    data = {"establishment": "FMI", "level": "escorted",
            "granted_on": TODAY().isoformat(),
            "expires_on": (TODAY() - timedelta(days=1)).isoformat()}  # fmt: skip
    with SavesNothing():
        response = login(cara).post(
            reverse("mentors:record_new", args=[profile.pk, "clearance"]), data
        )
    assert_refused_on_field(response, "expires_on", "must be after the date granted")


def test_choosing_a_mentor_the_safety_rules_exclude_is_refused(mo, kim, cara, mo_case, login):
    make.make_mentor(mo, cara)
    make.make_mentor(kim, cara, ready=False)  # no DBS, training or supervision
    data = {"match-mentor": "other", "match-other_mentor": kim.pk,
            "match-override_reason": "She asked for him."}  # fmt: skip
    with SavesNothing():
        response = login(cara).post(reverse("casework:case_mentor", args=[mo_case.pk]), data)
    # The choice is a group of radios: the message sits on the group and the summary
    # links to it.
    assert response.status_code == 400
    html = response.content.decode()
    errors = errors_on(html, "id_match-mentor")
    assert any("cannot be matched: not ready: no DBS check recorded" in e for e in errors), errors
    group = attributes_of(html, "id_match-mentor")
    assert "id_match-mentor_error" in group["aria-describedby"].split()
    assert 'href="#id_match-mentor_0"' in html and 'id="id_match-mentor_0"' in html
