"""CoxPH against R's survival 3.5-3 (tests/reference/cox_reference.R) and its error paths.

Tolerances: coefficients 1e-6 relative (both sides converge far below that: R to a relative
log-likelihood change of 1e-9, we to 1e-12); standard errors 1e-5 relative (inverse of the
information at slightly different optima); tests and log-likelihoods 1e-6 relative;
concordance and its std 1e-6 (exact pair counting, same jackknife formula).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import (
    ConvergenceWarning,
    ModelError,
    SeparationWarning,
    SmallGroupWarning,
)
from survchurn.survival.cox import CoxPH

REF = Path(__file__).resolve().parents[1] / "reference"
COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(REF / "cox_values.csv", keep_default_na=False, na_values=["NA"])


def r_values(ref: pd.DataFrame, model: str, stat: str) -> pd.Series:
    sub = ref[(ref.model == model) & (ref.stat == stat)]
    return pd.Series(sub.value.to_numpy(float), index=sub.term.to_numpy())


def r_scalar(ref: pd.DataFrame, model: str, stat: str) -> float:
    return float(r_values(ref, model, stat).iloc[0])


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return pd.read_csv(REF / "rossi_cox.csv")


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    d = pd.read_csv(REF / "cox_lung.csv")
    d["ph.ecog"] = d["ph.ecog"].astype(str)
    return d


@pytest.fixture(scope="module")
def heart() -> pd.DataFrame:
    return pd.read_csv(REF / "cox_heart.csv")


def rename_r(names: pd.Index) -> list[str]:
    """Our 'ph.ecog[1]' is R's 'ph.ecog1'."""
    return [n.replace("[", "").replace("]", "") for n in names]


def check_against_r(res, ref, model, robust=False):
    coef = r_values(ref, model, "coef")
    ours = pd.Series(res.params.to_numpy(), index=rename_r(res.params.index))
    np.testing.assert_allclose(ours[coef.index], coef, rtol=1e-6)
    se = pd.Series(res.se.to_numpy(), index=ours.index)
    np.testing.assert_allclose(se[coef.index], r_values(ref, model, "se"), rtol=1e-5)
    if robust:
        naive = pd.Series(res.naive_se.to_numpy(), index=ours.index)
        np.testing.assert_allclose(naive[coef.index], r_values(ref, model, "naive_se"), rtol=1e-5)
    assert res.loglik == pytest.approx(r_scalar(ref, model, "loglik"), rel=1e-9)
    assert res.loglik_null == pytest.approx(r_scalar(ref, model, "loglik_null"), rel=1e-9)
    assert res.n_events == r_scalar(ref, model, "nevent")
    t = res.tests["statistic"]
    assert t["likelihood ratio"] == pytest.approx(r_scalar(ref, model, "lr_test"), rel=1e-6)
    assert t["Wald"] == pytest.approx(r_scalar(ref, model, "wald_test"), rel=1e-5)
    assert t["score (log-rank)"] == pytest.approx(r_scalar(ref, model, "score_test"), rel=1e-6)
    if robust:
        assert t["robust score"] == pytest.approx(r_scalar(ref, model, "robust_score_test"), rel=1e-6)
    assert res.concordance == pytest.approx(r_scalar(ref, model, "concordance"), abs=1e-6)
    assert res.concordance_result.std == pytest.approx(
        r_scalar(ref, model, "concordance_std"), abs=1e-6)
    counts = r_values(ref, model, "count")
    np.testing.assert_array_equal(res.concordance_result.counts[counts.index], counts)
    assert res.aic == pytest.approx(r_scalar(ref, model, "aic"), rel=1e-9)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_rossi_matches_r(rossi, ref, ties):
    res = CoxPH(ties=ties).fit(rossi, "week", "arrest").result_
    assert res.converged
    check_against_r(res, ref, f"rossi_{ties}")


def test_rossi_published_fox_weisberg(rossi):
    # Fox & Weisberg, "Cox Proportional-Hazards Regression for Survival Data in R" (2011):
    # printed to 3 significant digits.
    res = CoxPH().fit(rossi, "week", "arrest", covariates=COVS).result_
    published = {"fin": -0.379, "age": -0.0574, "race": 0.314, "wexp": -0.150, "mar": -0.434,
                 "paro": -0.0849, "prio": 0.0915}
    for k, v in published.items():
        assert float(f"{res.params[k]:.3g}") == pytest.approx(v, abs=1e-12), k


def test_rossi_robust(rossi, ref):
    res = CoxPH(robust=True).fit(rossi, "week", "arrest").result_
    check_against_r(res, ref, "rossi_robust", robust=True)
    assert "robust se" in res.to_frame().columns


