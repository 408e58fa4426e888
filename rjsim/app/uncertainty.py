"""``rjsim uncertainty`` and ``rjsim sensitivity``: propagate parameter uncertainty through a
scenario, or rank its drivers, and write the results directory (tables, figures, summary) --
the commands' work, returning what to print."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rjsim.experiment.experiment import ExperimentSettings
from rjsim.report import uncertainty_plots
from rjsim.report.build import build_report
from rjsim.results import store
from rjsim.scenario import io as scenario_io
from rjsim.uncertainty import price, propagate, sensitivity
from rjsim.uncertainty.propagate import UncertaintyResult

#: National KPIs the summary speaks of, with how to show them.
HEADLINE = (("unmet_demand_rate", "unmet demand rate", "share"),
            ("wait_alloc_days_mean", "mean wait for a facilitator", "days"),
            ("share_allocated_within_target", "share allocated within the target", "share"),
            ("interventions_per_year", "interventions a year", "count"),
            ("annual_cost_gbp", "annual cost", "gbp"))


@dataclass(frozen=True)
class UncertaintyOptions:
    """What to run: the scenario file and overrides of its ``[uncertainty]`` table."""

    scenario: Path
    out: Path | None = None
    samples: int | None = None
    replications: int | None = None
    method: str | None = None
    seed: int | None = None
    scenario_overrides: dict[str, Any] | None = None
    confirm_replications: int | None = None  # None: the scenario's run.replications; 0: skip
    report: bool = True  # build report.html, report.xlsx (and figures) in the directory


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "gbp":
        return f"GBP {value / 1e6:.2f}m"
    if unit == "days":
        return f"{value:.1f} days"
    return f"{value:,.0f}"


def summary_text(r: UncertaintyResult) -> str:
    """The national headline figures with their 90% uncertainty intervals and variance
    split, and the capacity test's probability of passing."""
    d = r.declaration
    k = r.kpis[r.kpis["level"] == "national"].set_index("kpi")
    lines = [f"Parameter uncertainty: {len(r.samples)} parameter sets x {r.replications} "
             f"replication(s) on common random numbers; {len(d.parameters)} parameter(s) "
             "varied",
             "  National KPI: median [90% uncertainty interval]; share of variance from "
             "parameters (the rest is simulation noise)"]
    for kpi, label, unit in HEADLINE:
        if kpi not in k.index:
            continue
        cols = ["median", "p05", "p95", "share_parameter"]
        median, p05, p95, share = k[cols].to_numpy(dtype=float)[k.index.get_loc(kpi)]
        split = "" if math.isnan(share) else f"; parameters {100 * share:.0f}%"
        lines.append(f"    {label:<34} {_fmt(median, unit)} "
                     f"[{_fmt(p05, unit)} - {_fmt(p95, unit)}]{split}")
    if r.prices is not None:
        lines.append("  " + price.headline(price.price_summary(r.prices), r.confirmed))
    if r.capacity is not None:
        prob = propagate.capacity_probabilities(r.capacity)
        nat = prob[prob["area"] == "national"].iloc[0]
        areas = prob[prob["area"] != "national"]
        sure = int((areas["p_pass"] >= 0.9).sum())
        lines.append(f"  Capacity test: the nation passes in {100 * nat['p_pass']:.0f}% of "
                     f"parameter sets; {sure} of {len(areas)} areas pass in at least 90%")
    if r.passed_by is not None:
        lines.append("  " + met_by_line(propagate.met_by_date(r.passed_by, r.scenario)))
    return "\n".join(lines) + "\n"


