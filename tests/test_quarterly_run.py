"""`survchurn run` on real data: reproducible outputs, the previous quarter, applying a scorecard."""

import json

import pandas as pd
import pytest

from survchurn import load_cdnow
from survchurn.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("quarterly")
    load_cdnow().to_csv(root / "cdnow.csv", index=False)
    (root / "quarterly.toml").write_text(
        '[data]\nevents = "cdnow.csv"\nid_col = "customer_id"\ntime_col = "date"\n'
        'amount_col = "amount"\n[report]\nformats = ["html", "pdf"]\n', encoding="utf-8")
    cfg = str(root / "quarterly.toml")
    for out in ("q1a", "q1b"):
        assert main(["run", cfg, "--as-of", "1998-03-31", "--out", str(root / out), "--quiet"]) == 0
    assert main(["run", cfg, "--as-of", "1998-06-30", "--out", str(root / "q2"),
                 "--previous", str(root / "q1a"), "--quiet"]) == 0
    return root


def test_outputs_of_a_run(runs):
    names = sorted(p.name for p in (runs / "q1a").iterdir())
    assert names == ["manifest.json", "metrics.json", "report.html", "report.pdf", "scorecard.json",
                     "warning_list.csv"]
    wl = pd.read_csv(runs / "q1a" / "warning_list.csv")
    metrics = json.loads((runs / "q1a" / "metrics.json").read_text())
    assert len(wl) == metrics["active"] and wl["customer_id"].is_unique
    assert list(wl.columns[:6]) == ["customer_id", "score", "tier", "stage", "p_churn", "reasons"]
    assert wl["score"].is_monotonic_decreasing


def test_rerun_is_byte_identical_except_the_manifest(runs):
    for name in ("metrics.json", "report.html", "report.pdf", "scorecard.json", "warning_list.csv"):
        assert (runs / "q1a" / name).read_bytes() == (runs / "q1b" / name).read_bytes(), name
    a = json.loads((runs / "q1a" / "manifest.json").read_text())
    b = json.loads((runs / "q1b" / "manifest.json").read_text())
    a.pop("created_at"), b.pop("created_at")
    assert a == b


def test_previous_adds_quarter_over_quarter(runs):
    html = (runs / "q2" / "report.html").read_text(encoding="utf-8")
    assert "Quarter over quarter" in html and "Back-test of the previous warnings" in html
    assert "PSI" in html


def test_score_command_reproduces_the_run_scores(runs, tmp_path, capsys):
    wl = pd.read_csv(runs / "q1a" / "warning_list.csv")
    out = tmp_path / "scores.csv"
    assert main(["score", str(runs / "q1a" / "scorecard.json"), str(runs / "q1a" / "warning_list.csv"),
                 "-o", str(out), "--quiet"]) == 0
    again = pd.read_csv(out)
    assert again["score"].tolist() == wl["score"].tolist()
    assert again["tier"].tolist() == wl["tier"].tolist()
    assert main(["score", str(tmp_path / "missing.json"), str(out), "-o", str(out), "--quiet"]) == 4
    assert "does not exist" in capsys.readouterr().err


def test_previous_folder_must_hold_a_run(runs, tmp_path, capsys):
    code = main(["run", str(runs / "quarterly.toml"), "--as-of", "1998-06-30", "--out",
                 str(tmp_path / "x"), "--previous", str(tmp_path), "--quiet"])
    assert code == 4 and "metrics.json, warning_list.csv not found" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cdnow_scorecard_reproduces_scores_in_pandas_and_duckdb(runs):
    """Issue 6 on CDNOW: features as of 1998-03-31, churn within the next 90 days."""
    import duckdb

    from survchurn.scoring.scorecard import Scorecard

    card = Scorecard.load(runs / "q2" / "scorecard.json")
    assert "features as of 1998-03-31, churn within 90 days" in card.training_period
    wl = pd.read_csv(runs / "q2" / "warning_list.csv")
    assert card.score(wl).tolist() == wl["score"].tolist()
    con = duckdb.connect()
    con.register("live", wl)
    sql_scores = con.execute(f"SELECT CAST({card.sql_expression()} AS INTEGER) AS s FROM live").df()["s"]
    assert sql_scores.tolist() == wl["score"].tolist()
    metrics = json.loads((runs / "q2" / "metrics.json").read_text())
    assert metrics["warning_score"]["validation"]["test_auc"] > 0.6
    html = (runs / "q2" / "report.html").read_text(encoding="utf-8")
    for model in ("lasso (logistic)", "full (logistic)", "stepwise (logistic)", "integer score"):
        assert model in html  # the comparison table on the held-out customers
