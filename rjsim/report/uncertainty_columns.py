"""Descriptions of the columns of ``rjsim uncertainty`` and ``rjsim sensitivity`` tables, by
(table, column), for the workbook's README sheet (merged into
:data:`rjsim.report.columns.TABLE_COLUMNS`), and of the sampled parameters' columns
(:func:`parameter_columns`: one per key path, described from the results directory's own
assumptions log and parameter table)."""

from __future__ import annotations

from rjsim.results.reader import Results

#: Tables with one column per sampled parameter (key path).
PARAMETER_TABLES = ("uncertainty_samples", "sensitivity_design")
#: Characters of the assumptions log's source kept in a description.
SOURCE_CHARS = 300


def _log_entry(column: str, keys: set[str]) -> tuple[str, str] | None:
    """The assumptions log's key a sampled column stands for (the longest prefix of its key
    path in the log) and what the column is of it (a distribution's scalar, a table entry)."""
    parts = column.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in keys:
            rest = ".".join(parts[n:])
            if not rest:
                return key, ""
            scalar = {"mean": "the mean of its distribution",
                      "median": "the median of its distribution",
                      "value": "its fixed value"}.get(rest, f"its entry '{rest}'")
            return key, scalar
    return None


def parameter_columns(res: Results, table: str) -> dict[str, str]:
    """For a table with one column per sampled parameter (:data:`PARAMETER_TABLES`): per key
    path, what it is: the assumption it stands for (its key in the assumptions log, and which
    part of it), its unit, the distribution it was drawn from (and where that comes from) and
    the log's source and confidence. Empty for other tables."""
    if table not in PARAMETER_TABLES or not res.has(table):
        return {}
    log = res.assumptions()
    rows = {} if log is None else {str(r["key"]): r for r in log.to_dict("records")}
    params = res.optional("uncertainty_parameters")
    dist = {} if params is None else {
        str(k): (str(d), str(s)) for k, d, s in zip(params["key"], params["distribution"],
                                                    params["source"], strict=True)}
    out = {}
    for column in (str(c) for c in res.table(table).columns if "." in str(c)):
        found = _log_entry(column, set(rows))
        parts = [f"Sampled parameter {column}"]
        if found is None:
            parts.append("not in the assumptions log (declared in the scenario's "
                         "[uncertainty] table)")
        else:
            key, what = found
            r = rows[key]
            parts.append(f"assumption {key}" + (f" ({what})" if what else ""))
            if str(r.get("unit", "")):
                parts.append(f"unit: {r['unit']}")
        if column in dist:
            d, origin = dist[column]
            parts.append(f"drawn from {d} ({origin})")
        if found is not None:
            r = rows[found[0]]
            source = str(r.get("source", ""))
            if len(source) > SOURCE_CHARS:
                source = (source[:SOURCE_CHARS].rsplit(" ", 1)[0]
                          + " ... (in full in assumptions.csv)")
            conf = str(r.get("confidence", ""))
            parts.append(f"source: {source or 'none given'}"
                         + (f"; {conf} confidence" if conf else ""))
        out[column] = "; ".join(parts)
    return out


