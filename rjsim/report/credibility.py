"""The credibility section of every report: the status quo against the published evidence.

A results directory written by ``rjsim backcast`` carries its own back-cast table. Any other
(``run``, ``compare``, ``capacity-test``, ``plan``) is shown the back-cast of rjsim's shipped
status quo, packaged as ``data/backcast_defaults.csv`` with the status-quo settings it was made
with (``data/backcast_defaults.json``); the section says whether the run's scenario has the same
status quo, and if not which settings differ, so that a reader knows when to back-cast their
own scenario. ``make backcast-data`` regenerates the packaged files (:func:`package`).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from rjsim.report.evidence import published, value
from rjsim.report.html import Html, join, para, table, tag
from rjsim.results.reader import Results

PACKAGED = "backcast_defaults"
#: Scenario sections the status quo (and so the back-cast) depends on; within them, keys the
#: back-cast replaces or that do not change what is simulated.
STATUS_QUO_SECTIONS = ("areas", "demand", "level_one", "service", "stages", "exits",
                       "interventions", "funding", "staffing")
IGNORED = ("funding.schedule",)


def packaged() -> tuple[pd.DataFrame, dict[str, Any]]:
    """The packaged back-cast of the shipped status quo, and how it was made."""
    data = resources.files("rjsim").joinpath("data")
    table = pd.read_csv(io.StringIO(data.joinpath(f"{PACKAGED}.csv").read_text("utf-8")))
    meta: dict[str, Any] = json.loads(data.joinpath(f"{PACKAGED}.json").read_text("utf-8"))
    return table, meta


def status_quo_settings(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a resolved scenario (as in ``scenario.toml``) that its status quo
    depends on, by dotted key."""
    flat: dict[str, Any] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping) and node:
            for key, child in node.items():
                walk(child, f"{path}.{key}")
        elif path not in IGNORED:
            flat[path] = node
    for section in STATUS_QUO_SECTIONS:
        walk(scenario.get(section, {}), section)
    return flat


def differences(made_with: Mapping[str, Any], scenario: Mapping[str, Any]) -> list[str]:
    """Keys whose value in ``scenario`` differs from the settings the back-cast was made with
    (keys the back-cast did not know, added later with defaults that change nothing, are not
    differences)."""
    mine = status_quo_settings(scenario)
    return sorted(k for k, v in made_with.items() if mine.get(k, _MISSING) != v)


_MISSING = object()


def package(results_dir: Path, data_dir: Path) -> None:
    """Write ``backcast_defaults.csv`` and ``.json`` into ``data_dir`` from the results of
    ``rjsim backcast`` on the shipped baseline."""
    manifest = json.loads((results_dir / "manifest.json").read_text(encoding="utf-8"))
    res = Results(results_dir, manifest)  # a back-cast directory: no experiment tables
    res.table("backcast").to_csv(data_dir / f"{PACKAGED}.csv", index=False,
                                 lineterminator="\n")
    meta = {"made_by": "make backcast-data (rjsim backcast scenarios/baseline.toml)",
            "replications": res.manifest.get("replications"),
            "years": res.manifest.get("years"),
            "warmup_days": res.manifest.get("warmup_days"),
            "status_quo": status_quo_settings(res.scenario())}
    (data_dir / f"{PACKAGED}.json").write_text(json.dumps(meta, indent=1, sort_keys=True)
                                               + "\n", encoding="utf-8")


def _rows(backcast: pd.DataFrame) -> list[list[object]]:
    rows: list[list[object]] = []
    for _, r in backcast.iterrows():
        unit = str(r["unit"])
        ratio = f"{r['ratio']:.2f}" if math.isfinite(float(r["ratio"])) else "-"
        verdict = str(r["verdict"])
        rows.append([str(r["target"]), str(r["area"]), str(r["denominator"]),
                     published(r), f"{value(r['estimate'], unit)} ({value(r['ci_low'], unit)}-"
                     f"{value(r['ci_high'], unit)})", ratio,
                     verdict if verdict == "consistent" else tag("strong", verdict),
                     str(r["role"])])
    return rows


def credibility_section(res: Results) -> Html:
    """The back-cast table with what it is of, and whether it applies to this run."""
    own = res.optional("backcast")
    if own is not None:
        backcast, intro = own, [para(
            "The status quo of this scenario (no statutory right, no budget changes) against "
            "every published evidence target ('rjsim backcast').")]
    else:
        backcast, meta = packaged()
        reps = meta.get("replications")
        intro = [para(
            "How rjsim's shipped status quo (the packaged defaults: today's funding, no "
            "statutory right) compares with every published evidence target: each target's "
            "published value and range, the model's estimate with its 95% confidence interval "
            f"({reps} replications of 3 years, the first discarded), their ratio and whether "
            "they are consistent ('rjsim backcast').")]
        differ = differences(meta.get("status_quo", {}), res.scenario())
        if differ:
            shown = ", ".join(differ[:8]) + (f" and {len(differ) - 8} more" if len(differ) > 8
                                             else "")
            intro.append(para(f"This run's scenario differs from that status quo in {shown}; "
                              "run 'rjsim backcast' on it to back-cast its own status quo."))
        else:
            intro.append(para("This run's scenario has the same status quo, so the table "
                              "applies to it."))
    counts = backcast["verdict"].value_counts()
    judged = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("consistent", "inconsistent",
                                                           "undetermined"))
    intro.append(para(f"Of {len(backcast)} targets: {judged}. Consistent: the 95% CI meets the "
                      "published range (or the right side of a bound). Calibration targets were "
                      "used to set the funnel ('rjsim calibrate'); validation targets were "
                      "not, so they are the independent check."))
    return join([*intro, table(["target", "area", "of", "published", "model (95% CI)", "ratio",
                                "verdict", "role"], _rows(backcast), numeric_from=5,
                               long=True, min_width=48)])
