"""Unit tests: the packaged force-area table, user area CSVs, and demand by offence group."""

from __future__ import annotations

import csv
import io
import math
from importlib import resources
from pathlib import Path

import pytest
from conftest import AVON, scenario

from rjsim.core.errors import DataError, ScenarioError
from rjsim.data import areas as areadata
from rjsim.data.areas import load, victims_per_year
from rjsim.experiment.runner import task_plan as plan
from rjsim.scenario.spec import GROUPS, SENSITIVE

APPORTION = scenario().demand.apportionment


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


# --- the packaged table ----------------------------------------------------------------------

def test_packaged_table_has_the_43_force_areas(table):
    codes = [a.code for a in table.areas]
    assert len(codes) == 43 == len(set(codes))
    assert sum(c.startswith("E23") for c in codes) == 39
    assert sum(c.startswith("W15") for c in codes) == 4
    assert all(a.population > 0 and a.recorded_crime > 0 for a in table.areas)


def test_group_demand_adds_up_to_the_identifiable_victim_subset(table):
    """Sensitive groups are carved out of the categories they are recorded in, so the groups
    other than shoplifting add up to the published identifiable-victim subset in every area, plus
    the public-order hate crimes (which have a victim but sit outside that subset)."""
    public_order = areadata.HATE_COLUMNS["public_order"]
    for area in table.areas:
        victims = victims_per_year(area, APPORTION)
        total = sum(v for g, v in victims.items() if g != "shoplifting")
        published = area.counts["prc_identifiable_victim_excl_shoplifting"]
        extra = areadata.hate_parts(area, APPORTION)[public_order]
        assert 0 < extra < 0.1 * published
        assert total == pytest.approx(published + extra, rel=1e-9), area.name
        assert set(victims) == set(GROUPS)
        assert all(v >= 0 for v in victims.values()), area.name


def test_sensitive_groups_follow_the_national_shares(table, avon):
    victims = victims_per_year(avon, APPORTION)
    share = avon.counts[areadata.VS] / areadata.national_violence_and_sexual()
    assert victims["sexual"] == pytest.approx(
        avon.counts[areadata.VS] * APPORTION.sexual_share_of_violence_and_sexual)
    assert victims["domestic_abuse"] == pytest.approx(APPORTION.domestic_abuse_national * share)
    hate = sum(APPORTION.hate_national * part * avon.counts[areadata.HATE_COLUMNS[k]]
               / areadata.national(areadata.HATE_COLUMNS[k])
               for k, part in APPORTION.hate_recorded_as.items())
    assert victims["hate"] == pytest.approx(hate)
    assert victims["hate"] != pytest.approx(APPORTION.hate_national * share, rel=0.05)
    national_da = sum(victims_per_year(a, APPORTION)["domestic_abuse"] for a in table.areas)
    assert national_da == pytest.approx(APPORTION.domestic_abuse_national)


def test_hate_crime_is_apportioned_from_the_categories_it_is_recorded_in(table):
    """Nationally, hate crime is the published total times the recorded shares; its public-order
    part is not taken from violence, and its violence and criminal-damage parts are carved out
    of those groups (so no victim is counted twice)."""
    shares = APPORTION.hate_recorded_as
    assert shares["public_order"] > 0.5  # just over half is public order (Home Office)
    national = {g: sum(victims_per_year(a, APPORTION)[g] for a in table.areas)
                for g in ("hate", "violence", "criminal_damage")}
    assert national["hate"] == pytest.approx(APPORTION.hate_national * sum(shares.values()))
    cd = areadata.HATE_COLUMNS["criminal_damage_and_arson"]
    assert national["criminal_damage"] == pytest.approx(
        areadata.national(cd) - APPORTION.hate_national * shares["criminal_damage_and_arson"])
    vs_left = (areadata.national_violence_and_sexual() * (
        1 - APPORTION.sexual_share_of_violence_and_sexual) - APPORTION.domestic_abuse_national
        - APPORTION.hate_national * shares["violence_and_sexual"])
    assert national["violence"] == pytest.approx(vs_left)


def test_cja_scope_scales_each_group_by_its_in_scope_share(avon):
    recorded = scenario().demand
    cja = scenario(demand={"scope": "cja"}).demand
    full = areadata.demand_victims(avon, recorded)
    scoped = areadata.demand_victims(avon, cja)
    assert full == victims_per_year(avon, APPORTION, recorded.groups)
    for group, v in full.items():
        assert scoped[group] == pytest.approx(v * cja.cja_in_scope[group])
    assert scoped["robbery"] == full["robbery"] and scoped["violence"] < 0.5 * full["violence"]


