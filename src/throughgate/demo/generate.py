"""`throughgate generate`: synthetic data at charity or region scale, for scale tests.

The plan (who, which case, which dates) comes from `engines.generate`; this module
turns it into rows and inserts them in chunks with raw bulk inserts: `executemany` on
SQLite and `COPY … FROM STDIN` on PostgreSQL, with primary keys we choose, one
transaction per chunk, so memory stays flat and 5 million contacts load in minutes.
Every column of every table is written (defaults are taken from the model fields), so
the rows are what the app itself would store.

It refuses a database that already has people in it. If it stops half-way, the
database holds part of the data: start again on an empty database.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from tqdm import tqdm  # type: ignore[import-untyped]

from throughgate.accounts.models import Team, User
from throughgate.accounts.roles import Role
from throughgate.casework.models import (
    DEFAULT_PHASES,
    Case,
    Contact,
    MentorAssignment,
    PhaseChange,
    Programme,
    ProgrammeKind,
    Referral,
)
from throughgate.core import audit, encryption
from throughgate.core.encryption import EncryptedTextField
from throughgate.core.models import AuditAction
from throughgate.custody.models import CustodyEpisode, Establishment
from throughgate.engines import generate as eng
from throughgate.engines.names import phonetic_key, prefix_key
from throughgate.mentors.models import MentorProfile
from throughgate.outcomes.models import ReoffendingEvent
from throughgate.people.models import NameIndex, Person
from throughgate.prevention.models import Venue, Workshop, WorkshopGroup, WorkshopTopic

from .seed import (
    BOROUGHS,
    CUSTODY_PROGRAMME,
    CUSTODY_TEAM,
    DEMO_PASSWORD,
    DEMO_USERS,
    ETHNICITIES,
    INWARD_LETTERS,
    POOLS,
    PREVENTION_PROGRAMME,
    PREVENTION_TEAM,
    PRISONS_18_TO_20,
    PRISONS_ADULT,
    PRISONS_UNDER_18,
    SCHOOLS,
)

MARKER_TYPE = "demo.generated"
DEFAULT_SEED = 2006
CHUNK = 50_000  # rows per insert transaction

CONTACT_SUMMARIES = {
    "prison_visit": ["Visit on the wing; talked about release plans.", "Visit: family news, ID."],
    "phone": ["Phone check-in; all OK.", "Call about appointments this week."],
    "video": ["Video call; planned the next visit."],
    "community": ["Met in a café; job search.", "Met at the Jobcentre together."],
    "home_visit": ["Home visit with mum; housing forms."],
    "gate": ["Met at the gate; to probation, then home."],
    "family": ["Family session; routines at home."],
    "group": ["Group session at the hub."],
}
REASONS = {
    eng.CUSTODY: [
        "Serving a short sentence; wants support on release.",
        "First time in custody; family worried about release.",
        "Asked for a mentor; no fixed address on release.",
    ],
    eng.PREVENTION: [
        "Missing school; older boys hanging around the estate.",
        "Excluded; at risk of exploitation.",
        "Found with cash and two phones; school worried.",
    ],
}
CLOSURE = (["completed", "disengaged", "moved_away", "needs_met_elsewhere",
            "returned_to_custody"], [0.6, 0.2, 0.08, 0.07, 0.05])  # fmt: skip
ACCOMMODATION = ["own_tenancy", "family", "supported", "temporary", "unknown"]
ETE = ["employed_full", "employed_part", "apprenticeship", "education", "training", "neet"]
OFFENCE_GROUPS = ["violence", "robbery", "theft", "drugs", "weapons", "public_order"]


class GenerateError(RuntimeError):
    """A clear reason the generator cannot run, or why it stopped."""


def is_generated() -> bool:
    from throughgate.core.models import AuditEvent

    return AuditEvent.objects.filter(object_type=MARKER_TYPE).exists()


# -- Writing rows --------------------------------------------------------------------


def _db_constant(f: models.Field, value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return _stamp_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _stamp_text(value: dt.datetime) -> str:
    utc = value.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    text = utc.isoformat(" ")
    return text + "+00" if connection.vendor == "postgresql" else text


def dates(arr: np.ndarray) -> list[Any]:
    """Day numbers as ISO dates; NONE as NULL."""
    arr = np.asarray(arr, dtype=np.int64)
    text = np.datetime_as_string(arr.astype("datetime64[D]")).astype(object)
    text[arr == eng.NONE] = None
    return text.tolist()


def stamps(seconds: np.ndarray) -> list[Any]:
    """Seconds since the epoch (UTC) as the database's timestamp text; NONE as NULL."""
    seconds = np.asarray(seconds, dtype=np.int64)
    text = np.strings.replace(np.datetime_as_string(seconds.astype("datetime64[s]")), "T", " ")
    if connection.vendor == "postgresql":
        text = np.strings.add(text, "+00")
    out = text.astype(object)
    out[seconds == eng.NONE] = None
    return out.tolist()


def at_hour(days: np.ndarray, hour: int = 10) -> np.ndarray:
    days = np.asarray(days, dtype=np.int64)
    return np.where(days == eng.NONE, eng.NONE, days * eng.DAY_SECONDS + hour * 3600)


def ints(arr: np.ndarray) -> list[Any]:
    arr = np.asarray(arr)
    out = arr.astype(object)
    out[arr == eng.NONE] = None
    return out.tolist()


