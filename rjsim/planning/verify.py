"""Verification a user can run: one area of their configuration as a Markovian queue, simulated
by rjsim and compared with Erlang C (M/M/c) and Erlang A (M/M/c+M).

The **Markovian equivalent** of an area keeps what decides its queue and makes everything else
exponential or instant: the same referral rate (the scenario's funnel, with the statutory right
if one is commenced), the same number of caseload slots (general and specialist pooled, as
staffed at the end of the run), and one exponential stage whose mean is the mean number of days
a case holds its slot. It has one offence group, no exits, no window and no referral delay;
without patience it is M/M/c, with exponential patience of the scenario's mean it is M/M/c+M.
rjsim simulates it (replications of one area) and each measure's t-interval across replications
is compared with the analytic value; intervals are Bonferroni-adjusted so that all checks of a
correct model agree together at 95%. P(wait > target) of Erlang A has no closed form here and is
reported from the simulation only. Where every replication gives the same value (nobody
waited, say) there is no interval to judge with: the check is "too few events" (run more years
or replications), never a pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rjsim.capacity import queueing
from rjsim.core import stats
from rjsim.core.codes import Outcome
from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import did_you_mean
from rjsim.data import areas as areadata
from rjsim.experiment import runner
from rjsim.funding import allocation
from rjsim.funding import budgets as funding
from rjsim.model import area as model
from rjsim.model.staffing import slot_counts
from rjsim.scenario import io as scenario_io
from rjsim.scenario.expected import caseload_per_fte, expected
from rjsim.scenario.spec import GROUPS, Scenario

GROUP = "theft"  # the equivalent's one (general) offence group
FAMILY_LEVEL = 0.95


@dataclass(frozen=True)
class Equivalent:
    """The Markovian equivalent of one area's configuration (rates per day, times in days)."""

    source: str  # the scenario it comes from
    area_code: str
    area_name: str
    referrals_per_day: float
    mean_service_days: float
    slots: int
    mean_patience_days: float | None  # None: the scenario's patience is 'never'
    wait_target_days: float
    seed: int

    @property
    def utilisation(self) -> float:
        """Offered load per slot (``lam / (c mu)``): at least 1 means M/M/c has no steady state."""
        if self.slots == 0:
            return math.inf
        return self.referrals_per_day * self.mean_service_days / self.slots


def equivalent(scenario: Scenario, area_name: str | None = None) -> Equivalent:
    """The Markovian equivalent of ``area_name`` (a code or name; default: the scenario's first
    area) in ``scenario``."""
    plan = runner.task_plan(scenario)
    area = _choose(plan.areas, area_name)
    rates = allocation.expected_referrals_by_group(scenario, area)
    per_year = sum(rates.values())
    if per_year <= 0:
        raise ScenarioError([Problem("--area", f"{area.name} has no referrals under this "
                                     "scenario's funnel, so it has no queue to verify")])
    days = sum(r * expected(scenario, g).service_days for g, r in rates.items()) / per_year
    last = plan.workforce[area.code].in_post[-1] + np.array(
        [plan.workforce[area.code].volunteer_fte, 0.0])
    slots = int(slot_counts(last, caseload_per_fte(scenario)).sum())
    if slots == 0:
        raise ScenarioError([Problem("--area", f"{area.name} has no caseload slot (its FTE x "
                                     f"{caseload_per_fte(scenario):.2f} cases per FTE is below "
                                     "1), so every referral is lost as 'no service': there is "
                                     "no queue to verify")])
    patience = scenario.service.patience.mean_days
    return Equivalent(scenario.name, area.code, area.name, per_year / 365.0, days, slots,
                      None if math.isinf(patience) else patience,
                      scenario.service.wait_target_days, scenario.run.seed)


def _choose(areas: tuple[areadata.Area, ...], name: str | None) -> areadata.Area:
    if name is None:
        return areas[0]
    for a in areas:
        if name.lower() in (a.code.lower(), a.name.lower()):
            return a
    names = [a.name for a in areas]
    raise ScenarioError([Problem("--area", f"unknown area '{name}'{did_you_mean(name, names)}"
                                 "; use a code or name of the scenario's areas")])


def area_csv(eq: Equivalent) -> str:
    """The equivalent's one-area data file: its referral rate as victims of one group."""
    header = ",".join(["pfa_code", "force", "census2021_population"]
                      + [f"victims_{g}" for g in GROUPS])
    values = [f"{eq.referrals_per_day * 365.0:.10g}" if g == GROUP else "0" for g in GROUPS]
    return f"{header}\n{eq.area_code},{eq.area_name},1000000,{','.join(values)}\n"


