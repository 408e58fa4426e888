"""Whole-horizon KPIs of one replication: per area, per offence group, and national.

Flows (victims, referrals, allocations, interventions, exits, losses, hours, cost) are summed
over the periods after warm-up. Waits and the within-target share are by referral cohort: the
referrals made after warm-up, following each to its allocation; for the within-target share
only referrals made at least ``wait_target_days`` before the horizon count, so that the end of
the run does not censor them. ``unmet_demand_rate`` = capacity-caused losses / referrals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rjsim.areadata import Area
from rjsim.model import AreaRecords
from rjsim.scenario import DAYS_PER_YEAR, Scenario
from rjsim.tables import INTERVENTION_STAGE, _additive

FLOW_EXCLUDE = ("backlog_mean", "backlog_end", "general_slots", "specialist_slots",
                "busy_slots_mean", "fte_general", "fte_specialist", "allocated_within_target")


def _cohort(records: list[AreaRecords], scenario: Scenario) -> pd.DataFrame:
    warm, horizon = scenario.run.warmup_days, scenario.run.horizon_days
    target = scenario.service.wait_target_days
    parts = []
    for rec in records:
        keep = rec.referral_day >= warm
        wait = (rec.allocation_day - rec.referral_day)[keep]
        parts.append(pd.DataFrame({
            "area": rec.area, "group": np.asarray(rec.groups)[rec.group[keep]],
            "wait_alloc": wait,
            "wait_intervention": (rec.stage_end_day[keep, INTERVENTION_STAGE]
                                  - rec.referral_day[keep]),
            "judged": rec.referral_day[keep] <= horizon - target,
            "within": wait <= target}))
    return pd.concat(parts, ignore_index=True)


def _cohort_stats(cohort: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = cohort.groupby(keys) if keys else cohort.groupby(lambda _: "all")
    wa, wi = grouped["wait_alloc"], grouped["wait_intervention"]
    judged = cohort[cohort["judged"]]
    jg = judged.groupby(keys) if keys else judged.groupby(lambda _: "all")
    return pd.DataFrame({
        "wait_alloc_days_mean": wa.mean(), "wait_alloc_days_median": wa.median(),
        "wait_alloc_days_p90": wa.quantile(0.9), "wait_alloc_days_p95": wa.quantile(0.95),
        "wait_intervention_days_mean": wi.mean(), "wait_intervention_days_p90": wi.quantile(0.9),
        "share_allocated_within_target": jg["within"].mean()})


def _flows(monthly: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    post = monthly[~monthly["in_warmup"]]
    cols = [c for c in _additive(monthly) if c not in FLOW_EXCLUDE and c != "utilisation"]
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
    post = am[~am["in_warmup"]]
    last = am[am["period"] == am["period"].max()]
    g = post.groupby(keys) if keys else post.groupby(lambda _: "all")
    lg = last.groupby(keys) if keys else last.groupby(lambda _: "all")
    per_area = post.groupby(["area"]).first() if keys else None
    cap = pd.DataFrame({"backlog_mean": g["backlog_mean"].mean(),
                        "backlog_end": lg["backlog_end"].sum(),
                        "busy_slots_mean": g["busy_slots_mean"].mean()})
    if keys:
        assert per_area is not None
        for c in ("fte_general", "fte_specialist", "general_slots", "specialist_slots"):
            cap[c] = per_area[c]
    else:
        firsts = post.groupby("area").first()
        cap = cap.assign(**{c: firsts[c].sum() for c in ("fte_general", "fte_specialist",
                                                        "general_slots", "specialist_slots")})
        cap["backlog_mean"] = post.groupby("period")["backlog_mean"].sum().mean()
        cap["busy_slots_mean"] = post.groupby("period")["busy_slots_mean"].sum().mean()
    slots = cap["general_slots"] + cap["specialist_slots"]
    cap["utilisation"] = np.where(slots > 0, cap["busy_slots_mean"] / slots.where(slots > 0),
                                  np.nan)
    return cap


def window_years(scenario: Scenario) -> float:
    """Length of the post-warm-up window in years."""
    return (scenario.run.horizon_days - scenario.run.warmup_days) / DAYS_PER_YEAR


def area_summary(scenario: Scenario, records: list[AreaRecords], am: pd.DataFrame,
                 areas: tuple[Area, ...]) -> pd.DataFrame:
    """One row per area."""
    df = _flows(am, ["area"]).join(_cohort_stats(_cohort(records, scenario), ["area"]))
    df = df.join(_capacity(am, ["area"]))
    info = pd.DataFrame({"force": [a.name for a in areas], "region": [a.region for a in areas],
                         "population": [a.population for a in areas]},
                        index=pd.Index([a.code for a in areas], name="area"))
    df = info.join(_rates(df, window_years(scenario)), how="right")
    return df.reset_index()


def group_summary(scenario: Scenario, records: list[AreaRecords], amg: pd.DataFrame
                  ) -> pd.DataFrame:
    """One row per offence group, all simulated areas together."""
    df = _flows(amg.drop(columns=["sensitive"]), ["group"])
    df = df.join(_cohort_stats(_cohort(records, scenario), ["group"]))
    df = df.reindex(list(scenario.demand.groups))
    df.insert(0, "sensitive", [g in ("sexual", "domestic_abuse", "hate") for g in df.index])
    return _rates(df, window_years(scenario)).reset_index()


def national_summary(scenario: Scenario, records: list[AreaRecords], am: pd.DataFrame
                     ) -> pd.DataFrame:
    """One row: all simulated areas together."""
    df = _flows(am, []).join(_cohort_stats(_cohort(records, scenario), []), how="left")
    df = df.join(_capacity(am, []), how="left")
    df = _rates(df, window_years(scenario))
    df.insert(0, "areas", len(records))
    return df.reset_index(drop=True)
