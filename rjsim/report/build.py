"""``rjsim report``: a self-contained HTML report and a spreadsheet from a results directory.

:func:`build_report` reads a results directory's files alone (tables, manifest, assumptions,
resolved scenario; the model is never re-run) and writes, atomically:

* ``report.html``: one file with the figures embedded, no scripts and nothing fetched from the
  internet, readable on a phone and printable, for committee staff;
* ``report.xlsx``: every table as a sheet, with a README sheet describing every column;
* ``figures/*.png`` and ``*.svg``: the figures, for slides and papers.

Experiments, comparisons and sweeps each get their own kind of report; a sweep also gets one
report per point.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

from rjsim.core.errors import ResultsError
from rjsim.report import capacity as report_capacity
from rjsim.report import compare as report_compare
from rjsim.report import credibility, decision, figures, lottery, plots
from rjsim.report import sections as report_sections
from rjsim.report import uncertainty as report_uncertainty
from rjsim.report.conclusion import conclusion, plan_estimate
from rjsim.report.html import Html, figure, join, page, para
from rjsim.report.spreadsheet import Summary, write_workbook
from rjsim.results.atomic import move_atomic, write_bytes_atomic, write_text_atomic
from rjsim.results.reader import Results, open_results

log = logging.getLogger(__name__)

REPORT = "report.html"
WORKBOOK = "report.xlsx"
WAIT_NOTE = ("Each row is one area's wait statistics (means over replications) for referrals "
             "that were allocated a facilitator; it shows how waits differ between areas, not "
             "the wait of every victim. Referrals lost while waiting are not in these waits.")


def build_report(results_dir: Path) -> Path:
    """Build ``report.html``, ``report.xlsx`` and ``figures/`` in ``results_dir``.

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    ResultsError
        If ``results_dir`` is not an rjsim results directory or lacks its tables.
    """
    res = open_results(Path(results_dir))
    try:
        if res.kind == "sweep":
            for point in report_compare.sweep_points(res):
                _experiment_report(point)
            return _sweep_report(res)
        if res.kind == "comparison":
            return _comparison_report(res)
        if res.kind in ("uncertainty", "sensitivity"):
            return _uncertainty_report(res)
        return _experiment_report(res)
    except (KeyError, ValueError) as exc:  # a table edited or damaged by hand
        raise ResultsError(f"{res.path}: a table does not have the columns or values rjsim "
                           f"wrote ({type(exc).__name__}: {exc}); re-run the command that "
                           "wrote this directory") from None


def _save(res: Results, stem: str, fig: Figure) -> bytes:
    """Write ``figures/<stem>.png`` and ``.svg`` atomically; return the PNG bytes."""
    png, svg = figures.render(fig)
    write_bytes_atomic(res.path / "figures" / f"{stem}.png", png)
    write_bytes_atomic(res.path / "figures" / f"{stem}.svg", svg)
    return png


def _experiment_figures(res: Results) -> Html:
    target = report_sections.wait_target(res)
    nat = res.table("national_summary")
    made = [("backlog", figures.backlog(res.table("national_month"),
                                        res.setting("statutory_right.commence_day")),
             "Backlog over time", "Referrals waiting for a facilitator, national, by month: "
             "the line is the mean over replications, the band its 95% confidence interval.")
            ] if res.has("national_month") else []
    made += [("funnel", figures.funnel(nat), "The funnel from victims to interventions",
              "Victims and cases a year at each step (log scale: each step is a fraction of "
              "the one before); error bars are 95% CIs."),
             ("waits", figures.waits(res.table("kpi_area"), report_sections.force_names(res),
                                     target), "Waits for a facilitator by area", WAIT_NOTE),
             ("unmet_by_reason", figures.unmet_by_reason(nat), "Unmet demand by reason",
              "Referrals lost for lack of capacity a year, by why they were lost.")]
    if res.has("group_summary"):
        made.append(("unmet_by_group", figures.unmet_by_group(res.table("group_summary")),
                     "Unmet demand by offence group", "Referrals lost for lack of capacity a "
                     "year by offence group, labelled with the share of that group's "
                     "referrals lost."))
    return join(figure(_save(res, stem, fig), alt, caption) for stem, fig, alt, caption in made)


def _experiment_report(res: Results) -> Path:
    sections: list[tuple[str, str, Html]] = [
        ("headline", "Headline", report_sections.headline(res)),
        ("what", "What was run and why", report_sections.what_was_run(res))]
    if report_capacity.has_capacity_test(res):
        sections.append(("capacity", "Capacity test", report_capacity.capacity_section(res)))
    if report_capacity.has_plan(res):
        sections.append(("plan", "Staffing plan", report_capacity.plan_section(res)))
    sections += [
        ("national", "National figures", report_sections.national_table(res)),
        ("figures", "Figures", _experiment_figures(res)),
        ("areas", "Areas", report_sections.area_table(res)),
        ("credibility", "Credibility: the status quo against the evidence",
         credibility.credibility_section(res))]
    if lottery.has_inequality(res):
        sections.append(("lottery", "Between areas: the postcode lottery",
                         lottery.section(res)))
    sections.append(("assumptions", "Assumptions and limitations",
                     report_sections.assumptions_section(res)))
    name = str(res.manifest.get("scenario") or res.path.name)
    title = res.setting("title", "")
    shown = f"{title} ({name})" if isinstance(title, str) and title else name
    return _write(res, f"Restorative justice capacity: {shown}", _subtitle(res), sections)


def _uncertainty_report(res: Results) -> Path:
    name = str(res.manifest.get("scenario") or res.path.name)
    if report_uncertainty.option_names(res):
        for option in report_uncertainty.option_results(res):
            _uncertainty_report(option)
        names = ", ".join(report_uncertainty.option_names(res))
        return _write(res, f"Restorative justice options under uncertainty: {names}",
                      _subtitle(res), report_uncertainty.options_sections(res))
    if res.kind == "sensitivity":
        return _write(res, f"What drives the answer: {name}", _subtitle(res),
                      report_uncertainty.sensitivity_sections(res))
    return _write(res, f"Restorative justice capacity under uncertainty: {name}", _subtitle(res),
                  report_uncertainty.uncertainty_sections(res))


def _subtitle(res: Results) -> str:
    when = str(res.manifest.get("finished_utc", ""))[:10]
    return ("A simulation of restorative justice services in England and Wales by rjsim"
            + (f", run on {when}" if when else "") + ". Figures are model estimates, not "
            "observations.")


def _write(res: Results, title: str, subtitle: str,
           sections: list[tuple[str, str, Html]], summary: Summary | None = None) -> Path:
    text = page(title, subtitle, sections, report_sections.reproducibility(res))
    write_workbook(res, res.path / WORKBOOK, summary)
    out = write_text_atomic(res.path / REPORT, text)
    log.info("report written to %s", out)
    return out


def _frontier(res: Results) -> bytes:
    """The funding frontier via :func:`rjsim.report.plots.funding_frontier`, moved into place
    atomically; returns the PNG bytes."""
    folder = res.path / "figures"
    folder.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".frontier-", dir=folder))
    try:
        plots.funding_frontier(res.table("comparison_estimates"), tmp / "funding_frontier")
        for ext in (".svg", ".png"):
            move_atomic(tmp / f"funding_frontier{ext}", folder / f"funding_frontier{ext}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return (folder / "funding_frontier.png").read_bytes()


def _comparison_figures(res: Results) -> Html:
    diff = figures.option_differences(res.table("comparison_differences"),
                                      report_compare.COMPARE_KPIS)
    return join([
        figure(_save(res, "option_differences", diff), "Differences between options",
               "Each option minus the baseline, with the 95% CI of the paired difference "
               "(common random numbers). Filled markers: real at 95%; hollow: not "
               "distinguishable from noise."),
        figure(_frontier(res), "Funding frontier",
               "Annual spend against unmet demand for each option (national means, 95% CIs). "
               "Options further down and to the left leave less unmet demand for less money.")])


def _comparison_report(res: Results) -> Path:
    rows = decision.option_rows(res)
    headline = conclusion(rows, plan_estimate(res, rows))
    sections: list[tuple[str, str, Html]] = [
        ("decision", "The options at a glance", decision.decision_section(
            rows, headline, decision.uncertainty_note(res, rows))),
        ("differences", "How each option differs from the first",
         report_compare.differences_table(res)),
        ("what", "What was compared and why", report_compare.what_was_compared(res)),
        ("options", "Options side by side", report_compare.side_by_side(res)),
        ("figures", "Figures", _comparison_figures(res)),
        ("areas", "Differences by area", report_compare.area_counts(res)),
        *([("groups", "Differences by offence group", report_compare.group_differences(res))]
          if report_compare.has_groups(res) else []),
        ("credibility", "Credibility: the status quo against the evidence",
         credibility.credibility_section(res)),
        *([("lottery", "Between areas: the postcode lottery", lottery.section(res))]
          if lottery.has_inequality(res) else []),
        ("assumptions", "Assumptions and limitations", join([
            para("The assumptions below are the baseline's; the settings that differ between "
                 "the options are listed above. Each option's full results are under "
                 "scenarios/<name>/, and 'rjsim report' on that folder gives its own report."),
            report_sections.assumptions_section(res)]))]
    summary = Summary(decision.summary_frame(rows), decision.SUMMARY_COLUMNS,
                      [headline, decision.LIMITATION])
    # the options are named in the table that follows: ids in the heading only push it down
    return _write(res, f"Restorative justice: {len(rows)} options compared", _subtitle(res),
                  sections, summary)


def _sweep_report(res: Results) -> Path:
    sections: list[tuple[str, str, Html]] = [
        ("what", "What was run and why", para(
            res.setting("description", "") or "(no description)")),
        ("points", "Sweep points", report_compare.sweep_section(res))]
    name = str(res.manifest.get("sweep") or res.path.name)
    return _write(res, f"Restorative justice sweep: {name}", _subtitle(res), sections)
