"""An M/M/c area whose arrival rate is uncertain, for checking uncertainty and sensitivity
outputs against Erlang C.

The capacity tests' M/M/c area (:mod:`capacity_helpers`) with theft victims only at ``LAM_MAX``
a day, thinned by ``offender_identified`` alone (0.7 here), so the arrival rate is ``LAM_MAX x
offender_identified`` and varying that setting varies the rate; the case takes an exponential
time with mean ``1 / MU`` on one of ``C`` slots, and nobody leaves the queue: the area is an
M/M/c queue whose mean wait is Erlang C's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w
from capacity_helpers import Queue, queue_dict
from capacity_helpers import write_area_csv as write_queue_csv

from rjsim.capacity.queueing import mmc_mean_wait
from rjsim.scenario import io as scenario_io
from rjsim.scenario.spec import Scenario

LAM_MAX, MU, C = 8.0, 1.0, 8
OFFENDER_IDENTIFIED = 0.7


def write_area_csv(path: Path) -> Path:
    """The area file: ``LAM_MAX`` theft victims a day."""
    return write_queue_csv(path, {"theft": LAM_MAX * 365.0})


def mmc_dict(data: Path, years: float = 2.0, **more: Any) -> dict[str, Any]:
    """The scenario as a dictionary over the defaults (``more``: further sections)."""
    d = queue_dict(Queue(LAM_MAX, MU, C), data, years, {}, groups=("theft",))
    d["run"]["warmup_days"] = 60
    d["demand"]["offender_identified"] = OFFENDER_IDENTIFIED
    del d["capacity_test"]
    return {**d, **more}


def mmc_scenario(data: Path, years: float = 2.0, **more: Any) -> Scenario:
    """:func:`mmc_dict` validated."""
    return scenario_io.from_dict(mmc_dict(data, years, **more))


def write_mmc_toml(path: Path, data: Path, years: float = 1.0, **more: Any) -> Path:
    """:func:`mmc_dict` as a scenario file (named after ``path``), for the commands."""
    d = mmc_dict(data, years, **more)
    d["name"] = path.stem
    path.write_text(tomli_w.dumps(d), encoding="utf-8")
    return path


def erlang_wait(offender_identified: float) -> float:
    """Exact mean wait (days) of the area at this ``offender_identified``."""
    return mmc_mean_wait(LAM_MAX * offender_identified, MU, C)
