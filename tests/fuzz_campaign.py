"""The long fuzz campaign (``make fuzz``): keep generating hostile scenario files and area
CSVs (the generators of :mod:`fuzzing`) for a given time, run ``rjsim validate`` on each (and a
short ``rjsim run`` on a share of the valid ones), and print how many inputs were tried, how
many gave a traceback and how many hung. Inputs that fail are kept under ``--keep``.

    python tests/fuzz_campaign.py --minutes 10 [--keep fuzz-failures] [--seed S]

Exit status 1 if any input gave a traceback or hung.
"""

from __future__ import annotations

import argparse
import collections
import logging
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzzing import (
    area_csv,
    prepare_scenarios,
    run_cli,
    runnable_scenario,
    scenario_file,
)
from hypothesis import HealthCheck, given, seed, settings

VALIDATE_S, RUN_S = 30, 120


def _calling(body: Callable[[Any], None]) -> Callable[[Any], None]:
    def test(case: Any) -> None:
        body(case)
    return test


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--keep", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    rng = random.Random(args.seed)
    counts: collections.Counter[str] = collections.Counter()
    deadline = time.monotonic() + args.minutes * 60
    folder = Path(tempfile.mkdtemp(prefix="rjsim-fuzz-campaign-"))
    prepare_scenarios(folder)

    def keep(kind: str, name: str, data: bytes, detail: str) -> None:
        args.keep.mkdir(parents=True, exist_ok=True)
        n = counts[kind]
        (args.keep / f"{kind}-{n}-{name}").write_bytes(data)
        (args.keep / f"{kind}-{n}-{name}.txt").write_text(detail, encoding="utf-8")

    def record(what: str, outcome_kind: str) -> None:
        counts["inputs"] += 1
        counts[f"{what} {outcome_kind}"] += 1
        if outcome_kind in ("traceback", "hang"):
            counts[outcome_kind] += 1

    def one_scenario(case: tuple[str, bytes]) -> None:
        name, data = case
        path = folder / f"fuzz_{name}"
        path.write_bytes(data)
        outcome = run_cli(["validate", str(path)], VALIDATE_S)
        record("scenario", outcome.kind)
        if outcome.kind in ("traceback", "hang"):
            keep(outcome.kind, name, data, outcome.detail)

    def one_area_file(case: tuple[bytes, str]) -> None:
        data, text = case
        (folder / "areas.csv").write_bytes(data)
        (folder / "s.toml").write_text(text, encoding="utf-8")
        outcome = run_cli(["validate", str(folder / "s.toml")], VALIDATE_S)
        record("area data", outcome.kind)
        if outcome.kind in ("traceback", "hang"):
            keep(outcome.kind, "areas.csv", data, text + "\n" + outcome.detail)

    def one_run(text: str) -> None:
        path = folder / "short.toml"
        path.write_text(text, encoding="utf-8")
        checked = run_cli(["validate", str(path)], VALIDATE_S)
        record("runnable validate", checked.kind)
        if checked.kind in ("traceback", "hang"):
            keep(checked.kind, "short.toml", text.encode(), checked.detail)
        if checked.kind != "ok":
            return
        ran = run_cli(["run", str(path), "--no-cache", "--no-report", "-q", "--workers", "1",
                       "--out", str(folder / "out")], RUN_S)
        kind = "ok" if ran.kind == "ok" else ("hang" if ran.kind == "hang" else "traceback")
        record("short run", kind if ran.kind != "error" else "rejected-after-validate")
        if ran.kind != "ok":
            if ran.kind == "error":
                counts["traceback"] += 1  # run refused what validate accepted: a failure too
            keep("run-" + ran.kind, "short.toml", text.encode(), ran.detail)

    rounds = [(scenario_file(), one_scenario, 200), (area_csv(), one_area_file, 200),
              (runnable_scenario(), one_run, 10)]
    started = time.monotonic()
    while time.monotonic() < deadline:
        for strategy, body, n in rounds:
            if time.monotonic() >= deadline:
                break
            seeded = given(strategy)(_calling(body))
            runner = settings(max_examples=n, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck))(seeded)
            seed(rng.getrandbits(64))(runner)()
        print(f"{time.monotonic() - started:6.0f} s: {counts['inputs']} inputs, "
              f"{counts['traceback']} tracebacks, {counts['hang']} hangs", flush=True)
    print(f"Fuzz campaign: {counts['inputs']} inputs tried in "
          f"{(time.monotonic() - started) / 60:.1f} min; tracebacks: {counts['traceback']}; "
          f"hangs: {counts['hang']}")
    for key in sorted(k for k in counts if " " in k):
        print(f"  {key}: {counts[key]}")
    return 1 if counts["traceback"] or counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
