"""Where tasks run: in this process, in local worker processes, or on a Dask cluster.

All executors run the same task function on (replication, area) pairs and hand each finished
digest to a callback, in whatever order tasks finish; the experiment reduces them in a fixed
order, so results are bit-identical across executors and worker counts. A task that raises is
retried once; if it fails again the failure is recorded (scenario, replication, area, error)
and the other tasks carry on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from rjsim.core.errors import RjsimError
from rjsim.experiment.runner import AreaDigest, Staffed, TaskPlan, run_task

log = logging.getLogger(__name__)

ExecutorKind = Literal["local", "processes", "dask"]
Task = tuple[int, str]  # (replication, area code)
StaffedTask = tuple[int, str, Staffed]  # (replication, area code, its staffing)
OnDone = Callable[[AreaDigest], None]


@dataclass(frozen=True)
class TaskFailure:
    """A task that failed twice."""

    scenario: str
    replication: int
    area: str
    error: str

    def __str__(self) -> str:
        return (f"scenario '{self.scenario}', replication {self.replication}, area "
                f"{self.area}: {self.error}")


@dataclass(frozen=True)
class ExecutorSettings:
    """How to run tasks. ``workers=None`` means all cores (local processes) or the
    cluster's workers (Dask)."""

    kind: ExecutorKind = "processes"
    workers: int | None = None
    scheduler: str | None = None
    with_records: bool = False  # tasks also return every referral (raw records)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_tasks(plan: TaskPlan, tasks: Iterable[Task], settings: ExecutorSettings,
              on_done: OnDone) -> list[TaskFailure]:
    """Run ``tasks`` and call ``on_done`` with each digest; return the tasks that failed."""
    todo = list(tasks)
    if not todo:
        return []
    workers = settings.workers or os.cpu_count() or 1
    if settings.kind == "dask":
        return _run_dask(plan, todo, settings, on_done)
    if settings.kind == "local" or workers == 1 or len(todo) == 1:
        return _run_local(plan, todo, settings, on_done)
    return _run_processes(plan, todo, min(workers, len(todo)), settings, on_done)


def _run_local(plan: TaskPlan, todo: list[Task], settings: ExecutorSettings, on_done: OnDone
               ) -> list[TaskFailure]:
    failures = []
    for rep, area in todo:
        for attempt in (1, 2):
            try:
                result = run_task(plan, rep, area, with_records=settings.with_records)
            except Exception as exc:
                if attempt == 2:
                    failures.append(TaskFailure(plan.scenario.name, rep, area, _describe(exc)))
                else:
                    log.warning("task rep %d area %s failed (%s); retrying", rep, area, exc)
                continue
            on_done(result)
            break
    return failures


_WORKER: tuple[TaskPlan, bool] | None = None


def _init_worker(plan: TaskPlan, *, with_records: bool) -> None:
    global _WORKER  # one plan per worker process, sent once
    _WORKER = (plan, with_records)


def _worker_plan() -> tuple[TaskPlan, bool]:
    if _WORKER is None:
        raise RjsimError("internal error: a worker process was started without its plan")
    return _WORKER


def _worker_task(rep: int, area: str) -> AreaDigest:
    plan, with_records = _worker_plan()
    return run_task(plan, rep, area, with_records=with_records)


def _staffed_task(rep: int, area: str, staffed: Staffed) -> AreaDigest:
    """A task at its own staffing, without the allocated cases (a pool's tasks are judged on
    their monthly tables and cohort counts: nothing else crosses between processes)."""
    return run_task(_worker_plan()[0], rep, area, staffed=staffed).without_cases()


def _run_processes(plan: TaskPlan, todo: list[Task], workers: int, settings: ExecutorSettings,
                   on_done: OnDone) -> list[TaskFailure]:
    failures: list[TaskFailure] = []
    init = partial(_init_worker, with_records=settings.with_records)
    with ProcessPoolExecutor(max_workers=workers, initializer=init, initargs=(plan,)) as pool:
        pending: dict[Future[AreaDigest], tuple[Task, int]] = {
            pool.submit(_worker_task, *t): (t, 1) for t in todo}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    task, attempt = pending.pop(fut)
                    _collect(fut, task, attempt, plan, on_done, failures,
                             lambda t, a: pending.__setitem__(pool.submit(_worker_task, *t),
                                                              (t, a)))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return failures


