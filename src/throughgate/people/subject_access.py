"""Subject access export (UK GDPR Article 15): everything held about one person.

What is exported is *discovered*, not listed: every model that points at `Person`
(directly, or through a record that does, such as a case's contacts or a concern's
MASH referral) becomes a section, so a model added later is exported without anyone
remembering to add it here. `EXCLUDED` names the few such models left out, each with
its reason; tests/test_subject_access.py fails when a model with a path to `Person` is
neither exported nor excluded.

The audit trail of the person (every `AuditEvent` whose `person_id` is theirs: who
viewed, changed or exported their records) is a section of its own.

`build_export()` gathers the data once; `as_json()` and `as_html()` write it as the
machine-readable file and the readable document, and `as_zip()` puts both in one file.
The shape of the JSON is described in docs/subject-access.md.

Requests and deliveries are recorded in the audit trail (`record_request`,
`record_delivery`); no model of its own, so nothing here needs a migration.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.fields.related import ForeignObjectRel
from django.template.loader import render_to_string
from django.utils import timezone

from throughgate.core import audit
from throughgate.core.models import AuditAction, AuditEvent

from .models import FamilyMember, Person

FORMAT = "throughgate-subject-access/1"
# How far from Person the discovery walks (Person -> Case -> Need -> NeedUpdate is 3).
MAX_DEPTH = 5
# The audit events that stand for a request and its delivery (no model: see module doc).
REQUEST_OBJECT_TYPE = "people.subjectaccessrequest"
EXPORT_OBJECT_TYPE = "people.subjectaccessexport"
# A confirmed request may be downloaded for this long; after that, confirm it again.
REQUEST_VALID_FOR = timedelta(hours=1)
REFERENCE_MAX_LENGTH = 120

# Models that point at Person but are left out, with the reason shown in the export.
EXCLUDED: dict[str, str] = {
    "people.legalhold": (
        "A legal hold records that a police, court or regulator's request asked for the "
        "records to be kept; telling the person could prejudice the prevention or "
        "detection of crime (DPA 2018 Schedule 2, paragraph 2). The data protection lead "
        "decides whether to disclose it, outside this export."
    ),
    "people.nameindex": (
        "Search keys made from the names already exported (sound codes and first letters "
        "of the person's own names and aliases); they hold nothing that is not in the "
        "person record and the aliases."
    ),
}

# The audit trail: what is exported of each event (not the IP address, request path or
# chain hashes, which describe staff and the system rather than the person).
AUDIT_FIELDS = [
    ("at", "when"),
    ("actor_username", "who (staff user name)"),
    ("action", "what they did"),
    ("object_type", "record type"),
    ("object_id", "record number"),
    ("fields", "fields changed"),
    ("summary", "note"),
]

SAFEGUARDING_MODELS = {
    "casework.safeguardingconcern",
    "casework.concerndecision",
    "casework.concernaction",
    "casework.mashreferral",
    "casework.nrmreferral",
}


# --- What points at a person ---------------------------------------------------------


def person_paths() -> dict[type[models.Model], list[str]]:
    """For every model holding data about a person, the lookups that lead from one of
    its rows to that person (`{Contact: ["case__person", "case__referral__person",
    "family_members__person"], …}`), found by walking reverse relations from Person:
    the records that point at the person, the records that point at those, and so on.
    Person itself is not in the result."""
    paths: dict[type[models.Model], list[str]] = {}

    def walk(model: type[models.Model], to_person: str, trail: frozenset) -> None:
        for rel in model._meta.get_fields(include_hidden=True):
            if not isinstance(rel, ForeignObjectRel):
                continue
            related = rel.related_model
            if not isinstance(related, type) or related._meta.auto_created:
                continue  # the hidden "through" table of a many-to-many field
            if related in trail:
                continue
            lookup = f"{rel.field.name}__{to_person}" if to_person else rel.field.name
            found = paths.setdefault(related, [])
            if lookup not in found:
                found.append(lookup)
            if len(trail) < MAX_DEPTH:
                walk(related, lookup, trail | {related})

    walk(Person, "", frozenset({Person}))
    return paths


def exported_models() -> dict[type[models.Model], list[str]]:
    return {m: p for m, p in person_paths().items() if m._meta.label_lower not in EXCLUDED}


# --- The export's contents -----------------------------------------------------------


@dataclass
class Column:
    name: str
    label: str


@dataclass
class Section:
    key: str  # "casework.contact"
    title: str
    columns: list[Column]
    records: list[dict[str, Any]]  # field name -> JSON value (see `json_value`)
    texts: list[dict[str, str]]  # field name -> readable text, for the document
    third_party: list[str] = field(default_factory=list)  # why a human must review it
    paths: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.records)

    @property
    def rows(self) -> list[list[tuple[str, str]]]:
        """Each record as (field label, readable text) pairs in column order."""
        return [[(c.label, texts[c.name]) for c in self.columns] for texts in self.texts]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "count": self.count,
            "third_party": self.third_party,
            "fields": [{"name": c.name, "label": c.label} for c in self.columns],
            "records": self.records,
        }


@dataclass
class Export:
    person: Person
    reference: str
    generated_at: datetime
    generated_by: str
    sections: list[Section]
    excluded: dict[str, str]

    @property
    def counts(self) -> dict[str, int]:
        return {s.key: s.count for s in self.sections}

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "person_id": self.person.pk,
            "reference": self.reference,
            "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by,
            "sections": [s.as_dict() for s in self.sections],
            "excluded": [{"key": k, "reason": v} for k, v in self.excluded.items()],
        }


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def json_value(obj: models.Model, f: models.Field) -> Any:
    """A field's value for the JSON file: dates and times ISO 8601 (times in the display
    zone, with their offset), decimals as text, a coded choice as {"code", "label"}, a
    link to another record as {"id", "label"}, several links as a list of those."""
    if f.many_to_many:
        return [{"id": o.pk, "label": str(o)} for o in getattr(obj, f.name).all()]
    if f.is_relation:
        related_id = getattr(obj, f.attname)
        if related_id is None:
            return None
        return {"id": related_id, "label": str(getattr(obj, f.name))}
    value = getattr(obj, f.attname)
    if f.choices and value not in (None, ""):
        return {"code": value, "label": str(getattr(obj, f"get_{f.name}_display")())}
    return plain(value)


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _local(value).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return None  # no binary fields today; never dump raw bytes into a letter
    return value


def text_of(value: Any) -> str:
    """The readable form of a JSON value, for the document."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return str(value.get("label", ""))
    if isinstance(value, list):
        return ", ".join(text_of(v) for v in value) or "—"
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            if "T" in value:
                return datetime.fromisoformat(value).strftime("%-d %b %Y %H:%M")
            return date.fromisoformat(value).strftime("%-d %b %Y")
        except ValueError:
            return value
    return str(value)


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [*model._meta.concrete_fields, *model._meta.many_to_many]


