"""Experiments: identical results on every executor, resuming from the task cache, and the
sequential rule that chooses the number of replications.

Functional tests run a three-area, one-year scenario (about 30 ms a task); the replication
rule is also checked on synthetic KPI tables whose relative half-widths are worked by hand.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import rjsim
from rjsim.data.areas import Area
from rjsim.experiment import executors, experiment, runner
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import (
    KEY_KPIS,
    Experiment,
    ExperimentFailed,
    ExperimentSettings,
    run_experiment,
)
from rjsim.experiment.runner import AreaDigest, TaskPlan
from rjsim.model.area import AreaRecords, simulate_area
from rjsim.model.staffing import Staffing
from rjsim.model.workforce import Workforce
from rjsim.scenario.spec import Scenario

SMALL: dict[str, Any] = {"name": "three-areas", "run": {"years": 1},
         "areas": {"include": ["Cumbria", "Gwent", "Dyfed-Powys"]},
         # enough referrals for the precision rule to stop (not the calibrated 0.0174)
         "demand": {"informed": 0.3}}
GWENT = "W15000002"


def small(**run: Any) -> Scenario:
    return rjsim.scenario_from_dict({**SMALL, "run": {**SMALL["run"], **run}})


def local(replications: int, **more: Any) -> ExperimentSettings:
    return ExperimentSettings(replications=replications,
                              executor=ExecutorSettings("local", 1), **more)


def assert_same_results(a: Experiment, b: Experiment) -> None:
    """Every table of two experiments equal to the last bit."""
    assert a.replications == b.replications
    for attr in ("per_replication", "summary", "means"):
        ta, tb = getattr(a, attr), getattr(b, attr)
        assert ta.keys() == tb.keys()
        for name in ta:
            pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True,
                                          obj=f"{attr}[{name}]")


@pytest.fixture(scope="module")
def reference() -> Experiment:
    """Four replications of the small scenario, in this process, without a cache."""
    return run_experiment(small(), local(4))


# --- executors --------------------------------------------------------------------------------

def test_reference_shape(reference: Experiment) -> None:
    national = reference.per_replication["national_summary"]
    assert list(national["replication"]) == [0, 1, 2, 3]
    area = reference.per_replication["area_summary"]
    assert len(area) == 12 and set(area["area"]) == {"E23000002", GWENT, "W15000004"}
    assert reference.tasks_run == 12 and reference.tasks_cached == 0
    # replications differ (each has its own streams) ...
    assert national["referrals"].nunique() > 1
    # ... and the summary's n is the number of replications
    assert (reference.summary["national"]["n"] == 4).all()


@pytest.mark.parametrize("executor", [ExecutorSettings("processes", 2),
                                      ExecutorSettings("dask", 2)],
                         ids=["processes-2", "dask-2"])
def test_identical_results_on_every_executor(reference: Experiment,
                                             executor: ExecutorSettings) -> None:
    if executor.kind == "dask":
        pytest.importorskip("distributed")
    e = run_experiment(small(), ExperimentSettings(replications=4, executor=executor))
    assert e.tasks_run == 12
    assert_same_results(reference, e)


def test_dask_tasks_are_batches_of_whole_replications() -> None:
    todo = [(r, a) for r in range(30) for a in ("A", "B", "C")]
    batches = executors.dask_batches(todo, 2)
    assert len(batches) == 30 and all(len({r for r, _ in b}) == 1 for b in batches)
    assert [t for b in batches for t in b] == todo  # every task once, in order
    few = executors.dask_batches(todo[:6], 2)  # two replications: halved to feed 2 workers
    assert len(few) == 4 and sorted(t for b in few for t in b) == todo[:6]
    assert executors.dask_batches(todo[:1], 4) == [[todo[0]]]


def test_a_batch_keeps_its_other_tasks_when_one_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Dask batch retries a failing task once and returns its error beside the others'
    digests, so one area's failure costs only that area."""
    plan = runner.task_plan(small())
    real, calls = executors.run_task, []

    def broken(plan: TaskPlan, rep: int, area: str, *, with_records: bool = False) -> AreaDigest:
        calls.append((rep, area))
        if area == GWENT:
            raise RuntimeError("simulated crash")
        return real(plan, rep, area, with_records=with_records)

    monkeypatch.setattr(executors, "run_task", broken)
    batch = [(1, a.code) for a in plan.areas]
    out = executors.run_batch(plan, batch, False)
    assert [t for t, _ in out] == batch and calls.count((1, GWENT)) == 2
    for (rep, area), result in out:
        if area == GWENT:
            assert result == "RuntimeError: simulated crash"
        else:
            assert isinstance(result, AreaDigest) and (result.replication, result.area) == (
                rep, area)


