"""Name matching (engines.names): pure, no database."""

from __future__ import annotations

from throughgate.engines.names import (
    DuplicateCandidate,
    NameCandidate,
    find_duplicates,
    normalise,
    phonetic_key,
    rank_names,
    similarity,
)


def test_normalise_drops_accents_case_hyphens_and_apostrophes():
    assert normalise("  Zoë  O'Brien-Smith ") == "zoe obrien smith"


def test_sound_alike_names_share_a_phonetic_key():
    assert phonetic_key("Smith") == phonetic_key("Smyth")
    assert phonetic_key("Jon") == phonetic_key("John")
    assert phonetic_key("Mohammed") == phonetic_key("Muhammad")


def test_similarity_prefers_the_closer_spelling():
    assert similarity("Jon", "John") > similarity("Jon", "Jane")
    assert similarity("smith", "SMITH") == 1.0
    assert similarity("", "Smith") == 0.0


PEOPLE = [
    NameCandidate(1, "John", "Smith"),
    NameCandidate(2, "Joan", "Smart"),
    NameCandidate(3, "Jane", "Smith"),
    NameCandidate(4, "Kwame", "Mensah"),
    NameCandidate(5, "Jonathan", "Smythe"),
]


def test_jon_smyth_finds_john_smith_first():
    ranked = rank_names("Jon Smyth", PEOPLE)
    assert ranked[0].key == 1
    assert 4 not in [m.key for m in ranked]


def test_swapped_first_and_last_names_still_match():
    ranked = rank_names("Smith John", PEOPLE)
    assert ranked[0].key == 1


def test_a_single_word_matches_either_name():
    assert [m.key for m in rank_names("Mensa", PEOPLE)] == [4]
    assert rank_names("Kwame", PEOPLE)[0].key == 4


def test_each_person_appears_once_with_their_best_name():
    ranked = rank_names(
        "Jon Smith", [NameCandidate(1, "John", "Smith"), NameCandidate(1, "J", "Smiff")]
    )
    assert len(ranked) == 1 and ranked[0].forename == "John"


def test_duplicates_need_a_shared_identifier_or_a_matching_birthday():
    candidates = [
        DuplicateCandidate(1, "John", "Smith", "2007-03-14", ["A1234BC"]),
        DuplicateCandidate(2, "John", "Smith", "1999-01-01", []),
        DuplicateCandidate(3, "Kwame", "Mensah", "2006-02-02", ["X123456"]),
    ]
    found = find_duplicates("Jon", "Smyth", "2007-03-14", [], candidates[:3])
    assert [m.key for m in found] == [1]
    assert "same date of birth" in found[0].reasons
    by_id = find_duplicates("Someone", "Else", None, ["X123456"], candidates[:3])
    assert [m.key for m in by_id] == [3] and by_id[0].score == 1.0


def test_day_and_month_swapped_counts_as_nearly_the_same_birthday():
    candidates = [DuplicateCandidate(1, "John", "Smith", "2007-03-04", [])]
    found = find_duplicates("John", "Smith", "2007-04-03", [], candidates)
    assert [m.key for m in found] == [1]
    assert "nearly the same date of birth" in found[0].reasons


def test_a_similar_name_with_a_different_birthday_is_not_a_duplicate():
    candidates = [DuplicateCandidate(1, "John", "Smith", "2001-09-30", [])]
    assert find_duplicates("John", "Smith", "2007-03-14", [], candidates) == []