def models_on_path(model: type[models.Model], lookup: str) -> list[type[models.Model]]:
    """The models a lookup such as "need__case__person" passes through, from `model`."""
    passed = [model]
    for name in lookup.split("__"):
        related = passed[-1]._meta.get_field(name).related_model
        assert isinstance(related, type), f"{lookup}: {name} is not a relation"
        passed.append(related)
    return passed


def third_party_reasons(model: type[models.Model], paths: Iterable[str] = ()) -> list[str]:
    """Why a section may hold other people's data, for the reviewer (Article 15(4):
    the right of access must not adversely affect the rights of others)."""
    reasons = []
    label = model._meta.label_lower
    columns = _columns(model)
    targets = {f.related_model for f in columns if f.is_relation}
    if label in SAFEGUARDING_MODELS:
        reasons.append(
            "Safeguarding record: may identify who raised the concern, other people at "
            "risk or causing harm. Information may be withheld where releasing it would "
            "be likely to cause serious harm."
        )
    if model is FamilyMember or FamilyMember in targets:
        reasons.append("Names family members and their own details.")
    to_person = [f for f in columns if f.is_relation and f.related_model is Person]
    if len(to_person) > 1 or any(f.many_to_many for f in to_person):
        reasons.append("Names other people we hold records about.")
    if any(
        m._meta.label_lower == "mentors.mentorprofile"
        for lookup in paths
        for m in models_on_path(model, lookup)
    ):
        reasons.append(
            "Part of the person's own mentor records (if they are also a mentor): may "
            "name the people their licence conditions or supervision concern."
        )
    if _user_model() in targets:
        reasons.append("Names staff (who recorded, raised, decided or was assigned).")
    return reasons


