"""Several funding options under the same parameter uncertainty (``rjsim uncertainty A B``
and ``rjsim.uncertainty([A, B])``): the same parameter sets and common random numbers for
every option, a dominated option never passing more often, the options side by side, and
bad input refused cleanly.

The options are the M/M/c area of :mod:`uncertainty_helpers` with the right commenced and a
wait target of half a day, so the uncertain arrival rate decides whether the test passes:
``few`` has 8 caseload slots, ``more`` the same area with 10. With more slots every case
waits no longer on the same random numbers, so wherever ``few`` passes, ``more`` passes too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from clitools import assert_clean_error, rjsim
from uncertainty_helpers import C, write_area_csv, write_mmc_toml

import rjsim as api
from rjsim.core.errors import InputError
from rjsim.report import columns
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_declare, uncertainty_sample
from rjsim.uncertainty import multi_option, propagate

TABLE: dict[str, Any] = {
    "samples": 8, "replications": 2, "vary": ["demand.offender_identified"],
    "distributions": {"demand.offender_identified": {"kind": "uniform", "low": 0.3,
                                                     "high": 0.95}}}


def _option(path: Path, data: Path, slots: int, table: dict[str, Any] = TABLE) -> Path:
    return write_mmc_toml(path, data, years=2.0, uncertainty=table,
                          statutory_right={"commence_day": 30, "informed": 1},
                          capacity_test={"wait_target_days": 0.5, "settle_days": 0},
                          funding={"capacity_from": "fte",
                                   "fte": {"general": slots, "specialist": 0.0}})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("options")
    data = write_area_csv(folder / "area.csv")
    return _option(folder / "few.toml", data, C), _option(folder / "more.toml", data, C + 2)


@pytest.fixture(scope="module")
def command(files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``rjsim uncertainty few.toml more.toml`` run once; its results directory."""
    where = tmp_path_factory.mktemp("run")
    proc = rjsim("uncertainty", *map(str, files), "--workers", "1", "--no-cache",
                 "--confirm-replications", "0", "--out", str(where / "out"), cwd=where)
    assert proc.returncode == 0, proc.stderr
    assert "few:" in proc.stdout and "more:" in proc.stdout
    assert "the nation passes in" in proc.stdout
    return where / "out"


def _national_passes(out: Path, option: str) -> pd.Series:
    cap = pd.read_csv(out / "options" / option / "tables" / "uncertainty_capacity.csv")
    nat = cap[cap["area"] == "national"].set_index("sample")["verdict"]
    return nat == "pass"


def test_every_option_sees_the_same_parameter_sets(command: Path) -> None:
    few = pd.read_csv(command / "options" / "few" / "tables" / "uncertainty_samples.csv")
    more = pd.read_csv(command / "options" / "more" / "tables" / "uncertainty_samples.csv")
    assert len(few) == 8 and list(few.columns) == ["sample", "demand.offender_identified"]
    pd.testing.assert_frame_equal(few, more)
    assert few["demand.offender_identified"].between(0.3, 0.95).all()


def test_a_dominated_option_never_passes_more_often(command: Path) -> None:
    few, more = _national_passes(command, "few"), _national_passes(command, "more")
    assert (~few | more).all(), "a set in which 8 slots pass but 10 do not"
    assert more.sum() > few.sum() > 0  # neither trivial: the extra slots make a difference
    areas = pd.read_csv(command / "tables" / "uncertainty_options_areas.csv")
    p = areas.pivot(index="area", columns="option", values="p_pass")
    assert (p["more"] >= p["few"]).all()
    table = pd.read_csv(command / "tables" / "uncertainty_options.csv").set_index(
        ["option", "kpi"])
    for name, passes in (("few", few), ("more", more)):
        assert table.loc[(name, "p_pass_national"), "median"] == pytest.approx(passes.mean())
        assert (name, "price_of_commencement_gbp") in table.index
        assert (name, "areas_p_pass_ge_90") in table.index
    # the wait is longer with fewer slots in every parameter set (common random numbers)
    wait = table.xs("wait_alloc_days_mean", level="kpi")["median"].astype(float)
    assert wait["few"] > wait["more"]


