"""Encryption at rest of free text (issue 9): a stolen copy of the database shows no
note text; keys come from the environment or a key file; `throughgate keys rotate`
moves everything to a new key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from throughgate import cli
from throughgate.casework.models import Contact
from throughgate.casework.safeguarding_models import SafeguardingConcern
from throughgate.core import encryption
from throughgate.people.models import FamilyMember, Person

from . import make

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "test-only-secret-key-not-for-production-0123456789abcdef"

# What a young person told their mentor, a safeguarding disclosure, a family note and an
# address: words that must never be readable in the database file.
SECRETS = {
    "contact": "Told me his uncle keeps the knife at Nan's flat in Peckham",
    "concern": "Older boys from Brixton collect him from school in a black Audi",
    "family": "Mum is in a refuge; never give her address to Dad",
    "address": "Flat 9, Ruskin Court, Camberwell",
}

MAKE_NOTES = f"""
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from tests import make
from throughgate.accounts.roles import Role
team = make.make_team("Custody team")
cara = make.make_user("cara", Role.COORDINATOR, team)
mo = make.make_user("mo", Role.MENTOR, team)
case = make.make_case(mentor=mo, actor=cara)
make.make_contact(case, summary={SECRETS["contact"]!r})
make.make_concern(case.person, mo, what_happened={SECRETS["concern"]!r})
make.make_family_member(case.person, cara, notes={SECRETS["family"]!r})
from throughgate.people import actions
actions.update_person(cara, case.person, {{"address": {SECRETS["address"]!r}}})
"""


def stored(model, pk: int, column: str) -> str:
    """The text exactly as the database holds it, past the ORM."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk]
        )  # noqa: S608
        return cursor.fetchone()[0]


def test_a_contact_note_is_stored_encrypted_and_read_back_as_typed(mo, mo_case):
    contact = make.make_contact(mo_case, summary=SECRETS["contact"])
    raw = stored(Contact, contact.pk, "summary")
    assert raw.startswith(encryption.TOKEN_PREFIX)
    assert "knife" not in raw
    assert Contact.objects.get(pk=contact.pk).summary == SECRETS["contact"]


def test_the_notes_that_matter_are_all_encrypted():
    encrypted = {f"{m._meta.label}.{f.name}" for m, f in encryption.encrypted_fields()}
    assert {
        "casework.Contact.summary",
        "casework.Contact.concerns",
        "casework.Contact.next_steps",
        "casework.Referral.reasons",
        "casework.SafeguardingConcern.what_happened",
        "casework.SafeguardingConcern.immediate_action",
        "people.Person.address",
        "people.FamilyMember.notes",
        "mentors.Conflict.details",
    } <= encrypted


def test_an_empty_note_stays_empty_not_null(mo, mo_case):
    contact = make.make_contact(mo_case, concerns="")
    assert stored(Contact, contact.pk, "concerns") == ""
    assert Contact.objects.get(pk=contact.pk).concerns == ""


def test_a_note_under_a_key_no_longer_listed_is_an_error_not_ciphertext(mo, mo_case, settings):
    contact = make.make_contact(mo_case, summary=SECRETS["contact"])
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(encryption.UndecryptableValue, match="FIELD_ENCRYPTION_KEYS"):
        Contact.objects.get(pk=contact.pk)


def test_rotation_moves_every_note_to_the_new_key_so_the_old_can_go(mo, mo_case, settings):
    contact = make.make_contact(mo_case, summary=SECRETS["contact"])
    member = make.make_family_member(mo_case.person, notes=SECRETS["family"])
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert cli.main(["keys", "rotate", "--check", "--quiet"]) == 1  # work to do
    assert cli.main(["keys", "rotate", "--quiet"]) == 0
    assert cli.main(["keys", "rotate", "--check", "--quiet"]) == 0  # nothing left
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key removed
    assert Contact.objects.get(pk=contact.pk).summary == SECRETS["contact"]
    assert FamilyMember.objects.get(pk=member.pk).notes == SECRETS["family"]
    Fernet(new.encode()).decrypt(stored(Contact, contact.pk, "summary").encode())


