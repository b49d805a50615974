"""Start-up configuration: every knob an environment variable, bad values stop start-up
with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GOOD_KEY = "k" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789"


def load_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {
        "DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "ALLOWED_HOSTS", "HTTPS",
        "THROUGHGATE_DATA_DIR", "AXES_FAILURE_LIMIT", "CSRF_TRUSTED_ORIGINS", "LOG_LEVEL",
    }}  # fmt: skip
    clean["THROUGHGATE_DATA_DIR"] = str(tmp_path / "data")
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import throughgate.settings as s; "
            "print(s.DEBUG, s.HTTPS, s.DATABASES['default']['ENGINE'])",
        ],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_good_settings_load_with_debug_off_and_https_on(tmp_path):
    result = load_settings(tmp_path, SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "django.db.backends.sqlite3"]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too weak"),
        (
            {"SECRET_KEY_FILE": "/nonexistent/secret"},
            "SECRET_KEY_FILE='/nonexistent/secret' cannot be read",
        ),
        (
            {"SECRET_KEY": GOOD_KEY, "SECRET_KEY_FILE": "/x"},
            "Set SECRET_KEY or SECRET_KEY_FILE, not both",
        ),
        ({"SECRET_KEY": GOOD_KEY, "DEBUG": "maybe"}, "DEBUG='maybe' is not a yes/no value"),
        ({"SECRET_KEY": GOOD_KEY, "HTTPS": "sometimes"}, "HTTPS='sometimes'"),
        (
            {"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "mysql://root@localhost/tg"},
            "DATABASE_URL uses",
        ),
        ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS is set but empty"),
        (
            {"SECRET_KEY": GOOD_KEY, "AXES_FAILURE_LIMIT": "five"},
            "AXES_FAILURE_LIMIT='five' is not a whole number",
        ),
        (
            {"SECRET_KEY": GOOD_KEY, "AXES_FAILURE_LIMIT": "0"},
            "AXES_FAILURE_LIMIT='0' must be at least 1",
        ),
        (
            {"SECRET_KEY": GOOD_KEY, "CSRF_TRUSTED_ORIGINS": "tg.example.org"},
            "CSRF_TRUSTED_ORIGINS entry 'tg.example.org'",
        ),
        ({"SECRET_KEY": GOOD_KEY, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD'"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(tmp_path, env, named):
    result = load_settings(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_secret_key_file_is_read(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(GOOD_KEY + "\n")
    result = load_settings(tmp_path, SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr


def test_database_url_selects_postgresql(tmp_path):
    result = load_settings(tmp_path, SECRET_KEY=GOOD_KEY, DATABASE_URL="postgres://u@db:5432/tg")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[2] == "django.db.backends.postgresql"


def test_data_dir_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    result = load_settings(tmp_path, SECRET_KEY=GOOD_KEY, THROUGHGATE_DATA_DIR=str(blocker))
    assert result.returncode != 0
    assert "THROUGHGATE_DATA_DIR" in result.stderr


def test_deploy_checks_pass_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"HTTPS", "DEBUG", "DATABASE_URL"}}
    env.update(
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="throughgate.example.org",
        THROUGHGATE_DATA_DIR=str(tmp_path / "data"),
        DJANGO_SETTINGS_MODULE="throughgate.settings",
    )
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
