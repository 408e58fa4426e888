"""The minister's capacity test: per-area verdicts with confidence intervals (MODEL.md s6).

Each criterion of each area is judged from its per-replication values
(:func:`rjsim.analysis.capacity_metrics.metrics`, pool ``all``) by a Student t interval at the
scenario's confidence level. A criterion compares its estimate with its threshold by a
:class:`Comparator` (at least, at most, below). "Demonstrated" means the *conservative* end of
the interval meets the threshold: for "at least" criteria the lower end, for "at most" and
"below" the upper end. So a criterion (its :class:`~rjsim.core.codes.Verdict`)

* passes when the whole interval is on the right side of the threshold,
* fails when the whole interval is on the wrong side,
* is inconclusive otherwise (or with fewer than two replications), never a pass; the number of
  replications that would make the interval exclude the threshold, if the mean and spread stay
  as estimated, is reported: the least n whose half-width ``t(n - 1) sd / sqrt(n)`` is within
  ``|mean - threshold|`` (:func:`rjsim.core.stats.replications_needed`).

An area passes only if every criterion passes; it fails if any fails; otherwise it is
inconclusive. Its *binding* criterion is the worst: a failing one before an inconclusive one
before a passing one, and among equals the smallest margin relative to the room the threshold
allows. The national verdict passes only if every area passes (no postcode lottery).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis.capacity_metrics import not_applicable
from rjsim.analysis.tables import window_start
from rjsim.core.codes import ALL_POOLS, Verdict
from rjsim.core.stats import replications_needed, t_interval
from rjsim.data.areas import Area
from rjsim.scenario.spec import Scenario


class Comparator(StrEnum):
    """How a criterion's estimate must compare with its threshold (the value is the operator
    as written in tables)."""

    AT_LEAST = ">="
    AT_MOST = "<="
    BELOW = "<"

    def holds(self, value: float, threshold: float) -> bool:
        """Whether ``value`` meets ``threshold`` by this comparison."""
        return bool(_OPERATORS[self](value, threshold))

    def holds_each(self, values: np.ndarray, threshold: float) -> np.ndarray:
        """Whether each of ``values`` meets ``threshold`` (NaN never does)."""
        return np.asarray(_OPERATORS[self](np.asarray(values, dtype=float), threshold),
                          dtype=bool)

    @property
    def sign(self) -> float:
        """+1 where larger is better (at least), -1 where smaller is."""
        return 1.0 if self is Comparator.AT_LEAST else -1.0


_OPERATORS = {Comparator.AT_LEAST: operator.ge, Comparator.AT_MOST: operator.le,
              Comparator.BELOW: operator.lt}


@dataclass(frozen=True)
class Criterion:
    """One criterion: the metric it reads, how it compares and its threshold."""

    name: str
    metric: str
    comparison: Comparator
    threshold: float
    unit: str
    description: str

    def __post_init__(self) -> None:  # ">=" as written in a table: the Comparator it names
        object.__setattr__(self, "comparison", Comparator(self.comparison))

    @property
    def room(self) -> float:
        """The scale margins are divided by to compare criteria (the room the threshold
        leaves: e.g. 0.10 for 'at least 90%')."""
        room = 1.0 - self.threshold if self.comparison is Comparator.AT_LEAST else self.threshold
        return room if room > 0 else 1.0


def criteria(scenario: Scenario) -> list[Criterion]:
    """The scenario's criteria, in report order."""
    c = scenario.capacity_test
    target = c.wait_target_days or scenario.service.wait_target_days
    out = [
        Criterion("timeliness", "timeliness", Comparator.AT_LEAST, c.timeliness_share,
                  "share of referrals",
                  f"share of referrals allocated a facilitator within {target:g} days"),
        Criterion("unmet_demand", "unmet_demand_rate", Comparator.AT_MOST,
                  c.max_unmet_demand_rate,
                  "share of referrals", "capacity-caused losses / referrals"),
        Criterion("utilisation", "utilisation", Comparator.BELOW, c.max_utilisation,
                  "offered load per slot",
                  "offered load per caseload slot (stability)"),
        Criterion("backlog_trend", "backlog_trend_days_per_year", Comparator.AT_MOST,
                  c.max_backlog_growth_days_per_year, "days of referrals a year",
                  "growth of the intake backlog over the window (stability)"),
    ]
    if c.require_specialist_coverage:
        out.append(Criterion("coverage", "specialist_slots_min", Comparator.AT_LEAST, 1.0,
                             "specialist slots (fewest in a month)",
                             "specialist capacity for sensitive demand"))
    return out