def test_rotation_encrypts_plain_text_written_before_encryption(mo, mo_case, capsys):
    contact = make.make_contact(mo_case)
    with connection.cursor() as cursor:  # as a row from before the upgrade holds it
        cursor.execute("UPDATE casework_contact SET summary = %s WHERE id = %s",
                       ["Plain old note", contact.pk])  # fmt: skip
    assert Contact.objects.get(pk=contact.pk).summary == "Plain old note"  # still readable
    assert cli.main(["keys", "rotate", "--quiet"]) == 0
    assert "1 plain encrypted" in capsys.readouterr().out
    assert stored(Contact, contact.pk, "summary").startswith(encryption.TOKEN_PREFIX)
    assert Contact.objects.get(pk=contact.pk).summary == "Plain old note"


def test_a_new_key_is_printed_for_the_environment(capsys):
    assert cli.main(["keys", "new"]) == 0
    key = capsys.readouterr().out.strip()
    Fernet(key.encode())  # a valid Fernet key


def settings_error(tmp_path: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("FIELD_ENCRYPTION") and k != "DEBUG"}  # fmt: skip
    clean.update(SECRET_KEY=SECRET_KEY, THROUGHGATE_DATA_DIR=str(tmp_path), **env)
    result = subprocess.run(
        [sys.executable, "-c", "import throughgate.settings"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    return result.stderr


def test_production_without_a_key_refuses_to_start_and_says_which_setting(tmp_path):
    assert "FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEY_FILE) must be set" in settings_error(
        tmp_path
    )


def test_a_bad_key_is_named_by_its_place_not_shown(tmp_path):
    good = Fernet.generate_key().decode()
    error = settings_error(tmp_path, FIELD_ENCRYPTION_KEYS=f"{good},not-a-key-at-all")
    assert "FIELD_ENCRYPTION_KEYS: key 2 is not a Fernet key" in error
    assert "not-a-key-at-all" not in error and good not in error


def test_keys_can_come_from_a_key_file(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text("# newest first\nnot-a-key\n", encoding="utf-8")
    assert "FIELD_ENCRYPTION_KEY_FILE: key 1 is not a Fernet key" in settings_error(
        tmp_path, FIELD_ENCRYPTION_KEY_FILE=str(key_file)
    )


def test_a_stolen_sqlite_file_shows_no_note_text(tmp_path):
    """Made by the app's own actions in a real database file, then read as a thief
    would: every byte of the file and its write-ahead log."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY_FILE"}}
    env.update(THROUGHGATE_DATA_DIR=str(tmp_path), SECRET_KEY=SECRET_KEY, DEBUG="true",
               HTTPS="off")  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "throughgate", "manage", "shell", "-c", MAKE_NOTES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = sorted(tmp_path.glob("throughgate.sqlite3*"))
    assert files, list(tmp_path.iterdir())
    stolen = b"".join(f.read_bytes() for f in files)
    assert b"Custody team" in stolen  # the file really holds the data …
    for what, text in SECRETS.items():
        for fragment in (text, text[:20], text[-20:]):
            assert fragment.encode() not in stolen, f"{what} note readable in the file"


@pytest.mark.django_db(transaction=True)
def test_a_postgresql_dump_shows_no_note_text(mo, mo_case, cara):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL half runs when DATABASE_URL points at PostgreSQL (CI does)")
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to dump the database as a thief would"
    make.make_contact(mo_case, summary=SECRETS["contact"])
    make.make_concern(mo_case.person, mo, what_happened=SECRETS["concern"])
    make.make_family_member(mo_case.person, cara, notes=SECRETS["family"])
    Person.objects.filter(pk=mo_case.person_id).update(address=SECRETS["address"])
    db = connection.settings_dict
    where = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
             "-U", db["USER"] or "postgres"]  # fmt: skip
    dump = subprocess.run(
        [pg_dump, *where, "--data-only", db["NAME"]],
        capture_output=True, timeout=120, env={**os.environ, "PGPASSWORD": db["PASSWORD"] or ""},
    )  # fmt: skip
    assert dump.returncode == 0, dump.stderr
    assert SafeguardingConcern.objects.count() == 1
    assert b"Custody to community" in dump.stdout  # the dump really holds the data …
    for what, text in SECRETS.items():
        assert text.encode() not in dump.stdout, f"{what} note readable in the dump"


def test_a_unique_marker_is_not_found_either(mo, mo_case):
    """Belt and braces for the grep: a random marker, so no earlier row can hide a miss."""
    marker = f"marker-{uuid.uuid4().hex}"
    contact = make.make_contact(mo_case, summary=marker)
    assert marker not in stored(Contact, contact.pk, "summary")
