"""The kinds of record the importer brings in: their columns, how each cell is read, and
how a row becomes a record checked by the same rules the app's actions apply.

Each row is checked in three layers, the same as a form and its action would check it:

1. the cell: read as the model field's type (dates, numbers, yes/no, one of the
   field's choices by value or by label, the field's length limit);
2. the record: the model's own `clean()` (the rules `full_clean()` runs in every
   action, e.g. a contact cannot be before its case opened), and the action's own
   checks where the action has them (`validate_caseworker`, one custody episode open
   at a time, a closed case needs a reason);
3. the references: another row's source id must be known to this source, from an
   earlier import (or, for ids in one file, an earlier row).

Records are then written many at a time (`writes.insert`), not through the per-row
actions, which each write an audit event and lock rows one by one; docs/import.md says
what the bulk path writes instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from throughgate.casework.actions import validate_caseworker
from throughgate.casework.models import (
    Case,
    ClosureReason,
    Contact,
    DeclineReason,
    Phase,
    PhaseChange,
    Programme,
    Referral,
    ReferralStatus,
)
from throughgate.custody.models import (
    KEY_DATES,
    CustodyEpisode,
    Establishment,
    KeyDateChange,
)
from throughgate.outcomes.models import ReoffendingEvent
from throughgate.people import actions as people_actions
from throughgate.people.models import Person

from . import writes
from .models import Kind
from .reader import MAX_CELL

LONDON = ZoneInfo("Europe/London")
DATE_HINT = "use a date like 31/12/2009 or 2009-12-31"


class CellProblem(ValueError):
    """A cell that cannot be read as its field's type; the message names the value."""


def _shown(raw: Any) -> str:
    text = str(raw)
    return text if len(text) <= 40 else text[:37] + "..."


# --- reading cells --------------------------------------------------------------------


def read_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    try:
        if len(text) == 10 and text[4] == "-":
            return date.fromisoformat(text)
        parts = text.split("/")
        if len(parts) == 3 and len(parts[2]) == 4:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))  # UK: day first
        if len(text) == 19 and text[4] == "-" and text.endswith("00:00:00"):
            return date.fromisoformat(text[:10])  # a date saved by a spreadsheet
    except ValueError:
        pass
    raise CellProblem(f"{_shown(text)} is not a date ({DATE_HINT})")


