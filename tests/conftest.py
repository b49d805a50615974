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
        return client

    return _login