class TaskPool:
    """Workers kept for many rounds of tasks on one plan (the planner's search): worker
    processes start once and receive the plan once; each task brings its own staffing.

    Tasks run in this process when ``settings`` says ``local`` or one worker, otherwise in
    local worker processes (Dask's per-round scheduling is not worth it here: rounds are
    short and follow one another). Digests come back without their allocated cases. Use as
    a context manager (the workers stop at the end)."""

    def __init__(self, plan: TaskPlan, settings: ExecutorSettings) -> None:
        self.plan = plan
        workers = settings.workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        if settings.kind != "local" and workers > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=workers, initializer=partial(_init_worker, with_records=False),
                initargs=(plan,))

    def __enter__(self) -> TaskPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, wait: bool = True) -> None:
        """Stop the workers (pending tasks are cancelled; ``wait``: for running ones)."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    def run(self, tasks: list[StaffedTask], on_done: OnDone) -> list[TaskFailure]:
        """Run ``tasks`` and call ``on_done`` with each digest (in any order); return the
        tasks that failed twice."""
        failures: list[TaskFailure] = []
        if self._pool is None:
            for rep, area, staffed in tasks:
                for attempt in (1, 2):
                    try:
                        result = _staffed_local(self.plan, rep, area, staffed)
                    except Exception as exc:
                        if attempt == 2:
                            failures.append(TaskFailure(self.plan.scenario.name, rep, area,
                                                        _describe(exc)))
                        continue
                    on_done(result)
                    break
            return failures
        pool = self._pool
        staffing = {(rep, area): staffed for rep, area, staffed in tasks}

        def submit(t: Task, attempt: int) -> None:
            pending[pool.submit(_staffed_task, t[0], t[1], staffing[t])] = (t, attempt)
        pending: dict[Future[AreaDigest], tuple[Task, int]] = {}
        for rep, area, _ in tasks:
            submit((rep, area), 1)
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    task, attempt = pending.pop(fut)
                    _collect(fut, task, attempt, self.plan, on_done, failures, submit)
        except BaseException:
            self.close(wait=False)
            raise
        return failures


def _staffed_local(plan: TaskPlan, rep: int, area: str, staffed: Staffed) -> AreaDigest:
    return run_task(plan, rep, area, staffed=staffed).without_cases()


def _collect(fut: Any, task: Task, attempt: int, plan: TaskPlan, on_done: OnDone,
             failures: list[TaskFailure], resubmit: Callable[[Task, int], None]) -> None:
    try:
        result = fut.result()
    except Exception as exc:
        if attempt == 1:
            log.warning("task rep %d area %s failed (%s); retrying", task[0], task[1], exc)
            resubmit(task, 2)
        else:
            failures.append(TaskFailure(plan.scenario.name, task[0], task[1], _describe(exc)))
        return
    on_done(result)


#: Each Dask task runs a batch of (replication, area) tasks: the to-do areas of one replication
#: (split further while there are fewer batches than twice the workers). A scheduler round trip
#: and a result transfer per batch, not per area, so Dask costs about what local processes do.
DASK_BATCHES_PER_WORKER = 2


def dask_batches(todo: list[Task], workers: int) -> list[list[Task]]:
    """The Dask tasks of ``todo``: one per replication, in order, halved (largest first)
    while there are fewer than :data:`DASK_BATCHES_PER_WORKER` per worker."""
    by_rep: dict[int, list[Task]] = {}
    for task in todo:
        by_rep.setdefault(task[0], []).append(task)
    batches = list(by_rep.values())
    while len(batches) < DASK_BATCHES_PER_WORKER * workers and any(len(b) > 1 for b in batches):
        big = max(range(len(batches)), key=lambda i: len(batches[i]))
        b = batches[big]
        batches[big:big + 1] = [b[:len(b) // 2], b[len(b) // 2:]]
    return batches


BatchResult = list[tuple[Task, AreaDigest | str]]


def run_batch(plan: TaskPlan, batch: list[Task], with_records: bool) -> BatchResult:
    """Run a batch of tasks (on a Dask worker): each task's digest, or its error after one
    retry, so one failing area does not lose the others."""
    out: BatchResult = []
    for rep, area in batch:
        for attempt in (1, 2):
            try:
                out.append(((rep, area), run_task(plan, rep, area, with_records=with_records)))
            except Exception as exc:
                if attempt == 2:
                    out.append(((rep, area), _describe(exc)))
                else:
                    log.warning("task rep %d area %s failed (%s); retrying", rep, area, exc)
                continue
            break
    return out


def _run_dask(plan: TaskPlan, todo: list[Task], settings: ExecutorSettings, on_done: OnDone
              ) -> list[TaskFailure]:
    client, cluster = dask_client(settings)
    failures: list[TaskFailure] = []
    try:
        from distributed import as_completed
        shared = client.scatter(plan, broadcast=True)
        rec = settings.with_records
        workers = len(client.scheduler_info().get("workers", {})) or settings.workers or 1
        futures = {client.submit(run_batch, shared, batch, rec, pure=False): (batch, 1)
                   for batch in dask_batches(todo, workers)}
        seq = as_completed(list(futures))
        for fut in seq:
            batch, attempt = futures.pop(fut)
            try:
                results: BatchResult = fut.result()
            except Exception as exc:  # the batch itself failed (e.g. its worker died)
                if attempt == 1:
                    log.warning("a batch of %d task(s) failed (%s); retrying", len(batch), exc)
                    new = client.submit(run_batch, shared, batch, rec, pure=False)
                    futures[new] = (batch, 2)
                    seq.add(new)
                else:
                    failures += [TaskFailure(plan.scenario.name, r, a, _describe(exc))
                                 for r, a in batch]
                continue
            for (rep, area), result in results:
                if isinstance(result, str):
                    failures.append(TaskFailure(plan.scenario.name, rep, area, result))
                else:
                    on_done(result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return failures


def dask_client(settings: ExecutorSettings) -> tuple[Any, Any]:
    """A Dask client: of the scheduler at ``settings.scheduler``, or of a new local cluster
    of ``settings.workers`` single-threaded worker processes (returned too, to close)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RjsimError("--executor dask needs Dask's distributed scheduler, an optional "
                         "extra: pip install \"rjsim[dask]\"") from None
    if log.getEffectiveLevel() > logging.INFO:  # Dask's own INFO chatter only with --verbose
        for name in ("distributed", "distributed.scheduler", "distributed.worker"):
            logging.getLogger(name).setLevel(logging.ERROR)
    if settings.scheduler:
        try:
            return Client(settings.scheduler), None
        except (OSError, TimeoutError) as exc:
            raise RjsimError(f"--scheduler {settings.scheduler}: cannot connect to a Dask "
                             f"scheduler there ({exc}); omit --scheduler to start a local "
                             "cluster") from None
    cluster = LocalCluster(n_workers=settings.workers or os.cpu_count() or 1,
                           threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=log.getEffectiveLevel())
    return Client(cluster), cluster
