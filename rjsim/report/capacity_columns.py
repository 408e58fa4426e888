"""Descriptions of the columns of the capacity test's, time to pass's, the staffing plan's and
its schedule's tables and of the inequality KPIs, by column name, with units (merged into
:data:`rjsim.report.columns.COLUMNS`, after the general columns, whose descriptions these
override)."""

from __future__ import annotations

#: Column name -> description with units.
CAPACITY_COLUMNS: dict[str, str] = {
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
