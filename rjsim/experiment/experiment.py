"""Experiments: many replications of one scenario, with confidence intervals.

Tasks (replication, area) run on any executor; finished tasks are cached atomically and reduced
replication by replication *in order*, so results are bit-identical whatever the executor, the
number of workers or the order tasks finish in, and whether some came from the cache. Memory
stays flat as replications grow: a replication's digests are dropped once it is reduced to its
KPI rows; monthly area tables are kept as running means.

With a target precision the number of replications is chosen by the confidence-interval method
of Hoad, Robinson and Davies (2010): the smallest n at which every key KPI's 95% half-width is
within the target share of its mean, and stays so for ``look_ahead`` more replications.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from rjsim.core import stats
from rjsim.core.errors import RjsimError
from rjsim.experiment import runner
from rjsim.experiment.cache import TaskCache
from rjsim.experiment.executors import ExecutorSettings, TaskFailure, run_tasks
from rjsim.experiment.runner import AreaDigest, TaskPlan
from rjsim.model.area import simulate_area
from rjsim.scenario import io as scenario_io
from rjsim.scenario.spec import Scenario

log = logging.getLogger(__name__)

#: KPIs whose precision decides the number of replications (national and per area).
KEY_KPIS = ("unmet_demand_rate", "wait_alloc_days_mean")
PER_REPLICATION = ("national_summary", "area_summary", "group_summary", "national_month",
                   "capacity_metrics", "rolling_metrics")
MEANS = ("area_month_group", "area_month")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExperimentSettings:
    """How to run an experiment (the scenario says what to run)."""

    replications: int | None = None  # None: the scenario's run.replications
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    cache_dir: Path | None = None  # None: no task cache
    target_precision: float | None = None
    max_replications: int = 200
    initial_replications: int = 5
    look_ahead: int = 5
    progress: Progress | None = None
    on_records: Callable[[pd.DataFrame], None] | None = None  # raw records, task by task
    model: runner.AreaModel = simulate_area  # what simulates each (replication, area) task


class ExperimentFailed(RjsimError):
    """Some tasks failed twice; every finished task was kept in the cache."""

    def __init__(self, failures: list[TaskFailure]) -> None:
        self.failures = failures
        lines = [f"{len(failures)} task(s) failed twice (finished tasks are cached; run the "
                 "same command again to retry only these):"] + [f"  - {f}" for f in failures]
        super().__init__("\n".join(lines))


@dataclass
class Experiment:
    """An experiment's results as tidy pandas DataFrames."""

    scenario: Scenario
    plan: TaskPlan
    replications: int
    per_replication: dict[str, pd.DataFrame]  # KPI rows with a 'replication' column
    summary: dict[str, pd.DataFrame]  # 'national', 'area', 'group': mean, sd, n and 95% CI
    means: dict[str, pd.DataFrame]  # monthly area tables averaged over replications
    stop_reason: str
    precision: pd.DataFrame | None = None
    tasks_run: int = 0
    tasks_cached: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_referrals(self) -> int:
        return int(self.per_replication["national_summary"]["referrals"].sum())


