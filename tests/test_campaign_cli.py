"""`survchurn campaign assign` and `survchurn campaign evaluate` end to end on simulated data."""

import pandas as pd

import survchurn as sc
from survchurn.campaign import simulate_campaign
from survchurn.cli import main


def test_assign_then_evaluate(tmp_path, capsys):
    sim = sc.simulate_dealership(6_000, seed=21)
    camp = simulate_campaign(sim, start="2016-09-30", hazard_ratio={"red": 0.6, "orange": 0.6},
                             seed=5)
    flagged = camp.assignment[["customer_id", "tier"]]
    flagged.to_csv(tmp_path / "flagged.csv", index=False)
    assert main(["campaign", "assign", str(tmp_path / "flagged.csv"), "-o", str(tmp_path / "arms.csv"),
                 "--seed", "7", "--quiet"]) == 0
    arms = pd.read_csv(tmp_path / "arms.csv")
    assert set(arms["arm"]) == {"control", "treatment"} and len(arms) == len(flagged)
    # same seed, same assignment
    assert main(["campaign", "assign", str(tmp_path / "flagged.csv"), "-o", str(tmp_path / "again.csv"),
                 "--seed", "7", "--quiet"]) == 0
    assert (tmp_path / "arms.csv").read_bytes() == (tmp_path / "again.csv").read_bytes()

    camp.assignment.to_csv(tmp_path / "assignment.csv", index=False)
    camp.events.to_csv(tmp_path / "events.csv", index=False)
    out = tmp_path / "result.csv"
    assert main(["campaign", "evaluate", str(tmp_path / "assignment.csv"), str(tmp_path / "events.csv"),
                 "-o", str(out), "--start", "2016-09-30", "--as-of", "2018-09-30",
                 "--horizon-days", "540", "--window-days", "365", "--action-cost", "50",
                 "--customer-value", "2000", "--quiet"]) == 0
    result = pd.read_csv(out)
    assert len(result) >= 2 and "campaign result" in capsys.readouterr().out


def test_evaluate_missing_file_is_a_data_error(tmp_path, capsys):
    code = main(["campaign", "evaluate", str(tmp_path / "a.csv"), str(tmp_path / "e.csv"), "-o",
                 str(tmp_path / "r.csv"), "--start", "2016-09-30", "--as-of", "2018-09-30",
                 "--horizon-days", "180", "--quiet"])
    assert code == 4 and "does not exist" in capsys.readouterr().err
