"""``rjsim sensitivity``: rank the drivers of a scenario's national KPIs by global sensitivity
analysis (Morris screening or Sobol' indices) over its declared parameter distributions, and
write the results directory (tables, tornado charts, summary) -- the command's work, returning
what to print."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
from rjsim.core.errors import InputError
from rjsim.report import uncertainty_plots
from rjsim.results import store
from rjsim.scenario import io as scenario_io
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_declare
from rjsim.scenario.spec import Scenario
from rjsim.uncertainty import sensitivity as sens

SENSITIVITY_METHODS = ("morris", "sobol")


@dataclass(frozen=True, kw_only=True)
class SensitivityOptions(ExperimentOptions):
    """``rjsim sensitivity``: the scenario (file or object), the method and its design size
    (``n``: Morris trajectories, default 10, or the Sobol' base sample, a power of two,
    default 32); the inherited ``replications`` is per design point (default 1) and
    ``seed``/``years`` override ``run.seed``/``run.years``."""

    scenario: Path | Scenario
    method: str = "morris"
    n: int | None = None
    sample_seed: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        p = one_of("method", self.method, SENSITIVITY_METHODS)
        p += whole_numbers(self, {"n": (2, 10_000), "sample_seed": (0, None)})
        if p:
            raise InputError(p, "invalid options")


@dataclass(frozen=True, kw_only=True)
class SensitivityOutcome(Outcome):
    """The ranked drivers: ``result.indices`` (per national KPI and parameter), ``design``
    and ``outputs``; :func:`rjsim.uncertainty.sensitivity.depends_most` words them."""

    result: sens.SensitivityResult


def sensitivity_text(r: sens.SensitivityResult) -> str:
    """The plain lines, one per national KPI, and the design's size."""
    runs = len(r.design)
    name = "Morris screening" if r.method == "morris" else "Sobol' indices"
    lines = [f"Global sensitivity ({name}): "
             f"{len(r.declaration.parameters)} parameters, {runs} parameter sets x "
             f"{r.replications} replication(s) on common random numbers"]
    lines += ["  " + sens.depends_most(r, kpi) for kpi in sens.OUTPUTS
              if kpi in set(r.indices["kpi"])]
    return "\n".join(lines) + "\n"


def sensitivity(options: SensitivityOptions, display: Display | None = None
                ) -> SensitivityOutcome:
    """Load, run the design, write the results directory (tables, tornado charts) and its
    report."""
    started = store.now_utc()
    source = options.scenario
    if isinstance(source, Scenario):
        scenario = load(source, options)
        decl = uncertainty_declare.declare(scenario, unc.UncertaintySettings(),
                                           scenario_io.origin_of({}, scenario.name))
    else:
        scenario, decl = scenario_io.load_uncertainty(source, options.overrides(),
                                                      "command line")
    out = None
    if options.write:
        out = options.out or Path("results") / f"{scenario.name}_sensitivity"
        store.prepare_target(out)
    method: sens.Method = "sobol" if options.method == "sobol" else "morris"
    n = options.n or (10 if method == "morris" else 32)
    shown = display_or_quiet(display)
    try:
        r = sens.run_sensitivity(
            scenario, decl, method, n,
            options.settings(lambda d, t: shown.update(d, t, "tasks")),
            options.replications or 1, options.sample_seed)
    finally:
        shown.close()
    text = sensitivity_text(r)
    if out is not None:
        _write_sensitivity(out, r, scenario, source_name(source), started, text, n)
    brief = text.splitlines()[1:2] if options.quiet else [text]
    lines = brief + ([f"Results written to {out}/ (tables/sensitivity_*.csv, "
                      "figures/tornado_*)"] if out is not None else [])
    return finish(SensitivityOutcome(status=EXIT_OK, lines=tuple(lines), out=out, result=r),
                  options)


def _write_sensitivity(out: Path, r: sens.SensitivityResult, scenario: Scenario,
                       file: str, started: str, text: str, n: int) -> None:
    decl = r.declaration
    info = {"rjsim_results": 1, "command": store.command_line(),
            "scenario_file": file, "scenario": scenario.name,
            "seed": scenario.run.seed,
            "sensitivity": {"method": r.method, "n": n, "design_points": len(r.design),
                            "replications": r.replications, "parameters": decl.keys},
            "tasks_run": r.tasks_run, "tasks_from_cache": r.tasks_cached,
            "versions": store.versions(), "started_utc": started, "timings_s": r.timings}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text, encoding="utf-8")
        (tmp / "figures").mkdir(exist_ok=True)
        for kpi in sorted(set(r.indices["kpi"])):
            if r.top(kpi):
                uncertainty_plots.tornado(r.indices, kpi, sens.LABELS.get(kpi, kpi),
                                          tmp / "figures" / f"tornado_{kpi}")
    tables = {"sensitivity_indices": r.indices, "sensitivity_design": r.design,
              "sensitivity_outputs": r.outputs,
              "uncertainty_parameters": pd.DataFrame(decl.table())}
    store.write_results(out, scenario, tables, info, extra)
