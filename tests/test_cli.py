"""The `throughgate` command follows the usual conventions: --help, --version, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from throughgate.accounts.models import User
from throughgate.cli import main


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = os.environ | env
    return subprocess.run(
        [sys.executable, "-m", "throughgate", *args],
        capture_output=True, text=True, timeout=120, env=full_env,
    )  # fmt: skip


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("demo", "serve", "migrate", "seed-demo", "createuser", "check", "manage"):
        assert command in result.stdout


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("throughgate ")


def test_unknown_command_is_a_usage_error():
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_configuration_errors_are_one_clear_line_not_a_traceback(tmp_path):
    result = run_cli("check", DEBUG="perhaps", THROUGHGATE_DATA_DIR=str(tmp_path))
    assert result.returncode == 1
    assert "configuration error: DEBUG='perhaps'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_createuser_makes_an_account_with_a_checked_password(monkeypatch, capsys):
    monkeypatch.setenv("THROUGHGATE_PASSWORD", "a-long-enough-passphrase")
    assert main(["createuser", "rosa", "--role", "mentor", "--team", "North team"]) == 0
    user = User.objects.get(username="rosa")
    assert user.role == "mentor" and user.team.name == "North team"
    assert user.check_password("a-long-enough-passphrase")
    assert "Created rosa" in capsys.readouterr().out


@pytest.mark.django_db
def test_createuser_refuses_a_weak_password_and_a_taken_name(monkeypatch, capsys, mo):
    monkeypatch.setenv("THROUGHGATE_PASSWORD", "short")
    assert main(["createuser", "rosa", "--role", "mentor"]) == 1
    assert "password:" in capsys.readouterr().err
    assert not User.objects.filter(username="rosa").exists()
    monkeypatch.setenv("THROUGHGATE_PASSWORD", "a-long-enough-passphrase")
    assert main(["createuser", "mo", "--role", "mentor"]) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.django_db
def test_load_establishments_is_repeatable(capsys):
    assert main(["load-establishments"]) == 0
    assert "0 added, 173 updated" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_real_people_in_one_line(capsys, cara):
    from . import make

    make.make_person(cara)
    assert main(["seed-demo", "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("throughgate: ") and "not demo data" in err
    assert "Traceback" not in err


# `throughgate match`: files in, answer out, no database.

MATCH_MENTORS = (
    "mentor_id,capacity,gender,languages,boroughs_known,exclusion_boroughs,lived_experience,"
    "cleared_establishments,custody_history,caseload\n"
    "M1,6,male,English;Somali,Southwark,,,HMP/YOI Feltham,HMP/YOI Feltham,4\n"
    "M2,3,male,English,Lambeth,,,,,0\n"
)
MATCH_YOUNG = (
    "person_id,gender,mentor_gender_required,borough,language,establishment,lived_experience\n"
    "Y1,male,,Southwark,Somali,HMP/YOI Feltham,\n"
    "Y2,female,female,Lambeth,English,,\n"
)


def match_files(tmp_path, mentors=MATCH_MENTORS, young=MATCH_YOUNG):
    (tmp_path / "mentors.csv").write_text(mentors, encoding="utf-8")
    (tmp_path / "young.csv").write_text(young, encoding="utf-8")
    (tmp_path / "conflicts.csv").write_text("a_id,b_id\nY1,M2\n", encoding="utf-8")
    return [
        "match",
        "--mentors",
        str(tmp_path / "mentors.csv"),
        "--young-people",
        str(tmp_path / "young.csv"),
        "--conflicts",
        str(tmp_path / "conflicts.csv"),
    ]


def test_match_writes_the_json_result_to_stdout(tmp_path):
    import json

    result = run_cli(*match_files(tmp_path), "--json", "-")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"assignments", "unassigned", "total_cost"}
    assert out["assignments"] == [{
        "person_id": "Y1", "mentor_id": "M1", "cost": 13,
        "reasons": ["has been in Feltham", "knows Southwark", "speaks Somali",
                    "2 of 6 places free"],
    }]  # fmt: skip
    assert out["unassigned"] == [
        {"person_id": "Y2", "reasons": ["no suitable mentor: 2 not female"]}
    ]
    assert out["total_cost"] == 13


def test_match_writes_a_json_file_and_prints_a_summary(tmp_path, capsys):
    import json

    assert main([*match_files(tmp_path), "--json", str(tmp_path / "out.json")]) == 0
    assert "Assigned 1 of 2 young people" in capsys.readouterr().out
    assert json.loads((tmp_path / "out.json").read_text())["total_cost"] == 13
    assert main(match_files(tmp_path)) == 0
    table = capsys.readouterr().out
    assert "Y1            M1" in table and "Y2: no suitable mentor: 2 not female" in table


def test_match_does_not_need_django_or_a_database(tmp_path):
    result = run_cli(*match_files(tmp_path), DJANGO_SETTINGS_MODULE="no.such.settings")
    assert result.returncode == 0, result.stderr


def test_match_bad_data_is_one_line_naming_file_row_and_column(tmp_path):
    bad = MATCH_MENTORS.replace("M2,3,", "M2,six,")
    result = run_cli(*match_files(tmp_path, mentors=bad))
    assert result.returncode == 1
    assert result.stderr == (
        f'throughgate: {tmp_path / "mentors.csv"} row 3, column capacity: "six" is not a whole '
        "number\n"
    )


def test_match_missing_file_is_bad_data_and_missing_option_is_bad_usage(tmp_path):
    result = run_cli("match", "--mentors", str(tmp_path / "nope.csv"), "--young-people", "y.csv")
    assert result.returncode == 1 and "nope.csv: no such file" in result.stderr
    result = run_cli("match", "--mentors", "m.csv")
    assert result.returncode == 2 and "--young-people" in result.stderr


def test_add_instrument_adds_a_questionnaire_described_in_json(db, tmp_path):
    from throughgate.casework.models import InstrumentDefinition

    path = tmp_path / "scale.json"
    path.write_text(
        '{"key": "bond-scale", "name": "Bond scale", "scale_min": 1, "scale_max": 7,'
        ' "items": [{"key": "q1", "text": "We get on"},'
        ' {"key": "q2", "text": "We argue", "reverse": true}]}',
        encoding="utf-8",
    )
    assert main(["add-instrument", str(path)]) == 0
    definition = InstrumentDefinition.objects.get(key="bond-scale")
    assert [(i.key, i.reverse) for i in definition.items.all()] == [("q1", False), ("q2", True)]
    # The same key again, and a scale that does not go up, are refused; nothing is saved.
    assert main(["add-instrument", str(path)]) == 1
    path.write_text(
        '{"key": "upside-down", "name": "Upside down", "scale_min": 5, "scale_max": 1,'
        ' "items": [{"key": "q1", "text": "Anything"}]}',
        encoding="utf-8",
    )
    assert main(["add-instrument", str(path)]) == 1
    assert not InstrumentDefinition.objects.filter(key="upside-down").exists()
