"""Impact evaluation from files (engines.evaluation_files) and `throughgate evaluate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from throughgate.cli import main
from throughgate.engines.evaluation import EvaluationSpec, evaluate
from throughgate.engines.evaluation_files import (
    EvaluationFileError,
    evaluate_files,
    read_table,
    result_to_json,
)

from .test_evaluation import population

pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated and will be removed")

SPEC = EvaluationSpec("reoffended", "binary", ("age", "previous"), ("offence",), ("gender",))
JSON_KEYS = {
    "estimate", "ci_low", "ci_high", "p_value", "n_treated", "n_treated_matched",
    "n_comparison_matched", "treated_mean", "comparison_mean", "balance", "n_trimmed",
    "wording",
}  # fmt: skip
OPTIONS = ["--outcome", "reoffended", "--covariates", "age,previous", "--categorical",
           "offence", "--exact", "gender"]  # fmt: skip


@pytest.fixture(scope="module")
def frames():
    treated, pool, _truth = population(seed=12, n=8_000)
    return treated, pool


@pytest.fixture
def files(tmp_path, frames):
    treated, pool = frames
    treated.to_csv(tmp_path / "treated.csv", index=False)
    pool.to_csv(tmp_path / "pool.csv", index=False)
    return tmp_path / "treated.csv", tmp_path / "pool.csv"


def write(tmp_path, name, *lines, encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def table(tmp_path, *rows, name="pool.csv"):
    return write(tmp_path, name, "reoffended,age,previous,offence,gender", *rows)


# --- reading ----------------------------------------------------------------------------


def test_csv_files_give_the_same_answer_as_the_frames_they_came_from(files, frames):
    from_files = evaluate_files(*files, SPEC)
    assert from_files == evaluate(*frames, SPEC)
    assert from_files.n_treated > 300


def test_a_parquet_pool_gives_the_same_answer_as_csv(files, frames, tmp_path):
    frames[1].to_parquet(tmp_path / "pool.parquet", index=False)
    assert evaluate_files(files[0], tmp_path / "pool.parquet", SPEC) == evaluate_files(*files, SPEC)


def test_only_the_named_columns_are_read_and_na_is_a_category(tmp_path):
    path = table(tmp_path, "1,30,2,NA,F,", "0, 41 ,0,drugs,M")
    path.write_text(path.read_text().replace("gender\n", "gender,notes\n", 1))
    frame = read_table(path, SPEC)
    assert list(frame.columns) == ["reoffended", "age", "previous", "offence", "gender"]
    assert frame["offence"].tolist() == ["NA", "drugs"] and frame["age"].tolist() == [30, 41]


@pytest.mark.parametrize(
    ("rows", "message"),
    [(["1,30,2,drugs,F", "0,x,1,drugs,M"], 'row 3, column age: "x" is not a number'),
     (["1,30,2,drugs,F", "0,,1,drugs,M"], "row 3, column age: is empty"),
     (["1,30,2,drugs,F", "", "", "0,30,1,,M"], "row 5, column offence: is empty"),
     (["1,30,2,drugs,F", "yes,30,1,drugs,M"], 'row 3, column reoffended: "yes" is not a number'),
     (["2,30,2,drugs,F"], 'row 2, column reoffended: "2" is not 0 or 1 (the outcome is binary)')],
)  # fmt: skip
def test_bad_cells_are_named_by_file_row_and_column(tmp_path, rows, message):
    path = table(tmp_path, *rows)
    with pytest.raises(EvaluationFileError) as caught:
        read_table(path, SPEC)
    assert str(caught.value) == f"{path} {message}"


def test_a_count_outcome_must_be_a_whole_number(tmp_path):
    path = table(tmp_path, "1.5,30,2,drugs,F")
    with pytest.raises(EvaluationFileError, match='"1.5" is not a whole number, 0 or more'):
        read_table(path, EvaluationSpec("reoffended", "count", ("age",)))


def test_a_missing_column_is_named_with_a_hint_about_capitals(tmp_path):
    path = write(tmp_path, "pool.csv", "reoffended,Age,previous,offence", "1,30,2,drugs")
    with pytest.raises(EvaluationFileError) as caught:
        read_table(path, SPEC)
    assert str(caught.value) == (
        f"{path} row 1: no columns age, gender; check the capitals: age (the file has Age)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty: the first row must name the columns"),
     ("age,age\n1,2\n", "row 1: column age appears twice"),
     (b"age\n\xff\n", 'is not UTF-8 text: save it as "CSV UTF-8"')],
)  # fmt: skip
def test_unreadable_csv_files_say_why(tmp_path, content, message):
    path = tmp_path / "pool.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(EvaluationFileError, match=message):
        read_table(path, EvaluationSpec("age", covariates=("x",)))


def test_a_missing_file_and_a_folder_are_named(tmp_path):
    with pytest.raises(EvaluationFileError, match="nope.csv: no such file"):
        read_table(tmp_path / "nope.csv", SPEC)
    with pytest.raises(EvaluationFileError, match="is a folder"):
        read_table(tmp_path, SPEC)


def test_parquet_rows_are_counted_from_1_and_gaps_are_named(tmp_path, frames):
    pool = frames[1].head(10).copy()
    pool.loc[6, "age"] = None
    pool.to_parquet(tmp_path / "pool.parquet", index=False)
    with pytest.raises(EvaluationFileError) as caught:
        read_table(tmp_path / "pool.parquet", SPEC)
    assert str(caught.value) == f"{tmp_path / 'pool.parquet'} row 7, column age: is empty"
    pool.drop(columns="gender").to_parquet(tmp_path / "short.parquet", index=False)
    with pytest.raises(EvaluationFileError, match=r"short.parquet: no column gender$"):
        read_table(tmp_path / "short.parquet", SPEC)
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(EvaluationFileError, match="bad.parquet: not a readable Parquet file"):
        read_table(tmp_path / "bad.parquet", SPEC)


# --- the command ------------------------------------------------------------------------


def test_evaluate_writes_the_json_result_with_exactly_the_agreed_keys(files, capsys):
    assert main(["evaluate", "--treated", str(files[0]), "--pool", str(files[1]), *OPTIONS,
                 "--json", "-"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert set(out) == JSON_KEYS
    assert set(out["balance"][0]) == {"covariate", "smd_before", "smd_after"}
    assert out == json.loads(json.dumps(result_to_json(evaluate_files(*files, SPEC))))


def test_evaluate_writes_a_json_file_and_prints_the_result_in_words(files, tmp_path, capsys):
    target = tmp_path / "out.json"
    argv = ["evaluate", "--treated", str(files[0]), "--pool", str(files[1]), *OPTIONS]
    assert main([*argv, "--phrase", "would reoffend within a year", "--json", str(target)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Of 100 typical participants, ") and str(target) in printed
    assert "would reoffend within a year" in json.loads(target.read_text())["wording"]


def test_evaluate_prints_a_readable_report(files, capsys):
    assert main(["evaluate", "--treated", str(files[0]), "--pool", str(files[1]), *OPTIONS]) == 0
    report = capsys.readouterr().out
    for text in ("Participants: ", "Pool: ", "Comparison group: ", "Difference: ", "95% CI",
                 "p = ", "Balance", "offence=violence"):  # fmt: skip
        assert text in report


def test_a_refusal_is_one_line_and_exit_status_1(files, tmp_path, capsys):
    few = tmp_path / "few.csv"
    few.write_text("".join(files[0].read_text().splitlines(keepends=True)[:60]))
    assert main(["evaluate", "--treated", str(few), "--pool", str(files[1]), *OPTIONS]) == 1
    assert capsys.readouterr().err == (
        "throughgate: cannot evaluate: only 59 participants; at least 60 are needed for a "
        "comparison to mean anything\n"
    )


def test_bad_data_is_exit_status_1_naming_file_row_and_column(files, tmp_path, capsys):
    lines = files[1].read_text().splitlines()
    lines[6] = lines[6].replace(lines[6].split(",")[0], "x", 1)  # row 7, the age column
    bad = write(tmp_path, "bad.csv", *lines)
    assert main(["evaluate", "--treated", str(files[0]), "--pool", str(bad), *OPTIONS]) == 1
    assert capsys.readouterr().err == f'throughgate: {bad} row 7, column age: "x" is not a number\n'


@pytest.mark.parametrize(
    "extra",
    [["--k", "0"], ["--caliper", "-1"], ["--outcome-type", "rate"], ["--min-treated", "many"],
     ["--covariates", "age,age"]],
)  # fmt: skip
def test_bad_options_are_usage_errors_with_exit_status_2(files, extra, capsys):
    argv = ["evaluate", "--treated", str(files[0]), "--pool", str(files[1]), *OPTIONS, *extra]
    with pytest.raises(SystemExit) as caught:
        status = main(argv)
        raise SystemExit(status)
    assert caught.value.code == 2
    assert "error" in capsys.readouterr().err


def test_evaluate_does_not_need_django_or_a_database(files):
    result = subprocess.run(
        [sys.executable, "-m", "throughgate", "evaluate", "--treated", str(files[0]),
         "--pool", str(files[1]), *OPTIONS, "--json", "-"],
        capture_output=True, text=True, timeout=120,
        env=os.environ | {"DJANGO_SETTINGS_MODULE": "no.such.settings"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == JSON_KEYS
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
