"""The capacity-test and staffing-plan sections of a report, shown only when the results
directory has them (``tables/capacity_test_*``, ``figures/capacity_map.png``,
``tables/plan_*``). Read from the files alone, like the rest of the report.
"""

from __future__ import annotations

import math

import pandas as pd

from rjsim.capacity import time_to_pass_text
from rjsim.capacity.time_to_pass_realised import NATIONAL
from rjsim.core.codes import Verdict
from rjsim.report import capmap, lottery
from rjsim.report.columns import fmt
from rjsim.report.html import Html, badge, figure, join, para, table, tag
from rjsim.results.reader import Results

VERDICT_ORDER = {Verdict.FAIL: 0, Verdict.INCONCLUSIVE: 1, Verdict.PASS: 2}


def has_capacity_test(res: Results) -> bool:
    """Whether the results directory holds a capacity test."""
    return res.has("capacity_test_national")


def has_plan(res: Results) -> bool:
    """Whether the results directory holds a staffing plan."""
    return res.has("plan_national") or res.has("plan_area")


def _num(x: object) -> str:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return ""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def map_key(forces: list[str]) -> Html:
    """The key of the map's tile abbreviations (:func:`rjsim.report.capmap.labels`), in
    alphabetical order of abbreviation, flowing into as many columns as the page allows."""
    pairs = sorted(zip(capmap.labels(forces), forces, strict=True))
    items = [tag("div", tag("dt", short), tag("dd", name)) for short, name in pairs]
    return tag("section", tag("h3", "Key to the map"), tag("dl", *items, cls="key"),
               cls="map-key")


def _summary(nat: pd.DataFrame) -> Html:
    r = nat.iloc[0]
    more = r.get("more_replications_needed")
    lines: list[object] = [
        para("National verdict: ", badge(str(r["verdict"])), f". Of {int(r['areas'])} areas, "
             f"{int(r['areas_pass'])} pass, {int(r['areas_fail'])} fail and "
             f"{int(r['areas_inconclusive'])} are inconclusive, over "
             f"{int(r['replications'])} replications, judged on days "
             f"{_num(r['window_start_day'])} to {_num(r['window_end_day'])} of the run.")]
    if _num(more):
        lines.append(para(f"About {_num(more)} replications would be needed to settle the "
                          "inconclusive verdicts."))
    lines.append(para("Each area is judged on five criteria (timeliness, unmet demand, "
                      "utilisation, backlog trend, coverage), each an estimate with its 95% "
                      "confidence interval against a threshold. An inconclusive verdict means "
                      "the interval straddles a threshold: more replications, not a different "
                      "answer, are needed to decide it. The binding criterion is the one that "
                      "decides the area's verdict (or comes closest); its margin is the "
                      "distance from the threshold, negative on the failing side.",
                      cls="muted"))
    return join(lines)


def _verdict_table(v: pd.DataFrame) -> Html:
    v = v.assign(_order=v["verdict"].astype(str).str.lower().map(VERDICT_ORDER).fillna(3))
    v = v.sort_values(["_order", "force"])
    rows = [[r["force"], r.get("region", ""), badge(str(r["verdict"])),
             r.get("binding_criterion", ""), _num(r.get("binding_margin"))]
            for _, r in v.iterrows()]
    return table(["area", "region", "verdict", "binding criterion", "margin"], rows,
                 numeric_from=4, long=True)


def _criteria_table(a: pd.DataFrame) -> Html:
    rows = []
    for _, r in a.sort_values(["force", "criterion"]).iterrows():
        ci = f"{_num(r['ci_low'])} to {_num(r['ci_high'])}" if _num(r["ci_low"]) else ""
        rows.append([r["force"], r["criterion"], _num(r["estimate"]), ci,
                     f"{r['comparison']} {_num(r['threshold'])}", _num(r["margin"]),
                     badge(str(r["verdict"])), _num(r.get("replications_needed")),
                     r.get("unit", "")])
    return table(["area", "criterion", "estimate", "95% CI", "must be", "margin", "verdict",
                  "replications needed", "unit"], rows, numeric_from=2, long=True)


def _months(value: object) -> str:
    v = float(value)  # type: ignore[arg-type]
    return "" if math.isnan(v) else f"{v:.0f}" if math.isfinite(v) else "not within the run"


def _sentence(text: str) -> Html:
    return para(text[0].upper() + text[1:] + ".") if text else join([])


