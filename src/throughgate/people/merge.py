"""Merging two person records that are one person: `merge_people`.

Everything that refers to the removed person moves to the kept one. The references
are found from the model metadata (every relation pointing at Person, hidden ones
such as conflicts' `person_a`/`person_b` included), so a model added later is moved
too without touching this file; tests/test_merge.py fails if one is left behind.

A few relations need more than "point it at the kept person", because of a
constraint or because the pair itself is the subject:

- the name search keys (NameIndex) are rebuilt from the kept person's names;
- one-to-one records (matching needs, a mentor profile): moved when the kept person
  has none; when both have one, the kept person's stays and the removed one's is
  deleted if deleting it is allowed (matching needs), else the merge is refused
  (two mentor profiles: that is for an administrator to sort out first);
- pairs of people (conflicts, duplicate candidates): re-pointed in lower-id-first
  order; a pair that would join the person to themself, or repeat a pair the kept
  person already has, is dropped;
- many-to-many links (people named in a mentor's licence condition) are re-linked.

The removed person's names become aliases of the kept one, their fields can be
chosen one by one, and the removed record is deleted, leaving a PersonMerge row so an
old link leads to the kept record. All in one transaction, with an audit event per
kind of record moved (with its count) and a "merged" event on both people.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from throughgate.core import audit
from throughgate.core.models import AuditAction

from . import actions
from .models import Alias, DuplicateCandidate, LegalHold, NameIndex, Person, PersonMerge

# The fields an administrator chooses between, in the order the merge screen shows.
CHOOSABLE_FIELDS = [f for f in actions.PERSON_FIELDS if f not in ("forename", "surname")]
NAME_FIELDS = ["forename", "surname"]
MERGE_FIELDS = [*NAME_FIELDS, *CHOOSABLE_FIELDS]
KEEP, REMOVE = "keep", "remove"
UNIQUE_FIELDS = ("prison_number", "pnc_id", "crn")


def person_relations() -> list[models.ForeignObjectRel]:
    """Every relation that points at Person (hidden ones included), except the
    auto-created tables behind many-to-many fields (handled by their M2M relation)."""
    return [
        rel
        for rel in Person._meta.get_fields(include_hidden=True)
        if isinstance(rel, models.ForeignObjectRel) and not rel.related_model._meta.auto_created
    ]


def _pair_fields(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, models.ForeignKey) and f.related_model is Person
    ]


def _unique_with_pair(model: type[models.Model], first: str, second: str) -> list[str]:
    """The other fields of the narrowest unique constraint over the pair."""
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if isinstance(constraint, models.UniqueConstraint) and {first, second} <= set(fields):
            return [f for f in fields if f not in (first, second)]
    return []


def _move_pairs(model: type[models.Model], keep: Person, remove: Person) -> tuple[int, int]:
    """Re-point rows with two person fields (lower id first); returns (moved, dropped)."""
    first, second = _pair_fields(model)
    moved = dropped = 0
    manager = model._base_manager
    for row in manager.filter(Q(**{first: remove}) | Q(**{second: remove})):
        ids = [getattr(row, f"{first}_id"), getattr(row, f"{second}_id")]
        ids = [keep.pk if i == remove.pk else i for i in ids]
        if ids[0] == ids[1]:
            row.delete()  # the pair was these two records: nothing left to pair
            dropped += 1
            continue
        low, high = sorted(ids)
        clash = manager.filter(**{f"{first}_id": low, f"{second}_id": high}).exclude(pk=row.pk)
        for name in _unique_with_pair(model, first, second):  # e.g. a conflict's kind
            clash = clash.filter(**{name: getattr(row, name)})
        if clash.exists():
            row.delete()
            dropped += 1
            continue
        setattr(row, f"{first}_id", low)
        setattr(row, f"{second}_id", high)
        row.save(update_fields=[first, second])
        moved += 1
    return moved, dropped


def _move_one_to_one(rel: models.OneToOneRel, keep: Person, remove: Person) -> tuple[int, int]:
    model, field = rel.related_model, rel.field.name
    theirs = model._base_manager.filter(**{field: remove}).first()
    if theirs is None:
        return 0, 0
    if not model._base_manager.filter(**{field: keep}).exists():
        setattr(theirs, field, keep)
        theirs.save(update_fields=[field])
        return 1, 0
    if rel.on_delete is not models.CASCADE:
        raise ValidationError(
            f"Both records have a {model._meta.verbose_name}; only one person can. "
            "Sort that out first, then merge."
        )
    theirs.delete()
    return 0, 1


def _move_many_to_many(rel: models.ManyToManyRel, keep: Person, remove: Person) -> int:
    through = rel.through
    assert through is not None  # Django always makes one (auto-created if not named)
    source = rel.field.m2m_field_name()  # the other model's side
    target = rel.field.m2m_reverse_field_name()  # the Person side
    rows = through._base_manager.filter(**{target: remove})
    count = 0
    for row in rows:
        owner_id = getattr(row, f"{source}_id")
        through._base_manager.get_or_create(**{f"{source}_id": owner_id, target: keep})
        row.delete()
        count += 1
    return count


def _validate_choices(choices: dict[str, str]) -> None:
    unknown = sorted(set(choices) - set(MERGE_FIELDS))
    if unknown:
        raise ValidationError(f"These are not fields of a person: {', '.join(unknown)}.")
    bad = sorted(name for name, value in choices.items() if value not in (KEEP, REMOVE))
    if bad:
        raise ValidationError({name: "Choose which record's value to keep." for name in bad})


@transaction.atomic
def merge_people(
    actor: Any, keep: Person, remove: Person, choices: dict[str, str] | None = None
) -> dict[str, int]:
    """Merge `remove` into `keep`; returns how many records of each kind were moved.

    `choices`: for each field where the two differ, "keep" (the default) or "remove"
    to take the removed record's value. Nothing is saved if anything is refused."""
    choices = dict(choices or {})
    if keep.pk == remove.pk:
        raise ValidationError("A record cannot be merged with itself.")
    _validate_choices(choices)
    # Lock both (in id order, so two merges touching the same people cannot deadlock).
    locked = {p.pk: p for p in Person.objects.select_for_update().filter(
        pk__in=sorted((keep.pk, remove.pk))
    ).order_by("pk")}  # fmt: skip
    if len(locked) != 2:
        raise ValidationError("One of the records no longer exists; it may have been merged.")
    keep, remove = locked[keep.pk], locked[remove.pk]

    # The field values the kept record ends with.
    data = {
        name: getattr(remove if choices.get(name) == REMOVE else keep, name)
        for name in MERGE_FIELDS
    }
    for name in UNIQUE_FIELDS:  # an identifier only the removed record has comes along
        if not data[name] and getattr(remove, name) and name not in choices:
            data[name] = getattr(remove, name)
    old_names = {(keep.forename, keep.surname), (remove.forename, remove.surname)}
    new_name = (data["forename"], data["surname"])

    # Identifiers are unique: the removed record lets go of them before the kept one
    # takes them (it is deleted below anyway).
    cleared = [name for name in UNIQUE_FIELDS if getattr(remove, name)]
    if cleared:
        for name in cleared:
            setattr(remove, name, "")
        remove.save(update_fields=cleared)

    counts: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for rel in person_relations():
        model = rel.related_model
        label = model._meta.label_lower
        if model is NameIndex:
            NameIndex.objects.filter(person=remove).delete()  # rebuilt below
            continue
        if model is PersonMerge:
            counts[label] += PersonMerge.objects.filter(person=remove).update(person=keep)
            continue
        if model is LegalHold and LegalHold.objects.active().filter(person=keep).exists():
            # One active hold per person: the kept record's stands; the removed record's
            # moves across as lifted (its reason kept), so nothing is lost.
            LegalHold.objects.active().filter(person=remove).update(
                lifted_at=timezone.now(), lifted_by=actor if getattr(actor, "pk", None) else None
            )
        if isinstance(rel, models.ManyToManyRel):
            counts[label] += _move_many_to_many(rel, keep, remove)
            continue
        if isinstance(rel, models.OneToOneRel):
            moved, gone = _move_one_to_one(rel, keep, remove)
            counts[label] += moved
            dropped[label] += gone
            continue
        if len(_pair_fields(model)) == 2:
            if label in counts or label in dropped:
                continue  # both of its fields are relations: moved on the first
            moved, gone = _move_pairs(model, keep, remove)
            counts[label] += moved
            dropped[label] += gone
            continue
        counts[label] += model._base_manager.filter(**{rel.field.name: remove}).update(
            **{rel.field.name: keep}
        )

    # Keep every name the person was known by.
    known = set(keep.aliases.values_list("forename", "surname"))
    for forename, surname in sorted(old_names - {new_name} - known):
        alias = Alias(person=keep, forename=forename, surname=surname, note="Merged record")
        alias.full_clean()
        alias.save()
        counts["people.alias"] += 1

    changed = [name for name in MERGE_FIELDS if getattr(keep, name) != data[name]]
    for name in changed:
        setattr(keep, name, data[name])
    keep.full_clean(exclude=[f for f in UNIQUE_FIELDS if f not in changed])
    if changed:
        keep.save(update_fields=[*changed, "updated_at"])
    actions.refresh_name_index(keep)

    removed_id, removed_name = remove.pk, remove.full_name
    PersonMerge.objects.create(
        old_person_id=removed_id,
        person=keep,
        old_name=removed_name,
        merged_by=actor if getattr(actor, "pk", None) else None,
        moved={k: v for k, v in counts.items() if v},
    )
    for label, count in sorted(counts.items()):
        if count:
            audit.record(
                actor, AuditAction.UPDATE, object_type=label, person_id=keep.pk,
                summary=f"Merge: moved {count} from person {removed_id} to person {keep.pk}",
            )  # fmt: skip
    for label, count in sorted(dropped.items()):
        if count:
            audit.record(
                actor, AuditAction.DELETE, object_type=label, person_id=keep.pk,
                summary=f"Merge: {count} of person {removed_id}'s dropped as repeats",
            )  # fmt: skip
    audit.record(
        actor, AuditAction.UPDATE, keep, fields=changed,
        # The trail is kept for ever and never anonymised, so it names no one: the old
        # name is kept in PersonMerge (and as an alias), where retention can remove it.
        summary=f"Merged: person {removed_id} merged into this record",
    )  # fmt: skip
    audit.record(
        actor, AuditAction.DELETE, object_type="people.person", object_id=removed_id,
        person_id=removed_id,
        summary=f"Merged: this record was merged into person {keep.pk} and removed",
    )  # fmt: skip
    remove.delete()
    return {k: v for k, v in counts.items() if v}


@transaction.atomic
def decline_candidate(actor: Any, candidate: DuplicateCandidate, note: str = "") -> None:
    """ "Not the same person": remembered, so the pair is never proposed again."""
    from django.utils import timezone

    from .models import CandidateStatus

    locked = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if locked.status == CandidateStatus.DECLINED:
        raise ValidationError("This pair has already been marked as two different people.")
    locked.status = CandidateStatus.DECLINED
    locked.decided_by = actor if getattr(actor, "pk", None) else None
    locked.decided_at = timezone.now()
    locked.decision_note = " ".join((note or "").split())[:300]
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit.record(
        actor, AuditAction.UPDATE, locked, fields=["status", "decision_note"],
        summary=f"Not the same person: {locked.person_a_id} and {locked.person_b_id}",
    )  # fmt: skip
    candidate.status = locked.status


def kept_record_for(user: Any, old_person_id: int) -> Person | None:
    """Where a merged-away record's id now leads, if this user may see it (following
    a chain of merges); None otherwise, so the caller answers 404 as for any id."""
    merge = PersonMerge.objects.filter(old_person_id=old_person_id).first()
    if merge is None:
        return None
    return Person.objects.visible_to(user).filter(pk=merge.person_id).first()
