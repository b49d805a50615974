"""The Justice Data Lab style report built on one matching (engines.evaluation_report), and
the synthetic comparison pool used by the demo and the tests (engines.synthetic_pool)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from throughgate.engines.evaluation import EvaluationSpec, evaluate
from throughgate.engines.evaluation_report import (
    ExtraColumnError,
    check_extra_columns,
    report,
    statement,
    survival_at,
    survival_curve,
)
from throughgate.engines.synthetic_pool import COLUMNS, synthetic_pool

NAN = float("nan")


def test_the_survival_curve_is_the_weighted_share_not_yet_reoffended():
    days = np.array([10, 10, 50, NAN, NAN])
    weights = np.array([1, 1, 2, 1, 1.0])  # six in all
    curve = survival_curve(days, weights)
    assert curve[0] == [0.0, 100.0]
    assert curve[1] == [10.0, pytest.approx(100 * 4 / 6, abs=0.01)]
    assert curve[2] == [50.0, pytest.approx(100 * 2 / 6, abs=0.01)]
    assert curve[-1] == [365.0, curve[2][1]]  # flat to the end of the year
    assert survival_at(curve, 9) == 100.0
    assert survival_at(curve, 10) == curve[1][1]
    assert survival_at(curve, 364) == curve[2][1]


def test_nobody_reoffending_keeps_the_curve_at_100():
    assert survival_curve(np.array([NAN, NAN]), np.ones(2)) == [[0.0, 100.0], [365.0, 100.0]]


def _people(**columns):
    return pd.DataFrame({"reoffended": [1, 0, 1], **columns})


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"offences": [1, 0, -2]}, "row 4: offences must be a whole number of 0 or more"),
        ({"offences": [1, 0, 1.5]}, "row 4: offences must be a whole number"),
        ({"offences": [1, 1, 1]}, "row 3: offences is 1 but reoffended is 0"),
        ({"days_to_first": [12, None, None]}, "row 4: days_to_first is blank for someone who"),
        ({"days_to_first": [12, 30, 40]}, "row 3: days_to_first is given for someone who did not"),
        ({"days_to_first": [12, None, 400]}, "row 4: days_to_first must be a whole number of"),
        ({"days_to_first": ["soon", None, 4]}, "row 2: days_to_first must be"),
    ],
)
def test_bad_extra_columns_name_the_row(columns, message):
    with pytest.raises(ExtraColumnError, match=message.replace("(", r"\(")):
        check_extra_columns(_people(**columns), "pool.csv")


def test_good_extra_columns_come_back_as_numbers():
    checked = check_extra_columns(
        _people(offences=["2", "0", "1"], days_to_first=["5", "", "300"]), "pool.csv"
    )
    assert checked["offences"].tolist() == [2, 0, 1]
    assert checked["days_to_first"].tolist()[0] == 5 and math.isnan(checked["days_to_first"][1])


def test_the_statement_says_which_way_and_whether_it_is_significant():
    assert "significant evidence that taking part reduces" in statement(-0.1, 0.01, "rate")
    assert "increases" in statement(0.1, 0.01, "rate")
    assert "no significant evidence" in statement(-0.1, 0.2, "rate")
    assert "(p < 0.001)" in statement(-0.1, 1e-5, "rate")


SPEC = EvaluationSpec(
    outcome="reoffended", covariates=("age_at_index", "prior_offences", "sentence_days"),
    exact=("gender",), k=5, min_treated=60, max_smd_after=0.15,
)  # fmt: skip


@pytest.fixture(scope="module")
def evaluated():
    treated = synthetic_pool(400, seed=1)
    pool = synthetic_pool(20_000, seed=2)
    return treated, pool, evaluate(treated, pool, SPEC)


def test_the_report_reuses_the_one_matching_for_every_measure(evaluated):
    treated, pool, result = evaluated
    out = report(treated, pool, result)
    assert out["headline"]["estimate"] == result.estimate
    # The curves end where the headline rates are: the same people, the same weights.
    assert survival_at(out["survival"]["treated"], 365) == pytest.approx(
        100 * (1 - result.treated_mean), abs=0.01
    )
    assert survival_at(out["survival"]["comparison"], 365) == pytest.approx(
        100 * (1 - result.comparison_mean), abs=0.01
    )
    # Frequency by hand from the weights.
    w = result.comparison_weights
    by_hand = float(w @ pool["offences"].to_numpy(float) / w.sum())
    assert out["frequency"]["comparison_mean"] == pytest.approx(by_hand)
    assert out["frequency"]["treated_mean"] == pytest.approx(
        treated["offences"][result.treated_matched].mean()
    )
    # Well over 30 reoffenders in each group: days to first reoffence is shown.
    days = out["days_to_first"]
    assert days["n_treated"] >= 30 and "estimate" in days
    t_days = treated["days_to_first"].to_numpy()[result.treated_matched]
    assert days["treated_mean"] == pytest.approx(np.nanmean(t_days))


def test_days_to_first_is_held_back_under_30_reoffenders(evaluated):
    treated, pool, result = evaluated
    few = treated.copy()
    # Keep 20 reoffenders among the participants; the rest did not reoffend.
    again = np.flatnonzero(few["reoffended"].to_numpy() == 1)
    few.loc[again[20:], ["reoffended", "offences", "days_to_first"]] = [0, 0, NAN]
    out = report(few, pool, result)
    assert "estimate" not in out["days_to_first"]
    assert "at least 30 reoffenders" in out["days_to_first"]["not_shown"]


def test_without_the_extra_columns_the_report_says_what_is_missing(evaluated):
    treated, pool, result = evaluated
    out = report(treated, pool.drop(columns=["offences", "days_to_first"]), result)
    assert out["frequency"] == {"not_shown": "The comparison pool has no offences column."}
    assert out["survival"] is None


# --- the synthetic pool -----------------------------------------------------------------


def test_the_synthetic_pool_is_repeatable_and_believable():
    a, b = synthetic_pool(5000, seed=3), synthetic_pool(5000, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(synthetic_pool(5000, seed=4))
    assert tuple(a.columns) == COLUMNS
    assert 0.3 < a["reoffended"].mean() < 0.5  # near published rates for young adults
    assert ((a["offences"] > 0) == (a["reoffended"] == 1)).all()
    assert (a["days_to_first"].notna() == (a["reoffended"] == 1)).all()
    assert a["days_to_first"].dropna().between(1, 365).all()
    # More history, more reoffending: the confounding an evaluation must undo.
    heavy = a["prior_offences"] >= a["prior_offences"].median()
    assert a.loc[heavy, "reoffended"].mean() > a.loc[~heavy, "reoffended"].mean()
    check_extra_columns(a, "synthetic")  # the layout an upload is held to


def test_a_community_pool_is_children_without_custody():
    pool = synthetic_pool(500, seed=1, custody=False)
    assert pool["age_at_index"].between(10, 17).all()
    assert (pool["prior_custody"] == 0).all() and (pool["sentence_days"] == 0).all()
    assert set(pool["age_band"]) == {"10-17"}
    with pytest.raises(ValueError, match="at least 1"):
        synthetic_pool(0)


# --- from the command line ---------------------------------------------------------------


def test_throughgate_evaluate_jdl_prints_the_further_measures(tmp_path, capsys):
    import json

    from throughgate.cli import main

    treated, pool = tmp_path / "treated.csv", tmp_path / "pool.parquet"
    synthetic_pool(400, seed=1).to_csv(treated, index=False)
    synthetic_pool(20_000, seed=2).to_parquet(pool, index=False)
    argv = ["evaluate", "--treated", str(treated), "--pool", str(pool), "--outcome", "reoffended",
            "--covariates", "age_at_index,prior_offences,sentence_days", "--exact", "gender",
            "--k", "5", "--max-smd", "0.15", "--jdl"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Proven reoffences per person: participants" in printed
    assert "Days to first proven reoffence (reoffenders): participants" in printed
    assert "Per cent not proven to have reoffended, by day:" in printed
    assert "365" in printed and "significant evidence" in printed

    assert main([*argv, "--json", "-"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["report"]["survival"]["treated"][0] == [0.0, 100.0]
    assert answer["report"]["frequency"]["n_treated"] == answer["n_treated_matched"]


def test_throughgate_evaluate_names_a_bad_extra_column(tmp_path, capsys):
    from throughgate.cli import main

    treated, pool = tmp_path / "treated.csv", tmp_path / "pool.csv"
    synthetic_pool(400, seed=1).to_csv(treated, index=False)
    bad = synthetic_pool(20_000, seed=2)
    bad.loc[7, "offences"] = -1
    bad.to_csv(pool, index=False)
    argv = ["evaluate", "--treated", str(treated), "--pool", str(pool), "--outcome", "reoffended",
            "--covariates", "age_at_index,prior_offences", "--exact", "gender", "--k", "5",
            "--max-smd", "0.15", "--jdl"]  # fmt: skip
    assert main(argv) == 1
    assert "pool.csv row 9: offences must be a whole number" in capsys.readouterr().err
