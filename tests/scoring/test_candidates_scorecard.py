"""Candidate flags, screening, scorecard validation and the models' error paths."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ConfigError, DataError, ScoringError
from survchurn.scoring.candidates import CandidateBuilder, spec_sql, spec_values
from survchurn.scoring.lasso import LassoLogistic
from survchurn.scoring.logistic import fit_logistic, validate_design
from survchurn.scoring.scorecard import Scorecard
from survchurn.scoring.screening import screen_candidates
from survchurn.scoring.stepwise import StepwiseLogistic


def _data(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    z = rng.normal(size=n)
    plan = rng.choice(["a", "b", "c"], n)
    code = rng.integers(1, 4, n)
    eta = -2 + 0.3 * x + 1.0 * (plan == "c")
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df = pd.DataFrame({"x": x, "z": z, "plan": plan, "code": code.astype(float),
                       "num": rng.uniform(1, 2, n), "den": rng.choice([0.0, 1.0, 2.0], n)})
    df.loc[::17, "x"] = np.nan
    return df, y


def test_event_rate_bins_are_monotone_and_flags_exclusive():
    df, y = _data()
    b = CandidateBuilder(categorical=["plan", "code"], numeric=["x"], bins=4).fit(df, y)
    F = b.transform(df)
    xflags = [s for s in b.specs_ if s["group"] == "x" and s["kind"] == "bin"]
    assert 1 <= len(xflags) <= 3
    # flags of one group never overlap
    assert (F[[s["name"] for s in b.specs_ if s["group"] == "x"]].sum(axis=1) <= 1).all()
    # churn rate rises across the x bins (monotone risk): flag rates ordered by bin
    rates = [y[F[s["name"]].to_numpy() == 1].mean() for s in sorted(xflags, key=lambda s: s["upper"] or np.inf)]
    assert np.all(np.diff(rates) > 0)
    assert "x:missing" in F.columns and F["x:missing"].sum() == df["x"].isna().sum()
    # the lowest-risk plan level is the reference (no flag)
    assert "plan=c" in F.columns and "plan=a" in F.columns or "plan=b" in F.columns
    assert sum(c.startswith("plan=") for c in F.columns) == 2
    assert b.groups_["plan=c"] == "plan"


def test_quantile_bins_ratios_and_continuous_mode():
    df, y = _data()
    b = CandidateBuilder(numeric=["z"], categorical=[], ratios={"r": ("num", "den")},
                         binning="quantile", bins=3).fit(df, y)
    assert {s["group"] for s in b.specs_} == {"z", "r"}
    r = [s for s in b.specs_ if s["group"] == "r"]
    assert any(s["kind"] == "missing" for s in r)  # den == 0 -> missing
    c = CandidateBuilder(numeric=["x", "num"], categorical=["plan"], mode="continuous", log=["num"]).fit(df, y)
    F = c.transform(df)
    assert "log_num" in F.columns and abs(F["log_num"].mean()) < 1e-9 and F["log_num"].std(ddof=0) == pytest.approx(1)
    assert F["x"].isna().sum() == 0 and "x:missing" in F.columns


def test_flag_sql_matches_pandas():
    df = pd.DataFrame({"v": [np.nan, 0.1, 0.3, 1e-300, np.inf, 5.0], "k": ["a", None, "b", "a", "c", "b"],
                       "flag": [True, False, True, True, False, False],
                       "n": [1, 2, 3, 4, 5, 6], "d": [0.0, 3.0, 0.0, 1.0, 2.0, 3.0]})
    specs = [
        {"name": "v1", "kind": "bin", "source": "v", "lower": 0.1, "upper": 0.3},
        {"name": "v2", "kind": "bin", "source": "v", "lower": None, "upper": 0.1},
        {"name": "v3", "kind": "missing", "source": "v"},
        {"name": "k1", "kind": "level", "source": "k", "levels": ["b"]},
        {"name": "n1", "kind": "level", "source": "n", "levels": ["3"], "cast": "int"},
        {"name": "b1", "kind": "level", "source": "flag", "levels": ["1"], "cast": "int"},
        {"name": "r1", "kind": "bin", "ratio": ["n", "d"], "lower": 1.0, "upper": None},
        {"name": "r2", "kind": "missing", "ratio": ["n", "d"]},
    ]
    con = duckdb.connect()
    con.register("t", df)
    for s in specs:
        got = con.sql(f"SELECT {spec_sql(s)} AS f FROM t").df()["f"].to_numpy()
        np.testing.assert_array_equal(got, spec_values(s, df).to_numpy(), err_msg=s["name"])


def test_exactly_dependent_flags_are_dropped():
    df, y = _data()
    df["paid"] = np.where(df["den"] == 0, "cash", "loan")  # the same split as den's bins
    b = CandidateBuilder(numeric=["den"], categorical=["paid"], binning="quantile", bins=3).fit(df, y)
    assert b.dropped_ and all(name.startswith("paid=") for name in b.dropped_)
    F = b.transform(df)
    A = np.column_stack([np.ones(len(F)), F.to_numpy()])
    assert np.linalg.matrix_rank(A) == A.shape[1]


def test_candidate_errors():
    df, y = _data(200)
    with pytest.raises(ConfigError, match="mode must be 'flags' or 'continuous'"):
        CandidateBuilder(mode="woe")
    with pytest.raises(ConfigError, match="binning must be"):
        CandidateBuilder(binning="tree")
    with pytest.raises(ConfigError, match="bins must be at least 2"):
        CandidateBuilder(bins=1)
    with pytest.raises(DataError, match="column 'nope': column not found in the features"):
        CandidateBuilder(numeric=["nope"]).fit(df, y)
    with pytest.raises(DataError, match="label has 3 rows"):
        CandidateBuilder().fit(df, y[:3])
    b = CandidateBuilder(numeric=["x"], categorical=[]).fit(df, y)
    with pytest.raises(DataError, match="column 'x': column used by the candidates is missing"):
        b.transform(df.drop(columns="x"))
    with pytest.raises(DataError, match="column 'z': categorical column holds non-integer numbers"):
        CandidateBuilder(numeric=[], categorical=["z"]).fit(df, y)
    with pytest.raises(DataError, match="no usable candidate variable"):
        CandidateBuilder(numeric=["c"], categorical=[]).fit(pd.DataFrame({"c": np.ones(200)}), y)


def test_screening_table():
    df, y = _data()
    res = screen_candidates(df, y, columns=["x", "z", "plan"])
    s = res.to_frame()
    assert s.index[0] == "x" and s.loc["x", "information_value"] > s.loc["z", "information_value"]
    assert s.loc["x", "share_missing"] == pytest.approx(df["x"].isna().mean())
    assert s.loc["x", "odds_ratio_per_sd"] > 1 and s.loc["x", "p_value"] < 1e-10
    assert s.loc["plan", "p_value"] < 1e-6 and np.isnan(s.loc["plan", "odds_ratio_per_sd"])
    lv = res.levels.loc["plan"]
    assert lv["customers"].sum() == len(df)
    assert ("x", "missing") in res.levels.index
    with pytest.raises(DataError, match="column 'q': column not found"):
        screen_candidates(df, y, columns=["q"])
    with pytest.raises(DataError, match="label has 2 rows"):
        screen_candidates(df, y[:2])


def _card() -> Scorecard:
    return Scorecard(flags=({"name": "x:>5", "kind": "bin", "source": "x", "lower": 5.0, "upper": None,
                             "group": "x", "points": 2},
                            {"name": "plan=c", "kind": "level", "source": "plan", "levels": ["c"],
                             "group": "plan", "points": 1}),
                     max_points=3, churn_definition="no order for 180 days", training_period="1997")


def test_scorecard_roundtrip_and_sql(tmp_path):
    df, _ = _data(500)
    card = _card()
    p = card.save(tmp_path / "sub" / "card.json")
    back = Scorecard.load(p)
    assert back == card and back.variables == ["x", "plan"]
    d = json.loads(p.read_text())
    assert d["schema"] == "survchurn.scorecard" and d["version"] == 1
    con = duckdb.connect()
    con.register("cust", df)
    got = con.sql(back.to_sql("cust", score_col="warn")).df()["warn"].to_numpy()
    np.testing.assert_array_equal(got, back.score(df).to_numpy())
    assert set(np.unique(got)) <= {0, 1, 2, 3}


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(schema="other"), "schema is 'other', expected 'survchurn.scorecard'"),
    (lambda d: d.update(version=99), "version 99 is not supported"),
    (lambda d: d.pop("flags"), "missing key 'flags'"),
    (lambda d: d.update(max_points=0), "max_points must be a positive integer"),
    (lambda d: d.update(tiers={"a": "x"}), "tiers must map names to integer"),
    (lambda d: d["flags"][0].update(points=1.5), "points must be a non-negative integer"),
    (lambda d: d["flags"][0].update(kind="tree"), "kind 'tree' is not one of"),
    (lambda d: d["flags"][0].pop("upper"), "missing 'upper'"),
    (lambda d: d["flags"][1].pop("source"), "needs a 'source' column or a 'ratio'"),
    (lambda d: d["flags"][0].update(lower="5"), "lower must be a number or null"),
    (lambda d: d.update(flags="x"), "flags must be a list"),
])
def test_scorecard_load_validates(tmp_path, edit, message):
    d = _card().to_dict()
    edit(d)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    with pytest.raises(ScoringError, match=message):
        Scorecard.load(p)


def test_scorecard_file_errors(tmp_path):
    with pytest.raises(ScoringError, match="not found; save one with Scorecard.save"):
        Scorecard.load(tmp_path / "none.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ScoringError, match="is not valid JSON"):
        Scorecard.load(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("[1, 2]")
    with pytest.raises(ScoringError, match="expected a JSON object"):
        Scorecard.load(tmp_path / "y.json")
    with pytest.raises(ScoringError, match="is not a plain SQL identifier"):
        _card().to_sql("t; DROP TABLE x")
    with pytest.raises(ScoringError, match=r"lacks 1 column\(s\) the scorecard needs: \['plan'\]"):
        _card().score(pd.DataFrame({"x": [1.0]}))


def test_model_errors():
    df, y = _data(300)
    X = df[["z", "num"]]
    with pytest.raises(DataError, match="column 'plan': is not numeric"):
        validate_design(df[["plan", "z"]], y)
    with pytest.raises(DataError, match="column 'x': has missing values: 18 rows"):
        validate_design(df[["x"]], y)
    with pytest.raises(DataError, match="must be 0 \\(stayed\\) or 1 \\(churned\\): 1 row"):
        validate_design(X, np.r_[2, y[1:]])
    with pytest.raises(DataError, match="label is 0 for all 300 rows"):
        validate_design(X, np.zeros(300))
    with pytest.raises(DataError, match="label column not found"):
        validate_design(X, "churn")
    with pytest.raises(DataError, match="label has 2 rows but features have 300"):
        fit_logistic(X, y[:2])
    with pytest.raises(ConfigError, match="s must be 'lambda.1se' or 'lambda.min'"):
        LassoLogistic(s="best")
    with pytest.raises(ConfigError, match="nfolds must be at least 3"):
        LassoLogistic(nfolds=2)
    with pytest.raises(ConfigError, match="foldid has 3 entries"):
        LassoLogistic().fit(X, y, foldid=[1, 2, 3])
    with pytest.raises(ConfigError, match="foldid must number folds 1..K with K >= 3"):
        LassoLogistic().fit(X, y, foldid=np.r_[np.ones(150), 2 * np.ones(150)].astype(int))
    with pytest.raises(ConfigError, match="direction must be"):
        StepwiseLogistic(direction="up")
    with pytest.raises(ConfigError, match="criterion must be"):
        StepwiseLogistic(criterion="cp")
    with pytest.raises(ConfigError, match="p_enter \\(0.2\\) must not exceed p_remove"):
        StepwiseLogistic(criterion="p", p_enter=0.2, p_remove=0.1)
    with pytest.raises(ConfigError, match="start must be 'full' or 'empty'"):
        StepwiseLogistic(start="half")


def test_stepwise_bic_and_p_value_rules():
    df, y = _data(2000, 3)
    X = pd.concat([df[["z", "num"]], df[["x"]].fillna(5.0), pd.get_dummies(df["plan"], prefix="plan",
                                                                           drop_first=True, dtype=float)], axis=1)
    groups = {"plan_b": "plan", "plan_c": "plan"}
    bic = StepwiseLogistic(criterion="bic", direction="forward").fit(X, y, groups=groups)
    assert set(bic.terms_) == {"x", "plan"}
    pv = StepwiseLogistic(criterion="p", direction="backward").fit(X, y, groups=groups)
    assert set(pv.terms_) == {"x", "plan"}
    assert pv.result_.model.columns == ["x", "plan_b", "plan_c"]
    assert list(pv.trace_.columns) == ["step", "df", "deviance", "resid_df", "resid_dev", "criterion"]
