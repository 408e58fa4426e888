"""Speed benchmarks of parameter uncertainty: ``rjsim uncertainty`` (64 parameter sets x 5
replications, target <= 15 minutes on 2 cores) and Morris screening of every ranged parameter
(``rjsim sensitivity``, target <= 30 minutes on 2 cores), national ``statutory_right``, 5 years.

Each times the command's own code path (:func:`rjsim.uncertainty.propagate.run_sets` through
the experiment runner on the chosen executor, and the analytic price table) on the whole design
or, on a shared or slow machine, on its first ``n`` parameter sets or design points, and
extrapolates to the whole design at the measured time per run (a run: one parameter set's one
replication of every area; runs are independent tasks, so the time is linear in their number).
Besides wall time it prints the CPU time of this process and its worker processes and the load
average, so a measurement on a busy machine can be read honestly: the CPU seconds divided by
the cores are what the design would take on those cores with nothing else running.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rjsim.experiment.executors import ExecutorKind, ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.scenario import io as scenario_io
from rjsim.scenario import uncertainty_sample as sampling
from rjsim.uncertainty import price, propagate, sensitivity

#: The issue's targets (seconds on 2 cores) and design sizes.
TARGET_UNCERTAINTY_S = 15 * 60
TARGET_MORRIS_S = 30 * 60
FULL_SAMPLES, FULL_REPLICATIONS, FULL_TRAJECTORIES = 64, 5, 10


@dataclass(frozen=True)
class Timing:
    """Wall and CPU seconds (this process and its finished children) of a piece of work, and
    the 1-minute load average before and after it."""

    wall_s: float
    cpu_s: float
    load_before: float
    load_after: float


def _timed(work: Callable[[], object]) -> Timing:
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), os.times()
    work()
    t1, c1 = time.perf_counter(), os.times()
    cpu = sum((c1.user, c1.system, c1.children_user, c1.children_system)) - sum(
        (c0.user, c0.system, c0.children_user, c0.children_system))
    return Timing(t1 - t0, cpu, load0, os.getloadavg()[0])


def _settings(executor: str, workers: int | None, scheduler: str | None) -> ExperimentSettings:
    kind: ExecutorKind = ("local" if workers == 1 and executor == "processes"
                          else executor)  # type: ignore[assignment]
    return ExperimentSettings(executor=ExecutorSettings(kind, workers, scheduler))


def _report(title: str, timing: Timing, runs: int, full_runs: int, target_s: float,
            workers: int | None, extra: list[str]) -> str:
    cores = workers or os.cpu_count() or 1
    per_wall, per_cpu = timing.wall_s / runs, timing.cpu_s / runs
    full_wall, full_ideal = per_wall * full_runs, per_cpu * full_runs / cores
    verdict = "met" if full_wall <= target_s else "MISSED"
    ideal = "met" if full_ideal <= target_s else "MISSED"
    return "\n".join([
        title,
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; workers {cores}",
        *extra,
        f"timed                      {runs} runs (parameter set x replication, every area)",
        f"wall time                  {timing.wall_s:.1f} s ({per_wall:.2f} s a run)",
        f"CPU time (all processes)   {timing.cpu_s:.1f} s ({per_cpu:.2f} s a run)",
        f"load average (1 min)       {timing.load_before:.1f} before, {timing.load_after:.1f} "
        "after",
        f"whole design               {full_runs} runs: {full_wall / 60:.1f} min at the measured "
        f"wall time a run (target <= {target_s / 60:.0f} min: {verdict}); "
        f"{full_ideal / 60:.1f} min on {cores} otherwise idle cores, from CPU time "
        f"({ideal})"])


def uncertainty_bench(scenario_path: Path, years: float, samples: int, replications: int,
                      executor: str, workers: int | None, scheduler: str | None = None
                      ) -> str:
    """Time ``rjsim uncertainty`` on ``samples`` parameter sets x ``replications`` (no cache,
    no price confirmation: the confirmation's capacity tests are timed as runs like any other
    and extrapolated below) and extrapolate to 64 x 5."""
    scenario, decl = scenario_io.load_uncertainty(
        scenario_path, {"run": {"years": years}}, "benchmark",
        {"samples": samples, "replications": replications})
    settings = _settings(executor, workers, scheduler)
    found: list[propagate.UncertaintyResult] = []
    timing = _timed(lambda: found.append(propagate.run_uncertainty(
        scenario, decl, settings, confirm_replications=0)))
    r = found[0]
    confirm = (len(price.CONFIRM_QUANTILES) * scenario.run.replications
               if r.prices is not None else 0)
    full = FULL_SAMPLES * FULL_REPLICATIONS
    extra = [f"parameters varied          {len(decl.parameters)}",
             f"tasks simulated            {r.tasks_run:,} (from cache: {r.tasks_cached})"]
    if confirm:
        runs, cores = samples * replications, workers or os.cpu_count() or 1
        extra.append(f"price confirmation         {confirm} more runs (3 quantiles x "
                     f"run.replications {scenario.run.replications}): add "
                     f"{timing.wall_s / runs * confirm / 60:.1f} min at the measured wall time "
                     f"a run, {timing.cpu_s / runs * confirm / cores / 60:.1f} min on {cores} "
                     "idle cores (not in the target's design; --confirm-replications 0 skips)")
    return _report(f"rjsim uncertainty benchmark: scenario '{scenario.name}', {years:g} years, "
                   f"{samples} sets x {replications} replications timed (target design "
                   f"{FULL_SAMPLES} x {FULL_REPLICATIONS}), executor {settings.executor.kind}",
                   timing, samples * replications, full, TARGET_UNCERTAINTY_S, workers, extra)


def morris_bench(scenario_path: Path, years: float, trajectories: int, points: int | None,
                 executor: str, workers: int | None, scheduler: str | None = None) -> str:
    """Time Morris screening of every ranged parameter (``trajectories`` x (k + 1) design
    points, one replication each): the first ``points`` design points (default: all) through
    ``rjsim sensitivity``'s code path, extrapolated to the whole design."""
    scenario, decl = scenario_io.load_uncertainty(scenario_path, {"run": {"years": years}},
                                                  "benchmark")
    seed = scenario.run.seed
    u = sensitivity.design(decl, "morris", trajectories, seed)
    values = sampling.to_values(decl, sensitivity.EDGE + (1 - 2 * sensitivity.EDGE) * u)
    n = len(values) if points is None else min(points, len(values))
    settings = _settings(executor, workers, scheduler)

    def work() -> None:
        propagate.run_sets(scenario, decl, values[:n], settings, 1, judge_capacity=False)
        if price.has_price(scenario):
            price.price_table(propagate.sample_scenarios(scenario, decl, values[:n]))
    timing = _timed(work)
    full = trajectories * (len(decl.parameters) + 1)
    return _report(f"rjsim sensitivity (Morris) benchmark: scenario '{scenario.name}', "
                   f"{years:g} years, {len(decl.parameters)} ranged parameters, "
                   f"{trajectories} trajectories = {full} design points x 1 replication; "
                   f"{n} timed, executor {settings.executor.kind}",
                   timing, n, full, TARGET_MORRIS_S, workers, [])
