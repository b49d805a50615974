"""A read replica for reports (DATABASE_REPLICA_URL): only views marked @on_replica read
there; writes, and reads anywhere else, stay on the primary."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from throughgate.core.routers import REPLICA, ReplicaRouter, on_replica, reading_from_replica
from throughgate.outcomes import views as outcome_views
from throughgate.people.models import Person
from throughgate.prevention import views as prevention_views
from throughgate.prevention.training import views as training_views
from throughgate.reports import views as report_views

from .test_settings import GOOD_KEY, load_settings

router = ReplicaRouter()


@pytest.fixture
def replica(monkeypatch: Any) -> None:
    monkeypatch.setitem(settings.DATABASES, REPLICA, {**settings.DATABASES["default"]})


def test_reports_read_from_the_replica_and_nothing_else_does(replica):
    assert router.db_for_read(Person) is None  # the primary
    with reading_from_replica():
        assert router.db_for_read(Person) == REPLICA
        assert router.db_for_write(Person) is None  # writes always go to the primary
    assert router.db_for_read(Person) is None


def test_without_a_replica_everything_reads_the_primary():
    assert REPLICA not in settings.DATABASES
    with reading_from_replica():
        assert router.db_for_read(Person) is None


def test_the_marked_view_reads_the_replica_only_while_it_runs(replica):
    seen = []
    view = on_replica(lambda: seen.append(router.db_for_read(Person)) or "answer")
    assert view() == "answer" and seen == [REPLICA]
    assert router.db_for_read(Person) is None


def test_the_dashboards_are_the_views_marked(replica):
    for view in (outcome_views.dashboard, prevention_views.reach, training_views.summary,
                 report_views.dashboard):  # fmt: skip
        assert "on_replica" in view.__code__.co_qualname or _wrapped_by_on_replica(view)


def _wrapped_by_on_replica(view: Any) -> bool:
    while view is not None:
        if view.__code__.co_qualname == "on_replica.<locals>.wrapped":
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def test_migrations_never_run_on_the_replica():
    assert router.allow_migrate(REPLICA, "people") is False
    assert router.allow_migrate("default", "people") is True


def test_the_replica_setting_needs_postgresql_and_a_postgres_url(tmp_path):
    sqlite = load_settings(tmp_path, SECRET_KEY=GOOD_KEY,
                           DATABASE_REPLICA_URL="postgres://r@replica:5432/tg")  # fmt: skip
    assert sqlite.returncode != 0 and "DATABASE_REPLICA_URL needs DATABASE_URL" in sqlite.stderr
    wrong = load_settings(tmp_path, SECRET_KEY=GOOD_KEY,
                          DATABASE_URL="postgres://p@primary:5432/tg",
                          DATABASE_REPLICA_URL="sqlite:///x.sqlite3")  # fmt: skip
    assert wrong.returncode != 0 and "must be a postgres:// URL" in wrong.stderr
    good = load_settings(tmp_path, SECRET_KEY=GOOD_KEY,
                         DATABASE_URL="postgres://p@primary:5432/tg",
                         DATABASE_REPLICA_URL="postgres://r@replica:5432/tg")  # fmt: skip
    assert good.returncode == 0, good.stderr
