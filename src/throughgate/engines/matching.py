"""Mentor matching: which peer mentor for which young person.

Pure computation, no Django: dataclasses in, dataclasses out. Two questions are
answered here:

- `suggest`: for one young person, the best few mentors with plain-English reasons,
  and every mentor who is ruled out with the reason why;
- `assign_batch`: for a whole batch, an assignment that places as many young people
  as the hard constraints allow and, among those, has the least total cost. It is
  exact (a min-cost flow), not greedy, and it proves its own optimality.

Hard constraints are never traded for anything: a mentor who is not ready, full,
in a recorded conflict, under a licence condition that covers the young person, not
cleared for the young person's prison, or of the wrong gender is excluded, and each
exclusion carries a stable `code` and a `reason` a coordinator can read out.

Costs (non-negative integers, lower is better, weights in `Weights`) express
preference among feasible mentors: shared lived experience, having been in the same
prison, knowing the home borough, speaking the young person's language, a modest age
gap, continuity with a current mentor, and an even spread of work. The workload cost
of a mentor's j-th new mentee is `(workload * (caseload + j)) // capacity`, which never
decreases with j, so the flow fills places evenly instead of loading the cheapest
mentor first.

**How the batch optimum is found.** The batch is a circulation: source → young person
(capacity 1), young person → mentor (capacity 1, edge cost), mentor → sink (one arc per
free place, at that place's workload cost), and a return arc sink → source whose cost
is −BIG, with BIG larger than the cost of any augmenting path, so that its optimum
places as many young people as possible first and minimises the cost second. OR-Tools
solves exactly that problem in its max-flow-then-min-cost mode (`SimpleMinCostFlow.
solve_max_flow_with_min_cost`, about twice as fast as solving the circulation), and the
return arc is kept in the residual graph used for the certificate below. Batches of up
to 250,000 pairs are solved on every feasible arc at once.

At 2,000 mentors × 20,000 young people the feasible graph has millions of arcs, too big
to hand to the solver whole. So the costs are computed in chunks of young people with
numpy, only the K cheapest feasible mentors per young person (and the cheapest young
people per mentor) become arcs, and the result is then *proved* optimal for the full
graph by LP duality: node potentials are the shortest-path distances in the residual
graph of the solved candidate graph (a vectorised Bellman–Ford from a virtual root
joined to every node at cost 0), and every feasible arc that was left out is priced.
An omitted arc with negative reduced cost `c + p(young person) − p(mentor)` could
improve the answer, so it is added and the graph re-solved; when no omitted arc has
negative reduced cost, the potentials are a certificate that the candidate solution is
optimal for the full graph. All costs are integers, so "equal cost" means equal to the
unit.

**Conflicts between two young people in one batch** (co-defendants, rival groups)
cannot be written as flow capacities. They are repaired afterwards: solve, find any
mentor given both young people of a conflicting pair, forbid that mentor for the one
whose pairing costs more (the later one on a tie), and solve again. The final answer
is then optimal for the graph without the forbidden pairings, which may be slightly
worse than the best conflict-free answer in rare cases; it never breaks the conflict.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

__all__ = [
    "Assignment",
    "BatchResult",
    "ConflictIndex",
    "CostMatrix",
    "Excluded",
    "Exclusion",
    "Mentor",
    "Suggestion",
    "SuggestionResult",
    "Unassigned",
    "Weights",
    "YoungPerson",
    "assign_batch",
    "cost_matrix",
    "exclusions",
    "explain",
    "outward_code",
    "pair_cost",
    "slot_costs",
    "suggest",
]

EXCLUSION_CODES = ("not_ready", "full", "conflict", "licence", "avoid", "clearance", "gender")

# K: how many of each young person's cheapest feasible mentors start as arcs. Pricing
# adds any other arc that could improve the answer, so K only affects speed.
DEFAULT_CANDIDATES = 8
# And each mentor's cheapest young people: when places are scarce the optimum hands them
# to the young people who fit best, which row candidates alone miss (bench/matching.py
# needs one pricing round fewer with these).
DEFAULT_MENTOR_CANDIDATES = 96
# Young people per cost chunk are chosen so that one chunk holds about this many pairs:
# a few tens of megabytes of temporaries whatever the batch size.
CHUNK_PAIRS = 1 << 21
# Pricing also brings in omitted arcs that are within this many cost units of being
# worth adding (see _price): at 2,000 × 20,000 it saves one or two full solves.
PRICING_SLACK = 5
# Below this many mentor–young person pairs every feasible pairing is an arc: the solve
# is instant and no pricing (with its Bellman–Ford pass) is needed.
WHOLE_GRAPH_PAIRS = 250_000
_INFEASIBLE = np.int64(1) << 40
_PRISON_PREFIX = re.compile(
    r"^(?:(?:hmp|yoi|hmyoi|hmp/yoi|hmp & yoi|hmp and yoi|stc|sch)\s+)+", re.IGNORECASE
)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Mentor:
    id: Hashable  # shares one namespace with YoungPerson.id (both are Person ids in the app)
    capacity: int  # max active mentees
    caseload: int = 0  # active mentees now; places free = capacity - caseload
    name: str = ""  # for explanations and display only
    gender: str = ""
    age: int | None = None
    languages: frozenset[str] = frozenset({"English"})
    boroughs_known: frozenset[str] = frozenset()
    exclusion_boroughs: frozenset[str] = frozenset()  # licence-condition exclusion zones
    exclusion_postcodes: frozenset[str] = frozenset()  # postcode districts like "SE15"
    avoid_boroughs: frozenset[str] = frozenset()  # for their own safety, not a licence condition
    non_associates: frozenset[Hashable] = frozenset()  # ids named in non-association conditions
    lived_experience: frozenset[str] = frozenset()  # category labels, e.g. "Gang involvement"
    custody_history: frozenset[str] = frozenset()  # establishments the mentor was held in
    cleared_establishments: frozenset[str] = frozenset()  # current, unexpired clearances
    clearance_notes: Mapping[str, str] = field(default_factory=dict)  # establishment -> note
    current_mentees: frozenset[Hashable] = frozenset()  # conflicts with their caseload count
    ready: bool = True
    not_ready_reasons: tuple[str, ...] = ()  # e.g. ("DBS renewal overdue since 01/10/2026",)

    @property
    def places_free(self) -> int:
        return self.capacity - self.caseload

    @property
    def _norm(self) -> _MentorKeys:
        # Kept on the instance (frozen dataclasses still have a __dict__), so each mentor
        # is normalised at most once per object.
        keys = self.__dict__.get("_keys")
        if keys is None:
            keys = self.__dict__["_keys"] = _MentorKeys(self)
        return keys


@dataclass(frozen=True)
class YoungPerson:
    id: Hashable
    name: str = ""
    gender: str = ""
    mentor_gender_required: str = ""  # "" = any
    age: int | None = None
    borough: str = ""  # home borough: where the mentor works with them after release
    postcode: str = ""  # full or district; compared by outward code
    language: str = "English"
    establishment: str = ""  # "" = in the community; else where they are held now
    lived_experience: frozenset[str] = frozenset()
    current_mentor: Hashable | None = None  # previous/current mentor id: continuity
    associates: frozenset[Hashable] = frozenset()  # co-defendants, family etc. (ids)


@dataclass(frozen=True)
class Weights:
    """Costs of each shortfall. Every value is a non-negative whole number."""

    lived_experience_miss: int = 10  # per young person's category the mentor doesn't share
    establishment_unknown: int = 8  # young person held where the mentor never was
    borough_unknown: int = 15  # mentor doesn't know the home borough
    language_miss: int = 20  # mentor doesn't speak the young person's language
    age_gap_per_year: int = 1  # per year of age gap beyond the allowance …
    age_gap_allowance: int = 12
    age_gap_cap: int = 15  # … and never more than this in total
    continuity_break: int = 30  # young person would change mentor
    workload: int = 20  # j-th new mentee costs (workload * (caseload + j)) // capacity

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"weight {name} must be a non-negative whole number: {value!r}")


class ConflictIndex:
    """Recorded conflicts between two people, either order, with O(1) look-up.

    Built once per request or batch and shared: at 2% of all mentor–young person pairs
    a large batch has hundreds of thousands of them.
    """

    __slots__ = ("_adjacent", "_count")

    def __init__(self, pairs: Iterable[tuple[Hashable, Hashable]] = ()) -> None:
        adjacent: dict[Hashable, set[Hashable]] = {}
        count = 0
        for a, b in pairs:
            if a == b:
                raise ValueError(f"a conflict needs two different people: {a}")
            peers = adjacent.setdefault(a, set())
            if b in peers:
                continue
            peers.add(b)
            adjacent.setdefault(b, set()).add(a)
            count += 1
        self._adjacent = adjacent
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __contains__(self, pair: object) -> bool:
        try:
            a, b = pair  # type: ignore[misc]
        except (TypeError, ValueError):
            return False
        return b in self._adjacent.get(a, ())

    def in_conflict(self, a: Hashable, b: Hashable) -> bool:
        return b in self._adjacent.get(a, ())

    def conflicting_with(self, person_id: Hashable) -> frozenset[Hashable]:
        return frozenset(self._adjacent.get(person_id, ()))

    def _peers(self, person_id: Hashable) -> AbstractSet[Hashable]:
        return self._adjacent.get(person_id, _NOBODY)


# -------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Exclusion:
    code: str  # one of EXCLUSION_CODES
    reason: str


@dataclass(frozen=True)
class Suggestion:
    mentor_id: Hashable
    mentor_name: str
    cost: int
    reasons: list[str]
    places_free: int
    capacity: int


@dataclass(frozen=True)
class Excluded:
    mentor_id: Hashable
    mentor_name: str
    exclusions: list[Exclusion]


@dataclass(frozen=True)
class SuggestionResult:
    suggestions: list[Suggestion]
    excluded: list[Excluded]


@dataclass(frozen=True)
class Assignment:
    person_id: Hashable
    mentor_id: Hashable
    cost: int  # edge cost + the workload cost of the place actually used
    reasons: list[str]


@dataclass(frozen=True)
class Unassigned:
    person_id: Hashable
    reasons: list[str]


@dataclass(frozen=True)
class BatchResult:
    assignments: list[Assignment]
    unassigned: list[Unassigned]
    total_cost: int
    # How the answer was reached, for benchmarks and the curious.
    solves: int = 0  # min-cost flow solves (pricing rounds + conflict repairs)
    arcs: int = 0  # young person → mentor arcs in the final graph
    priced_in: int = 0  # arcs the optimality check had to add
    repairs: int = 0  # pairings forbidden because two young people in conflict shared a mentor


@dataclass(frozen=True)
class CostMatrix:
    """Dense feasibility and costs for a (small) batch: rows young people, columns mentors."""

    feasible: np.ndarray  # bool (Y, M)
    edge_cost: np.ndarray  # int64 (Y, M); meaningful where feasible
    slot_costs: list[np.ndarray]  # per mentor, the workload cost of each free place


# -------------------------------------------------------------------- normalising


_BLANK = frozenset({""})
_NOBODY: frozenset[Hashable] = frozenset()


def _n(text: str | None) -> str:
    return (text or "").strip().casefold()


# Normalised sets by their raw value. Mentors' sets repeat (the same few prisons,
# boroughs and languages), so across requests nearly every look-up is a hit, done in C.
# Bounded: cleared when it grows past _NSET_CACHE_SIZE entries.
_NSET_CACHE: dict[frozenset[str], frozenset[str]] = {}
_NSET_CACHE_SIZE = 50_000


def _nset(items: Iterable[str]) -> frozenset[str]:
    cacheable = isinstance(items, frozenset)
    if cacheable:
        hit = _NSET_CACHE.get(items)  # type: ignore[arg-type]
        if hit is not None:
            return hit
    normalised = frozenset(map(str.casefold, map(str.strip, items)))
    if "" in normalised:
        normalised = normalised - _BLANK
    if cacheable:
        if len(_NSET_CACHE) >= _NSET_CACHE_SIZE:
            _NSET_CACHE.clear()
        _NSET_CACHE[items] = normalised  # type: ignore[index]
    return normalised


def outward_code(postcode: str) -> str:
    """The district part of a postcode, upper case: "SE15 4AB", "se154ab", "SE15" → "SE15"."""
    text = (postcode or "").strip().upper()
    if " " in text:
        return text.split()[0]
    # An un-spaced full postcode ends in the three-character inward code (digit, letter,
    # letter); a bare district such as "SE15" or "N1" does not, and is kept whole.
    if len(text) >= 5 and text[-3].isdigit() and text[-2:].isalpha():
        return text[:-3]
    return text


class _MentorKeys:
    """A mentor's strings normalised for comparison (casefolded, stripped), on demand.

    Each field is worked out the first time it is read and then stored as a plain
    attribute (``__getattr__`` only runs for missing ones): suggest() rules most mentors
    out on a hard constraint and never needs their preference fields. Not
    functools.cached_property, whose lock costs more than the work at 2,000 mentors.
    """

    def __init__(self, mentor: Mentor) -> None:
        self._m = mentor

    def __getattr__(self, name: str) -> Any:
        try:
            make = _MENTOR_KEYS[name]
        except KeyError:
            raise AttributeError(name) from None
        value = make(self._m)
        setattr(self, name, value)
        return value


_MENTOR_KEYS: dict[str, Callable[[Mentor], Any]] = {
    "gender": lambda m: _n(m.gender),
    "languages": lambda m: _nset(m.languages),
    "boroughs_known": lambda m: _nset(m.boroughs_known),
    "exclusion_boroughs": lambda m: _nset(m.exclusion_boroughs),
    "avoid_boroughs": lambda m: _nset(m.avoid_boroughs),
    "exclusion_postcodes": lambda m: frozenset(map(outward_code, m.exclusion_postcodes)) - _BLANK,
    "lived_experience": lambda m: _nset(m.lived_experience),
    "custody_history": lambda m: _nset(m.custody_history),
    "cleared": lambda m: _nset(m.cleared_establishments),
    "notes": lambda m: {_n(k): v for k, v in m.clearance_notes.items()},
}


@lru_cache(maxsize=1024)
def _short_establishment(name: str) -> str:
    """ "HMP/YOI Feltham" → "Feltham": how people say where someone was held."""
    short = _PRISON_PREFIX.sub("", name.strip())
    return short or name.strip()


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


# ---------------------------------------------------------------- one pair at a time


class _YoungKeys:
    """One young person's side of the hard constraints, worked out once per request.

    suggest() checks one young person against every mentor, so everything that depends
    only on the young person (normalised strings, their conflicts, the exclusion objects
    themselves, which are immutable and can be shared) is prepared here.
    """

    __slots__ = (
        "id",
        "borough",
        "in_borough",
        "avoided",
        "district",
        "in_district",
        "establishment",
        "not_cleared",
        "cleared_label",
        "required",
        "wrong_gender",
        "peers",
        "associates",
    )

    def __init__(self, y: YoungPerson, conflicts: ConflictIndex | None) -> None:
        self.id = y.id
        self.borough = _n(y.borough)
        zone = "licence condition: exclusion zone covers "
        self.in_borough = Exclusion("licence", zone + y.borough.strip())
        self.avoided = Exclusion("avoid", f"must avoid {y.borough.strip()} for their own safety")
        self.district = outward_code(y.postcode)
        self.in_district = Exclusion("licence", zone + self.district)
        self.establishment = _n(y.establishment)
        self.cleared_label = f"not cleared for {y.establishment.strip()}"
        self.not_cleared = Exclusion("clearance", self.cleared_label)
        self.required = _n(y.mentor_gender_required)
        self.wrong_gender = Exclusion("gender", f"young person needs a {self.required} mentor")
        self.peers = conflicts._peers(y.id) if conflicts is not None else _NOBODY
        self.associates = y.associates


_SAME_PERSON = Exclusion("conflict", "the mentor is this young person")
_RECORDED_CONFLICT = Exclusion("conflict", "recorded conflict with this young person")
_MENTEE_CONFLICT = Exclusion("conflict", "conflict with one of their current mentees")
_NON_ASSOCIATE = Exclusion("licence", "licence condition: non-association with this young person")
_ASSOCIATE = Exclusion(
    "licence", "licence condition: non-association with an associate of this young person"
)


def exclusions(
    mentor: Mentor, young_person: YoungPerson, conflicts: ConflictIndex | None = None
) -> list[Exclusion]:
    """Every hard constraint the pairing would break, in a fixed order; [] if none."""
    return _exclusions(mentor, _YoungKeys(young_person, conflicts))


def _exclusions(mentor: Mentor, y: _YoungKeys) -> list[Exclusion]:
    found: list[Exclusion] = []
    if not mentor.ready:
        why = "; ".join(mentor.not_ready_reasons)
        found.append(Exclusion("not_ready", f"not ready: {why}" if why else "not ready"))
    if mentor.capacity - mentor.caseload <= 0:
        found.append(
            Exclusion("full", f"no places free ({mentor.caseload} of {mentor.capacity} taken)")
        )
    if mentor.id == y.id:
        found.append(_SAME_PERSON)
    if y.peers:
        if mentor.id in y.peers:
            found.append(_RECORDED_CONFLICT)
        if mentor.current_mentees and not y.peers.isdisjoint(mentor.current_mentees):
            found.append(_MENTEE_CONFLICT)
    # Licence conditions are rare: look at the normalised sets only when there are any.
    if y.borough and mentor.exclusion_boroughs and y.borough in mentor._norm.exclusion_boroughs:
        found.append(y.in_borough)
    if y.borough and mentor.avoid_boroughs and y.borough in mentor._norm.avoid_boroughs:
        found.append(y.avoided)
    if (
        y.district
        and mentor.exclusion_postcodes
        and y.district in (mentor._norm.exclusion_postcodes)
    ):
        found.append(y.in_district)
    if mentor.non_associates:
        if y.id in mentor.non_associates:
            found.append(_NON_ASSOCIATE)
        if not mentor.non_associates.isdisjoint(y.associates):
            found.append(_ASSOCIATE)
    if y.establishment and y.establishment not in mentor._norm.cleared:
        note = mentor._norm.notes.get(y.establishment) if mentor.clearance_notes else None
        found.append(
            Exclusion("clearance", f"{y.cleared_label} ({note})") if note else y.not_cleared
        )
    if y.required and mentor._norm.gender != y.required:
        found.append(y.wrong_gender)
    return found


def _age_cost(mentor: Mentor, young_person: YoungPerson, weights: Weights) -> int:
    if mentor.age is None or young_person.age is None:
        return 0
    excess = abs(mentor.age - young_person.age) - weights.age_gap_allowance
    return min(max(excess, 0) * weights.age_gap_per_year, weights.age_gap_cap)


def pair_cost(mentor: Mentor, young_person: YoungPerson, weights: Weights = Weights()) -> int:
    """The edge cost of a pairing (without the workload cost of the place used)."""
    m, y, w = mentor._norm, young_person, weights
    cost = w.lived_experience_miss * len(_nset(y.lived_experience) - m.lived_experience)
    establishment = _n(y.establishment)
    if establishment and establishment not in m.custody_history:
        cost += w.establishment_unknown
    borough = _n(y.borough)
    if borough and borough not in m.boroughs_known:
        cost += w.borough_unknown
    language = _n(y.language)
    if language and language not in m.languages:
        cost += w.language_miss
    cost += _age_cost(mentor, y, w)
    if y.current_mentor is not None and y.current_mentor != mentor.id:
        cost += w.continuity_break
    return cost


def slot_costs(mentor: Mentor, weights: Weights = Weights()) -> list[int]:
    """Workload cost of each free place, in the order they fill (never decreasing)."""
    if mentor.capacity <= 0:
        return []
    return [
        (weights.workload * (mentor.caseload + j)) // mentor.capacity
        for j in range(max(mentor.places_free, 0))
    ]


def explain(mentor: Mentor, young_person: YoungPerson, weights: Weights = Weights()) -> list[str]:
    """Plain-language reasons for a pairing: what is good about it first, then drawbacks.

    Drawbacks come in the order coordinators weigh them: a change of mentor, language,
    home borough, age, then experience and prison.
    """
    m, y = mentor._norm, young_person
    good: list[str] = []
    change = speak = know = age = share = been = None
    if y.current_mentor is not None:
        if y.current_mentor == mentor.id:
            good.append("already their mentor")
        else:
            change = "would change mentor"
    establishment = _n(y.establishment)
    if establishment:
        if establishment in m.custody_history:
            good.append(f"has been in {_short_establishment(y.establishment)}")
        else:
            been = f"hasn't been in {_short_establishment(y.establishment)}"
    wanted = _nset(y.lived_experience)
    if wanted:
        shared = wanted & m.lived_experience
        if shared:
            good.append("shares lived experience: " + ", ".join(sorted(shared)))
        if len(shared) < len(wanted):
            share = "doesn't share lived experience: " + ", ".join(sorted(wanted - shared))
    borough = _n(y.borough)
    if borough:
        if borough in m.boroughs_known:
            good.append(f"knows {y.borough.strip()}")
        else:
            know = f"doesn't know {y.borough.strip()}"
    language = _n(y.language)
    if language:
        if language not in m.languages:
            speak = f"doesn't speak {y.language.strip()}"
        elif language != "english":
            good.append(f"speaks {y.language.strip()}")
    good.append(f"{mentor.places_free} of {mentor.capacity} places free")
    if mentor.age is not None and y.age is not None:
        gap = abs(mentor.age - y.age)
        if gap > weights.age_gap_allowance:
            age = f"age gap {gap} years"
    return good + [r for r in (change, speak, know, age, share, been) if r]


def _validate_mentors(mentors: Sequence[Mentor]) -> None:
    seen: set[Hashable] = set()
    for mentor in mentors:
        if mentor.id in seen:
            raise ValueError(f"mentor {mentor.id} appears more than once")
        seen.add(mentor.id)
        if mentor.capacity < 0:
            raise ValueError(f"mentor {mentor.id}: capacity {mentor.capacity} is negative")
        if mentor.caseload < 0:
            raise ValueError(f"mentor {mentor.id}: caseload {mentor.caseload} is negative")
        if mentor.caseload > mentor.capacity:
            raise ValueError(
                f"mentor {mentor.id}: caseload {mentor.caseload} is more than "
                f"capacity {mentor.capacity}"
            )


def suggest(
    young_person: YoungPerson,
    mentors: Sequence[Mentor],
    conflicts: ConflictIndex | None = None,
    k: int = 5,
    weights: Weights = Weights(),
) -> SuggestionResult:
    """The k best mentors for one young person, and everyone ruled out with reasons.

    Ranked by cost (edge cost plus the workload cost of the mentor's next place), then
    by name and id, so the same data always gives the same list. Plain Python: at 2,000
    mentors it stays well inside a page request (see bench/matching.py).
    """
    _validate_mentors(mentors)
    ranked: list[tuple[int, str, str, int, Mentor]] = []
    excluded: list[Excluded] = []
    keys = _YoungKeys(young_person, conflicts)
    for position, mentor in enumerate(mentors):
        found = _exclusions(mentor, keys)
        if found:
            excluded.append(Excluded(mentor.id, mentor.name, found))
            continue
        first_place = (weights.workload * mentor.caseload) // mentor.capacity
        cost = pair_cost(mentor, young_person, weights) + first_place
        ranked.append((cost, _n(mentor.name), str(mentor.id), position, mentor))
    ranked.sort(key=lambda r: r[:4])
    suggestions = [
        Suggestion(m.id, m.name, cost, explain(m, young_person, weights), m.places_free, m.capacity)
        for cost, _, _, _, m in ranked[: max(k, 0)]
    ]
    return SuggestionResult(suggestions, excluded)


# --------------------------------------------------------------- the whole batch


class _Vocabulary(dict):
    """Normalised string → index, growing as new strings are met."""

    def add(self, text: str) -> int:
        key = _n(text)
        if not key:
            return -1
        return self.setdefault(key, len(self))

    def grow(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.setdefault(key, len(self))

    def encode_keys(self, keys: list[str]) -> np.ndarray:
        """Indices of values that are already normalised (-1 for blank)."""
        get = self.setdefault
        return np.array([get(k, len(self)) if k else -1 for k in keys], dtype=np.int32)

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Indices of many values at once (-1 for blank); list comprehensions, no calls."""
        keys = [(t or "").strip().casefold() for t in texts]
        get = self.setdefault
        return np.array([get(k, len(self)) if k else -1 for k in keys], dtype=np.int32)


class _Batch:
    """A batch encoded as arrays, and its feasibility and costs computed chunk by chunk."""

    def __init__(
        self,
        mentors: Sequence[Mentor],
        young: Sequence[YoungPerson],
        conflicts: ConflictIndex | None,
        weights: Weights,
    ) -> None:
        self.mentors, self.young, self.weights = mentors, young, weights
        M, Y = len(mentors), len(young)
        self.M, self.Y = M, Y
        norms = [m._norm for m in mentors]

        # Vocabularies cover both sides so that a young person's value that no mentor has
        # still gets a row (all False) rather than a special case. Mentors' sets are
        # already normalised (district codes upper case, everything else casefolded).
        genders, langs, boroughs, districts, places, cats = (_Vocabulary() for _ in range(6))
        for k in norms:
            langs.grow(k.languages)
            boroughs.grow(k.boroughs_known)
            boroughs.grow(k.exclusion_boroughs)
            boroughs.grow(k.avoid_boroughs)
            districts.grow(k.exclusion_postcodes)
            places.grow(k.cleared)
            places.grow(k.custody_history)
            cats.grow(k.lived_experience)
        self.m_gender = genders.encode(k.gender for k in norms)
        self.y_gender = genders.encode(y.mentor_gender_required for y in young)
        self.y_lang = langs.encode(y.language for y in young)
        self.y_borough = boroughs.encode(y.borough for y in young)
        self.y_district = districts.encode_keys([outward_code(y.postcode) for y in young])
        self.y_place = places.encode(y.establishment for y in young)
        y_cat_sets = [_nset(y.lived_experience) for y in young]
        for c in y_cat_sets:
            cats.grow(c)

        # Vocabulary-major tables (rows = values, columns = mentors) so that gathering the
        # rows of a chunk of young people gives a (chunk, M) array directly. Index -1 (the
        # young person left the field blank) picks the extra last row, which holds the
        # answer for "no requirement".
        def table(vocab: _Vocabulary, sets: Iterable[frozenset[str]], blank: bool) -> np.ndarray:
            t = np.zeros((len(vocab) + 1, M), dtype=bool)
            rows: list[int] = []
            cols: list[int] = []
            for j, values in enumerate(sets):
                rows.extend(map(vocab.__getitem__, values))
                cols.extend([j] * len(values))
            t[rows, cols] = True
            t[-1, :] = blank
            return t

        self.speaks = table(langs, (k.languages for k in norms), True)
        self.knows = table(boroughs, (k.boroughs_known for k in norms), True)
        self.excluded_borough = table(boroughs, (k.exclusion_boroughs for k in norms), False)
        self.avoided_borough = table(boroughs, (k.avoid_boroughs for k in norms), False)
        self.excluded_district = table(districts, (k.exclusion_postcodes for k in norms), False)
        self.cleared = table(places, (k.cleared for k in norms), True)
        self.been_in = table(places, (k.custody_history for k in norms), True)

        # Lived experience as bitmasks, 64 categories per word; misses are popcounts.
        # Sets repeat (a few hundred combinations), so each distinct one is turned into a
        # mask once.
        words = max(1, math.ceil(len(cats) / 64))
        masks: dict[frozenset[str], list[int]] = {}

        def mask(values: frozenset[str]) -> list[int]:
            found = masks.get(values)
            if found is None:
                bits = sum(1 << cats[v] for v in values)
                found = masks[values] = [
                    (bits >> (64 * w)) & 0xFFFFFFFFFFFFFFFF for w in range(words)
                ]
            return found

        self.m_cats = np.array([mask(k.lived_experience) for k in norms], dtype=np.uint64)
        self.m_cats = self.m_cats.reshape(M, words)
        self.y_cats = np.array([mask(c) for c in y_cat_sets], dtype=np.uint64).reshape(Y, words)

        self.m_age = np.array([-1 if m.age is None else m.age for m in mentors], dtype=np.int64)
        self.y_age = np.array([-1 if y.age is None else y.age for y in young], dtype=np.int64)
        index_of = {m.id: j for j, m in enumerate(mentors)}
        self.index_of = index_of
        self.y_has_current = np.array([y.current_mentor is not None for y in young], dtype=bool)
        self.y_current = np.array(
            [
                index_of.get(y.current_mentor, -1) if y.current_mentor is not None else -1
                for y in young
            ],
            dtype=np.int64,
        )

        self.capacity = np.array([m.capacity for m in mentors], dtype=np.int64)
        self.caseload = np.array([m.caseload for m in mentors], dtype=np.int64)
        self.free = np.maximum(self.capacity - self.caseload, 0)
        self.ready = np.array([m.ready for m in mentors], dtype=bool)
        self.open = self.ready & (self.free > 0)
        safe_capacity = np.maximum(self.capacity, 1)
        self.first_slot = (weights.workload * self.caseload) // safe_capacity

        self._sparse_exclusions(conflicts)
        self._cost_tables()

    def _sparse_exclusions(self, conflicts: ConflictIndex | None) -> None:
        """Pairs ruled out by a named person, not by an attribute: conflicts, non-association."""
        mentors, young, index_of = self.mentors, self.young, self.index_of
        mentees_of: dict[Hashable, list[int]] = {}
        non_associates_of: dict[Hashable, list[int]] = {}
        for j, m in enumerate(mentors):
            for p in m.current_mentees:
                mentees_of.setdefault(p, []).append(j)
            for p in m.non_associates:
                non_associates_of.setdefault(p, []).append(j)
        young_index = {y.id: i for i, y in enumerate(young)}
        rows: list[int] = []
        cols: list[int] = []
        codes: list[int] = []  # 0 = conflict, 1 = licence
        pairs: list[tuple[int, int]] = []  # young person pairs in conflict within the batch

        def add(i: int, j: int, code: int) -> None:
            rows.append(i)
            cols.append(j)
            codes.append(code)

        for i, y in enumerate(young):
            j = index_of.get(y.id)
            if j is not None:  # a mentor cannot be matched with themselves
                add(i, j, 0)
            peers = conflicts._peers(y.id) if conflicts is not None else ()
            if peers:
                # The common case, a conflict with a mentor, in bulk: there can be
                # hundreds of thousands of them.
                js = [index_of[p] for p in peers if p in index_of]
                rows.extend([i] * len(js))
                cols.extend(js)
                codes.extend([0] * len(js))
                for other in peers:
                    for j in mentees_of.get(other, ()):
                        add(i, j, 0)
                    other_i = young_index.get(other)
                    if other_i is not None and other_i > i:
                        pairs.append((i, other_i))
            for p in (y.id, *y.associates):
                for j in non_associates_of.get(p, ()):
                    add(i, j, 1)
        r = np.array(rows, dtype=np.int64)
        c = np.array(cols, dtype=np.int64)
        code = np.array(codes, dtype=np.int8)
        order = np.lexsort((code, c, r))
        self.sparse_row, self.sparse_col, self.sparse_code = r[order], c[order], code[order]
        self.young_conflicts = pairs
        # Pairings forbidden by the young–young conflict repair (rows, cols).
        self.forbidden_row = np.zeros(0, dtype=np.int64)
        self.forbidden_col = np.zeros(0, dtype=np.int64)

    def chunk_size(self) -> int:
        return max(1, CHUNK_PAIRS // max(self.M, 1))

    def chunks(self) -> Iterator[tuple[int, int]]:
        step = self.chunk_size()
        for lo in range(0, self.Y, step):
            yield lo, min(self.Y, lo + step)

    def hard_masks(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Per exclusion code, True where it rules the pair out: (len(rows), M) each.

        `rows` are young person indices in increasing order.
        """
        n, M = len(rows), self.M
        masks = {
            "not_ready": np.broadcast_to(~self.ready, (n, M)),
            "full": np.broadcast_to(self.free <= 0, (n, M)),
        }
        conflict = np.zeros((n, M), dtype=bool)
        licence = self.excluded_borough[self.y_borough[rows]]
        licence |= self.excluded_district[self.y_district[rows]]
        mine = np.isin(self.sparse_row, rows)
        at = np.searchsorted(rows, self.sparse_row[mine])
        cols, code = self.sparse_col[mine], self.sparse_code[mine]
        conflict[at[code == 0], cols[code == 0]] = True
        licence[at[code == 1], cols[code == 1]] = True
        masks["conflict"], masks["licence"] = conflict, licence
        masks["avoid"] = self.avoided_borough[self.y_borough[rows]]
        masks["clearance"] = ~self.cleared[self.y_place[rows]]
        need = self.y_gender[rows]
        masks["gender"] = (need >= 0)[:, None] & (self.m_gender[None, :] != need[:, None])
        return masks

    def _cost_tables(self) -> None:
        """Per-value cost rows, so that a young person's cost row is a sum of a few gathers.

        Every cost term depends on one attribute of the young person (establishment,
        borough, language, set of categories, age), and young people share these values, so
        each term is tabulated once per distinct value and gathered per chunk.
        """
        w, M = self.weights, self.M
        self.borough_cost = np.where(self.knows, 0, w.borough_unknown).astype(np.int32)
        self.language_cost = np.where(self.speaks, 0, w.language_miss).astype(np.int32)
        self.place_cost = np.where(self.been_in, 0, w.establishment_unknown).astype(np.int32)
        masks, self.y_cat_row = np.unique(self.y_cats, axis=0, return_inverse=True)
        self.y_cat_row = self.y_cat_row.reshape(-1)
        misses = np.zeros((len(masks), M), dtype=np.int32)
        for word in range(self.y_cats.shape[1]):
            missing = masks[:, word][:, None] & ~self.m_cats[:, word][None, :]
            misses += np.bitwise_count(missing)
        self.cat_cost = misses * np.int32(w.lived_experience_miss)
        ages, self.y_age_row = np.unique(self.y_age, return_inverse=True)
        self.y_age_row = self.y_age_row.reshape(-1)
        gap = np.abs(self.m_age[None, :] - ages[:, None]) - w.age_gap_allowance
        age_cost = np.minimum(np.maximum(gap, 0) * w.age_gap_per_year, w.age_gap_cap)
        age_cost[(ages < 0)[:, None] | (self.m_age < 0)[None, :]] = 0
        self.age_cost = age_cost.astype(np.int32)
        # Hard constraints that depend on one attribute each, folded the same way: the
        # mentor is open (ready, places free), cleared for the prison, of the right gender.
        genders = int(max(self.m_gender.max(initial=-1), self.y_gender.max(initial=-1))) + 1
        gender_ok = self.m_gender[None, :] == np.arange(genders)[:, None]
        gender_ok = np.vstack([gender_ok, np.ones((1, M), dtype=bool)])  # -1: any gender
        combos = self.cleared[:, None, :] & gender_ok[None, :, :] & self.open[None, None, :]
        # row = place * (genders + 1) + gender
        self.open_for = combos.reshape(len(self.cleared) * (genders + 1), M)
        self.y_open_row = (self.y_place % len(self.cleared)) * (genders + 1) + (
            self.y_gender % (genders + 1)
        )
        self.any_exclusion_zone = bool(
            self.excluded_borough.any()
            or self.excluded_district.any()
            or self.avoided_borough.any()
        )

    def feasible_and_cost(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Feasibility (hard constraints only) and edge costs for young people lo..hi-1."""
        feasible = self.open_for[self.y_open_row[lo:hi]]
        if self.any_exclusion_zone:
            feasible &= ~self.excluded_borough[self.y_borough[lo:hi]]
            feasible &= ~self.excluded_district[self.y_district[lo:hi]]
            feasible &= ~self.avoided_borough[self.y_borough[lo:hi]]
        s, e = np.searchsorted(self.sparse_row, [lo, hi])
        feasible[self.sparse_row[s:e] - lo, self.sparse_col[s:e]] = False

        cost = self.cat_cost[self.y_cat_row[lo:hi]]
        cost += self.place_cost[self.y_place[lo:hi]]
        cost += self.borough_cost[self.y_borough[lo:hi]]
        cost += self.language_cost[self.y_lang[lo:hi]]
        cost += self.age_cost[self.y_age_row[lo:hi]]
        changing = np.flatnonzero(self.y_has_current[lo:hi])
        if len(changing) and self.weights.continuity_break:
            # Everyone but the current mentor costs a break of continuity.
            cost[changing] += np.int32(self.weights.continuity_break)
            current = self.y_current[lo:hi][changing]
            stays = current >= 0
            cost[changing[stays], current[stays]] -= np.int32(self.weights.continuity_break)
        return feasible, cost

    def slot_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(mentor index, workload cost) of every free place of every open mentor."""
        free = np.where(self.open, self.free, 0)
        mentor = np.repeat(np.arange(self.M), free)
        j = np.arange(len(mentor)) - np.repeat(np.cumsum(free) - free, free)
        cost = (self.weights.workload * (self.caseload[mentor] + j)) // np.maximum(
            self.capacity[mentor], 1
        )
        return mentor, cost.astype(np.int64)


def cost_matrix(
    mentors: Sequence[Mentor],
    young_people: Sequence[YoungPerson],
    conflicts: ConflictIndex | None = None,
    weights: Weights = Weights(),
) -> CostMatrix:
    """Dense feasibility and edge costs, for analysis and checking on small batches.

    Young–young conflicts are not in it (they are not a property of one pair).
    """
    _validate_mentors(mentors)
    batch = _Batch(mentors, young_people, conflicts, weights)
    feasible = np.zeros((batch.Y, batch.M), dtype=bool)
    cost = np.zeros((batch.Y, batch.M), dtype=np.int64)
    for lo, hi in batch.chunks():
        feasible[lo:hi], cost[lo:hi] = batch.feasible_and_cost(lo, hi)
    return CostMatrix(feasible, cost, [np.array(slot_costs(m, weights)) for m in mentors])


def _solve(
    batch: _Batch,
    ay: np.ndarray,
    am: np.ndarray,
    ac: np.ndarray,
    slot_mentor: np.ndarray,
    slot_cost: np.ndarray,
    with_potentials: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """One solve; returns (flow on young→mentor arcs, potentials of all nodes).

    OR-Tools' max-flow-then-min-cost mode gives the same answer as the circulation with
    a −BIG return arc described above, about twice as fast. The return arc is still
    part of the residual graph the potentials are computed on, so the certificate is
    the circulation's: it covers "place more people" as well as "pay less".
    """
    Y, M = batch.Y, batch.M
    source, sink = Y + M, Y + M + 1
    nodes = Y + M + 2
    n_arcs = len(ay)
    tails = np.concatenate([np.full(Y, source), ay, Y + slot_mentor]).astype(np.int32)
    heads = np.concatenate([np.arange(Y), Y + am, np.full(len(slot_mentor), sink)])
    heads = heads.astype(np.int32)
    caps = np.ones(len(tails), dtype=np.int64)
    costs = np.concatenate([np.zeros(Y, np.int64), ac, slot_cost]).astype(np.int64)
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    smcf.set_node_supply(source, Y)
    smcf.set_node_supply(sink, -Y)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow solver stopped with status {status}")
    flow = smcf.flows(arcs)
    if not with_potentials:
        return flow[Y : Y + n_arcs], np.zeros(0, dtype=np.int64)
    max_edge = int(ac.max()) if len(ac) else 0
    max_slot = int(slot_cost.max()) if len(slot_cost) else 0
    # Bigger than the cost of any simple path or cycle, so one more young person placed
    # always outweighs any saving in cost.
    big = (max_edge + max_slot + 1) * (nodes + 1)
    placed = int(flow[:Y].sum())
    potentials = _residual_potentials(
        nodes,
        np.append(tails, sink),
        np.append(heads, source),
        np.append(caps, Y),
        np.append(costs, -big),
        np.append(flow, placed),
    )
    return flow[Y : Y + n_arcs], potentials


def _residual_potentials(
    nodes: int,
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    costs: np.ndarray,
    flow: np.ndarray,
) -> np.ndarray:
    """Shortest-path distances in the residual graph from a root joined to every node at 0.

    They exist because an optimal flow leaves no negative cycle, and they are potentials
    under which every residual arc has non-negative reduced cost. Vectorised Bellman–Ford
    (Jacobi rounds: sort arcs by head, take each head's minimum with reduceat) converges
    in as many rounds as the longest shortest path has arcs, a handful in practice.
    """
    forward = flow < caps
    backward = flow > 0
    rt = np.concatenate([tails[forward], heads[backward]])
    rh = np.concatenate([heads[forward], tails[backward]])
    rc = np.concatenate([costs[forward], -costs[backward]])
    order = np.argsort(rh, kind="stable")
    rt, rh, rc = rt[order], rh[order], rc[order]
    distance = np.zeros(nodes, dtype=np.int64)
    if len(rh) == 0:
        return distance
    starts = np.flatnonzero(np.r_[True, rh[1:] != rh[:-1]])
    targets = rh[starts]
    for _ in range(nodes + 1):
        best = np.minimum.reduceat(distance[rt] + rc, starts)
        improved = best < distance[targets]
        if not improved.any():
            return distance
        distance[targets[improved]] = best[improved]
    raise RuntimeError("residual graph has a negative cycle: the flow was not optimal")


def assign_batch(
    mentors: Sequence[Mentor],
    young_people: Sequence[YoungPerson],
    conflicts: ConflictIndex | None = None,
    weights: Weights = Weights(),
    candidates_per_person: int = DEFAULT_CANDIDATES,
    whole_graph_pairs: int = WHOLE_GRAPH_PAIRS,
    candidates_per_mentor: int = DEFAULT_MENTOR_CANDIDATES,
    with_reasons: bool = True,
) -> BatchResult:
    """Place as many young people as the hard constraints allow, at least total cost.

    `with_reasons=False` leaves every reason list empty: the assignment alone, for
    analysis and for timing the solver against another that gives no explanations.

    Batches of up to `whole_graph_pairs` mentor–young person pairs are solved on every
    feasible pairing at once, which needs no optimality check; larger ones start from
    `candidates_per_person` arcs per young person and `candidates_per_mentor` per mentor,
    and are priced. Both only change the speed, never the answer.

    Exact: the answer is a minimum-cost maximum assignment, checked against every
    feasible pairing by the pricing step described in the module docstring. With young
    people in conflict with each other in the batch, it is optimal for the pairings that
    remain once the repair loop has forbidden the shared mentors.
    """
    _validate_mentors(mentors)
    seen: set[Hashable] = set()
    for y in young_people:
        if y.id in seen:
            raise ValueError(f"young person {y.id} appears more than once")
        seen.add(y.id)
    if candidates_per_person < 1 or candidates_per_mentor < 0:
        raise ValueError("candidates_per_person must be at least 1, candidates_per_mentor 0")

    batch = _Batch(mentors, young_people, conflicts, weights)
    Y, M = batch.Y, batch.M
    slot_mentor, slot_cost = batch.slot_arrays()
    feasible_count = np.zeros(Y, dtype=np.int64)

    # Candidate arcs, from both sides. Each young person's K cheapest feasible mentors
    # (counting the cost of the mentor's next place, so busy mentors are not everyone's
    # first pick); and each mentor's cheapest feasible young people, because when places
    # are scarce the optimum gives them to the young people who fit best, and those arcs
    # would otherwise only arrive, round by round, through pricing.
    parts_y, parts_m, parts_c = [], [], []
    whole = Y * M <= whole_graph_pairs
    k = M if whole else min(candidates_per_person, M)
    depth = 0 if whole else min(candidates_per_mentor, Y)
    best_cost = np.full((depth, M), _INFEASIBLE, dtype=np.int64)
    best_row = np.full((depth, M), -1, dtype=np.int64)
    for lo, hi in batch.chunks():
        if M == 0:
            break
        feasible, cost = batch.feasible_and_cost(lo, hi)
        feasible_count[lo:hi] = feasible.sum(axis=1)
        ranked = np.where(feasible, cost, _INFEASIBLE)
        if depth:
            stacked = np.vstack([best_cost, ranked])
            keep = np.argpartition(stacked, depth - 1, axis=0)[:depth]
            best_cost = np.take_along_axis(stacked, keep, axis=0)
            rows_so_far = np.vstack(
                [best_row, np.broadcast_to(np.arange(lo, hi)[:, None], (hi - lo, M))]
            )
            best_row = np.take_along_axis(rows_so_far, keep, axis=0)
        if whole:  # every feasible pairing is an arc
            rows, cols = np.nonzero(feasible)
            parts_y.append(rows + lo)
            parts_m.append(cols)
            parts_c.append(cost[rows, cols])
            continue
        ranked += batch.first_slot[None, :]
        pick = (
            np.argpartition(ranked, k - 1, axis=1)[:, :k]
            if k < M
            else np.tile(np.arange(M), (hi - lo, 1))
        )
        keep = np.take_along_axis(feasible, pick, axis=1)
        rows = np.broadcast_to(np.arange(lo, hi)[:, None], pick.shape)[keep]
        parts_y.append(rows)
        parts_m.append(pick[keep])
        parts_c.append(np.take_along_axis(cost, pick, axis=1)[keep])
    chosen = best_cost < _INFEASIBLE
    parts_y.append(best_row[chosen])
    parts_m.append(np.broadcast_to(np.arange(M)[None, :], best_cost.shape)[chosen])
    parts_c.append(best_cost[chosen])
    ay = np.concatenate(parts_y).astype(np.int64)
    am = np.concatenate(parts_m).astype(np.int64)
    ac = np.concatenate(parts_c).astype(np.int64)
    if not whole:  # a pair may be among both sides' cheapest
        _, first = np.unique(ay * max(M, 1) + am, return_index=True)
        ay, am, ac = ay[first], am[first], ac[first]

    solves = priced_in = repairs = 0
    while True:
        # Solve, then price every omitted feasible arc until none could improve the answer.
        while True:
            flow, potential = _solve(batch, ay, am, ac, slot_mentor, slot_cost, not whole)
            solves += 1
            if whole:
                break  # every feasible arc is in the graph: the solver's optimum is final
            added = _price(batch, ay, am, potential, PRICING_SLACK)
            if added is None:
                break
            ny, nm, nc = added
            priced_in += len(ny)
            ay, am, ac = (
                np.concatenate([ay, ny]),
                np.concatenate([am, nm]),
                np.concatenate([ac, nc]),
            )
        mentor_of = np.full(Y, -1, dtype=np.int64)
        used = flow > 0
        mentor_of[ay[used]] = am[used]
        edge_of = np.zeros(Y, dtype=np.int64)
        edge_of[ay[used]] = ac[used]
        clashes = [
            (a, b)
            for a, b in batch.young_conflicts
            if mentor_of[a] >= 0 and mentor_of[a] == mentor_of[b]
        ]
        if not clashes:
            break
        drop_rows = []
        drop_cols = []
        for a, b in clashes:
            loser = a if edge_of[a] > edge_of[b] else b  # the later one on a tie
            drop_rows.append(loser)
            drop_cols.append(int(mentor_of[a]))
        repairs += len(set(zip(drop_rows, drop_cols, strict=True)))
        batch.forbidden_row = np.concatenate([batch.forbidden_row, drop_rows])
        batch.forbidden_col = np.concatenate([batch.forbidden_col, drop_cols])
        keys = ay * M + am
        gone = np.isin(keys, np.asarray(drop_rows) * M + np.asarray(drop_cols))
        ay, am, ac = ay[~gone], am[~gone], ac[~gone]
        # The pricing step must never bring a forbidden pairing back: add it to the sparse
        # exclusions (as a conflict), which feasible_and_cost applies.
        r = np.concatenate([batch.sparse_row, drop_rows]).astype(np.int64)
        c = np.concatenate([batch.sparse_col, drop_cols]).astype(np.int64)
        code = np.concatenate([batch.sparse_code, np.full(len(drop_rows), 2, np.int8)])
        order = np.lexsort((code, c, r))
        batch.sparse_row, batch.sparse_col, batch.sparse_code = r[order], c[order], code[order]

    return _result(
        batch,
        mentor_of,
        edge_of,
        feasible_count,
        slot_mentor,
        slot_cost,
        with_reasons,
        solves=solves,
        arcs=len(ay),
        priced_in=priced_in,
        repairs=repairs,
    )


def _price(
    batch: _Batch, ay: np.ndarray, am: np.ndarray, potential: np.ndarray, slack: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Omitted feasible arcs that could improve the answer, or None if there are none.

    An omitted arc with negative reduced cost breaks the optimality certificate. When
    there is one, the arcs with reduced cost below `slack` come in too: they are the
    next to turn negative once the solution moves, and taking them now saves rounds of
    solve-and-price (each a full solve). With no negative arc the answer is proved.
    """
    Y, M = batch.Y, batch.M
    p_young, p_mentor = potential[:Y], potential[Y : Y + M]
    keys = np.sort(ay * M + am)
    found_y, found_m, found_c = [], [], []
    negative = False
    for lo, hi in batch.chunks():
        feasible, cost = batch.feasible_and_cost(lo, hi)
        reduced = cost + p_young[lo:hi, None] - p_mentor[None, :]
        rows, cols = np.nonzero(feasible & (reduced < slack))
        if len(rows) == 0:
            continue
        s, e = np.searchsorted(keys, [lo * M, hi * M])
        new = ~np.isin((rows + lo) * M + cols, keys[s:e])
        rows, cols = rows[new], cols[new]
        negative = negative or bool((reduced[rows, cols] < 0).any())
        found_y.append(rows + lo)
        found_m.append(cols)
        found_c.append(cost[rows, cols])
    if not negative:
        return None
    return (
        np.concatenate(found_y).astype(np.int64),
        np.concatenate(found_m).astype(np.int64),
        np.concatenate(found_c).astype(np.int64),
    )


_SUMMARY = {
    "not_ready": ("not ready", "not ready"),
    "full": ("full", "full"),
    "conflict": ("recorded conflict", "recorded conflicts"),
    "licence": ("licence condition", "licence conditions"),
    "avoid": ("must avoid the borough", "must avoid the borough"),
}


def _no_mentor_summaries(batch: _Batch, rows: np.ndarray) -> dict[int, str]:
    """ "no suitable mentor: 40 not cleared for HMP/YOI Feltham; 3 recorded conflicts; 2 full".

    Each mentor is counted under every code that rules them out, so the counts can add
    up to more than the number of mentors.
    """
    if batch.M == 0:
        return {int(i): "no suitable mentor: there are no mentors in this batch" for i in rows}
    masks = batch.hard_masks(rows)
    counts = {code: masks[code].sum(axis=1).tolist() for code in EXCLUSION_CODES}
    summaries = {}
    for at, i in enumerate(rows.tolist()):
        y = batch.young[i]
        parts: list[tuple[int, int, str]] = []
        for order, code in enumerate(EXCLUSION_CODES):
            n = counts[code][at]
            if not n:
                continue
            if code == "clearance":
                text = f"{n} not cleared for {y.establishment.strip()}"
            elif code == "gender":
                text = f"{n} not {_n(y.mentor_gender_required)}"
            else:
                singular, plural = _SUMMARY[code]
                text = f"{n} {singular if n == 1 else plural}"
            parts.append((-n, order, text))
        summaries[i] = "no suitable mentor: " + "; ".join(t for _, _, t in sorted(parts))
    return summaries


def _result(
    batch: _Batch,
    mentor_of: np.ndarray,
    edge_of: np.ndarray,
    feasible_count: np.ndarray,
    slot_mentor: np.ndarray,
    slot_cost: np.ndarray,
    with_reasons: bool = True,
    **stats: int,
) -> BatchResult:
    mentors, young = batch.mentors, batch.young
    # A mentor given n young people uses their n cheapest places; they are handed out in
    # the young people's input order so that each assignment's cost is reproducible.
    # Places arrive grouped by mentor, cheapest first: the k-th young person (in input
    # order) given mentor j takes place first_place[j] + k.
    placed = np.flatnonzero(mentor_of >= 0)
    given = mentor_of[placed]
    by_mentor = np.argsort(given, kind="stable")
    rank = np.empty(len(placed), dtype=np.int64)
    sorted_given = given[by_mentor]
    group_start = np.searchsorted(sorted_given, sorted_given, side="left")
    rank[by_mentor] = np.arange(len(placed)) - group_start
    first_place = np.searchsorted(slot_mentor, np.arange(batch.M), side="left")
    place_cost = slot_cost[first_place[given] + rank] if len(placed) else slot_cost[:0]
    costs = (edge_of[placed] + place_cost).tolist()
    weights = batch.weights
    assignments: list[Assignment] = []
    for i, j, cost in zip(placed.tolist(), given.tolist(), costs, strict=True):
        y = young[i]
        reasons = explain(mentors[j], y, weights) if with_reasons else []
        assignments.append(Assignment(y.id, mentors[j].id, cost, reasons))
    unassigned: list[Unassigned] = []
    if not with_reasons:
        unassigned = [Unassigned(young[i].id, []) for i in np.flatnonzero(mentor_of < 0).tolist()]
        return BatchResult(assignments, unassigned, int(sum(costs)), **stats)
    nobody = _no_mentor_summaries(batch, np.flatnonzero((mentor_of < 0) & (feasible_count == 0)))
    forbidden = Counter(batch.forbidden_row.tolist())
    count_list = feasible_count.tolist()
    for i in np.flatnonzero(mentor_of < 0).tolist():
        n = count_list[i]
        if n == 0:
            reasons = [nobody[i]]
        else:
            if n == 1:
                text = "the only suitable mentor's places went to other young people"
            else:
                text = f"all {n} suitable mentors' places went to other young people"
            reasons = [text]
            if forbidden[i]:
                reasons.append(
                    f"{_count(forbidden[i], 'suitable mentor')} ruled out because they were "
                    "given a young person this young person is in conflict with"
                )
        unassigned.append(Unassigned(young[i].id, reasons))
    total = int(sum(costs))
    return BatchResult(assignments, unassigned, total, **stats)
