"""Name matching for person search and duplicate warnings.

Pure computation, no Django: strings in, scores out. Misspelt names are the
norm in referrals ("Jon Smyth" for "John Smith", "Mohammed"/"Muhammad"), so
candidates are found by phonetic key and by prefix, then ranked by Jaro-Winkler
similarity, which rewards agreement at the start of a name where typists err least.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jellyfish
from rapidfuzz.distance import JaroWinkler

_NOT_LETTERS = re.compile(r"[^a-z ]+")


def normalise(name: str) -> str:
    """Lower case, accents removed, hyphens and apostrophes dropped, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = ascii_only.casefold().replace("-", " ").replace("'", "").replace("’", "")
    return " ".join(_NOT_LETTERS.sub(" ", lowered).split())


def phonetic_key(name: str) -> str:
    """A sound-alike key of the whole name part ("Smith" and "Smyth" share one)."""
    cleaned = normalise(name).replace(" ", "")
    if not cleaned:
        return ""
    return jellyfish.metaphone(cleaned)[:12]


def prefix_key(name: str) -> str:
    """The first two letters: a second net for misspellings that change the sound."""
    return normalise(name).replace(" ", "")[:2]


def similarity(a: str, b: str) -> float:
    """Jaro-Winkler similarity of two normalised names, 0..1."""
    a, b = normalise(a), normalise(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    score = JaroWinkler.similarity(a.replace(" ", ""), b.replace(" ", ""))
    if phonetic_key(a) == phonetic_key(b):
        # Sounding alike halves the remaining distance rather than erasing it,
        # so "Jon" stays nearer "John" than "Jane" although all three share a key.
        score = (score + 1.0) / 2
    return float(score)


@dataclass(frozen=True)
class NameCandidate:
    key: int  # caller's identifier (e.g. a person id)
    forename: str
    surname: str


@dataclass(frozen=True)
class NameMatch:
    key: int
    score: float  # 0..1
    forename: str
    surname: str


def score_full_name(query_forename: str, query_surname: str, forename: str, surname: str) -> float:
    """How well a two-part query matches a name, allowing the parts to be swapped.

    A missing query part (one-word search) is scored against whichever part fits best.
    """
    if query_forename and query_surname:
        straight = 0.45 * similarity(query_forename, forename) + 0.55 * similarity(
            query_surname, surname
        )
        swapped = 0.45 * similarity(query_forename, surname) + 0.55 * similarity(
            query_surname, forename
        )
        return max(straight, swapped * 0.97)
    single = query_forename or query_surname
    return max(similarity(single, surname), similarity(single, forename) * 0.98)


def split_query_name(text: str) -> tuple[str, str]:
    """Split free text into (forename, surname): first word and last word."""
    words = normalise(text).split()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    return words[0], words[-1]


def rank_names(
    query: str,
    candidates: Iterable[NameCandidate],
    threshold: float = 0.8,
    limit: int = 50,
) -> list[NameMatch]:
    """Best score per key, highest first; ties broken by name for a stable order."""
    query_forename, query_surname = split_query_name(query)
    best: dict[int, NameMatch] = {}
    for cand in candidates:
        score = score_full_name(query_forename, query_surname, cand.forename, cand.surname)
        if score < threshold:
            continue
        current = best.get(cand.key)
        if current is None or score > current.score:
            best[cand.key] = NameMatch(cand.key, round(score, 4), cand.forename, cand.surname)
    ordered = sorted(best.values(), key=lambda m: (-m.score, m.surname, m.forename, m.key))
    return ordered[:limit]


def search_keys(query: str) -> tuple[set[str], set[str]]:
    """The phonetic and prefix keys a query's words could be indexed under."""
    words = normalise(query).split()
    return {phonetic_key(w) for w in words if w}, {prefix_key(w) for w in words if w}


@dataclass(frozen=True)
class DuplicateCandidate:
    key: int
    forename: str
    surname: str
    date_of_birth: str | None  # ISO date, or None when unknown
    identifiers: Sequence[str] = ()  # normalised prison number, PNC ID, CRN …


@dataclass(frozen=True)
class DuplicateMatch:
    key: int
    score: float
    reasons: tuple[str, ...]


def _dob_agreement(a: str | None, b: str | None) -> str:
    """'same', 'close' (one typing slip: day/month swapped or one digit) or ''."""
    if not a or not b:
        return ""
    if a == b:
        return "same"
    ya, ma, da = a.split("-")
    yb, mb, db = b.split("-")
    if ya == yb and ma == db and da == mb:
        return "close"
    differing = sum(x != y for x, y in zip(a, b, strict=True))
    return "close" if differing == 1 else ""


def find_duplicates(
    forename: str,
    surname: str,
    date_of_birth: str | None,
    identifiers: Sequence[str],
    candidates: Iterable[DuplicateCandidate],
) -> list[DuplicateMatch]:
    """Likely existing records for a person about to be entered.

    A shared identifier is decisive; otherwise a similar name needs the same (or
    nearly the same) date of birth, since common names recur across thousands
    of young people.
    """
    wanted = {i for i in identifiers if i}
    best: dict[int, DuplicateMatch] = {}
    for cand in candidates:
        reasons: list[str] = []
        shared = wanted.intersection(i for i in cand.identifiers if i)
        name_score = score_full_name(
            normalise(forename), normalise(surname), cand.forename, cand.surname
        )
        dob = _dob_agreement(date_of_birth, cand.date_of_birth)
        if shared:
            reasons.append("same identifier")
            score = 1.0
        elif dob == "same" and name_score >= 0.8:
            reasons.append("same date of birth")
            score = 0.5 + 0.5 * name_score
        elif dob == "close" and name_score >= 0.88:
            reasons.append("nearly the same date of birth")
            score = 0.4 + 0.5 * name_score
        elif not date_of_birth and name_score >= 0.95:
            score = 0.5 * name_score
        else:
            continue
        if name_score >= 0.8:
            reasons.append("similar name" if name_score < 1 else "same name")
        current = best.get(cand.key)
        if current is None or score > current.score:
            best[cand.key] = DuplicateMatch(cand.key, round(score, 4), tuple(reasons))
    return sorted(best.values(), key=lambda m: (-m.score, m.key))
