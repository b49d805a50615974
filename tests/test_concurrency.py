"""Two people editing the same record cannot silently overwrite each other.

The complaint (issue 9): "Mo opened Tyrese's record, Cara changed it while Mo was
typing, Mo pressed Save and Cara's change was gone — nobody noticed." Now every page
that edits an existing record's fields carries the version it was opened with; a save
over someone else's later change answers 400 with "Cara Jones changed this record …",
keeps everything Mo typed, saves and audits nothing, and lets Mo save again on purpose.
The world is the access ladder's (tests/test_access_ladder.py): Mo's mentee Tyrese
with his family, custody, release-day plan, support plan and reoffending record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from throughgate.casework import support as support_actions
from throughgate.casework.models import BankApplication, IDApplication, Need
from throughgate.core.concurrency import StaleRecord, check_version, version_of
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.custody import actions as custody_actions
from throughgate.custody.models import CustodyEpisode, PlanItem
from throughgate.mentors import actions as mentor_actions
from throughgate.mentors.models import MentorProfile
from throughgate.outcomes import actions as outcome_actions
from throughgate.outcomes.models import ReoffendingEvent
from throughgate.people import actions as people_actions
from throughgate.people.models import FamilyMember, Person

from . import test_access_ladder as ladder
from .test_access_ladder import PAGES, World, url_of, valid_post
from .test_bad_input import SavesNothing, attributes_of

# The access ladder's world (built once for this module, each test in a savepoint).
shared_world = ladder.shared_world
world = ladder.world

TODAY = timezone.localdate


# --- What each page's record is, and how "someone else" changes it --------------------------


@dataclass(frozen=True)
class Edit:
    page: str  # URL name
    model: type  # the record the page edits
    # Someone else's change through the action: (actor, fresh copy of the record).
    change: Callable[[Any, Any], Any]
    # A field of the POST and the value the record holds once the POST is saved.
    saved: tuple[str, Any]
    opener: str = "mo"  # who opens the form (Cara is the one who changes it meanwhile)
    extra: tuple[tuple[str, str], ...] = ()  # added to the ladder's valid POST

    def __str__(self) -> str:
        return self.page


def _key_dates_change(actor: Any, episode: CustodyEpisode) -> Any:
    return custody_actions.update_key_dates(
        actor, episode, {"crd": episode.crd + timedelta(days=3)}, "Added days"
    )


EDITS = [
    Edit(
        "people:edit",
        Person,
        lambda actor, person: people_actions.update_person(
            actor, person, {"address": "Flat 2, 8 Long Lane"}
        ),
        ("phone", "07700 900123"),
    ),
    Edit(
        "people:family_edit",
        FamilyMember,
        lambda actor, member: people_actions.update_family_member(
            actor, member, {"phone": "07700 900999"}
        ),
        ("name", "Marcus Sibling"),
    ),
    Edit(
        "custody:episode_dates",
        CustodyEpisode,
        _key_dates_change,
        ("reason", None),  # not a field of the episode: checked by the audit event
    ),
    Edit(
        "custody:plan_item_edit",
        PlanItem,
        lambda actor, item: custody_actions.update_plan_item(
            actor, item, {"notes": "Birth certificate ordered"}
        ),
        ("owner", "prison"),
        extra=(("notes", "Mum is bringing the old passport"),),
    ),
    Edit(
        "casework:need_update",
        Need,
        lambda actor, need: support_actions.update_need(
            actor, need, {"priority": "low"}, "Waiting list", TODAY()
        ),
        ("status", "met"),
    ),
    Edit(
        "casework:id_edit",
        IDApplication,
        lambda actor, app: support_actions.save_id_application(
            actor, app.case, {"notes": "Fee paid by the charity"}, app
        ),
        ("status", "submitted"),
    ),
    Edit(
        "casework:bank_edit",
        BankApplication,
        lambda actor, app: support_actions.save_bank_application(
            actor, app.case, {"notes": "Needs proof of address"}, app
        ),
        ("outcome", "submitted"),
    ),
    Edit(
        "mentors:edit",
        MentorProfile,
        lambda actor, profile: mentor_actions.update_mentor_profile(
            actor, profile, {"availability_note": "Not on Fridays"}
        ),
        ("capacity", 7),
        opener="ade",
    ),
    Edit(
        "outcomes:event_edit",
        ReoffendingEvent,
        lambda actor, event: outcome_actions.update_event(
            actor, event, {"notes": "Checked against the PNC", "verified": False}
        ),
        ("disposal_type", "conviction"),
        extra=(("notes", "Seen on the probation report"),),
    ),
]


def edits() -> list[Any]:
    return [pytest.param(edit, id=edit.page) for edit in EDITS]


def test_every_page_in_scope_is_a_form_page_of_the_ladder() -> None:
    for edit in EDITS:
        assert edit.page in PAGES and PAGES[edit.page].kind == "form"


# --- Reading the page -------------------------------------------------------------------


class _FormValues(HTMLParser):
    """The values a browser would submit from the page's forms, by field name."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, set[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def _add(self, name: str | None, value: str) -> None:
        if name:
            self.values.setdefault(name, set()).add(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "input":
            kind = found.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self._add(found.get("name"), found.get("value") or "on")
            elif kind not in ("submit", "button"):
                self._add(found.get("name"), found.get("value", ""))
        elif tag == "textarea":
            self._textarea = found.get("name")
            self._add(self._textarea, "")
        elif tag == "select":
            self._select = found.get("name")
        elif tag == "option" and self._select and "selected" in found:
            self._add(self._select, found.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            values = self.values[self._textarea]
            values.discard("")
            values.add(data.strip())


def form_values(html: str) -> dict[str, set[str]]:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


def version_on(html: str) -> str:
    return unescape(attributes_of(html, "id_version")["value"])


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return " ".join(unescape(strip_tags(match[0])).split())


def assert_form_keeps(html: str, posted: dict[str, Any]) -> None:
    shown = form_values(html)
    for name, value in posted.items():
        if name == "version":
            continue
        expected = {str(v) for v in value} if isinstance(value, list) else {str(value)}
        assert shown.get(name, set()) == expected, (
            f"{name}: typed {expected}, shown {shown.get(name)}"
        )


def updates_of(record: Any, actor: Any) -> int:
    return AuditEvent.objects.filter(
        action=AuditAction.UPDATE,
        object_type=record._meta.label_lower,
        object_id=str(record.pk),
        actor=actor,
    ).count()


def fresh(record: Any) -> Any:
    return type(record).objects.get(pk=record.pk)


# --- The complaint, page by page ----------------------------------------------------------


def _setup(edit: Edit, world: World, login: Any) -> tuple[Any, Any, str, dict[str, Any]]:
    objects = world.objects("mo")
    page = PAGES[edit.page]
    record = fresh(objects[page.obj])
    assert isinstance(record, edit.model)
    client = login(world.users[edit.opener])
    url = url_of(page, objects)
    post = {**valid_post(page, world, objects), **dict(edit.extra)}
    return record, client, url, post


@pytest.mark.parametrize("edit", edits())
def test_saving_over_someone_elses_later_change_is_refused_and_keeps_what_was_typed(
    edit: Edit, world: World, login: Any
) -> None:
    record, client, url, post = _setup(edit, world, login)
    opener, cara = world.users[edit.opener], world.users["cara"]
    opened = client.get(url)
    assert opened.status_code == 200
    version = version_on(opened.content.decode())
    assert version == version_of(record)

    edit.change(cara, fresh(record))  # Cara saves a change while the form is open
    changed_by_cara = version_of(fresh(record))
    assert changed_by_cara != version

    post["version"] = version
    with SavesNothing():
        before = type(record).objects.filter(pk=record.pk).values().get()
        refused = client.post(url, post)
        assert type(record).objects.filter(pk=record.pk).values().get() == before
    assert refused.status_code == 400
    html = refused.content.decode()
    summary = error_summary(html)
    assert "Cara Jones changed this record" in summary
    assert "after you opened it" in summary and "save again to keep yours" in summary
    assert_form_keeps(html, post)
    assert version_on(html) == changed_by_cara, "the form should now carry Cara's version"
    assert updates_of(record, opener) == 0

    # Having checked, Mo saves again from the re-rendered form: his values win, on purpose.
    post["version"] = version_on(html)
    saved = client.post(url, post)
    assert saved.status_code == 302, error_summary(saved.content.decode())
    assert updates_of(record, opener) == 1
    field, value = edit.saved
    if value is not None:
        assert getattr(fresh(record), field) == value


@pytest.mark.parametrize("edit", edits())
def test_a_form_saved_with_the_current_version_saves_normally(
    edit: Edit, world: World, login: Any
) -> None:
    record, client, url, post = _setup(edit, world, login)
    post["version"] = version_on(client.get(url).content.decode())
    response = client.post(url, post)
    assert response.status_code == 302, error_summary(response.content.decode())
    assert updates_of(record, world.users[edit.opener]) == 1


@pytest.mark.parametrize("edit", edits())
def test_a_double_click_saves_once_and_the_second_post_changes_nothing(
    edit: Edit, world: World, login: Any
) -> None:
    record, client, url, post = _setup(edit, world, login)
    opener = world.users[edit.opener]
    post["version"] = version_on(client.get(url).content.decode())
    assert client.post(url, post).status_code == 302
    saved = type(record).objects.filter(pk=record.pk).values().get()
    second = client.post(url, post)  # same form, same values, old version
    assert second.status_code == 302, error_summary(second.content.decode())
    assert type(record).objects.filter(pk=record.pk).values().get() == saved
    assert updates_of(record, opener) == 1


# --- The rules around it ---------------------------------------------------------------------


def test_a_second_save_with_different_values_from_the_same_old_form_is_refused(
    world: World, login: Any
) -> None:
    """Pressing Back after saving and changing something else is not a double-click: the
    record is no longer what the page showed, so it asks first — naming Mo himself."""
    record, client, url, post = _setup(EDITS[0], world, login)
    post["version"] = version_on(client.get(url).content.decode())
    assert client.post(url, post).status_code == 302
    with SavesNothing():
        again = client.post(url, {**post, "phone": "07700 900456"})
    assert again.status_code == 400
    assert "You changed this record (phone) at" in error_summary(again.content.decode())
    assert fresh(record).phone == "07700 900123"


def test_the_message_names_what_changed_and_when(world: World, login: Any) -> None:
    record, client, url, post = _setup(EDITS[0], world, login)
    post["version"] = version_on(client.get(url).content.decode())
    people_actions.update_person(world.users["cara"], fresh(record), {"address": "Flat 2"})
    summary = error_summary(client.post(url, post).content.decode())
    assert re.search(r"Cara Jones changed this record \(address\) at \d\d:\d\d,", summary)


def test_a_change_nobody_audited_is_still_caught_without_a_name(world: World, login: Any) -> None:
    """Moving the release date moves the plan's open due dates with it (no audit event
    per item): the coordinator editing the ID item is told it changed, and when."""
    edit = next(e for e in EDITS if e.page == "custody:plan_item_edit")
    record, client, url, post = _setup(edit, world, login)
    post["version"] = version_on(client.get(url).content.decode())
    _key_dates_change(world.users["cara"], fresh(world.mo.episode))
    assert fresh(record).due_date != record.due_date, "the due date should have moved"
    with SavesNothing():
        response = client.post(url, post)
    assert response.status_code == 400
    summary = error_summary(response.content.decode())
    assert re.search(r"This record was changed at \d\d:\d\d, after you opened it", summary)


def test_a_submission_that_matches_the_record_is_not_a_conflict(world: World, login: Any) -> None:
    """Cara made exactly the change Mo was making: nothing would be overwritten."""
    record, client, url, post = _setup(EDITS[0], world, login)
    post["version"] = version_on(client.get(url).content.decode())
    people_actions.update_person(world.users["cara"], fresh(record), {"phone": post["phone"]})
    response = client.post(url, post)
    assert response.status_code == 302
    assert updates_of(record, world.users["mo"]) == 0


def test_importer_and_seeder_calls_without_a_version_are_not_checked(world: World) -> None:
    person = fresh(world.mo.person)
    people_actions.update_person(world.users["cara"], fresh(person), {"address": "Flat 2"})
    changed = people_actions.update_person(None, person, {"phone": "07700 900777"})
    assert changed == ["phone"] and fresh(person).phone == "07700 900777"


def test_a_stale_version_is_a_non_field_error_coded_stale(world: World) -> None:
    person = fresh(world.mo.person)
    opened = version_of(person)
    people_actions.update_person(world.users["cara"], fresh(person), {"address": "Flat 2"})
    with pytest.raises(StaleRecord) as refused:
        people_actions.update_person(
            world.users["mo"], fresh(person), {"phone": "07700 900777"}, version=opened
        )
    assert refused.value.code == "stale"
    assert not hasattr(refused.value, "error_dict")
    assert refused.value.current_version == version_of(fresh(person))
    check_version(fresh(person), None)  # None: nothing to check
    check_version(fresh(person), version_of(fresh(person)))


def test_pages_for_new_records_carry_no_version(world: World, login: Any) -> None:
    client = login(world.users["mo"])
    page = client.get(reverse("people:family_new", args=[world.mo.person.pk])).content.decode()
    assert 'name="version"' not in page


def test_a_post_refused_for_bad_input_keeps_its_version_so_the_fix_is_still_checked(
    world: World, login: Any
) -> None:
    record, client, url, post = _setup(EDITS[0], world, login)
    opened = version_on(client.get(url).content.decode())
    people_actions.update_person(world.users["cara"], fresh(record), {"address": "Flat 2"})
    post["version"] = opened
    bad = client.post(url, {**post, "postcode": "XX1 1XX"})
    assert bad.status_code == 400 and version_on(bad.content.decode()) == opened
    fixed = client.post(url, post)
    assert fixed.status_code == 400
    assert "Cara Jones changed this record" in error_summary(fixed.content.decode())
