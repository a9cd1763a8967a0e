"""Fixed labels of the management report in English and Simplified Chinese.

Every word the report prints that does not come from the data lives here: section titles,
table headers the pipeline uses, footnotes, the page footer. :func:`t` looks a label up and
formats it; a missing key or an unsupported language is an error that says what exists.

Placeholders use :meth:`str.format` syntax (``"Page {page} of {pages}"``); both languages of a
key must use the same placeholders (a test checks it).
"""

from __future__ import annotations

import difflib
from typing import Any

from survchurn.exceptions import ConfigError, ReportError

__all__ = ["LABELS", "LANGUAGES", "check_lang", "html_lang", "t"]

LANGUAGES: tuple[str, ...] = ("en", "zh")

_EN: dict[str, str] = {
    # sections (in the order the report shows them)
    "section.summary": "Executive summary",
    "section.retention": "Retention",
    "section.lifecycle": "Customer lifecycle",
    "section.drivers": "Churn drivers",
    "section.warning_score": "Warning score",
    "section.qoq": "Quarter over quarter",
    "section.campaign": "Retention campaign",
    "section.appendix": "Appendix",
    # cover and page furniture
    "cover.kicker": "Customer churn early-warning report",
    "cover.contents": "Contents",
    "page.footer": "Page {page} of {pages}",
    "figure.n": "Figure {n}",
    "table.n": "Table {n}",
    "table.truncated": "Showing the first {shown:,} of {total:,} rows.",
    "value.missing": "–",
    "value.not_reached": "not reached",
    "value.yes": "yes",
    "value.no": "no",
    # report details (meta) keys
    "meta.period": "Period",
    "meta.previous_period": "Previous period",
    "meta.as_of": "As of",
    "meta.data_window": "Data window",
    "meta.churn_definition": "Churn definition",
    "meta.organisation": "Organisation",
    "meta.prepared_by": "Prepared by",
    "meta.dataset": "Data set",
    "meta.config_hash": "Configuration hash",
    "meta.data_fingerprint": "Data fingerprint",
    "appendix.details": "Report details",
    "appendix.manifest": "Manifest",
    "appendix.item": "Item",
    "appendix.value": "Value",
    "appendix.package": "Package",
    "appendix.version": "Version",
    # key figures and table headers used by the pipeline
    "col.customers": "Customers",
    "col.active_customers": "Active customers",
    "col.churned": "Churned",
    "col.censored": "Censored",
    "col.churn_rate": "Churn rate",
    "col.churn_rate_change": "Change in churn rate",
    "col.expected_churners": "Expected churners next quarter",
    "col.share": "Share",
    "col.tier": "Tier",
    "col.score": "Score",
    "col.points": "Points",
    "col.variable": "Variable",
    "col.level": "Level",
    "col.lift": "Lift",
    "col.cumulative_capture": "Cumulative capture",
    "col.stage": "Lifecycle stage",
    "col.from_stage": "Stage last period",
    "col.to_stage": "Stage this period",
    "col.churn_type": "Churn type",
    "col.time_days": "Time (days)",
    "col.at_risk": "At risk",
    "col.number_at_risk": "Number at risk",
    "col.survival": "Survival probability",
    "col.median_lifetime": "Median lifetime (days)",
    "col.retention_90": "90-day retention",
    "col.retention_180": "180-day retention",
    "col.retention_365": "365-day retention",
    "col.hazard_ratio": "Hazard ratio",
    "col.ci_lower": "Lower 95% limit",
    "col.ci_upper": "Upper 95% limit",
    "col.p_value": "p-value",
    "col.effect": "Effect on churn risk",
    "col.psi": "PSI",
    "col.stability": "Stability",
    "col.flagged": "Flagged last quarter",
    "col.flagged_churned": "Of those, churned",
    "col.precision": "Precision",
    "col.recall": "Recall",
    "col.cutoff": "Cut-off",
    "col.expected_value": "Expected value",
    "col.rejected_rows": "Rejected rows",
    "col.reason": "Reason",
    "col.check": "Check",
    "col.result": "Result",
    # tiers
    "tier.green": "Green",
    "tier.yellow": "Yellow",
    "tier.orange": "Orange",
    "tier.red": "Red",
    # lifecycle stages
    "stage.new": "New",
    "stage.growth": "Growth",
    "stage.mature": "Mature",
    "stage.decline": "Decline",
    "stage.churned": "Churned",
    # words for effects and stability
    "effect.higher": "raises churn risk by {pct}",
    "effect.lower": "lowers churn risk by {pct}",
    "effect.none": "no clear effect",
    "stability.stable": "stable",
    "stability.watch": "watch",
    "stability.shifted": "shifted",
    # footnotes
    "note.churn_definition": "A customer counts as churned after {window} days without a purchase.",
    "note.censoring": (
        "Customers whose inactivity window had not ended by the as-of date are censored: "
        "they are counted as at risk until then, not as retained."
    ),
    "note.median_not_reached": (
        "“not reached”: more than half of the customers were still active at the end of "
        "follow-up, so the median lifetime cannot be estimated yet."
    ),
    "note.hazard_ratio": (
        "A hazard ratio above 1 means a higher churn risk at any moment, holding the other "
        "variables fixed; below 1 a lower risk."
    ),
    "note.psi": "PSI below 0.1: stable; 0.1 to 0.25: watch; above 0.25: the population has shifted.",
    "note.lift": "Lift: churn rate in the group divided by the overall churn rate.",
    "note.no_sections": "No analysis sections were available for this run.",
    # pipeline: summary and retention
    "col.segment": "Segment",
    "kpi.customers": "Customers analysed",
    "kpi.churn_rate_quarter": "Churn rate {period} (share of the active base lost)",
    "kpi.vs_previous": "{change} pp vs the quarter before",
    "kpi.active": "Active customers at the as-of date",
    "kpi.median_lifetime": "Median lifetime (days)",
    "kpi.retention_365": "365-day retention",
    "finding.one_time": "{pct} of the customers who started at least {days} days ago never came back after their first purchase.",
    "kpi.expected_interval": "95% {lower}–{upper}, excluding model uncertainty",
    "finding.retention": "One year after their first purchase, {pct} of customers are still active.",
    "finding.segments": "Retention differs between {segment} groups (log-rank test p = {p}).",
    "retention.intro": "Kaplan-Meier estimates of the share of customers still active after a given number of days since their first purchase. Shaded bands are pointwise 95% confidence intervals; the table under each chart gives the number of customers still at risk.",
    "retention.overall": "All customers",
    "retention.by": "Retention by {segment}",
    "retention.footnote": "95% confidence intervals on the {conf_type} scale; retention is the Kaplan-Meier survival at the given day; “–” where follow-up is shorter.",
    "segment.cohort": "acquisition cohort",
    "segment.stage": "lifecycle stage",
    "data.rejected_none": "No rows or customers were rejected.",
    "drivers.figure": "Hazard ratios of churn with 95% confidence intervals",
    "drivers.zph": "Model diagnostics: proportional-hazards test per variable and global (as R's cox.zph, KM time scale)",
    "drivers.zph_failed": "The proportional-hazards assumption fails for at least one variable: its hazard ratio is an average over follow-up and its effect changes with time. Days since the last purchase acts mostly early, by the churn definition itself (a lapse is recognised W days after the last purchase). Read these ratios as directions and rough sizes; for precise effects stratify on the variable or split follow-up into periods.",
    "score.intro": "The warning score adds integer points for risk flags chosen by {method} of churn within {horizon} days ({period}). The table below is measured on {n} held-out customers that the model did not see.",
    "method.lasso": "a cross-validated LASSO logistic regression",
    "score.none": "No warning score this period: {why}",
    "campaign.title": "Retention campaign",
    "campaign.intro": "Customers flagged by the warning score were randomly split, tier by tier, into a treated group and a holdout. Churn is the first lapse of {window} days without activity after the start; rates are at {horizon:g} days from Kaplan-Meier, so customers still being followed are counted correctly.",
    "campaign.intro_no_window": "Customers were randomly split, tier by tier, into a treated group and a holdout. Rates are at {horizon:g} days from Kaplan-Meier.",
    "campaign.kf.treated": "Treated",
    "campaign.kf.holdout": "Holdout",
    "campaign.kf.churn_holdout": "Churn, holdout",
    "campaign.kf.churn_treated": "Churn, treated",
    "campaign.kf.saved": "Customers saved",
    "campaign.kf.hr": "Hazard ratio",
    "campaign.kf.roi": "Return on cost",
    "campaign.kf.ci": "{pct} CI {lo} to {hi}",
    "campaign.col.segment": "Segment",
    "campaign.col.treated": "Treated",
    "campaign.col.holdout": "Holdout",
    "campaign.col.churn_holdout": "Churn, holdout",
    "campaign.col.churn_treated": "Churn, treated",
    "campaign.col.diff": "Difference, pp (CI)",
    "campaign.col.hr": "HR (CI)",
    "campaign.col.saved": "Saved",
    "campaign.col.net": "Net value",
    "campaign.col.roi": "ROI",
    "campaign.table.caption": "Campaign effect overall and by warning tier",
    "campaign.table.footnote": "Difference = treated minus holdout churn at {horizon:g} days ({pct} Wald CI from Greenwood SEs); HR from Cox (overall stratified by tier); saved = -difference x treated. The full table (log-rank, customer-days kept up to {tau:g} days, intervals of every figure) is CampaignResult.to_frame().",
    "campaign.fig.km": "Not churned since the start, holdout vs treated",
    "campaign.fig.forest": "Hazard ratio of treatment by warning tier",
    "campaign.fig.forest_x": "hazard ratio, treated vs holdout (log scale), {pct} CI",
    "campaign.fig.km_x": "days since the start",
    "campaign.fig.km_y": "not churned",
    "campaign.het": "Does the effect differ between tiers? Cochran's Q on the log hazard ratios: Q = {q:.2f} on {df} df, p = {p:.3g}, I² = {i2:.0%}.",
    "campaign.segment.overall": "overall",
    "method.stepwise": "stepwise (AIC) logistic regression",
    "method.full": "a logistic regression on every candidate flag",
    "score.headline": "Customers with {score} points are {share} of customers, and {rate} of them churned ({lift}x the average).",
    "score.table": "Warning score vs churn (held-out customers)",
    "score.figure": "Churn rate by score (left) and the points of each risk flag (right)",
    "score.points": "Points per risk flag",
    "score.odds_ratio": "Odds ratio",
    "score.tiers": "Active customers by warning tier and expected churners within {horizon} days",
    "score.cutoff_table": "Choosing the cut-off: contacting every customer at or above a score",
    "score.cutoff": "Recommended cut-off: contact customers with {cutoff} points or more. Expected value {value} on the held-out customers, for an action costing {cost} per customer that keeps {success} of would-be churners, each worth {saved}.",
    "score.no_cutoff": "No cut-off has a positive expected value under the configured costs: contacting customers does not pay.",
    "score.comparison": "Model comparison on held-out customers",
    "kpi.expected_churners": "Expected churners within {horizon} days",
    "kpi.red_tier": "Customers in the red tier",
    "col.contacted": "Customers contacted",
    "col.expected_within": "Expected churners",
    "qoq.intro": "This run compared with the previous one (as of {previous}): the churn rate of the latest complete quarter, whether last run's warnings came true, and whether the scored population has shifted.",
    "qoq.rates": "Churn rate of the active base, latest complete quarter",
    "qoq.backtest": "Back-test of the previous warnings: customers flagged (score {cutoff} or more) and how many have churned since",
    "qoq.stability": "Population stability of the score and its inputs (PSI), previous vs current active customers",
    "lifecycle.intro": "Every customer is placed in one lifecycle stage from their behaviour up to the as-of date: new (first purchase only or a short tenure), growth (repeat purchases), mature (the most frequent and valuable repeat buyers), decline (purchase rhythm fading against their own history) or churned.",
    "lifecycle.mix": "Stage mix on {as_of}",
    "lifecycle.rules": "The rules behind the stages, with thresholds derived from this data:",
    "lifecycle.migration": "Stage migration from {start} to {end} (share of each row)",
    "lifecycle.types": "Churn types, {start} to {end}: the stage customers were in before churning",
    "lifecycle.survival": "Retention after {as_of} by lifecycle stage",
    "lifecycle.logrank": "Retention differs between stages: log-rank chi-square {chisq} on {df} df, p {p}.",
    "churn_type.trial_failure": "Trial failure",
    "churn_type.churn_after_re_purchase": "Churn after re-purchase",
    "churn_type.sudden_churn": "Sudden churn of a golden customer",
    "churn_type.gradual_fade": "Gradual fade",
    "drivers.table": "What drives churn",
    "drivers.intro": "A Cox proportional-hazards model of the {n} customers active on {landmark} ({events} of whom lapsed by {as_of}), with behaviour measured on {landmark} only. Concordance {c}.",
    "var.purchases_doubling": "Past purchases (per doubling)",
    "var.spend_doubling": "Spend per purchase (per doubling)",
    "var.recency_30d": "Days since last purchase (per 30 days)",
    "var.tenure_90d": "Tenure (per 90 days)",
    "var.behaviour_break": "Behaviour break (activity collapsed)",
}

