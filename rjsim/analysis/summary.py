"""Whole-horizon KPIs of one replication: per area, per offence group, and national.

Flows (victims, referrals, allocations, interventions, exits, losses, hours, cost) are summed
over the periods after warm-up. Waits and the within-target share are by referral cohort: the
referrals made after warm-up, following each to its allocation; for the within-target share
only referrals made at least ``wait_target_days`` before the horizon count, so that the end of
the run does not censor them. ``unmet_demand_rate`` = capacity-caused losses / referrals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rjsim.analysis.columns import Columns
from rjsim.analysis.tables import additive_columns, window_start
from rjsim.data.areas import Area
from rjsim.model.area import AreaRecords
from rjsim.scenario.spec import DAYS_PER_YEAR, SENSITIVE, Scenario

#: Levels in each period (averaged over the window, summed over areas), not flows.
STOCKS = ("backlog_mean", "busy_slots_mean", "general_slots", "specialist_slots", "fte_general",
          "fte_specialist", "establishment_fte_general", "establishment_fte_specialist",
          "vacancies_fte", "volunteer_fte", "budget_gbp")
FLOW_EXCLUDE = (*STOCKS, "backlog_end", "allocated_within_target")


def cohort_counts(scenario: Scenario, rec: AreaRecords) -> Columns:
    """Per offence group of one area: referrals after warm-up made at least the wait target
    before the horizon (``judged``), and how many of them were allocated within it."""
    warm, horizon = window_start(scenario), scenario.run.horizon_days
    target = scenario.service.wait_target_days
    judged = (rec.referral_day >= warm) & (rec.referral_day <= horizon - target)
    within = judged & (rec.allocation_day - rec.referral_day <= target)
    n = len(rec.groups)
    return {"area": np.full(n, rec.area), "group": np.asarray(rec.groups),
            "judged": np.bincount(rec.group[judged], minlength=n),
            "within": np.bincount(rec.group[within], minlength=n)}


def _grouped(df: pd.DataFrame, keys: list[str]) -> Any:
    return df.groupby(keys) if keys else df.groupby(lambda _: "all")


def _cohort_stats(scenario: Scenario, cases: pd.DataFrame, counts: pd.DataFrame,
                  keys: list[str]) -> pd.DataFrame:
    cohort = cases[cases["referral_day"] >= window_start(scenario)]
    wa, wi = _grouped(cohort, keys)["wait_alloc"], _grouped(cohort, keys)["wait_intervention"]
    c = _grouped(counts, keys)[["judged", "within"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = c["within"] / c["judged"].where(c["judged"] > 0)
    return pd.DataFrame({
        "wait_alloc_days_mean": wa.mean(), "wait_alloc_days_median": wa.median(),
        "wait_alloc_days_p90": wa.quantile(0.9), "wait_alloc_days_p95": wa.quantile(0.95),
        "wait_intervention_days_mean": wi.mean(), "wait_intervention_days_p90": wi.quantile(0.9),
        "share_allocated_within_target": share}).reindex(c.index)


def _flows(monthly: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    post = monthly[~monthly["in_warmup"]]
    cols = [c for c in additive_columns(monthly) if c not in FLOW_EXCLUDE and c != "utilisation"]
    return post.groupby(keys)[cols].sum() if keys else post[cols].sum().to_frame("all").T


def _rates(df: pd.DataFrame, years: float) -> pd.DataFrame:
    with np.errstate(invalid="ignore", divide="ignore"):
        df["unmet_demand_rate"] = df["unmet_demand"] / df["referrals"]
        df["referrals_per_year"] = df["referrals"] / years
        df["interventions_per_year"] = df["interventions"] / years
        df["unmet_demand_per_year"] = df["unmet_demand"] / years
        if "cost_gbp" in df:
            df["annual_cost_gbp"] = df["cost_gbp"] / years
            df["cost_per_intervention_gbp"] = np.where(df["interventions"] > 0,
                                                       df["cost_gbp"] / df["interventions"],
                                                       np.nan)
    return df


def _capacity(am: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Stocks averaged over the window's periods (summed over areas first), the backlog at
    the end, and utilisation = busy slots / slots."""
    post = am[~am["in_warmup"]]
    last = am[am["period"] == am["period"].max()]
    stocks = [c for c in STOCKS if c in am]
    if keys:
        cap = post.groupby(keys)[stocks].mean()
        cap["backlog_end"] = last.groupby(keys)["backlog_end"].sum()
    else:
        cap = post.groupby("period")[stocks].sum().mean().to_frame("all").T
        cap["backlog_end"] = last["backlog_end"].sum()
    slots = cap["general_slots"] + cap["specialist_slots"]
    cap["utilisation"] = np.where(slots > 0, cap["busy_slots_mean"] / slots.where(slots > 0),
                                  np.nan)
    cap["fte_in_post"] = cap["fte_general"] + cap["fte_specialist"]
    establishment = cap["establishment_fte_general"] + cap["establishment_fte_specialist"]
    cap["vacancy_rate"] = np.where(establishment > 0, cap["vacancies_fte"] /
                                   establishment.where(establishment > 0), np.nan)
    return cap


def window_years(scenario: Scenario) -> float:
    """Length of the summary window (whole periods after warm-up) in years."""
    return (scenario.run.horizon_days - window_start(scenario)) / DAYS_PER_YEAR


def area_summary(scenario: Scenario, am: pd.DataFrame, cases: pd.DataFrame,
                 counts: pd.DataFrame, areas: tuple[Area, ...]) -> pd.DataFrame:
    """One row per area (``cases``: allocated cases; ``counts``: :func:`cohort_counts`)."""
    df = _flows(am, ["area"]).join(_cohort_stats(scenario, cases, counts, ["area"]))
    df = df.join(_capacity(am, ["area"]))
    info = pd.DataFrame({"force": [a.name for a in areas], "region": [a.region for a in areas],
                         "population": [a.population for a in areas]},
                        index=pd.Index([a.code for a in areas], name="area"))
    df = info.join(_rates(df, window_years(scenario)), how="right")
    return df.reset_index()


def group_summary(scenario: Scenario, amg: pd.DataFrame, cases: pd.DataFrame,
                  counts: pd.DataFrame) -> pd.DataFrame:
    """One row per offence group, all simulated areas together."""
    df = _flows(amg.drop(columns=["sensitive"]), ["group"])
    df = df.join(_cohort_stats(scenario, cases, counts, ["group"]))
    df = df.reindex(list(scenario.demand.groups))
    df.insert(0, "sensitive", [g in SENSITIVE for g in df.index])
    return _rates(df, window_years(scenario)).reset_index()


def national_summary(scenario: Scenario, am: pd.DataFrame, cases: pd.DataFrame,
                     counts: pd.DataFrame) -> pd.DataFrame:
    """One row: all simulated areas together."""
    df = _flows(am, []).join(_cohort_stats(scenario, cases, counts, []), how="left")
    df = df.join(_capacity(am, []), how="left")
    df = _rates(df, window_years(scenario))
    df.insert(0, "areas", am["area"].nunique())
    return df.reset_index(drop=True)
