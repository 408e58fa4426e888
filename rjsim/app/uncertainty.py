"""``rjsim uncertainty``: propagate parameter uncertainty through a scenario, or through several
funding options on the same parameter sets, and write the results directory (tables, figures,
summary) -- the command's work, returning what to print. ``rjsim sensitivity`` is
:mod:`rjsim.app.sensitivity`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rjsim.app.common import (
    EXIT_OK,
    ExperimentOptions,
    Outcome,
    display_or_quiet,
    finish,
    load,
    one_of,
    source_name,
    whole_numbers,
)
from rjsim.app.progress import Display
from rjsim.core.errors import InputError, Problem
from rjsim.report import uncertainty_plots
from rjsim.report.uncertainty import value_text
from rjsim.results import store
from rjsim.scenario import io as scenario_io
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_declare
from rjsim.scenario.spec import Scenario
from rjsim.scenario.uncertainty import MAX_SAMPLES
from rjsim.uncertainty import multi_option, price, propagate
from rjsim.uncertainty.propagate import UncertaintyResult

METHODS = ("lhs", "sobol")

#: National KPIs the summary speaks of, with how to show them.
HEADLINE = (("unmet_demand_rate", "unmet demand rate", "share"),
            ("wait_alloc_days_mean", "mean wait for a facilitator", "days"),
            ("share_allocated_within_target", "share allocated within the target", "share"),
            ("interventions_per_year", "interventions a year", "count"),
            ("annual_cost_gbp", "annual cost", "gbp"))


@dataclass(frozen=True, kw_only=True)
class UncertaintyOptions(ExperimentOptions):
    """``rjsim uncertainty``: one scenario, or several funding options run on the same
    parameter sets with common random numbers (files or objects; the first option's
    ``run.seed`` for all). ``samples``, ``method`` and ``sample_seed`` override the
    ``[uncertainty]`` table (the options must share one); the inherited ``replications`` is
    per parameter set (default: ``uncertainty.replications``) and ``seed``/``years`` override
    ``run.seed``/``run.years``. ``confirm_replications``: with a right, the replications of the
    capacity test confirming the price at its median, 90th and 95th percentiles (default: the
    scenario's ``run.replications``; 0 skips)."""

    scenarios: tuple[Path | Scenario, ...]
    samples: int | None = None
    method: str | None = None
    sample_seed: int | None = None
    confirm_replications: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        p = [Problem("scenarios", "must name at least one scenario", "none")
             ] if not self.scenarios else []
        p += whole_numbers(self, {"samples": (2, MAX_SAMPLES), "sample_seed": (0, None),
                                  "confirm_replications": (0, 10_000)})
        if self.method is not None:
            p += one_of("method", self.method, METHODS)
        if p:
            raise InputError(p, "invalid options")

    def table(self) -> dict[str, Any]:
        """The ``[uncertainty]`` fields these options replace."""
        return {k: v for k, v in (("samples", self.samples), ("method", self.method))
                if v is not None}


@dataclass(frozen=True, kw_only=True)
class UncertaintyOutcome(Outcome):
    """What ``rjsim uncertainty`` found: ``results`` (option name -> its
    :class:`~rjsim.uncertainty.propagate.UncertaintyResult`, in the order given), the options
    side by side (``options_table``: :func:`rjsim.uncertainty.multi_option.options_table`, per
    option and national KPI; ``p_pass_national`` is the probability that the nation passes)
    and ``areas_table`` (per option and area, the probability of passing)."""

    results: dict[str, UncertaintyResult]
    options_table: pd.DataFrame
    areas_table: pd.DataFrame

    @property
    def result(self) -> UncertaintyResult:
        """The first (with one scenario, the only) option's result."""
        return next(iter(self.results.values()))


def _interval(median: float, low: float, high: float, unit: str) -> str:
    """'median [low - high]' in words."""
    return (f"{value_text(median, unit)} [{value_text(low, unit)} - "
            f"{value_text(high, unit)}]")


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
        lines.append(f"    {label:<34} {_interval(median, p05, p95, unit)}{split}")
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


def options_text(results: dict[str, UncertaintyResult]) -> str:
    """Several options under the same parameter uncertainty: per option its national
    headline figures with 90% intervals, P(the nation passes) and how many areas pass in at
    least 90% of the sets, and the price of commencement."""
    first = next(iter(results.values()))
    t = multi_option.options_table(results)
    got = {(str(o), str(k)): (float(m), float(lo), float(hi)) for o, k, m, lo, hi in zip(
        t["option"], t["kpi"], t["median"], t["p05"], t["p95"], strict=True)}
    lines = [f"Parameter uncertainty across {len(results)} options: the same "
             f"{len(first.samples)} parameter sets x {first.replications} replication(s) on "
             "common random numbers for every option",
             "  Option: national median [90% uncertainty interval]; P(the nation passes the "
             "capacity test)"]
    for name in results:
        parts = []
        for kpi, label, unit in (*HEADLINE[:3], ("price_of_commencement_gbp",
                                                 "price of commencement", "gbp")):
            if (name, kpi) in got:
                m, lo, hi = got[(name, kpi)]
                parts.append(f"{label} {_interval(m, lo, hi, unit)}")
        if (name, "p_pass_national") in got:
            p = got[(name, "p_pass_national")][0]
            sure = got.get((name, "areas_p_pass_ge_90"), (0.0,))[0]
            parts.append(f"the nation passes in {100 * p:.0f}% of parameter sets; {sure:.0f} "
                         "area(s) pass in at least 90%")
        lines.append(f"  {name}: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


def write_options(out: Path, results: dict[str, UncertaintyResult], files: list[str],
                  started: str, text: str) -> Path:
    """The results directory of several options: the options side by side
    (``uncertainty_options``, ``uncertainty_options_areas``, every option's parameters in
    ``uncertainty_parameters``) and each option's own uncertainty results under
    ``options/<name>/`` (``rjsim report`` on one gives its own report)."""
    rs = list(results.values())
    first = rs[0]
    keys = list(dict.fromkeys(k for r in rs for k in r.declaration.keys))
    info = {"rjsim_results": 1, "command": store.command_line(), "scenario_files": files,
            "scenario": first.scenario.name, "description": first.scenario.description,
            "seed": first.scenario.run.seed,
            "uncertainty": {"samples": len(first.samples), "replications": first.replications,
                            "method": first.declaration.settings.method, "parameters": keys,
                            "options": list(results)},
            "tasks_run": sum(r.tasks_run for r in rs),
            "tasks_from_cache": sum(r.tasks_cached for r in rs),
            "versions": store.versions(), "started_utc": started,
            "timings_s": {"total_s": sum(r.timings.get("total_s", 0.0) for r in rs)}}
    params = pd.concat([pd.DataFrame(r.declaration.table()).assign(option=name)
                        for name, r in results.items()], ignore_index=True)
    tables = {"uncertainty_options": multi_option.options_table(results),
              "uncertainty_options_areas": multi_option.options_areas(results),
              "uncertainty_parameters": params[["option", *[c for c in params.columns
                                                             if c != "option"]]]}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text, encoding="utf-8")
        for (name, r), f in zip(results.items(), files, strict=True):
            write(tmp / "options" / name, r, f, started, summary_text(r))
    return store.write_results(out, first.scenario, tables, info, extra)


def _load(source: Path | Scenario, options: UncertaintyOptions
          ) -> tuple[Scenario, unc.Declaration]:
    """A scenario (file or object) and its ``[uncertainty]`` declaration with the options'
    overrides (an object has no table: the defaults, with the options' fields)."""
    if isinstance(source, Scenario):
        scenario = load(source, options)
        origin = scenario_io.origin_of({f"uncertainty.{k}": "options" for k in options.table()},
                           scenario.name)
        settings = unc.parse_settings(options.table(), origin)
        return scenario, uncertainty_declare.declare(scenario, settings, origin)
    return scenario_io.load_uncertainty(source, options.overrides(), "command line",
                                        options.table())


def load_options(options: UncertaintyOptions
                 ) -> tuple[list[Scenario], list[unc.Declaration]]:
    """Every option with its ``[uncertainty]`` declaration, checked to share one table (any
    problem is an :class:`~rjsim.core.errors.InputError`, before any work)."""
    loaded = [_load(s, options) for s in options.scenarios]
    scenarios, decls = [s for s, _ in loaded], [d for _, d in loaded]
    multi_option.check_shared([s.name for s in scenarios], decls)
    return scenarios, decls


def uncertainty(options: UncertaintyOptions, display: Display | None = None
                ) -> UncertaintyOutcome:
    """Load every option, run them on the same parameter sets with common random numbers
    (:func:`rjsim.uncertainty.multi_option.run_options`), write the results directory (one
    option: its uncertainty results; several: the options side by side and each option's
    results under ``options/``) and its report."""
    started = store.now_utc()
    scenarios, decls = load_options(options)
    several = len(scenarios) > 1
    out = None
    if options.write:
        out = options.out or Path("results") / (
            "uncertainty_" + "_vs_".join(s.name for s in scenarios) if several
            else f"{scenarios[0].name}_uncertainty")
        store.prepare_target(out)  # before the work, not after
    shown = display_or_quiet(display)
    try:
        results = multi_option.run_options(
            scenarios, decls, options.settings(lambda d, t: shown.update(d, t, "tasks")),
            seed=options.sample_seed, replications=options.replications,
            confirm_replications=options.confirm_replications)
    finally:
        shown.close()
    text = options_text(results) if several else summary_text(next(iter(results.values())))
    if out is not None:
        files = [source_name(s) for s in options.scenarios]
        if several:
            write_options(out, results, files, started, text)
        else:
            write(out, next(iter(results.values())), files[0], started, text)
    lines = ([] if options.quiet else [text]) + (
        [f"Results written to {out}/ (tables/uncertainty_*.csv and .parquet"
         + (", each option's under options/)" if several else ")")]
        if out is not None else [])
    return finish(UncertaintyOutcome(
        status=EXIT_OK, lines=tuple(lines), out=out, results=results,
        options_table=multi_option.options_table(results),
        areas_table=multi_option.options_areas(results)), options)
