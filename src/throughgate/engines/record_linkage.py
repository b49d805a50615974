"""Probabilistic record linkage of person records with splink (Fellegi-Sunter model).

Pure computation, no Django: `PersonRecord`s in, `LinkedPair`s out. The people app
loads the records and stores what comes back (people.linkage); bench/linkage.py and
the synthetic set (engines.synthetic_people) use this module directly.

How a pair is scored
--------------------
Each person becomes one row per name they are known by: their own name and every
alias ("Tyrese Whitlock" who is also "Ty Banks" gives two rows). Rows of the same
person are never compared; a pair of people scores as their best-matching pair of
names, so an alias on one record that is the other record's name is found.

Five comparisons, each with fixed m and u probabilities (see MODEL below and
docs/linkage.md for why they are fixed rather than trained):

- first name: exact / Jaro-Winkler >= 0.92 / same sound (metaphone) / Jaro-Winkler
  >= 0.8 / first and last name swapped / different;
- last name: exact / Jaro-Winkler >= 0.92 / same sound / Jaro-Winkler >= 0.8 /
  different;
- date of birth: exact / day and month transposed / one digit different (a typing
  slip) / within a year / different;
- identifiers (PNC ID, prison number, probation CRN): one of them the same / one
  recorded on both and different / nothing to compare;
- postcode: exact / same district (outward code) / different.

Blocking (which pairs are compared at all) keeps 100,000 people well inside a minute:
the same date of birth; date of birth with day and month transposed; the same sound of
both names and the same year of birth; or the same identifier.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from throughgate.engines.names import normalise, phonetic_key

# The prior: the chance that two records drawn at random are the same person. Fixed,
# so a pair scores the same whatever the size of the database it sits in; candidates
# are chosen by MATCH_WEIGHT_THRESHOLD, which is what was tuned on the synthetic set.
PRIOR = 1e-5
MATCH_WEIGHT_THRESHOLD = 3.5  # ~ probability 0.92 with the prior above


def probability_of(weight: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-weight))


@dataclass(frozen=True)
class PersonRecord:
    id: int
    forename: str
    surname: str
    date_of_birth: date | None
    postcode: str = ""
    pnc_id: str = ""
    prison_number: str = ""
    crn: str = ""
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LinkedPair:
    a: int  # the lower person id
    b: int
    match_weight: float
    match_probability: float
    agreements: tuple[str, ...]  # what agreed, in words, e.g. "date of birth: same"


@dataclass
class LinkageRun:
    pairs: list[LinkedPair]
    records: int  # people
    rows: int  # name rows (people + aliases)
    comparisons: int  # pairs of rows scored after blocking
    seconds: float
    notes: list[str] = field(default_factory=list)


# --- The model --------------------------------------------------------------------


def _level(label: str, sql: str, m: float, u: float, null: bool = False) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    else:
        level["m_probability"] = m
        level["u_probability"] = u
    return level


def _jw(col: str, threshold: float) -> str:
    return f"jaro_winkler_similarity({col}_l, {col}_r) >= {threshold}"


# Level labels double as the words shown to the admin ("which fields agreed"); the
# first word before ":" names the field. `None` labels are not shown (disagreement).
COMPARISONS: list[dict[str, Any]] = [
    {
        "output_column_name": "forename",
        "comparison_description": "first name",
        "comparison_levels": [
            _level("first name: missing", "forename_l IS NULL OR forename_r IS NULL", 0, 0, True),
            _level("first name: same", "forename_l = forename_r", 0.86, 0.004),
            _level("first name: nearly the same", _jw("forename", 0.92), 0.07, 0.002),
            _level("first name: sounds alike", "forename_sound_l = forename_sound_r", 0.05, 0.004),
            _level("first name: similar", _jw("forename", 0.8), 0.02, 0.03),
            _level(
                "names: first and last swapped",
                "forename_l = surname_r AND surname_l = forename_r",
                0.01,
                0.00001,
            ),
            # True duplicates almost never have unrelated first names (a nickname or
            # street name is an alias row, compared separately), so this counts
            # heavily against a pair: it is what keeps twins apart.
            _level("first name: different", "ELSE", 0.001, 0.964),
        ],
    },
    {
        "output_column_name": "surname",
        "comparison_description": "last name",
        "comparison_levels": [
            _level("last name: missing", "surname_l IS NULL OR surname_r IS NULL", 0, 0, True),
            _level("last name: same", "surname_l = surname_r", 0.85, 0.002),
            _level("last name: nearly the same", _jw("surname", 0.92), 0.07, 0.001),
            _level("last name: sounds alike", "surname_sound_l = surname_sound_r", 0.05, 0.003),
            _level("last name: similar", _jw("surname", 0.8), 0.02, 0.02),
            _level("last name: different", "ELSE", 0.03, 0.977),
        ],
    },
    {
        "output_column_name": "dob",
        "comparison_description": "date of birth",
        "comparison_levels": [
            _level("date of birth: missing", "dob_l IS NULL OR dob_r IS NULL", 0, 0, True),
            _level("date of birth: same", "dob_l = dob_r", 0.88, 0.0003),
            _level(
                "date of birth: day and month swapped",
                "dob_swapped_l = dob_r",
                0.04,
                0.00003,
            ),
            _level(
                "date of birth: one digit different",
                "levenshtein(dob_l, dob_r) <= 1",
                0.05,
                0.006,
            ),
            _level(
                "date of birth: within a year",
                "abs(date_diff('day', CAST(dob_l AS DATE), CAST(dob_r AS DATE))) <= 366",
                0.01,
                0.07,
            ),
            _level("date of birth: different", "ELSE", 0.02, 0.9257),
        ],
    },
    {
        "output_column_name": "identifiers",
        "comparison_description": "PNC ID, prison number or CRN",
        "comparison_levels": [
            _level(
                "identifiers: none to compare",
                "(pnc_id_l IS NULL OR pnc_id_r IS NULL)"
                " AND (prison_number_l IS NULL OR prison_number_r IS NULL)"
                " AND (crn_l IS NULL OR crn_r IS NULL)",
                0,
                0,
                True,
            ),
            _level(
                "identifiers: same",
                "pnc_id_l = pnc_id_r OR prison_number_l = prison_number_r OR crn_l = crn_r",
                0.9,
                0.000001,
            ),
            # Each identifier is unique to one person in Throughgate, so two records
            # carrying different ones are most likely two people.
            _level("identifiers: different", "ELSE", 0.05, 0.999999),
        ],
    },
    {
        "output_column_name": "postcode",
        "comparison_description": "postcode",
        "comparison_levels": [
            _level("postcode: missing", "postcode_l IS NULL OR postcode_r IS NULL", 0, 0, True),
            _level("postcode: same", "postcode_l = postcode_r", 0.55, 0.001),
            _level("postcode: same district", "district_l = district_r", 0.15, 0.02),
            _level("postcode: different", "ELSE", 0.3, 0.979),
        ],
    },
]

_SAME_PERSON = "l.person_id <> r.person_id"
BLOCKING_RULES = [
    f"l.dob = r.dob AND {_SAME_PERSON}",
    f"l.dob_swapped = r.dob AND {_SAME_PERSON}",
    f"l.surname_sound = r.surname_sound AND l.forename_sound = r.forename_sound"
    f" AND l.birth_year = r.birth_year AND {_SAME_PERSON}",
    # A slip in the year: the same sounds and the same day and month.
    f"l.surname_sound = r.surname_sound AND l.forename_sound = r.forename_sound"
    f" AND substr(l.dob, 6) = substr(r.dob, 6) AND {_SAME_PERSON}",
    f"l.pnc_id = r.pnc_id AND {_SAME_PERSON}",
    f"l.prison_number = r.prison_number AND {_SAME_PERSON}",
    f"l.crn = r.crn AND {_SAME_PERSON}",
]


def settings() -> dict[str, Any]:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "row_id",
        "probability_two_random_records_match": PRIOR,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in BLOCKING_RULES
        ],
        "comparisons": COMPARISONS,
        "additional_columns_to_retain": ["person_id"],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
    }


# --- Preparing the rows -----------------------------------------------------------


def _swapped(day: date | None) -> str | None:
    """The date with day and month transposed, when that is a different real date."""
    if day is None or day.day > 12 or day.day == day.month:
        return None
    try:
        return date(day.year, day.day, day.month).isoformat()
    except ValueError:
        return None


def _clean_postcode(postcode: str) -> tuple[str | None, str | None]:
    compact = "".join((postcode or "").upper().split())
    if len(compact) < 5:
        return (compact or None), (compact or None)
    return f"{compact[:-3]} {compact[-3:]}", compact[:-3]


def _or_none(value: str) -> str | None:
    value = (value or "").strip().upper()
    return value or None


def rows_of(records: Iterable[PersonRecord]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for record in records:
        dob = record.date_of_birth
        postcode, district = _clean_postcode(record.postcode)
        shared = {
            "person_id": record.id,
            "dob": dob.isoformat() if dob else None,
            "dob_swapped": _swapped(dob),
            "birth_year": dob.year if dob else None,
            "postcode": postcode,
            "district": district,
            "pnc_id": _or_none(record.pnc_id),
            "prison_number": _or_none(record.prison_number),
            "crn": _or_none(record.crn),
        }
        names = [(record.forename, record.surname)]
        for forename, surname in record.aliases:
            # A street name alone ("Shadow") is compared as "Shadow Whitlock": a bare
            # first name shared by two people is no evidence they are one.
            alias = (forename or record.forename, surname or record.surname)
            if alias not in names:
                names.append(alias)
        for forename, surname in names:
            fn, sn = normalise(forename), normalise(surname)
            rows.append(
                {
                    **shared,
                    "row_id": len(rows),
                    "forename": fn or None,
                    "surname": sn or None,
                    "forename_sound": phonetic_key(fn) or None,
                    "surname_sound": phonetic_key(sn) or None,
                }
            )
    return rows


# --- Running it -------------------------------------------------------------------


def _level_weights() -> dict[str, list[tuple[float, str]]]:
    """Each comparison's levels as (match weight, words), to name the level a pair
    reached from the per-comparison weight splink returns (`mw_<name>`)."""
    table: dict[str, list[tuple[float, str]]] = {}
    for comparison in COMPARISONS:
        table[comparison["output_column_name"]] = [
            (math.log2(level["m_probability"] / level["u_probability"]), level["label_for_charts"])
            for level in comparison["comparison_levels"]
            if not level.get("is_null_level")
        ]
    return table


_LEVEL_WEIGHTS = _level_weights()


def _agreements(weights: dict[str, float]) -> tuple[str, ...]:
    """The levels that count for the pair, in words (missing and different left out)."""
    words = []
    for name, levels in _LEVEL_WEIGHTS.items():
        weight = weights.get(name)
        if weight is None or math.isnan(weight) or weight == 0.0:
            continue  # missing on one side: no evidence either way
        closest, words_for = min(levels, key=lambda level: abs(level[0] - weight))
        if abs(closest - weight) < 1e-6 and closest > 0:
            words.append(words_for)
    return tuple(words)


def link(
    records: Sequence[PersonRecord],
    *,
    threshold: float = MATCH_WEIGHT_THRESHOLD,
    only_involving: set[int] | None = None,
) -> LinkageRun:
    """Score every blocked pair of people and return those at or above `threshold`
    (a match weight), best pair of names per pair of people. `only_involving`: keep
    only pairs with at least one of these people (intake and import checks)."""
    import duckdb
    import pandas as pd
    from splink import DuckDBAPI, Linker

    started = time.perf_counter()
    rows = rows_of(records)
    run = LinkageRun(pairs=[], records=len(records), rows=len(rows), comparisons=0, seconds=0.0)
    if len(records) < 2:
        run.seconds = time.perf_counter() - started
        return run
    logging.getLogger("splink").setLevel(logging.WARNING)
    connection = duckdb.connect(":memory:")
    try:
        frame = pd.DataFrame.from_records(rows)
        db_api = DuckDBAPI(connection=connection)
        table = db_api.register(frame, table_name="people_rows")
        linker = Linker(table, settings(), log_level=logging.WARNING)
        # Scored without a threshold so the benchmark can say how many pairs the
        # blocking let through; the filtering is one more query inside DuckDB.
        predictions = linker.inference.predict()
        name = predictions.physical_name
        # The table name is splink's own, never input.
        count = f"SELECT count(*) FROM {name}"  # noqa: S608
        run.comparisons = int(connection.execute(count).fetchall()[0][0])
        above = f"SELECT * FROM {name} WHERE match_weight >= ?"  # noqa: S608
        scored = connection.execute(above, [float(threshold)]).df()
    finally:
        connection.close()
    best: dict[tuple[int, int], LinkedPair] = {}
    for item in scored.to_dict("records"):
        a, b = sorted((int(item["person_id_l"]), int(item["person_id_r"])))
        if only_involving is not None and a not in only_involving and b not in only_involving:
            continue
        weight = float(item["match_weight"])
        if math.isnan(weight):
            continue
        if (a, b) in best and best[(a, b)].match_weight >= weight:
            continue
        weights = {name: float(item.get(f"mw_{name}", math.nan)) for name in _LEVEL_WEIGHTS}
        best[(a, b)] = LinkedPair(a, b, weight, probability_of(weight), _agreements(weights))
    run.pairs = sorted(best.values(), key=lambda p: (-p.match_weight, p.a, p.b))
    run.seconds = time.perf_counter() - started
    return run