# --- the task cache and resuming --------------------------------------------------------------

def _cache_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.rjb"))


def test_crash_part_way_then_resume_gives_identical_results(
        reference: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = executors.run_task
    attempts = []

    def broken(plan: TaskPlan, rep: int, area: str, *, with_records: bool = False) -> AreaDigest:
        if (rep, area) == (2, GWENT):
            attempts.append((rep, area))
            raise RuntimeError("simulated crash")
        return real(plan, rep, area, with_records=with_records)

    monkeypatch.setattr(executors, "run_task", broken)
    with pytest.raises(ExperimentFailed) as err:
        run_experiment(small(), local(4, cache_dir=tmp_path))
    assert len(attempts) == 2  # tried, retried once, then given up
    message = str(err.value)
    assert "scenario 'three-areas'" in message and "replication 2" in message
    assert f"area {GWENT}" in message and "simulated crash" in message
    assert [(f.replication, f.area) for f in err.value.failures] == [(2, GWENT)]
    assert len(_cache_files(tmp_path)) == 11  # every other task finished and was kept

    monkeypatch.setattr(executors, "run_task", real)
    resumed = run_experiment(small(), local(4, cache_dir=tmp_path))
    assert resumed.tasks_cached == 11 and resumed.tasks_run == 1
    assert_same_results(reference, resumed)
    assert len(_cache_files(tmp_path)) == 12
    again = run_experiment(small(), local(4, cache_dir=tmp_path))  # all from the cache
    assert again.tasks_cached == 12 and again.tasks_run == 0
    assert_same_results(reference, again)


def test_a_task_that_fails_once_is_retried(reference: Experiment,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real = executors.run_task
    failed: list[tuple[int, str]] = []

    def flaky(plan: TaskPlan, rep: int, area: str, with_records: bool = False) -> AreaDigest:
        if rep == 1 and (rep, area) not in failed:
            failed.append((rep, area))
            raise OSError("transient")
        return real(plan, rep, area, with_records=with_records)

    monkeypatch.setattr(executors, "run_task", flaky)
    e = run_experiment(small(), local(4))
    assert len(failed) == 3  # each area of replication 1 failed once
    assert e.tasks_run == 12
    assert_same_results(reference, e)


def test_a_changed_scenario_does_not_reuse_the_cache(tmp_path: Path) -> None:
    first = run_experiment(small(), local(2, cache_dir=tmp_path))
    assert first.tasks_run == 6 and len(_cache_files(tmp_path)) == 6
    assert run_experiment(small(), local(2, cache_dir=tmp_path)).tasks_cached == 6
    other_seed = run_experiment(small(seed=99), local(2, cache_dir=tmp_path))
    assert other_seed.tasks_cached == 0 and other_seed.tasks_run == 6
    longer = run_experiment(small(years=1.5), local(2, cache_dir=tmp_path))
    assert longer.tasks_cached == 0
    assert not first.per_replication["national_summary"]["referrals"].equals(
        other_seed.per_replication["national_summary"]["referrals"])


def test_an_unreadable_cache_entry_is_recomputed(reference: Experiment, tmp_path: Path) -> None:
    run_experiment(small(), local(4, cache_dir=tmp_path))
    victim = _cache_files(tmp_path)[5]
    victim.write_bytes(b"not a cache entry")  # e.g. a disk error; never a half-written rename
    e = run_experiment(small(), local(4, cache_dir=tmp_path))
    assert e.tasks_cached == 11 and e.tasks_run == 1
    assert_same_results(reference, e)


class _Planted:
    """Unpickling this creates the file named by ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "code from a cache file ran"))


def test_a_planted_pickle_in_the_cache_is_never_executed(
        reference: Experiment, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import pickle
    import zipfile

    cache, marker = tmp_path / "cache", tmp_path / "pwned"
    run_experiment(small(), local(4, cache_dir=cache))
    entries = _cache_files(cache)
    payload = pickle.dumps(_Planted(marker))
    pickle.loads(payload)  # the payload works: loading it with pickle creates the marker
    assert marker.exists()
    marker.unlink()
    entries[0].write_bytes(payload)  # a bare pickle under an entry's name
    with zipfile.ZipFile(entries[1]) as z:  # pickles as the arrays of a valid-looking entry
        members = {n: payload if n.endswith(".npy") else z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(entries[1], "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    for old in entries[2:4]:  # and the older pickle layout beside the entries
        old.with_suffix(".pkl").write_bytes(payload)
    with caplog.at_level("WARNING", logger="rjsim.experiment.cache"):
        e = run_experiment(small(), local(4, cache_dir=cache))
    assert not marker.exists()
    assert e.tasks_run == 2 and e.tasks_cached == 10  # both bad entries recomputed
    assert sum("discarding invalid cache entry" in r.message for r in caplog.records) == 2
    assert_same_results(reference, e)


def test_a_foreign_cache_entry_is_discarded(reference: Experiment, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    run_experiment(small(), local(4, cache_dir=tmp_path))
    first, second = _cache_files(tmp_path)[:2]
    second.write_bytes(first.read_bytes())  # another task's digest under this task's name
    with caplog.at_level("WARNING", logger="rjsim.experiment.cache"):
        e = run_experiment(small(), local(4, cache_dir=tmp_path))
    assert e.tasks_run == 1 and e.tasks_cached == 11
    assert any("not 0 of" in r.message or "holds replication" in r.message
               for r in caplog.records)
    assert_same_results(reference, e)


# --- choosing the number of replications (Hoad, Robinson and Davies 2010) ---------------------

def synthetic(national_wait: list[float], area_wait: list[float] | None = None
              ) -> dict[str, pd.DataFrame]:
    """Per-replication tables shaped like ``Experiment.per_replication``: a constant unmet
    demand rate (zero half-width) and the given mean waits, nationally and for area 'A'."""
    area_wait = national_wait if area_wait is None else area_wait
    n = len(national_wait)
    national = pd.DataFrame({"replication": range(n), "unmet_demand_rate": 0.5,
                             "wait_alloc_days_mean": national_wait})
    area = pd.DataFrame({"replication": range(n), "area": "A", "unmet_demand_rate": 0.5,
                         "wait_alloc_days_mean": area_wait})
    return {"national_summary": national, "area_summary": area}


#: Waits 10, 30, then 20s: the mean stays 20 and the sum of squares 200, so the relative
#: half-width at n is t(0.975, n-1) * sqrt(200 / (n-1)) / sqrt(n) / 20:
#:   n=6: 2.5706 * sqrt(40) / sqrt(6) / 20     = 2.5706 * 6.3246 / 2.4495 / 20 = 0.3319
#:   n=7: 2.4469 * sqrt(33.333) / sqrt(7) / 20 = 2.4469 * 5.7735 / 2.6458 / 20 = 0.2670
#: so with a target of 0.3 the first precise n is 7, and it only improves after that.
STEADY = [10.0, 30.0] + [20.0] * 30
#: The same with 45 as the ninth value: at n=9 the sum is 205, mean 22.778, sum of squares
#: 163.27 + 52.16 + 6 x 7.716 + 493.83 = 755.56, sd sqrt(755.56 / 8) = 9.718, half-width
#: 2.3060 * 9.718 / 3 = 7.470, relative 0.328 > 0.3: precision met at 7 and 8 is lost at 9;
#: it is back at n=10 (0.2926) and stays (0.2644, 0.2412, ...).
OUTLIER = STEADY[:8] + [45.0] + [20.0] * 23


def test_precision_table_by_hand() -> None:
    per_rep = synthetic(STEADY)
    table = experiment.precision_table(per_rep, 6, 0.3)
    assert list(table.columns) == ["kpi", "mean", "half_width", "relative_half_width", "n",
                                   "met", "note", "replications_needed"]
    assert set(table["kpi"]) == {f"{where} {k}" for where in ("national", "A")
                                 for k in KEY_KPIS}
    wait = table.set_index("kpi").loc["national wait_alloc_days_mean"]
    assert wait["mean"] == pytest.approx(20.0)
    assert wait["relative_half_width"] == pytest.approx(0.3319, abs=1e-4)
    assert not wait["met"] and wait["n"] == 6
    # sd = 0.3319 * 20 * sqrt(6) / 2.5706 = 6.325; room 0.3 * 20 = 6: at 8 replications
    # 2.3646 * 6.325 / sqrt(8) = 5.288 <= 6, at 7 replications 2.4469 * 6.325 / sqrt(7) = 5.850
    # <= 6 too, at 6 it is 6.638 > 6: 7 replications estimated
    assert wait["replications_needed"] == 7
    rate = table.set_index("kpi").loc["national unmet_demand_rate"]
    assert rate["relative_half_width"] == 0.0 and rate["met"]
    seven = experiment.precision_table(per_rep, 7, 0.3).set_index("kpi")
    assert seven.loc["A wait_alloc_days_mean", "relative_half_width"] == pytest.approx(
        0.2670, abs=1e-4)
    assert seven["met"].all()


def _precise_from_table(per_rep: dict[str, pd.DataFrame], n: int, target: float) -> bool:
    """The documented rule read off the precision table: every KPI that can be judged (two
    or more values) meets the target, and at least one can be judged."""
    table = experiment.precision_table(per_rep, n, target)
    judged = table[table["note"] == ""]
    return bool(len(judged)) and bool(judged["met"].all())


def test_precise_first_met_at_the_hand_worked_n() -> None:
    per_rep = synthetic(STEADY)
    met = experiment.precise_by_n(per_rep, 0.3)
    assert [n for n in range(1, 15) if met[n]] == list(range(7, 15))
    # one replication cannot be judged: never "precise"
    one = experiment.precision_table(per_rep, 1, 0.3)
    assert (one["note"] == "not estimable").all() and not one["met"].any()
    assert not met[0] and not met[1]
    # an area KPI that is not yet precise holds the whole experiment back
    mixed = experiment.precise_by_n(synthetic([20.0, 20.1] * 16, OUTLIER), 0.3)
    assert mixed[8] and not mixed[9] and mixed[10]


def test_vectorised_rule_agrees_with_the_precision_table() -> None:
    rng = np.random.default_rng(7)
    wait = list(60 + rng.normal(0, 12, 30))
    wait[4] = np.nan  # e.g. no allocations in a replication: skipped, not zero
    rate = list(0.4 + rng.normal(0, 0.05, 30))
    per_rep = synthetic(wait)
    per_rep["national_summary"]["unmet_demand_rate"] = rate
    per_rep["area_summary"]["unmet_demand_rate"] = rate[::-1]
    for target in (0.05, 0.08, 0.12, 0.3):
        met = experiment.precise_by_n(per_rep, target)
        expected = [_precise_from_table(per_rep, n, target) for n in range(1, 31)]
        assert list(met[1:31]) == expected, target
    assert any(expected) and not all(expected)  # the threshold is crossed in the data


def test_look_ahead_rule() -> None:
    # f(kLimit, n) = kLimit for n <= 100, kLimit * n / 100 beyond
    assert experiment._look_ahead(2, 5) == 5
    assert experiment._look_ahead(100, 5) == 5
    assert experiment._look_ahead(200, 5) == 10
    assert experiment._look_ahead(1000, 5) == 50
    assert experiment._look_ahead(50, 0) == 0


class FakeRunner:
    """Stands in for the experiment's runner: 'runs' replications of a synthetic table."""

    def __init__(self, per_rep: dict[str, pd.DataFrame]) -> None:
        self.tables = per_rep
        self.reducer = self
        self.next_rep = 0
        self.calls: list[range] = []

    def run_reps(self, reps: range) -> None:
        assert reps.start == self.next_rep  # replications run in order, none skipped
        self.calls.append(reps)
        self.next_rep = reps.stop

    def per_replication(self, n: int) -> dict[str, pd.DataFrame]:
        return {k: v[v["replication"] < n] for k, v in self.tables.items()}


def sequential(per_rep: dict[str, pd.DataFrame], **settings: Any) -> tuple[int, str, FakeRunner]:
    fake = FakeRunner(per_rep)
    s = ExperimentSettings(target_precision=0.3, **settings)
    n, reason = experiment._sequential(fake, s)  # type: ignore[arg-type]
    return n, reason, fake


def test_sequential_stops_at_first_precise_n_plus_look_ahead() -> None:
    n, reason, fake = sequential(synthetic(STEADY))
    assert n == 7 + 5  # precise from 7, held for 5 more
    assert "reached at 7 replications and held for 5 more" in reason
    assert fake.next_rep >= 12
    assert fake.calls[0] == range(0, 5)  # initial_replications


def test_sequential_look_ahead_restarts_after_precision_is_lost() -> None:
    n, reason, _ = sequential(synthetic(STEADY, OUTLIER))
    # area A: precise at 7 and 8, lost at 9, back from 10: 10 + 5
    assert n == 15 and "reached at 10 replications" in reason
    n0, _, _ = sequential(synthetic(STEADY, OUTLIER), look_ahead=0)
    assert n0 == 7  # without a look-ahead the first precise n is taken


def test_sequential_stops_at_the_maximum() -> None:
    n, reason, fake = sequential(synthetic(STEADY), max_replications=9)
    assert n == 9 and "maximum of 9 replications" in reason
    assert fake.next_rep == 9


def _first_stable(per_rep: dict[str, pd.DataFrame], have: int, target: float, ahead: int
                  ) -> int | None:
    """An independent reading of the rule: the first n whose relative half-widths (all key
    KPIs, national and per area, via scipy) are within target at n, ..., n + ahead."""
    series = [per_rep["national_summary"].sort_values("replication")[k].to_numpy()
              for k in KEY_KPIS]
    area = per_rep["area_summary"]
    for k in KEY_KPIS:
        wide = area.pivot(index="replication", columns="area", values=k)
        series += [wide[c].to_numpy() for c in wide.columns]

    def ok(m: int) -> bool:
        for values in series:
            x = values[:m]
            half = sps.t.ppf(0.975, m - 1) * np.std(x, ddof=1) / np.sqrt(m)
            if half > target * abs(np.mean(x)):
                return False
        return True
    for n in range(2, have - ahead + 1):
        if all(ok(m) for m in range(n, n + ahead + 1)):
            return n
    return None


def test_target_precision_end_to_end(reference: Experiment) -> None:
    target = 0.10
    runs = [run_experiment(small(), ExperimentSettings(executor=executor,
                                                       target_precision=target,
                                                       max_replications=40))
            for executor in (ExecutorSettings("local", 1), ExecutorSettings("processes", 2))]
    e = runs[0]
    assert "reached at" in e.stop_reason, e.stop_reason
    first = _first_stable(e.per_replication, e.replications, target, 5)
    assert first is not None and e.replications == first + 5
    assert first > 2  # the rule had something to do
    assert list(e.per_replication["national_summary"]["replication"]) == list(
        range(e.replications))
    assert e.precision is not None and e.precision["met"].all()
    assert (e.precision["n"] == e.replications).all()
    assert (e.summary["national"]["n"] == e.replications).all()
    # the same stopping point and tables with two worker processes (batches of another size)
    assert runs[1].replications == e.replications and runs[1].stop_reason == e.stop_reason
    assert_same_results(e, runs[1])
    # and the replications are those of a plain run: the rule only decides how many
    pd.testing.assert_frame_equal(
        e.per_replication["area_summary"].iloc[:12],
        reference.per_replication["area_summary"], check_exact=True)


# ---- another model behind the runner's AreaModel protocol -----------------------------------


def unstaffed(scenario: Scenario, area: Area, staffing: Staffing, replication: int,
              wf: Workforce | None = None) -> AreaRecords:
    """Another model (an AreaModel): rjsim's own with no facilitators at all."""
    none = dataclasses.replace(staffing, general_fte=0.0, specialist_fte=0.0)
    return simulate_area(scenario, area, none, replication, None)


class Counting:
    """An AreaModel that counts its calls and delegates to rjsim's own model."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, scenario: Scenario, area: Area, staffing: Staffing, replication: int,
                 wf: Workforce | None = None) -> AreaRecords:
        self.calls.append((area.code, replication))
        return simulate_area(scenario, area, staffing, replication, wf)


def test_the_runner_drives_any_area_model(reference: Experiment, tmp_path: Path) -> None:
    counting = Counting()
    same = run_experiment(small(), local(4, model=counting))
    assert sorted(counting.calls) == sorted((a.code, r) for r in range(4)
                                            for a in reference.plan.areas)
    assert_same_results(reference, same)
    run_experiment(small(), local(4, cache_dir=tmp_path))
    other = run_experiment(small(), local(4, cache_dir=tmp_path, model=unstaffed))
    assert other.tasks_cached == 0 and other.tasks_run == 12  # not rjsim's model's results
    mine, theirs = (e.per_replication["national_summary"] for e in (reference, other))
    # the same victims (named streams), none of them served
    assert list(theirs["referrals"]) == list(mine["referrals"])
    assert (mine["allocations"] > 0).all() and (theirs["allocations"] == 0).all()
    assert (theirs["unmet_demand_rate"] > mine["unmet_demand_rate"]).all()
