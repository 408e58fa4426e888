"""What every column of every results table means, with its unit, and how to show a KPI.

The spreadsheet's README sheet and the report's labels come from here. :func:`describe` gives
``None`` for a column it does not know; a unit test checks every column rjsim writes has a
description, so this dictionary stays complete as tables grow.

Counts in per-replication summaries (``*_summary``) are totals over the whole months after
warm-up; in monthly tables they are per month; ``kpi_*`` tables give, per KPI, statistics
across replications of those values.
"""

from __future__ import annotations

import math

from rjsim.report.capacity_columns import CAPACITY_COLUMNS
from rjsim.report.uncertainty_columns import UNCERTAINTY_COLUMNS

#: Column name -> description with units.
COLUMNS: dict[str, str] = {
    # keys and labels
    "replication": "Replication number (0, 1, ...); replication i of every scenario uses the "
    "same random streams",
    "area": "Police force area: ONS code (E23..., W15...), or 'all' for national rows",
    "force": "Police force name",
    "region": "Region of England, or Wales",
    "population": "Census 2021 population of the area (people)",
    "areas": "Number of police force areas simulated (count)",
    "group": "Offence group (violence, sexual, domestic_abuse, hate, ...)",
    "sensitive": "Whether the offence group is sensitive (sexual, domestic abuse, hate): only "
    "specialist-trained facilitators take it (true/false)",
    "period": "Month number from the start of the run (0 = first month)",
    "month": "Calendar month the period starts in (YYYY-MM)",
    "in_warmup": "Whether the month falls in the warm-up, excluded from summaries (true/false)",
    # the funnel
    "eligible_victims": "Victims of recorded crime in the modelled offence groups (count)",
    "offender_identified": "Eligible victims whose offender was identified and accepted "
    "responsibility (count)",
    "diverted_level_one": "Cases resolved by police street RJ (level one) instead of a "
    "referral (count)",
    "informed": "Victims told about RJ (count)",
    "uninformed_eligible": "Victims with an identified offender never told about RJ (count)",
    "asked_for_rj": "Victims told about RJ who asked for it (count)",
    "referrals": "Referrals to an RJ service (count)",
    "allocations": "Referrals allocated a facilitator (count)",
    "allocated_within_target": "Referrals allocated within the wait target (count, by "
    "referral month)",
    "interventions": "Interventions delivered, all modes (count)",
    "unmet_demand": "Referrals lost for lack of capacity: the sum of the lost_* columns (count)",
    "unmet_demand_rate": "Unmet demand as a share of referrals (0-1)",
    "referrals_per_year": "Referrals a year over the summary window (count a year)",
    "interventions_per_year": "Interventions a year over the summary window (count a year)",
    "unmet_demand_per_year": "Unmet demand a year over the summary window (count a year)",
    "share_allocated_within_target": "Of referrals made, the share allocated a facilitator "
    "within the wait target (28 days by default); losses count against it (0-1)",
    "backlog_mean": "Referrals waiting for a facilitator, time-weighted mean (count)",
    "backlog_end": "Referrals waiting for a facilitator at the end of the period or run "
    "(count)",
    # capacity and funding
    "facilitator_hours": "Facilitator hours spent on case stages (hours)",
    "general_slots": "Caseload slots of general facilitators (concurrent cases)",
    "specialist_slots": "Caseload slots of specialist facilitators (concurrent cases)",
    "busy_slots_mean": "Caseload slots holding a case, time-weighted mean (concurrent cases)",
    "utilisation": "Busy slots / slots (0-1)",
    "budget_gbp": "Annual budget in force for RJ services (GBP a year)",
    "fte_in_post": "Facilitators in post, general plus specialist (FTE)",
    "vacancies_fte": "Funded posts not filled (FTE)",
    "vacancy_rate": "Vacancies / establishment (0-1)",
    "volunteer_fte": "Volunteer hours as full-time equivalents (FTE)",
    "hires_fte": "Facilitators hired (FTE)",
    "leavers_fte": "Facilitators who left (FTE)",
    "cost_gbp": "Spend on RJ services (GBP; per month in monthly tables, whole window in "
    "summaries)",
    "annual_cost_gbp": "Spend on RJ services a year (GBP a year)",
    "cost_per_intervention_gbp": "Spend / interventions (GBP per intervention; empty when none)",
    # statistics across replications
    "kpi": "The KPI: a column of the per-replication table (see its own description)",
    "mean": "Mean across replications (unit of the KPI)",
    "sd": "Standard deviation across replications (unit of the KPI)",
    "n": "Replications with a value (count)",
    "ci_low": "Lower end of the 95% confidence interval (unit of the KPI)",
    "ci_high": "Upper end of the 95% confidence interval (unit of the KPI)",
    "half_width": "Half-width of the 95% confidence interval (unit of the KPI)",
    "relative_half_width": "Half-width / |mean| (ratio; 0.05 = within 5% of the mean)",
    "met": "Whether the relative half-width met the target precision (true/false)",
    "note": "Why the KPI could not be judged, if it could not (text)",
    "replications_needed": "Estimated replications for the interval to meet its target "
    "(count; empty if it cannot be estimated)",
    # comparisons and sweeps
    "level": "national, area, or group (an offence group nationally)",
    "scenario": "Scenario (option) name",
    "option": "Funding option (scenario) name",
    "baseline": "The scenario differences are taken from (the first compared)",
    "difference": "Scenario minus baseline, mean of the paired per-replication differences "
    "(unit of the KPI)",
    "difference_ci_low": "Lower end of the paired difference's 95% CI (unit of the KPI)",
    "difference_ci_high": "Upper end of the paired difference's 95% CI (unit of the KPI)",
    "significant": "Whether the 95% CI of the difference excludes zero: real at 95% "
    "(true/false)",
    "difference_real_at_95": "Whether the 95% CI of the difference excludes zero (true/false)",
    "paired_variance": "Variance of the paired differences (common random numbers; unit "
    "squared)",
    "independent_variance": "Variance the difference would have with independent seeds "
    "(unit squared)",
    "variance_reduction": "1 - paired / independent variance: what pairing saved (0-1)",
    "point": "Sweep point tag",
    # funding allocation
    "from_day": "Day of the run from which this allocation applies (days)",
    "rule": "Allocation rule that set the area's budget",
    "rule_share": "The area's share under the rule (0-1)",
    "share_of_total": "The area's share of the national budget (0-1)",
    "served_by": "ONS code of the area whose service spends this budget: the area itself, or "
    "its host under funding.shared_services",
    **CAPACITY_COLUMNS,
}