def _user_model() -> type[models.Model]:
    from django.contrib.auth import get_user_model

    return get_user_model()


def section_title(model: type[models.Model]) -> str:
    name = str(model._meta.verbose_name_plural)
    return name[:1].upper() + name[1:]


def _section(
    model: type[models.Model], rows: Any, paths: list[str], title: str | None = None
) -> Section:
    fields_ = _columns(model)
    records, texts = [], []
    for obj in rows:
        record = {f.name: json_value(obj, f) for f in fields_}
        records.append(record)
        texts.append({name: text_of(value) for name, value in record.items()})
    return Section(
        key=model._meta.label_lower,
        title=title or section_title(model),
        columns=[Column(f.name, str(f.verbose_name)) for f in fields_],
        records=records,
        texts=texts,
        third_party=third_party_reasons(model, paths),
        paths=paths,
    )


def _condition(person: Person, paths: list[str]) -> Q:
    condition = Q()
    for lookup in paths:
        condition |= Q(**{lookup: person.pk})
    return condition


def _rows(model: type[models.Model], person: Person, paths: list[str]) -> Any:
    condition = _condition(person, paths)
    forward = [f.name for f in model._meta.concrete_fields if f.is_relation]
    m2m = [f.name for f in model._meta.many_to_many]
    # The plain manager: scoping was done on the person (only the admin gets here), and
    # a model's default manager may hide rows (e.g. ended ones) that are still held.
    return (
        model._base_manager.filter(pk__in=model._base_manager.filter(condition).values("pk"))
        .select_related(*forward)
        .prefetch_related(*m2m)
        .order_by("pk")
    )


def audit_section(person: Person) -> Section:
    events = AuditEvent.objects.filter(person_id=person.pk).order_by("seq")
    records, texts = [], []
    for event in events.iterator(chunk_size=2000):
        record = {
            "at": plain(event.at),
            "actor_username": event.actor_username,
            "action": {"code": event.action, "label": event.get_action_display()},
            "object_type": event.object_type,
            "object_id": event.object_id,
            "fields": list(event.fields or []),
            "summary": event.summary,
        }
        records.append(record)
        texts.append({k: text_of(v) for k, v in record.items()})
    return Section(
        key="core.auditevent",
        title="Audit trail: who viewed, changed or exported these records",
        columns=[Column(name, label) for name, label in AUDIT_FIELDS],
        records=records,
        texts=texts,
        third_party=["Names staff (who viewed or changed the records)."],
        paths=["person_id"],
    )


def section_counts(person: Person) -> list[dict[str, Any]]:
    """What the export will hold, counted without reading the records (for the
    confirmation page)."""
    rows: list[dict[str, Any]] = [
        {"title": "Person record", "count": 1, "third_party": bool(third_party_reasons(Person))}
    ]
    for model, paths in exported_models().items():
        rows.append({
            "title": section_title(model),
            "count": model._base_manager.filter(_condition(person, paths)).distinct().count(),
            "third_party": bool(third_party_reasons(model, paths)),
        })  # fmt: skip
    rows.append({
        "title": "Audit trail",
        "count": AuditEvent.objects.filter(person_id=person.pk).count(),
        "third_party": True,
    })  # fmt: skip
    return rows


def build_export(person: Person, reference: str, by: Any) -> Export:
    """Everything held about `person`: their record, one section per model that points
    at them (in the order the discovery meets them), and the audit trail."""
    sections = [_section(Person, [person], [], title="Person record")]
    for model, paths in exported_models().items():
        sections.append(_section(model, _rows(model, person, paths), paths))
    sections.append(audit_section(person))
    return Export(
        person=person,
        reference=reference,
        generated_at=timezone.localtime(),
        generated_by=getattr(by, "username", ""),
        sections=sections,
        excluded=dict(EXCLUDED),
    )


