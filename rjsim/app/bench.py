"""The speed benchmark: a national run against a bare, idiomatic SimPy M/M/c model.

``rjsim bench`` (or ``make bench``) runs the scenario (default ``statutory_right``) nationally
for 5 simulated years, one replication, pinned to one CPU core where the OS allows, and prints
referrals simulated, wall time, cases per second and peak memory (the process's maximum
resident set size, which includes the Python interpreter and libraries). In a fresh process it
then times a textbook SimPy M/M/c model with the same number of customers (one process per
customer, ``simpy.Resource``) and prints rjsim's cases per second as a ratio to it. Medians of
``repeats`` timed runs are reported. Targets (issue 2): <= 10 s, <= 1 GiB, ratio >= 1.5.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rjsim.app.common import Outcome

BASELINE_SERVERS = 50
BASELINE_UTILISATION = 0.9


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to CPU {core}"
    return "not pinned (no sched_setaffinity on this OS)"


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def mmc_baseline(customers: int, servers: int = BASELINE_SERVERS,
                 utilisation: float = BASELINE_UTILISATION, seed: int = 1) -> float:
    """Seconds for an idiomatic SimPy M/M/c model to serve ``customers`` customers."""
    import random

    import simpy

    rng = random.Random(seed)  # a local generator: the library never seeds global state
    mean_service = 1.0
    mean_gap = mean_service / (servers * utilisation)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)

    def customer(env: simpy.Environment) -> Any:
        with desk.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1 / mean_service))

    def arrivals(env: simpy.Environment) -> Any:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(1 / mean_gap))
            env.process(customer(env))

    env.process(arrivals(env))
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def _time_rjsim(scenario_path: Path, years: float, repeats: int) -> dict[str, Any]:
    from rjsim.experiment import runner
    from rjsim.scenario import io as scenario_io

    scenario = scenario_io.load(scenario_path, {"run": {"years": years}}, "benchmark")
    walls, sims, referrals = [], [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = runner.run(scenario)
        walls.append(time.perf_counter() - t0)
        sims.append(result.timings["simulate_s"])
        referrals = result.n_referrals
    return {"scenario": scenario.name, "areas": len(result.plan.areas), "referrals": referrals,
            "wall_s": statistics.median(walls), "simulate_s": statistics.median(sims),
            "walls": walls, "peak_mib": _peak_rss_mib()}


def _time_baseline(customers: int, repeats: int) -> float:
    code = ("import json,sys; from rjsim.app.bench import mmc_baseline, _pin_one_core; "
            "_pin_one_core(); print(json.dumps([mmc_baseline(int(sys.argv[1]), seed=i + 1) "
            "for i in range(int(sys.argv[2]))]))")
    out = subprocess.run([sys.executable, "-c", code, str(customers), str(repeats)],
                         check=True, capture_output=True, text=True)
    return float(statistics.median(json.loads(out.stdout)))


def run(scenario_path: Path, years: float, repeats: int, baseline: bool) -> str:
    """Run the benchmark and return the report text."""
    pinned = _pin_one_core()
    r = _time_rjsim(scenario_path, years, repeats)
    rate = r["referrals"] / r["wall_s"]
    lines = [
        f"rjsim benchmark: scenario '{r['scenario']}', {r['areas']} areas, {years:g} years, "
        f"1 replication, {repeats} repeat(s), medians",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {pinned}",
        f"referrals simulated        {r['referrals']:,}",
        f"wall time (run + tables)   {r['wall_s']:.2f} s   (simulation alone "
        f"{r['simulate_s']:.2f} s; all repeats: "
        + ", ".join(f"{w:.2f}" for w in r["walls"]) + ")",
        f"cases per second           {rate:,.0f}   (simulation alone "
        f"{r['referrals'] / r['simulate_s']:,.0f})",
        f"peak memory (max RSS)      {r['peak_mib']:.0f} MiB",
    ]
    if baseline:
        base_s = _time_baseline(r["referrals"], repeats)
        base_rate = r["referrals"] / base_s
        lines += [
            f"bare SimPy M/M/c           {base_s:.2f} s for the same {r['referrals']:,} "
            f"customers (c={BASELINE_SERVERS}, utilisation {BASELINE_UTILISATION}): "
            f"{base_rate:,.0f} customers per second",
            f"ratio rjsim / bare SimPy   {rate / base_rate:.2f}x   (target >= 1.5)",
        ]
    targets = (f"targets: wall <= 10 s {'met' if r['wall_s'] <= 10 else 'MISSED'}; "
               f"peak memory <= 1024 MiB {'met' if r['peak_mib'] <= 1024 else 'MISSED'}")
    return "\n".join([*lines, targets])


def run_experiment_bench(scenario_path: Path, years: float, replications: int, executor: str,
                         workers: int | None, repeats: int) -> str:
    """Time an experiment (e.g. 30 replications) on an executor; medians of ``repeats``."""
    from rjsim.experiment.executors import ExecutorSettings
    from rjsim.experiment.experiment import ExperimentSettings, run_experiment
    from rjsim.scenario import io as scenario_io

    scenario = scenario_io.load(scenario_path, {"run": {"years": years}}, "benchmark")
    kind = "local" if workers == 1 and executor == "processes" else executor
    settings = ExperimentSettings(replications=replications,
                                  executor=ExecutorSettings(kind, workers))  # type: ignore[arg-type]
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        e = run_experiment(scenario, settings)  # no cache: every task is simulated
        walls.append(time.perf_counter() - t0)
    wall = statistics.median(walls)
    return "\n".join([
        f"rjsim experiment benchmark: scenario '{scenario.name}', {len(e.plan.areas)} areas, "
        f"{years:g} years, {replications} replications, executor {kind}, workers "
        f"{workers or os.cpu_count()}",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"tasks                      {replications * len(e.plan.areas):,}",
        f"referrals simulated        {e.n_referrals:,}",
        f"wall time (median of {repeats})   {wall:.1f} s   (all: "
        + ", ".join(f"{w:.1f}" for w in walls) + ")",
        f"cases per second           {e.n_referrals / wall:,.0f}",
        f"peak memory of this process (max RSS) {_peak_rss_mib():.0f} MiB"])


def _check_changes(log: Any) -> int:
    return int((log["phase"] == "check").sum()) if len(log) else 0


def run_plan_bench(scenario_path: Path, years: float, replications: int,
                   workers: int | None, repeats: int) -> str:
    """Time a national ``rjsim plan`` (search and check); medians of ``repeats``."""
    from rjsim.experiment.executors import ExecutorSettings
    from rjsim.experiment.experiment import ExperimentSettings
    from rjsim.planning import planner
    from rjsim.scenario import io as scenario_io

    scenario = scenario_io.load(scenario_path, {"run": {"years": years}}, "benchmark")
    kind = "local" if workers == 1 else "processes"
    settings = ExperimentSettings(replications=replications,
                                  executor=ExecutorSettings(kind, workers))  # type: ignore[arg-type]
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = planner.plan(scenario, settings)
        walls.append(time.perf_counter() - t0)
    n = result.national.iloc[0]
    return "\n".join([
        f"rjsim plan benchmark: scenario '{scenario.name}', {int(n['areas'])} areas, {years:g} "
        f"years, {replications} replications per round, workers {workers or os.cpu_count()}",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"search rounds              {int(n['search_rounds'])} (then the check run; "
        f"{_check_changes(result.search_log)} slot(s) added by the check)",
        f"wall time (median of {repeats})   {statistics.median(walls):.1f} s   (all: "
        + ", ".join(f"{w:.1f}" for w in walls) + ")",
        f"plan: {n['general_fte']:,.1f} general + {n['specialist_fte']:,.1f} specialist FTE, "
        f"GBP {n['total_annual_cost_gbp'] / 1e6:,.1f}m a year (today GBP "
        f"{n['today_budget_gbp'] / 1e6:,.1f}m); check verdict: {n['verdict']}",
        f"peak memory of this process (max RSS) {_peak_rss_mib():.0f} MiB"])


@dataclass(frozen=True, kw_only=True)
class BenchOptions:
    """``rjsim bench``: time a national run of ``scenario`` for ``years`` (medians of
    ``repeats``) against a bare SimPy model (``baseline``); or, with ``replications``, an
    experiment on ``executor`` with ``workers``; or, with ``plan``, a national ``rjsim plan``
    (``replications`` per round, default 10)."""

    scenario: Path = Path("scenarios/statutory_right.toml")
    years: float = 5.0
    repeats: int = 3
    baseline: bool = True
    replications: int | None = None
    workers: int | None = None
    executor: str = "processes"
    plan: bool = False


def bench(options: BenchOptions) -> Outcome:
    """Run the benchmark the options choose; its report is the one line group returned."""
    o = options
    if o.plan:
        text = run_plan_bench(o.scenario, o.years, o.replications or 10, o.workers, o.repeats)
    elif o.replications:
        text = run_experiment_bench(o.scenario, o.years, o.replications, o.executor,
                                    o.workers, o.repeats)
    else:
        text = run(o.scenario, o.years, o.repeats, o.baseline)
    return Outcome(lines=(text,))