class _Reducer:
    """Collects digests and reduces complete replications in order."""

    def __init__(self, plan: TaskPlan) -> None:
        self.plan = plan
        self.codes = [a.code for a in plan.areas]
        self.pending: dict[int, dict[str, AreaDigest]] = {}
        self.next_rep = 0
        self.rows: dict[str, list[pd.DataFrame]] = {k: [] for k in PER_REPLICATION}
        self.sums: dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}

    def add(self, d: AreaDigest) -> None:
        self.pending.setdefault(d.replication, {})[d.area] = d
        while len(self.pending.get(self.next_rep, {})) == len(self.codes):
            self._reduce(self.pending.pop(self.next_rep))
            self.next_rep += 1

    def _reduce(self, digests: dict[str, AreaDigest]) -> None:
        rep = self.next_rep
        built = runner.replication_tables(self.plan, [digests[c] for c in self.codes])
        for name in PER_REPLICATION:
            self.rows[name].append(built[name].assign(replication=rep))
        for name in MEANS:
            self._accumulate(name, built[name])

    def _accumulate(self, name: str, df: pd.DataFrame) -> None:
        num = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
               and c not in ("period",) and df[c].dtype != bool]
        values = df[num].astype(float)
        if name not in self.sums:
            self.sums[name] = (df.drop(columns=num), values.fillna(0.0),
                               values.notna().astype(float))
        else:
            keys, total, count = self.sums[name]
            self.sums[name] = (keys, total + values.fillna(0.0), count + values.notna())

    def per_replication(self, n: int) -> dict[str, pd.DataFrame]:
        out = {}
        for name in PER_REPLICATION:
            df = pd.concat(self.rows[name][:n], ignore_index=True)
            out[name] = df[["replication", *[c for c in df.columns if c != "replication"]]]
        return out

    def means(self) -> dict[str, pd.DataFrame]:
        out = {}
        for name, (keys, total, count) in self.sums.items():
            mean = total / count.where(count > 0)
            cols = list(keys.columns) + list(mean.columns)
            out[name] = pd.concat([keys, mean], axis=1)[cols]
        return out


