"""The plan's tables and scenario: per-area slots, FTE, cost and verdict (``plan_area``), the
national totals (``plan_national``) and the plan as a funding scenario (FTE set directly)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rjsim.capacity import capacity_test
from rjsim.core.codes import Pool
from rjsim.core.schema import FrozenMap
from rjsim.data.areas import Area
from rjsim.experiment import runner
from rjsim.funding import budgets as funding
from rjsim.planning.brackets import Search
from rjsim.scenario.spec import Scenario


def area_table(scenario: Scenario, search: Search, result: capacity_test.CapacityTestResult,
                seeded: dict[str, dict[Pool, int]], areas: dict[str, Area]) -> pd.DataFrame:
    cost_general, cost_specialist = funding.cost_per_fte(scenario.funding)
    today = funding.staffing(scenario, runner.task_plan(scenario).table)
    verdicts = result.verdicts.set_index("area")
    rows = []
    for code, area in areas.items():
        fte, slots = search.fte(code), search.slots(code)
        cost = fte.general * cost_general + fte.specialist * cost_specialist
        v = verdicts.loc[code]
        rows.append({"area": code, "force": area.name, "region": area.region,
                     "served_by": search.host(code), "general_slots": slots[Pool.GENERAL],
                     "specialist_slots": slots[Pool.SPECIALIST],
                     "general_fte": fte.general, "specialist_fte": fte.specialist,
                     "fte": round(fte.general + fte.specialist, 1), "annual_cost_gbp": cost,
                     "today_budget_gbp": today[code].budget_gbp,
                     "change_gbp": cost - today[code].budget_gbp,
                     "seed_general_slots": seeded[code][Pool.GENERAL],
                     "seed_specialist_slots": seeded[code][Pool.SPECIALIST],
                     "verdict": v["verdict"], "binding_criterion": v["binding_criterion"],
                     "binding_margin": v["binding_margin"]})
    return pd.DataFrame(rows)


def national_table(areas: pd.DataFrame, result: capacity_test.CapacityTestResult,
                    rounds: int, replications: int) -> pd.DataFrame:
    cost, today = areas["annual_cost_gbp"].sum(), areas["today_budget_gbp"].sum()
    n = result.national.iloc[0]
    return pd.DataFrame([{
        "areas": len(areas), "general_fte": areas["general_fte"].sum(),
        "specialist_fte": areas["specialist_fte"].sum(), "total_annual_cost_gbp": cost,
        "today_budget_gbp": today, "change_gbp": cost - today,
        "cost_ratio_to_today": cost / today if today > 0 else np.nan,
        "verdict": n["verdict"], "areas_pass": n["areas_pass"],
        "replications": replications,
        "check_replications": n["replications"], "search_rounds": rounds}])


def planned_services(scenario: Scenario) -> Scenario:
    """``scenario`` with the shared services (``funding.shared_services``) a plan keeps: those
    whose guest and host are both among its areas (the host is planned for both; the guest
    has no FTE of its own). A service with only one of the two selected is dropped (the
    selected area is planned as its own service: ``"guest" = ""``), since the plan sizes only
    the scenario's areas."""
    tasks = runner.task_plan(scenario)
    selected = {a.code for a in tasks.areas}
    dropped = [g for g, h in tasks.hosts.items() if len({g, h} & selected) == 1]
    if not dropped:
        return scenario
    keys = {k.lower() for g in dropped for k in (g, tasks.area(g).name)}
    services = {k: h for k, h in scenario.funding.shared_services.items()
                if k.lower() not in keys} | {tasks.area(g).name: "" for g in dropped}
    return dataclasses.replace(scenario, funding=dataclasses.replace(
        scenario.funding, shared_services=FrozenMap(services)))


def funding_scenario(scenario: Scenario, search: Search) -> Scenario:
    """The plan as a scenario to run and compare: ``scenario`` with each area's planned FTE
    set directly (in post from day 0: recruited and trained ahead of commencement)."""
    f = dataclasses.replace(scenario.funding, capacity_from="fte", schedule=(),
                            area_budget_gbp=FrozenMap(),
                            area_fte=FrozenMap({c: search.fte(c) for c in search.brackets}))
    text = (f"The price of commencement: the least FTE per area (steps of 0.1) found by "
            f"'rjsim plan' to pass the capacity test, on '{scenario.name}'. FTE are set "
            "directly and in post from day 0 (recruited and trained ahead of commencement).\n"
            + scenario.description)
    return dataclasses.replace(scenario, name=f"{scenario.name}_plan", funding=f,
                               description=text)
