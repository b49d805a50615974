"""Importing referrals, custody episodes and reoffending events: each kind's good rows come
in with their fields, each of its own rules is applied to a bad row (named by row and
column), and a second run adds nothing."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from throughgate.casework.models import Referral
from throughgate.custody.models import CustodyEpisode, KeyDateChange
from throughgate.imports.models import SourceRecord
from throughgate.outcomes.models import ReoffendingEvent

from . import test_imports
from .test_imports import PEOPLE_HEADERS, import_file, people_rows, write_csv

source = test_imports.source  # the same fixture: the old spreadsheets


def days_ago(n: int) -> str:
    return (timezone.localdate() - timedelta(days=n)).strftime("%d/%m/%Y")


def import_people(ade, source, tmp_path, n: int = 3) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, people_rows(n))
    assert import_file(ade, source, "people", path, commit=True).added == n


def problems(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(p) for p in report.problems]


def by_id(model, source, kind: str, external: str):  # type: ignore[no-untyped-def]
    record = SourceRecord.objects.get(source=source, kind=kind, external_id=external)
    return model.objects.get(pk=record.object_id)


REFERRAL_HEADERS = [
    "Referral ID",
    "Person ID",
    "Programme",
    "Referred by",
    "Date referred",
    "Reasons",
    "Consent",
    "Status",
    "Decline reason",
]


def test_referrals_come_in_with_the_decline_rules_of_the_referral_queue(
    ade, programme, source, tmp_path
):
    import_people(ade, source, tmp_path)
    rows = [
        ["R1", "P0", programme.name, "prison", days_ago(40), "Leaving HMP soon", "yes", "", ""],
        ["R2", "P1", programme.name, "Probation", days_ago(30), "Needs work", "y", "accepted", ""],
        ["R3", "P2", programme.name, "school", days_ago(20), "Exclusion", "no", "declined", ""],
        ["R4", "P0", "Knitting club", "school", days_ago(10), "Unknown", "yes", "", ""],
        ["R5", "P1", programme.name, "family", days_ago(5), "Asked", "yes", "", "risk"],
    ]
    path = write_csv(tmp_path / "referrals.csv", REFERRAL_HEADERS, rows)

    report = import_file(ade, source, "referrals", path, commit=True)
    assert not report.committed and Referral.objects.count() == 0
    found = problems(report)
    assert found[0] == (
        "Row 4, column 'Decline reason': a declined referral needs the reason it was declined"
    )
    assert found[1].startswith("Row 5, column 'Programme': no programme is called Knitting club")
    assert found[2] == (
        "Row 6, column 'Decline reason': only a declined referral has a reason for declining"
    )
    assert len(found) == 3

    rows[2][8] = "no_capacity"
    rows[3][2] = programme.name
    rows[4][8] = ""
    write_csv(path, REFERRAL_HEADERS, rows)
    report = import_file(ade, source, "referrals", path, commit=True)
    assert report.committed and report.added == 5, problems(report)
    declined = by_id(Referral, source, "referrals", "R3")
    assert (declined.status, declined.decline_reason) == ("declined", "no_capacity")
    assert declined.decided_at is not None and declined.person.forename == "Young2"
    first = by_id(Referral, source, "referrals", "R1")
    assert (first.status, first.source_type, first.consent_recorded) == ("pending", "prison", True)
    assert first.reasons == "Leaving HMP soon" and first.team == programme.team
    assert by_id(Referral, source, "referrals", "R2").source_type == "probation"  # by label

    again = import_file(ade, source, "referrals", path, commit=True)
    assert again.committed and again.added == 0 and again.already == 5
    assert Referral.objects.count() == 5


CUSTODY_HEADERS = ["Episode ID", "Person ID", "Prison", "Received", "Sentence type", "crd"]


def test_custody_episodes_come_in_one_open_episode_per_person_with_their_key_dates(
    ade, source, tmp_path
):
    import_people(ade, source, tmp_path)
    crd = (timezone.localdate() + timedelta(days=90)).strftime("%d/%m/%Y")
    rows = [
        ["E1", "P0", "FMI", days_ago(200), "determinate", crd],
        ["E2", "P1", "feltham (hmyoi)", days_ago(100), "dto", ""],  # by name, any case
        ["E3", "P0", "FMI", days_ago(50), "remand", ""],  # P0 is already inside (row 2)
        ["E4", "P2", "Nowhere Hall", days_ago(50), "remand", ""],
    ]
    path = write_csv(tmp_path / "custody.csv", CUSTODY_HEADERS, rows)

    report = import_file(ade, source, "custody", path, commit=False)
    found = problems(report)
    assert found[0].startswith("Row 4, column '(Released on: not in the file)': "), found[0]
    assert found[0].endswith(
        "another row of this file has them in custody with no release date (row 2)"
    )
    assert found[1] == (
        "Row 5, column 'Prison': Nowhere Hall is not a prison code or name in the register"
    )
    assert len(found) == 2 and CustodyEpisode.objects.count() == 0

    del rows[2:]
    write_csv(path, CUSTODY_HEADERS, rows)
    report = import_file(ade, source, "custody", path, commit=True)
    assert report.committed and report.added == 2, problems(report)
    first = by_id(CustodyEpisode, source, "custody", "E1")
    assert first.establishment.code == "FMI" and first.released_on is None
    assert first.crd == timezone.localdate() + timedelta(days=90)
    assert first.expected_release_date is not None  # worked out as the app works it out
    history = set(KeyDateChange.objects.filter(episode=first).values_list("field", "reason"))
    assert ("crd", "Imported") in history
    assert by_id(CustodyEpisode, source, "custody", "E2").establishment.code == "FYI"

    # Once imported, a second open episode for P0 is refused against the database.
    rows.append(["E5", "P0", "FMI", days_ago(10), "recall", ""])
    write_csv(path, CUSTODY_HEADERS, rows)
    again = import_file(ade, source, "custody", path, commit=True)
    assert again.already == 2 and not again.committed
    assert "they are already in custody" in problems(again)[0]
    assert problems(again)[0].startswith("Row 4,")


EVENT_HEADERS = [
    "Event ID",
    "Person ID",
    "Offence date",
    "Disposal date",
    "Disposal",
    "How we know",
]


def test_reoffending_events_come_in_with_the_proven_reoffending_rules(ade, source, tmp_path):
    import_people(ade, source, tmp_path)
    rows = [
        ["V1", "P0", days_ago(100), days_ago(40), "conviction", "probation"],
        ["V2", "P1", days_ago(60), "", "caution", "police"],  # a caution needs its date
        ["V3", "P2", days_ago(10), days_ago(30), "conviction", "police"],  # before the offence
        ["V4", "P9", days_ago(10), days_ago(5), "conviction", "police"],  # no such person
    ]
    path = write_csv(tmp_path / "events.csv", EVENT_HEADERS, rows)

    report = import_file(ade, source, "reoffending", path, commit=True)
    assert not report.committed and ReoffendingEvent.objects.count() == 0
    assert problems(report) == [
        "Row 3, column 'Disposal date': Give the date of the conviction or caution",
        "Row 4, column 'Disposal date': The disposal cannot come before the offence",
        f"Row 5, column 'Person ID': no people record has id P9 in earlier imports from {source}",
    ]

    rows[1][3], rows[2][3], rows[3][1] = days_ago(30), days_ago(5), "P2"
    write_csv(path, EVENT_HEADERS, rows)
    report = import_file(ade, source, "reoffending", path, commit=True)
    assert report.committed and report.added == 4, problems(report)
    event = by_id(ReoffendingEvent, source, "reoffending", "V1")
    assert (event.disposal_type, event.source, event.person.forename) == (
        "conviction",
        "probation",
        "Young0",
    )
    assert event.recorded_by == ade
    assert import_file(ade, source, "reoffending", path, commit=True).added == 0
    assert ReoffendingEvent.objects.count() == 4