@dataclass
class Writer:
    quiet: bool
    counts: dict[str, int] = field(default_factory=dict)
    current: str = ""
    _tokens: dict[str, str] = field(default_factory=dict)

    def insert(
        self, model: type[models.Model], chunks: Iterable[dict[str, list[Any]]], total: int
    ) -> None:
        """Insert every row of `chunks` (each a dict of equal-length column lists) into
        the model's table, one transaction per chunk; columns not given take the model
        field's default."""
        meta = model._meta
        table = meta.db_table
        self.current = table
        fields = meta.concrete_fields
        bar = tqdm(total=total, desc=f"{table:<30}", unit=" rows", disable=self.quiet,
                   leave=True, dynamic_ncols=True)  # fmt: skip
        done = 0
        for chunk in chunks:
            if not chunk:
                continue
            length = len(next(iter(chunk.values())))
            if length == 0:
                continue
            columns: list[str] = []
            values: list[Any] = []
            for f in fields:
                if f.column in chunk:
                    col = chunk[f.column]
                    if len(col) != length:
                        raise GenerateError(f"{table}.{f.column}: {len(col)} values, not {length}")
                    if isinstance(f, EncryptedTextField):
                        col = [self._encrypted(v) for v in col]
                    values.append(col)
                elif f.has_default() or f.null or f.blank:
                    if f.primary_key:
                        continue
                    values.append([_db_constant(f, f.get_default())] * length)
                else:
                    raise GenerateError(f"{table}.{f.column} needs a value")
                columns.append(str(f.column))
            unknown = set(chunk) - {f.column for f in fields}
            if unknown:
                raise GenerateError(f"{table} has no column(s) {sorted(unknown)}")
            self._write(table, columns, zip(*values, strict=True))
            done += length
            bar.update(length)
        bar.close()
        self.counts[table] = self.counts.get(table, 0) + done

    def _encrypted(self, text: Any) -> Any:
        """Notes are stored encrypted, as the app stores them, so pages read them at the
        real cost. The generator's notes come from short lists, so each distinct text is
        encrypted once and its token reused: fine for invented data (equal tokens show
        equal texts), never done for real notes, which each get their own."""
        if not text:
            return text
        token = self._tokens.get(text)
        if token is None:
            token = encryption.encrypt(text)
            if len(self._tokens) < 100_000:
                self._tokens[text] = token
        return token

    def _write(self, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
        cols = ", ".join(f'"{c}"' for c in columns)
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    raw = cursor.cursor
                    with raw.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join("?" * len(columns))
                    raw = connection.connection.cursor()
                    # Table and column names come from the models' metadata, never input.
                    sql = f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'  # noqa: S608
                    raw.executemany(sql, rows)
                    raw.close()


def _chunked(n: int, make: Callable[[slice], dict[str, list[Any]]], size: int = CHUNK):
    for start in range(0, n, size):
        yield make(slice(start, min(n, start + size)))


# -- Names and places ----------------------------------------------------------------


@dataclass(frozen=True)
class NameTables:
    ethnicities: list[str]
    weights: list[float]
    male: list[list[str]]
    female: list[list[str]]
    surnames: list[list[str]]
    female_surnames: list[list[str]]
    languages: list[list[tuple[str, int]]]


def _name_tables() -> NameTables:
    eths, weights, male, female, sur, fsur, langs = [], [], [], [], [], [], []
    for eth, (w_custody, _w_prev, first_pools, surname_pools) in ETHNICITIES.items():
        pools = [POOLS[p] for p in first_pools]
        s_pools = [POOLS[p] for p in (surname_pools or first_pools)]
        eths.append(eth)
        weights.append(float(w_custody))
        male.append([n for p in pools for n in p.male])
        female.append([n for p in pools for n in p.female])
        sur.append([n for p in s_pools for n in p.surnames])
        fsur.append([n for p in s_pools for n in (p.female_surnames or p.surnames)])
        langs.append(list(pools[0].languages))
    return NameTables(eths, weights, male, female, sur, fsur, langs)


def _pick_from(rng: np.random.Generator, groups: np.ndarray, lists: list[list[str]]) -> np.ndarray:
    out = np.empty(len(groups), dtype=object)
    for g, names in enumerate(lists):
        where = np.flatnonzero(groups == g)
        if len(where):
            out[where] = np.array(names, dtype=object)[rng.integers(0, len(names), len(where))]
    return out


# -- The generator -------------------------------------------------------------------


def _refuse_unless_empty() -> None:
    if Person.objects.exists():
        raise GenerateError(
            "The database already has people in it; generate only into an empty database "
            "(a new SQLite file or a new PostgreSQL database, after `throughgate migrate`)."
        )
    taken = User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).values_list(
        "username", flat=True
    )
    if taken:
        raise GenerateError(
            f"The user(s) {', '.join(sorted(taken))} already exist; generate only into an "
            "empty database."
        )
    if not Establishment.objects.exists():
        raise GenerateError("The prison register is empty: run `throughgate migrate` first.")


