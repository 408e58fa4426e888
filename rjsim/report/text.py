"""Plain-text summaries printed by the CLI (and saved as ``summary.txt``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import pandas as pd

from rjsim.analysis import inequality
from rjsim.core import stats
from rjsim.experiment.comparison import Comparison, capacity_table, inequality_table
from rjsim.experiment.experiment import Experiment
from rjsim.report.columns import kind, label
from rjsim.report.compare import signed
from rjsim.scenario.expected import caseload_per_fte

Fmt = Callable[[float], str]


def _n(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:,.0f}"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


def _d(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.0f}"


def _m(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x / 1e6:.2f}"


class _Kpis:
    """Means and intervals of one long KPI summary, formatted on demand."""

    def __init__(self, summary: pd.DataFrame) -> None:
        self.rows = {r["kpi"]: r for _, r in summary.iterrows()}

    def mean(self, kpi: str) -> float:
        return float(self.rows[kpi]["mean"]) if kpi in self.rows else math.nan

    def ci(self, kpi: str, fmt: Fmt) -> str:
        r = self.rows.get(kpi)
        if r is None or int(r["n"]) < 2 or not float(r["sd"]) > 0:
            return ""  # one replication, or the same in every replication
        return f"95% CI {fmt(float(r['ci_low']))} to {fmt(float(r['ci_high']))}"


def _rows(k: _Kpis, target: float) -> list[tuple[str, str, str]]:
    def row(label: str, kpi: str, fmt: Fmt, note: str = "") -> tuple[str, str, str]:
        ci = k.ci(kpi, fmt)
        return (label, fmt(k.mean(kpi)), "; ".join(x for x in (ci, note) if x))

    losses = ("lost_withdrew_waiting", "lost_window_closed", "lost_no_service",
              "lost_unallocated_at_end")
    labels = ("  withdrew while waiting", "  window closed", "  no service in the area",
              f"  unallocated at the end (> {target:g} days)")
    return [
        row("Victims with an identifiable offence", "eligible_victims", _n),
        row("  told about RJ", "informed", _n),
        row("  eligible but never told", "uninformed_eligible", _n),
        row("Referrals to RJ services", "referrals", _n),
        row("Allocated a facilitator", "allocations", _n),
        row("Interventions", "interventions", _n,
            f"{_n(k.mean('interventions_direct_conference'))} face to face, "
            f"{_n(k.mean('interventions_direct_video'))} video, "
            f"{_n(k.mean('interventions_indirect'))} indirect"),
        row("Unmet demand (lost for lack of capacity)", "unmet_demand", _n),
        row("  as a share of referrals", "unmet_demand_rate", _pct),
        *[row(label, kpi, _n) for label, kpi in zip(labels, losses, strict=True)],
        row("Wait for a facilitator, mean (days)", "wait_alloc_days_mean", _d,
            f"median {_d(k.mean('wait_alloc_days_median'))}, 90th percentile "
            f"{_d(k.mean('wait_alloc_days_p90'))}"),
        row(f"Allocated within {target:g} days", "share_allocated_within_target", _pct),
        row("Intake backlog, mean", "backlog_mean", _n),
        row("Caseload slots busy", "utilisation", _pct),
        row("Facilitators, general (FTE)", "fte_general", lambda x: f"{x:.1f}",
            f"and {k.mean('fte_specialist'):.1f} specialist"),
        row("Caseload slots, general", "general_slots", lambda x: f"{x:.1f}",
            f"and {k.mean('specialist_slots'):.1f} specialist (FTE x caseload per FTE, "
            "rounded down per area)"),
        row("Cost a year (GBP m)", "annual_cost_gbp", _m),
        row("Cost per intervention (GBP)", "cost_per_intervention_gbp", _n),
    ]


def _areas_line(e: Experiment, target: float) -> str:
    per_rep = e.per_replication["area_summary"]
    below = (per_rep.assign(below=per_rep["share_allocated_within_target"] < 0.9)
             .groupby("replication")["below"].sum())
    iv = stats.t_interval(below.to_numpy())
    ci = "" if iv.n < 2 else f" (95% CI {iv.low:.1f} to {iv.high:.1f})"
    return (f"  In {iv.mean:.1f}{ci} of {len(e.plan.areas)} areas fewer than 90% of referrals "
            f"are allocated a facilitator within {target:g} days.")


def national_text(e: Experiment) -> str:
    """A readable national summary of an experiment, with 95% CIs when n >= 2."""
    s = e.scenario
    target = s.service.wait_target_days
    days = s.phase_days
    right = ("" if not days else f"; statutory right from day {days[0]:g}" if len(days) == 1
             else f"; statutory right in {len(days)} phases, from day {min(days):g} to day "
             f"{max(days):g}")
    years = s.run.years - s.run.warmup_days / 365.0
    head = [
        f"Scenario '{s.name}': {len(e.plan.areas)} area(s), {s.run.years:g} years, seed "
        f"{s.run.seed}{right}",
        f"Replications: {e.replications} ({e.stop_reason}). National figures over {years:.3g} "
        "years after warm-up; mean" + (" and 95% confidence interval." if e.replications > 1
                                       else " of one replication (no interval)."), ""]
    k = _Kpis(e.summary["national"])
    lines = head + [f"  {label:<42}{value:>11}   {note}".rstrip()
                    for label, value, note in _rows(k, target)]
    lines += ["", _areas_line(e, target), *no_slot_warnings(e), *inequality_lines(e)]
    if e.precision is not None:
        p = e.precision
        for label, rows in (("Precision not reached", p[(p["note"] == "") & ~p["met"]]),
                            ("Not estimable (fewer than two values)", p[p["note"] != ""])):
            if len(rows):
                lines.append(f"  {label} for {len(rows)} key KPI(s): "
                             + ", ".join(rows["kpi"].head(10))
                             + (" ..." if len(rows) > 10 else ""))
    return "\n".join(lines) + "\n"


def inequality_lines(e: Experiment) -> list[str]:
    """The postcode lottery: between-area inequality KPIs with their 95% CIs."""
    table = inequality.table(e.per_replication["area_summary"])
    return ["", "  Between areas (the postcode lottery; mean over replications, 95% CI):",
            *inequality.lines(table)]


def no_slot_warnings(e: Experiment) -> list[str]:
    """A warning for each skill where areas have staff but no caseload slot (FTE x caseload per
    FTE below one), so every referral there is lost as 'no service'."""
    area = e.per_replication["area_summary"].groupby("area")[
        ["fte_general", "fte_specialist", "general_slots", "specialist_slots"]].mean()
    names = {a.code: a.name for a in e.plan.areas}
    out = []
    for skill, fte, slots in (("any", area["fte_general"] + area["fte_specialist"],
                               area["general_slots"] + area["specialist_slots"]),
                              ("a specialist", area["fte_specialist"], area["specialist_slots"])):
        starved = (fte > 0) & (slots == 0)
        if skill != "any":  # areas with no slot at all are warned about once, above
            starved &= (area["general_slots"] + area["specialist_slots"]) > 0
        codes = [str(c) for c in area.index[starved]]
        if codes:
            shown = ", ".join(names.get(c, c) for c in codes[:8]) + (" ..." if len(codes) > 8
                                                                     else "")
            out.append(f"  Warning: {len(codes)} area(s) have facilitators (FTE) but no "
                       f"{'caseload slot' if skill == 'any' else 'specialist slot'} "
                       f"(their FTE x {caseload_per_fte(e.scenario):.2f} cases per FTE is below "
                       "1), so their "
                       f"{'referrals' if skill == 'any' else 'sensitive referrals'} are lost as "
                       f"'no service': {shown}. More FTE or service.caseload_per_fte would "
                       "give them a slot.")
    return out


def worst_areas(e: Experiment, k: int = 5) -> str:
    """The ``k`` areas with the highest mean unmet-demand rate, one line each."""
    area = e.summary["area"]
    rate = area[area["kpi"] == "unmet_demand_rate"].set_index("area")["mean"]
    wait = area[area["kpi"] == "wait_alloc_days_mean"].set_index("area")["mean"]
    names = {a.code: a.name for a in e.plan.areas}
    top = rate.sort_values(ascending=False).head(k)
    return "\n".join(f"  {names[str(code)]:<28} unmet {_pct(float(v)):>6}, mean wait "
                     f"{_d(float(wait.get(code, math.nan))):>4} days" for code, v in top.items())


COMPARE_KPIS = (("referrals", _n), ("interventions", _n), ("unmet_demand", _n),
                ("unmet_demand_rate", _pct), ("wait_alloc_days_mean", _d),
                ("share_allocated_within_target", _pct), ("annual_cost_gbp", _m),
                ("cost_per_intervention_gbp", _n))


def _pp(x: float) -> str:
    """A difference of two shares, in percentage points."""
    return "n/a" if math.isnan(x) else f"{100 * x:+.1f} pp"


def _verdict(d: pd.Series, fmt: Fmt) -> str:
    if d["paired_variance"] == 0 and d["difference"] == 0:
        return "identical in every replication (common random numbers)"
    verdict = "real at 95%" if d["significant"] else "not distinguishable from noise at 95%"
    if d["significant"] and not any(c in "123456789" for c in fmt(d["difference"])):
        fmt = partial(signed, how=kind(str(d["kpi"])))  # never '+0.0 pp ... real'
        verdict = "real at 95% but small"
    vr = float(d["variance_reduction"])
    how = ("" if math.isnan(vr) else f"; pairing cut its variance by {100 * vr:.0f}%" if vr >= 0
           else f"; pairing raised its variance by {-100 * vr:.0f}%")
    return (f"{fmt(d['difference'])} ({fmt(d['ci_low'])} to {fmt(d['ci_high'])}), "
            f"{verdict}{how}")


def comparison_text(c: Comparison) -> str:
    """National estimates and paired differences from the first scenario, in plain words."""
    est = c.estimates[c.estimates["level"] == "national"]
    diff = c.differences[c.differences["level"] == "national"]
    n = int(est["n"].max())
    width = max(len(name) for name in c.names) + 2
    lines = [f"Comparison of {', '.join(c.names)}: {n} replications each, common random numbers "
             f"(same seed {c.experiments[0].scenario.run.seed}). National means; differences "
             f"are each scenario minus '{c.names[0]}' with 95% CIs.", ""]
    for kpi, fmt in COMPARE_KPIS:
        lines.append(f"  {label(kpi)}")
        for name in c.names:
            r = est[(est["kpi"] == kpi) & (est["scenario"] == name)].iloc[0]
            lines.append(f"    {name:<{width}}{fmt(float(r['mean'])):>12}")
        dfmt = _pp if fmt is _pct else fmt
        for _, d in diff[diff["kpi"] == kpi].iterrows():
            lines.append(f"    {d['scenario']} - {d['baseline']}: {_verdict(d, dfmt)}")
    return "\n".join(lines + _capacity_lines(c, width) + _gap_lines(c)) + "\n"


def _gap_lines(c: Comparison) -> list[str]:
    """The postcode lottery under each option against the first, in a sentence each."""
    table = inequality_table(c)
    if len(c.names) < 2 or table.empty:
        return []
    return ["  between-area gap (worst minus best area's unmet-demand rate)",
            *(f"    {inequality.gap_sentence(table, name)}" for name in c.names[1:])]


def _capacity_lines(c: Comparison, width: int) -> list[str]:
    """Areas passing the capacity test per option (none where the run ends too soon)."""
    table = capacity_table(c)
    if "verdict" not in table:
        return []
    lines = ["  areas passing the capacity test (conservative end of each 95% CI)"]
    for r in table.to_dict("records"):
        if pd.isna(r.get("verdict")):
            lines.append(f"    {r['option']:<{width}}{'no window':>12}")
            continue
        lines.append(f"    {r['option']:<{width}}{int(r['areas_pass']):>5} of {int(r['areas'])}"
                     f"   ({int(r['areas_fail'])} fail, {int(r['areas_inconclusive'])} "
                     f"inconclusive; national verdict: {r['verdict']})")
    return lines
