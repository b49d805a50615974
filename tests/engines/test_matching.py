"""Mentor matching (engines.matching): pure, no database.

Hard constraints are checked with a plain-Python predicate written here, not by calling
the engine's own `exclusions`, and optimality against SciPy's assignment solver and, on
tiny instances, against brute force.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from throughgate.engines.matching import (
    ConflictIndex,
    Exclusion,
    Mentor,
    Weights,
    YoungPerson,
    assign_batch,
    exclusions,
    outward_code,
    suggest,
)

W = Weights()

# ------------------------------------------------------------ independent reference


def norm(s):
    return s.strip().casefold()


def district(postcode):
    p = postcode.strip().upper()
    if " " in p:
        return p.split()[0]
    return p[:-3] if len(p) >= 5 and p[-3].isdigit() and p[-2:].isalpha() else p


def allowed(m: Mentor, y: YoungPerson, conflict_pairs) -> bool:
    """Every hard constraint, spelled out independently of the engine."""
    pairs = {frozenset(p) for p in conflict_pairs}
    return (
        m.ready
        and m.capacity - m.caseload > 0
        and m.id != y.id
        and frozenset((m.id, y.id)) not in pairs
        and not any(frozenset((y.id, c)) in pairs for c in m.current_mentees)
        and (not y.borough.strip() or norm(y.borough) not in {norm(b) for b in
                                                               m.exclusion_boroughs})
        and (not y.borough.strip() or norm(y.borough) not in {norm(b) for b in
                                                               m.avoid_boroughs})
        and (not y.postcode.strip() or district(y.postcode) not in {district(p) for p in
                                                                     m.exclusion_postcodes})
        and y.id not in m.non_associates
        and not (y.associates & m.non_associates)
        and (not y.establishment or norm(y.establishment) in {norm(e) for e in
                                                               m.cleared_establishments})
        and (not y.mentor_gender_required or norm(y.mentor_gender_required) == norm(m.gender))
    )  # fmt: skip


def cost(m: Mentor, y: YoungPerson) -> int:
    mine = {norm(c) for c in m.lived_experience}
    total = 10 * len({norm(c) for c in y.lived_experience} - mine)
    if y.establishment and norm(y.establishment) not in {norm(e) for e in m.custody_history}:
        total += 8
    if y.borough and norm(y.borough) not in {norm(b) for b in m.boroughs_known}:
        total += 15
    if y.language and norm(y.language) not in {norm(x) for x in m.languages}:
        total += 20
    if m.age is not None and y.age is not None:
        total += min(max(abs(m.age - y.age) - 12, 0), 15)
    if y.current_mentor is not None and y.current_mentor != m.id:
        total += 30
    return total


def slots(m: Mentor) -> list[int]:
    return [(20 * (m.caseload + j)) // m.capacity for j in range(m.capacity - m.caseload)]


def reference_optimum(mentors, young, pairs):
    """(number placed, total cost) from SciPy on the capacity-expanded dense matrix."""
    columns = [(m, s) for m in mentors if m.ready for s in slots(m)]
    if not young or not columns:
        return 0, 0
    big = 10**6
    matrix = np.zeros((len(young), len(columns)))
    for i, y in enumerate(young):
        for j, (m, s) in enumerate(columns):
            if allowed(m, y, pairs):
                matrix[i, j] = cost(m, y) + s - big
    rows, cols = linear_sum_assignment(matrix)
    chosen = matrix[rows, cols] < 0
    return int(chosen.sum()), int(round((matrix[rows, cols][chosen] + big).sum()))


def check_batch(mentors, young, pairs, result):
    by_id = {m.id: m for m in mentors}
    young_by_id = {y.id: y for y in young}
    placed = {a.person_id for a in result.assignments}
    assert placed | {u.person_id for u in result.unassigned} == set(young_by_id)
    assert len(placed) == len(result.assignments)
    load: dict = {}
    for a in result.assignments:
        assert allowed(by_id[a.mentor_id], young_by_id[a.person_id], pairs)
        load[a.mentor_id] = load.get(a.mentor_id, 0) + 1
    for mentor_id, n in load.items():
        assert by_id[mentor_id].caseload + n <= by_id[mentor_id].capacity
    mentor_of = {a.person_id: a.mentor_id for a in result.assignments}
    for a, b in pairs:
        if a in mentor_of and b in mentor_of:
            assert mentor_of[a] != mentor_of[b], "two young people in conflict share a mentor"
    # Costs are the edge cost plus the places actually used.
    edge = sum(cost(by_id[a.mentor_id], young_by_id[a.person_id]) for a in result.assignments)
    place = sum(sum(slots(by_id[m])[:n]) for m, n in load.items())
    assert result.total_cost == edge + place == sum(a.cost for a in result.assignments)
    for u in result.unassigned:
        assert u.reasons


# --------------------------------------------------------------------- strategies

GENDERS = ["male", "female", "Female "]
BOROUGHS = ["Southwark", "lambeth", "Hackney", ""]
LANGS = ["English", "Somali", "english", ""]
PLACES = ["HMP/YOI Feltham", "hmp/yoi feltham", "HMYOI Cookham Wood", ""]
CATS = ["Custody", "Gang involvement", "care experience", "Knife crime"]
POSTCODES = ["SE15 4AB", "se154ab", "E8", ""]


@st.composite
def instances(draw, max_mentors=8, max_young=25, young_conflicts=False):
    n_m = draw(st.integers(1, max_mentors))
    n_y = draw(st.integers(0, max_young))
    young_ids = [f"y{i}" for i in range(n_y)]
    mentor_ids = [f"m{j}" for j in range(n_m)]
    sub = lambda xs, n=2: st.frozensets(st.sampled_from(xs), max_size=n)  # noqa: E731
    mentors = []
    for j in range(n_m):
        capacity = draw(st.integers(0, 4))
        mentors.append(Mentor(
            id=mentor_ids[j], capacity=capacity, caseload=draw(st.integers(0, capacity)),
            gender=draw(st.sampled_from(GENDERS)), age=draw(st.none() | st.integers(18, 60)),
            languages=draw(sub(LANGS)), boroughs_known=draw(sub(BOROUGHS)),
            exclusion_boroughs=draw(sub(BOROUGHS, 1)), avoid_boroughs=draw(sub(BOROUGHS, 1)),
            exclusion_postcodes=draw(sub(
                ["SE15", "e8", "N1"], 1)),
            non_associates=draw(sub(young_ids, 1)) if young_ids else frozenset(),
            lived_experience=draw(sub(CATS, 3)), custody_history=draw(sub(PLACES)),
            cleared_establishments=draw(sub(PLACES, 3)),
            current_mentees=frozenset({f"old{j}"}), ready=draw(st.booleans() | st.just(True)),
        ))  # fmt: skip
    young = [
        YoungPerson(
            id=young_ids[i], gender=draw(st.sampled_from(GENDERS)),
            mentor_gender_required=draw(st.sampled_from(["", "", "female", "Male"])),
            age=draw(st.none() | st.integers(14, 25)), borough=draw(st.sampled_from(BOROUGHS)),
            postcode=draw(st.sampled_from(POSTCODES)), language=draw(st.sampled_from(LANGS)),
            establishment=draw(st.sampled_from(PLACES)), lived_experience=draw(sub(CATS, 3)),
            current_mentor=draw(st.none() | st.sampled_from(mentor_ids)),
            associates=draw(sub(young_ids, 1)) if young_ids else frozenset(),
        )
        for i in range(n_y)
    ]  # fmt: skip
    people = young_ids + mentor_ids + [f"old{j}" for j in range(n_m)]
    if not young_conflicts:
        people = mentor_ids + [f"old{j}" for j in range(n_m)]
    pairs = []
    if young_ids:
        for _ in range(draw(st.integers(0, 8))):
            a = draw(st.sampled_from(young_ids))
            b = draw(st.sampled_from(people))
            if a != b:
                pairs.append((a, b))
    return mentors, young, pairs


# ----------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_batch_never_breaks_a_hard_constraint_and_is_as_good_as_scipy(instance):
    mentors, young, pairs = instance
    result = assign_batch(mentors, young, ConflictIndex(pairs))
    check_batch(mentors, young, pairs, result)
    assert (len(result.assignments), result.total_cost) == reference_optimum(mentors, young,
                                                                              pairs)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_pricing_adds_the_arcs_a_single_candidate_per_person_misses(instance):
    mentors, young, pairs = instance
    # Small batches are normally solved whole; forcing candidates makes pricing do the work.
    result = assign_batch(
        mentors,
        young,
        ConflictIndex(pairs),
        candidates_per_person=1,
        whole_graph_pairs=0,
        candidates_per_mentor=0,
    )
    check_batch(mentors, young, pairs, result)
    assert (len(result.assignments), result.total_cost) == reference_optimum(mentors, young,
                                                                              pairs)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(young_conflicts=True))
def test_young_people_in_conflict_never_share_a_mentor(instance):
    mentors, young, pairs = instance
    for whole in (0, 10**6):
        result = assign_batch(
            mentors, young, ConflictIndex(pairs), candidates_per_person=2, whole_graph_pairs=whole
        )
        check_batch(mentors, young, pairs, result)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_mentors=3, max_young=5))
def test_batch_matches_brute_force_on_tiny_instances(instance):
    mentors, young, pairs = instance
    result = assign_batch(mentors, young, ConflictIndex(pairs))
    best = (0, 0)
    choices = [[None] + [m for m in mentors if allowed(m, y, pairs)] for y in young]
    for pick in itertools.product(*choices):
        used: dict = {}
        for m in pick:
            if m is not None:
                used[m.id] = used.get(m.id, 0) + 1
        by_id = {m.id: m for m in mentors}
        if any(by_id[k].caseload + n > by_id[k].capacity for k, n in used.items()):
            continue
        total = sum(cost(m, y) for m, y in zip(pick, young, strict=True) if m is not None)
        total += sum(sum(slots(by_id[k])[:n]) for k, n in used.items())
        key = (-sum(m is not None for m in pick), total)
        if key < (-best[0], best[1]):
            best = (-key[0], total)
    assert (len(result.assignments), result.total_cost) == best


@settings(max_examples=100, deadline=None)
@given(instances())
def test_exclusions_agree_with_the_reference_predicate(instance):
    mentors, young, pairs = instance
    index = ConflictIndex(pairs)
    for m in mentors:
        for y in young:
            assert (exclusions(m, y, index) == []) == allowed(m, y, pairs)


# ---------------------------------------------------------------- specifications

FELTHAM = "HMP/YOI Feltham"


def mo(**changes):
    fields = dict(
        id="mo", name="Mo", capacity=6, caseload=4, gender="male",
        languages=frozenset({"English", "Somali"}), boroughs_known=frozenset({"Southwark"}),
        custody_history=frozenset({FELTHAM}), cleared_establishments=frozenset({FELTHAM}),
    )  # fmt: skip
    return Mentor(**(fields | changes))


def jay(**changes):
    fields = dict(id="jay", name="Jay", borough="Southwark", language="Somali",
                  establishment=FELTHAM)  # fmt: skip
    return YoungPerson(**(fields | changes))


def test_explanation_reads_like_a_coordinator_would_say_it():
    result = suggest(jay(), [mo()], ConflictIndex())
    assert "; ".join(result.suggestions[0].reasons) == (
        "has been in Feltham; knows Southwark; speaks Somali; 2 of 6 places free"
    )


def test_explanation_lists_shared_experience_and_drawbacks():
    person = jay(borough="Lambeth", language="Tigrinya", age=17, current_mentor="kim",
                 lived_experience=frozenset({"Gang involvement", "Care experience"}))  # fmt: skip
    mentor = mo(age=39, lived_experience=frozenset({"care experience", "Gang Involvement"}))
    reasons = suggest(person, [mentor]).suggestions[0].reasons
    assert reasons == [
        "has been in Feltham",
        "shares lived experience: care experience, gang involvement",
        "2 of 6 places free",
        "would change mentor",
        "doesn't speak Tigrinya",
        "doesn't know Lambeth",
        "age gap 22 years",
    ]


def test_current_mentor_comes_first_for_continuity():
    kim = mo(id="kim", name="Kim")
    result = suggest(jay(current_mentor="kim"), [mo(), kim])
    assert [s.mentor_id for s in result.suggestions] == ["kim", "mo"]
    assert result.suggestions[0].reasons[0] == "already their mentor"
    assert result.suggestions[1].cost - result.suggestions[0].cost == 30


def test_expired_clearance_note_is_part_of_the_exclusion():
    mentor = mo(cleared_establishments=frozenset(),
                clearance_notes={"hmp/yoi feltham": "clearance expired 01/10/2026"})  # fmt: skip
    assert exclusions(mentor, jay()) == [
        Exclusion("clearance", "not cleared for HMP/YOI Feltham (clearance expired 01/10/2026)")
    ]


def test_every_exclusion_of_a_pair_is_reported_with_its_code():
    mentor = mo(ready=False, not_ready_reasons=("DBS renewal overdue since 01/10/2026",),
                caseload=6, exclusion_boroughs=frozenset({"southwark"}),
                exclusion_postcodes=frozenset({"SE15"}), non_associates=frozenset({"jay", "kay"}),
                current_mentees=frozenset({"lee"}), cleared_establishments=frozenset())  # fmt: skip
    person = jay(postcode="se154ab", associates=frozenset({"kay"}), mentor_gender_required="female")
    found = exclusions(mentor, person, ConflictIndex([("mo", "jay"), ("lee", "jay")]))
    assert [(e.code, e.reason) for e in found] == [
        ("not_ready", "not ready: DBS renewal overdue since 01/10/2026"),
        ("full", "no places free (6 of 6 taken)"),
        ("conflict", "recorded conflict with this young person"),
        ("conflict", "conflict with one of their current mentees"),
        ("licence", "licence condition: exclusion zone covers Southwark"),
        ("licence", "licence condition: exclusion zone covers SE15"),
        ("licence", "licence condition: non-association with this young person"),
        ("licence", "licence condition: non-association with an associate of this young person"),
        ("clearance", "not cleared for HMP/YOI Feltham"),
        ("gender", "young person needs a female mentor"),
    ]


def test_postcodes_compare_by_district():
    assert outward_code("SE15 4AB") == outward_code("se154ab") == outward_code("SE15") == "SE15"
    assert outward_code("N1 9GU") == outward_code("N19GU") == "N1"


def test_suggestions_are_ranked_by_cost_then_name_and_the_same_every_time():
    mentors = [mo(id=f"m{i}", name=name) for i, name in enumerate(["Zed", "Amy", "Bo", "amy"])]
    mentors.append(mo(id="far", name="Al", boroughs_known=frozenset()))
    first = suggest(jay(), mentors, k=4)
    assert [s.mentor_name for s in first.suggestions] == ["Amy", "amy", "Bo", "Zed"]
    assert suggest(jay(), list(reversed(mentors)), k=4).suggestions[0].mentor_id == "m1"
    assert suggest(jay(), mentors, k=10).suggestions[-1].mentor_name == "Al"


def test_suggest_lists_excluded_mentors_with_reasons():
    result = suggest(jay(), [mo(), mo(id="kim", name="Kim", caseload=6)], ConflictIndex())
    assert [e.mentor_id for e in result.excluded] == ["kim"]
    assert result.excluded[0].exclusions == [Exclusion("full", "no places free (6 of 6 taken)")]


def test_workload_spreads_new_mentees_evenly():
    mentors = [mo(id="a", name="A", caseload=0), mo(id="b", name="B", caseload=0)]
    young = [jay(id=f"y{i}") for i in range(4)]
    result = assign_batch(mentors, young, ConflictIndex())
    counts = [sum(a.mentor_id == m for a in result.assignments) for m in ("a", "b")]
    assert counts == [2, 2]


def test_young_person_with_no_suitable_mentor_is_reported_with_counts():
    mentors = [mo(id=f"m{i}", cleared_establishments=frozenset()) for i in range(40)]
    mentors += [mo(id="c1"), mo(id="c2"), mo(id="c3")]
    mentors += [mo(id="f1", caseload=6), mo(id="f2", caseload=6)]
    pairs = [("jay", "c1"), ("jay", "c2"), ("c3", "jay")]
    result = assign_batch(mentors, [jay()], ConflictIndex(pairs))
    assert result.assignments == []
    assert result.unassigned[0].reasons == [
        "no suitable mentor: 40 not cleared for HMP/YOI Feltham; 3 recorded conflicts; 2 full"
    ]


def test_young_person_who_lost_out_on_places_is_told_so():
    young = [jay(id=f"y{i}") for i in range(3)]
    mentors = [mo(caseload=5), mo(id="kim", caseload=5)]
    result = assign_batch(mentors, young, ConflictIndex())
    assert len(result.assignments) == 2
    assert result.unassigned[0].reasons == [
        "all 2 suitable mentors' places went to other young people"
    ]


def test_pricing_really_adds_arcs_when_candidates_are_too_few():
    # Two young people both want Mo most; one place each for Mo and Kim. With one arc
    # per person, the second person's only arc is Mo, so pricing must bring Kim in.
    mentors = [mo(caseload=5), mo(id="kim", name="Kim", caseload=5, boroughs_known=frozenset())]
    result = assign_batch(mentors, [jay(id="a"), jay(id="b")], ConflictIndex(),
                          candidates_per_person=1, whole_graph_pairs=0,
        candidates_per_mentor=0)  # fmt: skip
    assert len(result.assignments) == 2 and result.priced_in >= 1


def test_co_defendants_are_given_different_mentors():
    mentors = [mo(caseload=0), mo(id="kim", name="Kim", boroughs_known=frozenset())]
    young = [jay(id="a"), jay(id="b")]
    result = assign_batch(mentors, young, ConflictIndex([("a", "b")]))
    assert len({a.mentor_id for a in result.assignments}) == 2
    assert result.repairs == 1


def test_a_conflict_needs_two_people():
    with pytest.raises(ValueError, match="a conflict needs two different people: jay"):
        ConflictIndex([("jay", "jay")])


def test_bad_batches_are_refused_naming_the_id():
    with pytest.raises(ValueError, match="mentor mo: caseload 7 is more than capacity 6"):
        assign_batch([mo(caseload=7)], [jay()], ConflictIndex())
    with pytest.raises(ValueError, match="mentor mo: capacity -1 is negative"):
        assign_batch([mo(capacity=-1, caseload=0)], [jay()], ConflictIndex())
    with pytest.raises(ValueError, match="mentor mo appears more than once"):
        assign_batch([mo(), mo()], [jay()], ConflictIndex())
    with pytest.raises(ValueError, match="young person jay appears more than once"):
        assign_batch([mo()], [jay(), jay()], ConflictIndex())


def test_weights_must_be_whole_and_non_negative():
    with pytest.raises(ValueError, match="weight language_miss"):
        Weights(language_miss=-1)
    cheap = suggest(jay(language="Tigrinya"), [mo()], weights=Weights(language_miss=0))
    assert cheap.suggestions[0].cost == 13


def test_empty_batches():
    assert assign_batch([], [jay()], ConflictIndex()).unassigned[0].reasons == [
        "no suitable mentor: there are no mentors in this batch"
    ]
    assert assign_batch([mo()], [], ConflictIndex()).total_cost == 0