def generate(
    scale: str, seed: int = DEFAULT_SEED, *, quiet: bool = False, today: dt.date | None = None
) -> dict[str, int]:
    """Fill an empty database with synthetic data at `scale`; returns rows per table."""
    if scale not in eng.SCALES:
        raise GenerateError(f"Unknown scale {scale!r}: choose charity or region.")
    _refuse_unless_empty()
    writer = Writer(quiet=quiet)
    started = time.monotonic()
    try:
        _generate(eng.SCALES[scale], seed, writer, today or timezone.localdate())
    except (Exception, KeyboardInterrupt) as exc:
        if isinstance(exc, GenerateError) and not writer.current:
            raise
        reason = str(exc) or type(exc).__name__
        raise GenerateError(
            f"Generation stopped while writing {writer.current or 'the staff'}: {reason}. "
            "The database now holds part of the data; start again on an empty database "
            "(delete the SQLite file or drop and recreate the PostgreSQL database, then "
            "`throughgate migrate`)."
        ) from exc
    audit.record(
        None,
        AuditAction.CREATE,
        object_type=MARKER_TYPE,
        summary=f"Synthetic data generated: scale {scale}, seed {seed}, "
        f"{writer.counts.get('people_person', 0)} people, "
        f"{time.monotonic() - started:.0f} s",
    )
    return writer.counts


