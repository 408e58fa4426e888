"""The evidence commands: ``rjsim backcast``, ``rjsim calibrate`` and ``rjsim verify``.

Each takes an options dataclass and returns an :class:`~rjsim.app.common.Outcome` (exit status,
lines to show, results directory); nothing here prints, parses arguments or exits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rjsim.app.common import (
    EXIT_NOT_PASSED,
    EXIT_OK,
    ExperimentOptions,
    Outcome,
    display_or_quiet,
)
from rjsim.core.errors import InputError, Problem

if TYPE_CHECKING:
    from rjsim.app.progress import Display

BACKCAST_REPLICATIONS = 10
CALIBRATE_REPLICATIONS, CALIBRATE_POINTS = 3, 40
VERIFY_REPLICATIONS, VERIFY_YEARS, VERIFY_WARMUP_YEARS, VERIFY_MARGIN_DAYS = 30, 20.0, 5.0, 365.0
DEFAULT_SCENARIO = Path("scenarios/baseline.toml")


@dataclass(frozen=True, kw_only=True)
class BackcastOptions(ExperimentOptions):
    """``rjsim backcast``: the status quo of ``scenario`` against the evidence ``targets`` (a
    CSV; ``None``: the packaged targets). ``years`` (default 3) includes the one-year warm-up;
    ``replications`` defaults to 10."""

    scenario: Path = DEFAULT_SCENARIO
    targets: Path | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        from rjsim.planning import backcast

        if self.years is not None and self.years * 365 <= backcast.WARMUP_DAYS + 31:
            raise InputError([Problem("--years", "must leave at least a month after the "
                                      "one-year warm-up (more than 1.1)", f"{self.years:g}")],
                             "invalid argument")

    def overrides(self) -> dict[str, Any]:
        """Only the seed: ``years`` is the back-cast's horizon, not the scenario's."""
        return {"run": {"seed": self.seed}} if self.seed is not None else {}


@dataclass(frozen=True, kw_only=True)
class CalibrateOptions(ExperimentOptions):
    """``rjsim calibrate``: history matching of ``parameters`` (assumptions-log keys; empty:
    :data:`rjsim.planning.calibrate.DEFAULT_PARAMETERS`) to the calibration targets (all
    judged targets with ``all_targets``) on ``points`` design points; ``write_scenario`` also
    writes the calibrated scenario there (a new file)."""

    scenario: Path = DEFAULT_SCENARIO
    parameters: tuple[str, ...] = ()
    targets: Path | None = None
    all_targets: bool = False
    points: int = CALIBRATE_POINTS
    cutoff: float = 3.0
    discrepancy: float = 0.10
    write_scenario: Path | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        problems = []
        if not 4 <= self.points <= 100_000:
            problems.append(Problem("--points", "must be 4 to 100000", str(self.points)))
        if not self.cutoff > 0 or not 0 <= self.discrepancy <= 1:
            problems.append(Problem("--cutoff/--discrepancy", "cut-off must be > 0 and "
                                    "discrepancy 0 to 1", f"{self.cutoff}, {self.discrepancy}"))
        if problems:
            raise InputError(problems, "invalid argument")

    def overrides(self) -> dict[str, Any]:
        """Only the seed: ``years`` is the status-quo runs' horizon, not the scenario's."""
        return {"run": {"seed": self.seed}} if self.seed is not None else {}


@dataclass(frozen=True, kw_only=True)
class VerifyOptions:
    """``rjsim verify``: one ``area`` (code or name; ``None``: the first) of ``scenario`` as
    M/M/c and M/M/c+M, ``replications`` of ``years`` each (the first
    :data:`VERIFY_WARMUP_YEARS` discarded); results in ``out`` (default
    ``results/verify_<name>_<area>``)."""

    scenario: Path
    area: str | None = None
    replications: int = VERIFY_REPLICATIONS
    years: float = VERIFY_YEARS
    out: Path | None = None
    quiet: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not 2 <= self.replications <= 10_000:
            problems.append(Problem("--replications", "must be 2 to 10000",
                                    str(self.replications)))
        if not VERIFY_WARMUP_YEARS + 2 <= self.years <= 200:
            problems.append(Problem("--years", f"must be {VERIFY_WARMUP_YEARS + 2:g} to 200 "
                                    f"(the first {VERIFY_WARMUP_YEARS:g} are warm-up)",
                                    f"{self.years:g}"))
        if problems:
            raise InputError(problems, "invalid argument")


def _progress(display: Display) -> Any:
    return lambda done, total: display.update(done, total, "tasks")


def backcast(options: BackcastOptions, display: Display | None = None) -> Outcome:
    """Run the back-cast and write its results directory (``tables/backcast.*``,
    ``summary.txt``)."""
    from rjsim.data import targets as evidence
    from rjsim.planning import backcast as bc
    from rjsim.report.evidence import backcast_text
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    started = store.now_utc()
    scenario = scenario_io.load(options.scenario, options.overrides(), "command line")
    chosen = evidence.load(options.targets)
    out = options.out or Path("results") / f"backcast_{scenario.name}"
    store.prepare_target(out)  # before the work, not after
    years = options.years if options.years is not None else bc.YEARS
    shown = display_or_quiet(display)
    try:
        reps = options.replications or BACKCAST_REPLICATIONS
        table = bc.backcast(scenario, chosen, options.settings(_progress(shown),
                                                               replications=reps), years)
    finally:
        shown.close()
    text = backcast_text(table, scenario.name, reps)
    info = {"rjsim_results": 1, "command": store.command_line(), "backcast": scenario.name,
            "replications": reps, "years": years,
            "warmup_days": bc.WARMUP_DAYS, "targets": str(options.targets or "packaged"),
            "versions": store.versions(), "started_utc": started}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text + "\n", encoding="utf-8")
    store.write_results(out, scenario, {"backcast": table}, info, extra)
    lines = [] if options.quiet else [text, ""]
    return Outcome(status=EXIT_OK, lines=(*lines, f"Results written to {out}/ "
                                          "(tables/backcast.csv, summary.txt)"), out=out)


def verify(options: VerifyOptions) -> Outcome:
    """Run the Markovian equivalents of one area, compare them with Erlang C and Erlang A and
    write the results directory (exit 0 when every check agrees, 1 otherwise)."""
    import tempfile

    import tomli_w

    from rjsim.planning import verify as vf
    from rjsim.report.evidence import verify_text
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    started = store.now_utc()
    scenario = scenario_io.load(options.scenario)
    eq = vf.equivalent(scenario, options.area)
    slug = vf.slug(eq.area_name)
    out = options.out or Path("results") / f"verify_{scenario.name}_{slug}"
    store.prepare_target(out)
    files: dict[str, str] = {f"{slug}_area.csv": vf.area_csv(eq)}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / f"{slug}_area.csv").write_text(files[f"{slug}_area.csv"], encoding="utf-8")
        for queue, patience in (("M/M/c", False), ("M/M/c+M", True)):
            if patience and eq.mean_patience_days is None:
                continue
            name = f"{slug}_{'mmcm' if patience else 'mmc'}.toml"
            files[name] = tomli_w.dumps(vf.scenario_dict(
                eq, patience, f"{slug}_area.csv", options.years, VERIFY_WARMUP_YEARS * 365))
            (Path(tmp) / name).write_text(files[name], encoding="utf-8")
            theory = vf.theory(eq, patience)
            if all(v is None for v in theory.values()):
                continue  # M/M/c at load >= 1: no steady state to compare with
            results[queue] = (vf.simulate(Path(tmp) / name, options.replications,
                                          VERIFY_MARGIN_DAYS), theory)
    table = vf.compare(results)
    text = verify_text(eq, table)
    info = {"rjsim_results": 1, "command": store.command_line(), "verify": scenario.name,
            "area": eq.area_code, "replications": options.replications,
            "years": options.years, "versions": store.versions(), "started_utc": started}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text + "\n", encoding="utf-8")
        (tmp / "equivalent").mkdir()
        for name, content in files.items():
            (tmp / "equivalent" / name).write_text(content, encoding="utf-8")
    store.write_results(out, scenario, {"verify": table}, info, extra)
    judged = table[table["verdict"] != "no analytic value"] if len(table) else table
    passed = len(judged) > 0 and bool((judged["verdict"] == "agrees").all())
    lines = [] if options.quiet else [text, ""]
    return Outcome(status=EXIT_OK if passed else EXIT_NOT_PASSED,
                   lines=(*lines, f"Results written to {out}/ (tables/verify.csv, summary.txt, "
                          "equivalent/ scenario files)"), out=out)


def calibrate(options: CalibrateOptions, display: Display | None = None) -> Outcome:
    """History-match the parameters and write the results directory (the design, the
    non-implausible set, the fit, the constraints and ``calibrated.toml``); exit 1 when no
    point is kept."""
    import tomli_w

    from rjsim.data import targets as evidence
    from rjsim.planning import backcast as bc
    from rjsim.planning import calibrate as cal
    from rjsim.report.evidence import calibration_text
    from rjsim.results import store
    from rjsim.results.atomic import write_atomic
    from rjsim.scenario import io as scenario_io

    if options.write_scenario is not None and options.write_scenario.exists():
        raise InputError([Problem("--write-scenario", "exists; choose a new file (nothing "
                                  "was written)", str(options.write_scenario))],
                         "invalid argument")
    started = store.now_utc()
    scenario = scenario_io.load(options.scenario, options.overrides(), "command line")
    params = cal.logged_parameters(options.parameters or cal.DEFAULT_PARAMETERS)
    chosen = [t for t in evidence.load(options.targets)
              if t.judged and (options.all_targets or t.role == "calibration")]
    out = options.out or Path("results") / f"calibrate_{scenario.name}"
    store.prepare_target(out)
    years = options.years if options.years is not None else bc.YEARS
    shown = display_or_quiet(display)
    try:
        reps = options.replications or CALIBRATE_REPLICATIONS
        result = cal.calibrate(scenario, chosen, params, options.settings(
                                   None, replications=reps), options.points, years,
                               options.discrepancy, options.cutoff,
                               lambda done, total: shown.update(done, total, "points"))
    finally:
        shown.close()
    fit, links = cal.fit_table(result), cal.constraints(result)
    best = result.best
    source = options.scenario

    def calibrated(folder: Path) -> str:
        assert best is not None
        rel = Path(os.path.relpath(source.resolve(), folder.resolve())).as_posix()
        body: str = tomli_w.dumps({"extends": rel, "name": f"{scenario.name}_calibrated"}
                                  | cal.overrides({str(k): float(v) for k, v in best.items()}))
        return (f"# Calibrated by 'rjsim calibrate' (history matching, {options.points} "
                f"points, cut-off {options.cutoff:g}); the fit is in {out}/\n" + body)
    text = calibration_text(result, fit, scenario.name)
    info = {"rjsim_results": 1, "command": store.command_line(), "calibrate": scenario.name,
            "parameters": [p.key for p in params], "points": options.points,
            "replications": reps, "cutoff": options.cutoff,
            "discrepancy": options.discrepancy, "versions": store.versions(),
            "started_utc": started}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text + "\n", encoding="utf-8")
        if best is not None:
            (tmp / "calibrated.toml").write_text(calibrated(out), encoding="utf-8")
    store.write_results(out, scenario, {"calibration_design": design_table(result),
                                        "non_implausible": result.retained, "fit": fit,
                                        "constraints": links}, info, extra)
    if best is not None and options.write_scenario is not None:
        text_out = calibrated(options.write_scenario.parent)
        write_atomic(options.write_scenario,
                     lambda tmp: tmp.write_text(text_out, encoding="utf-8"))
    lines = [] if options.quiet else [text, ""]
    return Outcome(status=EXIT_OK if best is not None else EXIT_NOT_PASSED,
                   lines=(*lines, f"Results written to {out}/"), out=out)


def design_table(result: Any) -> Any:
    """The design with each point's estimates (``est_<target>``), implausibilities
    (``imp_<target>``) and the largest."""
    imp = result.implausibility.add_prefix("imp_")
    est = result.estimates.add_prefix("est_")
    return result.design.join(est).join(imp).assign(
        max_implausibility=result.max_implausibility)


__all__ = ["BackcastOptions", "CalibrateOptions", "VerifyOptions", "backcast", "calibrate",
           "design_table", "verify"]