#: Columns whose meaning differs in one table: (table, column) -> description.
TABLE_COLUMNS: dict[tuple[str, str], str] = {
    ("schedule_years", "budget_gbp"): "Budget allocated in the year, all areas (GBP)",
    ("schedule_years", "hires_fte"): "Facilitators hired in the year, all areas (FTE)",
    ("schedule_area", "budget_gbp"): "Annual budget from the recruitment start (GBP a year)",
    ("capacity_metrics", "utilisation"): "Offered load per caseload slot: workload / "
    "slot-days available; can exceed 1, unlike the busy share (ratio)",
    ("capacity_metrics", "unmet_demand_rate"): "Unmet demand as a share of the pool's "
    "referrals in the window (0-1)",
    ("comparison_inequality", "difference"): "Mean over replications of this option's value "
    "minus the first option's, replication by replication (common random numbers)",
    ("time_to_pass_windows", "kind"): "'rolling' (a rolling window) or 'test' (the test's "
    "own window, its start to the end of the run)",
    ("rolling_metrics", "utilisation"): "Offered load per caseload slot in the window: "
    "workload / slot-days available; can exceed 1 (ratio)",
    ("rolling_metrics", "unmet_demand_rate"): "Of the window's referrals, the share lost for "
    "lack of capacity, followed to the end of the run (0-1)",
    **UNCERTAINTY_COLUMNS,
}

_WAIT_STATS = {"mean": "mean", "median": "median", "p90": "90th percentile",
               "p95": "95th percentile"}

#: Families of columns: prefix -> (what the family is, {rest of the name: what it adds}).
FAMILIES: dict[str, tuple[str, dict[str, str]]] = {
    "lost_": ("Referrals lost for lack of capacity (count)", {
        "withdrew_waiting": "the victim's patience ran out while waiting for a facilitator",
        "window_closed": "the case's window closed before a facilitator was free",
        "no_service": "the area has no caseload slot of a suitable skill at all",
        "unallocated_at_end": "still waiting at the end of the run, longer than the target"}),
    "closed_": ("Referrals closed (count)", {
        "completed": "intervention delivered and follow-up done",
        "victim_withdrew": "the victim withdrew at assessment",
        "offender_declined": "the offender declined or was unavailable",
        "unsuitable": "judged unsuitable at risk assessment",
        "withdrew_preparation": "a party withdrew during preparation"}),
    "interventions_": ("Interventions delivered (count)", {
        "direct_conference": "face to face conference", "direct_video": "by video",
        "indirect": "indirect (letters, shuttle communication)"}),
    "wait_alloc_days_": ("Wait from referral to allocation of a facilitator, allocated "
                         "referrals only (days)", _WAIT_STATS),
    "wait_intervention_days_": ("Wait from referral to the end of the intervention (days)",
                                _WAIT_STATS),
    "establishment_fte_": ("Funded posts, the establishment (FTE)", {
        "general": "general facilitators", "specialist": "specialist facilitators"}),
    "fte_": ("Facilitators in post (FTE)", {
        "general": "general facilitators", "specialist": "specialist facilitators"}),
}


