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
    # capacity test
    "verdict": "Capacity-test verdict: pass, fail or inconclusive (a criterion that does not "
               "apply to the area: n/a)",
    "areas_pass": "Areas whose verdict is pass (count)",
    "areas_fail": "Areas whose verdict is fail (count)",
    "areas_inconclusive": "Areas whose verdict is inconclusive (count)",
    "replications": "Replications behind the verdict (count)",
    "more_replications_needed": "Replications that would likely settle inconclusive verdicts "
    "(count; empty if none or unknown)",
    "window_start_day": "First day of the assessment window (days from the start)",
    "window_end_day": "Last day of the assessment window (days from the start)",
    "binding_criterion": "The criterion closest to deciding the area's verdict",
    "binding_margin": "Margin of the binding criterion (unit of that criterion; negative "
    "fails)",
    "lat": "Latitude of the area's centre (degrees)",
    "lon": "Longitude of the area's centre (degrees)",
    "criterion": "Capacity-test criterion: timeliness, unmet_demand, utilisation, "
    "backlog_trend or coverage",
    "estimate": "Estimate of the criterion, mean across replications (unit column)",
    "threshold": "The value the criterion must reach (unit column)",
    "comparison": "How the estimate must compare with the threshold ('>=' or '<=')",
    "margin": "Distance of the estimate from the threshold, positive when it passes (unit "
    "column)",
    "unit": "Unit of the estimate, interval, threshold and margin",
    "description": "What the criterion measures (text)",
    "relative_margin": "Margin relative to the criterion's scale (ratio; negative fails)",
    "binding_relative_margin": "Relative margin of the binding criterion (ratio; negative "
    "fails)",
    "criteria_failed": "Criteria the area fails, separated by ';' (text)",
    "commence_day": "Day the statutory right is commenced (days from the start; empty if "
    "never)",
    "confidence_level": "Confidence level of the test's intervals (0-1)",
    "timeliness_share": "Share of referrals that must be allocated within the wait target "
    "(0-1)",
    "wait_target_days": "Wait target for allocation of a facilitator (days)",
    "max_unmet_demand_rate": "Largest unmet-demand rate the test allows (0-1)",
    "max_utilisation": "Largest offered load per caseload slot the test allows (ratio)",
    "max_backlog_growth_days_per_year": "Largest backlog growth the test allows (days of "
    "referrals a year)",
    # capacity-test measures per replication, area and caseload pool
    "pool": "Caseload pool: all (the area, what the test judges), general (other offence "
    "groups) or sensitive (sexual offences, domestic abuse, hate crime; specialist slots)",
    "workload": "Offered workload: referrals x expected slot-days per case (slot-days)",
    "backlog_trend_per_year": "Least-squares slope of the monthly mean backlog over the "
    "assessment window (referrals a year)",
    "judged": "Referrals made early enough in the window to be judged against the wait "
    "target (count)",
    "within": "Judged referrals allocated a facilitator within the wait target (count)",
    "cohort_referrals": "Referrals made in the assessment window (count)",
    "cohort_lost": "Of the window's referrals, those lost for lack of capacity (count); "
    "unmet_demand_rate in this table is cohort_lost / cohort_referrals",
    "timeliness": "Share of judged referrals allocated within the wait target; lost ones "
    "count as late (0-1)",
    "backlog_trend_days_per_year": "Backlog trend in days of the pool's referrals, per year "
    "(days a year)",
    "specialist_slots_min": "Fewest specialist caseload slots in any month of the window "
    "(slots)",
    "sensitive_referrals": "Referrals in sensitive offence groups in the window (count)",
    "covered": "1 if the area has specialist slots in every month of the window or no "
    "sensitive referrals, else 0",
    # staffing schedule (rjsim plan --schedule)
    "planned_general_fte": "General facilitators the plan needs in post (FTE)",
    "planned_specialist_fte": "Specialist facilitators the plan needs in post (FTE)",
    "recruitment_start_date": "Date the budget rises and recruitment starts (YYYY-MM-DD)",
    "months_before_commencement": "Months from recruitment start to the area's first "
    "commencement (months)",
    "commencement_date": "Date the right first commences in the area (with a shared service: in "
    "any area the service serves): its earliest phase for any offence group (YYYY-MM-DD)",
    "in_post_from_date": "Date from which the planned staff are in post: the month of "
    "commencement, or later when the lags leave too little time (YYYY-MM-DD)",
    "on_time": "True if the planned staff are in post by the month of commencement",
    "specialist_share": "Share of the area's FTE that are specialists, the planned mix (0-1)",
    "establishment_general_fte": "General posts the scheduled budget pays for (FTE)",
    "establishment_specialist_fte": "Specialist posts the scheduled budget pays for (FTE)",
    "in_post_general_fte_min": "Fewest general facilitators in post in any month from "
    "commencement (FTE)",
    "in_post_specialist_fte_min": "Fewest specialist facilitators in post in any month from "
    "commencement (FTE)",
    "vacancy_fte_at_end": "Posts vacant at the end of the run, leavers not yet replaced (FTE)",
    "year": "Year of the run (1 = the first 12 months)",
    "from_date": "Date the year starts (YYYY-MM-DD)",
    "spend_gbp": "Spent: staff in post, specialists' training and volunteers (GBP)",
    "in_post_fte_mean": "Facilitators in post, monthly mean (FTE)",
    "establishment_fte_mean": "Funded posts, monthly mean (FTE)",
    # planner
    "general_fte": "General facilitators the plan funds (FTE)",
    "fte": "Facilitators the plan funds, general plus specialist (FTE)",
    "seed_general_slots": "General caseload slots the plan's search started from (slots)",
    "seed_specialist_slots": "Specialist caseload slots the plan's search started from "
    "(slots)",
    "cost_ratio_to_today": "Plan cost / today's budget (ratio; blank when there is no budget "
    "today)",
    "search_rounds": "Rounds of the plan's search (count)",
    "check_replications": "Replications of the plan's check, on seeds the search never used "
    "(count)",
    "phase": "'search' (bracketing and bisection) or 'check' (slots added after a check on "
    "fresh replications)",
    "round": "Round of the plan's search, or number of the check",
    "slots": "Caseload slots tried in this round (slots)",
    "passed": "Whether the area's pool passed the test with these slots (true/false)",
    "specialist_fte": "Specialist facilitators the plan funds (FTE)",
    "today_budget_gbp": "Today's annual budget (GBP a year)",
    "change_gbp": "Plan cost minus today's budget (GBP a year)",
    "total_annual_cost_gbp": "Annual cost of the plan, all areas (GBP a year)",
    # the postcode lottery: inequality between areas
    "label": "What the KPI measures, in plain words",
    "kind": "Kind of number: share (shown in percentage points), ratio, days or number",
    "diff_ci_low": "Lower end of the 95% CI of the paired difference from the first option",
    "diff_ci_high": "Upper end of the 95% CI of the paired difference from the first option",
    # time to pass: rolling assessment windows
    "window": "Rolling assessment window number (0 = the first, starting where the capacity "
    "test's window starts; each next one a month later; in time_to_pass_windows the last is "
    "the test's own window)",
    "start_day": "First day of the window, from the start of the run (days)",
    "end_day": "Day the window ends, from the start of the run (days)",
    "first_window": "First rolling window passed in this replication (window number; empty "
    "when none passes within the run)",
    "months_after_commencement": "Months from commencement (the start of the run when no "
    "right is commenced) to the end of the window (months; inf: not within the run)",
    "censored": "Whether no window passes within the run (true/false)",
    "windows": "Rolling assessment windows that fit in the run (count)",
    "window_months": "Length of each rolling assessment window (months)",
    "last_window_months": "Months from commencement to the end of the last window: a "
    "replication that never passes is censored here (months)",
    "demonstrated_months": "Months from commencement to the end of the first window the "
    "capacity test itself passes (conservative end of every criterion's interval across "
    "replications; inf: never within the run) (months)",
    "demonstrated_start_day": "First day of that window (days)",
    "demonstrated_month": "Calendar month (YYYY-MM) the first window the test passes ends "
    "in: the label of its last month (empty: none within the run)",
    "demonstrated_window": "Which window the test first passes: 'rolling', or 'test' (only "
    "its own window, to the end of the run; empty: none)",
    "demonstrated_ci_low_months": "Lower end of the bootstrap percentile interval of "
    "demonstrated_months (replications resampled with replacement, windows judged again; "
    "empty: too few replications) (months)",
    "demonstrated_ci_high_months": "Upper end of that bootstrap interval (inf: not within "
    "the run; empty: too few replications) (months)",
    "demonstrated_ci_low_month": "Calendar month (YYYY-MM) of the bootstrap interval's lower "
    "end",
    "demonstrated_ci_high_month": "Calendar month (YYYY-MM) of the bootstrap interval's upper "
    "end (empty: not within the run)",
    "bootstrap_resamples": "Bootstrap resamples of the replications behind the interval "
    "(count; 0: too few replications for one)",
    "bootstrap_share_demonstrated": "Share of bootstrap resamples in which the test passes a "
    "window within the run (0-1)",
    "areas_passing_best_window": "The most areas the test passes in one window (national "
    "row; count)",
    "test_window_verdict": "The capacity test's verdict over its own window (its start to "
    "the end of the run)",
    "earliest_months": "Months from commencement to the end of the first window: no time to "
    "pass can be earlier, even with every post filled (months)",
    "earliest_month": "Calendar month (YYYY-MM) the first window ends in",
    "test_window_months": "Months from commencement to the end of the test's own window "
    "(months)",
    "ramp_days": "Days over which awareness ramps up after commencement (days)",
    "settle_days": "Days after the ramp before the assessment window opens (days)",
    "median_months": "Per replication (realised performance, not the test: every criterion's "
    "own value meets its threshold in that replication, with no confidence margin, nationally "
    "in every area in the same window): median over "
    "replications of the months from commencement to the end of the first passing window "
    "(inf: most replications never pass within the run) (months)",
    "ci_low_months": "Lower end of the confidence interval for that median (order statistics; "
    "empty: too few replications) (months)",
    "ci_high_months": "Upper end of the confidence interval for that median (inf: beyond the "
    "run; empty: too few replications) (months)",
    "replications_censored": "Replications in which no window passes within the run (count)",
    "share_replications_passing": "Share of replications in which the window passes on their "
    "own values (0-1)",
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
