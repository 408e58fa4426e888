"""``rjsim run`` (one scenario or every point of a sweep) and ``rjsim compare``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rjsim.app.common import (
    EXIT_OK,
    ExperimentOptions,
    Outcome,
    display_or_quiet,
    finish,
    load,
    source_name,
    whole_numbers,
)
from rjsim.app.progress import Display, Tracker, area_count
from rjsim.core.errors import InputError, Problem

if TYPE_CHECKING:
    from rjsim.app.uncertainty import UncertaintyOptions
    from rjsim.experiment.comparison import Comparison
    from rjsim.experiment.experiment import Experiment
    from rjsim.scenario.spec import Scenario
    from rjsim.scenario.sweep import Point
    from rjsim.uncertainty.propagate import UncertaintyResult


@dataclass(frozen=True, kw_only=True)
class RunOptions(ExperimentOptions):
    """``rjsim run``: a scenario file (a sweep runs every point) or object.

    ``target_precision``: add replications until the key KPIs' 95% CI half-width is within
    this share of the mean (at most ``max_replications``); ``records``: also write every
    referral under ``tables/cases/``.
    """

    scenario: Path | Scenario
    target_precision: float | None = None
    max_replications: int = 200
    records: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        p = self.target_precision
        problems = [] if p is None or 0 < p < 1 else [
            Problem("target_precision", "must be between 0 and 1 (e.g. 0.05)", repr(p))]
        if self.records and not self.write:
            problems.append(Problem("records", "every referral is written into the results "
                                    "directory: give one to write (out)", "True"))
        if self.max_replications < 1:
            problems.append(Problem("max_replications", "must be 1 or more",
                                    repr(self.max_replications)))
        if problems:
            raise InputError(problems, "invalid options")


@dataclass(frozen=True, kw_only=True)
class RunOutcome(Outcome):
    """The experiment of each point run: one (``points[0]`` is None) unless a sweep."""

    points: tuple[Point | None, ...] = ()
    experiments: tuple[Experiment, ...] = ()


def _planned(scenario: Scenario, options: RunOptions) -> int:
    if options.target_precision is not None:  # the first batch; later batches raise it
        from rjsim.experiment.experiment import ExperimentSettings
        first = max(ExperimentSettings.initial_replications, 2)
        reps = min(first, options.max_replications)
    else:
        reps = options.replications or scenario.run.replications
    return reps * area_count(scenario)


def run(options: RunOptions, display: Display | None = None) -> RunOutcome:
    """Run a scenario's replications (every point of a sweep), write the results directory
    and (unless ``options.report`` is false) its report."""
    from rjsim.scenario import io as scenario_io
    from rjsim.scenario.spec import Scenario

    source = options.scenario
    if isinstance(source, Scenario):
        variants: list[tuple[Point | None, Scenario]] = [(None, load(source, options))]
    else:
        variants = scenario_io.load_variants(source, options.overrides(), "command line")
    shown = display_or_quiet(display)
    tracker = Tracker(shown, [(s.name, _planned(s, options)) for _, s in variants])
    try:
        if variants[0][0] is None:
            return _run_one(options, variants[0][1], tracker)
        return _run_sweep(options, variants, tracker)
    finally:
        shown.close()


def _run_one(options: RunOptions, scenario: Scenario, tracker: Tracker) -> RunOutcome:
    from rjsim.app import outputs
    from rjsim.experiment.experiment import run_experiment
    from rjsim.report.text import national_text, worst_areas
    from rjsim.results import store

    started = store.now_utc()
    out = (options.out or Path("results") / scenario.name) if options.write else None
    if out is not None:
        store.prepare_target(out)  # before the work, not after
    sink = outputs.RecordsSink(out) if out is not None and options.records else None
    try:
        e = run_experiment(scenario, options.settings(
            tracker.stage(0), target_precision=options.target_precision,
            max_replications=options.max_replications, on_records=sink))
        tracker.finish(0)
        tracker.display.close()
        text = national_text(e)
        if out is not None:
            outputs.write_experiment(out, e, outputs.manifest(
                e, source_name(options.scenario), started), text, sink)
    finally:
        if sink is not None:
            sink.discard()
    lines = [] if options.quiet else [text, "Highest unmet demand:", worst_areas(e), ""]
    if out is not None:
        lines.append(f"Results written to {out}/ (tables in CSV and Parquet, manifest.json, "
                     "scenario.toml)")
    return finish(RunOutcome(status=EXIT_OK, lines=tuple(lines), out=out, points=(None,),
                             experiments=(e,)), options)


def _run_sweep(options: RunOptions, variants: Sequence[tuple[Point | None, Scenario]],
               tracker: Tracker) -> RunOutcome:
    from rjsim.app import outputs
    from rjsim.experiment.experiment import run_experiment
    from rjsim.report.text import national_text
    from rjsim.results import store

    started = store.now_utc()
    base = variants[0][1]
    base_name = base.name.rsplit("-", 1)[0]
    out = (options.out or Path("results") / base_name) if options.write else None
    if out is not None:
        store.prepare_target(out)  # before the work, not after
    done: list[tuple[Point, Experiment]] = []
    sinks: dict[str, outputs.RecordsSink | None] = {}
    try:
        for i, (point, scenario) in enumerate(variants):
            if point is None:  # load_variants gives every variant of a sweep its point
                raise ValueError("a sweep variant without its point")
            tracker.display.message(f"sweep point {point.tag}: {point.words or point.label}")
            sink = (outputs.RecordsSink(out, f"-{point.tag}")
                    if out is not None and options.records else None)
            sinks[point.tag] = sink
            e = run_experiment(scenario, options.settings(
                tracker.stage(i), target_precision=options.target_precision,
                max_replications=options.max_replications, on_records=sink))
            tracker.finish(i)
            done.append((point, e))
        tracker.display.close()
        table = outputs.sweep_table(done)

        def points(tmp: Path) -> None:
            for point, e in done:
                outputs.write_experiment(
                    tmp / "points" / point.tag, e,
                    outputs.manifest(e, source_name(options.scenario), started),
                    national_text(e), sinks[point.tag])
        info = {"rjsim_results": 1, "command": store.command_line(), "sweep": base_name,
                "points": {p.tag: p.label for p, _ in done}, "versions": store.versions(),
                "started_utc": started}
        if out is not None:
            store.write_results(out, base, {"sweep_national": table}, info, points)
    finally:
        for sink in sinks.values():
            if sink is not None:
                sink.discard()
    key = table[table["kpi"].isin(["unmet_demand_rate", "wait_alloc_days_mean",
                                   "annual_cost_gbp"])]
    wide = key.pivot(index="point", columns="kpi", values="mean")
    lines = []
    if not options.quiet:
        lines.append(f"Sweep of {len(done)} points (national means):")
        for (point, _), (_, row) in zip(done, wide.iterrows(), strict=True):
            lines.append(f"  {point.tag}  {point.words or point.label}\n        unmet "
                         f"{100 * row['unmet_demand_rate']:.1f}%, mean wait "
                         f"{row['wait_alloc_days_mean']:.0f} days, cost GBP "
                         f"{row['annual_cost_gbp'] / 1e6:.2f}m a year")
    if out is not None:
        lines.append(f"Results written to {out}/ (one results directory per point under "
                     "points/)")
    return finish(RunOutcome(status=EXIT_OK, lines=tuple(lines), out=out,
                             points=tuple(p for p, _ in done),
                             experiments=tuple(e for _, e in done)), options)


@dataclass(frozen=True, kw_only=True)
class CompareOptions(ExperimentOptions):
    """``rjsim compare``: two or more scenario files or objects, run under common random
    numbers (the same seed: ``seed``, else the first scenario's).

    ``uncertainty``: also run every option on this many parameter sets (each with the
    ``[uncertainty]`` table's replications, which the options must share) for the decision
    table's probability of passing the capacity test under parameter uncertainty
    (:func:`rjsim.uncertainty.multi_option.run_options`); ``None`` (the default) skips it, as it
    multiplies the run time.
    """

    scenarios: tuple[Path | Scenario, ...]
    uncertainty: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        from rjsim.scenario.uncertainty import MAX_SAMPLES
        problems = whole_numbers(self, {"uncertainty": (2, MAX_SAMPLES)})
        if problems:
            raise InputError(problems, "invalid options")

    def uncertainty_options(self) -> UncertaintyOptions:
        """The options of the uncertainty pass (``uncertainty`` parameter sets; the price of
        commencement is not confirmed by simulation here)."""
        from rjsim.app.uncertainty import UncertaintyOptions
        return UncertaintyOptions(
            scenarios=self.scenarios, samples=self.uncertainty, confirm_replications=0,
            seed=self.seed, years=self.years, workers=self.workers, executor=self.executor,
            scheduler=self.scheduler, cache_dir=self.cache_dir, write=False, report=False)


@dataclass(frozen=True, kw_only=True)
class CompareOutcome(Outcome):
    """The comparison: estimates, paired differences and each option's capacity test; with
    ``uncertainty`` parameter sets, each option's uncertainty results (``uncertainty``: option
    name -> :class:`~rjsim.uncertainty.propagate.UncertaintyResult`, else empty)."""

    comparison: Comparison
    uncertainty: dict[str, UncertaintyResult] = field(default_factory=dict)


def compare(options: CompareOptions, display: Display | None = None) -> CompareOutcome:
    """Run every scenario under common random numbers, compare them with the first, write
    the results directory (each scenario's own under ``scenarios/``) and its report."""
    from rjsim.app import outputs
    from rjsim.experiment.comparison import compare as compare_scenarios
    from rjsim.report.text import comparison_text, national_text
    from rjsim.results import store

    started = store.now_utc()
    scenarios = [load(s, options) for s in options.scenarios]
    uncertain = None
    if options.uncertainty is not None:  # every option's declaration, before any work
        from rjsim.app.uncertainty import load_options
        uncertain = load_options(options.uncertainty_options())
    out = ((options.out or Path("results") / ("compare_" + "_vs_".join(s.name for s in scenarios)))
           if options.write else None)
    if out is not None:
        store.prepare_target(out)  # before the work, not after
    shown = display_or_quiet(display)
    reps = options.replications or (scenarios[0].run.replications if scenarios else 0)
    tracker = Tracker(shown, [(s.name, reps * area_count(s)) for s in scenarios])
    results: dict[str, UncertaintyResult] = {}
    try:
        c = compare_scenarios(scenarios, options.settings(), seed=options.seed,
                              progress=[tracker.stage(i) for i in range(len(scenarios))])
        if uncertain is not None:
            from rjsim.uncertainty import multi_option
            label = f"uncertainty: {options.uncertainty} parameter sets"
            results = multi_option.run_options(
                *uncertain, options.uncertainty_options().settings(
                    lambda d, t: shown.update(d, t, label)), confirm_replications=0)
    finally:
        shown.close()
    text = comparison_text(c) + _uncertainty_lines(results)

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text, encoding="utf-8")
        outputs.comparison_figures(c, tmp)
        for e in c.experiments:
            outputs.write_experiment(tmp / "scenarios" / e.scenario.name, e,
                                     outputs.manifest(e, "", started), national_text(e))
    info = {"rjsim_results": 1, "command": store.command_line(), "compared": c.names,
            "scenario_files": [source_name(s) for s in options.scenarios],
            "seed": c.experiments[0].scenario.run.seed,
            "replications": c.experiments[0].replications, "versions": store.versions(),
            "started_utc": started}
    tables = outputs.comparison_tables(c)
    if results:
        from rjsim.uncertainty import multi_option
        first = next(iter(results.values()))
        info["parameter_sets"] = int(first.samples["sample"].nunique())
        info["replications_per_parameter_set"] = int(first.replications)
        tables |= {"uncertainty_options": multi_option.options_table(results),
                   "uncertainty_options_areas": multi_option.options_areas(results)}
    if out is not None:
        store.write_results(out, c.experiments[0].scenario, tables, info, extra)
    lines = ([] if options.quiet else [text]) + (
        [f"Results written to {out}/"] if out is not None else [])
    if out is not None and not options.quiet:  # the answer, as the report's table states it
        from rjsim.report.conclusion import conclusion, plan_estimate
        from rjsim.report.decision import option_rows
        from rjsim.results.reader import open_results
        res = open_results(out)
        rows = option_rows(res)
        lines.insert(1, "In short: " + conclusion(rows, plan_estimate(res, rows)) + "\n")
    return finish(CompareOutcome(status=EXIT_OK, lines=tuple(lines), out=out, comparison=c,
                                 uncertainty=results), options)


def _uncertainty_lines(results: dict[str, UncertaintyResult]) -> str:
    """Each option's probability of passing the capacity test across the parameter sets of
    ``compare --uncertainty`` ('' without them)."""
    if not results:
        return ""
    from rjsim.uncertainty import multi_option
    table = multi_option.options_table(results)
    first = next(iter(results.values()))
    lines = [f"  probability the nation passes the capacity test, across "
             f"{first.samples['sample'].nunique()} parameter sets of {first.replications} "
             "replications each"]
    width = max(len(n) for n in results) + 2
    for name in results:
        row = table[(table["option"] == name) & (table["kpi"] == "p_pass_national")]
        shown = f"{100 * float(row['median'].iloc[0]):.0f}%" if len(row) else "no test"
        lines.append(f"    {name:<{width}}{shown:>12}")
    return "\n".join(lines) + "\n"