def _key_kpi_matrix(per_rep: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Per key KPI label: values by replication (rows in replication order)."""
    out = {}
    national = per_rep["national_summary"].sort_values("replication")
    area = per_rep["area_summary"]
    for kpi in KEY_KPIS:
        out[f"national {kpi}"] = national[kpi].to_numpy(dtype=float)
        wide = area.pivot(index="replication", columns="area", values=kpi)
        for code in wide.columns:
            out[f"{code} {kpi}"] = wide[code].to_numpy(dtype=float)
    return out


def precision_table(per_rep: dict[str, pd.DataFrame], n: int, target: float) -> pd.DataFrame:
    """Relative half-width of each key KPI over the first ``n`` replications."""
    rows = []
    for label, values in _key_kpi_matrix(per_rep).items():
        iv = stats.t_interval(values[:n])
        estimable = iv.n >= 2 and np.isfinite(iv.relative_half_width)
        rows.append((label, iv.mean, iv.half_width, iv.relative_half_width, iv.n,
                     bool(estimable and iv.relative_half_width <= target)
                     if iv.n >= 2 else False,
                     "not estimable" if iv.n < 2 else "",
                     stats.replications_for_precision(iv, target)))
    return pd.DataFrame(rows, columns=["kpi", "mean", "half_width", "relative_half_width",
                                       "n", "met", "note", "replications_needed"])


def precise_by_n(per_rep: dict[str, pd.DataFrame], target: float) -> np.ndarray:
    """``out[n]``: whether every estimable key KPI meets ``target`` over the first n
    replications (vectorised over n with cumulative sums; NaN values are skipped)."""
    series = np.array(list(_key_kpi_matrix(per_rep).values()))  # (kpis, reps)
    return _all_met(series, target)


def _all_met(series: np.ndarray, target: float) -> np.ndarray:
    ok = ~np.isnan(series)
    x = np.where(ok, series, 0.0)
    n = np.cumsum(ok, axis=1)
    mean = np.cumsum(x, axis=1) / np.maximum(n, 1)
    ss = np.cumsum(x * x, axis=1) - n * mean**2
    sd = np.sqrt(np.maximum(ss, 0.0) / np.maximum(n - 1, 1))
    t = stats.t_quantile(np.maximum(n - 1, 1))
    half = t * sd / np.sqrt(np.maximum(n, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(half <= 1e-12 * np.abs(mean), 0.0, half / np.abs(mean))
    met = (rel <= target) | (n < 2)  # too few values: not judged (named in the table)
    judged_any = (n >= 2).any(axis=0)
    return np.concatenate([[False], met.all(axis=0) & judged_any])


def _look_ahead(n: int, k: int) -> int:
    """Hoad, Robinson and Davies' f(kLimit, n): kLimit for n <= 100, else kLimit * n / 100."""
    return k if n <= 100 else (k * n) // 100


class _Runner:
    def __init__(self, scenario: Scenario, settings: ExperimentSettings) -> None:
        self.settings = settings
        self.plan = runner.task_plan(scenario, model=settings.model)
        fp = scenario_io.fingerprint(scenario, self.plan.table.digest)
        if settings.model is not simulate_area:  # another model: its own cache entries
            name = getattr(settings.model, "__qualname__", type(settings.model).__qualname__)
            fp += f"/{settings.model.__module__}.{name}"
        self.cache = TaskCache(settings.cache_dir, fp) if settings.cache_dir else None
        self.reducer = _Reducer(self.plan)
        self.done = self.total = self.tasks_run = self.tasks_cached = 0

    def run_reps(self, reps: range) -> None:
        tasks = [(r, a.code) for r in reps for a in self.plan.areas]
        self.total += len(tasks)
        todo = []
        for rep, code in tasks:
            need = self.settings.on_records is not None
            hit = self.cache.get(rep, code, need_records=need) if self.cache else None
            if hit is None:
                todo.append((rep, code))
            else:
                self.tasks_cached += 1
                self._done(hit, cached=True)
        executor = replace(self.settings.executor,
                           with_records=self.settings.on_records is not None)
        failures = run_tasks(self.plan, todo, executor, self._done)
        if failures:
            raise ExperimentFailed(failures)

    def _done(self, d: AreaDigest, *, cached: bool = False) -> None:
        if self.cache is not None and not cached:
            self.cache.put(d)
        if d.records is not None and self.settings.on_records is not None:
            self.settings.on_records(d.records)
            d = replace(d, records=None)  # written out; memory stays flat
        self.tasks_run += 0 if cached else 1
        self.done += 1
        if self.settings.progress is not None:
            self.settings.progress(self.done, self.total)
        self.reducer.add(d)


def run_experiment(scenario: Scenario, settings: ExperimentSettings | None = None
                   ) -> Experiment:
    """Run replications of ``scenario`` and summarise them with 95% confidence intervals."""
    settings = settings or ExperimentSettings()
    t0 = time.perf_counter()
    r = _Runner(scenario, settings)
    if settings.target_precision is None:
        n = settings.replications or scenario.run.replications
        r.run_reps(range(n))
        reason, precision = f"{n} replication(s) as requested", None
    else:
        n, reason = _sequential(r, settings)
        per_rep = r.reducer.per_replication(r.reducer.next_rep)
        precision = precision_table(per_rep, n, settings.target_precision)
    per_rep = r.reducer.per_replication(n)
    summary = {
        "national": stats.summarise(per_rep["national_summary"], []),
        "area": stats.summarise(per_rep["area_summary"], ["area"]),
        "group": stats.summarise(per_rep["group_summary"], ["group"]),
    }
    return Experiment(scenario, r.plan, n, per_rep, summary, r.reducer.means(), reason,
                      precision, r.tasks_run, r.tasks_cached,
                      {"total_s": time.perf_counter() - t0})


def _sequential(r: _Runner, s: ExperimentSettings) -> tuple[int, str]:
    """Run replications in batches until the precision rule is met or the maximum reached."""
    target = s.target_precision or 0.0
    batch = max(s.executor.workers or 1, 1)
    r.run_reps(range(min(max(s.initial_replications, 2), s.max_replications)))
    while True:
        have = r.reducer.next_rep
        met = precise_by_n(r.reducer.per_replication(have), target)
        for n in range(2, have + 1):
            ahead = _look_ahead(n, s.look_ahead)
            if n + ahead > have:
                break
            if met[n:n + ahead + 1].all():
                return n + ahead, (f"precision {target:.0%} reached at {n} replications and "
                                   f"held for {ahead} more")
        if have >= s.max_replications:
            return have, f"maximum of {s.max_replications} replications reached"
        r.run_reps(range(have, min(have + max(batch, s.look_ahead), s.max_replications)))