# --- Files ---------------------------------------------------------------------------


def as_json(export: Export) -> str:
    return json.dumps(export.as_dict(), indent=2, ensure_ascii=False, default=str)


def as_html(export: Export) -> str:
    return render_to_string(
        "people/subject_access_document.html", {"export": export, "person": export.person}
    )


def file_stem(export: Export) -> str:
    return f"subject-access-{export.person.pk}-{export.generated_at:%Y-%m-%d}"


README = """Subject access export
=====================

{stem}.json  the data, machine-readable (format {format}; see docs/subject-access.md)
{stem}.html  the same data as a readable document; open it in a browser and print it
             to PDF if a paper copy is wanted

Reference: {reference}
Made: {made} by {by}

BEFORE RELEASE: a person must review both files. Sections marked "Review before
release" may contain other people's data (family members, staff names, people who
raised safeguarding concerns) which may need to be removed or withheld.
"""


def as_zip(export: Export) -> bytes:
    stem = file_stem(export)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.json", as_json(export))
        archive.writestr(f"{stem}.html", as_html(export))
        archive.writestr(
            "README.txt",
            README.format(
                stem=stem,
                format=FORMAT,
                reference=export.reference,
                made=export.generated_at.strftime("%-d %b %Y %H:%M"),
                by=export.generated_by,
            ),
        )
    return buffer.getvalue()


# --- Requests and deliveries in the audit trail --------------------------------------


def clean_reference(reference: str) -> str:
    reference = " ".join((reference or "").split())
    if len(reference) < 3:
        raise ValidationError(
            {"reference": "Enter the request's reference, e.g. “SAR 2026-014, received 20 Nov”."}
        )
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise ValidationError(
            {"reference": f"Keep the reference under {REFERENCE_MAX_LENGTH} characters."}
        )
    return reference


def record_request(actor: Any, person: Person, reference: str) -> AuditEvent:
    """The admin confirmed a subject access request for `person`: the confirmation is
    what the download is later checked against."""
    reference = clean_reference(reference)
    return _record_asked(actor, AuditAction.CREATE, person, f"request confirmed: {reference}")


def record_refusal(actor: Any, person: Person) -> AuditEvent:
    """Someone who may see `person` but not export them asked for the export: refused."""
    return _record_asked(
        actor, AuditAction.REFUSED, person, "export refused: only a manager can export"
    )


def _record_asked(actor: Any, action: AuditAction, person: Person, what: str) -> AuditEvent:
    with transaction.atomic():
        return audit.record(
            actor,
            action,
            object_type=REQUEST_OBJECT_TYPE,
            object_id=person.pk,
            person_id=person.pk,
            summary=f"Subject access {what}",
        )


def confirmed_request(actor: Any, person: Person, request_id: Any) -> AuditEvent | None:
    """The request this user confirmed for this person within REQUEST_VALID_FOR, or None."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        return None
    return (
        AuditEvent.objects.filter(
            pk=pk,
            actor=actor,
            action=AuditAction.CREATE,
            object_type=REQUEST_OBJECT_TYPE,
            person_id=person.pk,
            at__gte=timezone.now() - REQUEST_VALID_FOR,
        )
        .order_by()
        .first()
    )


def reference_of(request_event: AuditEvent) -> str:
    return request_event.summary.partition(": ")[2]


def record_delivery(actor: Any, export: Export, request_event: AuditEvent) -> AuditEvent:
    """The export left the system: who, when (the event's time), the reference, and how
    many records of each type (in `fields`, as "section: count")."""
    total = sum(export.counts.values())
    with transaction.atomic():
        return audit.record(
            actor,
            AuditAction.EXPORT,
            object_type=EXPORT_OBJECT_TYPE,
            object_id=request_event.pk,
            person_id=export.person.pk,
            fields=[f"{key}: {count}" for key, count in export.counts.items()],
            summary=f"Subject access export, {total} records: {export.reference}",
        )