_ZH: dict[str, str] = {
    "section.summary": "执行摘要",
    "section.retention": "客户留存",
    "section.lifecycle": "客户生命周期",
    "section.drivers": "流失驱动因素",
    "section.warning_score": "流失预警评分",
    "section.qoq": "季度环比",
    "section.campaign": "挽留活动评估",
    "section.appendix": "附录",
    "cover.kicker": "客户流失预警报告",
    "cover.contents": "目录",
    "page.footer": "第 {page} 页，共 {pages} 页",
    "figure.n": "图 {n}",
    "table.n": "表 {n}",
    "table.truncated": "仅显示前 {shown:,} 行，共 {total:,} 行。",
    "value.missing": "–",
    "value.not_reached": "未达到",
    "value.yes": "是",
    "value.no": "否",
    "meta.period": "报告期",
    "meta.previous_period": "上一报告期",
    "meta.as_of": "数据截止日",
    "meta.data_window": "数据窗口",
    "meta.churn_definition": "流失定义",
    "meta.organisation": "机构",
    "meta.prepared_by": "编制",
    "meta.dataset": "数据集",
    "meta.config_hash": "配置哈希",
    "meta.data_fingerprint": "数据指纹",
    "appendix.details": "报告信息",
    "appendix.manifest": "运行清单",
    "appendix.item": "项目",
    "appendix.value": "内容",
    "appendix.package": "软件包",
    "appendix.version": "版本",
    "col.customers": "客户数",
    "col.active_customers": "活跃客户数",
    "col.churned": "已流失",
    "col.censored": "删失",
    "col.churn_rate": "流失率",
    "col.churn_rate_change": "流失率变化",
    "col.expected_churners": "下季度预计流失客户数",
    "col.share": "占比",
    "col.tier": "预警等级",
    "col.score": "评分",
    "col.points": "分值",
    "col.variable": "变量",
    "col.level": "取值",
    "col.lift": "提升度",
    "col.cumulative_capture": "累计捕获率",
    "col.stage": "生命周期阶段",
    "col.from_stage": "上期阶段",
    "col.to_stage": "本期阶段",
    "col.churn_type": "流失类型",
    "col.time_days": "时间（天）",
    "col.at_risk": "风险集人数",
    "col.number_at_risk": "风险集人数",
    "col.survival": "生存概率",
    "col.median_lifetime": "中位生命周期（天）",
    "col.retention_90": "90 天留存率",
    "col.retention_180": "180 天留存率",
    "col.retention_365": "365 天留存率",
    "col.hazard_ratio": "风险比",
    "col.ci_lower": "95% 置信下限",
    "col.ci_upper": "95% 置信上限",
    "col.p_value": "p 值",
    "col.effect": "对流失风险的影响",
    "col.psi": "PSI",
    "col.stability": "稳定性",
    "col.flagged": "上季度预警客户数",
    "col.flagged_churned": "其中已流失",
    "col.precision": "精确率",
    "col.recall": "召回率",
    "col.cutoff": "预警阈值",
    "col.expected_value": "预期价值",
    "col.rejected_rows": "剔除行数",
    "col.reason": "原因",
    "col.check": "检查项",
    "col.result": "结果",
    "tier.green": "绿色",
    "tier.yellow": "黄色",
    "tier.orange": "橙色",
    "tier.red": "红色",
    "stage.new": "新客户期",
    "stage.growth": "成长期",
    "stage.mature": "成熟期",
    "stage.decline": "衰退期",
    "stage.churned": "已流失",
    "effect.higher": "使流失风险提高 {pct}",
    "effect.lower": "使流失风险降低 {pct}",
    "effect.none": "无明显影响",
    "stability.stable": "稳定",
    "stability.watch": "需关注",
    "stability.shifted": "已偏移",
    "note.churn_definition": "客户连续 {window} 天无购买即视为流失。",
    "note.censoring": "截至数据截止日，不活跃窗口尚未结束的客户作删失处理：在此之前计入风险集，而非计为留存。",
    "note.median_not_reached": "“未达到”：随访结束时仍有超过一半的客户保持活跃，尚无法估计中位生命周期。",
    "note.hazard_ratio": "在其他变量不变的情况下，风险比大于 1 表示任一时点的流失风险更高，小于 1 表示更低。",
    "note.psi": "PSI 小于 0.1：稳定；0.1 至 0.25：需关注；大于 0.25：客群已发生偏移。",
    "note.lift": "提升度：该组流失率除以整体流失率。",
    "note.no_sections": "本次运行没有可用的分析章节。",
    "col.segment": "细分",
    "kpi.customers": "分析客户数",
    "kpi.churn_rate_quarter": "{period} 流失率（活跃客户流失比例）",
    "kpi.vs_previous": "较上季度 {change} 个百分点",
    "kpi.active": "截止日活跃客户数",
    "kpi.median_lifetime": "中位生命周期（天）",
    "kpi.retention_365": "365 天留存率",
    "finding.one_time": "在至少 {days} 天前首次购买的客户中，{pct} 此后再未回购。",
    "kpi.expected_interval": "95% 区间 {lower}–{upper}（不含模型不确定性）",
    "finding.retention": "首次购买一年后，仍有 {pct} 的客户保持活跃。",
    "finding.segments": "不同{segment}的留存存在差异（log-rank 检验 p = {p}）。",
    "retention.intro": "Kaplan-Meier 估计：自首次购买起经过给定天数后仍活跃的客户比例。阴影为逐点 95% 置信区间；图下表格为仍处于风险集的客户数。",
    "retention.overall": "全部客户",
    "retention.by": "按{segment}的留存",
    "retention.footnote": "95% 置信区间基于 {conf_type} 变换；留存率为给定天数的 Kaplan-Meier 生存率；随访不足处记为“–”。",
    "segment.cohort": "获客批次",
    "segment.stage": "生命周期阶段",
    "data.rejected_none": "没有行或客户被剔除。",
    "drivers.figure": "流失风险比及其 95% 置信区间",
    "drivers.zph": "模型诊断：各变量及整体的比例风险检验（同 R 的 cox.zph，KM 时间尺度）",
    "drivers.zph_failed": "至少一个变量不满足比例风险假设：其风险比是随访期内的平均效应，效应随时间变化。距上次购买天数的作用主要集中在早期，这由流失定义本身决定（最后一次购买后 W 天才能确认流失）。请将这些风险比视为方向与大致量级；如需精确效应，可按该变量分层或将随访期分段。",
    "score.intro": "预警评分为{method}所选出的风险标记赋予整数分值，预测 {horizon} 天内流失（{period}）。下表基于模型未见过的 {n} 名留出客户。",
    "method.lasso": "经交叉验证的 LASSO 逻辑回归",
    "score.none": "本期未生成预警评分：{why}",
    "campaign.title": "挽留活动",
    "campaign.intro": "预警评分选出的客户按预警等级分层随机分为干预组和对照组。流失定义为活动开始后首次连续{window}天无活动；流失率为 Kaplan-Meier 估计的第{horizon:g}天数值，仍在观察中的客户也得到正确计入。",
    "campaign.intro_no_window": "客户按预警等级分层随机分为干预组和对照组。流失率为 Kaplan-Meier 估计的第{horizon:g}天数值。",
    "campaign.kf.treated": "干预组",
    "campaign.kf.holdout": "对照组",
    "campaign.kf.churn_holdout": "对照组流失率",
    "campaign.kf.churn_treated": "干预组流失率",
    "campaign.kf.saved": "挽留客户数",
    "campaign.kf.hr": "风险比",
    "campaign.kf.roi": "投资回报率",
    "campaign.kf.ci": "{pct} 置信区间 {lo} 至 {hi}",
    "campaign.col.segment": "分组",
    "campaign.col.treated": "干预组",
    "campaign.col.holdout": "对照组",
    "campaign.col.churn_holdout": "对照组流失率",
    "campaign.col.churn_treated": "干预组流失率",
    "campaign.col.diff": "差值，百分点（置信区间）",
    "campaign.col.hr": "风险比（置信区间）",
    "campaign.col.saved": "挽留客户数",
    "campaign.col.net": "净收益",
    "campaign.col.roi": "投资回报率",
    "campaign.table.caption": "活动效果：总体及各预警等级",
    "campaign.table.footnote": "差值 = 第{horizon:g}天干预组减对照组流失率（{pct} Wald 置信区间，Greenwood 标准误）；风险比来自 Cox 模型（总体按等级分层）；挽留客户数 = -差值 × 干预人数。完整结果（对数秩检验、{tau:g}天内保留客户天数及各项区间）见 CampaignResult.to_frame()。",
    "campaign.fig.km": "活动开始后未流失比例：对照组与干预组",
    "campaign.fig.forest": "各预警等级的干预风险比",
    "campaign.fig.forest_x": "风险比，干预组对对照组（对数刻度），{pct} 置信区间",
    "campaign.fig.km_x": "活动开始后天数",
    "campaign.fig.km_y": "未流失比例",
    "campaign.het": "各等级效果是否不同？对数风险比的 Cochran Q = {q:.2f}，自由度 {df}，p = {p:.3g}，I² = {i2:.0%}。",
    "campaign.segment.overall": "总体",
    "method.stepwise": "逐步回归（AIC）",
    "method.full": "包含全部候选标记的逻辑回归",
    "score.headline": "得分为 {score} 分的客户占全部客户的 {share}，其中 {rate} 已流失（为平均水平的 {lift} 倍）。",
    "score.table": "预警评分与流失率（留出客户）",
    "score.figure": "各分值的流失率（左）与各风险标记的分值（右）",
    "score.points": "各风险标记的分值",
    "score.odds_ratio": "优势比",
    "score.tiers": "各预警等级的活跃客户及 {horizon} 天内预期流失人数",
    "score.cutoff_table": "阈值选择：联系达到或超过某分值的全部客户",
    "score.cutoff": "建议阈值：联系得分不低于 {cutoff} 分的客户。在留出客户上的预期价值为 {value}（每位客户干预成本 {cost}，可挽回 {success} 的潜在流失客户，每位价值 {saved}）。",
    "score.no_cutoff": "在当前成本设置下，没有任何阈值的预期价值为正：联系客户并不划算。",
    "score.comparison": "留出客户上的模型比较",
    "kpi.expected_churners": "{horizon} 天内预期流失人数",
    "kpi.red_tier": "红色预警客户数",
    "col.contacted": "联系客户数",
    "col.expected_within": "预期流失人数",
    "qoq.intro": "本期与上期（截至 {previous}）的比较：最近完整季度的流失率、上期预警是否应验，以及评分客群是否发生偏移。",
    "qoq.rates": "活跃客户流失率（最近完整季度）",
    "qoq.backtest": "上期预警回测：被预警客户（得分不低于 {cutoff}）及其后流失人数",
    "qoq.stability": "评分及其输入变量的群体稳定性（PSI），上期与本期活跃客户对比",
    "lifecycle.intro": "根据截至数据截止日的行为，每位客户被归入一个生命周期阶段：新客户期（仅首次购买或时长较短）、成长期（有复购）、成熟期（复购频次与价值最高的客户）、衰退期（购买节奏相对自身历史明显放缓）或已流失。",
    "lifecycle.mix": "{as_of} 的阶段分布",
    "lifecycle.rules": "阶段划分规则（阈值由本数据推导）：",
    "lifecycle.migration": "{start} 至 {end} 的阶段迁移（按行占比）",
    "lifecycle.types": "{start} 至 {end} 的流失类型：客户流失前所处的阶段",
    "lifecycle.survival": "{as_of} 之后按生命周期阶段的留存",
    "lifecycle.logrank": "各阶段留存存在差异：log-rank 卡方 {chisq}，自由度 {df}，p {p}。",
    "churn_type.trial_failure": "试用失败",
    "churn_type.churn_after_re_purchase": "复购后流失",
    "churn_type.sudden_churn": "黄金客户突然流失",
    "churn_type.gradual_fade": "逐渐衰退",
    "drivers.table": "流失的驱动因素",
    "drivers.intro": "Cox 比例风险模型：{landmark} 活跃的 {n} 名客户（其中 {events} 名截至 {as_of} 已流失），行为变量仅取自 {landmark} 及之前。一致性指数 {c}。",
    "var.purchases_doubling": "历史购买次数（每翻一倍）",
    "var.spend_doubling": "单次消费金额（每翻一倍）",
    "var.recency_30d": "距上次购买天数（每 30 天）",
    "var.tenure_90d": "客户时长（每 90 天）",
    "var.behaviour_break": "行为断层（活跃度骤降）",
}

