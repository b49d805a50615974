"""Reoffending from CSV files (engines.reoffending_files) and `throughgate reoffending`."""

from __future__ import annotations

import json
from datetime import date

import pytest

from throughgate.cli import main
from throughgate.engines.reoffending_files import (
    ReoffendingFileError,
    parse_date,
    read_events,
    read_people,
    reoffending_files,
    result_to_json,
)

PEOPLE_HEADER = "person_id,index_date"
EVENTS_HEADER = "person_id,offence_date,disposal_date,disposal_type"
JSON_KEYS = {
    "as_of", "n_people", "n_mature", "n_reoffenders", "binary_rate", "rate_ci_low",
    "rate_ci_high", "frequency_per_person", "frequency_per_reoffender", "mean_days_to_first",
    "back_in_custody_rate", "km",
}  # fmt: skip


def write(tmp_path, name, *lines, encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


@pytest.fixture
def cohort(tmp_path):
    # Four people released on 1 January 2023 (mature from 1 July 2024), one in 2024.
    # P1: two offences proven at one hearing (days 10 and 40), custodial.
    # P2: a youth caution for an offence on day 100. P3: recalled only. P4: nothing.
    # P5: released 2024-01-01, not mature on 2024-12-31.
    people = write(
        tmp_path, "people.csv", PEOPLE_HEADER + ",age_band",
        "P1,2023-01-01,18–20", "P2,01/01/2023,10–17", "P3,2023-01-01,18–20",
        "P4,2023-01-01,25+", "P5,2024-01-01,25+",
    )  # fmt: skip
    events = write(
        tmp_path, "events.csv", EVENTS_HEADER + ",custodial",
        "P1,2023-01-11,2023-03-01,conviction,yes",
        "P1,2023-02-10,2023-03-01,conviction,yes",
        "P2,11/04/2023,01/05/2023,Youth caution,",
        "P3,,2023-06-01,recall,",
        "",
    )  # fmt: skip
    return people, events


def test_files_give_the_measures_overall_and_by_group(cohort):
    report = reoffending_files(*cohort, as_of=date(2024, 12, 31))
    m = report.overall
    assert (m.n_people, m.n_mature, m.n_immature) == (5, 4, 1)
    assert m.n_reoffenders == 2 and m.binary_rate == 0.5
    assert m.frequency_per_person == 0.75 and m.frequency_per_reoffender == 1.5
    assert m.mean_days_to_first == (10 + 100) / 2
    assert m.n_back_in_custody == 2 and m.recalls_without_new_offence == 1
    assert list(report.groups) == ["age_band"]
    assert report.groups["age_band"]["18–20"].binary_rate == 0.5


def test_people_columns_beyond_the_required_become_groups(tmp_path):
    path = write(tmp_path, "people.csv", "Person_ID,Index_Date,Gender", "P1,2023-01-01,female")
    [person] = read_people(path)
    assert person.index_date == date(2023, 1, 1)
    assert person.groups == {"Gender": "female"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-02-29", date(2024, 2, 29)), ("29/02/2024", date(2024, 2, 29)),
     ("1/3/2024", date(2024, 3, 1)), (" 2024-03-01 ", date(2024, 3, 1))],
)  # fmt: skip
def test_dates_are_iso_or_day_month_year(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2024", "2023-02-29", "03/13/2024", "2024/01/05", "soon"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(text)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("P1,2023-01-01,31/02/2024,conviction",
         'events.csv row 3, column disposal_date: "31/02/2024" is not a date'),
        ("P1,2023-01-01,2023-02-01,fine",
         'events.csv row 3, column disposal_type: "fine" is not one of'),
        ("P1,2023-03-01,2023-02-01,conviction",
         "events.csv row 3, column disposal_date: 2023-02-01 is before the offence date"),
        ("P9,2023-01-01,2023-02-01,conviction",
         'events.csv row 3, column person_id: "P9" is not in the people file'),
        (",2023-01-01,2023-02-01,conviction", "events.csv row 3, column person_id: is empty"),
        ("P1,,2023-02-01,caution",
         "events.csv row 3, column offence_date: a caution needs an offence date"),
        ("P1,2023-01-01,2023-02-01,conviction,perhaps",
         'events.csv row 3, column custodial: "perhaps" is not yes or no'),
    ],
)  # fmt: skip
def test_bad_event_cells_name_the_file_row_and_column(tmp_path, row, message):
    people = read_people(write(tmp_path, "people.csv", PEOPLE_HEADER, "P1,2022-12-01"))
    header = EVENTS_HEADER + (",custodial" if row.count(",") == 4 else "")
    path = write(tmp_path, "events.csv", header, "P1,2023-01-01,2023-02-01,conviction", row)
    with pytest.raises(ReoffendingFileError, match=message):
        read_events(path, people)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((PEOPLE_HEADER, "P1,2023-01-01", "P1,2023-02-01"),
         'people.csv row 3, column person_id: "P1" is already used on row 2'),
        ((PEOPLE_HEADER, "P1,"), "people.csv row 2, column index_date: is empty"),
        ((PEOPLE_HEADER, "P1,1 Jan 2023"), 'people.csv row 2, column index_date: "1 Jan 2023"'),
        (("person_id,release",), "people.csv row 1: missing column index_date"),
        ((PEOPLE_HEADER,), "people.csv has a header but no rows"),
        ((PEOPLE_HEADER + ",group,Group", "P1,2023-01-01,a,b"), "column Group appears twice"),
        ((PEOPLE_HEADER, "P1,2023-01-01,extra"), "people.csv row 2: more cells than the header"),
    ],
)  # fmt: skip
def test_bad_people_files_are_explained(tmp_path, lines, message):
    with pytest.raises(ReoffendingFileError, match=message):
        read_people(write(tmp_path, "people.csv", *lines))


