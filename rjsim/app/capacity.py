"""``rjsim capacity-test``: the minister's capacity test, its time to pass and the postcode
lottery against the status quo (``rjsim plan``, the least staffing that passes it, is
:mod:`rjsim.app.plan`).

Exit status, for CI: 0 when the national test passes, 1 when it fails or is inconclusive, 2 on
an error (raised as an :class:`RjsimError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rjsim.app.common import (
    EXIT_NOT_PASSED,
    EXIT_OK,
    ExperimentOptions,
    Outcome,
    display_or_quiet,
    finish,
    load,
    source_name,
)
from rjsim.app.progress import Display, Tracker, area_count
from rjsim.core.errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from rjsim.capacity.capacity_test import CapacityTestResult
    from rjsim.capacity.time_to_pass import TimeToPass
    from rjsim.experiment.experiment import Experiment, ExperimentSettings
    from rjsim.scenario.spec import Scenario



def exit_status(verdict: str) -> int:
    """The exit status of a national verdict: 0 pass, 1 fail or inconclusive."""
    return EXIT_OK if verdict == "pass" else EXIT_NOT_PASSED


def answer_text(result: CapacityTestResult, name: str) -> str:
    """The committee's question answered in one plain sentence from a capacity test's national
    verdict: is there sufficient capacity to provide RJ to all victims who want it?"""
    n = result.national.iloc[0]
    areas, passing = int(n["areas"]), int(n["areas_pass"])
    failing, unsure = int(n["areas_fail"]), int(n["areas_inconclusive"])
    if result.verdict == "pass":
        return (f"Answer: yes. Under '{name}' all {areas} areas demonstrably have the capacity "
                "to provide RJ to every victim who wants it: the capacity test passes.")
    counts = f"{failing} fail, {unsure} inconclusive"
    if failing == 0:
        return (f"Answer: not yet known. Under '{name}' {passing} of {areas} areas "
                f"demonstrably have the capacity to provide RJ to every victim who wants it "
                f"({counts}): run more replications to decide.")
    return (f"Answer: no. Under '{name}' {passing} of {areas} areas demonstrably have the "
            f"capacity to provide RJ to every victim who wants it ({counts}), so the capacity "
            "test for commencing the right fails; 'rjsim plan' prices the staffing that passes.")


@dataclass(frozen=True, kw_only=True)
class CapacityTestOptions(ExperimentOptions):
    """``rjsim capacity-test``: the scenario (file or object) to judge. ``status_quo``: also
    run the status quo on the same seeds to measure how the scenario changes the postcode
    lottery (``None``: as the scenario's ``capacity_test.status_quo`` says, unless a
    ``baseline`` is given); ``baseline``: the scenario standing for the status quo (default:
    the scenario's own, :func:`rjsim.scenario.status_quo.twin`; a given one runs on the
    tested scenario's areas, horizon, window and seeds)."""

    scenario: Path | Scenario
    baseline: Path | Scenario | None = None
    status_quo: bool | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.baseline is not None and self.status_quo is False:
            from rjsim.core.errors import InputError, Problem
            raise InputError([Problem("baseline", "is not run when status_quo is off "
                                      "(--no-baseline); give one or the other")],
                             "invalid options")


@dataclass(frozen=True, kw_only=True)
class CapacityTestOutcome(Outcome):
    """The test's verdicts (``result.verdict``: the national one; ``result.tables()``: per
    area and criterion), the time to pass (``time_to_pass.summary``: per area and nationally,
    over rolling windows) and the experiment they judge (over the assessment window)."""

    result: CapacityTestResult
    time_to_pass: TimeToPass
    experiment: Experiment
    status_quo: StatusQuo | None = None

    @property
    def verdict(self) -> str:
        return self.result.verdict


@dataclass(frozen=True)
class StatusQuo:
    """The postcode lottery under the tested scenario against its status quo on the same
    seeds: ``inequality`` (:func:`rjsim.analysis.inequality.compare`, status quo first),
    ``sentence`` ("under option X the gap ... narrows from A to B") and the status quo's
    ``experiment`` (the tested one's own when the scenario is the status quo)."""

    scenario: Scenario
    experiment: Experiment
    inequality: pd.DataFrame
    sentence: str
    source: str  # the file given, or "" for the scenario's own status quo


def _reference(options: CapacityTestOptions, assessed: Scenario) -> tuple[Scenario, str]:
    """The scenario standing for the status quo of ``assessed`` and where it came from."""
    from rjsim.scenario import status_quo

    if options.baseline is None:
        return status_quo.twin(assessed), ""
    try:
        given = load(options.baseline, options)
    except ScenarioError as exc:
        raise ScenarioError(exc.problems, f"the --baseline scenario: {exc.summary}") from None
    return status_quo.aligned(given, assessed), source_name(options.baseline)


def _against_status_quo(e: Experiment, reference: Scenario, source: str,
                        settings: ExperimentSettings) -> StatusQuo:
    """Run ``reference`` with ``e``'s replications and seeds (unless it is ``e``'s own
    scenario) and measure the gap between the best and worst area under both."""
    import dataclasses

    from rjsim.analysis import inequality
    from rjsim.experiment.experiment import run_experiment
    from rjsim.scenario import status_quo

    if status_quo.same_policy(reference, e.scenario):
        table = inequality.compare({e.scenario.name: e.per_replication["area_summary"]})
        gap = inequality.gap_words(table, e.scenario.name)
        return StatusQuo(e.scenario, e, table, f"'{e.scenario.name}' is itself the status quo "
                         f"(no statutory right, today's funding): {gap}", source)
    if reference.name == e.scenario.name:
        reference = dataclasses.replace(reference, name=f"{reference.name}_baseline")
    ref = run_experiment(reference, dataclasses.replace(
        settings, replications=e.replications, target_precision=None))
    table = inequality.compare({reference.name: ref.per_replication["area_summary"],
                                e.scenario.name: e.per_replication["area_summary"]})
    return StatusQuo(reference, ref, table, inequality.gap_sentence(table, e.scenario.name),
                     source)


def capacity_test(options: CapacityTestOptions, display: Display | None = None
                  ) -> CapacityTestOutcome:
    """Run the scenario, judge every area over its assessment window, write the results
    directory (capacity_test_* tables, the capacity map) and its report."""
    from rjsim.analysis import capacity_metrics as capacity
    from rjsim.app import outputs
    from rjsim.capacity import capacity_test as test
    from rjsim.capacity import time_to_pass, time_to_pass_text
    from rjsim.experiment.experiment import run_experiment
    from rjsim.report import capmap
    from rjsim.report.text import national_text
    from rjsim.results import store

    started = store.now_utc()
    scenario = load(options.scenario, options)
    assessed = capacity.assessed(scenario)
    wanted = (options.status_quo if options.status_quo is not None else
              options.baseline is not None or scenario.capacity_test.status_quo)
    reference = _reference(options, assessed) if wanted else None
    out = (options.out or Path("results") / f"{scenario.name}_capacity_test"
           if options.write else None)
    if out is not None:
        store.prepare_target(out)  # before the work, not after
    shown = display_or_quiet(display)
    reps = options.replications or assessed.run.replications
    stages = [(assessed.name, reps * area_count(assessed))]
    if reference is not None:
        stages.append((reference[0].name, reps * area_count(reference[0])))
    tracker = Tracker(shown, stages)
    try:
        e = run_experiment(assessed, options.settings(tracker.stage(0)))
        quo = (None if reference is None else
               _against_status_quo(e, *reference, options.settings(tracker.stage(1))))
    finally:
        shown.close()
    result = test.evaluate(assessed, e.per_replication["capacity_metrics"], e.plan.areas)
    summary = test.summary_text(result)
    passing = time_to_pass.evaluate(assessed, e.per_replication["rolling_metrics"], e.plan.areas,
                                    whole=e.per_replication["capacity_metrics"])
    text = (national_text(e) + "\n" + summary + "\n"
            + time_to_pass_text.summary_text(passing) + status_quo_text(quo))

    def figures(tmp: Path) -> None:
        (tmp / "figures").mkdir(exist_ok=True)
        capmap.capacity_map(result.verdicts, tmp / "figures" / "capacity_map")
        if quo is not None and quo.experiment is not e:
            write_scenario_toml(tmp / STATUS_QUO_FILE, quo.scenario)
    status = exit_status(result.verdict)
    tables = result.tables() | passing.tables()
    info = outputs.manifest(e, source_name(options.scenario), started) | {
        "capacity_test": {"verdict": result.verdict, "exit_status": status}}
    if quo is not None:
        tables["comparison_inequality"] = quo.inequality
        info["capacity_test"]["status_quo"] = {
            "scenario": quo.scenario.name, "source": quo.source or "derived (no right, "
            "today's funding, no pooling)", "file": STATUS_QUO_FILE
            if quo.experiment is not e else "", "gap_sentence": quo.sentence}
    shown_text = text if not options.quiet else summary.splitlines()[1]
    lines: tuple[str, ...] = (shown_text,)
    if out is not None:
        outputs.write_experiment(out, e, info, text, more=figures, tables=tables)
        lines += (f"Results written to {out}/ (capacity_test_*.csv and time_to_pass*.csv "
                  "tables, figures/capacity_map)",)
    if not options.quiet:
        lines += (answer_text(result, scenario.name),)
    return finish(CapacityTestOutcome(status=status, lines=lines, out=out, result=result,
                                      time_to_pass=passing, experiment=e, status_quo=quo),
                  options)


#: The status quo a capacity test ran, as a scenario file in its results directory.
STATUS_QUO_FILE = "status_quo_scenario.toml"


def status_quo_text(quo: StatusQuo | None) -> str:
    """The postcode lottery against the status quo, as printed (nothing without one)."""
    if quo is None:
        return ""
    what = (f"the scenario '{quo.scenario.name}' from {quo.source}, run" if quo.source else
            "this scenario without the statutory right, with today's funding and no pooling,"
            " run")
    sentence = quo.sentence[0].upper() + quo.sentence[1:]
    return ("\nThe postcode lottery against the status quo (" + what + " on the same areas, "
            "window and seeds):\n  " + sentence + ".\n")


def write_scenario_toml(path: Path, scenario: Scenario) -> None:
    """A scenario as a TOML file another run can read back."""
    from rjsim.results.store import scenario_toml
    path.write_text(scenario_toml(scenario), encoding="utf-8")
