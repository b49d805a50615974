"""The demo charity is the first thing a newcomer sees: it must be valid, believable and
safe to build twice. Most tests seed a tenth of it (about 35 young people) to stay quick."""

from __future__ import annotations

import functools
import time
from collections import Counter
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from throughgate import cli
from throughgate.accounts.models import User
from throughgate.accounts.roles import Role
from throughgate.casework.models import (
    Case,
    ClosureReason,
    Contact,
    MentorAssignment,
    Phase,
    Referral,
    ReferralStatus,
)
from throughgate.core.choices import LONDON_BOROUGHS, Ethnicity
from throughgate.core.validators import (
    normalise_crn,
    normalise_pnc_id,
    normalise_postcode,
    normalise_prison_number,
)
from throughgate.custody.actions import compute_expected_release
from throughgate.custody.calendar import release_rows
from throughgate.custody.feeds import gate_meetings_for
from throughgate.custody.models import (
    STANDARD_ITEMS,
    CustodyEpisode,
    ItemKind,
    ItemStatus,
    KeyDateChange,
    PlanItem,
    ReleasePlan,
    Transfer,
    upcoming_follow_ups,
)
from throughgate.demo import seed as demo
from throughgate.demo.seed import DEMO_PASSWORD, DEMO_USERS, HDC_APPROVED, seed
from throughgate.engines.release import follow_ups
from throughgate.people.models import Alias, FamilyMember, Person

from . import make

SMALL = 0.1


@pytest.fixture(scope="class")
def seeded_once(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One small demo shared by a class of read-only tests, rolled back afterwards.

    Each test still runs inside its own savepoint (the `db` fixture), so a test that
    changes something cannot disturb the next one.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed(progress=False, scale=SMALL)
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once: dict[str, int], db: Any) -> dict[str, int]:
    return seeded_once


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def test_seed_refuses_a_database_that_already_holds_real_people(db):
    make.make_person(forename="Real", surname="Person")
    with pytest.raises(demo.DemoDataError, match="not demo data"):
        seed(progress=False, scale=SMALL)
    assert Person.objects.count() == 1


def test_full_demo_gives_mo_and_kim_ten_to_fifteen_open_cases_and_about_300_people():
    # Planning touches no database, so the full-size demo's shape is cheap to check.
    plans = demo._Seeder(1.0).plan_everything()
    open_by_mentor = Counter(p.mentor for p in plans if p.outcome == "open")
    assert 10 <= open_by_mentor["mo"] <= 15
    assert 10 <= open_by_mentor["kim"] <= 15
    assert open_by_mentor["pat"] >= 5
    assert 270 <= len(plans) <= 330
    assert sum(p.outcome == "pending" and p.kind == "custody" for p in plans) == 8


def test_planning_is_deterministic():
    def shape(plans: list[demo.Plan]) -> list[tuple[Any, ...]]:
        return [
            (p.kind, p.outcome, p.mentor, p.state, p.referral_date, p.expected_release, p.age)
            for p in plans
        ]

    assert shape(demo._Seeder(1.0).plan_everything()) == shape(demo._Seeder(1.0).plan_everything())


def test_planned_release_days_are_ones_the_release_rules_leave_alone():
    # The seeder builds its story on these days and sets the CRD so that the engine lands
    # on them: a working day that is not a Friday or the day before a bank holiday.
    seeder = demo._Seeder(1.0)
    days = [p.expected_release for p in seeder.plan_everything() if p.expected_release]
    assert days
    assert all(seeder.fixed_day(day) for day in days)


def test_cli_seed_demo_quiet_builds_the_demo(db, monkeypatch, capsys):
    # The command seeds the full demo; a tenth of it proves the wiring just as well.
    monkeypatch.setattr(demo, "seed", functools.partial(demo.seed, scale=SMALL))
    assert cli.main(["seed-demo", "-q"]) == 0
    out, err = capsys.readouterr()
    assert "Demo data ready" in out
    assert "Building" not in err  # -q: no progress bar
    assert Person.objects.exists()
    assert cli.main(["seed-demo", "-q"]) == 0
    assert "already there" in capsys.readouterr().out