def test_general_groups_are_the_published_columns(avon):
    victims = victims_per_year(avon, APPORTION)
    c = avon.counts
    assert victims["theft"] == (c["prc_theft_from_the_person"] + c["prc_bicycle_theft"]
                                + c["prc_other_theft"])
    assert victims["burglary"] == c["prc_burglary"]
    assert victims["shoplifting"] == c["prc_shoplifting"]


# --- user files ------------------------------------------------------------------------------

def test_a_copy_of_the_packaged_file_loads_identically(tmp_path, table):
    path = tmp_path / "mine.csv"
    path.write_bytes(resources.files("rjsim").joinpath(f"data/{areadata.PACKAGED}").read_bytes())
    mine = load(path)
    assert mine.source == "mine.csv"
    assert mine.digest == table.digest
    assert [a.code for a in mine.areas] == [a.code for a in table.areas]
    assert mine.areas[0].counts == table.areas[0].counts


def test_empty_path_means_the_packaged_table(table):
    assert load("") is table
    assert load(None) is table


def test_missing_column_names_the_file_and_the_column(tmp_path, packaged_csv):
    header, rows = _rows(packaged_csv)
    header.remove("prc_robbery")
    path = _write(tmp_path / "short.csv", header, rows)
    (problem,) = load(path).group_problems(GROUPS)
    assert problem.where.startswith("short.csv")
    assert "prc_robbery" in problem.message and "'robbery'" in problem.message
    with pytest.raises(ScenarioError, match="prc_robbery"):
        plan(scenario(areas={"data": str(path)}, demand={"groups": ["robbery", "theft"]}))


def test_a_user_file_needs_columns_only_for_the_groups_the_scenario_uses(tmp_path,
                                                                          packaged_csv):
    header, rows = _rows(packaged_csv)
    for col in ("prc_robbery", "prc_shoplifting", "prc_burglary"):
        header.remove(col)
    path = _write(tmp_path / "few.csv", header, rows)
    groups = ["violence", "sexual", "vehicle"]
    p = plan(scenario(areas={"data": str(path)}, demand={"groups": groups}))
    assert p.table.group_problems(tuple(groups)) == []
    victims = victims_per_year(p.areas[0], APPORTION, tuple(groups))
    assert set(victims) == set(groups) and all(v > 0 for v in victims.values())


def test_missing_required_column(tmp_path, packaged_csv):
    header, rows = _rows(packaged_csv)
    header.remove("census2021_population")
    path = _write(tmp_path / "nopop.csv", header, rows)
    with pytest.raises(DataError) as excinfo:
        load(path)
    assert "nopop.csv" in str(excinfo.value)
    assert "census2021_population" in str(excinfo.value)


@pytest.mark.parametrize("column, value, fragment", [
    ("pfa_code", "E23999999", "unknown area code"),
    ("prc_robbery", "lots", "non-negative number"),
    ("prc_robbery", "-5", "non-negative number"),
    ("census2021_population", "", "non-negative number"),
    ("prc_burglary", "nan", "non-negative number"),
])
def test_bad_cell_names_file_row_and_column(tmp_path, packaged_csv, column, value, fragment):
    header, rows = _rows(packaged_csv)
    rows[2][column] = value  # the third data row is line 4 of the file
    path = _write(tmp_path / "bad.csv", header, rows)
    with pytest.raises(DataError) as excinfo:
        load(path)
    (problem,) = excinfo.value.problems
    assert problem.where == f"bad.csv: row 4, column {column}"
    assert fragment in problem.message
    assert f"bad.csv: row 4, column {column}" in str(excinfo.value)


def test_every_bad_cell_is_reported_together(tmp_path, packaged_csv):
    header, rows = _rows(packaged_csv)
    rows[0]["prc_robbery"] = "x"
    rows[5]["prc_burglary"] = "-1"
    rows[9]["pfa_code"] = "X1"
    path = _write(tmp_path / "bad.csv", header, rows)
    with pytest.raises(DataError) as excinfo:
        load(path)
    wheres = {p.where for p in excinfo.value.problems}
    assert wheres == {"bad.csv: row 2, column prc_robbery", "bad.csv: row 7, column prc_burglary",
                      "bad.csv: row 11, column pfa_code"}


def test_row_numbers_are_the_lines_of_the_file(tmp_path, packaged_csv):
    """A blank line is still a line: the row named must be the one the user sees in an editor."""
    lines = packaged_csv.splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("prc_robbery")] = "lots"
    text = "\n".join([lines[0], "", *lines[1:3], ",".join(cells), *lines[4:]]) + "\n"
    path = tmp_path / "gap.csv"
    path.write_text(text, encoding="utf-8")
    bad_line = text.splitlines().index(",".join(cells)) + 1
    with pytest.raises(DataError) as excinfo:
        load(path)
    (problem,) = excinfo.value.problems
    assert problem.where == f"gap.csv: row {bad_line}, column prc_robbery"


