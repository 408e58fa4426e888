"""Statistical validation of the simulation against queueing theory (MODEL.md section 8).

Configured with one area, one offence group, no funnel, no exits, an exponential assessment
as the whole case and every other stage instant, the service is an M/M/c queue (``c`` caseload
slots); with exponential patience it is M/M/c+M (Erlang A). Each check runs ``R`` independent
replications at a fixed seed, takes one number per replication from the referrals made after a
warm-up (and before a margin at the end, so that all of them have left the queue), and asks
whether the t-interval across replications contains the analytic value. Tolerances come only
from those intervals. (With no exits every case is COMPLETED and passes all four stages, so
:attr:`rjsim.model.casepath.CasePaths.service_days` is the exponential assessment alone.)

There are nine checks of the correct model. Each uses a Bonferroni-adjusted t-interval (level
1 - 0.05/9, about 99.4%) so that the family holds at 95%: with nine separate 95% intervals a
correct model would fail one of them at roughly a third of seeds. (At the packaged seed, the
M/M/c P(wait) lies 1e-4 outside its plain 95% interval, z = -2.1, while 300 replications at
another seed give z = -0.4 for it: chance, not bias.)

Each check is also shown to have power: with the model deliberately broken (monkeypatched:
longer service, one slot fewer, longer patience, a recorder that rounds queue exits) the very
same check, at the same seed and sample size, rejects the analytic value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from rjsim.analysis import timeweighted
from rjsim.capacity.queueing import (
    erlang_a,
    erlang_c,
    mmc_mean_queue_length,
    mmc_mean_wait,
    mmc_wait_exceeds,
)
from rjsim.core.codes import Outcome
from rjsim.data import areas as areadata
from rjsim.funding import budgets as funding
from rjsim.model import area as model
from rjsim.model import casepath
from rjsim.scenario import io as scenario_io
from rjsim.scenario.spec import GROUPS

pytestmark = pytest.mark.slow

FAMILY_LEVEL = 0.95  # chance that every check of a correct model passes
N_CHECKS = 9  # checks of the correct model: 4 for M/M/c, Little's law, 4 for Erlang A
LEVEL = 1 - (1 - FAMILY_LEVEL) / N_CHECKS  # Bonferroni: about 0.9944 per check
REPLICATIONS = 30
YEARS = 10
SEED = 20250401  # the packaged default seed, not a seed chosen to pass
WARMUP_DAYS = 100.0  # many relaxation times of these queues (about 10 days)
MARGIN_DAYS = 30.0  # far longer than any wait here, so every counted referral has left the queue
TAIL_DAYS = 0.5  # for P(wait > t)


@dataclasses.dataclass(frozen=True)
class Queue:
    """A queue to simulate: rates per day, ``c`` slots, ``theta`` None for infinite patience."""

    lam: float
    mu: float
    c: int
    theta: float | None = None


MMC = Queue(lam=6.4, mu=1.0, c=8)  # utilisation 0.80
ERLANG_A = Queue(lam=7.6, mu=1.0, c=8, theta=0.5)  # offered load 0.95, mean patience 2 days


# ---- the confidence-interval check ----------------------------------------------------------


def t_interval(samples: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Two-sided Student-t confidence interval for the mean of independent ``samples``."""
    x = np.asarray(samples, dtype=float)
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def ci_contains(samples: np.ndarray, value: float, level: float = LEVEL) -> bool:
    """Whether the t-interval of the replications' mean contains ``value``."""
    low, high = t_interval(samples, level)
    return low <= value <= high


# ---- driving the model ----------------------------------------------------------------------


def write_area_csv(path: Path, lam: float) -> Path:
    """One area with theft victims only, at ``lam`` a day (every other group zero)."""
    columns = ",".join(f"victims_{g}" for g in GROUPS)
    values = ",".join(f"{lam * 365.0:.10g}" if g == "theft" else "0" for g in GROUPS)
    path.write_text(f"pfa_code,force,census2021_population,{columns}\n"
                    f"E23000036,Test area,1000000,{values}\n", encoding="utf-8")
    return path


def queue_scenario(q: Queue, data: Path) -> Any:
    """The scenario that makes the model the queue ``q`` (see the module docstring)."""
    instant = {"kind": "fixed", "value": 0}
    stages: dict[str, Any] = {s: {"duration": instant} for s in (
        "preparation", "direct_conference", "direct_video", "indirect", "follow_up")}
    stages["assessment"] = {"duration": {"kind": "exponential", "mean": 1.0 / q.mu}}
    patience = ({"kind": "never"} if q.theta is None
                else {"kind": "exponential", "mean": 1.0 / q.theta})
    return scenario_io.from_dict({
        "run": {"years": YEARS, "seed": SEED},
        "areas": {"data": str(data)},
        "demand": {"groups": ["theft"], "offender_identified": 1, "informed": 1,
                   "wants_rj": 1, "referral_delay": instant},
        "service": {"patience": patience, "window": {"kind": "never"}, "caseload_per_fte": 1},
        "stages": stages,
        "exits": {"victim_withdraws": 0, "offender_declines": 0, "unsuitable": 0,
                  "preparation_withdraws": 0, "unsuitable_by_group": {}},
        "interventions": {"direct_share": 0},
        "funding": {"capacity_from": "fte", "fte": {"general": q.c, "specialist": 0}},
    })


