"""A tiny factory module (djangoproject.com style): make_* functions with sensible
defaults, each taking keyword overrides. Tests read as specifications with the
named users of DESIGN.md: Mo and Kim (mentors), Cara (coordinator), Sam
(safeguarding lead), Pat (prevention facilitator), Ade (admin), Fay (analyst).
"""

from __future__ import annotations

import functools
import itertools
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from throughgate.accounts.models import Team, User
from throughgate.accounts.roles import Role
from throughgate.casework import actions as casework_actions
from throughgate.casework.models import (
    DEFAULT_PHASES,
    Case,
    Contact,
    Programme,
    ProgrammeKind,
    Referral,
)
from throughgate.custody import actions as custody_actions
from throughgate.custody.models import CustodyEpisode, Establishment, ReleasePlan
from throughgate.people import actions as people_actions
from throughgate.people.models import FamilyMember, Person

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


@functools.cache
def _password_hash() -> str:
    """One real Argon2 hash of PASSWORD, shared by every test user: Argon2 is slow on
    purpose, and hashing afresh for each of seven users in every test would dominate
    the suite's run time."""
    return make_password(PASSWORD)


def make_team(name: str = "Custody team") -> Team:
    return Team.objects.get_or_create(name=name)[0]


def make_user(
    username: str, role: str = Role.MENTOR, team: Team | None = None, **extra: Any
) -> User:
    user = User(
        username=username,
        role=role,
        team=team,
        first_name=extra.pop("first_name", username.capitalize()),
        last_name=extra.pop("last_name", "Tester"),
        **extra,
    )
    user.password = _password_hash()
    user.save()
    return user


def authenticator_app(user: User) -> Any:
    """The user's authenticator app, as if they had set it up: a confirmed TOTP device
    whose secret the tests know (django-otp's own model)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return device


def current_code(device: Any) -> str:
    """The code the app shows now. django-otp accepts each code once, so a test that
    logs the same user in twice within 30 seconds would be refused the second time; the
    device forgets the last code it accepted first, as if the next 30 seconds had begun."""
    from django_otp.oath import TOTP

    type(device).objects.filter(pk=device.pk).update(last_t=-1)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def give_code(client: Any, user: User, next_url: str = "") -> Any:
    """Type the app's current code on the two-factor page, as a person would."""
    data = {"code": current_code(authenticator_app(user))}
    if next_url:
        data["next"] = next_url
    return client.post("/two-factor/", data)


def pass_two_factor(client: Any, user: User) -> None:
    """Mark a test client's session as having given the two-factor code, exactly as
    django_otp.login does after a right code (the code page itself is tested in
    tests/test_two_factor.py)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator_app(user).persistent_id
    session.save()


def make_programme(
    name: str = "Custody to community", kind: str = ProgrammeKind.CUSTODY, team: Team | None = None
) -> Programme:
    team = team or make_team()
    programme, _ = Programme.objects.get_or_create(
        name=name,
        defaults={"kind": kind, "phases": [str(p) for p in DEFAULT_PHASES[kind]], "team": team},
    )
    return programme


def make_person(actor: Any = None, **overrides: Any) -> Person:
    n = next(_counter)
    data = {
        "forename": "Jordan",
        "surname": f"Test{n}",
        "date_of_birth": date(2006, 5, 17),
    }
    data.update(overrides)
    return people_actions.create_person(actor, data)


def make_referral(person: Person | None = None, programme: Programme | None = None,
                  actor: Any = None, **overrides: Any) -> Referral:  # fmt: skip
    data = {
        "source_type": "prison",
        "referring_organisation": "HMP/YOI Feltham",
        "referral_date": timezone.localdate() - timedelta(days=60),
        "reasons": "Due for release; asked for a mentor.",
        "consent_recorded": True,
    }
    data.update(overrides)
    return casework_actions.create_referral(
        actor, person or make_person(actor), programme or make_programme(), data
    )


def make_case(mentor: User | None = None, person: Person | None = None, actor: Any = None,
              opened_days_ago: int = 50, programme: Programme | None = None,
              **referral_overrides: Any) -> Case:  # fmt: skip
    referral = make_referral(person=person, programme=programme, actor=actor, **referral_overrides)
    return casework_actions.accept_referral(
        actor,
        referral,
        mentor=mentor,
        opened_on=timezone.localdate() - timedelta(days=opened_days_ago),
    )


def person_form_data(person: Person, **changes: Any) -> dict[str, Any]:
    """The person form's POST data for `person` as it stands, with `changes` applied."""
    data: dict[str, Any] = {}
    for name in people_actions.PERSON_FIELDS:
        value = getattr(person, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"  # an unticked box is simply absent from a POST
        else:
            data[name] = value.isoformat() if isinstance(value, date) else value
    data.update(changes)
    return data


def make_family_member(person: Person, actor: Any = None, **overrides: Any) -> FamilyMember:
    data = {"name": "Grace Test", "relationship": "mother", "lives_with": True}
    data.update(overrides)
    return people_actions.add_family_member(actor, person, data)


def make_contact(case: Case, actor: Any = None, days_ago: int = 3, **overrides: Any) -> Contact:
    when = timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=days_ago), time(14, 0))
    )
    data = {
        "occurred_at": when,
        "mode": "community",
        "attendance": "attended",
        "duration_minutes": 60,
        "summary": "Met for lunch; talked about college.",
    }
    data.update(overrides)
    return casework_actions.log_contact(actor or case.mentor, case, data)


