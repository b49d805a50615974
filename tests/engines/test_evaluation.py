"""The impact evaluation engine (engines.evaluation): propensity, matching, balance, estimate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from throughgate.engines import evaluation as engine
from throughgate.engines.evaluation import (
    EvaluationRefused,
    EvaluationSpec,
    difference,
    evaluate,
    fit_propensity,
    for_100_people,
    match,
    standardised_differences,
)

# statsmodels 0.14 uses pandas helpers that pandas 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated and will be removed")

SPEC = EvaluationSpec(
    outcome="reoffended",
    outcome_type="binary",
    covariates=("age", "previous"),
    categorical=("offence",),
    exact=("gender",),
)


def population(seed=2024, n=42_000, effect=-0.5):
    """A population where who takes part depends on the covariates that drive the outcome.

    Older people with fewer previous offences, and more of the violence group, join the
    programme; the same traits lower reoffending. So participants would have reoffended
    less anyway, and a naive comparison flatters the programme. The programme's true effect
    is `effect` on the log-odds of reoffending (and x0.8 on the offence count).
    """
    rng = np.random.default_rng(seed)
    age = rng.normal(0, 1, n)
    previous = rng.normal(0, 1, n)
    offence = rng.choice(["acquisitive", "drugs", "violence"], n, p=[0.5, 0.3, 0.2])
    gender = rng.choice(["F", "M"], n, p=[0.3, 0.7])
    violence, male = offence == "violence", gender == "M"
    joins = -3.7 + 0.8 * age - 0.6 * previous + 0.5 * violence + 0.3 * male
    treated = rng.random(n) < 1 / (1 + np.exp(-joins))
    risk = -0.4 - 0.7 * age + 0.6 * previous + 0.3 * (offence == "drugs") + 0.4 * male
    p0, p1 = 1 / (1 + np.exp(-risk)), 1 / (1 + np.exp(-(risk + effect)))
    mu0 = np.exp(0.2 + 0.3 * previous - 0.3 * age)
    frame = pd.DataFrame({
        "age": age, "previous": previous, "offence": offence, "gender": gender,
        "reoffended": (rng.random(n) < np.where(treated, p1, p0)).astype(int),
        "offences": rng.poisson(np.where(treated, 0.8 * mu0, mu0)),
    })  # fmt: skip
    truth = {
        "binary": float((p1 - p0)[treated].mean()),  # the effect on those who took part
        "count": float((-0.2 * mu0)[treated].mean()),
    }
    return (
        frame[treated].reset_index(drop=True),
        frame[~treated].reset_index(drop=True),
        truth,
    )


@pytest.fixture(scope="module")
def confounded():
    treated, pool, truth = population()
    return treated, pool, truth, evaluate(treated, pool, SPEC)


# --- the whole evaluation ---------------------------------------------------------------


def test_matching_recovers_a_known_effect_that_the_naive_difference_misses(confounded):
    treated, pool, truth, result = confounded
    assert 1_800 < len(treated) < 2_600 and len(pool) > 39_000
    naive = treated["reoffended"].mean() - pool["reoffended"].mean()
    assert abs(naive - truth["binary"]) > 0.08  # confounding: the naive gap is far off
    assert not result.ci_low <= naive <= result.ci_high
    assert result.ci_low <= truth["binary"] <= result.ci_high
    assert result.p_value < 0.001


def test_matching_balances_every_covariate_that_was_unbalanced(confounded):
    *_, result = confounded
    smd = {b.covariate: b for b in result.balance}
    assert list(smd) == ["age", "previous", "offence=drugs", "offence=violence"]
    assert smd["age"].smd_before > 0.5 and smd["previous"].smd_before < -0.4
    assert all(abs(b.smd_after) <= 0.1 for b in result.balance)


def test_result_counts_add_up(confounded):
    treated, pool, _truth, result = confounded
    assert result.n_treated == len(treated) and result.n_pool == len(pool)
    assert result.n_treated == result.n_trimmed + result.n_no_match + result.n_treated_matched
    assert result.comparison_weights.sum() == pytest.approx(result.n_treated_matched)
    assert result.n_comparison_matched == np.count_nonzero(result.comparison_weights)
    matched = treated["reoffended"][result.treated_matched]
    assert result.treated_mean == pytest.approx(matched.mean())
    weighted = np.average(pool["reoffended"], weights=result.comparison_weights)
    assert result.comparison_mean == pytest.approx(weighted)
    assert result.estimate == pytest.approx(result.treated_mean - result.comparison_mean)


def test_a_count_outcome_recovers_its_effect_too(confounded):
    treated, pool, truth, _ = confounded
    spec = EvaluationSpec("offences", "count", SPEC.covariates, SPEC.categorical, SPEC.exact)
    result = evaluate(treated, pool, spec)
    assert result.ci_low <= truth["count"] <= result.ci_high < 0
    assert result.wording.startswith("100 typical participants would have ")


def test_the_answer_does_not_depend_on_the_order_of_rows():
    # Only categories: many pool members share a score, so the order of rows would pick
    # among them if tied members did not share each match.
    rng = np.random.default_rng(5)
    n = 3_000
    pool = pd.DataFrame({"offence": rng.choice(list("abcd"), n),
                         "gender": rng.choice(["F", "M"], n),
                         "reoffended": rng.integers(0, 2, n)})  # fmt: skip
    treated = pool.sample(300, random_state=1).reset_index(drop=True)
    spec = EvaluationSpec("reoffended", categorical=("offence", "gender"))
    shuffled = pool.sample(frac=1, random_state=2).reset_index(drop=True)
    first, second = evaluate(treated, pool, spec), evaluate(treated, shuffled, spec)
    assert first.comparison_mean == pytest.approx(second.comparison_mean, abs=1e-12)
    assert first.n_comparison_matched == second.n_comparison_matched == n  # all share


def test_plain_arrays_work_as_well_as_data_frames(confounded):
    treated, pool, _truth, result = confounded
    as_arrays = evaluate(
        {c: treated[c].to_numpy() for c in treated}, {c: pool[c].to_numpy() for c in pool}, SPEC
    )
    assert as_arrays.estimate == result.estimate


# --- propensity -------------------------------------------------------------------------


def test_the_propensity_fit_equals_statsmodels_logit():
    from statsmodels.discrete.discrete_model import Logit

    rng = np.random.default_rng(11)
    x = np.column_stack([np.ones(400), rng.normal(size=(400, 3)), rng.integers(0, 2, 400)])
    y = (rng.random(400) < 1 / (1 + np.exp(-(x @ [-1.0, 0.8, -0.5, 0.2, 0.7])))).astype(float)
    expected = Logit(y, x).fit(disp=0, tol=1e-12).params
    assert np.allclose(fit_propensity(x, y), expected, rtol=0, atol=1e-6)


def big_pool(seed=21, n_treated=600, n_pool=120_000):
    """A design with a constant, three covariates and a dummy: big enough for the warm start."""
    rng = np.random.default_rng(seed)
    n = n_treated + n_pool
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 3)), rng.integers(0, 2, n)])
    x[:n_treated, 1:4] += [0.6, -0.4, 0.2]  # participants differ from the pool
    y = np.r_[np.ones(n_treated), np.zeros(n_pool)]
    return x, y


def plain_fit(x, y):
    """Newton from the intercept-only start on every row: the fit without the warm start."""
    beta = engine._newton(x, y, engine._cold_start(x.shape[1], y), 1e-10, 50)
    assert beta is not None
    return beta


def test_the_warm_started_fit_reaches_the_same_estimate_as_the_plain_fit():
    x, y = big_pool()
    sample = engine._subsample(y)
    assert sample is not None  # large enough: the warm start is used
    assert y[sample.rows].sum() == y.sum() and len(sample.rows) < len(y) / 4
    warm = fit_propensity(x, y)
    assert np.allclose(warm, plain_fit(x, y), rtol=0, atol=1e-6)
    # A fixed seed: the same data always give the same start, and so the same answer.
    np.random.seed(1)
    assert np.array_equal(fit_propensity(x, y), warm)


def test_the_warm_start_falls_back_when_its_subsample_misses_a_rare_category():
    # A dummy held by 30 participants and by 3,000 pool members the subsample does not
    # draw: on the subsample it predicts taking part perfectly, so that fit runs off
    # (or stops with the probabilities rounded to 1) and the start is useless. Newton
    # from it fails on the full data and the fit starts cold instead: same answer.
    x, y = big_pool(seed=22)
    x[:, 4] = 0.0
    sample = engine._subsample(y)
    drawn = np.zeros(len(y), bool)
    drawn[sample.rows] = True
    x[np.flatnonzero(~drawn)[:3_000], 4] = 1.0
    x[:30, 4] = 1.0
    y_sample = y[sample.rows]
    x_sample = engine._take_rows(x, sample.rows)
    start = engine._newton(x_sample, y_sample, engine._cold_start(5, y_sample), 1e-4, 15)
    assert start is None or start[4] > 20  # the true coefficient is about 0.7
    assert np.allclose(fit_propensity(x, y), plain_fit(x, y), rtol=0, atol=1e-6)


def test_a_column_constant_in_the_subsample_is_checked_on_every_row():
    x, y = big_pool(seed=23)
    drawn = np.zeros(len(y), bool)
    sample = engine._subsample(y)
    drawn[sample.rows] = True
    x[:, 4] = 0.0
    x[np.flatnonzero(~drawn)[:50], 4] = 1.0  # varies, but only outside the subsample
    x_sample = engine._take_rows(x, sample.rows)
    engine._check_rank(x, ["a", "b", "c", "d"], x_sample)  # no refusal
    x[:, 4] = 1.0  # constant everywhere now
    with pytest.raises(EvaluationRefused, match="d has the same value for everyone"):
        engine._check_rank(x, ["a", "b", "c", "d"], engine._take_rows(x, sample.rows))


def test_the_fit_does_not_depend_on_the_number_of_threads(monkeypatch):
    x, y = big_pool(seed=24)
    threaded = fit_propensity(x, y)
    monkeypatch.setattr(engine, "_workers", lambda: None)
    assert np.array_equal(fit_propensity(x, y), threaded)


def test_a_category_is_one_level_whether_it_is_text_a_number_or_categorical():
    treated, pool, _ = population(seed=7, n=6_000)
    codes = {"acquisitive": 1, "drugs": 2, "violence": 3}
    as_text = evaluate(
        treated.assign(offence=treated["offence"].map(codes).astype(str)),
        pool.assign(offence=pool["offence"].map(codes).astype(str)), SPEC,
    )  # fmt: skip
    mixed = evaluate(
        treated.assign(offence=treated["offence"].map(codes)),  # whole numbers
        pool.assign(offence=pool["offence"].map(codes).astype(str).astype("category")), SPEC,
    )  # fmt: skip
    assert mixed == as_text
    assert [b.covariate for b in mixed.balance][2:] == ["offence=2", "offence=3"]


def test_the_model_uses_covariates_and_dummies_dropping_the_first_level():
    from statsmodels.discrete.discrete_model import Logit

    treated, pool, _ = population(seed=3, n=4_000)
    loose = EvaluationSpec("reoffended", covariates=("age", "previous"), categorical=("offence",),
                           min_treated=10, max_smd_after=10)  # fmt: skip
    result = evaluate(treated, pool, loose)
    both = pd.concat([treated, pool])
    x = pd.get_dummies(both[["age", "previous", "offence"]], drop_first=True, dtype=float)
    y = np.r_[np.ones(len(treated)), np.zeros(len(pool))]
    expected = Logit(y, x.assign(const=1.0)[["const", *x.columns]]).fit(disp=0, tol=1e-12).params
    assert list(result.coefficients) == ["const", "age", "previous", "offence=drugs",
                                         "offence=violence"]  # fmt: skip
    assert np.allclose(list(result.coefficients.values()), expected.to_numpy(), atol=1e-6)


def test_pool_members_in_a_category_no_participant_has_are_never_matched():
    # The category's coefficient would run off to minus infinity; the members are left out.
    treated, pool, _ = population(seed=4, n=20_000)
    pool.loc[:199, "offence"] = "fraud"
    result = evaluate(treated, pool, SPEC)
    assert result.n_pool_unusable == 200
    assert not result.comparison_weights[:200].any()
    assert "offence=fraud" not in {b.covariate for b in result.balance}


# --- common support and matching --------------------------------------------------------


def test_no_match_crosses_a_stratum_or_goes_beyond_the_caliper():
    rng = np.random.default_rng(8)
    t_logit, t_stratum = rng.normal(0, 1, 500), rng.integers(0, 3, 500)
    p_logit, p_stratum = rng.normal(-0.5, 1.2, 2_000), rng.integers(0, 3, 2_000)
    m = match(t_logit, t_stratum, p_logit, p_stratum, k=3, caliper=0.01)
    assert np.array_equal(t_stratum[m.pairs_treated], p_stratum[m.pairs_pool])
    assert np.abs(t_logit[m.pairs_treated] - p_logit[m.pairs_pool]).max() <= 0.01
    assert 0 < m.treated_matched.sum() < 500  # the caliper is tight enough to bite
    for i in np.flatnonzero(~m.treated_matched):  # nobody within reach was overlooked
        same = p_stratum == t_stratum[i]
        assert np.abs(p_logit[same] - t_logit[i]).min() > 0.01


def test_with_every_participant_trimmed_nobody_is_matched():
    # All trimmed (NaN), or no participant's stratum in the pool: no matches, no error.
    nan = np.full(3, np.nan)
    for t_logit, t_stratum in ((nan, np.zeros(3, int)), (np.zeros(3), np.full(3, 7))):
        m = match(t_logit, t_stratum, np.array([0.0, 1.0]), np.zeros(2, int), 1, 0.5)
        assert not m.treated_matched.any() and not m.pool_weight.any()
        assert len(m.pairs_treated) == len(m.pairs_pool) == 0


def test_the_nearest_pool_member_in_another_stratum_is_passed_over():
    m = match(np.array([1.0]), np.array([0]), np.array([1.0, 1.3]), np.array([1, 0]), 1, 0.5)
    assert m.pairs_pool.tolist() == [1]


def test_with_k_3_and_replacement_each_participant_spreads_a_weight_of_one():
    # Pool logits 0, 1, 2, 3, 10. Participants at 1.1 and 1.2 both take 1, 2 and 0 (1/3
    # each); the one at 9.0 reaches only 10 within the caliper of 1.5, so it gets all 1.
    m = match(np.array([1.1, 1.2, 9.0]), np.zeros(3, int), np.array([3.0, 0.0, 10.0, 1.0, 2.0]),
              np.zeros(5, int), k=3, caliper=1.5)  # fmt: skip
    assert m.treated_matched.tolist() == [True, True, True]
    assert m.pool_weight == pytest.approx([0.0, 2 / 3, 1.0, 2 / 3, 2 / 3])
    assert m.pool_weight.sum() == pytest.approx(3)


def test_pool_members_with_the_same_score_share_a_match_equally():
    m = match(np.array([0.0]), np.zeros(1, int), np.array([5.0, 0.1, 0.1, 0.1, -0.3]),
              np.zeros(5, int), k=1, caliper=1)  # fmt: skip
    assert m.pool_weight == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3, 0])


def test_participants_outside_the_pools_range_in_their_stratum_are_trimmed():
    # One covariate, so the logit rises with age. Women in the pool are all under 5; the
    # older women taking part have nobody alike, although men in the pool are that old.
    rng = np.random.default_rng(6)
    gender = np.repeat(["M", "F"], [1_000, 1_000])
    pool = pd.DataFrame({"gender": gender, "reoffended": rng.integers(0, 2, 2_000),
                         "age": np.where(gender == "M", 10, 5) * rng.random(2_000)})  # fmt: skip
    gender = np.repeat(["M", "F"], [100, 100])
    age = 3 + np.where(gender == "M", 7, 5) * rng.random(200)
    treated = pd.DataFrame({"gender": gender, "reoffended": rng.integers(0, 2, 200), "age": age})
    spec = EvaluationSpec("reoffended", covariates=("age",), exact=("gender",), max_smd_after=9)
    result = evaluate(treated, pool, spec)
    oldest_women = (treated["gender"] == "F") & (treated["age"] > pool["age"][1_000:].max())
    assert result.n_trimmed == oldest_women.sum() > 20
    assert not (result.treated_matched & oldest_women).any()


# --- balance ----------------------------------------------------------------------------


def test_standardised_differences_by_hand_for_six_people():
    # Participants: ages 20, 30, 40 (mean 30, variance 100); pool: 20, 20, 50 (mean 30,
    # variance 300). Before: (30 - 30) / sqrt((100 + 300) / 2) = 0.
    # After, participants 20 and 30 matched (mean 25) against the pool weighted 1, 1, 0
    # (mean 20): (25 - 20) / sqrt(200) = 0.35355, still on the before-matching yardstick.
    # A dummy: participants 1, 0, 0 (mean 1/3, variance 1/3), pool 1, 1, 0 (2/3, 1/3):
    # before -1/3 / sqrt(1/3) = -0.57735; after (1/2 - 1) / sqrt(1/3) = -0.86603.
    x_t = np.array([[20.0, 1], [30, 0], [40, 0]])
    x_p = np.array([[20.0, 1], [20, 1], [50, 0]])
    [age, dummy] = standardised_differences(
        ["age", "violence"], x_t, x_p, np.array([True, True, False]), np.array([1.0, 1.0, 0.0])
    )
    assert (age.covariate, age.smd_before) == ("age", 0.0)
    assert age.smd_after == pytest.approx(5 / math.sqrt(200))
    assert dummy.smd_before == pytest.approx(-1 / 3 / math.sqrt(1 / 3))
    assert dummy.smd_after == pytest.approx(-0.5 / math.sqrt(1 / 3))


# --- estimate and wording ---------------------------------------------------------------


def test_with_equal_weights_the_binary_test_is_the_textbook_two_proportion_z_test():
    y_t, y_c = np.r_[np.ones(28), np.zeros(72)], np.r_[np.ones(70), np.zeros(130)]
    d = difference(y_t, y_c, np.ones(200), "binary")
    se = math.sqrt(0.28 * 0.72 / 100 + 0.35 * 0.65 / 200)
    assert d.estimate == pytest.approx(-0.07)
    assert d.standard_error == pytest.approx(se)
    assert d.ci_low == pytest.approx(-0.07 - 1.959964 * se)
    assert d.p_value == pytest.approx(math.erfc(0.07 / se / math.sqrt(2)))


def test_reusing_a_comparison_counts_for_less_than_a_new_one():
    y_t, y_c = np.r_[np.ones(28), np.zeros(72)], np.r_[np.ones(35), np.zeros(65)]
    reused = np.r_[np.full(50, 1.5), np.full(50, 0.5)]  # same total weight, uneven
    d_even = difference(y_t, y_c, np.ones(100), "binary")
    d_reused = difference(y_t, y_c, reused, "binary")
    assert d_reused.effective_comparison_size == pytest.approx(80)  # 100^2 / 125
    assert d_reused.standard_error > d_even.standard_error


def test_with_equal_weights_a_continuous_outcome_gets_welchs_t_test():
    from scipy import stats

    rng = np.random.default_rng(1)
    y_t, y_c = rng.normal(1, 2, 80), rng.normal(0, 1, 150)
    d = difference(y_t, y_c, np.ones(150), "continuous")
    welch = stats.ttest_ind(y_t, y_c, equal_var=False)
    assert d.p_value == pytest.approx(welch.pvalue)
    low, high = welch.confidence_interval()
    assert (d.ci_low, d.ci_high) == (pytest.approx(low), pytest.approx(high))


def test_the_result_in_words_for_100_typical_people():
    words = for_100_people("binary", 0.28, 0.35, -0.12, -0.02, "would reoffend within a year")
    assert words == (
        "Of 100 typical participants, 28 would reoffend within a year, compared with 35 of "
        "100 similar people who did not take part (a difference of 7, between 2 and 12)."
    )
    unsure = for_100_people("binary", 0.30, 0.33, -0.08, 0.02, "would reoffend within a year")
    assert unsure.endswith("(a difference of 3 fewer, somewhere between 8 fewer and 2 more).")
    count = for_100_people("count", 1.2, 1.5, -0.5, -0.1, "proven offences")
    assert count.startswith("100 typical participants would have 120 proven offences between")


# --- refusals ---------------------------------------------------------------------------


def test_fewer_than_60_participants_is_refused(confounded):
    treated, pool, *_ = confounded
    with pytest.raises(EvaluationRefused, match="only 59 participants; at least 60"):
        evaluate(treated.head(59), pool, SPEC)


def test_too_few_matched_participants_is_refused():
    treated, pool, _ = population(seed=9, n=20_000)
    tight = EvaluationSpec(**{**SPEC.__dict__, "caliper": 1e-6})
    with pytest.raises(EvaluationRefused, match=r"could be matched .* nobody within the caliper"):
        evaluate(treated, pool, tight)


def test_poor_balance_after_matching_is_refused_naming_the_covariate(confounded):
    treated, pool, *_ = confounded
    strict = EvaluationSpec(**{**SPEC.__dict__, "max_smd_after": 0.001})
    with pytest.raises(EvaluationRefused, match=r"poor balance after matching") as caught:
        evaluate(treated, pool, strict)
    worst = max(caught.value.balance, key=lambda b: abs(b.smd_after))
    assert f"{worst.covariate} {worst.smd_after:+.3f}" in caught.value.reason


def test_matching_far_away_gives_poor_balance():
    # Participants are much older than a small pool; with k = 20 and no effective caliper
    # the comparison group cannot look like them.
    rng = np.random.default_rng(2)
    treated = pd.DataFrame({"age": rng.normal(2, 1, 100), "reoffended": rng.integers(0, 2, 100)})
    pool = pd.DataFrame({"age": rng.normal(0, 1, 300), "reoffended": rng.integers(0, 2, 300)})
    spec = EvaluationSpec("reoffended", covariates=("age",), k=20, caliper=100)
    with pytest.raises(EvaluationRefused, match=r"poor balance .* age \+\d"):
        evaluate(treated, pool, spec)


def test_a_binary_outcome_other_than_0_or_1_is_refused(confounded):
    treated, pool, *_ = confounded
    treated = treated.copy()
    treated.loc[6, "reoffended"] = 2
    with pytest.raises(
        EvaluationRefused, match="treated row 6, column reoffended: 2 is not 0 or 1"
    ):
        evaluate(treated, pool, SPEC)


def test_an_empty_pool_is_refused(confounded):
    treated, pool, *_ = confounded
    with pytest.raises(EvaluationRefused, match="pool has nobody in it"):
        evaluate(treated, pool.head(0), SPEC)


def test_unknown_columns_are_refused(confounded):
    treated, pool, *_ = confounded
    spec = EvaluationSpec(**{**SPEC.__dict__, "covariates": ("age", "height", "weight")})
    with pytest.raises(EvaluationRefused, match="treated has no columns height, weight"):
        evaluate(treated, pool, spec)


def test_missing_and_non_numeric_values_are_refused_with_the_row(confounded):
    treated, pool, *_ = confounded
    pool = pool.astype({"age": object})
    pool.loc[3, "age"] = "old"
    with pytest.raises(EvaluationRefused, match="pool row 3, column age: 'old' is not a number"):
        evaluate(treated, pool, SPEC)
    pool.loc[3, "age"] = None
    with pytest.raises(EvaluationRefused, match="pool row 3, column age: is empty"):
        evaluate(treated, pool, SPEC)


def test_a_covariate_with_one_value_or_collinear_columns_are_refused(confounded):
    treated, pool, *_ = confounded
    treated, pool = (
        treated.assign(wing=1, age2=2 * treated["age"] + 1),
        pool.assign(wing=1, age2=2 * pool["age"] + 1),
    )
    spec = EvaluationSpec(**{**SPEC.__dict__, "covariates": ("age", "wing")})
    with pytest.raises(EvaluationRefused, match="wing has the same value for everyone"):
        evaluate(treated, pool, spec)
    spec = EvaluationSpec(**{**SPEC.__dict__, "covariates": ("age", "previous", "age2")})
    with pytest.raises(EvaluationRefused, match="collinear .*: age, age2$"):
        evaluate(treated, pool, spec)


def test_a_covariate_that_separates_the_groups_is_refused():
    treated = pd.DataFrame({"age": np.arange(100) + 50.0, "reoffended": [0, 1] * 50})
    pool = pd.DataFrame({"age": np.arange(300) * 0.1, "reoffended": [0, 1, 1] * 100})
    with pytest.raises(EvaluationRefused, match="did not converge"):
        evaluate(treated, pool, EvaluationSpec("reoffended", covariates=("age",)))


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"outcome_type": "rate"}, "outcome_type 'rate'"), ({"k": 0}, "k must be"),
     ({"caliper": 0}, "caliper must be"), ({"covariates": (), "categorical": ()}, "at least one"),
     ({"covariates": ("age", "age")}, "listed twice"),
     ({"exact": ("reoffended",)}, "cannot also be matched on")],
)  # fmt: skip
def test_impossible_settings_are_a_programming_error_not_a_refusal(changes, message):
    with pytest.raises(ValueError, match=message) as caught:
        EvaluationSpec(**{**SPEC.__dict__, **changes})
    assert not isinstance(caught.value, EvaluationRefused)