@dataclass(frozen=True)
class Judgement:
    """A criterion judged on one area's replications."""

    estimate: float
    ci_low: float
    ci_high: float
    margin: float  # signed: positive means on the right side of the threshold
    verdict: Verdict
    replications_needed: float  # total replications to decide (NaN: not needed or unknown)


def _verdict(c: Criterion, low: float, high: float) -> Verdict:
    """Pass if the conservative end meets the threshold, fail if even the other end does not
    (inconclusive without an interval)."""
    if math.isnan(low) or math.isnan(high):
        return Verdict.INCONCLUSIVE
    conservative, hopeful = (low, high) if c.comparison is Comparator.AT_LEAST else (high, low)
    if c.comparison.holds(conservative, c.threshold):
        return Verdict.PASS
    return Verdict.INCONCLUSIVE if c.comparison.holds(hopeful, c.threshold) else Verdict.FAIL


def judge(c: Criterion, values: np.ndarray, level: float) -> Judgement:
    """Judge ``values`` (one per replication; NaN ignored) against criterion ``c``."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:  # nothing could be judged (e.g. no referral old enough): never a pass
        return Judgement(math.nan, math.nan, math.nan, math.nan, Verdict.INCONCLUSIVE,
                         math.nan)
    if np.isinf(x).any():  # demand with no slot at all
        mean = math.inf if np.isinf(x).all() else math.nan
        sign = c.comparison.sign
        verdict = (_verdict(c, math.inf, math.inf) if np.isinf(x).all()
                   else Verdict.INCONCLUSIVE)
        return Judgement(mean, mean, math.inf, sign * math.inf, verdict, math.nan)
    iv = t_interval(x, level)
    margin = c.comparison.sign * (iv.mean - c.threshold)
    if iv.n < 2:
        return Judgement(iv.mean, math.nan, math.nan, margin, Verdict.INCONCLUSIVE, math.nan)
    verdict = _verdict(c, iv.low, iv.high)
    needed = math.nan
    if verdict == Verdict.INCONCLUSIVE and margin != 0:
        # one more than now at least: the interval at n replications did not decide it
        more = replications_needed(iv.sd, abs(margin), iv.n + 1, level)
        needed = math.nan if more is None else float(more)
    return Judgement(iv.mean, iv.low, iv.high, margin, verdict, needed)


#: A criterion that does not apply to an area (utilisation and coverage of an area with no
#: caseload slot of its own, e.g. one served by a neighbour's service): no estimate, and it
#: does not bind; the area is judged by its other criteria (its waits and unmet demand).
NOT_APPLICABLE = Judgement(math.nan, math.nan, math.nan, math.nan, Verdict.NOT_APPLICABLE,
                           math.nan)


def _coverage(c: Criterion, rows: pd.DataFrame) -> Judgement:
    """Specialist coverage: deterministic staffing, so judged on the fewest slots seen; n/a
    where no sensitive case is referred or the area has no slot of its own."""
    if (not (rows["sensitive_referrals"] > 0).any()
            or not_applicable("specialist_slots_min", rows["specialist_slots_min"].to_numpy())):
        return NOT_APPLICABLE
    fewest = float(rows["specialist_slots_min"].min())
    return Judgement(fewest, fewest, fewest, fewest - c.threshold,
                     Verdict.PASS if fewest >= c.threshold else Verdict.FAIL, math.nan)


def criteria_table(scenario: Scenario, per_rep: pd.DataFrame, areas: tuple[Area, ...],
                   pool: str = ALL_POOLS) -> pd.DataFrame:
    """One row per area x criterion: estimate, CI, threshold, margin, verdict."""
    level = scenario.capacity_test.confidence_level
    data = per_rep[per_rep["pool"] == pool]
    by_area = dict(tuple(data.groupby("area")))
    rows = []
    for area in areas:
        own = by_area.get(area.code, data.iloc[:0])
        for c in criteria(scenario):
            j = (_coverage(c, own) if c.name == "coverage"
                 else NOT_APPLICABLE if not_applicable(c.metric, own[c.metric].to_numpy())
                 else judge(c, own[c.metric].to_numpy(), level))
            rows.append({"area": area.code, "force": area.name, "criterion": c.name,
                         "description": c.description, "estimate": j.estimate,
                         "ci_low": j.ci_low, "ci_high": j.ci_high, "threshold": c.threshold,
                         "comparison": c.comparison.value, "margin": j.margin,
                         "relative_margin": j.margin / c.room, "verdict": j.verdict.value,
                         "replications": int(own["replication"].nunique()),
                         "replications_needed": j.replications_needed, "unit": c.unit})
    return pd.DataFrame(rows)


def _binding(rows: pd.DataFrame) -> pd.Series:
    """The worst criterion of one area."""
    key = rows.assign(severity=rows["verdict"].map(lambda v: Verdict(v).severity),
                      rel=rows["relative_margin"].fillna(math.inf))
    worst = key.sort_values(["severity", "rel"], ascending=[False, True]).iloc[0]
    failed = rows.loc[rows["verdict"] == Verdict.FAIL, "criterion"]
    undecided = rows[rows["verdict"] == Verdict.INCONCLUSIVE]
    more = undecided["replications_needed"].max() if len(undecided) else math.nan
    verdict = (Verdict.FAIL if len(failed) else Verdict.INCONCLUSIVE if len(undecided)
               else Verdict.PASS)
    return pd.Series({"verdict": verdict.value, "binding_criterion": worst["criterion"],
                      "binding_margin": worst["margin"],
                      "binding_relative_margin": worst["relative_margin"],
                      "criteria_failed": ";".join(failed),
                      "replications_needed": more})


def verdict_table(criteria_rows: pd.DataFrame, areas: tuple[Area, ...]) -> pd.DataFrame:
    """One row per area: verdict, binding criterion and margin, centroid (for the map)."""
    verdicts = criteria_rows.groupby("area", sort=False)[list(criteria_rows.columns)].apply(
        _binding)
    info = pd.DataFrame({"area": [a.code for a in areas], "force": [a.name for a in areas],
                         "region": [a.region for a in areas], "lat": [a.lat for a in areas],
                         "lon": [a.lon for a in areas]})
    return info.merge(verdicts.reset_index(), on="area", how="left")


def national_table(scenario: Scenario, verdicts: pd.DataFrame, replications: int
                   ) -> pd.DataFrame:
    """One row: the national verdict (pass only if every area passes) and its window."""
    counts = verdicts["verdict"].value_counts()
    fail = int(counts.get(Verdict.FAIL, 0))
    undecided = int(counts.get(Verdict.INCONCLUSIVE, 0))
    verdict = Verdict.FAIL if fail else Verdict.INCONCLUSIVE if undecided else Verdict.PASS
    needed = verdicts.loc[verdicts["verdict"] == Verdict.INCONCLUSIVE, "replications_needed"]
    start, end = window_start(capacity.assessed(scenario)), capacity.window(scenario)[1]
    c = scenario.capacity_test
    return pd.DataFrame([{
        "verdict": verdict.value, "areas": len(verdicts),
        "areas_pass": int(counts.get(Verdict.PASS, 0)),
        "areas_fail": fail, "areas_inconclusive": undecided, "replications": replications,
        "more_replications_needed": (float(needed.max() - replications)
                                     if undecided and needed.notna().all() else math.nan),
        "window_start_day": start, "window_end_day": end,
        "commence_day": scenario.commence_day, "confidence_level": c.confidence_level,
        "timeliness_share": c.timeliness_share,
        "wait_target_days": c.wait_target_days or scenario.service.wait_target_days,
        "max_unmet_demand_rate": c.max_unmet_demand_rate,
        "max_utilisation": c.max_utilisation,
        "max_backlog_growth_days_per_year": c.max_backlog_growth_days_per_year}])


@dataclass(frozen=True)
class CapacityTestResult:
    """The test's three tables (see :func:`evaluate`)."""

    criteria: pd.DataFrame
    verdicts: pd.DataFrame
    national: pd.DataFrame

    @property
    def verdict(self) -> Verdict:
        """The national verdict."""
        return Verdict(self.national["verdict"].iloc[0])

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"capacity_test_area": self.criteria, "capacity_test_verdict": self.verdicts,
                "capacity_test_national": self.national}