UNCERTAINTY_COLUMNS: dict[tuple[str, str], str] = {
    ("uncertainty_parameters", "key"):
        "Scenario key path of a setting with a range",
    ("uncertainty_parameters", "varied"):
        "Whether it varies across parameter sets (True) or is held at its value (False; "
        "'source' says why)",
    ("uncertainty_parameters", "central"):
        "Its value in the scenario (the mode of the default triangular distribution)",
    ("uncertainty_parameters", "distribution"):
        "The distribution it is drawn from, or 'from file' for a sample file",
    ("uncertainty_parameters", "source"):
        "Where the distribution comes from (the assumptions log's range and confidence, the "
        "scenario's [uncertainty] table), or why the setting is held",
    ("uncertainty_samples", "sample"):
        "Parameter set number (0, 1, ...)",
    ("uncertainty_runs", "sample"):
        "Parameter set number",
    ("uncertainty_runs", "level"):
        "'national' or 'area'",
    ("uncertainty_runs", "kpi"):
        "KPI name (see the KPI columns of national_summary)",
    ("uncertainty_runs", "value"):
        "The KPI's value in that parameter set and replication",
    ("uncertainty_kpis", "level"):
        "'national' or 'area'",
    ("uncertainty_kpis", "kpi"):
        "KPI name",
    ("uncertainty_kpis", "median"):
        "Median across parameter sets of the set's mean over replications",
    ("uncertainty_kpis", "p05"):
        "5th percentile across parameter sets (lower end of the 90% uncertainty interval)",
    ("uncertainty_kpis", "p95"):
        "95th percentile across parameter sets (upper end of the 90% uncertainty interval)",
    ("uncertainty_kpis", "mean"):
        "Mean across parameter sets",
    ("uncertainty_kpis", "samples"):
        "Parameter sets with the KPI defined (count)",
    ("uncertainty_kpis", "replications"):
        "Replications per parameter set (count)",
    ("uncertainty_kpis", "var_parameter"):
        "Variance from parameter uncertainty (one-way random effects: variance of set means "
        "less noise / replications, at least 0)",
    ("uncertainty_kpis", "var_noise"):
        "Variance from simulation noise (mean within-set variance)",
    ("uncertainty_kpis", "share_parameter"):
        "Share of the KPI's variance from parameter uncertainty (0-1)",
    ("uncertainty_kpis", "share_noise"):
        "Share of the KPI's variance from simulation noise (0-1)",
    ("uncertainty_monthly", "sample"):
        "Parameter set number",
    ("uncertainty_price", "sample"):
        "Parameter set number",
    ("uncertainty_price", "general_slots"):
        "Analytic least general caseload slots (Erlang C/A seed of the planner)",
    ("uncertainty_price", "specialist_slots"):
        "Analytic least specialist caseload slots",
    ("uncertainty_price", "general_fte"):
        "General FTE giving those slots (steps of 0.1)",
    ("uncertainty_price", "specialist_fte"):
        "Specialist FTE giving those slots (steps of 0.1)",
    ("uncertainty_price", "annual_cost_gbp"):
        "Annual cost of that staffing at the set's cost per FTE (GBP)",
    ("uncertainty_price_summary", "median_gbp"):
        "Median across parameter sets of the analytic least annual cost (GBP)",
    ("uncertainty_price_summary", "p05_gbp"):
        "5th percentile of the least annual cost across sets (GBP)",
    ("uncertainty_price_summary", "p90_gbp"):
        "90th percentile: the budget that covers 90% of parameter sets (GBP)",
    ("uncertainty_price_summary", "p95_gbp"):
        "95th percentile of the least annual cost across sets (GBP)",
    ("uncertainty_price_summary", "mean_gbp"):
        "Mean least annual cost across sets (GBP)",
    ("uncertainty_price_summary", "samples"):
        "Parameter sets (count)",
    ("uncertainty_price_confirmed", "quantile"):
        "Quantile of the least annual cost across parameter sets at which the price is "
        "confirmed (0.5, 0.9, 0.95)",
    ("uncertainty_price_confirmed", "sample"):
        "The parameter set at that quantile",
    ("uncertainty_price_confirmed", "annual_cost_gbp"):
        "That set's analytic least annual cost, nationally (GBP)",
    ("uncertainty_price_confirmed", "verdict"):
        "The simulated capacity test's national verdict for that set staffed by its analytic "
        "plan",
    ("uncertainty_price_confirmed", "passes"):
        "Whether that plan passes the capacity test",
    ("uncertainty_price_confirmed", "areas_pass"):
        "Areas passing (count)",
    ("uncertainty_price_confirmed", "areas"):
        "Areas judged (count)",
    ("uncertainty_price_confirmed", "not_passing"):
        "Areas not passing, with the binding criterion",
    ("uncertainty_price_confirmed", "replications"):
        "Replications of the confirming capacity test (count)",
    ("uncertainty_capacity", "sample"):
        "Parameter set number",
    ("uncertainty_capacity", "verdict"):
        "The capacity test's verdict for the area (or the nation) in that parameter set",
    ("uncertainty_capacity", "binding_criterion"):
        "The criterion that decides the area's verdict",
    ("uncertainty_capacity_probability", "samples"):
        "Parameter sets judged (count)",
    ("uncertainty_capacity_probability", "p_pass"):
        "Share of parameter sets in which the capacity test passes (0-1)",
    ("uncertainty_capacity_probability", "p_fail"):
        "Share of parameter sets in which it fails (0-1)",
    ("uncertainty_capacity_probability", "p_inconclusive"):
        "Share of parameter sets in which it is inconclusive (0-1)",
    ("uncertainty_time_to_pass", "sample"):
        "Parameter set number",
    ("uncertainty_time_to_pass", "first_window"):
        "First rolling assessment window in which the test is met in that run (empty: none "
        "within the run)",
    ("uncertainty_time_to_pass", "end_day"):
        "Day of the run on which that window ends",
    ("uncertainty_time_to_pass", "months_after_commencement"):
        "Months from commencement to the end of the first passing window (inf: not within the"
        " run)",
    ("uncertainty_time_to_pass", "censored"):
        "True when no window within the run passes",
    ("uncertainty_met_by_date", "window"):
        "Rolling assessment window number (0, 1, ...)",
    ("uncertainty_met_by_date", "end_day"):
        "Day of the run on which the window ends",
    ("uncertainty_met_by_date", "date"):
        "Calendar date on which the window ends",
    ("uncertainty_met_by_date", "months_after_commencement"):
        "Months from commencement to the window's end",
    ("uncertainty_met_by_date", "p_met"):
        "P(the capacity test is met by this date): share of runs whose first passing window "
        "ends by then, each parameter set weighing the same (0-1)",
    ("uncertainty_met_by_date", "p_met_sets_p05"):
        "5th percentile across parameter sets of each set's own share (0-1)",
    ("uncertainty_met_by_date", "p_met_sets_p95"):
        "95th percentile across parameter sets of each set's own share (0-1)",
    ("uncertainty_met_by_date", "samples"):
        "Parameter sets (count)",
    ("uncertainty_met_by_date", "replications"):
        "Replications per set (count)",
    ("sensitivity_indices", "kpi"):
        "National KPI whose drivers are ranked",
    ("sensitivity_indices", "parameter"):
        "Scenario key path of the uncertain parameter",
    ("sensitivity_indices", "mu_star"):
        "Morris mu*: mean absolute elementary effect (KPI units per quantile step)",
    ("sensitivity_indices", "mu_star_conf"):
        "Half-width of mu*'s 95% bootstrap interval",
    ("sensitivity_indices", "mu"):
        "Morris mu: mean elementary effect (its sign: the direction of the effect)",
    ("sensitivity_indices", "sigma"):
        "Morris sigma: spread of the elementary effects (interactions or non-linearity)",
    ("sensitivity_indices", "S1"):
        "Sobol' first-order index (share of the KPI's variance)",
    ("sensitivity_indices", "S1_conf"):
        "Half-width of S1's 95% bootstrap interval",
    ("sensitivity_indices", "ST"):
        "Sobol' total-effect index (share of the KPI's variance, interactions included)",
    ("sensitivity_indices", "ST_conf"):
        "Half-width of ST's 95% bootstrap interval",
    ("sensitivity_indices", "score"):
        "The ranking score (Morris mu*, Sobol' ST)",
    ("sensitivity_indices", "rank"):
        "Rank (1 = most influential; empty when the KPI is constant or undefined in some run)",
    ("sensitivity_indices", "note"):
        "Why a KPI is not ranked",
    ("sensitivity_design", "sample"):
        "Design point number",
    ("sensitivity_outputs", "sample"):
        "Design point number",
    ("sensitivity_outputs", "areas_passing"):
        "Areas passing the capacity test at that design point (count; judged on its "
        "replications, as 'rjsim capacity-test' judges)",
    ("sensitivity_outputs", "price_of_commencement_gbp"):
        "Analytic least annual cost that passes the capacity test at that design point (GBP)",
    ("uncertainty_parameters", "option"):
        "The funding option (several options on the same parameter sets)",
    ("uncertainty_options", "option"):
        "The funding option",
    ("uncertainty_options", "kpi"):
        "National KPI; p_pass_national: P(the nation passes the capacity test); "
        "areas_p_pass_ge_90 and areas_p_pass_ge_50: areas passing in at least 90% and in at "
        "least half of the parameter sets (count); areas_p_pass_median: the median area's "
        "P(pass); price_of_commencement_gbp: the analytic least annual cost that passes (GBP)",
    ("uncertainty_options", "median"):
        "Median across parameter sets (for P(pass) and the area counts: the value itself)",
    ("uncertainty_options", "p05"):
        "5th percentile across parameter sets (lower end of the 90% uncertainty interval)",
    ("uncertainty_options", "p95"):
        "95th percentile across parameter sets (upper end of the 90% uncertainty interval)",
    ("uncertainty_options", "share_parameter"):
        "Share of the KPI's variance from parameter uncertainty (0-1; the rest is simulation "
        "noise)",
    ("uncertainty_options_areas", "option"):
        "The funding option",
    ("uncertainty_options_areas", "samples"):
        "Parameter sets judged (count)",
    ("uncertainty_options_areas", "p_pass"):
        "Share of parameter sets in which the capacity test passes under the option (0-1)",
    ("uncertainty_options_areas", "p_fail"):
        "Share of parameter sets in which it fails (0-1)",
    ("uncertainty_options_areas", "p_inconclusive"):
        "Share of parameter sets in which it is inconclusive (0-1)",
}
