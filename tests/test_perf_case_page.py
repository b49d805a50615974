"""The case page within its budget (issue 10): the timeline shows the latest 50 contacts,
with older ones a page further, so a case with years of contacts opens as fast as a new
one; every contact is on exactly one page, with the phase changes where they fall."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from throughgate.casework import actions
from throughgate.core.models import AuditAction, AuditEvent

from . import make


def _contacts(case, actor, n: int, start: int = 0) -> None:
    """`n` contacts, number `start` the oldest; several a day, all inside the case."""
    for i in range(start, start + n):
        make.make_contact(case, actor, days_ago=45 - i // 4, summary=f"Contact number {i:03d}.")


def _shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"Contact number (\d{3})\.", page)]


@pytest.fixture
def long_case(mo_case, mo):
    _contacts(mo_case, mo, 120)
    return mo_case


def test_the_case_page_shows_the_latest_50_contacts_newest_first(long_case, mo, login):
    page = login(mo).get(reverse("casework:case_detail", args=[long_case.pk])).content.decode()
    assert _shown(page) == list(range(119, 69, -1))
    assert "120 contacts. Showing contacts 1–50, newest first (page 1 of 3)." in page
    assert '<a href="?page=2#timeline" rel="next">Older contacts</a>' in page
    assert "Newer contacts" not in page
    assert "Referred by" not in page  # the referral is on the oldest page


def test_older_pages_hold_every_other_contact_once_and_the_start_of_the_case(long_case, mo, login):
    client = login(mo)
    url = reverse("casework:case_detail", args=[long_case.pk])
    pages = [client.get(url, {"page": n}).content.decode() for n in (1, 2, 3)]
    seen = [n for page in pages for n in _shown(page)]
    assert seen == list(range(119, -1, -1))
    assert "Showing contacts 101–120" in pages[2]
    assert "Referred by" in pages[2] and "Case opened" in pages[2]
    assert '<a href="?page=2#timeline" rel="prev">Newer contacts</a>' in pages[2]
    assert "Older contacts" not in pages[2]
    assert all(p.count('aria-label="Older and newer contacts"') == 1 for p in pages)


def test_a_phase_change_is_shown_among_the_contacts_it_came_between(mo_case, mo, cara, login):
    from datetime import timedelta

    from django.utils import timezone

    from throughgate.casework.models import Phase

    _contacts(mo_case, mo, 120)  # four a day: numbers 28-31 were 38 days ago
    day = timezone.localdate() - timedelta(days=38)
    actions.change_phase(cara, mo_case, Phase.IN_CUSTODY, day, "Remanded")
    client = login(mo)
    url = reverse("casework:case_detail", args=[mo_case.pk])
    first, second, third = (client.get(url, {"page": n}).content.decode() for n in (1, 2, 3))
    # Page 2 holds contacts 69 … 20: the change (that morning) comes after 28, before 27.
    assert "Moved to in custody" not in first + third
    assert (
        second.index("Contact number 028.")
        < second.index("Moved to in custody")
        < second.index("Contact number 027.")
    )


def test_every_page_of_the_case_is_a_viewing_audited_once(long_case, mo, login):
    client = login(mo)
    url = reverse("casework:case_detail", args=[long_case.pk])
    before = AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(long_case.pk))
    count = before.count()
    client.get(url)
    client.get(url, {"page": "2"})
    assert before.count() == count + 2


@pytest.mark.parametrize("asked", ["0", "-1", "x", "²", "9999999999", ""])
def test_a_page_number_that_is_no_page_shows_a_page(long_case, mo, login, asked):
    response = login(mo).get(reverse("casework:case_detail", args=[long_case.pk]), {"page": asked})
    assert response.status_code == 200
    assert _shown(response.content.decode())[0] == 119


def test_past_the_last_page_shows_the_oldest(long_case, mo, login):
    page = login(mo).get(reverse("casework:case_detail", args=[long_case.pk]), {"page": "7"})
    assert "Showing contacts 101–120" in page.content.decode()


def test_a_case_with_few_contacts_has_no_pager(mo_case, mo, login):
    _contacts(mo_case, mo, 3)
    page = login(mo).get(reverse("casework:case_detail", args=[mo_case.pk])).content.decode()
    assert _shown(page) == [2, 1, 0] and "Older contacts" not in page and "Referred by" in page


def test_the_case_page_costs_the_same_queries_with_60_or_180_contacts(mo_case, mo, login):
    client = login(mo)
    url = reverse("casework:case_detail", args=[mo_case.pk])

    def queries(page: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"page": page}).status_code == 200
        return len(ctx.captured_queries)

    _contacts(mo_case, mo, 60)
    client.get(url)
    few = (queries("1"), queries("2"))
    _contacts(mo_case, mo, 120, start=60)
    assert (queries("1"), queries("2")) == few
