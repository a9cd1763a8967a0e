"""Offline coverage check of the campaign evaluation (not collected by pytest; ~4 s a seed).

Usage: ``python tests/campaign/coverage_check.py N_CUSTOMERS START HORIZON FIRST_SEED LAST_SEED``,
e.g. ``python tests/campaign/coverage_check.py 60000 2015-09-30 720 0 33`` (what the numbers in
test_evaluate.py come from). For each seed: simulate the dealership and the campaign as in
conftest.py, evaluate it, compute the true sample effects from both potential outcomes, and
record whether each 95% interval covers. Prints coverage per tier and the seeds where every
interval covers; writes no file.
"""
import sys
import warnings

import numpy as np
import pandas as pd

from survchurn.campaign.evaluate import campaign_outcomes, evaluate_campaign
from survchurn.campaign.simulate import inject_treatment_effect, simulate_campaign
from survchurn.data.simulate import simulate_dealership
from survchurn.survival.cox import CoxPH

N, START, H, W = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), 365
HR = {"red": 0.6, "orange": 0.6}
def truth(sim, camp, end):
    a = camp.assignment
    y0 = campaign_outcomes(a.assign(arm="control"), sim.events, start=START, as_of=end, window_days=W)
    w1 = inject_treatment_effect(sim, a.assign(arm="treatment"), start=START, hazard_ratio=HR, seed=SEED + 1)
    y1 = campaign_outcomes(a.assign(arm="treatment"), w1.events, start=START, as_of=end, window_days=W)
    out = {}
    for tier in ["green", "yellow", "orange", "red"]:
        g0, g1 = y0[y0.tier == tier], y1[y1.tier == tier]
        rd = ((g1.event == 1) & (g1.duration <= H)).mean() - ((g0.event == 1) & (g0.duration <= H)).mean()
        rm = np.minimum(g1.duration, H).mean() - np.minimum(g0.duration, H).mean()
        st = pd.concat([g0.assign(t=0.0), g1.assign(t=1.0)])
        hr = float(CoxPH().fit(st[["duration", "event", "t"]], covariates=["t"]).result_.hazard_ratios.iloc[0])
        out[tier] = (rd, rm, hr)
    return out
rows = []
for SEED in range(int(sys.argv[4]), int(sys.argv[5])):
    sim = simulate_dealership(N, seed=SEED)
    camp = simulate_campaign(sim, start=START, hazard_ratio=HR, seed=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_campaign(camp.assignment, camp.events, start=START, horizon_days=H, as_of=sim.end, alpha=0.05)
        tr = truth(sim, camp, sim.end)
    for _, r in res.tiers.iterrows():
        rd, rm, hr = tr[r.segment]
        rows.append({"seed": SEED, "tier": r.segment, "rd_true": rd, "rd": r.risk_diff, "rd_cov": r.risk_diff_lower <= rd <= r.risk_diff_upper,
                     "rm_cov": r.rmst_diff_lower <= rm <= r.rmst_diff_upper, "hr_true": hr, "hr": r.hr, "hr_cov": r.hr_lower <= hr <= r.hr_upper,
                     "hr_sig": r.hr_upper < 1, "rd_sig": r.risk_diff_upper < 0,
                     "rd_z": (r.risk_diff - rd) / r.risk_diff_se, "hr_z": (r.log_hr - np.log(hr)) / r.log_hr_se})
d = pd.DataFrame(rows)
pd.set_option("display.width", 200)
print(d.groupby("tier")[["rd_true", "rd", "hr_true", "hr", "rd_cov", "rm_cov", "hr_cov", "hr_sig", "rd_sig"]].mean())
print(d.groupby("tier")[["rd_z", "hr_z"]].agg(["mean", "std"]))
allcov = d.groupby("seed")[["rd_cov", "rm_cov", "hr_cov"]].all().all(axis=1)
print("seeds with every CI covering:", list(allcov[allcov].index))
hit = d[d["tier"].isin(["orange", "red"])].groupby("seed")["hr_sig"].all()
red_rd = d[d["tier"] == "red"].set_index("seed")["rd_sig"]
print("... and the orange and red HR and the red risk difference detected:",
      [s for s in allcov.index if allcov[s] and hit[s] and red_rd[s]])
print("share of seeds covering everywhere:", round(float(allcov.mean()), 3))
print(d.groupby("tier")[["rd_cov", "rm_cov", "hr_cov", "hr_sig", "rd_sig"]].mean().round(3))
