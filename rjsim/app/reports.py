"""Commands that describe rather than run: ``rjsim report`` (a results directory's report,
from its files alone) and ``rjsim assumptions`` (every parameter with its source)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rjsim.app.common import Outcome, pdf_line

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """``rjsim report``: the results directory to build ``report.html``, ``report.xlsx`` and
    ``figures/`` in (it never re-runs the model)."""

    results: Path
    pdf: bool = False


def report(options: ReportOptions) -> Outcome:
    """Build the report (``pdf``: and print it to ``report.pdf``); ``Outcome.report`` is
    ``report.html``."""
    from rjsim.report.build import build_report
    page = build_report(Path(options.results))
    lines: tuple[str, ...] = (f"Report: {page}",)
    if options.pdf:
        lines += pdf_line(Path(options.results), lines)
    return Outcome(lines=lines, out=Path(options.results), report=page)


@dataclass(frozen=True, kw_only=True)
class AssumptionsOptions:
    """``rjsim assumptions``: the packaged defaults, or a scenario file's values."""

    scenario: Path | None = None


@dataclass(frozen=True, kw_only=True)
class AssumptionsOutcome(Outcome):
    """Every parameter: key, value, range, source and confidence."""

    table: pd.DataFrame


def assumptions(options: AssumptionsOptions) -> AssumptionsOutcome:
    """The scenario's effective settings in plain words (run, commencement and phasing,
    funding with its dated schedule, staffing), then every parameter with its value (in the
    scenario, if given), range, source and confidence."""
    from rjsim.core.schema import to_plain
    from rjsim.report.settings import effective_settings
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    scenario = (scenario_io.load(options.scenario) if options.scenario
                else scenario_io.from_dict({}))
    table = store.assumptions_table(scenario)
    lines = [f"Effective settings of '{scenario.name}'"
             + (f" ({scenario.title})" if scenario.title else "") + ":"]
    lines += [f"  {what}: {value}" for what, value in
              effective_settings(to_plain(scenario))]
    lines += ["", "Every parameter (the value before any dated change of the funding "
              "schedule above), its range, confidence and source:"]
    for row in table.itertuples():
        rng = f" (range {row.low}-{row.high})" if row.low or row.high else ""
        lines.append(f"{row.key} = {row.value}{rng} [{row.confidence}]\n    {row.source}")
    return AssumptionsOutcome(lines=tuple(lines), table=table)