def evaluate(scenario: Scenario, per_rep: pd.DataFrame, areas: tuple[Area, ...]
             ) -> CapacityTestResult:
    """Judge every area of an assessed run (``per_rep``: its ``capacity_metrics`` table)."""
    rows = criteria_table(scenario, per_rep, areas)
    verdicts = verdict_table(rows, areas)
    return CapacityTestResult(rows, verdicts, national_table(
        scenario, verdicts, int(per_rep["replication"].nunique())))


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit.startswith("share"):
        return f"{100 * value:.1f}%"
    return f"{value:.2f}" if abs(value) < 100 else f"{value:,.0f}"


def summary_text(result: CapacityTestResult, k: int = 10) -> str:
    """The verdict in plain words: national line, counts, and the worst areas."""
    n = result.national.iloc[0]
    v = result.verdicts
    lines = [f"Capacity test (window: day {n['window_start_day']:g} to {n['window_end_day']:g};"
             f" {int(n['replications'])} replication(s); {100 * n['confidence_level']:g}% "
             "intervals, conservative end must meet each threshold)",
             f"  National verdict: {str(n['verdict']).upper()} - {int(n['areas_pass'])} of "
             f"{int(n['areas'])} areas pass, {int(n['areas_fail'])} fail, "
             f"{int(n['areas_inconclusive'])} inconclusive"]
    if n["verdict"] == Verdict.INCONCLUSIVE:
        more = n["more_replications_needed"]
        why = ("one replication gives no interval: run at least two" if n["replications"] < 2
               else "an estimate sits exactly on its threshold, or could not be judged")
        lines.append("  Too few replications to decide: about "
                     + (f"{more:.0f} more needed" if not math.isnan(more) else
                        f"an unknown number more ({why})"))
    rows = {(r["area"], r["criterion"]): r for r in result.criteria.to_dict("records")}
    worst = v[v["verdict"] != Verdict.PASS].sort_values("binding_relative_margin").head(k)
    if len(worst):
        lines.append(f"  Areas not passing (worst {len(worst)}; binding criterion: estimate "
                     f"[{100 * n['confidence_level']:g}% CI] vs threshold):")
    for r in worst.itertuples():
        c = rows[(r.area, r.binding_criterion)]
        lines.append(f"    {r.force:<28} {r.verdict:<12} {r.binding_criterion}: "
                     f"{_fmt(c['estimate'], c['unit'])} [{_fmt(c['ci_low'], c['unit'])}, "
                     f"{_fmt(c['ci_high'], c['unit'])}] vs {c['comparison']} "
                     f"{_fmt(c['threshold'], c['unit'])}")
    return "\n".join(lines) + "\n"
