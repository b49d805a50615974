"""Every change to a person record goes through one of these functions.

Each validates (full_clean), saves with update_fields, refreshes the name
search keys and writes the audit event in one transaction, so an error leaves
nothing half-saved. Views, the importer and the demo seeder all call them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from throughgate.core import audit
from throughgate.core.actions import reject_unknown_fields, user_or_none
from throughgate.core.concurrency import check_version
from throughgate.core.models import AuditAction
from throughgate.engines.names import phonetic_key, prefix_key

from .models import Alias, FamilyMember, NameIndex, Person

PERSON_FIELDS = [
    "forename", "surname", "preferred_name", "date_of_birth", "gender", "ethnicity",
    "first_language", "interpreter_needed", "borough", "postcode", "address", "phone",
    "email", "prison_number", "pnc_id", "crn",
]  # fmt: skip
FAMILY_FIELDS = [
    "name", "relationship", "lives_with", "phone", "email", "may_contact", "influence", "own_needs",
    "notes",
]  # fmt: skip


def name_index_rows(person: Person, *, with_aliases: bool = True) -> list[NameIndex]:
    """The person's search keys: their names, preferred name and (unless a new record
    has none yet, as in an import) their aliases."""
    names = [(person.forename, person.surname, False)]
    if person.preferred_name and person.preferred_name != person.forename:
        names.append((person.preferred_name, person.surname, False))
    if with_aliases:
        names += [(a.forename, a.surname, True) for a in person.aliases.all()]
    return [
        NameIndex(
            person=person,
            forename=forename,
            surname=surname,
            is_alias=is_alias,
            forename_sound=phonetic_key(forename),
            surname_sound=phonetic_key(surname),
            forename_prefix=prefix_key(forename),
            surname_prefix=prefix_key(surname),
        )
        for forename, surname, is_alias in names
    ]


def refresh_name_index(person: Person) -> None:
    NameIndex.objects.filter(person=person).delete()
    NameIndex.objects.bulk_create(name_index_rows(person))


def _apply(instance: Any, data: dict[str, Any], allowed: list[str]) -> list[str]:
    reject_unknown_fields(data, allowed)
    for name, value in data.items():
        setattr(instance, name, value)
    return list(data)


@transaction.atomic
def create_person(actor: Any, data: dict[str, Any]) -> Person:
    person = Person(created_by=user_or_none(actor))
    _apply(person, data, PERSON_FIELDS)
    person.full_clean()
    person.save()
    refresh_name_index(person)
    audit.record(actor, AuditAction.CREATE, person, fields=[k for k, v in data.items() if v])
    return person


@transaction.atomic
def update_person(
    actor: Any, person: Person, data: dict[str, Any], *, version: str | None = None
) -> list[str]:
    """Change a person's details; returns the names of the fields that changed.

    `version` is the record's version when the form was opened (core.concurrency):
    if someone has changed it since, nothing is saved."""
    locked = Person.objects.select_for_update().get(pk=person.pk)
    before = {name: getattr(locked, name) for name in PERSON_FIELDS}
    # Applied to the locked row, not to `person`: a copy read earlier would otherwise
    # write its old values of the fields `data` leaves out back over newer ones.
    _apply(locked, data, PERSON_FIELDS)
    locked.full_clean()
    changed = [name for name in PERSON_FIELDS if getattr(locked, name) != before[name]]
    if changed:
        check_version(locked, version, actor)
        locked.save(update_fields=[*changed, "updated_at"])
        if {"forename", "surname", "preferred_name"} & set(changed):
            refresh_name_index(locked)
        audit.record(actor, AuditAction.UPDATE, locked, fields=changed)
    for name in [*PERSON_FIELDS, "updated_at"]:
        setattr(person, name, getattr(locked, name))
    return changed


@transaction.atomic
def add_alias(actor: Any, person: Person, forename: str, surname: str, note: str = "") -> Alias:
    alias = Alias(person=person, forename=forename, surname=surname, note=note)
    alias.full_clean()
    alias.save()
    refresh_name_index(person)
    audit.record(actor, AuditAction.CREATE, alias, fields=["forename", "surname", "note"])
    return alias


@transaction.atomic
def remove_alias(actor: Any, alias: Alias) -> None:
    person = alias.person
    audit.record(actor, AuditAction.DELETE, alias)
    alias.delete()
    refresh_name_index(person)


@transaction.atomic
def add_family_member(actor: Any, person: Person, data: dict[str, Any]) -> FamilyMember:
    member = FamilyMember(person=person)
    _apply(member, data, FAMILY_FIELDS)
    member.full_clean()
    member.save()
    audit.record(actor, AuditAction.CREATE, member, fields=[k for k, v in data.items() if v])
    return member


@transaction.atomic
def update_family_member(
    actor: Any, member: FamilyMember, data: dict[str, Any], *, version: str | None = None
) -> list[str]:
    """Change a family member's details, compared with (and saved to) the locked row;
    `version` as for update_person."""
    locked = FamilyMember.objects.select_for_update().get(pk=member.pk)
    before = {name: getattr(locked, name) for name in FAMILY_FIELDS}
    _apply(locked, data, FAMILY_FIELDS)
    locked.full_clean()
    changed = [name for name in FAMILY_FIELDS if getattr(locked, name) != before[name]]
    if changed:
        check_version(locked, version, actor)
        locked.save(update_fields=[*changed, "updated_at"])
        audit.record(actor, AuditAction.UPDATE, locked, fields=changed)
    for name in [*data, "updated_at"]:
        setattr(member, name, getattr(locked, name))
    return changed


@transaction.atomic
def remove_family_member(actor: Any, member: FamilyMember) -> None:
    audit.record(actor, AuditAction.DELETE, member)
    member.delete()
