"""Synthetic data for scale testing (`throughgate generate`). Pure: no Django.

Everything is planned here as numpy arrays of day numbers (days since 1970-01-01) and
indexes; `throughgate.demo.generate` turns the arrays into rows and inserts them in
chunks. The plan is deterministic for a seed, and consistent by construction:

- a case's phases follow its programme's order, each dated no earlier than the last;
- a custody case's index episode is released on the day `engines.release` computes from
  its key dates (the stored expected release date), after its sentence date;
- contacts fall between the day a case opened and the day it closed (or today);
- reoffending events come after the person's index date (their last release, or for
  prevention the day their case opened).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .release import KeyDates, expected_release

EPOCH = dt.date(1970, 1, 1)
DAY_SECONDS = 86_400
YEAR = 365.25

# Phases, in programme order (values as casework.models.Phase).
CUSTODY_PHASES = ("referred", "in_custody", "through_the_gate", "community", "closed")
PREVENTION_PHASES = ("referred", "active", "closed")

CUSTODY, PREVENTION = 0, 1
BIG_CASE_CONTACTS = 500  # "a case with 500 contacts": one of Mo's open cases


@dataclass(frozen=True)
class Scale:
    name: str
    people: int
    cases: int
    contacts: int
    episodes: int
    reoffending: int
    workshops: int
    mentors: int  # custody mentors, Mo and Kim included
    teams: int  # custody teams (the prevention team comes on top)

    def scaled(self, name: str, divisor: int) -> Scale:
        return replace(
            self,
            name=name,
            people=self.people // divisor,
            cases=self.cases // divisor,
            contacts=self.contacts // divisor,
            episodes=self.episodes // divisor,
            reoffending=self.reoffending // divisor,
            workshops=max(1, self.workshops // divisor),
            mentors=max(4, self.mentors // divisor),
            teams=max(1, self.teams // divisor),
        )


REGION = Scale("region", 100_000, 120_000, 5_000_000, 200_000, 60_000, 8_000, 2_000, 40)
SCALES = {
    "region": REGION,
    "charity": replace(REGION.scaled("charity", 20), mentors=40, teams=2),
    # For tests only (not offered by --help): 1/1000 of the region.
    "tiny": REGION.scaled("tiny", 1000),
}


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def to_date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def _u(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    """Whole numbers uniformly in [low, high] (inclusive)."""
    return rng.integers(low, high + 1, n)


# -- Staff ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffPlan:
    """Custody mentors 0..m-1 (0 is Mo, 1 is Kim), spread over custody teams; team 0 is
    Mo's (Cara coordinates it); prevention facilitators 0..f-1 (0 is Pat)."""

    mentor_team: np.ndarray
    mentor_open: np.ndarray  # open cases each mentor carries
    facilitators: int
    facilitator_open: np.ndarray


