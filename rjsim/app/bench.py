"""The speed benchmarks: a national replication against a bare, idiomatic SimPy M/M/c model.

``rjsim bench`` (or ``make bench``) times, *interleaved* (A B A B ...), one national replication
of the scenario (default ``statutory_right``, 5 simulated years, every table built) and a
textbook SimPy M/M/c model serving the same number of customers (one process per customer,
``simpy.Resource``). Each timed run is a fresh worker process of the same kind, pinned to the
same CPU core where the OS allows, so a change of load on the machine hits both sides alike.
Each pair gives a ratio (rjsim's cases per second / the baseline's customers per second); the
benchmark prints the median ratio with its min-max, by wall time and by CPU time, and rjsim's
peak memory (maximum resident set size of its worker, interpreter and libraries included).
Targets (issue 13): ratio >= 4 (run and every table), peak memory <= 1 GiB.
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
TARGET_RATIO = 4.0
TARGET_PEAK_MIB = 1024.0


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
                 utilisation: float = BASELINE_UTILISATION, seed: int = 1) -> dict[str, float]:
    """Wall and CPU seconds for an idiomatic SimPy M/M/c model to serve ``customers``."""
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
    w0, c0 = time.perf_counter(), time.process_time()
    env.run()
    return {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0,
            "customers": customers}


def national_replication(scenario_path: str, years: float) -> dict[str, Any]:
    """Wall and CPU seconds of one national replication, every table built (the scenario is
    read before the clock starts); referrals simulated and peak memory."""
    from rjsim.experiment import runner
    from rjsim.scenario import io as scenario_io

    scenario = scenario_io.load(Path(scenario_path), {"run": {"years": years}}, "benchmark")
    w0, c0 = time.perf_counter(), time.process_time()
    result = runner.run(scenario)
    return {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0,
            "scenario": scenario.name, "areas": len(result.plan.areas),
            "referrals": result.n_referrals, "simulate_s": result.timings["simulate_s"],
            "tables_s": result.timings["tables_s"], "peak_mib": _peak_rss_mib()}


def _worker(kind: str, *args: str) -> dict[str, Any]:
    """Run one timed side in a fresh process pinned to one core; its measurements."""
    call = ("national_replication(sys.argv[2], float(sys.argv[3]))" if kind == "rjsim" else
            "mmc_baseline(int(sys.argv[2]), seed=int(sys.argv[3]))")
    code = ("import json, sys; from rjsim.app.bench import _pin_one_core, mmc_baseline, "
            f"national_replication; _pin_one_core(); print(json.dumps({call}))")
    out = subprocess.run([sys.executable, "-c", code, kind, *args], check=True,
                         capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _spread(values: list[float], fmt: str = ".2f") -> str:
    return (f"{statistics.median(values):{fmt}} (min {min(values):{fmt}}, "
            f"max {max(values):{fmt}})")


def run(scenario_path: Path, years: float, repeats: int, baseline: bool) -> str:
    """Run the interleaved benchmark and return the report text."""
    pinned = _pin_one_core()  # the workers inherit this process's core
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for i in range(repeats):
        ours.append(_worker("rjsim", str(scenario_path), f"{years:g}"))
        if baseline:
            theirs.append(_worker("baseline", str(ours[0]["referrals"]), str(i + 1)))
    r = ours[0]
    n = r["referrals"]
    walls, cpus = [o["wall_s"] for o in ours], [o["cpu_s"] for o in ours]
    peak = max(o["peak_mib"] for o in ours)
    lines = [
        f"rjsim benchmark: scenario '{r['scenario']}', {r['areas']} areas, {years:g} years, "
        f"1 replication with every table, {repeats} interleaved repeat(s) in fresh processes; "
        "median (min, max)",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {pinned}",
        f"referrals simulated          {n:,}",
        f"rjsim wall time (s)          {_spread(walls)}",
        f"rjsim CPU time (s)           {_spread(cpus)}   (simulation "
        f"{statistics.median(o['simulate_s'] for o in ours):.2f} s wall, tables "
        f"{statistics.median(o['tables_s'] for o in ours):.2f} s wall)",
        f"rjsim cases per second       {n / statistics.median(walls):,.0f} (wall), "
        f"{n / statistics.median(cpus):,.0f} (CPU)",
        f"peak memory (max RSS)        {peak:.0f} MiB",
    ]
    verdicts = [f"peak memory <= {TARGET_PEAK_MIB:.0f} MiB "
                f"{'met' if peak <= TARGET_PEAK_MIB else 'MISSED'}"]
    if baseline:
        wall_ratio = [b["wall_s"] / o["wall_s"] for o, b in zip(ours, theirs, strict=True)]
        cpu_ratio = [b["cpu_s"] / o["cpu_s"] for o, b in zip(ours, theirs, strict=True)]
        lines += [
            f"bare SimPy M/M/c wall (s)    {_spread([b['wall_s'] for b in theirs])}   (c="
            f"{BASELINE_SERVERS}, utilisation {BASELINE_UTILISATION}, same {n:,} customers)",
            f"bare SimPy M/M/c CPU (s)     {_spread([b['cpu_s'] for b in theirs])}",
            f"ratio rjsim / SimPy, wall    {_spread(wall_ratio)}x   (per interleaved pair)",
            f"ratio rjsim / SimPy, CPU     {_spread(cpu_ratio)}x",
        ]
        ratio = statistics.median(cpu_ratio)
        verdicts.insert(0, f"ratio (CPU, median) >= {TARGET_RATIO:g} "
                        f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    return "\n".join([*lines, "targets: " + "; ".join(verdicts)])


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
    cpu0 = _cpu_with_workers()
    for _ in range(repeats):
        t0 = time.perf_counter()
        e = run_experiment(scenario, settings)  # no cache: every task is simulated
        walls.append(time.perf_counter() - t0)
    wall = statistics.median(walls)
    cpu = (_cpu_with_workers() - cpu0) / repeats
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
        f"CPU time (s)               {cpu:.1f} (this process and its workers, mean of the "
        f"repeats: {cpu / (workers or os.cpu_count() or 1):.1f} s of wall time on "
        "otherwise idle cores)",
        f"load average               {_load()}",
        f"peak memory of this process (max RSS) {_peak_rss_mib():.0f} MiB"])


def _cpu_with_workers() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    own, kids = (resource.getrusage(resource.RUSAGE_SELF),
                 resource.getrusage(resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_dask_bench(scenario_path: Path, years: float, replications: int, workers: int | None,
                   repeats: int) -> str:
    """Time the same experiment on local processes and on a local Dask cluster, interleaved
    (processes, Dask, processes, ...), and measure Dask's cost per task: the round trip of a
    task that does nothing and the bytes of one task's result."""
    from rjsim.experiment import executors
    from rjsim.experiment.executors import ExecutorSettings
    from rjsim.experiment.experiment import ExperimentSettings, run_experiment
    from rjsim.experiment.runner import task_plan
    from rjsim.scenario import io as scenario_io

    scenario = scenario_io.load(scenario_path, {"run": {"years": years}}, "benchmark")
    n_workers = workers or os.cpu_count() or 1
    walls: dict[str, list[float]] = {"processes": [], "dask": []}
    cpus: dict[str, list[float]] = {"processes": [], "dask": []}
    for _ in range(repeats):
        for kind, times in walls.items():
            settings = ExperimentSettings(replications=replications, executor=ExecutorSettings(
                kind, n_workers))  # type: ignore[arg-type]
            t0, c0 = time.perf_counter(), _cpu_with_workers()
            e = run_experiment(scenario, settings)
            times.append(time.perf_counter() - t0)
            cpus[kind].append(_cpu_with_workers() - c0)
    plan = task_plan(scenario)
    todo = [(r, a.code) for r in range(replications) for a in plan.areas]
    batches = executors.dask_batches(todo, n_workers)
    start, round_trip, result_bytes = _dask_costs(plan, batches[0], n_workers)
    ratio = [d / p for p, d in zip(walls["processes"], walls["dask"], strict=True)]
    lines = [
        f"rjsim Dask benchmark: scenario '{scenario.name}', {len(plan.areas)} areas, {years:g} "
        f"years, {replications} replications, {n_workers} workers; local processes and a local "
        f"Dask cluster interleaved, {repeats} repeat(s); median (min, max)",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average {_load()}",
        f"referrals simulated           {e.n_referrals:,}",
        f"processes wall (s)            {_spread(walls['processes'], '.1f')}   "
        f"({len(todo):,} tasks of one (replication, area))",
        f"Dask wall (s)                 {_spread(walls['dask'], '.1f')}   ({len(batches)} tasks: "
        f"batches of up to {max(len(b) for b in batches)} (replication, area) tasks)",
        f"ratio Dask / processes, wall  {_spread(ratio)}x (per interleaved pair; target <= 1.15)",
        f"CPU time (s), this process and its workers: processes "
        f"{_spread(cpus['processes'], '.1f')}, Dask {_spread(cpus['dask'], '.1f')}",
        f"Dask cluster start-up         {start:.1f} s (a new local cluster of {n_workers} "
        "worker processes, in each Dask run)",
        f"Dask cost per task            {round_trip * 1e3:.1f} ms of a worker's time (no-op "
        f"tasks; so {len(todo):,} one-area tasks would add about "
        f"{round_trip * len(todo) / n_workers:.1f} s, {len(batches)} batches "
        f"{round_trip * len(batches) / n_workers:.2f} s)",
        f"Dask result of one batch      {result_bytes / 2**20:.1f} MiB serialised "
        f"({result_bytes / len(batches[0]) / 2**10:,.0f} KiB per (replication, area) task)",
        f"target: Dask within 15% of processes "
        f"{'met' if statistics.median(ratio) <= 1.15 else 'MISSED'}"]
    return "\n".join(lines)


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _noop(i: int) -> int:
    return i


