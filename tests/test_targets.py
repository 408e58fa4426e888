"""Unit tests: the packaged evidence targets are complete, honest about denominators, and a
damaged targets file is refused with every problem named."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rjsim.core.errors import DataError
from rjsim.data import targets
from rjsim.data.areas import known_codes

#: Every item issue 14 lists, by id.
REQUIRED = {
    "thames_valley_interventions_2017_18", "thames_valley_spend_2017_18",
    "remedy_referred_per_quarter", "remedy_opted_in_per_quarter",
    "remedy_face_to_face_of_opt_ins", "hampshire_direct_of_referrals",
    "hampshire_indirect_of_referrals", "csew_offered_rj", "csew_accept_when_offered",
    "interventions_per_paid_fte", "ho_charge_summons_2024_25", "ho_suspect_identified_2024_25",
}
#: The model count each denominator must be measured by (SOURCES.md, evidence_targets.csv).
DENOMINATOR_COLUMN = {"victims": {"eligible_victims"}, "referrals": {"informed"},
                      "consenting victims": {"asked_for_rj", "referrals"},
                      "interventions": {"interventions"}, "paid FTE": {"fte_in_post"}}


def test_packaged_targets_cover_the_issue_and_load() -> None:
    table = targets.packaged()
    ids = {t.id for t in table}
    assert ids >= REQUIRED, sorted(REQUIRED - ids)
    for t in table:
        assert t.source and t.definition and t.period and t.uncertainty_basis, t.id
        assert t.area == "national" or t.area in known_codes(), t.id
        low, high = t.interval
        assert low <= t.value <= high, t.id
        if t.kind == "range":
            assert high > low, f"{t.id}: a range target needs an uncertainty"


@pytest.mark.parametrize("target", [t for t in targets.packaged() if t.judged],
                         ids=lambda t: t.id)
def test_each_ratio_is_measured_on_its_stated_denominator(target: targets.Target) -> None:
    measure = target.measure
    assert measure is not None
    if measure.mean:
        return
    if measure.denominator is None:  # a count: of what the denominator names
        assert set(measure.numerator.columns) <= DENOMINATOR_COLUMN[target.denominator], (
            f"{target.id}: a count of {target.denominator} measured as {measure.numerator}")
        return
    assert set(measure.denominator.columns) <= DENOMINATOR_COLUMN[target.denominator], (
        f"{target.id}: a share of {target.denominator} measured over "
        f"{measure.denominator.columns}")


def test_shares_are_probabilities_and_bounds_are_one_sided() -> None:
    for t in targets.packaged():
        if t.unit == "share":
            assert 0 <= t.value <= 1, t.id
        if t.kind == "lower_bound":
            assert t.interval == (t.value, math.inf)


def test_measure_expressions_parse() -> None:
    m = targets.parse_measure("interventions_direct_conference+interventions_direct_video/informed")
    assert m.numerator.columns == ("interventions_direct_conference", "interventions_direct_video")
    assert m.denominator is not None and m.denominator.columns == ("informed",)
    m = targets.parse_measure("interventions per year/fte_in_post")
    assert m.numerator.per == "year" and m.denominator is not None
    assert targets.parse_measure("mean wait_alloc_days_mean").mean
    assert targets.parse_measure("informed per quarter").numerator.per == "quarter"
    for bad in ("a/b/c", "Informed", "mean a+b", "", "x per week"):
        with pytest.raises(ValueError):
            targets.parse_measure(bad)


def test_a_damaged_targets_file_names_every_problem(tmp_path: Path) -> None:
    good = (Path(targets.__file__).parent / targets.PACKAGED).read_text(encoding="utf-8")
    lines = good.splitlines()
    bad = lines[1].replace(",lower_bound,", ",lowest,").replace("national", "Narnia", 1)
    path = tmp_path / "targets.csv"
    path.write_text("\n".join([lines[0], bad, lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        targets.load(path)
    text = str(err.value)
    assert "row 2, column kind" in text and "lowest" in text
    assert "row 2, column area" in text and "Narnia" in text
    assert "row 3, column id" in text  # the same id twice
    path.write_text("id,value\nx,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column 'measure'"):
        targets.load(path)
    with pytest.raises(DataError, match="cannot read"):
        targets.load(tmp_path / "absent.csv")