def plan_staff(scale: Scale, rng: np.random.Generator, mo_open: int = 15) -> StaffPlan:
    m = scale.mentors
    team = np.arange(m) % scale.teams
    team[:2] = 0
    # Open cases per mentor, none above 20: most carry 8-16.
    open_ = np.clip(np.round(rng.normal(12, 3, m)), 4, 20).astype(int)
    open_[0] = mo_open
    open_[1] = min(12, open_[1])
    facilitators = max(2, m // 50)
    f_open = np.clip(np.round(rng.normal(12, 3, facilitators)), 4, 20).astype(int)
    # Never more open cases than a quarter of all cases (tiny scales).
    custody_cases = round(scale.cases * 0.85)
    while open_.sum() > custody_cases // 4 and open_[2:].max(initial=0) > 1:
        open_[2:] = np.maximum(1, open_[2:] - 1)
    prevention_cases = scale.cases - custody_cases
    while f_open.sum() > prevention_cases // 4 and f_open.max() > 1:
        f_open = np.maximum(1, f_open - 1)
    return StaffPlan(team, open_, facilitators, f_open)


# -- Cases ---------------------------------------------------------------------------

# Final state codes of a case.
REFERRED, IN_CUSTODY, GATE, COMMUNITY, ACTIVE, CLOSED = range(6)
STATE_PHASE = {
    REFERRED: "referred",
    IN_CUSTODY: "in_custody",
    GATE: "through_the_gate",
    COMMUNITY: "community",
    ACTIVE: "active",
    CLOSED: "closed",
}
NONE = -1  # "no date" / "no one" in integer arrays

SENTENCE_CODES = ("determinate", "dto", "extended", "indeterminate", "recall", "remand")
DETERMINATE, DTO, EXTENDED, INDETERMINATE, RECALL, REMAND = range(6)


@dataclass
class CasePlan:
    """One row per case; dates are day numbers, NONE where there is none."""

    person: np.ndarray
    kind: np.ndarray  # CUSTODY / PREVENTION
    state: np.ndarray  # final state (REFERRED … CLOSED)
    closed_before_release: np.ndarray  # bool: closed while still inside
    worker: np.ndarray  # custody mentor index, or facilitator index; NONE if unassigned
    team: np.ndarray  # custody team index; NONE for prevention
    referral_date: np.ndarray
    opened: np.ndarray
    second: np.ndarray  # step 2 date: in_custody / active, or NONE
    gate: np.ndarray  # through_the_gate (= release) or NONE
    community: np.ndarray
    closed: np.ndarray
    # The index custody episode (custody cases only).
    received: np.ndarray
    sentence_type: np.ndarray
    sentence_date: np.ndarray
    crd: np.ndarray
    hdced: np.ndarray
    ped: np.ndarray
    led: np.ndarray
    sed: np.ndarray
    big: int  # index of Mo's case with 500 contacts

    @property
    def n(self) -> int:
        return len(self.person)

    def phase_since(self) -> np.ndarray:
        out = self.opened.copy()
        for col in (self.second, self.gate, self.community, self.closed):
            out = np.where(col != NONE, col, out)
        return out

    def end(self, today: int) -> np.ndarray:
        return np.where(self.closed != NONE, self.closed, today)


def _sentences(
    rng: np.random.Generator,
    received: np.ndarray,
    crd: np.ndarray,
    dob: np.ndarray,
    today: int,
    allow_special: np.ndarray,
) -> dict[str, np.ndarray]:
    """Key dates for episodes received on `received` and due out (CRD) on `crd`."""
    n = len(received)
    sd = np.minimum(received + _u(rng, 0, 60, n), np.minimum(crd - 14, today))
    sd = np.maximum(sd, received)
    child = (sd - dob) < 18 * YEAR
    kind = np.where(child & (rng.random(n) < 0.8), DTO, DETERMINATE)
    roll = rng.random(n)
    kind = np.where(~child & (roll < 0.03), EXTENDED, kind)
    kind = np.where(~child & (roll >= 0.03) & (roll < 0.08), RECALL, kind)
    # Recall: the sentence was passed long before this time inside.
    recalled_sd = np.minimum(np.maximum(received - _u(rng, 200, 800, n), dob + 16 * 366), received)
    sd = np.where(kind == RECALL, recalled_sd, sd)
    half = np.maximum(crd - sd, 1)
    sed = sd + 2 * half
    led = np.where(kind == DTO, NONE, sed)
    sed = np.where(kind == RECALL, crd + _u(rng, 100, 700, n), sed)
    led = np.where(kind == RECALL, sed, led)
    ext = _u(rng, 365, 1460, n)
    sed = np.where(kind == EXTENDED, crd + ext, sed)
    led = np.where(kind == EXTENDED, sed, led)
    ped = np.where((kind == EXTENDED) & (half >= 3), sd + (2 * half) // 3, NONE)
    hdc = (kind == DETERMINATE) & (half < 2 * 365) & (half > 60) & (rng.random(n) < 0.3)
    hdced = np.where(hdc, crd - np.minimum(135, half // 2), NONE)
    # A few open cases are on remand or serving an indeterminate sentence: no release date.
    special = allow_special & (rng.random(n) < 0.03)
    remand = special & (rng.random(n) < 0.7)
    indeterminate = special & ~remand
    kind = np.where(remand, REMAND, np.where(indeterminate, INDETERMINATE, kind))
    sd = np.where(remand, NONE, sd)
    crd = np.where(special, NONE, crd)
    led = np.where(special, NONE, led)
    sed = np.where(special, NONE, sed)
    hdced = np.where(special, NONE, hdced)
    ped = np.where(indeterminate, today + _u(rng, 200, 2000, n), ped)
    return {
        "sentence_type": kind,
        "sentence_date": sd,
        "crd": crd,
        "hdced": hdced,
        "ped": ped,
        "led": led,
        "sed": sed,
    }


def release_dates(
    sentence_type: np.ndarray, crd: np.ndarray, dob: np.ndarray, **other: np.ndarray
) -> tuple[np.ndarray, list[str], list[str]]:
    """The expected release date, basis and note of each episode, exactly as
    `engines.release.expected_release` gives them (one call per episode; the engine's
    calendar caches bank holidays, so 200,000 calls take seconds)."""
    n = len(crd)
    out = np.full(n, NONE, dtype=np.int64)
    basis: list[str] = []
    notes: list[str] = []
    cache: dict[tuple[int, int, int, int], tuple[int, str, str]] = {}
    ped = other["ped"]
    for i in range(n):
        c = int(crd[i])
        born = int(dob[i])
        # The answer depends on the type, the CRD, the PED (in a note) and, for anyone
        # under about 18 on the CRD, their exact age (in the note): key on those.
        childish = c != NONE and (c - born) < 18 * YEAR + 3
        key = (int(sentence_type[i]), c, int(ped[i]), born if childish else NONE)
        hit = cache.get(key)
        if hit is None:
            dates = KeyDates(
                crd=to_date(c) if c != NONE else None,
                ped=to_date(key[2]) if key[2] != NONE else None,
            )
            r = expected_release(
                dates, sentence_type=SENTENCE_CODES[key[0]], date_of_birth=to_date(born)
            )
            hit = (day_number(r.date) if r.date else NONE, r.basis, r.explanation[:400])
            cache[key] = hit
        out[i], b, note = hit
        basis.append(b)
        notes.append(note)
    return out, basis, notes


@dataclass
class PeoplePlan:
    n: int
    dob: np.ndarray
    gender: np.ndarray  # 0 male, 1 female, 2 not stated
    ethnicity: np.ndarray  # index into the caller's list
    mentor_person: np.ndarray  # bool: the person record of a mentor


def plan_cases(
    scale: Scale,
    staff: StaffPlan,
    today: int,
    rng: np.random.Generator,
    ethnicity_weights: Sequence[float],
) -> tuple[CasePlan, PeoplePlan, dict[str, np.ndarray]]:
    """Who has which case, in which state, on which dates; the index custody episode of
    each custody case with its expected release (the day they walk out)."""
    n_cases = scale.cases
    n_mentor_people = scale.mentors
    n_people = max(scale.people, n_mentor_people + 2)
    young = n_people - n_mentor_people
    n_second = max(0, n_cases - young)  # people with two cases
    n_cases = young + n_second

    # Kinds: custody for most; persons keep one kind across their cases.
    person_kind = np.where(rng.random(young) < 0.85, CUSTODY, PREVENTION)
    person_kind[0] = CUSTODY
    # Person 0 (Mo's mentee with 500 contacts) has one case: case 0.
    second_people = 1 + rng.choice(young - 1, size=n_second, replace=False)
    second_people.sort()
    person = np.concatenate([np.arange(young), second_people])
    slot = np.concatenate([np.zeros(young, int), np.ones(n_second, int)])
    # A person with two cases: the first is slot 1 (early), the second slot 2 (late).
    has_two = np.zeros(young, bool)
    has_two[second_people] = True
    slot[:young] = np.where(has_two, 1, 0)
    slot[young:] = 2
    kind = person_kind[person]

    # Open cases: only single or second-slot cases (one open case per person).
    state = np.full(n_cases, CLOSED)
    worker = np.full(n_cases, NONE)
    eligible = {k: np.flatnonzero((kind == k) & (slot != 1)) for k in (CUSTODY, PREVENTION)}
    for k in eligible:
        rng.shuffle(eligible[k])
    # Case 0 is Mo's big case: make sure it is the first eligible custody case.
    cust = eligible[CUSTODY]
    cust = np.concatenate([[0], cust[cust != 0]])
    c_open = np.repeat(np.arange(len(staff.mentor_open)), staff.mentor_open)
    n_open_c = min(len(c_open), len(cust))
    c_take = cust[:n_open_c]
    worker[c_take] = c_open[:n_open_c]
    # Open custody states, by mentor: Mo has a realistic mix.
    p_states = [0.05, 0.3, 0.1, 0.55]  # referred, in custody, gate, community
    states = rng.choice([REFERRED, IN_CUSTODY, GATE, COMMUNITY], size=n_open_c, p=p_states)
    state[c_take] = states
    big = int(c_take[0])
    state[big] = COMMUNITY
    # A few unassigned open custody referrals wait for a match.
    unassigned = cust[n_open_c : n_open_c + max(1, n_open_c // 50)]
    state[unassigned] = REFERRED
    prev = eligible[PREVENTION]
    p_open = np.repeat(np.arange(staff.facilitators), staff.facilitator_open)
    n_open_p = min(len(p_open), len(prev))
    p_take = prev[:n_open_p]
    worker[p_take] = p_open[:n_open_p]
    state[p_take] = rng.choice([REFERRED, ACTIVE], size=n_open_p, p=[0.1, 0.9])

    # Closed cases: a mentor of the (random) team, or a facilitator.
    closed = state == CLOSED
    m = len(staff.mentor_team)
    worker = np.where(closed & (kind == CUSTODY), rng.integers(0, m, n_cases), worker)
    worker = np.where(
        closed & (kind == PREVENTION), rng.integers(0, staff.facilitators, n_cases), worker
    )
    team = np.where(
        kind == CUSTODY,
        np.where(
            worker != NONE,
            staff.mentor_team[np.maximum(worker, 0)],
            rng.integers(0, scale.teams, n_cases),
        ),
        NONE,
    )

    # -- dates --
    o = np.zeros(n_cases, np.int64)
    second = np.full(n_cases, NONE, np.int64)
    gate = np.full(n_cases, NONE, np.int64)
    comm = np.full(n_cases, NONE, np.int64)
    clos = np.full(n_cases, NONE, np.int64)
    crd = np.full(n_cases, NONE, np.int64)
    n = n_cases

    # Where a closed case opened: single cases over ten years, first cases early, second
    # cases late (after the first closed: a closed case lasts at most ~760 days).
    window_lo = np.where(slot == 1, today - 3650, np.where(slot == 2, today - 1400, today - 3650))
    window_hi = np.where(slot == 1, today - 2450, today - 760)
    closed_open = window_lo + (rng.random(n) * (window_hi - window_lo)).astype(np.int64)
    cust_ = kind == CUSTODY

    # Closed custody: opened, in custody, CRD, released, community, closed.
    sel = closed & cust_
    o[sel] = closed_open[sel]
    crd[sel] = o[sel] + _u(rng, 21, 300, n)[sel]
    # Open custody states.
    sel = (state == REFERRED) & cust_
    o[sel] = today - _u(rng, 0, 20, n)[sel]
    crd[sel] = today + _u(rng, 30, 400, n)[sel]
    sel = state == IN_CUSTODY
    o[sel] = today - _u(rng, 15, 300, n)[sel]
    crd[sel] = today + _u(rng, 7, 365, n)[sel]
    sel = state == GATE
    crd[sel] = today - _u(rng, 1, 42, n)[sel]
    sel = state == COMMUNITY
    crd[sel] = today - _u(rng, 43, 700, n)[sel]
    crd[big] = today - 600

    # Prevention.
    sel = closed & ~cust_
    o[sel] = closed_open[sel]
    second[sel] = o[sel] + _u(rng, 0, 14, n)[sel]
    clos[sel] = second[sel] + _u(rng, 30, 400, n)[sel]
    sel = (state == REFERRED) & ~cust_
    o[sel] = today - _u(rng, 0, 20, n)[sel]
    sel = state == ACTIVE
    o[sel] = today - _u(rng, 14, 365, n)[sel]
    second[sel] = np.minimum(o[sel] + _u(rng, 0, 14, n)[sel], today)

    # Received into custody: before (or around) the referral, at least three weeks
    # before the CRD.
    received = np.full(n, NONE, np.int64)
    provisional_o = np.where(
        cust_ & np.isin(state, (GATE, COMMUNITY)), crd - _u(rng, 21, 300, n), o
    )
    provisional_o[big] = crd[big] - 200
    received[cust_] = np.minimum(provisional_o - _u(rng, 0, 240, n), crd - 21)[cust_]
    received = np.where(cust_, np.minimum(received, today), NONE)

    # People: ages and dates of birth from their first case.
    first_case = np.full(young, -1)
    first_case[person[::-1]] = np.arange(n)[::-1]  # lowest case index per person
    first_anchor = np.where(cust_[first_case], received[first_case], o[first_case])
    age_years = np.where(
        person_kind == CUSTODY,
        np.clip(np.round(rng.gamma(5.0, 1.3, young) + 14.5), 15, 35),
        rng.integers(10, 18, young),
    )
    dob_young = first_anchor - (age_years * YEAR).astype(np.int64) - _u(rng, 0, 360, young)
    dob = dob_young[person]

    sent = _sentences(
        rng,
        np.where(cust_, received, today),
        np.where(cust_, crd, today + 30),
        dob,
        today,
        cust_ & np.isin(state, (REFERRED, IN_CUSTODY)),
    )
    for key in sent:
        sent[key] = np.where(cust_, sent[key], NONE)
    sent_crd = sent.pop("crd")
    release, basis, notes = release_dates(sent["sentence_type"], sent_crd, dob, ped=sent["ped"])
    released_state = cust_ & np.isin(state, (GATE, COMMUNITY, CLOSED))
    # Released cases: opened before release; phases in order.
    sel = cust_ & np.isin(state, (GATE, COMMUNITY))
    o[sel] = np.minimum(provisional_o[sel], release[sel] - 2)
    sel = cust_ & (state != REFERRED)
    room = np.where(release != NONE, release - o - 1, 14)
    second[sel] = (o + np.minimum(_u(rng, 0, 14, n), np.maximum(room, 0)))[sel]
    second = np.where(cust_ & (state == IN_CUSTODY), np.minimum(second, today), second)
    gate = np.where(released_state, release, NONE)
    comm_at = release + _u(rng, 7, 42, n)
    closed_before = closed & cust_ & (rng.random(n) < 0.1) & (release - second >= 3)
    gate = np.where(closed_before, NONE, gate)
    comm = np.where(cust_ & np.isin(state, (COMMUNITY, CLOSED)) & ~closed_before, comm_at, NONE)
    comm = np.where(state == COMMUNITY, np.minimum(comm, today), comm)
    comm[big] = release[big] + 10
    clos = np.where(
        closed & cust_,
        np.where(closed_before, second + (release - second) // 2, comm + _u(rng, 30, 365, n)),
        clos,
    )
    clos = np.where(closed, np.minimum(clos, today - 1), NONE)
    referral_date = o - _u(rng, 0, 21, n)
    referral_date = np.maximum(referral_date, dob + 10 * 366)

    plan = CasePlan(
        person=person,
        kind=kind,
        state=state,
        closed_before_release=closed_before,
        worker=worker,
        team=team,
        referral_date=referral_date,
        opened=o,
        second=second,
        gate=gate,
        community=comm,
        closed=clos,
        received=received,
        sentence_type=sent["sentence_type"],
        sentence_date=sent["sentence_date"],
        crd=sent_crd,
        hdced=sent["hdced"],
        ped=sent["ped"],
        led=sent["led"],
        sed=sent["sed"],
        big=big,
    )
    # People: the young people, then the mentors' own person records.
    eth_p = np.asarray(ethnicity_weights, float)
    all_dob = np.concatenate(
        [dob_young, today - (rng.integers(24, 55, n_mentor_people) * YEAR).astype(np.int64)]
    )
    gender = rng.choice([0, 1, 2], size=n_people, p=[0.88, 0.11, 0.01])
    people = PeoplePlan(
        n=n_people,
        dob=all_dob,
        gender=gender,
        ethnicity=rng.choice(len(eth_p), size=n_people, p=eth_p / eth_p.sum()),
        mentor_person=np.arange(n_people) >= young,
    )
    episode_extra = {
        "expected": release,
        "released": np.where(released_state, release, NONE),
        "basis": np.array(basis, dtype=object),
        "notes": np.array(notes, dtype=object),
    }
    return plan, people, episode_extra


@dataclass
class PriorEpisodes:
    person: np.ndarray
    received: np.ndarray
    sentence_type: np.ndarray
    sentence_date: np.ndarray
    crd: np.ndarray
    hdced: np.ndarray
    ped: np.ndarray
    led: np.ndarray
    sed: np.ndarray
    expected: np.ndarray
    basis: np.ndarray
    notes: np.ndarray


def plan_prior_episodes(
    cases: CasePlan, people: PeoplePlan, wanted: int, today: int, rng: np.random.Generator
) -> PriorEpisodes:
    """Earlier times in custody, all released before the person's first case: rounds of
    one more episode before the earliest so far, while the person was at least 15."""
    cust = cases.kind == CUSTODY
    earliest: dict[int, int] = {}
    for p, r in zip(cases.person[cust].tolist(), cases.received[cust].tolist(), strict=True):
        if p not in earliest or r < earliest[p]:
            earliest[p] = r
    persons = np.array(sorted(earliest), dtype=np.int64)
    anchor = np.array([earliest[p] for p in persons.tolist()], dtype=np.int64)
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("person", "received", "crd")}
    left = wanted
    for _ in range(6):
        if left <= 0 or len(persons) == 0:
            break
        dob = people.dob[persons]
        gap_crd = _u(rng, 30, 400, len(persons))
        stay = _u(rng, 30, 400, len(persons))
        crd = anchor - gap_crd
        received = crd - stay
        ok = received >= dob + int(15 * YEAR)
        idx = np.flatnonzero(ok)
        if len(idx) > left:
            idx = np.sort(rng.choice(idx, size=left, replace=False))
        rows["person"].append(persons[idx])
        rows["received"].append(received[idx])
        rows["crd"].append(crd[idx])
        left -= len(idx)
        anchor = np.where(ok, received - 1, anchor)
        keep = ok
        persons, anchor = persons[keep], anchor[keep]
    person = np.concatenate(rows["person"]) if rows["person"] else np.zeros(0, np.int64)
    received = np.concatenate(rows["received"]) if rows["received"] else np.zeros(0, np.int64)
    crd = np.concatenate(rows["crd"]) if rows["crd"] else np.zeros(0, np.int64)
    order = np.lexsort((received, person))
    person, received, crd = person[order], received[order], crd[order]
    dob = people.dob[person]
    sent = _sentences(rng, received, crd, dob, today, np.zeros(len(person), bool))
    crd = sent.pop("crd")
    expected, basis, notes = release_dates(sent["sentence_type"], crd, dob, ped=sent["ped"])
    return PriorEpisodes(
        person=person,
        received=received,
        crd=crd,
        expected=expected,
        basis=np.array(basis, dtype=object),
        notes=np.array(notes, dtype=object),
        **sent,
    )


# -- Contacts ------------------------------------------------------------------------

MODES = ("prison_visit", "phone", "video", "community", "home_visit", "gate", "family", "group")
ATTEND = ("attended", "late", "did_not_attend")
DNA_REASONS = ("no_show", "ill", "cancelled_by_them", "cancelled_by_us", "prison_regime", "other")


def contacts_per_case(
    cases: CasePlan, total: int, today: int, rng: np.random.Generator
) -> np.ndarray:
    """How many contacts each case has: proportional to how long it was open, with the
    big case fixed at 500."""
    length = (cases.end(today) - cases.opened + 1).astype(float)
    weight = length * rng.gamma(2.0, 0.5, cases.n)
    weight[cases.big] = 0
    rest = max(0, total - BIG_CASE_CONTACTS)
    counts = rng.multinomial(rest, weight / weight.sum())
    counts[cases.big] = min(BIG_CASE_CONTACTS, total)
    return counts


@dataclass
class ContactChunk:
    case: np.ndarray
    at: np.ndarray  # seconds since the epoch (UTC)
    mode: np.ndarray
    attendance: np.ndarray
    reason: np.ndarray  # index into DNA_REASONS or NONE
    minutes: np.ndarray  # NONE when they did not attend


def contact_chunks(
    cases: CasePlan,
    counts: np.ndarray,
    today: int,
    rng: np.random.Generator,
    chunk_cases: int = 5000,
) -> Iterator[ContactChunk]:
    """Contacts case by case in chunks (constant memory), each dated inside its case's
    open period and ordered in time within the case."""
    end = cases.end(today)
    for start in range(0, cases.n, chunk_cases):
        stop = min(cases.n, start + chunk_cases)
        c = counts[start:stop]
        case = np.repeat(np.arange(start, stop), c)
        k = len(case)
        if k == 0:
            continue
        lo = cases.opened[case]
        span = end[case] - lo + 1
        day = lo + (rng.random(k) * span).astype(np.int64)
        # 09:00 to 18:45 London time, written as UTC (an hour out in summer is harmless
        # for scale tests, and never moves a contact off its day: 08:00-17:45 UTC).
        minute = rng.integers(9 * 4, 19 * 4, k) * 15 - 60
        at = day * DAY_SECONDS + minute * 60
        order = np.lexsort((at, case))
        case, at, day = case[order], at[order], day[order]
        released = cases.gate[case]
        inside = (cases.kind[case] == CUSTODY) & ((released == NONE) | (day < released))
        mode = np.where(
            inside,
            rng.choice([0, 1, 2], size=k, p=[0.7, 0.2, 0.1]),
            rng.choice([1, 3, 4, 6, 7], size=k, p=[0.35, 0.4, 0.12, 0.08, 0.05]),
        )
        mode = np.where((released != NONE) & (day == released), 5, mode)
        attendance = rng.choice([0, 1, 2], size=k, p=[0.86, 0.06, 0.08])
        reason = np.where(
            attendance == 2,
            np.where(inside, rng.choice([4, 0, 3], size=k), rng.choice([0, 1, 2, 3, 5], size=k)),
            NONE,
        )
        minutes = np.where(attendance == 2, NONE, rng.choice([15, 30, 45, 60, 60, 90, 120], size=k))
        yield ContactChunk(case, at, mode, attendance, reason, minutes)


# -- Reoffending ---------------------------------------------------------------------


@dataclass
class Reoffences:
    person: np.ndarray
    offence: np.ndarray
    disposal: np.ndarray
    disposal_type: np.ndarray  # strings
    custodial: np.ndarray


def plan_reoffending(
    cases: CasePlan,
    people: PeoplePlan,
    index_date: np.ndarray,
    wanted: int,
    today: int,
    rng: np.random.Generator,
) -> Reoffences:
    """`wanted` events on people with an index date at least two months ago, each
    offence after the index date and each disposal after the offence, none in the
    future. `index_date` is per person (NONE if none)."""
    eligible = np.flatnonzero((index_date != NONE) & (index_date < today - 60))
    if wanted <= 0 or len(eligible) == 0:
        z = np.zeros(0, np.int64)
        return Reoffences(z, z, z, np.zeros(0, object), np.zeros(0, bool))
    per = rng.choice([1, 2, 3], size=len(eligible), p=[0.55, 0.3, 0.15])
    # Enough reoffenders for `wanted` events.
    order = rng.permutation(len(eligible))
    cum = np.cumsum(per[order])
    take = order[: int(np.searchsorted(cum, wanted) + 1)]
    person = np.repeat(eligible[take], per[take])[:wanted]
    idx = index_date[person]
    room = np.maximum(today - 30 - idx, 1)
    offence = idx + 1 + (rng.random(len(person)) ** 1.6 * np.minimum(room, 730)).astype(np.int64)
    offence = np.minimum(offence, today - 1)
    disposal = np.minimum(offence + _u(rng, 14, 200, len(person)), today)
    adult = (offence - people.dob[person]) >= 18 * YEAR
    types = np.where(
        adult,
        rng.choice(["conviction", "caution", "breach"], size=len(person), p=[0.8, 0.1, 0.1]),
        rng.choice(
            ["conviction", "youth_caution", "conditional_caution"],
            size=len(person),
            p=[0.55, 0.3, 0.15],
        ),
    ).astype(object)
    custodial = (types == "conviction") & (rng.random(len(person)) < 0.3)
    return Reoffences(person, offence, disposal, types, custodial)


# -- Workshops -----------------------------------------------------------------------

YEAR_GROUPS = ("Y7", "Y8", "Y9", "Y10", "Y11", "Y12", "Y13")


def academic_year_of(day: int) -> int:
    d = to_date(day)
    return d.year if d.month >= 9 else d.year - 1


@dataclass
class WorkshopPlan:
    held_on: np.ndarray
    venue: np.ndarray
    duration: np.ndarray
    facilitator: np.ndarray
    topic: np.ndarray
    groups: list[list[tuple[str, int, int, int]]]  # per workshop: (year, girls, boys, other)

    @property
    def headcount(self) -> np.ndarray:
        return np.array([sum(g[1] + g[2] + g[3] for g in gs) for gs in self.groups], np.int64)


def plan_workshops(
    n: int, venues: int, facilitators: int, topics: int, today: int, rng: np.random.Generator
) -> WorkshopPlan:
    """`n` workshops on school days (Monday-Friday) over the last three years."""
    day = today - _u(rng, 1, 3 * 365, n)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday (3)
    day = np.where(weekday >= 5, day - (weekday - 4), day)
    groups: list[list[tuple[str, int, int, int]]] = []
    sizes = rng.integers(1, 4, n)
    for k in sizes.tolist():
        years = rng.choice(len(YEAR_GROUPS), size=k, replace=False)
        rows = []
        for y in sorted(years.tolist()):
            size = int(rng.integers(12, 120))
            girls = int(rng.binomial(size, 0.49))
            other = int(rng.binomial(size - girls, 0.02))
            rows.append((YEAR_GROUPS[y], girls, size - girls - other, other))
        groups.append(rows)
    return WorkshopPlan(
        held_on=day,
        venue=rng.integers(0, venues, n),
        duration=rng.choice([50, 60, 60, 90, 120], size=n),
        facilitator=rng.integers(0, facilitators, n),
        topic=rng.integers(0, topics, n),
        groups=groups,
    )


# -- Identifiers ---------------------------------------------------------------------

_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def prison_number(i: int) -> str:
    """A unique, well-formed prison number (A1234BC) for each whole number < 12 million."""
    a, rest = divmod(i, 10_000 * 23 * 23)
    digits, rest = divmod(rest, 23 * 23)
    b, c = divmod(rest, 23)
    return f"{_LETTERS[a % 23]}{digits:04d}{_LETTERS[b]}{_LETTERS[c]}"


def crn(i: int) -> str:
    """A unique, well-formed probation CRN (X123456)."""
    a, digits = divmod(i, 1_000_000)
    return f"{_LETTERS[a % 23]}{digits:06d}"


def person_index_dates(cases: CasePlan, released: np.ndarray, n_people: int) -> np.ndarray:
    """Each person's index date for reoffending: the release that ended the custody of
    their latest case, or the day their latest prevention case opened; NONE if their
    latest case has no release yet."""
    out = np.full(n_people, NONE, np.int64)
    # Cases are in person order of slots: a later case index is a later case.
    latest = np.full(n_people, -1)
    latest[cases.person] = np.arange(cases.n)  # the last write (highest index) wins
    has = latest >= 0
    idx = latest[has]
    out[has] = np.where(cases.kind[idx] == CUSTODY, released[idx], cases.opened[idx])
    return out


def write_comparison_pool(n: int, output: str, seed: int = 2006) -> int:
    """`n` invented comparison offenders with the evaluation's covariates (see
    `engines.synthetic_pool`), written as Parquet; returns the rows written."""
    from .synthetic_pool import synthetic_pool

    frame = synthetic_pool(n, seed=seed)
    frame.to_parquet(output, index=False)
    return len(frame)