def _sqlite_fast() -> None:
    """For the load only: no fsync per commit and a large page cache. A crash mid-way
    leaves a database to throw away, which is the rule for a half-done load anyway."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")


def _generate(scale: eng.Scale, seed: int, writer: Writer, today_date: dt.date) -> None:
    rng = np.random.default_rng(seed)
    today = eng.day_number(today_date)
    _sqlite_fast()
    names = _name_tables()
    staff_plan = eng.plan_staff(scale, rng)
    cases, people, extra = eng.plan_cases(scale, staff_plan, today, rng, names.weights)
    n_index = int((cases.kind == eng.CUSTODY).sum())
    prior = eng.plan_prior_episodes(cases, people, scale.episodes - n_index, today, rng)

    staff = _create_staff(scale, staff_plan)
    writer.counts["accounts_user"] = len(staff.all_users)
    writer.counts["accounts_team"] = len(staff.teams) + 1
    writer.counts["casework_programme"] = len(staff.programmes) + 1

    # -- people --
    first = np.where(people.gender == 1, 0, 1)  # 0 female lists, 1 male lists
    forename = np.empty(people.n, dtype=object)
    female = first == 0
    forename[female] = _pick_from(rng, people.ethnicity[female], names.female)
    forename[~female] = _pick_from(rng, people.ethnicity[~female], names.male)
    surname = np.empty(people.n, dtype=object)
    surname[female] = _pick_from(rng, people.ethnicity[female], names.female_surnames)
    surname[~female] = _pick_from(rng, people.ethnicity[~female], names.surnames)
    # Mentors' own person records carry the mentor users' names.
    m_people = np.flatnonzero(people.mentor_person)
    forename[m_people] = [u.first_name for u in staff.mentors]
    surname[m_people] = [u.last_name for u in staff.mentors]
    language = np.empty(people.n, dtype=object)
    for g, options in enumerate(names.languages):
        where = np.flatnonzero(people.ethnicity == g)
        labels = [o[0] for o in options]
        p = np.array([o[1] for o in options], float)
        language[where] = np.array(labels, dtype=object)[
            rng.choice(len(labels), size=len(where), p=p / p.sum())
        ]
    borough_names = list(BOROUGHS)
    bw = np.array([BOROUGHS[b][0] for b in borough_names], float)
    borough = rng.choice(len(borough_names), size=people.n, p=bw / bw.sum())
    district = [
        BOROUGHS[borough_names[b]][1][k % len(BOROUGHS[borough_names[b]][1])]
        for b, k in zip(borough.tolist(), rng.integers(0, 6, people.n).tolist(), strict=True)
    ]
    inward = rng.integers(0, 10, people.n)
    l1 = rng.integers(0, len(INWARD_LETTERS), people.n)
    l2 = rng.integers(0, len(INWARD_LETTERS), people.n)
    postcode = [
        f"{d} {i}{INWARD_LETTERS[a]}{INWARD_LETTERS[b]}"
        for d, i, a, b in zip(district, inward.tolist(), l1.tolist(), l2.tolist(), strict=True)
    ]
    custody_person = np.zeros(people.n, bool)
    custody_person[cases.person[cases.kind == eng.CUSTODY]] = True
    first_ref = np.full(people.n, today, np.int64)
    np.minimum.at(first_ref, cases.person, cases.referral_date)
    genders = np.array(["male", "female", "not_stated"], dtype=object)
    person_created = stamps(at_hour(first_ref, 9))

    def person_chunk(s: slice) -> dict[str, list[Any]]:
        ids = np.arange(s.start, s.stop)
        cp = custody_person[s]
        return {
            "id": (ids + 1).tolist(),
            "forename": forename[s].tolist(),
            "surname": surname[s].tolist(),
            "date_of_birth": dates(people.dob[s]),
            "gender": genders[people.gender[s]].tolist(),
            "ethnicity": [names.ethnicities[e] for e in people.ethnicity[s].tolist()],
            "first_language": language[s].tolist(),
            "interpreter_needed": ((language[s] != "English") & (rng.random(len(ids)) < 0.2))
            .astype(int)
            .tolist(),
            "borough": [borough_names[b] for b in borough[s].tolist()],
            "postcode": postcode[s],
            "prison_number": [
                eng.prison_number(i) if c else ""
                for i, c in zip(ids.tolist(), cp.tolist(), strict=True)
            ],
            "crn": [
                eng.crn(i) if c else "" for i, c in zip(ids.tolist(), cp.tolist(), strict=True)
            ],
            "created_at": person_created[s],
            "updated_at": person_created[s],
        }

    writer.insert(Person, _chunked(people.n, person_chunk), people.n)

    key_cache: dict[str, tuple[str, str]] = {}

    def keys(name: str) -> tuple[str, str]:
        hit = key_cache.get(name)
        if hit is None:
            hit = key_cache[name] = (phonetic_key(name), prefix_key(name))
        return hit

    def name_chunk(s: slice) -> dict[str, list[Any]]:
        fk = [keys(n) for n in forename[s].tolist()]
        sk = [keys(n) for n in surname[s].tolist()]
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "person_id": list(range(s.start + 1, s.stop + 1)),
            "forename": forename[s].tolist(),
            "surname": surname[s].tolist(),
            "is_alias": [0] * (s.stop - s.start),
            "forename_sound": [k[0] for k in fk],
            "surname_sound": [k[0] for k in sk],
            "forename_prefix": [k[1] for k in fk],
            "surname_prefix": [k[1] for k in sk],
        }

    writer.insert(NameIndex, _chunked(people.n, name_chunk), people.n)

    writer.current = "mentors_mentorprofile"
    profiles = [
        MentorProfile(
            user=u,
            person_id=int(p) + 1,
            languages=["English"],
            boroughs_known=[borough_names[int(borough[p])]],
            capacity=20,
        )
        for u, p in zip(staff.mentors, m_people.tolist(), strict=True)
    ]
    MentorProfile.objects.bulk_create(profiles, batch_size=1000)
    writer.counts["mentors_mentorprofile"] = len(profiles)

    # -- referrals: accepted (one per case), then declined and pending ones --
    n = cases.n
    worker_user = np.full(n, eng.NONE, np.int64)
    cust = cases.kind == eng.CUSTODY
    has_worker = cases.worker != eng.NONE
    worker_user[cust & has_worker] = staff.mentor_ids[cases.worker[cust & has_worker]]
    worker_user[~cust & has_worker] = staff.facilitator_ids[cases.worker[~cust & has_worker]]
    team_id = np.where(cust, staff.team_ids[np.maximum(cases.team, 0)], staff.prevention_team_id)
    programme_id = np.where(
        cust, staff.programme_ids[np.maximum(cases.team, 0)], staff.prevention_programme_id
    )
    coordinator = np.where(cust, staff.coordinator_ids[np.maximum(cases.team, 0)], eng.NONE)
    decider = np.where(cust, coordinator, staff.pat_id)
    n_declined = round(n * 0.10)
    n_pending = round(n * 0.05)
    extra_person = rng.integers(0, people.n - len(m_people), n_declined + n_pending)
    extra_team = rng.integers(0, len(staff.team_ids), n_declined + n_pending)
    extra_date = np.concatenate(
        [today - eng._u(rng, 30, 3000, n_declined), today - eng._u(rng, 0, 28, n_pending)]
    )
    extra_date = np.maximum(extra_date, people.dob[extra_person] + 10 * 366)
    decline_reasons = ["not_eligible", "out_of_area", "declined_support", "no_capacity",
                       "already_supported", "no_consent"]  # fmt: skip
    prisons = _prison_codes()
    sources_c = ["prison", "probation", "yjs"]
    sources_p = ["school", "childrens_services", "police", "family"]

    # All referrals as whole arrays (a few hundred thousand small values): the cases'
    # accepted referrals first (referral id = case id), then declined, then pending.
    n_extra = n_declined + n_pending
    declined_x = np.arange(n_extra) < n_declined
    r_kind = np.concatenate([cases.kind, np.full(n_extra, eng.CUSTODY)])
    r_status = np.concatenate(
        [np.full(n, "accepted", dtype=object), np.where(declined_x, "declined", "pending")]
    )
    r_person = np.concatenate([cases.person, extra_person])
    r_team = np.concatenate([team_id, staff.team_ids[extra_team]])
    r_prog = np.concatenate([programme_id, staff.programme_ids[extra_team]])
    r_date = np.concatenate([cases.referral_date, extra_date])
    r_decided = np.concatenate(
        [at_hour(cases.opened, 11), np.where(declined_x, at_hour(extra_date + 7, 15), eng.NONE)]
    )
    r_by = np.concatenate(
        [decider, np.where(declined_x, staff.coordinator_ids[extra_team], eng.NONE)]
    )
    r_reason = np.concatenate(
        [
            np.full(n, "", dtype=object),
            np.where(
                declined_x,
                np.array(decline_reasons, dtype=object)[np.arange(n_extra) % len(decline_reasons)],
                "",
            ),
        ]
    )

    def referral_chunk(s: slice) -> dict[str, list[Any]]:
        k = s.stop - s.start
        kind, status, persons, teams = r_kind[s], r_status[s], r_person[s], r_team[s]
        progs, rdate, decided, by, reason = r_prog[s], r_date[s], r_decided[s], r_by[s], r_reason[s]
        cust_k = kind == eng.CUSTODY
        src = np.where(
            cust_k,
            np.array(sources_c, dtype=object)[rng.integers(0, 3, k)],
            np.array(sources_p, dtype=object)[rng.integers(0, 4, k)],
        )
        org = np.where(
            src == "prison", np.array(prisons, dtype=object)[rng.integers(0, len(prisons), k)], ""
        )
        texts = np.where(
            cust_k,
            np.array(REASONS[eng.CUSTODY], dtype=object)[rng.integers(0, 3, k)],
            np.array(REASONS[eng.PREVENTION], dtype=object)[rng.integers(0, 3, k)],
        )
        received_by = np.where(by != eng.NONE, by, staff.coordinator_ids[0])
        created = stamps(at_hour(rdate, 10))
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "person_id": (np.asarray(persons) + 1).tolist(),
            "programme_id": np.asarray(progs).tolist(),
            "team_id": np.asarray(teams).tolist(),
            "source_type": src.tolist(),
            "referring_organisation": org.tolist(),
            "referral_date": dates(rdate),
            "reasons": texts.tolist(),
            "consent_recorded": [1] * k,
            "status": status.tolist(),
            "decline_reason": reason.tolist(),
            "decided_by_id": ints(by),
            "decided_at": stamps(decided),
            "received_by_id": ints(received_by),
            "created_at": created,
            "updated_at": created,
        }

    n_ref = n + n_declined + n_pending
    writer.insert(Referral, _chunked(n_ref, referral_chunk), n_ref)

    # -- cases --
    since = cases.phase_since()
    phase = np.array([eng.STATE_PHASE[s] for s in range(6)], dtype=object)[cases.state]
    closure = np.array(CLOSURE[0], dtype=object)[rng.choice(5, size=n, p=CLOSURE[1])]
    closure = np.where(
        cases.closed_before_release,
        np.array(["returned_to_custody", "moved_away", "disengaged"], dtype=object)[
            rng.integers(0, 3, n)
        ],
        closure,
    )
    is_closed = cases.state == eng.CLOSED
    accommodation = np.array(ACCOMMODATION, dtype=object)[rng.integers(0, 5, n)]
    ete = np.array(ETE, dtype=object)[rng.integers(0, 6, n)]

    def case_chunk(s: slice) -> dict[str, list[Any]]:
        closed = is_closed[s]
        created = stamps(at_hour(cases.opened[s], 11))
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "person_id": (cases.person[s] + 1).tolist(),
            "programme_id": programme_id[s].tolist(),
            "team_id": team_id[s].tolist(),
            "referral_id": list(range(s.start + 1, s.stop + 1)),
            "phase": phase[s].tolist(),
            "phase_since": dates(since[s]),
            "opened_on": dates(cases.opened[s]),
            "mentor_id": ints(worker_user[s]),
            "coordinator_id": ints(coordinator[s]),
            "closed_on": dates(cases.closed[s]),
            "closure_reason": np.where(closed, closure[s], "").tolist(),
            "closure_accommodation": np.where(closed, accommodation[s], "").tolist(),
            "closure_ete": np.where(closed, ete[s], "").tolist(),
            "created_at": created,
            "updated_at": stamps(at_hour(since[s], 12)),
        }

    writer.insert(Case, _chunked(n, case_chunk), n)

    # -- phase changes, in programme order --
    steps: list[tuple[np.ndarray, str, str, np.ndarray]] = [
        (cases.opened, "", "referred", np.ones(n, bool)),
        (cases.second, "referred", "in_custody", cust),
        (cases.second, "referred", "active", ~cust),
        (cases.gate, "in_custody", "through_the_gate", cust),
        (cases.community, "through_the_gate", "community", cust),
    ]
    last_phase = np.full(n, "referred", dtype=object)
    last_phase = np.where(
        cases.second != eng.NONE, np.where(cust, "in_custody", "active"), last_phase
    )
    last_phase = np.where(cases.gate != eng.NONE, "through_the_gate", last_phase)
    last_phase = np.where(cases.community != eng.NONE, "community", last_phase)
    phase_case: list[np.ndarray] = []
    phase_from: list[np.ndarray] = []
    phase_to: list[np.ndarray] = []
    phase_on: list[np.ndarray] = []
    for on, frm, to, mask in steps:
        sel = np.flatnonzero(mask & (on != eng.NONE))
        phase_case.append(sel)
        phase_from.append(np.full(len(sel), frm, dtype=object))
        phase_to.append(np.full(len(sel), to, dtype=object))
        phase_on.append(on[sel])
    sel = np.flatnonzero(is_closed)
    phase_case.append(sel)
    phase_from.append(last_phase[sel])
    phase_to.append(np.full(len(sel), "closed", dtype=object))
    phase_on.append(cases.closed[sel])
    pc_case = np.concatenate(phase_case)
    pc_from = np.concatenate(phase_from)
    pc_to = np.concatenate(phase_to)
    pc_on = np.concatenate(phase_on)
    order = np.lexsort((pc_on, pc_case))
    pc_case, pc_from, pc_to, pc_on = pc_case[order], pc_from[order], pc_to[order], pc_on[order]
    pc_by = np.where(worker_user[pc_case] != eng.NONE, worker_user[pc_case], decider[pc_case])

    def phase_chunk(s: slice) -> dict[str, list[Any]]:
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "case_id": (pc_case[s] + 1).tolist(),
            "from_phase": pc_from[s].tolist(),
            "to_phase": pc_to[s].tolist(),
            "changed_on": dates(pc_on[s]),
            "recorded_at": stamps(at_hour(pc_on[s], 16)),
            "recorded_by_id": ints(pc_by[s]),
        }

    writer.insert(PhaseChange, _chunked(len(pc_case), phase_chunk), len(pc_case))

    # -- mentor assignments, for cases with a mentor --
    assigned = np.flatnonzero(worker_user != eng.NONE)
    start_on = np.where(cases.second[assigned] != eng.NONE, cases.second[assigned],
                        cases.opened[assigned])  # fmt: skip

    def assignment_chunk(s: slice) -> dict[str, list[Any]]:
        idx = assigned[s]
        at = at_hour(start_on[s], 11)
        seen = np.where(cases.opened[idx] < today - 3, at + 86_400, eng.NONE)
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "case_id": (idx + 1).tolist(),
            "mentor_id": worker_user[idx].tolist(),
            "started_on": dates(start_on[s]),
            "ended_on": dates(cases.closed[idx]),
            "how": ["direct"] * len(idx),
            "reasons": ["[]"] * len(idx),
            "assigned_by_id": ints(decider[idx]),
            "assigned_at": stamps(at),
            "seen_by_mentor_at": stamps(seen),
        }

    writer.insert(MentorAssignment, _chunked(len(assigned), assignment_chunk), len(assigned))

    # -- custody episodes: each custody case's index episode, then earlier ones --
    ci = np.flatnonzero(cust)
    dob_c = people.dob[cases.person[ci]]
    est = _establishments(rng, (cases.sentence_date[ci] - dob_c) < 18 * eng.YEAR, prisons)
    est_p = _establishments(rng, (prior.received - people.dob[prior.person]) < 18 * eng.YEAR,
                            prisons)  # fmt: skip
    ep = {
        "person": np.concatenate([cases.person[ci], prior.person]),
        "establishment": np.concatenate([est, est_p]),
        "received": np.concatenate([cases.received[ci], prior.received]),
        "sentence_type": np.concatenate([cases.sentence_type[ci], prior.sentence_type]),
        "sentence_date": np.concatenate([cases.sentence_date[ci], prior.sentence_date]),
        "crd": np.concatenate([cases.crd[ci], prior.crd]),
        "hdced": np.concatenate([cases.hdced[ci], prior.hdced]),
        "ped": np.concatenate([cases.ped[ci], prior.ped]),
        "led": np.concatenate([cases.led[ci], prior.led]),
        "sed": np.concatenate([cases.sed[ci], prior.sed]),
        "expected": np.concatenate([extra["expected"][ci], prior.expected]),
        "basis": np.concatenate([extra["basis"][ci], prior.basis]),
        "notes": np.concatenate([extra["notes"][ci], prior.notes]),
        "released": np.concatenate([extra["released"][ci], prior.expected]),
        "by": np.concatenate([coordinator[ci], np.full(len(prior.person), eng.NONE)]),
    }
    n_ep = len(ep["person"])
    sentence_names = np.array(eng.SENTENCE_CODES, dtype=object)

    def episode_chunk(s: slice) -> dict[str, list[Any]]:
        created = stamps(at_hour(ep["received"][s], 12))
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "person_id": (ep["person"][s] + 1).tolist(),
            "establishment_id": ep["establishment"][s].tolist(),
            "received_on": dates(ep["received"][s]),
            "sentence_type": sentence_names[ep["sentence_type"][s]].tolist(),
            "sentence_date": dates(ep["sentence_date"][s]),
            "crd": dates(ep["crd"][s]),
            "hdced": dates(ep["hdced"][s]),
            "ped": dates(ep["ped"][s]),
            "led": dates(ep["led"][s]),
            "sed": dates(ep["sed"][s]),
            "expected_release_date": dates(ep["expected"][s]),
            "expected_release_basis": ep["basis"][s].tolist(),
            "expected_release_note": ep["notes"][s].tolist(),
            "released_on": dates(ep["released"][s]),
            "recorded_by_id": ints(ep["by"][s]),
            "created_at": created,
            "updated_at": created,
        }

    writer.insert(CustodyEpisode, _chunked(n_ep, episode_chunk), n_ep)

    # -- contacts, case by case --
    counts = eng.contacts_per_case(cases, scale.contacts, today, rng)
    staff_of = np.where(worker_user != eng.NONE, worker_user, decider)
    modes = np.array(eng.MODES, dtype=object)
    attend = np.array(eng.ATTEND, dtype=object)
    reasons = np.array(eng.DNA_REASONS, dtype=object)
    summaries = {m: np.array(v, dtype=object) for m, v in CONTACT_SUMMARIES.items()}
    next_id = [1]

    def contact_chunks() -> Iterator[dict[str, list[Any]]]:
        for ch in eng.contact_chunks(cases, counts, today, rng, chunk_cases=max(1, n // 100)):
            k = len(ch.case)
            mode = modes[ch.mode]
            summary = np.empty(k, dtype=object)
            for m, options in summaries.items():
                where = np.flatnonzero(mode == m)
                summary[where] = options[rng.integers(0, len(options), len(where))]
            who = staff_of[ch.case]
            created = stamps(ch.at + 3600)
            first_id = next_id[0]
            next_id[0] += k
            yield {
                "id": list(range(first_id, first_id + k)),
                "case_id": (ch.case + 1).tolist(),
                "occurred_at": stamps(ch.at),
                "mode": mode.tolist(),
                "attendance": attend[ch.attendance].tolist(),
                "non_attendance_reason": np.where(
                    ch.reason == eng.NONE, "", reasons[np.maximum(ch.reason, 0)]
                ).tolist(),
                "duration_minutes": ints(ch.minutes),
                "staff_id": who.tolist(),
                "summary": summary.tolist(),
                "logged_by_id": who.tolist(),
                "created_at": created,
                "updated_at": created,
            }

    writer.insert(Contact, contact_chunks(), int(counts.sum()))

    # -- reoffending, after each person's index date --
    index_date = eng.person_index_dates(cases, extra["released"], people.n)
    index_date[people.mentor_person] = eng.NONE
    re = eng.plan_reoffending(cases, people, index_date, scale.reoffending, today, rng)
    n_re = len(re.person)
    adult = (re.offence - people.dob[re.person]) >= 18 * eng.YEAR
    groups = np.array(OFFENCE_GROUPS, dtype=object)[rng.integers(0, len(OFFENCE_GROUPS), n_re)]
    source = np.where(adult, "probation", "yjs")

    def reoffence_chunk(s: slice) -> dict[str, list[Any]]:
        created = stamps(at_hour(re.disposal[s] + 3, 10))
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "person_id": (re.person[s] + 1).tolist(),
            "offence_date": dates(re.offence[s]),
            "disposal_date": dates(re.disposal[s]),
            "disposal_type": re.disposal_type[s].tolist(),
            "offence_group": groups[s].tolist(),
            "custodial": re.custodial[s].astype(int).tolist(),
            "source": source[s].tolist(),
            "verified": [1] * (s.stop - s.start),
            "created_at": created,
            "updated_at": created,
        }

    writer.insert(ReoffendingEvent, _chunked(n_re, reoffence_chunk), n_re)

    _workshops(scale, staff, writer, rng, today)


def _prison_codes() -> list[str]:
    wanted = sorted(set(PRISONS_UNDER_18 + PRISONS_18_TO_20 + PRISONS_ADULT))
    have = set(
        Establishment.objects.filter(code__in=wanted, active=True).values_list("code", flat=True)
    )
    codes = [c for c in wanted if c in have]
    if not codes:
        codes = list(Establishment.objects.filter(active=True).values_list("code", flat=True)[:20])
    return codes


def _establishments(rng: np.random.Generator, child: np.ndarray, codes: list[str]) -> np.ndarray:
    young = [c for c in PRISONS_UNDER_18 if c in codes] or codes
    adult = [c for c in PRISONS_ADULT + PRISONS_18_TO_20 if c in codes] or codes
    out = np.array(adult, dtype=object)[rng.integers(0, len(adult), len(child))]
    out[child] = np.array(young, dtype=object)[rng.integers(0, len(young), int(child.sum()))]
    return out


def _workshops(
    scale: eng.Scale, staff: Any, writer: Writer, rng: np.random.Generator, today: int
) -> None:
    writer.current = "prevention_venue"
    school_names = [(b, s) for b, schools in SCHOOLS.items() for s in schools]
    n_venues = max(1, scale.workshops // 20)
    venues = []
    for i in range(n_venues):
        borough, name = school_names[i % len(school_names)]
        if i >= len(school_names):
            name = f"{name} ({i // len(school_names) + 1})"
        venues.append(Venue(name=name, kind="school", urn=f"{400000 + i:06d}",
                            school_type="academy", phase="secondary", borough=borough))  # fmt: skip
    Venue.objects.bulk_create(venues, batch_size=1000)
    writer.counts["prevention_venue"] = len(venues)
    venue_ids = np.array(list(Venue.objects.order_by("id").values_list("id", flat=True)))
    topic_ids = np.array(list(WorkshopTopic.objects.order_by("id").values_list("id", flat=True)))
    if len(topic_ids) == 0:
        topic_ids = np.array(
            [WorkshopTopic.objects.create(name="Exploitation and county lines").pk]
        )
    plan = eng.plan_workshops(scale.workshops, len(venue_ids), len(staff.facilitator_ids),
                              len(topic_ids), today, rng)  # fmt: skip
    w = len(plan.held_on)
    head = plan.headcount
    facilitator = staff.facilitator_ids[plan.facilitator]

    def workshop_chunk(s: slice) -> dict[str, list[Any]]:
        created = stamps(at_hour(plan.held_on[s], 17))
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "held_on": dates(plan.held_on[s]),
            "venue_id": venue_ids[plan.venue[s]].tolist(),
            "duration_minutes": plan.duration[s].tolist(),
            "headcount": head[s].tolist(),
            "academic_year": [eng.academic_year_of(d) for d in plan.held_on[s].tolist()],
            "recorded_by_id": facilitator[s].tolist(),
            "created_at": created,
            "updated_at": created,
        }

    writer.insert(Workshop, _chunked(w, workshop_chunk), w)
    g_rows = [(i + 1, pos, *g) for i, gs in enumerate(plan.groups) for pos, g in enumerate(gs)]

    def group_chunk(s: slice) -> dict[str, list[Any]]:
        rows = g_rows[s]
        return {
            "id": list(range(s.start + 1, s.stop + 1)),
            "workshop_id": [r[0] for r in rows],
            "position": [r[1] for r in rows],
            "year_group": [r[2] for r in rows],
            "girls": [r[3] for r in rows],
            "boys": [r[4] for r in rows],
            "other": [r[5] for r in rows],
        }

    writer.insert(WorkshopGroup, _chunked(len(g_rows), group_chunk), len(g_rows))
    topics_through = Workshop.topics.through
    facil_through = Workshop.facilitators.through
    writer.insert(
        topics_through,
        [{"id": list(range(1, w + 1)), "workshop_id": list(range(1, w + 1)),
          "workshoptopic_id": topic_ids[plan.topic].tolist()}],
        w,
    )  # fmt: skip
    writer.insert(
        facil_through,
        [{"id": list(range(1, w + 1)), "workshop_id": list(range(1, w + 1)),
          "user_id": facilitator.tolist()}],
        w,
    )  # fmt: skip
    _reset_sequences()
    _analyze()


def _analyze() -> None:
    """Fresh planner statistics, so the first pages after a load use the indexes
    (PostgreSQL's autovacuum would get there later; SQLite only ever by ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


GENERATED_MODELS: list[type[models.Model]] = [
    Person, NameIndex, Referral, Case, PhaseChange, MentorAssignment, CustodyEpisode, Contact,
    ReoffendingEvent, Workshop, WorkshopGroup,
    Workshop.topics.through, Workshop.facilitators.through,
]  # fmt: skip


def _reset_sequences() -> None:
    """PostgreSQL: move each identity sequence past the ids we wrote (SQLite does this
    itself), so the app's own inserts do not collide."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), GENERATED_MODELS):
            cursor.execute(sql)


# -- Staff ---------------------------------------------------------------------------


@dataclass
class Staff:
    teams: list[Team]
    programmes: list[Programme]
    mentors: list[User]
    all_users: list[User]
    team_ids: np.ndarray
    programme_ids: np.ndarray
    coordinator_ids: np.ndarray
    mentor_ids: np.ndarray
    facilitator_ids: np.ndarray
    prevention_team_id: int
    prevention_programme_id: int
    pat_id: int


STAFF_FIRST = ["Jamal", "Dwayne", "Lee", "Marcus", "Tony", "Ricky", "Sonia", "Leon", "Aaron",
               "Carl", "Nadia", "Femi", "Stacey", "Wayne", "Kwame", "Dean", "Shanice", "Tunde",
               "Gary", "Precious"]  # fmt: skip
STAFF_LAST = ["Adebayo", "Campbell", "Murphy", "Hussain", "Grant", "Reid", "Okoro", "Walker",
              "Ellis", "Boateng", "Khan", "Doherty", "Francis", "Mensah", "Clarke",
              "Forbes"]  # fmt: skip


def _create_staff(scale: eng.Scale, plan: eng.StaffPlan) -> Staff:
    teams = [Team(name=CUSTODY_TEAM)] + [
        Team(name=f"{CUSTODY_TEAM} {i + 1}") for i in range(1, scale.teams)
    ]
    prevention_team = Team(name=PREVENTION_TEAM)
    Team.objects.bulk_create([*teams, prevention_team])
    teams = list(Team.objects.filter(name__in=[t.name for t in teams]).order_by("id"))
    prevention_team = Team.objects.get(name=PREVENTION_TEAM)
    by_team = {t.name: t for t in [*teams, prevention_team]}
    demo_hash = make_password(DEMO_PASSWORD)
    role_by_label = {str(label): value for value, label in Role.choices}
    users: list[User] = []
    named: dict[str, User] = {}
    for username, first, last, label, team in DEMO_USERS:
        u = User(username=username, first_name=first, last_name=last,
                 role=role_by_label[label], team=by_team[team] if team else None,
                 password=demo_hash)  # fmt: skip
        named[username] = u
        users.append(u)

    def other(username: str, i: int, role: str, team: Team) -> User:
        return User(
            username=username,
            first_name=STAFF_FIRST[i % len(STAFF_FIRST)],
            last_name=STAFF_LAST[(i // len(STAFF_FIRST) + i) % len(STAFF_LAST)],
            role=role,
            team=team,
            password="!" + get_random_string(40),
        )

    mentors = [named["mo"], named["kim"]] + [
        other(f"mentor{i:04d}", i, Role.MENTOR, teams[int(plan.mentor_team[i])])
        for i in range(2, len(plan.mentor_team))
    ]
    coordinators = [named["cara"]] + [
        other(f"coordinator{i:02d}", i + 7, Role.COORDINATOR, teams[i])
        for i in range(1, len(teams))
    ]
    facilitators = [named["pat"]] + [
        other(f"facilitator{i:02d}", i + 3, Role.PREVENTION_FACILITATOR, prevention_team)
        for i in range(1, plan.facilitators)
    ]
    users += mentors[2:] + coordinators[1:] + facilitators[1:]
    User.objects.bulk_create(users, batch_size=1000)
    ids = dict(User.objects.values_list("username", "id"))
    programmes = [
        Programme(
            name=CUSTODY_PROGRAMME if i == 0 else f"{CUSTODY_PROGRAMME} ({t.name})",
            kind=ProgrammeKind.CUSTODY,
            phases=[str(p) for p in DEFAULT_PHASES[ProgrammeKind.CUSTODY]],
            team=t,
            contact_interval_days=14,
        )
        for i, t in enumerate(teams)
    ]
    prevention = Programme(
        name=PREVENTION_PROGRAMME,
        kind=ProgrammeKind.PREVENTION,
        phases=[str(p) for p in DEFAULT_PHASES[ProgrammeKind.PREVENTION]],
        team=prevention_team,
        contact_interval_days=7,
    )
    Programme.objects.bulk_create([*programmes, prevention])
    prog_ids = dict(Programme.objects.values_list("name", "id"))
    # Primary keys back from bulk_create (PostgreSQL returns them; SQLite 3.35+ too),
    # but read them by username to be sure on every backend.
    for u in users:
        u.pk = ids[u.username]
    return Staff(
        teams=teams,
        programmes=programmes,
        mentors=mentors,
        all_users=users,
        team_ids=np.array([t.pk for t in teams]),
        programme_ids=np.array([prog_ids[p.name] for p in programmes]),
        coordinator_ids=np.array([ids[u.username] for u in coordinators]),
        mentor_ids=np.array([ids[u.username] for u in mentors]),
        facilitator_ids=np.array([ids[u.username] for u in facilitators]),
        prevention_team_id=prevention_team.pk,
        prevention_programme_id=prog_ids[PREVENTION_PROGRAMME],
        pat_id=ids["pat"],
    )


def counts() -> dict[str, int]:
    return {m._meta.db_table: m.objects.count() for m in GENERATED_MODELS}


__all__: Sequence[str] = ["generate", "GenerateError", "counts"]