def test_unknown_event_columns_and_missing_files_are_explained(tmp_path):
    path = write(tmp_path, "events.csv", EVENTS_HEADER + ",sentence", "P1,,,recall,x")
    with pytest.raises(ReoffendingFileError, match="events.csv row 1: unknown column 'sentence'"):
        read_events(path)
    with pytest.raises(ReoffendingFileError, match="nothing.csv: no such file"):
        read_events(tmp_path / "nothing.csv")
    latin1 = write(tmp_path, "people.csv", PEOPLE_HEADER + ",name", "P1,2023-01-01,Zoë",
                   encoding="latin-1")  # fmt: skip
    with pytest.raises(ReoffendingFileError, match="is not UTF-8 text"):
        read_people(latin1)


def test_an_events_file_with_only_a_header_means_nobody_reoffended(tmp_path):
    assert read_events(write(tmp_path, "events.csv", EVENTS_HEADER)) == []


def test_json_has_exactly_the_documented_keys(cohort):
    data = result_to_json(reoffending_files(*cohort, as_of=date(2024, 12, 31)).overall)
    assert set(data) == JSON_KEYS
    assert data["as_of"] == "2024-12-31"
    assert data["km"][0] == {"day": 0, "survival": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    assert [p["day"] for p in data["km"]] == [0, 10, 100]
    assert set(data["km"][1]) == {"day", "survival", "ci_low", "ci_high"}
    json.dumps(data, allow_nan=False)  # plain JSON: no NaN


# --- the command -----------------------------------------------------------------------


def test_cli_writes_json(cohort, tmp_path, capsys):
    people, events = cohort
    out = tmp_path / "out.json"
    args = ["reoffending", "--people", str(people), "--events", str(events), "--as-of",
            "31/12/2024", "--json", str(out)]  # fmt: skip
    assert main(args) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == JSON_KEYS
    assert data["n_mature"] == 4 and data["binary_rate"] == 0.5
    assert "2 of 4 counted people reoffended" in capsys.readouterr().out


def test_cli_json_to_stdout(cohort, capsys):
    people, events = cohort
    assert main(["reoffending", "--people", str(people), "--events", str(events),
                 "--as-of", "2024-12-31", "--json", "-"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["n_people"] == 5


def test_cli_prints_a_readable_report(cohort, capsys):
    people, events = cohort
    args = ["reoffending", "--people", str(people), "--events", str(events), "--as-of",
            "2024-12-31"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Proven reoffending as of 2024-12-31" in out
    assert "Reoffended: 2 of 4 = 50.0%" in out
    assert "not yet 18 months on: 1" in out
    assert "By age_band:" in out


def test_cli_as_of_defaults_to_today(cohort, capsys):
    people, events = cohort
    assert main(["reoffending", "--people", str(people), "--events", str(events),
                 "--json", "-"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["as_of"] == date.today().isoformat()


def test_cli_bad_data_is_one_line_and_exit_1(tmp_path, capsys):
    people = write(tmp_path, "people.csv", PEOPLE_HEADER, "P1,2023-01-01")
    events = write(tmp_path, "events.csv", EVENTS_HEADER, "P1,2023-01-01,31/02/2024,conviction")
    assert main(["reoffending", "--people", str(people), "--events", str(events)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("throughgate: ") and err.count("\n") == 1
    assert 'events.csv row 2, column disposal_date: "31/02/2024" is not a date' in err


@pytest.mark.parametrize(
    "args",
    [["reoffending", "--people", "p.csv"], ["reoffending", "--people", "p.csv", "--events",
      "e.csv", "--as-of", "tomorrow"]],
)  # fmt: skip
def test_cli_usage_errors_exit_2(args, capsys):
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err
