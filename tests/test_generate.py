"""`throughgate generate`: the synthetic data for scale tests, generated at a tiny scale
(1/1000 of the region) through the real command on the test database, and checked with
queries for the consistency the benchmarks rely on."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pandas as pd
import pytest
from django.db import transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from throughgate import cli
from throughgate.accounts.models import User
from throughgate.casework.models import (
    Case,
    Contact,
    MentorAssignment,
    Phase,
    Programme,
    Referral,
)
from throughgate.core.models import AuditEvent
from throughgate.custody.actions import compute_expected_release
from throughgate.custody.models import CustodyEpisode
from throughgate.demo import generate as gen
from throughgate.demo.seed import DEMO_PASSWORD, DEMO_USERS
from throughgate.engines.generate import SCALES
from throughgate.engines.synthetic_pool import COLUMNS
from throughgate.outcomes.models import ReoffendingEvent
from throughgate.people.models import NameIndex, Person
from throughgate.prevention.models import Workshop, WorkshopGroup, academic_year_of

from . import make

TINY = SCALES["tiny"]


@pytest.fixture(scope="class")
def generated_once(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One tiny generation through the command line, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        assert cli.main(["generate", "--scale", "tiny", "--quiet"]) == 0
        yield
        transaction.set_rollback(True)


@pytest.fixture
def generated(generated_once: Any, db: Any) -> None:
    return None


def _today() -> date:
    return timezone.localdate()


@pytest.mark.usefixtures("generated")
class TestTinyGeneration:
    def test_counts_by_table_follow_the_scale(self):
        assert Person.objects.count() == TINY.people
        assert Case.objects.count() == TINY.cases
        assert Contact.objects.count() == TINY.contacts
        assert CustodyEpisode.objects.count() == TINY.episodes
        assert ReoffendingEvent.objects.count() == TINY.reoffending
        assert Workshop.objects.count() == TINY.workshops
        assert NameIndex.objects.count() == TINY.people
        assert Referral.objects.filter(status="accepted").count() == TINY.cases
        assert Referral.objects.filter(status="pending").count() == round(TINY.cases * 0.05)
        assert Referral.objects.filter(status="declined").count() == round(TINY.cases * 0.10)

    def test_the_named_users_log_in_with_the_demo_password(self):
        for username, *_ in DEMO_USERS:
            assert User.objects.get(username=username).check_password(DEMO_PASSWORD)

    def test_cara_coordinates_mos_team_and_each_team_has_a_custody_programme(self):
        mo, cara = User.objects.get(username="mo"), User.objects.get(username="cara")
        assert mo.team_id == cara.team_id
        assert Case.objects.filter(mentor=mo).exclude(coordinator=cara).count() == 0
        assert Programme.objects.filter(team=mo.team, kind="custody").count() == 1
        pat = User.objects.get(username="pat")
        assert Programme.objects.filter(team=pat.team, kind="prevention").count() == 1

    def test_notes_are_stored_encrypted_as_the_app_stores_them(self):
        from django.db import connection

        from throughgate.core.encryption import TOKEN_PREFIX

        with connection.cursor() as cursor:
            cursor.execute("SELECT summary FROM casework_contact WHERE summary <> '' LIMIT 50")
            stored = [row[0] for row in cursor.fetchall()]
        assert stored and all(s.startswith(TOKEN_PREFIX) for s in stored)
        assert Contact.objects.exclude(summary="").first().summary[:6] != TOKEN_PREFIX

    def test_mo_has_about_fifteen_open_cases_one_with_500_contacts(self):
        mo = User.objects.get(username="mo")
        open_cases = Case.objects.open().filter(mentor=mo)
        assert open_cases.count() == 15
        most = open_cases.annotate(n=Count("contacts")).aggregate(m=Max("n"))["m"]
        assert most == 500

    def test_no_mentor_carries_more_than_twenty_open_cases(self):
        loads = Case.objects.open().exclude(mentor=None).values("mentor").annotate(n=Count("id"))
        assert max(r["n"] for r in loads) <= 20

    def test_every_contact_is_within_its_cases_open_period(self):
        today = _today()
        cases = {c.pk: c for c in Case.objects.all()}
        for case_id, when in Contact.objects.values_list("case_id", "occurred_at"):
            case = cases[case_id]
            day = timezone.localtime(when).date()
            assert case.opened_on <= day <= (case.closed_on or today), (case_id, day)

    def test_phase_changes_follow_the_programme_order_and_end_at_the_cases_phase(self):
        for case in Case.objects.select_related("programme").prefetch_related("phase_changes"):
            changes = sorted(case.phase_changes.all(), key=lambda p: (p.changed_on, p.id))
            order = [p.to_phase for p in changes]
            phases = case.programme.phases
            positions = [phases.index(p) for p in order]
            assert positions == sorted(positions)
            # Every step but a closure is the next phase of the programme.
            steps = positions[:-1] if order[-1] == Phase.CLOSED else positions
            assert steps == list(range(len(steps)))
            assert changes[0].from_phase == "" and changes[0].to_phase == Phase.REFERRED
            assert all(
                a.to_phase == b.from_phase for a, b in zip(changes, changes[1:], strict=False)
            )
            assert changes[-1].to_phase == case.phase
            assert changes[-1].changed_on == case.phase_since
            assert changes[0].changed_on == case.opened_on

    def test_closed_cases_have_a_date_and_reason_and_open_ones_neither(self):
        assert Case.objects.filter(phase=Phase.CLOSED, closed_on=None).count() == 0
        assert Case.objects.filter(phase=Phase.CLOSED, closure_reason="").count() == 0
        assert Case.objects.open().exclude(closed_on=None).count() == 0

    def test_releases_come_after_sentence_and_reception_and_match_the_app(self):
        today = _today()
        assert not CustodyEpisode.objects.filter(released_on__lt=F("sentence_date")).exists()
        assert not CustodyEpisode.objects.filter(released_on__lt=F("received_on")).exists()
        assert not CustodyEpisode.objects.filter(released_on__gt=today).exists()
        for episode in CustodyEpisode.objects.select_related("person"):
            result = compute_expected_release(episode)
            assert episode.expected_release_date == result.date
            assert episode.expected_release_basis == result.basis
            assert episode.expected_release_note == result.explanation[:400]
            episode.clean()  # the model's own checks of the key dates

    def test_reoffending_comes_after_the_persons_index_date(self):
        for event in ReoffendingEvent.objects.all():
            last_release = CustodyEpisode.objects.filter(
                person_id=event.person_id, released_on__isnull=False
            ).aggregate(m=Max("released_on"))["m"]
            first_case = Case.objects.filter(person_id=event.person_id).order_by("opened_on")
            index = last_release or first_case.first().opened_on
            assert event.offence_date > index
            assert event.disposal_date >= event.offence_date
            event.clean()

    def test_every_case_with_a_mentor_has_its_assignment(self):
        with_mentor = Case.objects.exclude(mentor=None)
        assert MentorAssignment.objects.count() == with_mentor.count()
        assert (
            not with_mentor.exclude(
                mentor_assignments__mentor=F("mentor"), mentor_assignments__ended_on=F("closed_on")
            )
            .filter(closed_on__isnull=False)
            .exists()
        )
        assert MentorAssignment.objects.filter(ended_on=None).count() == (
            with_mentor.filter(closed_on=None).count()
        )

    def test_workshops_store_headcount_and_academic_year_from_their_groups(self):
        for w in Workshop.objects.prefetch_related("groups", "topics", "facilitators"):
            assert w.headcount == sum(g.headcount for g in w.groups.all()) > 0
            assert w.academic_year == academic_year_of(w.held_on)
            assert w.topics.count() == 1 and w.facilitators.count() == 1
            w.full_clean()
        assert WorkshopGroup.objects.count() >= Workshop.objects.count()

    def test_people_pass_the_models_own_checks(self):
        for person in Person.objects.all()[:50]:
            person.full_clean()

    def test_a_marker_event_says_the_data_was_generated(self):
        assert AuditEvent.objects.filter(object_type=gen.MARKER_TYPE).count() == 1
        assert gen.is_generated()

    def test_new_rows_after_generation_get_fresh_ids(self):
        # PostgreSQL sequences were moved past the ids the generator chose.
        person = make.make_person(forename="After", surname="Generation")
        assert person.pk > TINY.people

    def test_a_second_run_refuses_the_now_full_database(self, capsys):
        assert cli.main(["generate", "--scale", "tiny", "--quiet"]) == 1
        assert "already has people" in capsys.readouterr().err


def _fingerprint() -> str:
    """A digest of the generated rows that do not depend on database-made ids."""
    usernames = dict(User.objects.values_list("id", "username"))
    h = hashlib.sha256()
    for row in Case.objects.order_by("id").values_list(
        "id", "person_id", "phase", "opened_on", "closed_on", "mentor_id"
    ):
        h.update(repr((*row[:5], usernames.get(row[5]))).encode())
    for row in Contact.objects.order_by("id").values_list("case_id", "occurred_at", "mode"):
        h.update(repr(row).encode())
    for row in CustodyEpisode.objects.order_by("id").values_list(
        "person_id", "received_on", "sentence_date", "crd", "released_on"
    ):
        h.update(repr(row).encode())
    for row in Person.objects.order_by("id").values_list("forename", "surname", "date_of_birth"):
        h.update(repr(row).encode())
    return h.hexdigest()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    prints = []
    for seed in (11, 11, 12):
        with transaction.atomic():
            gen.generate("tiny", seed=seed, quiet=True)
            prints.append(_fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


@pytest.mark.django_db
def test_refuses_a_database_that_already_has_people():
    make.make_person(forename="Real", surname="Person")
    with pytest.raises(gen.GenerateError, match="already has people"):
        gen.generate("tiny", quiet=True)
    assert Person.objects.count() == 1


@pytest.mark.django_db
def test_a_failure_half_way_says_so_and_tells_to_start_again(monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(gen, "_workshops", broken)
    with pytest.raises(gen.GenerateError, match="start again on an empty database"):
        with transaction.atomic():
            gen.generate("tiny", quiet=True)


def test_comparison_pool_alone_writes_parquet_without_a_database(tmp_path, capsys):
    out = tmp_path / "pool.parquet"
    assert cli.main(["generate", "--comparison-pool", "300", "--output", str(out)]) == 0
    frame = pd.read_parquet(out)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 300
    assert {"age_at_index", "prior_offences", "prior_custody", "reoffended"} <= set(frame)


def test_comparison_pool_needs_an_output_file(capsys):
    assert cli.main(["generate", "--comparison-pool", "10"]) == 2
    assert "--output" in capsys.readouterr().err


def test_generate_needs_a_scale_or_a_pool(capsys):
    assert cli.main(["generate"]) == 2


def test_unknown_scale_is_bad_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["generate", "--scale", "galaxy"])
    assert exc.value.code == 2