#: Label dictionaries by language; both have exactly the same keys.
LABELS: dict[str, dict[str, str]] = {"en": _EN, "zh": _ZH}

_HTML_LANG = {"en": "en", "zh": "zh-CN"}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is supported, else raise :class:`ConfigError`."""
    if lang not in LABELS:
        raise ConfigError(
            f"report language {lang!r} is not supported; use one of {list(LANGUAGES)} "
            "('en' English, 'zh' Simplified Chinese)"
        )
    return lang


def html_lang(lang: str) -> str:
    """The HTML ``lang`` attribute for a report language (``"zh"`` -> ``"zh-CN"``)."""
    return _HTML_LANG[check_lang(lang)]


def t(key: str, lang: str = "en", **fields: Any) -> str:
    """Look up the fixed label ``key`` in ``lang`` and fill in its placeholders.

    Parameters
    ----------
    key : str
        Label key, e.g. ``"section.retention"`` or ``"page.footer"``.
    lang : {"en", "zh"}
        Report language.
    **fields
        Values for the label's placeholders (``t("figure.n", "en", n=2)``).

    Returns
    -------
    str
        The label, formatted when fields are given.

    Raises
    ------
    ConfigError
        If ``lang`` is not supported.
    ReportError
        If ``key`` is not a known label or a placeholder value is missing.
    """
    labels = LABELS[check_lang(lang)]
    try:
        text = labels[key]
    except KeyError:
        close = difflib.get_close_matches(key, labels, n=3)
        hint = f"; did you mean {close}?" if close else ""
        raise ReportError(
            f"no report label {key!r} for lang={lang!r}{hint} "
            "Add it to both dictionaries in survchurn/reporting/i18n.py."
        ) from None
    if not fields:
        return text
    try:
        return text.format(**fields)
    except KeyError as exc:
        raise ReportError(
            f"report label {key!r} needs the field {exc.args[0]!r}: call t({key!r}, lang, "
            f"{exc.args[0]}=...)"
        ) from None