def make_episode(person: Person, actor: Any = None, *, days_in: int = 100, release_in: int = 30,
                 prison: str = "ISI", sentence_type: str = "determinate",
                 **key_dates: Any) -> CustodyEpisode:  # fmt: skip
    """Custody at HMP/YOI Isis since `days_in` days ago, sentenced that day, with a CRD in
    `release_in` days and licence and sentence expiry half a year after it. The expected
    release date is computed, so it may fall a few days before the CRD (weekends,
    Fridays, bank holidays): read it from the episode, never from the CRD."""
    today = timezone.localdate()
    crd = today + timedelta(days=release_in)
    dates = {
        "sentence_date": today - timedelta(days=days_in),
        "crd": crd,
        "led": crd + timedelta(days=182),
        "sed": crd + timedelta(days=182),
    }
    dates.update(key_dates)
    return custody_actions.start_custody_episode(
        actor,
        person,
        Establishment.objects.get(code=prison),
        today - timedelta(days=days_in),
        sentence_type=sentence_type,
        key_dates=dates,
    )


def make_plan(case: Case, actor: Any = None, episode: CustodyEpisode | None = None,
              **episode_options: Any) -> ReleasePlan:  # fmt: skip
    """The standard release-day plan for `case` (and a custody episode, made if not given)."""
    episode = episode or make_episode(case.person, actor, **episode_options)
    return custody_actions.create_release_plan(actor, case, episode)


def make_mentor(
    user: User,
    actor: Any = None,
    *,
    ready: bool = True,
    cleared: Any = (),
    expired: Any = (),
    date_of_birth: date = date(1990, 3, 1),
    gender: str = "male",
    lived_experience: Any = (),
    **profile: Any,
) -> Any:
    """A mentor profile for `user`. `ready` adds an in-date enhanced DBS with the barred
    list, the required training and a recent supervision; `cleared` and `expired` are
    establishments with a current and an expired security clearance."""
    from throughgate.mentors import actions as mentor_actions
    from throughgate.mentors.models import DBSLevel, LivedExperienceCategory, TrainingCourse

    today = timezone.localdate()
    data = {"capacity": 6, "languages": ["English"]}
    data.update(profile)
    mentor = mentor_actions.create_mentor_profile(
        actor,
        user,
        {"date_of_birth": date_of_birth, "gender": gender},
        data,
        lived_experience=LivedExperienceCategory.objects.filter(name__in=lived_experience),
    )
    if ready:
        mentor_actions.add_dbs_check(actor, mentor, {
            "level": DBSLevel.ENHANCED_BARRED_CHILDREN, "certificate_number": "001234567890",
            "issued_on": today - timedelta(days=200), "renewal_due": today + timedelta(days=900),
        })  # fmt: skip
        for course in TrainingCourse.objects.filter(required_for_matching=True):
            mentor_actions.add_training(
                actor, mentor, {"course": course, "completed_on": today - timedelta(days=100)}
            )
        supervisor = make_user(f"sup{next(_counter)}", Role.COORDINATOR)
        mentor_actions.add_supervision(actor, mentor, {
            "held_on": today - timedelta(days=10), "supervisor": supervisor, "wellbeing": "well",
        })  # fmt: skip
    for establishment in cleared:
        mentor_actions.add_clearance(actor, mentor, {
            "establishment": establishment, "level": "unescorted",
            "granted_on": today - timedelta(days=300), "expires_on": today + timedelta(days=400),
        })  # fmt: skip
    for establishment in expired:
        mentor_actions.add_clearance(actor, mentor, {
            "establishment": establishment, "level": "unescorted",
            "granted_on": today - timedelta(days=800), "expires_on": today - timedelta(days=20),
        })  # fmt: skip
    return mentor