def replicate(q: Queue, data: Path) -> list[model.AreaRecords]:
    """``REPLICATIONS`` independent replications of queue ``q`` (whatever is patched now)."""
    scenario = queue_scenario(q, data)
    table = areadata.load(data)
    area = table.areas[0]
    staff = funding.staffing(scenario, table)[area.code]
    return [model.simulate_area(scenario, area, staff, r) for r in range(REPLICATIONS)]


def replication_measures(rec: model.AreaRecords) -> dict[str, float]:
    """One replication's estimates, from the referrals in [warm-up, horizon - margin)."""
    start, end = WARMUP_DAYS, rec.horizon_days - MARGIN_DAYS
    counted = (rec.referral_day >= start) & (rec.referral_day < end)
    referral = rec.referral_day[counted]
    in_queue = rec.queue_exit_day[counted] - referral  # time in queue, abandoners included
    to_allocation = rec.allocation_day[counted] - referral  # nan for abandoners
    area = timeweighted.integral(rec.referral_day, rec.queue_exit_day, np.array([start, end]))
    queue_length = float(area[1] - area[0]) / (end - start)
    arrival_rate = len(referral) / (end - start)
    served = ~np.isnan(to_allocation)
    return {
        "mean_wait": float(in_queue.mean()),
        "p_wait": float((in_queue > 0).mean()),
        "p_wait_exceeds": float((in_queue > TAIL_DAYS).mean()),
        "p_abandon": float((rec.outcome[counted] == Outcome.WITHDREW_WAITING).mean()),
        "queue_length": queue_length,
        # Little's law on the recorded queue: time-average backlog (from queue intervals) minus
        # arrival rate x mean wait to allocation (from allocation days); zero in expectation.
        "little_gap": queue_length - arrival_rate * float(to_allocation[served].mean()),
        "never_allocated": float((~served).mean()),
    }


def measures(q: Queue, data: Path) -> dict[str, np.ndarray]:
    """Per-replication estimates of queue ``q``, one array per measure."""
    rows = [replication_measures(rec) for rec in replicate(q, data)]
    return {k: np.array([row[k] for row in rows]) for k in rows[0]}


# ---- analytic values ------------------------------------------------------------------------


def mmc_values(q: Queue) -> dict[str, float]:
    return {"mean_wait": mmc_mean_wait(q.lam, q.mu, q.c),
            "p_wait": erlang_c(q.lam, q.mu, q.c),
            "p_wait_exceeds": mmc_wait_exceeds(q.lam, q.mu, q.c, TAIL_DAYS),
            "queue_length": mmc_mean_queue_length(q.lam, q.mu, q.c)}


def erlang_a_values(q: Queue) -> dict[str, float]:
    assert q.theta is not None
    r = erlang_a(q.lam, q.mu, q.theta, q.c)
    return {"mean_wait": r.mean_wait, "p_wait": r.p_wait, "p_abandon": r.p_abandon,
            "queue_length": r.mean_queue_length}


def rejected(sim: dict[str, np.ndarray], theory: dict[str, float]) -> list[str]:
    """The measures whose t-interval does not contain the analytic value."""
    return [k for k, v in theory.items() if not ci_contains(sim[k], v)]


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("areas")


def area_csv(data_dir: Path, q: Queue) -> Path:
    return write_area_csv(data_dir / f"lam_{q.lam:g}.csv", q.lam)


@pytest.fixture(scope="module")
def mmc(data_dir: Path) -> dict[str, np.ndarray]:
    return measures(MMC, area_csv(data_dir, MMC))


@pytest.fixture(scope="module")
def erlang_a_sim(data_dir: Path) -> dict[str, np.ndarray]:
    return measures(ERLANG_A, area_csv(data_dir, ERLANG_A))


# ---- deliberate breakages (each a context in which ``measures`` is run) -----------------------


