"""Time to pass in words: the sentences of the printed summary and the report, read from a row
of :attr:`rjsim.capacity.time_to_pass.TimeToPass.summary` (or of the ``time_to_pass`` table).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from rjsim.capacity.time_to_pass import TimeToPass
from rjsim.capacity.time_to_pass_demonstrated import MIN_BOOTSTRAP_REPLICATIONS, TEST_WINDOW
from rjsim.capacity.time_to_pass_realised import NATIONAL, NATIONAL_NAME
from rjsim.core.codes import Verdict


def _months(value: float, last: float) -> str:
    if math.isnan(value):
        return "?"
    return f"{value:.0f}" if math.isfinite(value) else f"> {last:.0f}"


def calendar(label: object) -> str:
    """"2027-10" as "October 2027" ("" for none)."""
    text = "" if label is None or (isinstance(label, float) and math.isnan(label)) else str(
        label)
    try:
        return dt.date.fromisoformat(text + "-01").strftime("%B %Y")
    except ValueError:
        return text


def fewest_for_median_interval(level: float) -> int:
    """The fewest replications that give the median a distribution-free interval at
    ``level`` (its widest, from the smallest to the largest, covers 1 - 2 / 2^n)."""
    return math.ceil(math.log2(2 / (1 - level)) - 1e-12)


def _level(row: dict[str, Any]) -> str:
    return f"{100 * float(row['confidence_level']):g}%"


def _since(row: dict[str, Any]) -> str:
    commences = not math.isnan(float(row["commence_day"]))
    return "after commencement" if commences else "after the start of the run"


def _who(row: dict[str, Any]) -> str:
    if row["area"] != NATIONAL:
        return f"the test in {row['force']}"
    return ("the national test" if row["force"] == NATIONAL_NAME
            else f"the test across {row['force']}")


def demonstrated_interval(row: dict[str, Any]) -> str:
    """The bootstrap interval of the demonstrated time, in words."""
    n, resamples = int(row["replications"]), int(row["bootstrap_resamples"])
    if resamples == 0:
        return (f"no {_level(row)} interval with fewer than {MIN_BOOTSTRAP_REPLICATIONS} "
                "replications")
    low, high = float(row["demonstrated_ci_low_months"]), float(row["demonstrated_ci_high_months"])

    def end(v: float, label: object) -> str:
        return f"{v:.0f} months ({calendar(label)})" if math.isfinite(v) else "not within the run"
    return (f"{_level(row)} CI {end(low, row['demonstrated_ci_low_month'])} to "
            f"{end(high, row['demonstrated_ci_high_month'])}, by a bootstrap over the {n} "
            f"replications ({resamples:,} resamples)")


def sentence(row: dict[str, Any]) -> str:
    """The headline of one summary row in words: "the national test is first met N months
    after commencement, by <Month YYYY> (95% CI ...)" when the test itself demonstrates a
    window, or why not."""
    who, since = _who(row), _since(row)
    n = int(row["replications"])
    if n == 0:
        return f"{who}: no assessment window fits in the run"
    demo = float(row["demonstrated_months"])
    if math.isfinite(demo):
        only = ("; demonstrated only over the test's own window, to the end of the run, in no "
                f"single {int(row['window_months'])}-month window"
                if row["demonstrated_window"] == TEST_WINDOW else "")
        verdict = str(row.get("test_window_verdict", "") or "")
        whole = (f"; over the test's own window, from its start to the end of the run, the "
                 f"verdict is {verdict}" if verdict and verdict != Verdict.PASS
                 and row["demonstrated_window"] != TEST_WINDOW else "")
        return (f"{who} is first met {demo:.0f} months {since}, by "
                f"{calendar(row['demonstrated_month'])} ({demonstrated_interval(row)}{only}"
                f"{whole})")
    end = float(row["test_window_months"])
    text = (f"{who} is not met within the run: the test passes no window on its {_level(row)} "
            f"confidence intervals up to {end:.0f} months {since}")
    if row["area"] == NATIONAL and not math.isnan(float(row["areas_passing_best_window"])):
        text += (f" (at best {int(row['areas_passing_best_window'])} of {int(row['areas'])} "
                 "areas pass the same window)")
    if int(row["bootstrap_resamples"]):
        text += (f"; it is met within the run in {float(row['bootstrap_share_demonstrated']):.0%}"
                 f" of {int(row['bootstrap_resamples']):,} bootstrap resamples of the {n} "
                 "replications")
    return text


def floor_sentence(row: dict[str, Any]) -> str:
    """The earliest possible time to pass and why."""
    if math.isnan(float(row["earliest_months"])):
        return ""
    opens = ("commencement + the awareness ramp "
             f"({float(row['ramp_days']):g} days) + capacity_test.settle_days "
             f"({float(row['settle_days']):g} days)"
             if not math.isnan(float(row["commence_day"])) else
             f"the start of the run + capacity_test.settle_days ({float(row['settle_days']):g} "
             "days)")
    return (f"Earliest possible: {float(row['earliest_months']):.0f} months {_since(row)} "
            f"(by {calendar(row['earliest_month'])}), even with every post filled: windows open "
            f"at {opens}, from the next month, and a window must run its full "
            f"{int(row['window_months'])} months")


def median_words(row: dict[str, Any]) -> str:
    """The per-replication median's interval, in words."""
    low, high = float(row["ci_low_months"]), float(row["ci_high_months"])
    if math.isnan(low) or math.isnan(high):
        return (f"no {_level(row)} interval with fewer than "
                f"{fewest_for_median_interval(float(row['confidence_level']))} replications")
    last = float(row["last_window_months"])
    return f"{_level(row)} CI {_months(low, last)} to {_months(high, last)}"


