"""`throughgate import`: check by default, --commit to import; exit 0 / 1 / 2; problems
on stderr by row and column."""

from __future__ import annotations

import json

import pytest

from tests.test_imports import PEOPLE_HEADERS, people_rows, write_csv
from throughgate import cli
from throughgate.imports import command
from throughgate.imports.models import Kind, Source, SourceMapping
from throughgate.people.models import Person


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = cli.main(["import", *args, "--quiet"])
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_kinds_are_the_models_kinds():
    assert command.KINDS == [k.value for k in Kind]


def test_check_then_commit_then_again_adds_nothing(ade, tmp_path, capsys):
    rows = people_rows(5)
    rows[3][3] = "someday"
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, rows)

    code, out, err = run(capsys, "Old files", "people", str(path), "--user", "ade", "--commit")
    assert code == 1
    assert "Row 5, column 'DOB': someday is not a date" in err
    assert "Nothing was imported" in err and Person.objects.count() == 0

    rows[3][3] = "2006-01-01"
    write_csv(path, PEOPLE_HEADERS, rows)
    code, out, err = run(capsys, "Old files", "people", str(path), "--user", "ade")
    assert (code, Person.objects.count()) == (0, 0)
    assert "No problems. Run it again with --commit" in out

    code, out, err = run(capsys, "Old files", "people", str(path), "--user", "ade", "--commit")
    assert code == 0 and "Imported 5 people" in out and Person.objects.count() == 5
    code, out, err = run(capsys, "Old files", "people", str(path), "--user", "ade", "--commit")
    assert code == 0 and "Imported 0 people" in out and "5 imported before" in out


def test_a_mapping_file_is_used_and_saved_for_the_source(ade, tmp_path, capsys):
    headers = ["Ref", "Given", "Family", "Born", "NOMS"]
    path = write_csv(tmp_path / "people.csv", headers, people_rows(2))
    mapping = tmp_path / "m.json"
    mapping.write_text(
        json.dumps(
            {"source_id": "Ref", "forename": "Given", "surname": "Family", "date_of_birth": "Born"}
        )
    )
    code, out, err = run(
        capsys,
        "Old files",
        "people",
        str(path),
        "--user",
        "ade",
        "--mapping",
        str(mapping),
        "--commit",
    )
    assert code == 0, err
    saved = SourceMapping.objects.get(source__name="Old files", kind="people").columns
    assert saved["forename"] == "Given"
    # Next time, the saved mapping is used without being given.
    code, out, err = run(capsys, "Old files", "people", str(path), "--user", "ade")
    assert code == 0 and "2 imported before" in out


def test_a_mapping_that_leaves_out_a_needed_field_is_refused(ade, tmp_path, capsys):
    path = write_csv(tmp_path / "people.csv", ["Ref", "Name"], [["1", "A"]])
    code, out, err = run(capsys, "Old files", "people", str(path), "--user", "ade")
    assert code == 1
    assert "mapping of 'source_id'" in err and "The file's columns: Ref, Name" in err
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["S", "people", "/no/such.csv", "--user", "ade"], "/no/such.csv: no such file"),
        (["S", "people", "{file}", "--user", "nobody"], "no active user is called 'nobody'"),
        (["S", "people", "{file}", "--user", "mo"], "mo is not a manager / admin"),
        (["S", "people", "{file}", "--user", "ade", "--mapping", "/no/m.json"], "/no/m.json"),
        (["S", "pets", "{file}", "--user", "ade"], "invalid choice: 'pets'"),
        (["S", "people", "{file}", "--user", "ade", "--commit", "--dry-run"], "not allowed"),
    ],
)
def test_wrong_usage_exits_2_with_a_message(ade, mo, tmp_path, capsys, args, message):
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADERS, people_rows(1))
    code, out, err = run(capsys, *[a.replace("{file}", str(path)) for a in args])
    assert code == 2 and message in err


def test_an_unreadable_file_exits_1(ade, tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(b"")
    code, out, err = run(capsys, "S", "people", str(path), "--user", "ade")
    assert code == 1 and "people.csv: The file is empty" in err
