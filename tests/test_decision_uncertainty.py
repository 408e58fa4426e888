"""The decision table's probability of passing: ``rjsim compare ... --uncertainty N``.

A real comparison of two two-area options (today's funding, and a pot large enough to pass in
some parameter sets) run on 4 parameter sets of 2 replications each; the probability shown is
recomputed here from each parameter set's national verdict.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from clitools import assert_clean_error, rjsim
from reporttools import REPO, small_scenario

from rjsim.app.experiments import CompareOptions, CompareOutcome, compare
from rjsim.core.errors import InputError
from rjsim.report import decision
from rjsim.report.columns import fmt
from rjsim.results.reader import open_results

SETS = 4
SHARED = "[uncertainty]\nreplications = 2\n"
RICH = ('[[funding.schedule]]\nfrom_day = 365\nnational_budget_gbp = 600_000_000\n'
        'allocation = "eligible_demand"\n')


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> CompareOutcome:
    tmp = tmp_path_factory.mktemp("decision_uncertainty")
    files = (small_scenario(tmp, "unc_today", "funding_today.toml", SHARED),
             small_scenario(tmp, "unc_rich", "funding_120m_need.toml", SHARED + RICH,
                            title="A very large pot"))
    return compare(CompareOptions(scenarios=files, uncertainty=SETS, years=3, replications=3,
                                  workers=1, out=tmp / "out", quiet=True))


def _national_pass_share(capacity: pd.DataFrame) -> float:
    nat = capacity[capacity["area"] == "national"]
    assert nat["sample"].nunique() == SETS == len(nat)
    return float((nat["verdict"].astype(str) == "pass").mean())


def test_the_column_is_the_share_of_parameter_sets_in_which_the_nation_passes(
        outcome: CompareOutcome) -> None:
    assert outcome.out is not None
    expected = {}
    for name, r in outcome.uncertainty.items():
        assert r.capacity is not None and r.replications == 2
        expected[name] = _national_pass_share(r.capacity)
    assert expected["unc_today"] == 0.0 < expected["unc_rich"]  # the column can tell them apart
    rows = decision.option_rows(open_results(outcome.out))
    assert {r.name: r.p_pass for r in rows} == pytest.approx(expected)
    html = (outcome.out / "report.html").read_text(encoding="utf-8")
    block = html[html.index('<section id="decision">'):]
    block = block[:block.index("</section>")]
    assert "probability of passing" in block
    for name, share in expected.items():
        row = block[block.index(f"<code>{name}</code>"):]
        row = row[:row.index("</tr>")]
        assert f">{fmt(share, 'share')}<" in row
    assert f"the share of {SETS} parameter sets of 2 replications each" in block
    assert "not assessed" not in block
    text = (outcome.out / "summary.txt").read_text(encoding="utf-8")
    assert f"across {SETS} parameter sets of 2 replications each" in text


def test_the_workbook_summary_has_the_probability(outcome: CompareOutcome) -> None:
    assert outcome.out is not None
    ws = openpyxl.load_workbook(outcome.out / "report.xlsx")["Summary"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = values.index(next(r for r in values if r[0] == "Option"))
    table = pd.DataFrame([r for r in values[header + 1:] if r[0]], columns=values[header])
    column = "Probability of passing (share of parameter sets)"
    got = dict(zip(table["Option"], table[column], strict=True))
    assert got == pytest.approx({n: _national_pass_share(r.capacity)
                                 for n, r in outcome.uncertainty.items()
                                 if r.capacity is not None})


def test_bad_uncertainty_options_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="uncertainty"):
        CompareOptions(scenarios=(Path("a.toml"), Path("b.toml")), uncertainty=1)
    a = small_scenario(tmp_path, "ua", "funding_today.toml", SHARED)
    b = small_scenario(tmp_path, "ub", "funding_today.toml", "[uncertainty]\nreplications = 3\n")
    proc = rjsim("compare", str(a), str(b), "--uncertainty", "1", cwd=REPO)
    assert_clean_error(proc, "--uncertainty")
    proc = rjsim("compare", str(a), str(b), "--uncertainty", "4", "--out",
                 str(tmp_path / "out"), cwd=REPO)
    assert_clean_error(proc, "uncertainty")
    assert not (tmp_path / "out").exists()  # refused before any work
