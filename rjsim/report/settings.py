"""A scenario's defining settings in plain words: the run, commencement and phasing, funding
(with every dated change of its schedule), staffing and the right's reach.

:func:`effective_settings` reads the resolved scenario as plain data (``scenario.toml`` of a
results directory, or :func:`rjsim.scenario.io.to_plain` of a loaded scenario), so
``rjsim assumptions`` and every report state the same settings the same way; the comparison
report puts them side by side where options differ (:func:`differing`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

#: How each allocation rule shares a national pot, in words.
ALLOCATION_WORDS = {
    "current": "as today's budgets", "population": "population",
    "recorded_crime": "police recorded crime", "eligible_demand": "need (each area's "
    "modelled referrals a year under the right)", "floor_plus": "a floor per area, the rest "
    "by a rule", "shares": "set shares", "column": "a column of the area data"}


def _num(x: Any) -> str:
    f = float(x)
    return str(int(f)) if f.is_integer() else f"{f:g}"


def _money(x: float) -> str:
    return f"GBP {x / 1e6:,.1f}m" if abs(x) >= 1e6 else f"GBP {x:,.0f}"


def _date(start: str, day: float) -> str:
    try:
        return (dt.date.fromisoformat(start) + dt.timedelta(days=float(day))).isoformat()
    except (TypeError, ValueError, OverflowError):
        return ""


def _when(start: str, day: Any, date: Any) -> str:  # a funding change's start
    """'day 365 (2026-04-01)' from a day or a date."""
    if date:
        try:
            days = (dt.date.fromisoformat(str(date)) - dt.date.fromisoformat(start)).days
        except ValueError:
            return str(date)
        return f"day {days} ({date})"
    when = _date(start, float(day))
    return f"day {_num(day)}" + (f" ({when})" if when else "")


def _pot(budget: Any, uprating: Any, allocation: Any, ringfenced: Any, leakage: Any) -> str:
    parts = []
    if budget is not None:
        factor = float(uprating) if uprating is not None else 1.0
        pot = float(budget) * factor
        parts.append(f"a national pot of {_money(pot)} a year" + (
            f" ({_money(float(budget))} x {factor:g} price uprating)" if factor != 1 else ""))
    if allocation:
        parts.append("shared by " + ALLOCATION_WORDS.get(str(allocation), str(allocation)))
    if ringfenced is False:
        parts.append("not ringfenced" + (f": {100 * float(leakage):.0f}% spent on other "
                                         "victim services" if leakage else ""))
    elif ringfenced is True and budget is not None:
        parts.append("ringfenced")
    return ", ".join(parts)


def funding_lines(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The funding in force at the start and every dated change, in plain words."""
    f = s.get("funding", {})
    start = str(s.get("run", {}).get("start_date", ""))
    if f.get("capacity_from") == "fte":
        per_area = f.get("area_fte") or {}
        if per_area:
            general = sum(float(v.get("general", 0)) for v in per_area.values())
            special = sum(float(v.get("specialist", 0)) for v in per_area.values())
            return [("Capacity", f"set directly per area: {general:,.1f} general and "
                                 f"{special:,.1f} specialist facilitators (FTE) in all")]
        fte = f.get("fte", {})
        return [("Capacity", f"set directly: {_num(fte.get('general', 0))} general and "
                             f"{_num(fte.get('specialist', 0))} specialist facilitators (FTE) "
                             "in each area")]
    first = ("per-area budgets set in the scenario for "
             f"{len(f['area_budget_gbp'])} area(s); " if f.get("area_budget_gbp") else "")
    out = [("Funding from the start", first + _pot(
        f.get("national_budget_gbp"), f.get("uprating_factor"), f.get("allocation"),
        f.get("ringfenced"), f.get("leakage_share")))]
    for change in f.get("schedule") or []:
        text = _pot(change.get("national_budget_gbp"), change.get("uprating_factor"),
                    change.get("allocation"), change.get("ringfenced"),
                    change.get("leakage_share"))
        if change.get("area_budget_gbp"):
            text = (f"budgets set for {len(change['area_budget_gbp'])} area(s)"
                    + (f"; {text}" if text else ""))
        out.append((f"Funding from {_when(start, change.get('from_day'), change.get('from_date'))}",
                    text or "no change"))
    return out


