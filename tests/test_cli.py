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