def test_lung_factor_and_strata(lung, ref):
    with pytest.warns(SmallGroupWarning, match=r"ph.ecog=3 \(1 events\)"):
        res = CoxPH().fit(lung, "time", "event", covariates=["age", "ph.ecog"], strata="sex").result_
    check_against_r(res, ref, "lung_strata")
    assert res.n_strata == 2
    frame = res.to_frame()
    assert list(frame.index) == ["age", "ph.ecog[1]", "ph.ecog[2]", "ph.ecog[3]"]
    lv = res.levels.set_index("level")
    assert lv.loc["0", "reference"] and lv.loc["3", "n"] == 1
    assert frame.loc["ph.ecog[2]", "n"] == (lung["ph.ecog"] == "2").sum()
    assert frame.loc["ph.ecog[2]", "events"] == lung.loc[lung["ph.ecog"] == "2", "event"].sum()
    assert "ph.ecog=0" in repr(res)


def test_lung_cluster(lung, ref):
    with pytest.warns(SmallGroupWarning):
        res = CoxPH().fit(lung, "time", "event", covariates=["age", "ph.ecog", "sex"],
                          cluster_col="inst").result_
    check_against_r(res, ref, "lung_cluster", robust=True)


@pytest.mark.parametrize(("model", "ties", "cluster"), [
    ("heart", "efron", None), ("heart_cluster", "efron", "id"), ("heart_breslow", "breslow", None)])
def test_heart_counting_process(heart, ref, model, ties, cluster):
    res = CoxPH(ties=ties).fit(heart, "stop", "event", covariates=["age", "year", "surgery",
                               "transplant"], entry_col="start", cluster_col=cluster).result_
    check_against_r(res, ref, model, robust=cluster is not None)


def test_ridge_matches_r(rossi, ref):
    # R: ridge(..., theta = 1, scale = FALSE): loglik - 1/2 * sum(beta^2); fit$var = (I + P)^-1
    res = CoxPH(penalty=1.0).fit(rossi, "week", "arrest").result_
    np.testing.assert_allclose(res.params[COVS], r_values(ref, "rossi_ridge1", "coef")[COVS],
                               rtol=1e-6)
    np.testing.assert_allclose(res.se[COVS], r_values(ref, "rossi_ridge1", "se")[COVS], rtol=1e-5)
    assert res.loglik == pytest.approx(r_scalar(ref, "rossi_ridge1", "loglik"), rel=1e-9)


def test_lasso_kkt_and_sparsity(rossi):
    pen, l1r = 8.0, 1.0
    res = CoxPH(penalty=pen, l1_ratio=l1r).fit(rossi, "week", "arrest").result_
    beta = res.params.to_numpy()
    assert (beta == 0).any() and (beta != 0).any()
    assert res.se.isna().all()
    # KKT conditions of the penalised partial likelihood, gradient from an unpenalised engine
    from survchurn.survival._cox_newton import RiskSetEngine

    X = rossi[COVS].to_numpy(float)
    eng = RiskSetEngine(X - X.mean(0), rossi.week.to_numpy(float), rossi.arrest.to_numpy())
    g = eng.evaluate(beta, need_information=False).gradient
    nz = beta != 0
    np.testing.assert_allclose(g[nz], pen * np.sign(beta[nz]), atol=1e-6)
    assert np.all(np.abs(g[~nz]) <= pen + 1e-8)
    big = CoxPH(penalty=1e4, l1_ratio=1.0).fit(rossi, "week", "arrest").result_
    assert (big.params == 0).all()


def test_tighter_than_lifelines_default(rossi):
    lifelines = pytest.importorskip("lifelines")
    ours = CoxPH().fit(rossi, "week", "arrest").result_
    lf = lifelines.CoxPHFitter().fit(rossi, "week", "arrest")
    assert ours.loglik >= lf.log_likelihood_ - 1e-12


def test_result_views(rossi):
    res = CoxPH(alpha=0.1).fit(rossi, "week", "arrest").result_
    frame = res.summary
    assert "exp(coef) lower 90%" in frame.columns
    assert "<table" in res._repr_html_()
    assert "likelihood ratio" in repr(res)
    lp = res.predict_log_partial_hazard(rossi.head(3))
    np.testing.assert_allclose(lp, res.linear_predictor[:3])


# ---------------------------------------------------------------------- errors and warnings
def _toy(n=60, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"duration": rng.exponential(10, n) + 0.1,
                         "event": rng.integers(0, 2, n), "x": rng.normal(size=n),
                         "plan": rng.choice(["a", "b"], n)})


def test_error_missing_columns():
    with pytest.raises(ModelError, match=r"columns \['nope'\] not found"):
        CoxPH().fit(_toy(), covariates=["x", "nope"])


