"""The shared figure style (the Okabe-Ito colour-blind-safe palette) and the funding frontier
of a comparison, drawn from its estimates table only (never from the model) and saved as PNG
and SVG.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")


def _save(fig: Figure, stem: Path) -> list[Path]:
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def funding_frontier(estimates: pd.DataFrame, stem: Path) -> list[Path]:
    """Annual cost against unmet demand per option (national means with 95% CIs)."""
    nat = estimates[estimates["level"] == "national"]
    cost = nat[nat["kpi"] == "annual_cost_gbp"].set_index("scenario")
    unmet = nat[nat["kpi"] == "unmet_demand_rate"].set_index("scenario")
    names = list(dict.fromkeys(nat["scenario"]))
    fig = Figure(figsize=(7.5, 5))
    ax = fig.subplots()
    for i, name in enumerate(names):
        x, y = cost.loc[name], unmet.loc[name]
        ax.errorbar(x["mean"] / 1e6, 100 * y["mean"],
                    xerr=[[(x["mean"] - x["ci_low"]) / 1e6], [(x["ci_high"] - x["mean"]) / 1e6]],
                    yerr=[[100 * (y["mean"] - y["ci_low"])], [100 * (y["ci_high"] - y["mean"])]],
                    fmt="o", color=OKABE_ITO[i % len(OKABE_ITO)], capsize=3, label=name)
    best = str(unmet["mean"].idxmin())
    ax.set_title(f"Funding frontier: '{best}' leaves the least unmet demand "
                 f"({100 * float(unmet['mean'][best]):.0f}% of referrals)", fontsize=10)
    ax.set_xlabel("Annual spend on RJ services (GBP million, mean over the run)")
    ax.set_ylabel("Unmet demand (% of referrals lost for lack of capacity)")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return _save(fig, stem)
