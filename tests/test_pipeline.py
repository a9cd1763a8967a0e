"""The demo's whole trip and the command line, end to end on real data."""

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from survchurn import pipeline
from survchurn.cli import main


def _pdf_pages(path):
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"Pages:\s+(\d+)", out).group(1))
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return pipeline.run_demo(out_dir=out), out


def test_demo_writes_a_real_report(demo):
    result, out = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/svg+xml" in html or "data:image/png" in html  # a real chart, embedded
    assert "Kaplan" in html and "23,570" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    if "pdf" in result.outputs:
        assert _pdf_pages(out / "report.pdf") >= 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["customers"] == 23_570 and manifest["as_of"] == "1998-06-30"


def test_demo_analysis_numbers(demo):
    result, _ = demo
    st = result.analysis.survival
    assert st.n_customers_in == len(st.table) + len(st.rejected) == 23_570
    km = result.analysis.km_overall
    assert km.n == 23_570 and km.events == st.n_churned
    rates = result.analysis.churn_rates.table
    assert rates["period"].iloc[-1] == "1998Q2"
    assert ((rates["churn_rate"] >= 0) & (rates["churn_rate"] <= 1)).all()


def _config(tmp_path, extra=""):
    events = tmp_path / "events.csv"
    pd.DataFrame({
        "cust": [1, 1, 2, 2, 3, 4, 4, 5],
        "day": ["2026-01-05", "2026-02-01", "2026-01-10", "2026-08-01", "2026-03-03",
                "2026-04-01", "2026-09-01", "2026-06-15"],
        "value": [10.0, 12.5, 8.0, 9.0, 40.0, 5.0, 6.0, 7.0],
    }).to_csv(events, index=False)
    cfg = tmp_path / "quarterly.toml"
    cfg.write_text(
        f'[data]\nevents = "events.csv"\nid_col = "cust"\ntime_col = "day"\namount_col = "value"\n'
        f'[report]\nformats = ["html"]\n{extra}',
        encoding="utf-8",
    )
    return cfg


def test_cli_run_writes_the_period_folder(tmp_path, capsys):
    cfg = _config(tmp_path)
    assert main(["run", str(cfg), "--as-of", "2026-09-30", "--quiet"]) == 0
    out = tmp_path / "reports" / "2026Q3"
    assert (out / "report.html").is_file() and (out / "manifest.json").is_file()
    assert "report.html" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["run", "{missing}", "--as-of", "2026-09-30"], 3, "does not exist"),
        (["run", "{cfg}", "--as-of", "30/09/2026"], 3, "is not a date in the form YYYY-MM-DD"),
        (["validate", "{typo}"], 3, "Did you mean 'window_days'"),
        (["run", "{nofile}", "--as-of", "2026-09-30"], 4, "does not exist. Fix: check the path"),
    ],
)
def test_cli_errors_exit_codes(tmp_path, capsys, args, code, message):
    cfg = _config(tmp_path)
    typo = tmp_path / "typo.toml"
    typo.write_text(cfg.read_text() + "[churn]\nwindow_day = 60\n", encoding="utf-8")
    nofile = tmp_path / "nofile.toml"
    nofile.write_text(cfg.read_text().replace("events.csv", "gone.csv"), encoding="utf-8")
    subs = {"{missing}": str(tmp_path / "nope.toml"), "{cfg}": str(cfg), "{typo}": str(typo),
            "{nofile}": str(nofile)}
    argv = [subs.get(a, a) for a in args]
    assert main(argv + ["--quiet"]) == code
    err = capsys.readouterr().err
    assert err.startswith("survchurn: error:") and re.search(message, err)
    assert not (tmp_path / "reports").exists()  # nothing half-written


def test_cli_all_null_ids_is_a_data_error(tmp_path, capsys):
    cfg = _config(tmp_path)
    events = tmp_path / "events.csv"
    frame = pd.read_csv(events)
    frame["cust"] = None
    frame.to_csv(events, index=False)
    assert main(["run", str(cfg), "--as-of", "2026-09-30", "--quiet"]) == 4
    assert "cust" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_as_of_outside_the_data_is_a_clear_error(tmp_path, capsys):
    cfg = _config(tmp_path)
    assert main(["run", str(cfg), "--as-of", "2025-01-01", "--quiet"]) == 5
    assert "is before the first event (2026-01-05)" in capsys.readouterr().err
    assert main(["run", str(cfg), "--as-of", "2030-01-01", "--quiet"]) == 5
    assert "more than a month after the last event (2026-09-01)" in capsys.readouterr().err


def test_unknown_segment_column_and_bad_seed(tmp_path, capsys):
    cfg = _config(tmp_path, extra='segment_col = "region"\n')
    assert main(["run", str(cfg), "--as-of", "2026-09-30", "--quiet"]) == 3
    assert "segment column 'region' is neither in the survival table" in capsys.readouterr().err
    bad = tmp_path / "seed.toml"
    bad.write_text('seed = "abc"\n' + _config(tmp_path).read_text(), encoding="utf-8")
    assert main(["validate", str(bad), "--quiet"]) == 3
    assert "seed: expected a whole number" in capsys.readouterr().err


def test_score_keeps_input_rows_and_flags_missing_inputs(tmp_path):
    from survchurn.scoring.scorecard import Scorecard

    card = Scorecard(flags=({"name": "recency_days:>60", "kind": "bin", "source": "recency_days",
                             "ratio": None, "lower": 60.0, "upper": None, "group": "recency_days",
                             "points": 2},), max_points=5)
    card.save(tmp_path / "card.json")
    pd.DataFrame({"customer_id": ["=1", "b", "b", "c"], "recency_days": [90, 10, 70, None]}).to_csv(
        tmp_path / "customers.csv", index=False)
    assert main(["score", str(tmp_path / "card.json"), str(tmp_path / "customers.csv"), "-o",
                 str(tmp_path / "s.csv"), "--quiet"]) == 0
    out = pd.read_csv(tmp_path / "s.csv")
    assert out["customer_id"].tolist() == ["'=1", "b", "b", "c"]   # input order, duplicates kept
    assert out["score"].tolist() == [2, 0, 2, 0]
    assert out["missing_inputs"].fillna("").tolist() == ["", "", "", "recency_days"]


def test_validate_reports_events_after_as_of(tmp_path, capsys):
    cfg = _config(tmp_path)
    assert main(["validate", str(cfg), "--as-of", "2026-06-30", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "8 events, 5 customers" in out and "2 events after it are left out" in out
    assert not (tmp_path / "reports").exists()