def describe(column: str, table: str | None = None) -> str | None:
    """The description (with unit) of a column (of ``table``, where its meaning there
    differs), or ``None`` if it is not documented."""
    if (str(table), column) in TABLE_COLUMNS:
        return TABLE_COLUMNS[(str(table), column)]
    if column in COLUMNS:
        return COLUMNS[column]
    for prefix, (family, members) in FAMILIES.items():
        rest = column.removeprefix(prefix)
        if column.startswith(prefix) and rest in members:
            return f"{family}: {members[rest]}"
    if "." in column:  # a sweep's scenario setting, e.g. funding.national_budget_gbp
        return f"Sweep setting: the value of scenario key {column} at this point"
    return None


#: How to show a KPI: label and kind of number (count, share, days, gbp, fte, ratio).
KPI_DISPLAY: dict[str, tuple[str, str]] = {
    "eligible_victims": ("Victims with an identifiable offence", "count"),
    "informed": ("told about RJ", "count"),
    "uninformed_eligible": ("eligible but never told", "count"),
    "asked_for_rj": ("asked for RJ", "count"),
    "referrals": ("Referrals to RJ services", "count"),
    "allocations": ("Allocated a facilitator", "count"),
    "interventions": ("Interventions delivered", "count"),
    "unmet_demand": ("Unmet demand (lost for lack of capacity)", "count"),
    "unmet_demand_rate": ("Unmet demand as a share of referrals", "share"),
    "lost_withdrew_waiting": ("lost: withdrew while waiting", "count"),
    "lost_window_closed": ("lost: window closed", "count"),
    "lost_no_service": ("lost: no service in the area", "count"),
    "lost_unallocated_at_end": ("lost: unallocated at the end", "count"),
    "wait_alloc_days_mean": ("Wait for a facilitator, mean", "days"),
    "wait_alloc_days_median": ("Wait for a facilitator, median", "days"),
    "wait_alloc_days_p90": ("Wait for a facilitator, 90th percentile", "days"),
    "share_allocated_within_target": ("Allocated within the wait target", "share"),
    "backlog_mean": ("Referrals waiting (backlog), mean", "count"),
    "backlog_end": ("Referrals waiting at the end", "count"),
    "utilisation": ("Caseload slots busy", "share"),
    "fte_in_post": ("Facilitators in post", "fte"),
    "fte_general": ("Facilitators in post, general", "fte"),
    "fte_specialist": ("Facilitators in post, specialist", "fte"),
    "annual_cost_gbp": ("Spend a year", "gbp"),
    "cost_per_intervention_gbp": ("Cost per intervention", "gbp"),
    "referrals_per_year": ("Referrals a year", "count"),
    "interventions_per_year": ("Interventions a year", "count"),
    "unmet_demand_per_year": ("Unmet demand a year", "count"),
}


def label(kpi: str) -> str:
    """A readable label for a KPI (its name with spaces if it has none)."""
    return KPI_DISPLAY.get(kpi, (kpi.replace("_", " "), ""))[0]


def kind(kpi: str) -> str:
    """The kind of number a KPI is: count, share, days, gbp, fte or number."""
    if kpi in KPI_DISPLAY:
        return KPI_DISPLAY[kpi][1]
    for suffix, k in (("_rate", "share"), ("_gbp", "gbp"), ("_days", "days"), ("_fte", "fte")):
        if kpi.endswith(suffix) or f"{suffix}_" in kpi:
            return k
    return "number"


def fmt(value: float, how: str, *, signed: bool = False, extra: int = 0) -> str:
    """``value`` as text for its kind: 12,345; 87.6%; 41 days; GBP 1.23m, GBP 37.6m; 12.5 FTE
    (``extra`` more decimals, to tell apart the ends of a narrow interval)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "+" if signed else ""
    if how == "share":
        return f"{100 * value:{sign}.{1 + extra}f}" + (" pp" if signed else "%")
    if how == "gbp":
        if abs(value) >= 1e6:  # three significant figures: GBP 115m, 37.6m, 5.84m
            m = value / 1e6
            places = 0 if abs(m) >= 100 else 1 if abs(m) >= 10 else 2
            return f"GBP {m:{sign},.{places + extra}f}m"
        return f"GBP {value:{sign},.{extra}f}"
    if how == "days":
        return f"{value:{sign}.{extra}f} days"
    if how == "fte":
        return f"{value:{sign},.{1 + extra}f} FTE"
    if how == "count" or abs(value) >= 100:
        return f"{value:{sign},.{extra}f}"
    return f"{value:{sign}.{3 + extra}g}"
