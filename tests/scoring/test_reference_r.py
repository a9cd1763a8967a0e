"""survchurn.scoring against R (glm, glmnet 4.1-6, MASS::stepAIC).

Reference values: tests/reference/scoring_reference.R (see its header to regenerate) on the
fixed dataset tests/reference/scoring_data.csv (2000 rows, 10 numeric and 2 categorical
predictors). The suite never calls R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survchurn.scoring.lasso import LassoLogistic, lambda_sequence, lasso_path
from survchurn.scoring.logistic import fit_logistic
from survchurn.scoring.stepwise import StepwiseLogistic

REF = Path(__file__).resolve().parents[1] / "reference"


def _design() -> tuple[pd.DataFrame, pd.Series, dict[str, str], pd.Series]:
    d = pd.read_csv(REF / "scoring_data.csv")
    X = pd.concat(
        [
            d[[f"x{i}" for i in range(1, 11)]],
            pd.get_dummies(d["region"], prefix="region", drop_first=True, dtype=float),
            pd.get_dummies(d["plan"], prefix="plan", drop_first=True, dtype=float),
        ],
        axis=1,
    )
    groups = {c: c.split("_")[0] for c in X.columns if "_" in c}
    return X, d["churn"], groups, d["foldid"]


def _r_name(term: str) -> str:
    return {"(Intercept)": "const"}.get(term, term.replace("region", "region_", 1).replace("plan", "plan_", 1))


def test_full_logistic_matches_glm():
    X, y, groups, _ = _design()
    ref = pd.read_csv(REF / "scoring_glm.csv")
    res = fit_logistic(X, y, groups=groups)
    names = [_r_name(t) for t in ref["term"]]
    # 1e-6: both are converged Newton-Raphson MLEs of the same likelihood
    np.testing.assert_allclose(res.coef[names].to_numpy(), ref["estimate"], atol=1e-6)
    np.testing.assert_allclose(res.se[names].to_numpy(), ref["se"], atol=1e-6)
    assert res.loglik == pytest.approx(ref["loglik"][0], abs=1e-6)
    assert res.aic == pytest.approx(ref["aic"][0], abs=1e-6)
    frame = res.to_frame()
    assert frame.loc["plan_gold", "group"] == "plan"
    assert frame.loc["x1", "odds_ratio"] == pytest.approx(np.exp(res.coef["x1"]))


def test_lambda_sequence_and_path_length_match_glmnet():
    X, y, _, _ = _design()
    ref = pd.read_csv(REF / "scoring_glmnet_path.csv")
    lam = lambda_sequence(X.to_numpy(float), y.to_numpy(float))
    assert len(lam) == 100
    # same formula in floating point: 1e-10 relative
    np.testing.assert_allclose(lam[: len(ref)], ref["lambda"], rtol=1e-10)
    path = lasso_path(X.to_numpy(float), y.to_numpy(float), lam, truncate=True, tol=1e-14)
    assert len(path["lambda"]) == len(ref)  # glmnet's early-stopping rule
    np.testing.assert_allclose(path["dev_ratio"], ref["dev_ratio"], atol=1e-6)
    np.testing.assert_array_equal(path["df"], ref["df"])


def test_lasso_coefficients_match_glmnet_on_fixed_grid():
    X, y, _, _ = _design()
    grid = pd.read_csv(REF / "scoring_glmnet_grid.csv")["lambda"].to_numpy()
    ref = pd.read_csv(REF / "scoring_glmnet_coef.csv")
    path = lasso_path(X.to_numpy(float), y.to_numpy(float), grid, tol=1e-14)
    mine = np.vstack([path["a0"], path["beta"]])
    # 1e-4 (acceptance): both solve the same convex problem to thresh 1e-14; observed ~2e-8
    np.testing.assert_allclose(mine, ref.iloc[:, 1:].to_numpy(), atol=1e-4)


def test_cv_lasso_matches_cv_glmnet():
    X, y, groups, foldid = _design()
    ref = pd.read_csv(REF / "scoring_cvglmnet.csv")
    m = LassoLogistic(tol=1e-14).fit(X, y, foldid=foldid, groups=groups)
    np.testing.assert_allclose(m.path_["lambda"], ref["lambda"], rtol=1e-10)
    # cvm / cvsd: 1e-6 (fold paths solved to 1e-14 and interpolated as glmnet does)
    np.testing.assert_allclose(m.path_["cvm"], ref["cvm"], atol=1e-6)
    np.testing.assert_allclose(m.path_["cvsd"], ref["cvsd"], atol=1e-6)
    assert m.lambda_min_ == pytest.approx(ref["lambda_min"][0], rel=1e-10)
    assert m.lambda_1se_ == pytest.approx(ref["lambda_1se"][0], rel=1e-10)
    res = m.result_
    assert res.refit is not None and set(res.selected) == set(res.refit.columns)
    assert {"x1", "x2", "x3", "x8", "plan_gold"} <= set(res.selected)
    assert {"plan_plus", "plan_pro"} <= set(res.selected)  # the whole plan group comes along
    assert "lambda.1se" in repr(res)


@pytest.mark.parametrize("direction", ["both", "backward"])
@pytest.mark.parametrize("exact", [True, False])
def test_stepwise_matches_stepaic(direction, exact):
    X, y, groups, _ = _design()
    ref = pd.read_csv(REF / f"scoring_stepaic_{direction}.csv")
    m = StepwiseLogistic(direction=direction, criterion="aic", exact=exact).fit(X, y, groups=groups)
    assert list(m.trace_["step"]) == list(ref["step"].fillna(""))
    # AIC path to 1e-6 (acceptance): every AIC is an exact converged refit
    np.testing.assert_allclose(m.trace_["criterion"], ref["aic"], atol=1e-6)
    np.testing.assert_allclose(m.trace_["resid_dev"], ref["resid_dev"], atol=1e-6)
    np.testing.assert_array_equal(m.trace_["resid_df"], ref["resid_df"])
    assert "+".join(m.terms_) == ref["final"][0]
