"""Matching from CSV files (engines.matching_files): clear messages for bad files."""

from __future__ import annotations

import pytest

from throughgate.engines.matching_files import (
    MatchFileError,
    match_files,
    read_conflicts,
    read_mentors,
    read_young_people,
    result_to_json,
)

MENTOR_HEADER = ("mentor_id,capacity,gender,languages,boroughs_known,exclusion_boroughs,"
                 "lived_experience,cleared_establishments")  # fmt: skip
YOUNG_HEADER = ("person_id,gender,mentor_gender_required,borough,language,establishment,"
                "lived_experience")  # fmt: skip


def write(tmp_path, name, *lines, encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def mentors_file(tmp_path, *rows, header=MENTOR_HEADER):
    return write(tmp_path, "mentors.csv", header, *rows)


def test_mentors_are_read_with_lists_and_optional_columns(tmp_path):
    path = mentors_file(
        tmp_path,
        "M1,6,male,English; Somali,Southwark;Lambeth,Hackney,Gang involvement,HMP/YOI Feltham,4,no",
        header=MENTOR_HEADER + ",caseload,ready",
    )
    [mentor] = read_mentors(path)
    assert mentor.id == "M1" and mentor.capacity == 6 and mentor.caseload == 4
    assert mentor.languages == {"English", "Somali"}
    assert mentor.boroughs_known == {"Southwark", "Lambeth"}
    assert mentor.exclusion_boroughs == {"Hackney"} and mentor.ready is False


def test_blank_languages_mean_english(tmp_path):
    [mentor] = read_mentors(mentors_file(tmp_path, "M1,6,male,,,,,"))
    assert mentor.languages == {"English"}


def test_excel_byte_order_mark_is_accepted(tmp_path):
    path = write(tmp_path, "mentors.csv", MENTOR_HEADER, "M1,6,male,,,,,", encoding="utf-8-sig")
    assert read_mentors(path)[0].id == "M1"


@pytest.mark.parametrize(
    ("row", "extra", "message"),
    [
        ("M1,six,male,,,,,", "", 'mentors.csv row 2, column capacity: "six" is not a whole number'),
        ("M1,,male,,,,,", "", "mentors.csv row 2, column capacity: is empty"),
        ("M1,-2,male,,,,,", "", "mentors.csv row 2, column capacity: -2 must not be negative"),
        (",6,male,,,,,", "", "mentors.csv row 2, column mentor_id: is empty"),
        ("M1,6,male,,,,,,7", ",caseload", "mentors.csv row 2, column caseload: 7 is more than "
                                          "the capacity 6"),
        ("M1,6,male,,,,,,perhaps", ",ready", 'mentors.csv row 2, column ready: "perhaps" is not '
                                             "yes or no"),
    ],
)  # fmt: skip
def test_bad_mentor_cells_name_the_file_row_and_column(tmp_path, row, extra, message):
    path = mentors_file(tmp_path, row, header=MENTOR_HEADER + extra)
    with pytest.raises(MatchFileError) as caught:
        read_mentors(path)
    assert str(caught.value) == str(tmp_path / message.split(" ", 1)[0]) + " " + message.split(
        " ", 1)[1]  # fmt: skip


def test_row_numbers_are_as_a_spreadsheet_shows_them(tmp_path):
    path = mentors_file(tmp_path, "M1,6,male,,,,,", "M2,6,male,,,,,", "M3,six,male,,,,,")
    with pytest.raises(MatchFileError, match=r"mentors.csv row 4, column capacity: \"six\""):
        read_mentors(path)


def test_duplicate_ids_point_at_both_rows(tmp_path):
    path = mentors_file(tmp_path, "M1,6,male,,,,,", "M1,3,male,,,,,")
    with pytest.raises(MatchFileError, match='row 3, column mentor_id: "M1" is already used '
                                             "on row 2"):  # fmt: skip
        read_mentors(path)


def test_missing_and_unknown_columns_are_named(tmp_path):
    path = write(tmp_path, "young.csv", "person_id,gender,borough", "Y1,male,Southwark")
    with pytest.raises(
        MatchFileError,
        match="young.csv row 1: missing columns "
        "mentor_gender_required, language, establishment, lived_experience",
    ):
        read_young_people(path)
    path = write(tmp_path, "young.csv", YOUNG_HEADER + ",borugh", "Y1,male,,,,,,x")
    with pytest.raises(MatchFileError, match="unknown column 'borugh'"):
        read_young_people(path)


def test_empty_files_and_missing_files_are_explained(tmp_path):
    empty = write(tmp_path, "empty.csv", "")
    with pytest.raises(MatchFileError, match="empty.csv is empty"):
        read_mentors(empty)
    header_only = mentors_file(tmp_path)
    with pytest.raises(MatchFileError, match="mentors.csv has a header but no rows"):
        read_mentors(header_only)
    with pytest.raises(MatchFileError, match="nowhere.csv: no such file"):
        read_mentors(tmp_path / "nowhere.csv")


def test_a_file_that_is_not_utf8_is_explained(tmp_path):
    path = write(tmp_path, "mentors.csv", MENTOR_HEADER, "M1,6,male,,Hämmersmith,,,",
                 encoding="latin-1")  # fmt: skip
    with pytest.raises(MatchFileError, match="not UTF-8"):
        read_mentors(path)


def test_self_conflict_is_refused_with_its_row(tmp_path):
    path = write(tmp_path, "conflicts.csv", "a_id,b_id", "Y1,M1", "Y2,Y2")
    with pytest.raises(MatchFileError, match="conflicts.csv row 3, column b_id: a conflict "
                                             "needs two different people: Y2"):  # fmt: skip
        read_conflicts(path)


def test_young_people_blanks_mean_no_requirement(tmp_path):
    path = write(tmp_path, "young.csv", YOUNG_HEADER, "Y1,female,,,,,")
    [person] = read_young_people(path)
    assert person.mentor_gender_required == "" and person.establishment == ""
    assert person.language == "English" and person.current_mentor is None


def test_match_files_gives_the_json_shape(tmp_path):
    mentors = mentors_file(tmp_path, "M1,2,female,English,Southwark,,Care experience,HMP Isis")
    young = write(tmp_path, "young.csv", YOUNG_HEADER,
                  "Y1,female,female,Southwark,English,HMP Isis,Care experience",
                  "Y2,male,,Lambeth,English,HMP Feltham,")  # fmt: skip
    conflicts = write(tmp_path, "conflicts.csv", "a_id,b_id")
    out = result_to_json(match_files(mentors, young, conflicts))
    assert out == {
        "assignments": [{"person_id": "Y1", "mentor_id": "M1", "cost": 8, "reasons": [
            "shares lived experience: care experience", "knows Southwark", "2 of 2 places free",
            "hasn't been in Isis"]}],
        "unassigned": [{"person_id": "Y2", "reasons": [
            "no suitable mentor: 1 not cleared for HMP Feltham"]}],
        "total_cost": 8,
    }  # fmt: skip