def test_results_directory_report_and_columns(command: Path) -> None:
    html = (command / "report.html").read_text(encoding="utf-8")
    for text in ("The options under uncertainty", "P(each area passes) by option",
                 "Most likely to pass: more", "Avon and Somerset (E23000036)",
                 "options that differ only in their funding share it"):
        assert text in html, text
    assert (command / "report.xlsx").stat().st_size > 0
    for name in ("few", "more"):  # each option's own results and report
        assert (command / "options" / name / "report.html").is_file()
        assert (command / "options" / name / "tables" / "uncertainty_kpis.csv").is_file()
    params = pd.read_csv(command / "tables" / "uncertainty_parameters.csv")
    assert set(params["option"]) == {"few", "more"}
    undescribed = [f"{csv.stem}.{c}" for csv in (command / "tables").glob("*.csv")
                   for c in pd.read_csv(csv, nrows=1).columns
                   if columns.describe(str(c), csv.stem) is None]
    assert not undescribed, f"add these to rjsim/report/uncertainty_columns.py: {undescribed}"


def test_python_api_matches_the_command_and_writes_nothing_without_out(
        files: tuple[Path, Path], command: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    done = api.uncertainty(list(files), workers=1, confirm_replications=0)
    assert list(done.results) == ["few", "more"]
    assert list(tmp_path.iterdir()) == []  # no results directory without out
    written = pd.read_csv(command / "tables" / "uncertainty_options.csv")
    got = done.options_table.reset_index(drop=True)
    pd.testing.assert_frame_equal(got[written.columns], written, check_dtype=False)
    pd.testing.assert_frame_equal(done.results["few"].samples, done.results["more"].samples)
    single = api.uncertainty(files[0], workers=1, confirm_replications=0)
    assert list(single.results) == ["few"]
    pd.testing.assert_frame_equal(single.result.samples, done.results["few"].samples)


def test_options_must_share_one_uncertainty_table(files: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    data = files[0].parent / "area.csv"
    other = _option(tmp_path / "other.toml", data, C + 2, {**TABLE, "samples": 16})
    assert_clean_error(rjsim("uncertainty", str(files[0]), str(other), cwd=tmp_path),
                       "other: uncertainty.samples", "share one [uncertainty] table")
    assert not (tmp_path / "results").exists()
    assert_clean_error(rjsim("uncertainty", str(files[0]), str(files[0]), cwd=tmp_path),
                       "both named 'few'")
    assert_clean_error(rjsim("uncertainty", str(files[0]), str(tmp_path / "missing.toml"),
                             cwd=tmp_path), "missing.toml")
    with pytest.raises(InputError) as info:
        api.uncertainty([files[0]], samples=1)
    assert "samples" in str(info.value) and "2 to" in str(info.value)


def test_shared_values_draw_once_over_every_options_parameters() -> None:
    def declare(table: dict[str, Any]) -> unc.Declaration:
        s = api.scenario_from_dict({"name": "x"})
        return uncertainty_declare.declare(s, unc.parse_settings(table, lambda p: p),
                                           lambda p: p)
    base = {"samples": 16, "vary": ["demand.informed"]}
    a = declare(base)
    b = declare({**base, "vary": ["demand.informed", "demand.wants_rj"]})
    va, vb = multi_option.shared_values([a, b], seed=3)
    assert va.shape == (16, 1) and vb.shape == (16, 2)
    np.testing.assert_array_equal(va[:, 0], vb[:, 0])  # the shared parameter: same values
    alone = multi_option.shared_values([a], seed=3)[0]
    np.testing.assert_array_equal(alone, uncertainty_sample.sample(a, 3))


def test_several_options_resume_from_the_task_cache(files: tuple[Path, Path],
                                                    tmp_path: Path) -> None:
    def run() -> dict[str, propagate.UncertaintyResult]:
        return api.uncertainty(list(files), 1, samples=2, workers=1, confirm_replications=0,
                               cache_dir=tmp_path / "cache").results
    first, again = run(), run()
    for name in ("few", "more"):
        assert first[name].tasks_run == 2 and first[name].tasks_cached == 0
        assert again[name].tasks_run == 0 and again[name].tasks_cached == 2
        pd.testing.assert_frame_equal(first[name].kpis, again[name].kpis)