def test_duplicate_area_is_refused(tmp_path, packaged_csv):
    header, rows = _rows(packaged_csv)
    path = _write(tmp_path / "dup.csv", header, [*rows, rows[0]])
    with pytest.raises(DataError, match=f"row {len(rows) + 2}, column pfa_code.*twice"):
        load(path)


def test_unreadable_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        load(tmp_path / "absent.csv")
    (tmp_path / "latin.csv").write_bytes(b"pfa_code,force\n\xff\xfe,\xe9\n")
    with pytest.raises(DataError, match="UTF-8"):
        load(tmp_path / "latin.csv")


def test_a_subset_of_areas_is_allowed(tmp_path, packaged_csv):
    header, rows = _rows(packaged_csv)
    table = load(_write(tmp_path / "two.csv", header, rows[:2]))
    assert [a.code for a in table.areas] == [rows[0]["pfa_code"], rows[1]["pfa_code"]]


def test_victims_columns_win_over_derivation(tmp_path, packaged_csv):
    header, rows = _rows(packaged_csv)
    header += ["victims_hate", "victims_theft"]
    for r in rows:
        r["victims_hate"], r["victims_theft"] = "123", "4,567"
    table = load(_write(tmp_path / "given.csv", header, rows))
    avon = table.select((AVON,), "test")[0]
    victims = victims_per_year(avon, APPORTION)
    assert victims["hate"] == 123.0
    assert victims["theft"] == 4567.0
    derived = victims_per_year(areadata.packaged().select((AVON,), "test")[0], APPORTION)
    for group in ("sexual", "domestic_abuse", "robbery", "burglary"):
        assert victims[group] == derived[group]


def test_a_given_sensitive_group_is_still_carved_out_of_violence(tmp_path, packaged_csv):
    """Domestic abuse counted from local data is still part of the force's violence and sexual
    offences: total demand must stay the published identifiable-victim subset, not count those
    victims twice (once as violence, once as domestic abuse); only public-order hate crime adds
    to it."""
    header, rows = _rows(packaged_csv)
    header.append("victims_domestic_abuse")
    for r in rows:
        r["victims_domestic_abuse"] = str(round(0.1 * float(r[areadata.VS])))
    table = load(_write(tmp_path / "da.csv", header, rows))
    for area in table.areas:
        victims = victims_per_year(area, APPORTION)
        assert victims["domestic_abuse"] == area.counts["victims_domestic_abuse"]
        total = sum(v for g, v in victims.items() if g != "shoplifting")
        extra = areadata.hate_parts(area, APPORTION)[areadata.HATE_COLUMNS["public_order"]]
        assert total == pytest.approx(area.counts["prc_identifiable_victim_excl_shoplifting"]
                                      + extra, rel=1e-9), area.name


def test_a_file_with_victims_columns_needs_no_prc_column_for_that_group(tmp_path, packaged_csv):
    header, rows = _rows(packaged_csv)
    header.remove("prc_robbery")
    header.append("victims_robbery")
    for r in rows:
        r["victims_robbery"] = "10"
    table = load(_write(tmp_path / "rob.csv", header, rows))
    assert victims_per_year(table.areas[0], APPORTION)["robbery"] == 10.0


# --- choosing areas --------------------------------------------------------------------------

def test_select_by_code_or_name_any_case(table):
    by_code = table.select(("e23000036",), "test")
    by_name = table.select(("AVON AND SOMERSET",), "test")
    assert by_code == by_name
    assert by_code[0].code == AVON
    both = table.select((AVON, "Avon and Somerset", "Dyfed-Powys"), "test")
    assert [a.name for a in both] == ["Avon and Somerset", "Dyfed-Powys"]


def test_select_nothing_means_every_area(table):
    assert table.select((), "test") == table.areas


def test_unknown_area_name_suggests_the_closest(table):
    with pytest.raises(ScenarioError) as excinfo:
        table.select(("Avon and Somerst", "Kent"), "run.toml: areas.include")
    (problem,) = excinfo.value.problems
    assert problem.where == "run.toml: areas.include"
    assert "did you mean 'Avon and Somerset'" in problem.message


def test_every_unknown_area_is_reported(table):
    with pytest.raises(ScenarioError) as excinfo:
        table.select(("Atlantis", "Avalon", "Kent"), "x")
    assert len(excinfo.value.problems) == 2


def test_no_sensitive_group_has_a_prc_column_of_its_own():
    """Sensitive groups are apportioned from the categories they are recorded in (no PRC column
    of their own): sexual offences and DA from violence and sexual offences, hate crime also
    from public order and criminal damage."""
    for group in SENSITIVE - {"hate"}:
        assert areadata.PRC_COLUMNS[group] == (areadata.VS,)
    assert areadata.PRC_COLUMNS["hate"] == tuple(areadata.HATE_COLUMNS.values())
    assert not math.isnan(areadata.national_violence_and_sexual())