def confirm_password(client: Any, password: str = PASSWORD) -> Any:
    """Type the password on the "Confirm it's you" page, as a person does before a
    download of personal data (core.reauth); returns the client for chaining."""
    response = client.post("/confirm-password/", {"password": password})
    assert response.status_code == 302, f"confirming the password answered {response.status_code}"
    return client


# --- Training and consultancy (prevention/training) --------------------------------


def make_course(actor: Any, trainers: Any = None, **overrides: Any) -> Any:
    """A one-day course for teachers, delivered a week ago, £450 (through the action)."""
    from throughgate.prevention.training import actions as training_actions

    today = timezone.localdate()
    data = {
        "kind": "course",
        "title": f"Spotting county lines {next(_counter)}",
        "audience": "teachers",
        "client": "Lambeth Council",
        "start_date": today - timedelta(days=7),
        "end_date": overrides.get("start_date", today - timedelta(days=7)),
        "sessions": 1,
        "fee": "450.00",
    }
    data.update(overrides)
    return training_actions.create_course(actor, data, trainers or [actor], today=today)


def make_delegates(actor: Any, course: Any, names: Any, attendance: str = "attended") -> list:
    """Delegates by name ("Jo Bloggs" or ("Jo Bloggs", "Met Police", "PC"))."""
    from throughgate.prevention.training import actions as training_actions

    rows = []
    for line, entry in enumerate(names, start=1):
        name, organisation, role = (entry, "", "") if isinstance(entry, str) else entry
        rows.append({"line": line, "name": name, "organisation": organisation, "role": role})
    return training_actions.add_delegates(actor, course, rows, attendance)


def make_concern(person: Person, raised_by: Any, hours_ago: float = 1, **overrides: Any) -> Any:
    """A safeguarding concern about `person`, raised by `raised_by` now (seen `hours_ago`
    hours earlier): county lines, the young person at risk, no immediate danger."""
    from throughgate.casework import safeguarding

    data = {
        "observed_at": timezone.now() - timedelta(hours=hours_ago),
        "what_happened": "Has a second phone and new trainers; says he 'works' in Margate.",
        "at_risk": "young_person",
        "at_risk_name": "",
        "category": "county_lines",
        "immediate_action": "Talked it through with him.",
        "immediate_danger": False,
    }
    data.update(overrides)
    return safeguarding.raise_concern(raised_by, person, data)


def make_venue(actor: Any = None, **overrides: Any) -> Any:
    """A secondary academy in Lambeth, with a main contact and a safeguarding lead."""
    from throughgate.prevention import actions as prevention_actions

    data = {
        "name": f"Brixton Academy {next(_counter)}",
        "kind": "school",
        "school_type": "academy",
        "phase": "secondary",
        "borough": "Lambeth",
        "contact_name": "Ms Okonjo",
        "contact_email": "okonjo@example.org",
        "dsl_name": "Mr Hale",
    }
    data.update(overrides)
    return prevention_actions.create_venue(actor, data)


def make_workshop(actor: Any, venue: Any = None, groups: Any = None, **overrides: Any) -> Any:
    """A one-hour county lines workshop run by `actor` today for Year 9 (12 girls,
    13 boys, 25 in all) at `venue` (a new school if none). `groups` is a list of
    (year group, girls, boys, other)."""
    from throughgate.prevention import actions as prevention_actions
    from throughgate.prevention.models import WorkshopTopic

    topics = overrides.pop("topics", None) or [WorkshopTopic.objects.get(name="County lines")]
    facilitators = overrides.pop("facilitators", None) or [actor]
    data = {
        "held_on": timezone.localdate(),
        "venue": venue or make_venue(actor),
        "duration_minutes": 60,
        "repeat_group": False,
        "teacher_rating": 5,
        "teacher_comment": "",
    }
    data.update(overrides)
    rows = [
        {"year_group": y, "girls": g, "boys": b, "other": o}
        for y, g, b, o in (groups or [("Y9", 12, 13, 0)])
    ]
    return prevention_actions.record_workshop(actor, data, rows, topics, facilitators)