def realised_sentence(row: dict[str, Any]) -> str:
    """The per-replication (realised-performance) measure in words."""
    n, censored = int(row["replications"]), int(row["replications_censored"])
    last, median = float(row["last_window_months"]), float(row["median_months"])
    if n == 0 or math.isnan(last):
        return ""
    national = row["area"] == NATIONAL
    what = ("every area meets every threshold in the same window" if national
            else "the area meets every threshold in one window")
    never = f"{censored} of {n} replications never do within {last:.0f} months"
    head = ("Realised performance, per replication (each replication's own values, no "
            "confidence margin)")
    if not math.isfinite(median):
        where = ("every area meets every threshold" if national
                 else "the area meets every threshold")
        return (f"{head}: {censored} of {n} replications have no window in which {where} "
                f"within {last:.0f} months")
    return (f"{head}: {what} after a median of {median:.0f} months {_since(row)} "
            f"({median_words(row)}; {never})")


def summary_text(result: TimeToPass, k: int = 5) -> str:
    """The national sentences and the slowest areas."""
    s = result.summary
    if s.empty:
        return ""
    head = (f"Time to pass (rolling {int(s['window_months'].iloc[0])}-month windows a month "
            "apart from the test's window start, then the test's own window; months from "
            "commencement to the end of the first window the test passes)")
    nat = result.national
    lines = [head, *("  " + t[0].upper() + t[1:] + "." for t in (
        sentence(nat), floor_sentence(nat), realised_sentence(nat)) if t)]
    areas = s[s["area"] != NATIONAL].sort_values(
        ["demonstrated_months", "median_months", "replications_censored"],
        ascending=False).head(k)
    if len(areas):
        lines.append(f"  Slowest areas ({len(areas)} shown; demonstrated by the test, then "
                     "per replication):")
        for record in areas.to_dict("records"):
            r = {str(key): v for key, v in record.items()}
            demo = float(r["demonstrated_months"])
            shown = (f"met {demo:.0f} months, by {calendar(r['demonstrated_month'])} "
                     f"({demonstrated_interval(r)})" if math.isfinite(demo)
                     else "not met within the run")
            last = float(r["last_window_months"])
            lines.append(f"    {r['force']:<28} {shown}; per replication median "
                         f"{_months(float(r['median_months']), last)} ({median_words(r)}), "
                         f"{r['replications_censored']} of {r['replications']} never pass")
    return "\n".join(lines) + "\n"