def met_by_line(met: pd.DataFrame) -> str:
    """P(the test is met nationally by a date): at each whole year after commencement that a
    rolling window ends on, as far as the run reaches."""
    nat = met[met["area"] == "national"]
    if nat.empty:
        return "Time to pass: no rolling assessment window fits in the run"
    m = nat["months_after_commencement"].to_numpy(dtype=float)
    picks: list[int] = []
    for year in range(1, int(m.max() // 12) + 1):
        i = int(abs(m - 12 * year).argmin())
        if abs(m[i] - 12 * year) < 1 and i not in picks:
            picks.append(i)
    picks = picks or [len(nat) - 1]
    parts = [f"by {nat['date'].iloc[i][:7]} ({m[i]:.0f} months after commencement) in "
             f"{100 * nat['p_met'].iloc[i]:.0f}%" for i in picks]
    return ("P(the capacity test is met nationally in a rolling window), across parameter "
            "sets and replications: " + "; ".join(parts))


def result_tables(r: UncertaintyResult) -> dict[str, pd.DataFrame]:
    """Every table of an uncertainty run by file name."""
    out = {"uncertainty_parameters": pd.DataFrame(r.declaration.table()),
           "uncertainty_samples": r.samples, "uncertainty_runs": r.runs,
           "uncertainty_kpis": r.kpis, "uncertainty_monthly": r.monthly}
    if r.prices is not None:
        out["uncertainty_price"] = r.prices
        out["uncertainty_price_summary"] = price.price_summary(r.prices)
    if r.confirmed is not None:
        out["uncertainty_price_confirmed"] = r.confirmed
    if r.capacity is not None:
        out["uncertainty_capacity"] = r.capacity
        out["uncertainty_capacity_probability"] = propagate.capacity_probabilities(r.capacity)
    if r.passed_by is not None:
        out["uncertainty_time_to_pass"] = r.passed_by
        out["uncertainty_met_by_date"] = propagate.met_by_date(r.passed_by, r.scenario)
    return out


def write(out: Path, r: UncertaintyResult, scenario_file: str, started: str, text: str
          ) -> Path:
    """The results directory of an uncertainty run (atomic, like every results directory)."""
    s = r.scenario
    info = {"rjsim_results": 1, "command": store.command_line(), "scenario_file": scenario_file,
            "scenario": s.name, "description": s.description, "seed": s.run.seed,
            "uncertainty": {"samples": len(r.samples), "replications": r.replications,
                            "method": r.declaration.settings.method,
                            "parameters": r.declaration.keys},
            "tasks_run": r.tasks_run, "tasks_from_cache": r.tasks_cached,
            "versions": store.versions(), "started_utc": started, "timings_s": r.timings}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text, encoding="utf-8")
        (tmp / "figures").mkdir(exist_ok=True)
        day = s.commence_day
        for kpi in uncertainty_plots.FAN_KPIS:
            if kpi in r.monthly.columns:
                uncertainty_plots.fan_chart(r.monthly, kpi, tmp / "figures" / f"fan_{kpi}",
                                            None if day is None else day / (365.0 / 12))
        if r.passed_by is not None:
            uncertainty_plots.met_by_date_chart(propagate.met_by_date(r.passed_by, s),
                                                tmp / "figures" / "met_by_date")
    return store.write_results(out, s, result_tables(r), info, extra)


def run(options: UncertaintyOptions, settings: ExperimentSettings
        ) -> tuple[UncertaintyResult, Path, str]:
    """Load, run and write; return the result, its results directory and the summary."""
    started = store.now_utc()
    table = {k: v for k, v in (("samples", options.samples), ("replications",
                                                                options.replications),
                               ("method", options.method)) if v is not None}
    scenario, decl = scenario_io.load_uncertainty(options.scenario, options.scenario_overrides,
                                                  "command line", table)
    out = options.out or Path("results") / f"{scenario.name}_uncertainty"
    store.prepare_target(out)  # before the work, not after
    r = propagate.run_uncertainty(scenario, decl, settings, seed=options.seed,
                                  confirm_replications=options.confirm_replications)
    text = summary_text(r)
    write(out, r, str(options.scenario), started, text)
    if options.report:
        build_report(out)
    return r, out, text


# ---- rjsim sensitivity --------------------------------------------------------------------------


@dataclass(frozen=True)
class SensitivityOptions:
    """What to run: the scenario file, the method and its design size."""

    scenario: Path
    out: Path | None = None
    method: str = "morris"
    n: int | None = None  # Morris trajectories (default 10) or Sobol' base sample (default 32)
    replications: int = 1
    seed: int | None = None
    scenario_overrides: dict[str, Any] | None = None
    report: bool = True  # build report.html and report.xlsx in the directory


def sensitivity_text(r: sensitivity.SensitivityResult) -> str:
    """The plain lines, one per national KPI, and the design's size."""
    runs = len(r.design)
    name = "Morris screening" if r.method == "morris" else "Sobol' indices"
    lines = [f"Global sensitivity ({name}): "
             f"{len(r.declaration.parameters)} parameters, {runs} parameter sets x "
             f"{r.replications} replication(s) on common random numbers"]
    lines += ["  " + sensitivity.depends_most(r, kpi) for kpi in sensitivity.OUTPUTS
              if kpi in set(r.indices["kpi"])]
    return "\n".join(lines) + "\n"


def run_sensitivity(options: SensitivityOptions, settings: ExperimentSettings
                    ) -> tuple[sensitivity.SensitivityResult, Path, str]:
    """Load, run the design, write the results directory (tables, tornado charts)."""
    started = store.now_utc()
    scenario, decl = scenario_io.load_uncertainty(options.scenario, options.scenario_overrides,
                                                  "command line")
    out = options.out or Path("results") / f"{scenario.name}_sensitivity"
    store.prepare_target(out)
    method: sensitivity.Method = "sobol" if options.method == "sobol" else "morris"
    n = options.n or (10 if method == "morris" else 32)
    r = sensitivity.run_sensitivity(scenario, decl, method, n, settings, options.replications,
                                    options.seed)
    text = sensitivity_text(r)
    info = {"rjsim_results": 1, "command": store.command_line(),
            "scenario_file": str(options.scenario), "scenario": scenario.name,
            "seed": scenario.run.seed,
            "sensitivity": {"method": method, "n": n, "design_points": len(r.design),
                            "replications": r.replications, "parameters": decl.keys},
            "tasks_run": r.tasks_run, "tasks_from_cache": r.tasks_cached,
            "versions": store.versions(), "started_utc": started, "timings_s": r.timings}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text, encoding="utf-8")
        (tmp / "figures").mkdir(exist_ok=True)
        for kpi in sorted(set(r.indices["kpi"])):
            if r.top(kpi):
                uncertainty_plots.tornado(r.indices, kpi, sensitivity.LABELS.get(kpi, kpi),
                                          tmp / "figures" / f"tornado_{kpi}")
    tables = {"sensitivity_indices": r.indices, "sensitivity_design": r.design,
              "sensitivity_outputs": r.outputs,
              "uncertainty_parameters": pd.DataFrame(decl.table())}
    store.write_results(out, scenario, tables, info, extra)
    if options.report:
        build_report(out)
    return r, out, text