class TestTheDemoCharity:
    """Read-only checks of one small seeded demo."""

    def test_demo_users_have_the_documented_roles_teams_and_a_working_password(self, seeded):
        assert len(DEMO_PASSWORD) >= 12
        assert [u[0] for u in DEMO_USERS] == ["mo", "kim", "cara", "sam", "pat", "ade", "fay"]
        for username, first_name, last_name, role_label, team in DEMO_USERS:
            user = _user(username)
            assert (user.first_name, user.last_name) == (first_name, last_name)
            assert user.get_role_display() == role_label
            assert (user.team.name if user.team else None) == team
            assert user.is_active
            assert user.check_password(DEMO_PASSWORD), username
            validate_password(DEMO_PASSWORD, user)  # the demo obeys the site's own password rules
        roles = {u: _user(u).role for u in ("mo", "kim", "cara", "sam", "pat", "ade", "fay")}
        assert roles == {
            "mo": Role.MENTOR, "kim": Role.MENTOR, "cara": Role.COORDINATOR,
            "sam": Role.SAFEGUARDING_LEAD, "pat": Role.PREVENTION_FACILITATOR, "ade": Role.ADMIN,
            "fay": Role.ANALYST,
        }  # fmt: skip

    def test_other_staff_carry_caseloads_but_cannot_log_in(self, seeded):
        demo_names = {u[0] for u in DEMO_USERS}
        others = User.objects.exclude(username__in=demo_names)
        assert others.exists()
        assert not any(u.has_usable_password() for u in others)

    def test_seeding_twice_changes_nothing_and_says_the_data_is_there(self, seeded, capsys):
        before = _row_counts()
        started = time.monotonic()
        again = seed(progress=False, scale=SMALL)
        assert time.monotonic() - started < 5
        assert _row_counts() == before
        assert again == seeded
        assert "already there" in capsys.readouterr().out

    def test_every_person_alias_and_family_member_is_valid(self, seeded):
        people = list(Person.objects.all())
        assert len(people) == seeded["people"] + seeded["mentor_profiles"]
        assert seeded["people"] >= 30
        for person in people:
            person.full_clean()
        for alias in Alias.objects.all():
            alias.full_clean()
        for member in FamilyMember.objects.all():
            member.full_clean()
        assert Alias.objects.exists()
        assert FamilyMember.objects.exists()

    def test_identifiers_are_valid_and_unique(self, seeded):
        # The young people; a mentor's own person record holds only name, birth and borough.
        people = list(Person.objects.filter(mentor_profile__isnull=True))
        for field, normalise in (
            ("prison_number", normalise_prison_number),
            ("pnc_id", normalise_pnc_id),
            ("crn", normalise_crn),
        ):
            values = [getattr(p, field) for p in people if getattr(p, field)]
            assert values, f"no {field}s at all"
            assert len(values) == len(set(values)), f"duplicate {field}"
            for value in values:
                assert normalise(value) == value
        for person in people:
            assert person.borough in [*LONDON_BOROUGHS, "Outside London"]
            assert normalise_postcode(person.postcode) == person.postcode
            assert person.ethnicity in Ethnicity.values
        custody_people = Person.objects.filter(cases__programme__kind="custody").distinct()
        assert all(p.prison_number and p.pnc_id for p in custody_people)

    def test_young_people_are_mostly_15_to_25_when_referred(self, seeded):
        ages = [r.person.age_on(r.referral_date) for r in Referral.objects.select_related("person")]
        in_range = sum(15 <= age <= 25 for age in ages)
        assert in_range / len(ages) >= 0.7
        assert min(ages) >= 12

    def test_mo_and_kim_have_open_caseloads_and_never_share_a_young_person(self, seeded):
        mo, kim = _user("mo"), _user("kim")
        assert Case.objects.open().filter(mentor=mo).count() >= 3
        assert Case.objects.open().filter(mentor=kim).count() >= 3
        mo_people = set(Case.objects.filter(mentor=mo).values_list("person_id", flat=True))
        kim_people = set(Case.objects.filter(mentor=kim).values_list("person_id", flat=True))
        assert not mo_people & kim_people
        assert not Person.objects.visible_to(kim).filter(pk__in=mo_people).exists()

    def test_mo_has_releases_in_the_next_four_weeks_and_both_due_and_recent_contacts(
        self, seeded, login
    ):
        mo = _user("mo")
        today = timezone.localdate()
        mo_open = Case.objects.open().filter(mentor=mo)
        releases = CustodyEpisode.objects.filter(
            person__cases__in=mo_open,
            released_on__isnull=True,
            expected_release_date__range=(today, today + timedelta(days=28)),
        )
        assert releases.exists()
        last_contacts = [
            timezone.localtime(c.contacts.order_by("-occurred_at").first().occurred_at).date()
            for c in mo_open.select_related("programme")
            if c.contacts.exists()
        ]
        interval = mo_open.first().programme.contact_interval_days
        assert any((today - day).days > interval for day in last_contacts), "none overdue"
        assert any((today - day).days <= interval for day in last_contacts), "none recent"
        page = login(mo).get(reverse("casework:caseload"))
        assert page.status_code == 200

    def test_pat_has_a_prevention_caseload(self, seeded):
        cases = Case.objects.open().filter(mentor=_user("pat"))
        assert cases.exists()
        assert {c.programme.kind for c in cases} == {"prevention"}
        assert cases.filter(phase=Phase.ACTIVE).exists()

    def test_cara_has_referrals_waiting_for_triage(self, seeded, login):
        cara = _user("cara")
        pending = Referral.objects.visible_to(cara).filter(status=ReferralStatus.PENDING)
        assert pending.count() >= 2
        assert (
            Referral.objects.filter(status=ReferralStatus.DECLINED)
            .exclude(decline_reason="")
            .exists()
        )
        assert login(cara).get(reverse("casework:referral_queue")).status_code == 200

    def test_every_closed_case_has_a_reason_and_a_date(self, seeded):
        closed = Case.objects.filter(phase=Phase.CLOSED)
        assert closed.exists()
        for case in closed:
            assert case.closure_reason in ClosureReason.values
            assert case.closed_on is not None
            assert case.opened_on <= case.closed_on <= timezone.localdate()
            assert case.phase_since == case.closed_on
        assert not Case.objects.open().filter(closed_on__isnull=False).exists()
        assert closed.filter(closure_reason=ClosureReason.COMPLETED).exists()

    def test_every_contact_falls_within_its_case_and_is_valid(self, seeded):
        now = timezone.now()
        contacts = list(Contact.objects.select_related("case"))
        assert len(contacts) == seeded["contacts"] > 0
        for contact in contacts:
            case = contact.case
            day = timezone.localtime(contact.occurred_at).date()
            assert case.opened_on <= day <= (case.closed_on or timezone.localdate())
            assert contact.occurred_at <= now
            contact.clean()  # the model's own rules, without re-querying every foreign key
        modes = {c.mode for c in contacts}
        assert {"prison_visit", "gate", "community"} <= modes
        assert any(c.attendance == "did_not_attend" and c.non_attendance_reason for c in contacts)
        assert Contact.objects.filter(family_members__isnull=False).exists()

    def test_phases_move_forward_in_date_order(self, seeded):
        today = timezone.localdate()
        for case in Case.objects.prefetch_related("phase_changes").select_related("programme"):
            changes = sorted(case.phase_changes.all(), key=lambda c: (c.changed_on, c.id))
            assert changes[0].from_phase == "" and changes[0].changed_on == case.opened_on
            for before, after in pairwise(changes):
                assert after.from_phase == before.to_phase
                assert before.changed_on <= after.changed_on
            assert changes[-1].to_phase == case.phase
            assert changes[-1].changed_on == case.phase_since <= today
            assert all(c.to_phase in case.programme.phases for c in changes)

    def test_custody_dates_are_consistent(self, seeded):
        today = timezone.localdate()
        episodes = list(CustodyEpisode.objects.select_related("person", "establishment"))
        assert episodes
        for episode in episodes:
            episode.clean()
            assert episode.received_on >= episode.person.date_of_birth
            assert episode.released_on is None or episode.released_on <= today
            assert episode.establishment.active
        by_person: dict[int, list[CustodyEpisode]] = {}
        for episode in episodes:
            by_person.setdefault(episode.person_id, []).append(episode)
        for spells in by_person.values():
            spells.sort(key=lambda e: e.received_on)
            for earlier, later in pairwise(spells):
                assert earlier.released_on is not None and earlier.released_on <= later.received_on
        assert any(e.released_on is None for e in episodes)

    def test_every_expected_release_date_is_the_one_the_engine_computes(self, seeded):
        episodes = list(CustodyEpisode.objects.select_related("person"))
        for episode in episodes:
            assert episode.expected_release_date == compute_expected_release(episode).date
        types = Counter(e.sentence_type for e in episodes)
        assert types["determinate"] and types["dto"] and types["remand"]
        for episode in episodes:
            if episode.sentence_type == "dto":
                # Detention and training orders are for children, released at the ARD.
                assert episode.person.age_on(episode.sentence_date) < 18
                assert episode.ard and not episode.crd
            elif episode.sentence_type in ("determinate", "recall"):
                assert episode.crd and episode.sed and episode.led
            elif episode.sentence_type == "remand":
                assert episode.expected_release_date is None

    def test_key_date_history_says_why_and_hdc_brought_a_release_forward(self, seeded):
        changes = KeyDateChange.objects.all()
        assert changes.exists()
        assert not changes.filter(reason="").exists()
        assert all(c.changed_at <= timezone.now() for c in changes)
        hdc = changes.filter(reason=HDC_APPROVED, field="expected_release_date")
        assert hdc.exists()
        for change in hdc:
            assert change.old_value and change.new_value and change.new_value < change.old_value
            assert change.episode.hdcad == change.new_value
        # Recorded on reception, not on the day the demo was built.
        first = changes.filter(old_value__isnull=True, field="expected_release_date")
        assert all(c.changed_at.date() < timezone.localdate() for c in first)

    def test_transfers_move_the_episode_to_an_open_prison_before_release(self, seeded):
        for transfer in Transfer.objects.select_related("episode"):
            episode = transfer.episode
            assert transfer.from_establishment_id != transfer.to_establishment_id
            assert episode.received_on <= transfer.transferred_on <= timezone.localdate()
            assert episode.released_on is None or transfer.transferred_on < episode.released_on
            last = episode.transfers.order_by("transferred_on", "id").last()
            assert episode.establishment_id == last.to_establishment_id

    def test_the_automatic_moves_are_the_only_moves_through_the_gate_and_into_the_community(
        self, seeded
    ):
        from throughgate.casework.models import PhaseChange

        gate = PhaseChange.objects.filter(to_phase=Phase.THROUGH_THE_GATE)
        assert gate.exists()
        assert all(c.note.startswith("Released from ") for c in gate)  # record_release
        settled = PhaseChange.objects.filter(
            from_phase=Phase.THROUGH_THE_GATE, to_phase=Phase.COMMUNITY
        )
        assert settled.exists()
        assert {c.note for c in settled} == {"Seen two weeks after release"}  # log_contact

    def test_every_open_custody_case_due_out_in_twelve_weeks_has_a_release_day_plan(self, seeded):
        today = timezone.localdate()
        due = CustodyEpisode.objects.current().filter(
            expected_release_date__range=(today, today + timedelta(weeks=12))
        )
        cases = Case.objects.open().filter(
            programme__kind="custody", person__custody_episodes__in=due
        )
        assert cases.exists()
        for case in cases:
            episode = due.get(person=case.person)
            plan = ReleasePlan.objects.get(case=case, episode=episode)
            assert plan.items.count() == len(STANDARD_ITEMS)
        for item in PlanItem.objects.select_related("plan__case", "plan__episode"):
            item.full_clean()

    def test_arranged_gate_meetings_are_on_release_morning_with_the_mentor(self, seeded):
        arranged = PlanItem.objects.filter(
            kind=ItemKind.GATE_MEETING, appointment_at__isnull=False
        ).select_related("plan__case", "plan__episode__establishment")
        assert arranged.exists()
        for item in arranged:
            episode = item.plan.episode
            local = timezone.localtime(item.appointment_at)
            assert local.date() == episode.expected_release_date
            assert (8, 0) <= (local.hour, local.minute) <= (9, 30)
            assert item.assignee_id == item.plan.case.mentor_id
            assert item.place == episode.establishment.gate_address
        assert PlanItem.objects.filter(owner="agency").exclude(owner_detail="").exists()
        statuses = set(PlanItem.objects.values_list("status", flat=True))
        assert statuses == {s.value for s in ItemStatus}

    def test_mentors_show_every_situation_a_coordinator_meets_when_matching(self, seeded):
        from throughgate.mentors.matching import suggestions_for
        from throughgate.mentors.models import Conflict, MatchingNeeds, MentorProfile

        today = timezone.localdate()
        assert MentorProfile.objects.count() == 5
        first = (
            Referral.objects.filter(status="pending", programme__kind="custody")
            .order_by("referral_date", "id")
            .first()
        )
        result = suggestions_for(first.person, first.team_id, today, k=None).result
        suggested = {s.mentor_name for s in result.suggestions}
        excluded = {e.mentor_name: [x.reason for x in e.exclusions] for e in result.excluded}
        assert "Mo Ahmed" in suggested, excluded
        assert any("clearance expired" in r for r in excluded["Kim Walsh"])
        assert any("supervision overdue" in r for r in excluded["Tunde Adebayo"])
        assert any(r.startswith("no places free") for r in excluded["Dean Murphy"])
        assert Conflict.objects.filter(active=True).count() >= 2
        assert MatchingNeeds.objects.count() >= 2
        # Matches made before matching existed are not announced as new to the mentors.
        assert not MentorAssignment.objects.filter(seen_by_mentor_at__isnull=True).exists()

    def test_the_release_calendar_shows_flagged_and_all_set_releases(self, seeded, login):
        cara = _user("cara")
        rows = release_rows(cara)
        assert any(row.flags for row in rows), "nothing flagged"
        assert any(not row.flags for row in rows), "no release is all set"
        assert "date_changed" in {flag.code for row in rows for flag in row.flags}
        assert all(row.plan_id for row in rows if row.case is not None)
        assert login(cara).get(reverse("custody:release_calendar")).status_code == 200

    def test_mo_sees_his_gate_meetings_and_mo_and_kim_their_first_days_check_ins(
        self, seeded, login
    ):
        today = timezone.localdate()
        mo = _user("mo")
        meetings = gate_meetings_for(mo, today).filter(
            appointment_at__date__lte=today + timedelta(days=28)
        )
        assert meetings.exists()
        for user in (mo, _user("kim")):
            statuses = [
                follow.status
                for _, released_on, contacts in upcoming_follow_ups(user, today)
                for follow in follow_ups(released_on, contacts, today)
            ]
            assert {"due", "overdue"} & set(statuses), user.username
        page = login(mo).get(reverse("casework:caseload"))
        assert b"Gate meetings" in page.content
        assert b"First days after release" in page.content

    def test_the_demo_shows_holistic_support_in_every_situation(self, seeded, login):
        from throughgate.casework.models import (
            AccommodationOutcome,
            Action,
            ETEOutcome,
            InstrumentResponse,
            OnwardReferral,
        )

        today = timezone.localdate()
        for key in ("needs", "actions", "onward_referrals", "instrument_responses"):
            assert seeded[key] > 0, key
        open_custody = Case.objects.open().filter(programme__kind="custody")
        assert open_custody.exists()
        assert not open_custody.filter(needs__isnull=True).exists(), "a case without needs"
        # Mo's home page lists an action he has let slip.
        mo = _user("mo")
        overdue = Action.objects.filter(case__mentor=mo, done_on__isnull=True, due_on__lt=today)
        assert overdue.exists()
        assert b"Actions due" in login(mo).get(reverse("casework:caseload")).content
        # Onward referrals at every step of the loop, each step as the actions require.
        referrals = OnwardReferral.objects.all()
        statuses = set(referrals.values_list("status", flat=True))
        assert {"draft", "sent", "accepted", "declined", "completed"} <= statuses
        assert not referrals.filter(status="draft", consent_recorded=True).exists()
        assert not referrals.filter(status="declined", outcome="").exists()
        # Distance travelled: somebody asked twice or more and doing better.
        totals: dict[int, list[float]] = {}
        for response in InstrumentResponse.objects.filter(instrument__key="distance-travelled"):
            totals.setdefault(response.case_id, []).append(response.total)
        assert any(len(t) >= 2 and t[-1] > t[0] for t in totals.values())
        trust = InstrumentResponse.objects.filter(instrument__key="trust-check-in")
        assert trust.exists()
        assert all(1 <= r.total <= 5 for r in trust)
        # Outcomes at closure on every closed case; back inside means living in custody.
        closed = Case.objects.filter(phase=Phase.CLOSED)
        for case in closed:
            assert case.closure_accommodation in AccommodationOutcome.values
            assert case.closure_ete in ETEOutcome.values
        assert {
            c.closure_accommodation
            for c in closed.filter(closure_reason=ClosureReason.RETURNED_TO_CUSTODY)
        } <= {"custody"}
        # The family around the young person: mostly a help, sometimes a risk.
        influences = Counter(FamilyMember.objects.values_list("influence", flat=True))
        assert influences["protective"] > influences["risk"] > 0
        assert FamilyMember.objects.exclude(own_needs="").exists()

    def test_support_records_are_valid_and_dated_within_their_cases(self, seeded):
        from throughgate.casework.models import (
            Action,
            Agency,
            AgencyKind,
            BankApplication,
            IDApplication,
            InstrumentResponse,
            NeedUpdate,
            OnwardReferral,
        )

        today, now = timezone.localdate(), timezone.now()

        def within(case: Case, *days: Any) -> bool:
            return all(d is None or case.opened_on <= d <= (case.closed_on or today) for d in days)

        assert {a.kind for a in Agency.objects.all()} == set(AgencyKind.values)
        for update in NeedUpdate.objects.select_related("need__case"):
            case = update.need.case
            assert within(case, update.on, update.need.status_since), update
            assert within(case, timezone.localtime(update.need.created_at).date())
            assert update.recorded_at <= now
        for action in Action.objects.select_related("case"):
            made = timezone.localtime(action.created_at).date()
            assert within(action.case, made, action.done_on)
            assert action.due_on >= action.case.opened_on
            assert action.done_on is None or action.done_on >= made
        for model in (IDApplication, BankApplication):
            for application in model.objects.select_related("case"):
                application.full_clean(exclude=["case", "recorded_by"])
                assert within(application.case, timezone.localtime(application.created_at).date())
        for referral in OnwardReferral.objects.select_related("case"):
            steps = [referral.consent_on, referral.sent_on, referral.accepted_on,
                     referral.completed_on]  # fmt: skip
            dated = [d for d in steps if d]
            assert dated == sorted(dated)
            assert within(referral.case, *steps, referral.declined_on, referral.withdrawn_on)
            assert referral.status == "draft" or referral.sent_on
        for response in InstrumentResponse.objects.select_related("case"):
            assert within(response.case, response.completed_on)
            assert response.created_at <= now

    def test_the_demo_gives_the_outcomes_dashboard_a_believable_cohort(self, seeded):
        from throughgate.engines import reoffending as engine
        from throughgate.outcomes.cohort import events_for, participants

        cohort = participants()
        events = events_for(cohort)
        assert 0 < len(events) < seeded["reoffending_events"]  # others: referred, not taken on
        measures = engine.measure(cohort, events, timezone.localdate())
        assert measures.n_mature > 0
        assert measures.n_immature > 0, "nobody still inside their follow-up or waiting period"
        assert measures.binary_rate is not None
        assert 0.10 <= measures.binary_rate <= 0.40  # the charity's claim: under 30% back
        # Somebody recalled to custody without a proven reoffence.
        reoffenders = {e.person_id for p in cohort for e in engine.proven_offences(p, events)}
        assert any(e.disposal_type == "recall" and e.person_id not in reoffenders for e in events)
        # An offence in the follow-up year convicted after the waiting period does not count.
        person_of = {p.person_id: p for p in cohort}
        late = [
            e
            for e in events
            if e.disposal_type in engine.PROVEN_DISPOSALS
            and e.offence_date is not None
            and e.disposal_date is not None
            and person_of[e.person_id].index_date
            < e.offence_date
            <= engine.follow_up_end(person_of[e.person_id].index_date)
            and e.disposal_date > engine.waiting_end(person_of[e.person_id].index_date)
        ]
        assert late
        for event in late:
            assert event not in engine.proven_offences(person_of[event.person_id], events)

    def test_the_demo_gives_the_impact_evaluation_something_to_match_on(self, seeded):
        from throughgate.casework.models import Programme, ProgrammeKind
        from throughgate.outcomes import evaluation as cohort
        from throughgate.outcomes.models import EvaluationRun

        custody = Programme.objects.get(kind=ProgrammeKind.CUSTODY)
        today = timezone.localdate()
        treated = cohort.frame(cohort.participants_of(custody), today)
        assert len(treated) > 0
        # Everyone released from custody was convicted of something first.
        assert (treated["prior_offences"] >= 1).all()
        assert treated["prior_offences"].nunique() > 1
        pool = cohort.frame(cohort.referred_not_supported(custody), today)
        assert len(pool) > 0 and pool["reoffended"].sum() > 0
        # A tenth-size demo is too small to evaluate: nothing stored rather than a
        # report on a handful of people (the full demo stores one; .ci/run checks it).
        assert len(treated) < 60 and not EvaluationRun.objects.exists()

    def test_reoffending_events_are_valid_and_dated_around_the_index_date(self, seeded):
        from throughgate.casework.models import Programme
        from throughgate.outcomes.cohort import participants
        from throughgate.outcomes.evaluation import referred_not_supported
        from throughgate.outcomes.models import ReoffendingEvent

        today = timezone.localdate()
        index_of = {int(p.person_id): p.index_date for p in participants()}
        for programme in Programme.objects.all():
            index_of.update({int(p.person_id): p.index_date
                             for p in referred_not_supported(programme)})  # fmt: skip
        events = list(ReoffendingEvent.objects.select_related("person"))
        assert events
        history = 0
        for event in events:
            event.full_clean()
            dates = [d for d in (event.offence_date, event.disposal_date) if d]
            assert dates and max(dates) <= today, event
            assert event.created_at <= timezone.now()
            if event.is_proven:
                assert event.offence_date and event.disposal_date, event
                assert event.disposal_date >= event.offence_date > event.person.date_of_birth
            # Criminal history comes wholly before the index date; the rest after it, but
            # for the deliberately old offences (convicted after release).
            index = index_of.get(event.person_id)
            if event.notes == demo.OLD_NOTE:
                assert event.offence_date < index < event.disposal_date
            elif index is None or max(dates) < index:
                history += 1
                assert event.is_proven, event  # convictions and cautions, not recalls
            else:
                assert min(dates) > index, event
        assert history > 0, "nobody has a criminal history for the evaluation to match on"