def test_error_text_not_declared_categorical():
    with pytest.raises(ModelError, match=r"'plan'.*not numeric.*not declared categorical"):
        CoxPH().fit(_toy(), covariates=["x", "plan"], categorical=[])


def test_error_nan_values_name_rows():
    d = _toy()
    d.loc[[3, 7], "x"] = np.nan
    with pytest.raises(ModelError, match=r"column 'x': NaN or infinite values: 2 rows, e.g. \[3, 7\]"):
        CoxPH().fit(d)


def test_error_nonpositive_duration_and_bad_event_together():
    d = _toy()
    d.loc[0, "duration"] = 0
    d.loc[5, "event"] = 2
    with pytest.raises(ModelError, match=r"2 problems found(.|\n)*durations must be > 0(.|\n)*"
                                         r"event must be 0 \(censored\) or 1"):
        CoxPH().fit(d)


def test_error_entry_after_exit():
    d = _toy().assign(entry=0.0)
    d.loc[2, "entry"] = 1000.0
    with pytest.raises(ModelError, match=r"durations must exceed 'entry': 1 row, e.g. \[2\]"):
        CoxPH().fit(d, entry_col="entry")


def test_error_no_events():
    with pytest.raises(ModelError, match="has no events"):
        CoxPH().fit(_toy().assign(event=0))


def test_error_singular_design():
    d = _toy().assign(x2=lambda t: 2 * t.x, c=1.0)
    with pytest.raises(ModelError, match=r"singular design: 'x2' is a linear combination of \['x'\]"
                                         r"; 'c' is constant"):
        CoxPH().fit(d, covariates=["x", "x2", "c"])


def test_error_bad_settings_and_reference():
    with pytest.raises(ModelError, match="ties must be one of"):
        CoxPH(ties="exact").fit(_toy())
    with pytest.raises(ModelError, match="alpha must be between"):
        CoxPH(alpha=2).fit(_toy())
    with pytest.raises(ModelError, match="l1_ratio between 0 and 1"):
        CoxPH(penalty=-1).fit(_toy())
    with pytest.raises(ModelError, match=r"reference level 'zz' of 'plan'"):
        CoxPH().fit(_toy(), reference={"plan": "zz"})
    with pytest.raises(ModelError, match="must be a pandas DataFrame"):
        CoxPH().fit(np.zeros((3, 3)))


def test_reference_level_choice():
    res = CoxPH().fit(_toy(), reference={"plan": "b"}).result_
    assert list(res.params.index) == ["x", "plan[a]"]
    assert res.spec.reference == {"plan": "b"}


def test_separation_warning():
    rng = np.random.default_rng(3)
    n = 80
    g = np.repeat([0, 1], n // 2)
    d = pd.DataFrame({"duration": rng.exponential(10, n) + 0.1, "event": g, "g": g})
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        CoxPH().fit(d)
    kinds = {type(w.message) for w in rec}
    assert SeparationWarning in kinds
    msg = next(str(w.message) for w in rec if isinstance(w.message, SeparationWarning))
    assert "penalty" in msg and "['g']" in msg


def test_convergence_warning():
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 iterations"):
        CoxPH(max_iter=1).fit(_toy(200, seed=4), covariates=["x"])


def test_converges_to_the_optimum(rossi):
    model = CoxPH().fit(rossi, "week", "arrest")
    res = model.result_
    grad = res._evaluation.gradient
    # scaled by the standard errors: the Newton decrement is far below R's stopping point
    assert np.max(np.abs(grad * res.se.to_numpy())) < 1e-8
    assert model.n_iter_ <= 10


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_elastic_net_matches_glmnet(rossi, ref, l1_ratio):
    # glmnet: -loglik/n + lambda * ((1 - alpha)/2 ||b||^2 + alpha ||b||_1), Breslow ties,
    # standardize = FALSE, thresh = 1e-14: penalty = lambda * n. Tolerance 1e-6 absolute
    # (glmnet's coordinate descent stops on its own threshold; zeros are exact in both).
    res = CoxPH(ties="breslow", penalty=0.02 * len(rossi), l1_ratio=l1_ratio).fit(
        rossi, "week", "arrest").result_
    r = r_values(ref, f"rossi_glmnet_alpha{l1_ratio:g}", "coef")
    np.testing.assert_allclose(res.params[r.index], r, atol=1e-6)
    np.testing.assert_array_equal(res.params[r.index] == 0, r == 0)


def test_late_entry_with_strata_and_an_event_free_stratum(ref):
    # lifelines 0.30 gives a different estimate here; R's coxph(Surv(entry, duration, event)
    # ~ x + strata(g)) is the reference.
    d = pd.read_csv(REF / "cox_entry_strata.csv")
    res = CoxPH().fit(d, entry_col="entry", strata="g", covariates=["x"]).result_
    check_against_r(res, ref, "entry_strata")