def scenario_dict(eq: Equivalent, patience: bool, data: str, years: float,
                  warmup_days: float) -> dict[str, Any]:
    """The equivalent as scenario settings (written as a TOML file by the command)."""
    instant = {"kind": "fixed", "value": 0}
    stages: dict[str, Any] = {s: {"duration": instant} for s in (
        "preparation", "direct_conference", "direct_video", "indirect", "follow_up")}
    stages["assessment"] = {"duration": {"kind": "exponential", "mean": eq.mean_service_days}}
    wait = ({"kind": "exponential", "mean": eq.mean_patience_days}
            if patience and eq.mean_patience_days is not None else {"kind": "never"})
    kind = "M/M/c+M (Erlang A)" if patience else "M/M/c (Erlang C)"
    return {
        "name": f"verify_{'mmcm' if patience else 'mmc'}_{slug(eq.area_name)}",
        "description": f"The Markovian equivalent ({kind}) of {eq.area_name} in scenario "
        f"'{eq.source}': {eq.referrals_per_day * 365:.1f} referrals a year, {eq.slots} caseload "
        f"slots, exponential cases of mean {eq.mean_service_days:.2f} days"
        + (f", exponential patience of mean {eq.mean_patience_days:g} days" if patience else "")
        + ". Written by 'rjsim verify'.",
        "run": {"years": years, "warmup_days": warmup_days, "seed": eq.seed},
        "areas": {"data": data, "include": [eq.area_code]},
        "demand": {"groups": [GROUP], "offender_identified": 1, "informed": 1, "wants_rj": 1,
                   "referral_delay": instant},
        "level_one": {"diversion_share": 0},
        "service": {"patience": wait, "window": {"kind": "never"}, "caseload_per_fte": 1,
                    "wait_target_days": eq.wait_target_days},
        "stages": stages,
        "exits": {"victim_withdraws": 0, "offender_declines": 0, "unsuitable": 0,
                  "preparation_withdraws": 0, "unsuitable_by_group": {}},
        "interventions": {"direct_share": 0},
        "funding": {"capacity_from": "fte", "fte": {"general": eq.slots, "specialist": 0}},
        "staffing": {"volunteer_hours_per_100k_population": 0},
    }


def slug(name: str) -> str:
    """A file-name-safe form of an area name (lower case, letters and digits, "_")."""
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def simulate(path: Path, replications: int, margin_days: float) -> pd.DataFrame:
    """Per-replication measures of the equivalent scenario file at ``path``."""
    scenario = scenario_io.load(path)
    plan = runner.task_plan(scenario)
    area = plan.areas[0]
    staff = funding.staffing(scenario, plan.table)[area.code]
    rows = [measures(model.simulate_area(scenario, area, staff, r, plan.workforce[area.code]),
                     scenario.run.warmup_days, margin_days, scenario.service.wait_target_days)
            for r in range(replications)]
    return pd.DataFrame(rows)


def measures(rec: model.AreaRecords, start: float, margin_days: float,
             target: float) -> dict[str, float]:
    """One replication's estimates from referrals in [warm-up, horizon - margin)."""
    counted = (rec.referral_day >= start) & (rec.referral_day < rec.horizon_days - margin_days)
    in_queue = rec.queue_exit_day[counted] - rec.referral_day[counted]
    return {"mean_wait": float(in_queue.mean()), "p_wait": float((in_queue > 0).mean()),
            "p_wait_exceeds_target": float((in_queue > target).mean()),
            "p_abandon": float((rec.outcome[counted] == Outcome.WITHDREW_WAITING).mean())}


def theory(eq: Equivalent, patience: bool) -> dict[str, float | None]:
    """Analytic values (``None`` where the queue has none: M/M/c at load >= 1, P(wait > t) of
    Erlang A)."""
    lam, mu, c = eq.referrals_per_day, 1.0 / eq.mean_service_days, eq.slots
    if patience:
        assert eq.mean_patience_days is not None
        a = queueing.erlang_a(lam, mu, 1.0 / eq.mean_patience_days, c)
        return {"mean_wait": a.mean_wait, "p_wait": a.p_wait, "p_wait_exceeds_target": None,
                "p_abandon": a.p_abandon}
    if eq.utilisation >= 1:
        return dict.fromkeys(("mean_wait", "p_wait", "p_wait_exceeds_target", "p_abandon"))
    return {"mean_wait": queueing.mmc_mean_wait(lam, mu, c),
            "p_wait": queueing.erlang_c(lam, mu, c),
            "p_wait_exceeds_target": queueing.mmc_wait_exceeds(lam, mu, c, eq.wait_target_days),
            "p_abandon": 0.0}


def compare(results: dict[str, tuple[pd.DataFrame, dict[str, float | None]]]) -> pd.DataFrame:
    """Per queue and measure: analytic value, simulated mean and Bonferroni-adjusted t-interval,
    and whether they agree (``results``: queue name -> (per-replication measures, theory))."""
    checks = sum(v is not None for _, th in results.values() for v in th.values())
    level = 1 - (1 - FAMILY_LEVEL) / max(checks, 1)
    rows = []
    for queue, (sim, th) in results.items():
        for measure, value in th.items():
            iv = stats.t_interval(sim[measure].to_numpy(), level)
            if value is None:
                verdict = "no analytic value"
            elif iv.sd == 0 and value != iv.mean:
                verdict = "too few events"  # e.g. nobody waited: no interval to judge with
            else:
                verdict = "agrees" if iv.low <= value <= iv.high else "DIFFERS"
            rows.append({"queue": queue, "measure": measure, "theory": value,
                         "simulated": iv.mean, "ci_low": iv.low, "ci_high": iv.high,
                         "ci_level": level, "replications": iv.n, "verdict": verdict})
    return pd.DataFrame(rows)
