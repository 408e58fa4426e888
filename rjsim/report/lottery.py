"""The postcode lottery section of a report: between-area inequality of access and of waits
(``tables/inequality`` of a run or capacity test, ``tables/comparison_inequality`` of a
comparison), read from the files alone like the rest of the report. The KPIs are defined in
:mod:`rjsim.analysis.inequality`.
"""

from __future__ import annotations

import pandas as pd

from rjsim.analysis import inequality
from rjsim.report.html import Html, join, para, table
from rjsim.results.reader import Results

EXPLAIN = ("Inequality between areas, computed in each replication from the areas' own "
           "figures and averaged over replications with a 95% confidence interval. The "
           "ratio is infinite when the best area loses no referral. Eligible victims are "
           "those whose offender is identified and accepts responsibility; receiving RJ means "
           "an intervention delivered by the service; each area's share is weighted by its "
           "population in the Gini coefficient (0: every area alike).")


def has_inequality(res: Results) -> bool:
    return res.has("inequality") or res.has("comparison_inequality")


def _value(x: object, kind: str) -> str:
    return inequality.format_value(float(x), kind, missing="", infinite="infinite")  # type: ignore[arg-type]


def _ci(r: pd.Series, low: str = "ci_low", high: str = "ci_high") -> str:
    a, b = _value(r[low], r["kind"]), _value(r[high], r["kind"])
    return f"{a} to {b}" if a and b else ""


def section(res: Results) -> Html:
    """The KPIs of one experiment, or of each option of a comparison with its sentence."""
    if res.has("comparison_inequality"):
        return _comparison(res.table("comparison_inequality"))
    t = res.optional("inequality")
    if t is None or t.empty:
        return join([])
    rows = [[r["label"], _value(r["mean"], r["kind"]), _ci(r)] for _, r in t.iterrows()]
    return join([table(["between areas", "mean", "95% CI"], rows, numeric_from=1),
                 para(EXPLAIN, cls="muted")])


def status_quo_sentence(res: Results) -> str | None:
    """The capacity test's postcode lottery against its status quo, as a sentence ("Under
    option X the gap ... narrows from A to B ..."), or None when the test ran without one."""
    t = res.optional("comparison_inequality")
    if t is None or t.empty or not res.has("capacity_test_national"):
        return None
    options = list(dict.fromkeys(t["option"]))
    if len(options) == 1:
        return (f"This scenario is itself the status quo (no statutory right, today's "
                f"funding): {inequality.gap_words(t, options[0])}.")
    text = inequality.gap_sentence(t, options[-1])
    return text[0].upper() + text[1:] + "."


def _comparison(t: pd.DataFrame) -> Html:
    options = list(dict.fromkeys(t["option"]))
    sentences = [para(inequality.gap_sentence(t, o)[0].upper()
                      + inequality.gap_sentence(t, o)[1:] + ".") for o in options[1:]]
    rows = [[r["option"], r["label"], _value(r["mean"], r["kind"]), _ci(r),
             _ci(r, "diff_ci_low", "diff_ci_high")] for _, r in t.iterrows()]
    return join([*sentences,
                 table(["option", "between areas", "mean", "95% CI",
                        f"difference from {options[0]}, 95% CI"], rows, numeric_from=2,
                       long=True),
                 para(EXPLAIN, cls="muted")])