def _dask_costs(plan: Any, batch: list[tuple[int, str]], workers: int
                ) -> tuple[float, float, int]:
    """Seconds to start a local Dask cluster; a worker's seconds per no-op task through it
    (median of 5 rounds of 200); and the bytes Dask sends for the result of ``batch``
    (serialised here, never read back)."""
    from distributed.protocol.serialize import serialize

    from rjsim.experiment import executors
    from rjsim.experiment.executors import ExecutorSettings

    t0 = time.perf_counter()
    client, cluster = executors.dask_client(ExecutorSettings("dask", workers))
    start = time.perf_counter() - t0
    try:
        client.gather(client.map(_noop, range(50), pure=False))  # warm up
        rounds = []
        for _ in range(5):
            t0 = time.perf_counter()
            client.gather(client.map(_noop, range(200), pure=False))
            rounds.append((time.perf_counter() - t0) / 200)
    finally:
        client.close()
        cluster.close()
    _, frames = serialize(executors.run_batch(plan, batch, False))
    return (start, statistics.median(rounds) * workers,
            sum(memoryview(f).nbytes for f in frames))


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
    uncertainty: bool = False  # rjsim uncertainty: ``samples`` sets x ``replications``
    morris: bool = False  # Morris screening: ``trajectories``, the first ``points`` timed
    samples: int = 64
    trajectories: int = 10
    points: int | None = None
    scheduler: str | None = None
    dask_compare: bool = False  # with ``replications``: processes and Dask, interleaved


def bench(options: BenchOptions) -> Outcome:
    """Run the benchmark the options choose; its report is the one line group returned."""
    o = options
    if o.uncertainty or o.morris:
        from rjsim.app import bench_uncertainty as b
        text = (b.uncertainty_bench(o.scenario, o.years, o.samples, o.replications or 5,
                                    o.executor, o.workers, o.scheduler) if o.uncertainty
                else b.morris_bench(o.scenario, o.years, o.trajectories, o.points, o.executor,
                                    o.workers, o.scheduler))
    elif o.plan:
        text = run_plan_bench(o.scenario, o.years, o.replications or 10, o.workers, o.repeats)
    elif o.replications and o.dask_compare:
        text = run_dask_bench(o.scenario, o.years, o.replications, o.workers, o.repeats)
    elif o.replications:
        text = run_experiment_bench(o.scenario, o.years, o.replications, o.executor,
                                    o.workers, o.repeats)
    else:
        text = run(o.scenario, o.years, o.repeats, o.baseline)
    return Outcome(lines=(text,))