def time_to_pass_section(res: Results) -> Html:
    """Time to pass (``tables/time_to_pass``): the national headline (the first window the
    test itself passes, with its bootstrap interval and calendar month), its floor, the
    per-replication measure, and each area's, slowest first."""
    ttp = res.optional("time_to_pass")
    if ttp is None or ttp.empty:
        return join([])
    nat = ttp[ttp["area"] == NATIONAL]
    parts: list[object] = []
    if len(nat):
        row = {str(k): v for k, v in nat.iloc[0].items()}
        parts += [_sentence(time_to_pass_text.sentence(row)),
                  _sentence(time_to_pass_text.floor_sentence(row)),
                  _sentence(time_to_pass_text.realised_sentence(row))]
    r = ttp.iloc[0]
    level = f"{100 * float(r['confidence_level']):g}%"
    parts.append(para(
        f"Rolling {int(r['window_months'])}-month assessment windows, a month apart, starting "
        "where the test's own window starts, then the test's own window (its start to the end "
        "of the run). 'Met' means the test itself passes the window: the conservative end of "
        f"every criterion's {level} confidence interval across replications meets its "
        "threshold, in every area for the national test, as the capacity test judges. Time is "
        "counted from commencement to the end of the first such window (its last month is "
        "shown). Its interval is a bootstrap over replications (resampled with replacement, "
        "every window judged again; fixed seed), conditional on this run's replications. "
        "'Per replication' is realised performance, not the test: within one replication "
        "every criterion's own value meets its threshold (no confidence margin), in every area "
        "in the same window for the nation; it is stricter than the test where many areas sit "
        "just under a threshold and looser where an area's mean sits just inside one. Its "
        f"median over replications has a distribution-free {level} interval, and replications "
        "in which no window passes are counted as later than the last window "
        f"({float(r['last_window_months']):.0f} months), never dropped.", cls="muted"))
    areas = ttp[ttp["area"] != NATIONAL].sort_values(
        ["demonstrated_months", "median_months", "force"], ascending=[False, False, True])
    rows = []
    for _, a in areas.iterrows():
        record = {str(k): v for k, v in a.items()}
        finite = math.isfinite(float(a["demonstrated_months"]))
        rows.append([
            a["force"], _months(a["demonstrated_months"]),
            time_to_pass_text.calendar(a["demonstrated_month"]) if finite else "",
            time_to_pass_text.demonstrated_interval(record) if finite
            or int(a["bootstrap_resamples"]) == 0 else
            f"met in {float(a['bootstrap_share_demonstrated']):.0%} of resamples",
            _months(a["median_months"]), time_to_pass_text.median_words(record),
            f"{int(a['replications_censored'])} of {int(a['replications'])}"])
    parts.append(table(["area", "months to pass", "by", "interval", "per replication: median "
                        "months", "its interval", "replications never passing"], rows,
                       numeric_from=1, long=True))
    return join(parts)


def _status_quo_note(res: Results) -> str:
    """What the status quo of a capacity test was and how the gap is measured."""
    test = res.manifest.get("capacity_test")
    quo = test.get("status_quo", {}) if isinstance(test, dict) else {}
    source = str(quo.get("source", "")) if isinstance(quo, dict) else ""
    what = (f"the scenario '{quo['scenario']}' from {source}" if source and not
            source.startswith("derived") else "this scenario without the statutory right, "
            "with today's funding and no regional pooling")
    kept = f" ({quo['file']} in this folder)" if isinstance(quo, dict) and quo.get("file") else ""
    return ("The gap is the worst area's unmet-demand rate minus the best area's, averaged "
            f"over replications. The status quo is {what}{kept}, run on the same areas, "
            "assessment window and random numbers, so the paired difference isolates the "
            "option's effect and its interval is the simulation noise left. Every between-area "
            "measure is under 'Between areas: the postcode lottery'.")


def capacity_section(res: Results) -> Html:
    """The national verdict, the map, and each area's verdict and criteria."""
    parts: list[object] = [_summary(res.table("capacity_test_national"))]
    map_png = res.figure("capacity_map")
    if map_png is not None:
        parts.append(figure(map_png.read_bytes(), "Map of capacity-test verdicts by area",
                            "Capacity-test verdict of each police force area."))
    verdict = res.optional("capacity_test_verdict")
    if map_png is not None and verdict is not None and "force" in verdict:
        parts.append(map_key(list(verdict["force"].astype(str))))
    if verdict is not None:
        parts += [tag("h3", "Verdict by area (failing areas first)"), _verdict_table(verdict)]
    if res.has("time_to_pass"):
        parts += [tag("h3", "Time to pass"), time_to_pass_section(res)]
    gap = lottery.status_quo_sentence(res)
    if gap is not None:
        parts += [tag("h3", "The postcode lottery against the status quo"), para(gap),
                  para(_status_quo_note(res), cls="muted")]
    area = res.optional("capacity_test_area")
    if area is not None:
        parts += [tag("h3", "Every criterion in every area"), _criteria_table(area)]
    return join(parts)


def plan_section(res: Results) -> Html:
    """The staffing plan: its national cost against today's budget and per-area posts."""
    parts: list[object] = []
    nat = res.optional("plan_national")
    if nat is not None and len(nat):
        r = nat.iloc[0]
        change = float(r["change_gbp"])
        parts.append(para(
            f"The plan costs {fmt(float(r['total_annual_cost_gbp']), 'gbp')} a year against "
            f"today's {fmt(float(r['today_budget_gbp']), 'gbp')}: "
            f"{fmt(abs(change), 'gbp')} a year {'more' if change >= 0 else 'less'}."))
    area = res.optional("plan_area")
    if area is not None:
        rows = [[r["force"], f"{float(r['general_fte']):.1f}",
                 f"{float(r['specialist_fte']):.1f}", fmt(float(r["annual_cost_gbp"]), "gbp"),
                 fmt(float(r["today_budget_gbp"]), "gbp"),
                 fmt(float(r["change_gbp"]), "gbp", signed=True)]
                for _, r in area.sort_values("force").iterrows()]
        parts.append(table(["area", "general FTE", "specialist FTE", "annual cost",
                            "today's budget", "change"], rows, long=True))
    return join(parts)