@pytest.fixture
def break_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Apply a named breakage of the model for the rest of the test."""

    def longer_service(factor: float) -> None:
        real = casepath.draw

        def draw(*args: Any, **kwargs: Any) -> casepath.CasePaths:
            paths = real(*args, **kwargs)
            return dataclasses.replace(paths, stage_end=paths.stage_end * factor)
        monkeypatch.setattr(casepath, "draw", draw)

    def one_slot_fewer() -> None:
        real = model.slot_schedule  # the one place FTE become caseload slots

        def fewer(*args: Any) -> Any:
            return np.maximum(real(*args) - 1, 0)
        monkeypatch.setattr(model, "slot_schedule", fewer)

    def longer_patience(factor: float) -> None:
        real = model._draw_referrals  # private, but the one place deadlines are made

        def draw_referrals(*args: Any) -> Any:
            ref = real(*args)
            stretched = ref.referral_day + factor * (ref.deadline - ref.referral_day)
            return dataclasses.replace(ref, deadline=stretched)
        monkeypatch.setattr(model, "_draw_referrals", draw_referrals)

    def exits_rounded_up_to_the_hour() -> None:
        real = model._assemble

        def assemble(*args: Any) -> model.AreaRecords:
            rec = real(*args)
            return dataclasses.replace(rec, queue_exit_day=np.ceil(rec.queue_exit_day * 24) / 24)
        monkeypatch.setattr(model, "_assemble", assemble)

    breakages: dict[str, Callable[[], None]] = {
        "service 10% longer": lambda: longer_service(1.10),
        "one slot fewer": one_slot_fewer,
        "patience 50% longer": lambda: longer_patience(1.5),
        "queue exits rounded up to the hour": exits_rounded_up_to_the_hour,
    }
    yield lambda name: breakages[name]()


# ---- the helper itself ----------------------------------------------------------------------


def test_ci_contains_behaves_like_a_confidence_interval() -> None:
    rng = np.random.default_rng(1)
    hits = [ci_contains(rng.normal(3.0, 2.0, 25), 3.0, level=0.95) for _ in range(2000)]
    assert 0.93 < np.mean(hits) < 0.97  # binomial sd of the coverage ~0.005
    assert not ci_contains(np.array([1.0, 1.1, 0.9, 1.05]), 2.0)


# ---- M/M/c: Erlang C ------------------------------------------------------------------------


def test_mmc_configuration_is_what_the_checks_assume(mmc: dict[str, np.ndarray]) -> None:
    assert (mmc["never_allocated"] == 0).all()  # no abandonment, margin long enough
    assert (mmc["p_abandon"] == 0).all()


@pytest.mark.parametrize("measure", ["mean_wait", "p_wait", "p_wait_exceeds", "queue_length"])
def test_mmc_agrees_with_erlang_c(mmc: dict[str, np.ndarray], measure: str) -> None:
    value = mmc_values(MMC)[measure]
    assert ci_contains(mmc[measure], value), (measure, t_interval(mmc[measure]), value)


@pytest.mark.parametrize("breakage", ["service 10% longer", "one slot fewer"])
def test_mmc_checks_reject_a_broken_model(data_dir: Path, break_model: Callable[[str], None],
                                          breakage: str) -> None:
    break_model(breakage)
    sim = measures(MMC, area_csv(data_dir, MMC))
    theory = mmc_values(MMC)
    assert rejected(sim, theory) == list(theory), {k: (t_interval(sim[k]), v)
                                                   for k, v in theory.items()}


# ---- Little's law on the recorded queue -----------------------------------------------------


def test_littles_law_on_recorded_queue(mmc: dict[str, np.ndarray]) -> None:
    assert ci_contains(mmc["little_gap"], 0.0), t_interval(mmc["little_gap"])


def test_littles_law_rejects_a_broken_recorder(data_dir: Path,
                                               break_model: Callable[[str], None]) -> None:
    break_model("queue exits rounded up to the hour")
    sim = measures(MMC, area_csv(data_dir, MMC))
    assert not ci_contains(sim["little_gap"], 0.0), t_interval(sim["little_gap"])


# ---- M/M/c+M: Erlang A ----------------------------------------------------------------------


@pytest.mark.parametrize("measure", ["p_abandon", "mean_wait", "p_wait", "queue_length"])
def test_abandonment_agrees_with_erlang_a(erlang_a_sim: dict[str, np.ndarray],
                                          measure: str) -> None:
    value = erlang_a_values(ERLANG_A)[measure]
    assert ci_contains(erlang_a_sim[measure], value), (measure, t_interval(erlang_a_sim[measure]),
                                                       value)


@pytest.mark.parametrize("breakage", ["patience 50% longer", "service 10% longer"])
def test_erlang_a_checks_reject_a_broken_model(data_dir: Path,
                                               break_model: Callable[[str], None],
                                               breakage: str) -> None:
    break_model(breakage)
    sim = measures(ERLANG_A, area_csv(data_dir, ERLANG_A))
    theory = erlang_a_values(ERLANG_A)
    assert rejected(sim, theory) == list(theory), {k: (t_interval(sim[k]), v)
                                                   for k, v in theory.items()}
