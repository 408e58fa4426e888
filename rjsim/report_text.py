"""Plain-text national summary, as printed by ``rjsim run`` and saved as ``summary.txt``."""

from __future__ import annotations

import math

import pandas as pd

from rjsim.runner import RunResult


def _n(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:,.0f}"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


def _d(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.0f}"


def national_text(result: RunResult) -> str:
    """A readable national summary of one replication."""
    s = result.scenario
    n = {str(k): float(v) for k, v in result.tables["national_summary"].iloc[0].items()}
    areas = result.tables["area_summary"]
    target = s.service.wait_target_days
    passing = int((areas["share_allocated_within_target"] >= 0.9).sum())
    right = s.commence_day
    years = s.run.years - s.run.warmup_days / 365.0
    rows = [
        ("Victims with an identifiable offence", _n(n["eligible_victims"]), ""),
        ("  offender identified", _n(n["offender_identified"]), ""),
        ("  told about RJ", _n(n["informed"]), ""),
        ("  eligible but never told", _n(n["uninformed_eligible"]), ""),
        ("Referrals to RJ services", _n(n["referrals"]), f"{_n(n['referrals_per_year'])} a year"),
        ("Allocated a facilitator", _n(n["allocations"]), ""),
        ("Interventions", _n(n["interventions"]),
         f"{_n(n['interventions_direct_conference'])} face to face, "
         f"{_n(n['interventions_direct_video'])} video, "
         f"{_n(n['interventions_indirect'])} indirect"),
        ("Unmet demand (lost for lack of capacity)", _n(n["unmet_demand"]),
         f"{_pct(n['unmet_demand_rate'])} of referrals"),
        ("  withdrew while waiting", _n(n["lost_withdrew_waiting"]), ""),
        ("  window closed", _n(n["lost_window_closed"]), ""),
        ("  no service in the area", _n(n["lost_no_service"]), ""),
        (f"  unallocated at the end (> {target:g} days)", _n(n["lost_unallocated_at_end"]), ""),
        ("Other exits (not capacity)", _n(sum(n[f"closed_{k}"] for k in (
            "victim_withdrew", "offender_declined", "unsuitable", "withdrew_preparation"))),
         f"victim withdrew {_n(n['closed_victim_withdrew'])}, offender declined "
         f"{_n(n['closed_offender_declined'])}, unsuitable {_n(n['closed_unsuitable'])}, "
         f"withdrew in preparation {_n(n['closed_withdrew_preparation'])}"),
        ("Wait for a facilitator, mean (days)", _d(n["wait_alloc_days_mean"]),
         f"median {_d(n['wait_alloc_days_median'])}, 90th percentile "
         f"{_d(n['wait_alloc_days_p90'])}"),
        (f"Allocated within {target:g} days", _pct(n["share_allocated_within_target"]),
         "of referrals"),
        ("Intake backlog, mean", _n(n["backlog_mean"]), f"{_n(n['backlog_end'])} at the end"),
        ("Caseload slots busy", _pct(n["utilisation"]),
         f"{_n(n['general_slots'] + n['specialist_slots'])} slots"),
        ("Facilitators (FTE)", f"{n['fte_general'] + n['fte_specialist']:.1f}",
         f"{n['fte_general']:.1f} general, {n['fte_specialist']:.1f} specialist"),
        ("Cost a year (GBP m)", f"{n['annual_cost_gbp'] / 1e6:.2f}",
         f"GBP {_n(n['cost_per_intervention_gbp'])} per intervention"),
    ]
    head = [
        f"Scenario '{s.name}': {len(areas)} area(s), {s.run.years:g} years, seed {s.run.seed}, "
        f"replication {result.replication}" + ("" if right is None else
                                               f"; statutory right from day {right:g}"),
        f"National summary over {years:g} years after warm-up (one replication: no confidence "
        "intervals yet)", ""]
    lines = head + [f"  {label:<42}{value:>11}   {note}".rstrip() for label, value, note in rows]
    lines += ["", f"  Areas allocating at least 90% of referrals within {target:g} days: {passing} "
              f"of {len(areas)}"]
    return "\n".join(lines) + "\n"


def worst_areas(areas: pd.DataFrame, k: int = 5) -> str:
    """The ``k`` areas with the highest unmet-demand rate, one line each."""
    top = areas.sort_values("unmet_demand_rate", ascending=False).head(k)
    return "\n".join(f"  {r['force']:<28} unmet {_pct(float(r['unmet_demand_rate'])):>6}, mean "
                     f"wait {_d(float(r['wait_alloc_days_mean'])):>4} days"
                     for _, r in top.iterrows())
