from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from throughgate.accounts.roles import Role

from . import make


@pytest.fixture
def team(db: Any):
    return make.make_team("Custody team")


@pytest.fixture
def prevention_team(db: Any):
    return make.make_team("Prevention team")


@pytest.fixture
def mo(team):
    return make.make_user("mo", Role.MENTOR, team, first_name="Mo", last_name="Ahmed")


@pytest.fixture
def kim(team):
    return make.make_user("kim", Role.MENTOR, team, first_name="Kim", last_name="Walsh")


@pytest.fixture
def cara(team):
    return make.make_user("cara", Role.COORDINATOR, team, first_name="Cara", last_name="Jones")


@pytest.fixture
def sam(team):
    return make.make_user("sam", Role.SAFEGUARDING_LEAD, team, first_name="Sam", last_name="Okafor")


@pytest.fixture
def pat(prevention_team):
    return make.make_user("pat", Role.PREVENTION_FACILITATOR, prevention_team, first_name="Pat")


@pytest.fixture
def ade(team):
    return make.make_user("ade", Role.ADMIN, None, first_name="Ade", last_name="Bello")


@pytest.fixture
def fay(db: Any):
    return make.make_user("fay", Role.ANALYST, None, first_name="Fay", last_name="Green")


@pytest.fixture
def programme(team):
    return make.make_programme(team=team)


@pytest.fixture
def mo_case(mo, cara, programme):
    """A case of Mo's, opened by Cara 50 days ago."""
    return make.make_case(mentor=mo, actor=cara)


@pytest.fixture
def login():
    """login(user) -> a test Client logged in as that user."""

    def _login(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        make.pass_two_factor(client, user)
        return client

    return _login


@pytest.fixture
def run_jobs(monkeypatch: Any):
    """run_jobs() runs every queued background job, as `throughgate worker --batch` does
    (django-tasks-db's worker, in this process). The worker closes stale database
    connections between tasks; here that would close the test's own transaction, so that
    one housekeeping call is left out."""
    from django_tasks_db.management.commands import db_worker

    from throughgate.core import jobs

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    return lambda: jobs.work(batch=True, worker_id="test-worker")


@pytest.fixture(autouse=True)
def job_files_in_a_temporary_folder(monkeypatch: Any, tmp_path_factory: Any) -> None:
    """Uploads kept for background jobs go to a temporary folder, not the checkout's var/."""
    from throughgate.core import jobs as job_kernel

    folder = tmp_path_factory.mktemp("job-files")
    monkeypatch.setattr(job_kernel, "upload_folder", lambda: folder)
    monkeypatch.setattr(job_kernel, "progress_folder", lambda: folder / "job-progress")