def right_in_force(right: Mapping[str, Any]) -> str:
    """When the statutory right commences: one day or date, or each phase's."""
    def when(table: Mapping[str, Any]) -> str:
        day = table.get("commence_day")
        return f"day {_num(day)}" if day is not None else str(table.get("commence_date"))

    phases = [p for p in right.get("phase") or [] if isinstance(p, Mapping)]
    if phases:
        return f"commenced in {len(phases)} phases: " + "; ".join(
            f"{p.get('label') or i + 1} on {when(p)} ("
            f"{', '.join(map(str, p.get('groups') or ['every group']))} in "
            f"{', '.join(map(str, p.get('areas') or ['every area']))})"
            for i, p in enumerate(phases))
    if right.get("commence_day") is None and right.get("commence_date") is None:
        return "not commenced"
    return f"commenced on {when(right)}"


def commencement(s: Mapping[str, Any]) -> str:
    """When the statutory right is in force (phase by phase) and how many victims are then
    told about RJ, in plain words."""
    right = s.get("statutory_right", {})
    right = right if isinstance(right, Mapping) else {}
    text = right_in_force(right)
    informed = right.get("informed")
    if text == "not commenced" or informed is None:
        return text
    ramp = float(right.get("ramp_days") or 0)
    rise = (f", reached over {_num(ramp)} days ({right.get('ramp_curve', 'linear')} ramp)"
            if ramp > 0 else "")
    return (f"{text}; then {100 * float(informed):.0f}% of eligible victims are told about RJ"
            f"{rise}")


def effective_settings(s: Mapping[str, Any], replications: object = None
                       ) -> list[tuple[str, str]]:
    """(what, value) of the settings that define an option, in plain words: the run (with
    ``replications`` actually run, if given), commencement and phasing, funding and its
    schedule, staffing."""
    run = s.get("run", {})
    reps = replications if replications not in (None, "") else run.get("replications", "?")
    staffing = s.get("staffing", {})
    funding = s.get("funding", {})
    rows = [("Simulated", f"{_num(run.get('years', 0))} years from {run.get('start_date', '?')}"
                          f", {reps} replications, seed {run.get('seed', '?')}"),
            ("Statutory right", commencement(s)), *funding_lines(s)]
    if funding.get("capacity_from") != "fte":
        rows.append(("Facilitator cost", f"salary {_money(float(funding.get('salary_gbp', 0)))}"
                     f" x {_num(funding.get('on_cost_factor', 1))} on-costs, plus "
                     f"{100 * float(funding.get('overhead_share', 0)):.0f}% overheads; "
                     f"{100 * float(funding.get('specialist_share', 0)):.0f}% of posts "
                     "specialist"))
    if staffing:
        lag = _num(staffing.get("recruitment_lag_days", 0))
        training = _num(staffing.get("specialist_training_lag_days", 0))
        leave = 100 * float(staffing.get("attrition_per_year", 0))
        rows.append(("Staffing", f"new posts filled after {lag} days (specialists {training} "
                     f"more for training); {leave:.0f}% leave a year"))
    return rows


#: Scenario keys (dotted prefixes) that :func:`effective_settings` states in words.
COVERED = ("name", "title", "description", "run.years", "run.start_date", "run.seed",
           "run.replications", "statutory_right.commence_day", "statutory_right.commence_date",
           "statutory_right.phase", "statutory_right.informed",
           "statutory_right.ramp_days", "statutory_right.ramp_curve", "funding.capacity_from",
           "funding.national_budget_gbp", "funding.uprating_factor", "funding.allocation",
           "funding.ringfenced", "funding.leakage_share", "funding.schedule",
           "funding.area_budget_gbp", "funding.area_fte", "funding.fte", "funding.salary_gbp",
           "funding.on_cost_factor", "funding.overhead_share", "funding.specialist_share",
           "staffing.recruitment_lag_days", "staffing.specialist_training_lag_days",
           "staffing.attrition_per_year")


def covered(key: str) -> bool:
    """Whether a dotted scenario key is stated by :func:`effective_settings`."""
    return any(key == c or key.startswith(c + ".") or key.startswith(c + "[")
               for c in COVERED)


def differing(settings: Mapping[str, Sequence[tuple[str, str]]]) -> list[list[str]]:
    """Rows [what, value under each option] of the settings whose value differs between the
    options (a dated funding change an option lacks shows as 'no change', any other setting as
    'not set'), in first-seen order."""
    names = list(settings)
    whats: list[str] = []
    for rows in settings.values():
        whats += [w for w, _ in rows if w not in whats]
    values = {n: dict(settings[n]) for n in names}
    out = []
    for what in whats:
        missing = "no change" if what.startswith("Funding from ") else "not set"
        cells = [values[n].get(what, missing) for n in names]
        if len(set(cells)) > 1:
            out.append([what, *cells])
    return out
