"""The whole analysis and a Chinese report on the dealership simulator (customer attributes too)."""

import shutil
import subprocess

import pytest

import survchurn as sc
from survchurn.reporting.outputs import write_outputs


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    sim = sc.simulate_dealership(5_000, seed=11)
    log = sc.read_event_log(sim.events, id_col="customer_id", time_col="date", amount_col="amount",
                            category_col="service_type")
    customers = sim.customers.drop(columns=["purchase_date"])
    analysis = sc.analyse(log, as_of="2017-09-30", definition=sc.InactivityChurn(365),
                          horizon_days=365, customers=customers, dataset="dealership simulator")
    report = sc.build_report(analysis, title="经销商售后客户流失预警", lang="zh")
    out = tmp_path_factory.mktemp("dealer")
    paths, messages = write_outputs(analysis, report, out)
    return analysis, paths, messages


def test_every_section_is_built(run):
    analysis, paths, _ = run
    assert analysis.warning is not None and analysis.drivers is not None and analysis.stages is not None
    html = paths["html"].read_text(encoding="utf-8")
    for title in ("执行摘要", "客户留存", "客户生命周期", "流失驱动因素", "流失预警评分", "附录"):
        assert title in html
    # acquisition cohorts are years for a business observed over many years: a readable chart
    assert len(analysis.km_by["cohort"].groups) <= 12


def test_warning_score_has_the_dealership_shape(run):
    analysis, _, _ = run
    table = (analysis.warning.test_report or analysis.warning.report).to_frame()
    top = table[table["customers"] > 0].iloc[-1]
    assert top["share"] < 0.25 and top["churn_rate"] > table["churn_rate"].iloc[0]


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils (pdffonts, pdftotext) not installed")
def test_chinese_pdf_embeds_cjk_fonts(run):
    _, paths, messages = run
    if "pdf" not in paths:
        pytest.skip(f"PDF engine unavailable: {messages}")
    fonts = subprocess.run(["pdffonts", str(paths["pdf"])], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in r for r in rows)  # every font embedded
    assert any("CJK" in r for r in rows)
    text = subprocess.run(["pdftotext", str(paths["pdf"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "经销商售后客户流失预警" in text and "流失预警评分" in text
    pages = subprocess.run(["pdfinfo", str(paths["pdf"])], capture_output=True, text=True, check=True).stdout
    assert int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages"))) >= 5
