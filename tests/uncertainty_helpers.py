"""An M/M/c area whose arrival rate is uncertain, for checking uncertainty and sensitivity
outputs against Erlang C.

One area with theft victims only at ``LAM_MAX`` a day; every victim is referred at once
(``offender_identified`` is the only thinning, so the arrival rate is ``LAM_MAX x
offender_identified``), the case takes an exponential time with mean ``1 / MU`` on one of ``C``
slots, and nobody leaves the queue: the area is an M/M/c queue whose mean wait is Erlang C's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rjsim.capacity.queueing import mmc_mean_wait
from rjsim.scenario import io as scenario_io
from rjsim.scenario.spec import GROUPS

LAM_MAX, MU, C = 8.0, 1.0, 8
SEED = 20250401  # the packaged default seed, not one chosen to pass


def write_area_csv(path: Path) -> Path:
    columns = ",".join(f"victims_{g}" for g in GROUPS)
    values = ",".join(f"{LAM_MAX * 365.0:.10g}" if g == "theft" else "0" for g in GROUPS)
    path.write_text(f"pfa_code,force,census2021_population,{columns}\n"
                    f"E23000036,Test area,1000000,{values}\n", encoding="utf-8")
    return path


def mmc_scenario(data: Path, years: float = 2.0, **more: Any) -> Any:
    instant = {"kind": "fixed", "value": 0}
    stages: dict[str, Any] = {s: {"duration": instant} for s in (
        "preparation", "direct_conference", "direct_video", "indirect", "follow_up")}
    stages["assessment"] = {"duration": {"kind": "exponential", "mean": 1.0 / MU}}
    return scenario_io.from_dict({
        "name": "mmc", "run": {"years": years, "seed": SEED, "warmup_days": 60},
        "areas": {"data": str(data)},
        "demand": {"groups": ["theft"], "offender_identified": 0.7, "informed": 1,
                   "wants_rj": 1, "referral_delay": instant},
        "service": {"patience": {"kind": "never"}, "window": {"kind": "never"},
                    "caseload_per_fte": 1},
        "stages": stages,
        "exits": {"victim_withdraws": 0, "offender_declines": 0, "unsuitable": 0,
                  "preparation_withdraws": 0, "unsuitable_by_group": {}},
        "interventions": {"direct_share": 0},
        "funding": {"capacity_from": "fte", "fte": {"general": C, "specialist": 0}},
        **more,
    })


def erlang_wait(offender_identified: float) -> float:
    """Exact mean wait (days) of the area at this ``offender_identified``."""
    return mmc_mean_wait(LAM_MAX * offender_identified, MU, C)