def read_datetime(raw: Any) -> datetime:
    if type(raw) is str and len(raw) == 16 and raw[2] == "/" and raw[5] == "/":
        # The usual cell, "31/12/2024 14:30", read without splitting (a million rows)
        if raw[10] == " " and raw[13] == ":" and raw[:2].isdigit() and raw[3:5].isdigit():
            try:
                return datetime(
                    int(raw[6:10]),
                    int(raw[3:5]),
                    int(raw[:2]),
                    int(raw[11:13]),
                    int(raw[14:]),
                    tzinfo=LONDON,
                )
            except ValueError:
                pass  # read again below, for the message
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time(12))
    else:
        text = str(raw).strip()
        value = None
        try:
            if len(text) >= 16 and text[4] == "-":
                value = datetime.fromisoformat(text)
            elif len(text) >= 15 and text[2] == "/" and text[5] == "/":
                day, clock = text.split(" ", 1)
                d = read_date(day)
                value = datetime.combine(d, time.fromisoformat(clock.strip()))
            else:  # a date alone: midday, so no time zone can move it to another day
                value = datetime.combine(read_date(text), time(12))
        except (ValueError, CellProblem):
            raise CellProblem(
                f"{_shown(text)} is not a date and time (use 31/12/2024 14:30 or 2024-12-31 14:30)"
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    return value


TRUE = {"yes", "y", "true", "t", "1", "ticked", "x"}
FALSE = {"no", "n", "false", "f", "0", ""}


def read_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise CellProblem(f"{_shown(raw)} is not yes or no")


def read_whole_number(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CellProblem(f"{raw} is not a whole number")
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    try:
        return int(str(raw).strip())
    except ValueError:
        raise CellProblem(f"{_shown(raw)} is not a whole number") from None


def read_text(max_length: int | None) -> Callable[[Any], str]:
    def read(raw: Any) -> str:
        text = str(raw).strip() if not isinstance(raw, str) else raw.strip()
        if max_length and len(text) > max_length:
            raise CellProblem(f"this is {len(text):,} characters long; at most {max_length:,} fit")
        return text

    return read


def read_email(raw: Any) -> str:
    text = read_text(254)(raw)
    try:
        validate_email(text)
    except ValidationError:
        raise CellProblem(f"{_shown(text)} is not an email address") from None
    return text


def read_choice(choices: Iterable[tuple[Any, Any]]) -> Callable[[Any], str]:
    """One of a field's choices, by its stored value or its label, in any case."""
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup[str(value).casefold()] = value
        lookup[str(label).casefold()] = value
        lookup[str(value).replace("_", " ").casefold()] = value
    allowed = ", ".join(str(v) for v, _ in choices if v)

    def read(raw: Any) -> str:
        key = str(raw).strip().casefold()
        if key in lookup:
            return lookup[key]
        raise CellProblem(f"{_shown(raw)} is not one of: {allowed}")

    return read


# --- columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str  # the field's name in a mapping
    label: str  # how the mapping screen names it
    read: Callable[[Any], Any]
    required: bool = False
    hint: str = ""
    default: Any = None  # the value of an empty cell
    aliases: tuple[str, ...] = ()  # header names that match it without asking


def _sentence(text: str) -> str:
    """ "probation CRN" -> "Probation CRN" (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:]


def model_column(
    model: type[models.Model],
    name: str,
    *,
    required: bool | None = None,
    label: str = "",
    hint: str = "",
    aliases: tuple[str, ...] = (),
) -> Column:
    """A column read the way the model field is typed, limited and defaulted."""
    f = model._meta.get_field(name)
    assert isinstance(f, models.Field)
    if f.choices:
        read = read_choice(f.choices)
    elif isinstance(f, models.EmailField):
        read = read_email
    elif isinstance(f, models.DateTimeField):
        read = read_datetime
    elif isinstance(f, models.DateField):
        read = read_date
    elif isinstance(f, models.BooleanField):
        read = read_bool
    elif isinstance(f, models.IntegerField):
        read = read_whole_number
    else:
        read = read_text(getattr(f, "max_length", None))
    if f.has_default():
        default = f.get_default()
    elif isinstance(f, (models.CharField, models.TextField)):
        default = ""
    else:
        default = None
    if required is None:
        required = not f.blank and not f.has_default()
    return Column(
        name, label or _sentence(str(f.verbose_name)), read, required, hint, default, aliases
    )


def id_column(
    name: str, label: str, required: bool = True, aliases: tuple[str, ...] = ()
) -> Column:
    return Column(
        name,
        label,
        read_text(100),
        required,
        "The id this record has in your files (any text).",
        "",
        aliases,
    )


# --- what a row is checked against ---------------------------------------------------


class RowProblems(Exception):
    """A row's problems, each keyed by the field (column) it is about."""

    def __init__(self, problems: dict[str, list[str]]):
        super().__init__(problems)
        self.problems = problems


def problems_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {NON_FIELD_ERRORS: exc.messages}


@dataclass
class Context:
    """What one run knows beyond the row in hand: who is importing, the lookups it has
    made (cached: a million contacts name a few thousand cases), and what earlier rows
    of this file claimed (identifiers, open custody episodes)."""

    actor: Any
    source: Any
    refs: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> source id -> obj
    users: dict[str, Any] = field(default_factory=dict)
    programmes: dict[str, Any] = field(default_factory=dict)
    establishments: dict[str, Any] = field(default_factory=dict)
    claimed: dict[tuple[str, str], int] = field(default_factory=dict)  # (what, value) -> row
    users_loaded: bool = False  # every user is in `users`: a name not there is no one's
    # When the run began: the time its contacts are created at, one for all (a million
    # calls to timezone.now, and as many times to convert for the database, spared).
    began: datetime = field(default_factory=timezone.now)

    def load_users(self) -> None:
        """Every user, by name, at once: for worker processes, which cannot look them up."""
        found = get_user_model().objects.only("pk", "username")  # all a contact row needs
        self.users = {u.username.casefold(): u for u in found}
        self.users_loaded = True

    def user(self, username: str, column: str) -> Any:
        key = username.casefold()
        if key not in self.users and self.users_loaded:
            self.users[key] = None
        if key not in self.users:
            self.users[key] = get_user_model().objects.filter(username__iexact=username).first()
        if self.users[key] is None:
            raise RowProblems({column: [f"no user is called {_shown(username)}"]})
        return self.users[key]

    def programme(self, name: str) -> Any:
        key = name.casefold()
        if key not in self.programmes:
            self.programmes[key] = (
                Programme.objects.select_related("team").filter(name__iexact=name).first()
            )
        if self.programmes[key] is None:
            names = ", ".join(Programme.objects.values_list("name", flat=True))
            raise RowProblems({"programme": [f"no programme is called {_shown(name)} ({names})"]})
        return self.programmes[key]

    def establishment(self, text: str) -> Any:
        key = text.casefold()
        if key not in self.establishments:
            found = (
                Establishment.objects.filter(code__iexact=text).first()
                or Establishment.objects.filter(name__iexact=text).first()
            )
            self.establishments[key] = found
        if self.establishments[key] is None:
            raise RowProblems(
                {"establishment": [f"{_shown(text)} is not a prison code or name in the register"]}
            )
        return self.establishments[key]

    def claim(self, what: str, value: str, row: int, column: str, message: str) -> None:
        """Earlier rows of this file are not in the database yet: remember what each
        row claimed (an identifier, an open custody episode) so a second claim is caught."""
        earlier = self.claimed.get((what, value))
        if earlier is not None and earlier != row:
            raise RowProblems({column: [f"{message} (row {earlier})"]})
        self.claimed[(what, value)] = row


def _run_clean(obj: models.Model, extra: dict[str, list[str]] | None = None) -> None:
    problems = dict(extra or {})
    try:
        obj.clean()
    except ValidationError as exc:
        for name, messages in problems_of(exc).items():
            problems.setdefault(name, []).extend(messages)
    if problems:
        raise RowProblems(problems)


# --- the kinds ------------------------------------------------------------------------


class KindSpec:
    kind: str
    model: type[models.Model]
    columns: list[Column]
    refs: dict[str, str] = {}  # column name -> the kind whose source id it holds
    batch_size = 5000
    # Rows may be checked in worker processes (imports.parallel): `build` reads nothing
    # from the database but the referred-to records and users, claims nothing across
    # rows, and `write` is the plain insert.
    parallel = False

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def build(self, values: dict[str, Any], row: int, ctx: Context) -> models.Model:
        raise NotImplementedError

    def write(self, objs: list[Any], ctx: Context) -> list[int]:
        """Save the checked records; returns their ids in order."""
        return writes.insert(objs)

    def load(self, ids: list[int]) -> dict[int, Any]:
        """Records of this kind by id, as other kinds' rows need them."""
        return self.model._default_manager.in_bulk(ids)


def _ref(values: dict[str, Any], name: str) -> Any:
    return values.get(f"{name}__obj")


class People(KindSpec):
    kind = Kind.PEOPLE
    model = Person
    columns = [
        id_column("source_id", "Person id", aliases=("id", "person id", "person_id")),
        model_column(Person, "forename", aliases=("first name", "forename", "given name")),
        model_column(Person, "surname", aliases=("last name", "surname", "family name")),
        model_column(Person, "preferred_name"),
        model_column(Person, "date_of_birth", aliases=("dob", "date of birth", "birth date")),
        model_column(Person, "gender"),
        model_column(Person, "ethnicity"),
        model_column(Person, "first_language"),
        model_column(Person, "interpreter_needed"),
        model_column(Person, "borough"),
        model_column(Person, "postcode"),
        model_column(Person, "address"),
        model_column(Person, "phone"),
        model_column(Person, "email"),
        model_column(Person, "prison_number", aliases=("prison number", "noms", "prison no")),
        model_column(Person, "pnc_id", aliases=("pnc", "pnc id", "pnc number")),
        model_column(Person, "crn", aliases=("crn", "probation crn")),
    ]
    fields = [c.name for c in columns[1:]]

    def build(self, values: dict[str, Any], row: int, ctx: Context) -> Person:
        person = Person(
            created_by=ctx.actor if getattr(ctx.actor, "pk", None) else None,
            **{k: values[k] for k in self.fields},
        )
        # Person.clean normalises identifiers and checks them against the database.
        _run_clean(person)
        for name in ("prison_number", "pnc_id", "crn"):
            value = getattr(person, name)
            if value:
                label = {"prison_number": "prison number", "pnc_id": "PNC ID", "crn": "CRN"}
                ctx.claim(
                    name, value, row, name, f"another row of this file has this {label[name]}"
                )
        return person

    def write(self, objs: list[Any], ctx: Context) -> list[int]:
        ids = super().write(objs, ctx)
        # Search keys, as for any new person (new people have no aliases yet).
        keys = [
            key
            for person in objs
            for key in people_actions.name_index_rows(person, with_aliases=False)
        ]
        writes.insert(keys)
        return ids


PERSON_REF = id_column("person_id", "Person id", aliases=("person id", "person_id", "person"))


class Referrals(KindSpec):
    kind = Kind.REFERRALS
    model = Referral
    refs = {"person_id": Kind.PEOPLE}
    columns = [
        id_column("source_id", "Referral id", aliases=("id", "referral id", "referral_id")),
        PERSON_REF,
        Column("programme", "Programme", read_text(100), True, "The programme's name."),
        model_column(Referral, "source_type", aliases=("referred by", "source")),
        model_column(Referral, "referring_organisation"),
        model_column(Referral, "referrer_name"),
        model_column(Referral, "referrer_contact"),
        model_column(Referral, "referral_date", aliases=("date referred", "referral date")),
        model_column(Referral, "reasons", aliases=("reasons", "reason")),
        model_column(Referral, "consent_recorded", aliases=("consent",)),
        model_column(Referral, "status"),
        model_column(Referral, "decline_reason"),
        model_column(Referral, "decision_notes"),
    ]
    fields = [
        "source_type",
        "referring_organisation",
        "referrer_name",
        "referrer_contact",
        "referral_date",
        "reasons",
        "consent_recorded",
        "status",
        "decline_reason",
        "decision_notes",
    ]

    def build(self, values: dict[str, Any], row: int, ctx: Context) -> Referral:
        programme = ctx.programme(values["programme"])
        referral = Referral(
            person=_ref(values, "person_id"),
            programme=programme,
            team=programme.team,
            **{k: values[k] for k in self.fields},
            received_by=ctx.actor if getattr(ctx.actor, "pk", None) else None,
        )
        extra: dict[str, list[str]] = {}
        # As decline_referral: a declined referral says why.
        if referral.status == ReferralStatus.DECLINED:
            if not referral.decline_reason:
                extra["decline_reason"] = ["a declined referral needs the reason it was declined"]
            elif referral.decline_reason == DeclineReason.OTHER and not referral.decision_notes:
                extra["decision_notes"] = ["explain the reason when it is 'other'"]
        elif referral.decline_reason:
            extra["decline_reason"] = ["only a declined referral has a reason for declining"]
        if referral.status != ReferralStatus.PENDING:
            referral.decided_at = timezone.now()
        _run_clean(referral, extra)
        return referral


class Cases(KindSpec):
    kind = Kind.CASES
    model = Case
    refs = {"person_id": Kind.PEOPLE, "referral_id": Kind.REFERRALS}
    columns = [
        id_column("source_id", "Case id", aliases=("id", "case id", "case_id")),
        PERSON_REF,
        id_column(
            "referral_id", "Referral id", required=False, aliases=("referral id", "referral_id")
        ),
        Column("programme", "Programme", read_text(100), True, "The programme's name."),
        model_column(Case, "opened_on", aliases=("opened", "start date", "case opened")),
        Column(
            "phase",
            "Phase",
            read_choice(Phase.choices),
            False,
            "The phase it is in now (empty: referred, or closed if it has a closing date).",
            "",
        ),
        model_column(Case, "phase_since", required=False),
        Column("mentor", "Mentor (username)", read_text(150), False, "Their log-in name.", ""),
        model_column(Case, "closed_on", aliases=("closed", "end date")),
        model_column(Case, "closure_reason"),
        model_column(Case, "closure_notes"),
    ]

    def build(self, values: dict[str, Any], row: int, ctx: Context) -> Case:
        programme = ctx.programme(values["programme"])
        mentor = ctx.user(values["mentor"], "mentor") if values["mentor"] else None
        referral = _ref(values, "referral_id")
        opened_on, closed_on = values["opened_on"], values["closed_on"]
        phase = values["phase"] or (Phase.CLOSED if closed_on else Phase.REFERRED)
        problems: dict[str, list[str]] = {}

        def problem(name: str, message: str) -> None:
            problems.setdefault(name, []).append(message)

        try:
            validate_caseworker(mentor)  # the rule accept_referral and assign_mentor apply
        except ValidationError as exc:
            for messages in problems_of(exc).values():
                problems.setdefault("mentor", []).extend(messages)
        # accept_referral's rules for opening a case ...
        today = timezone.localdate()
        if opened_on > today:
            problem("opened_on", "a case cannot open on a future date")
        if referral is not None:
            if opened_on < referral.referral_date:
                problem("opened_on", "a case cannot open before the referral was made")
            if referral.person_id != _ref(values, "person_id").pk:
                problem("referral_id", "this referral is for another person")
            if Case.objects.filter(referral=referral).exists():
                problem("referral_id", "this referral already has a case")
            ctx.claim(
                "referral",
                str(referral.pk),
                row,
                "referral_id",
                "another row of this file opens a case on this referral",
            )
        if phase not in programme.phases:
            problem("phase", f"{phase} is not a phase of {programme}")
        # ... and close_case's for closing one.
        if phase == Phase.CLOSED:
            if not closed_on:
                problem("closed_on", "a closed case needs the date it closed")
            elif closed_on > today:
                problem("closed_on", "a case cannot be closed on a future date")
            elif closed_on < opened_on:
                problem("closed_on", "a case cannot close before it opened")
            if not values["closure_reason"]:
                problem("closure_reason", "a closed case needs the reason it closed")
            elif values["closure_reason"] == ClosureReason.OTHER and not values["closure_notes"]:
                problem("closure_notes", "explain the reason when it is 'other'")
        elif closed_on or values["closure_reason"]:
            problem("phase", "only a closed case has a closing date or reason")
        phase_since = values["phase_since"] or (closed_on if phase == Phase.CLOSED else opened_on)
        if phase_since and phase_since < opened_on:
            problem("phase_since", "this is before the case opened")
        if problems:
            raise RowProblems(problems)
        return Case(
            person=_ref(values, "person_id"),
            programme=programme,
            team=programme.team,
            referral=referral,
            phase=phase,
            phase_since=phase_since,
            opened_on=opened_on,
            mentor=mentor,
            closed_on=closed_on if phase == Phase.CLOSED else None,
            closure_reason=values["closure_reason"],
            closure_notes=values["closure_notes"],
        )

    def write(self, objs: list[Any], ctx: Context) -> list[int]:
        ids = super().write(objs, ctx)
        # The phase history a case opened by accept_referral (and closed by close_case) has.
        actor = ctx.actor if getattr(ctx.actor, "pk", None) else None
        changes = []
        for case in objs:
            first = Phase.REFERRED if case.phase == Phase.CLOSED else case.phase
            changes.append(
                PhaseChange(
                    case=case,
                    from_phase="",
                    to_phase=first,
                    changed_on=case.opened_on,
                    recorded_by=actor,
                    note="Imported",
                )
            )
            if case.phase == Phase.CLOSED:
                changes.append(
                    PhaseChange(
                        case=case,
                        from_phase=first,
                        to_phase=Phase.CLOSED,
                        changed_on=case.closed_on,
                        recorded_by=actor,
                        note=dict(ClosureReason.choices)[case.closure_reason],
                    )
                )
        writes.insert(changes)
        return ids

    def load(self, ids: list[int]) -> dict[int, Any]:
        return Case.objects.select_related("person", "programme").in_bulk(ids)


class Contacts(KindSpec):
    kind = Kind.CONTACTS
    model = Contact
    refs = {"case_id": Kind.CASES}
    parallel = True
    columns = [
        id_column("source_id", "Contact id", aliases=("id", "contact id", "contact_id")),
        id_column("case_id", "Case id", aliases=("case id", "case_id", "case")),
        model_column(Contact, "occurred_at", aliases=("when", "date", "occurred at")),
        model_column(Contact, "mode", aliases=("how", "mode", "type")),
        model_column(Contact, "attendance", aliases=("attended", "did they attend?")),
        model_column(Contact, "non_attendance_reason", aliases=("why not?",)),
        model_column(Contact, "duration_minutes", aliases=("minutes", "duration")),
        Column(
            "staff",
            "Mentor or worker (username)",
            read_text(150),
            False,
            "Their log-in name (empty: the case's mentor, or you).",
            "",
        ),
        model_column(Contact, "summary", aliases=("what happened", "notes", "summary")),
        model_column(Contact, "concerns"),
        model_column(Contact, "next_steps"),
    ]
    fields = [
        "occurred_at",
        "mode",
        "attendance",
        "non_attendance_reason",
        "duration_minutes",
        "summary",
        "concerns",
        "next_steps",
    ]

    def build(self, values: dict[str, Any], row: int, ctx: Context) -> Contact:
        case = _ref(values, "case_id")
        if values["staff"]:
            staff = ctx.user(values["staff"], "staff")
        else:
            staff = case.mentor_id or getattr(ctx.actor, "pk", None)
            if staff is None:
                raise RowProblems({"staff": ["say who had the contact: the case has no mentor"]})
        fields = {k: values[k] for k in self.fields}
        fields["logged_by_id"] = getattr(ctx.actor, "pk", None)
        fields["created_at"] = ctx.began
        related = {"case": case}
        if isinstance(staff, int):
            fields["staff_id"] = staff
        else:
            related["staff"] = staff
        # A million of these: made without Model.__init__ (see writes.new_instance).
        contact = writes.new_instance(Contact, related, fields)
        _run_clean(contact)  # Contact.clean: the dates against the case, attendance rules
        return contact


class CustodyEpisodes(KindSpec):
    kind = Kind.CUSTODY
    model = CustodyEpisode
    refs = {"person_id": Kind.PEOPLE}
    columns = [
        id_column("source_id", "Custody episode id", aliases=("id", "episode id")),
        PERSON_REF,
        Column(
            "establishment",
            "Prison (code or name)",
            read_text(120),
            True,
            "The prison's agency code (like FMI) or its name.",
            "",
            ("prison", "establishment"),
        ),
        model_column(CustodyEpisode, "received_on", aliases=("received", "in custody since")),
        model_column(CustodyEpisode, "sentence_type"),
        *[model_column(CustodyEpisode, name, aliases=(name,)) for name in KEY_DATES],
        model_column(CustodyEpisode, "released_on", aliases=("released", "release date")),
    ]
    fields = ["received_on", "sentence_type", *KEY_DATES, "released_on"]

    def build(self, values: dict[str, Any], row: int, ctx: Context) -> CustodyEpisode:
        from throughgate.custody.actions import _apply_expected

        person = _ref(values, "person_id")
        establishment = ctx.establishment(values["establishment"])
        episode = CustodyEpisode(
            person=person,
            establishment=establishment,
            recorded_by=ctx.actor if getattr(ctx.actor, "pk", None) else None,
            **{k: values[k] for k in self.fields},
        )
        extra: dict[str, list[str]] = {}
        if episode.released_on is None:
            # start_custody_episode's rule: one person is in one prison at a time.
            if CustodyEpisode.objects.filter(person=person, released_on__isnull=True).exists():
                extra["released_on"] = [
                    "they are already in custody (an episode with no release date); give "
                    "this one its release date"
                ]
            else:
                ctx.claim(
                    "open episode",
                    str(person.pk),
                    row,
                    "released_on",
                    "another row of this file has them in custody with no release date",
                )
        if not establishment.active:
            # CustodyEpisode.clean refuses a closed prison for a new episode; history may
            # well name one, so the importer accepts it (docs/import.md).
            establishment_active, establishment.active = establishment.active, True
            try:
                _run_clean(episode, extra)
            finally:
                establishment.active = establishment_active
        else:
            _run_clean(episode, extra)
        _apply_expected(episode)
        return episode

    def write(self, objs: list[Any], ctx: Context) -> list[int]:
        ids = super().write(objs, ctx)
        actor = ctx.actor if getattr(ctx.actor, "pk", None) else None
        # The key-date history start_custody_episode begins.
        writes.insert(
            [
                KeyDateChange(
                    episode=e,
                    field=name,
                    old_value=None,
                    new_value=getattr(e, name),
                    changed_by=actor,
                    reason="Imported",
                )
                for e in objs
                for name in [*KEY_DATES, "expected_release_date"]
                if getattr(e, name)
            ]
        )
        return ids


class ReoffendingEvents(KindSpec):
    kind = Kind.REOFFENDING
    model = ReoffendingEvent
    refs = {"person_id": Kind.PEOPLE}
    columns = [
        id_column("source_id", "Event id", aliases=("id", "event id")),
        PERSON_REF,
        model_column(ReoffendingEvent, "offence_date", aliases=("offence date",)),
        model_column(ReoffendingEvent, "disposal_date", aliases=("disposal date",)),
        model_column(ReoffendingEvent, "disposal_type", aliases=("disposal", "what happened")),
        model_column(ReoffendingEvent, "offence_group"),
        model_column(ReoffendingEvent, "custodial"),
        model_column(ReoffendingEvent, "source", aliases=("how we know",)),
        model_column(ReoffendingEvent, "verified"),
        model_column(ReoffendingEvent, "notes"),
    ]
    fields = [
        "offence_date",
        "disposal_date",
        "disposal_type",
        "offence_group",
        "custodial",
        "source",
        "verified",
        "notes",
    ]

    def build(self, values: dict[str, Any], row: int, ctx: Context) -> ReoffendingEvent:
        from throughgate.outcomes.actions import _check_verification

        extra: dict[str, list[str]] = {}
        try:
            _check_verification(ctx.actor, values)
        except ValidationError as exc:
            extra = problems_of(exc)
        event = ReoffendingEvent(
            person=_ref(values, "person_id"),
            recorded_by=ctx.actor if getattr(ctx.actor, "pk", None) else None,
            **{k: values[k] for k in self.fields},
        )
        _run_clean(event, extra)
        return event


KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        People(),
        Referrals(),
        Cases(),
        Contacts(),
        CustodyEpisodes(),
        ReoffendingEvents(),
    )
}

__all__ = ["KINDS", "MAX_CELL", "CellProblem", "Column", "Context", "KindSpec", "RowProblems"]
