"""Unit tests: scenario files, ``extends`` overlays, validation messages and immutability."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from conftest import scenario

from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import to_plain
from rjsim.scenario import io as scenario_io
from rjsim.scenario.io import fingerprint, load, with_overrides
from rjsim.scenario.spec import GROUPS


def _problems(excinfo: pytest.ExceptionInfo[ScenarioError]) -> tuple[Problem, ...]:
    return excinfo.value.problems


def _problem_at(problems: tuple[Problem, ...], key_path: str) -> Problem:
    found = [p for p in problems if p.where.endswith(key_path)]
    assert found, f"no problem reported at {key_path}: {[str(p) for p in problems]}"
    return found[0]


# --- extends overlays ------------------------------------------------------------------------

def test_child_wins_and_tables_merge_key_by_key(write_toml):
    write_toml("base.toml", "[run]\nyears = 3\nseed = 7\n[demand]\nwants_rj = 0.2\n")
    child = write_toml("child.toml", 'extends = "base.toml"\n[run]\nyears = 4\n')
    sc = load(child)
    assert sc.run.years == 4  # child wins
    assert sc.run.seed == 7  # sibling key from the parent survives the child's [run] table
    assert sc.demand.wants_rj == 0.2  # a table the child never mentions is kept whole
    assert sc.run.start_date == "2025-04-01"  # and the defaults still fill the rest


def test_chain_of_three_is_applied_base_first(write_toml):
    write_toml("a.toml", "[run]\nyears = 2\nseed = 1\nreplications = 3\n")
    write_toml("b.toml", 'extends = "a.toml"\n[run]\nseed = 2\nreplications = 4\n')
    c = write_toml("c.toml", 'extends = "b.toml"\n[run]\nreplications = 5\n')
    run = load(c).run
    assert (run.years, run.seed, run.replications) == (2, 2, 5)


def test_distribution_table_replaces_the_parents_whole(write_toml):
    # Merged key by key, the parent's cv would survive and make an invalid exponential.
    write_toml("base.toml", "[service]\npatience = { kind = \"gamma\", mean = 30, cv = 0.5 }\n")
    child = write_toml("child.toml", 'extends = "base.toml"\n'
                       '[service]\npatience = { kind = "exponential", mean = 60 }\n')
    patience = load(child).service.patience
    assert (patience.kind, patience.mean, patience.cv) == ("exponential", 60.0, None)


def test_distribution_written_as_a_section_also_replaces_whole(write_toml):
    child = write_toml("child.toml", "[stages.indirect.duration]\nkind = \"fixed\"\nvalue = 30\n")
    duration = load(child).stages.indirect.duration
    assert (duration.kind, duration.value, duration.mean, duration.cv) == ("fixed", 30.0, None,
                                                                          None)


def test_extends_is_relative_to_the_file_not_the_working_directory(write_toml, tmp_path,
                                                                    monkeypatch):
    write_toml("lib/root.toml", "[run]\nyears = 6\n")
    write_toml("lib/mid.toml", 'extends = "root.toml"\n[run]\nseed = 11\n')
    child = write_toml("runs/child.toml", 'extends = "../lib/mid.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = load(child).run
    assert (run.years, run.seed) == (6, 11)


def test_extends_cycle_is_a_clear_error(write_toml):
    write_toml("a.toml", 'extends = "b.toml"\n')
    b = write_toml("b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError) as excinfo:
        load(b)
    assert "loops" in str(excinfo.value)
    assert "b.toml" in str(excinfo.value)


def test_file_extending_itself_is_a_cycle(write_toml):
    a = write_toml("a.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="loops back"):
        load(a)


def test_extends_missing_file_names_both_files(write_toml):
    child = write_toml("child.toml", 'extends = "nowhere.toml"\n')
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    (problem,) = _problems(excinfo)
    assert "child.toml: extends" in problem.where
    assert "nowhere.toml" in problem.message and "does not exist" in problem.message


def test_missing_scenario_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load(tmp_path / "absent.toml")


def test_extends_must_be_a_string(write_toml):
    child = write_toml("child.toml", "extends = 3\n")
    with pytest.raises(ScenarioError, match="must be a file name"):
        load(child)


def test_invalid_toml_is_a_scenario_error_naming_the_file(write_toml):
    child = write_toml("broken.toml", "[run\nyears = 3\n")
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    assert "broken.toml" in str(excinfo.value)
    assert "not valid TOML" in str(excinfo.value)


def test_scenario_name_defaults_to_the_file_stem(write_toml):
    assert load(write_toml("right_2027.toml", "")).name == "right_2027"
    assert load(write_toml("named.toml", 'name = "mine"\n')).name == "mine"


# --- validation messages ---------------------------------------------------------------------

def test_unknown_key_suggests_the_closest(write_toml):
    child = write_toml("typo.toml", "[service]\nwait_target_dayz = 21\n")
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    problem = _problem_at(_problems(excinfo), "service.wait_target_dayz")
    assert "did you mean 'wait_target_days'" in problem.message
    assert problem.where.startswith(str(child))


def test_unknown_section_suggests_the_closest(write_toml):
    child = write_toml("typo.toml", "[servise]\nwait_target_days = 21\n")
    with pytest.raises(ScenarioError, match="did you mean 'service'"):
        load(child)


def test_unknown_offence_group_suggests_the_closest():
    with pytest.raises(ScenarioError, match="did you mean 'burglary'"):
        scenario(demand={"groups": ["burglery"]})


def test_every_problem_in_a_file_is_reported_at_once_with_file_and_key(write_toml):
    child = write_toml("many.toml", "\n".join([
        "[run]", "yeers = 3",
        "[service]", "wait_target_days = -1",
        'patience = { kind = "exponential", mean = 90, median = 5 }',
        "[level_one]", 'groups = ["domestic_abuse"]',
        "[stages.assessment]", 'effort_hours = "six"',
        "[funding]", 'capacity_from = "budgett"',
    ]) + "\n")
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    problems = _problems(excinfo)
    expected_paths = ["run.yeers", "service.wait_target_days", "service.patience.median",
                      "level_one.groups", "stages.assessment.effort_hours",
                      "funding.capacity_from"]
    for key_path in expected_paths:
        assert _problem_at(problems, key_path).where == f"{child}: {key_path}"
    assert len(problems) == len(expected_paths)
    assert f"{len(expected_paths)} problem(s)" in str(excinfo.value)


@pytest.mark.parametrize("section, text, hidden_path", [
    ("demand", 'groups = ["violense"]\ninformed = 1.5\n', "demand.groups"),
    ("level_one", 'groups = ["domestic_abuse"]\ndiversion_share = 2.0\n', "level_one.groups"),
])
def test_rules_of_a_section_are_reported_alongside_its_field_problems(write_toml, section, text,
                                                                      hidden_path):
    """STYLE habit 2: all problems together. A bad group name must not hide behind a bad
    probability in the same section (the user would otherwise fix one and meet the other)."""
    child = write_toml("two.toml", f"[{section}]\n{text}")
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    _problem_at(_problems(excinfo), hidden_path)


def test_problem_in_a_replaced_distribution_is_blamed_on_the_file_that_set_it(write_toml):
    """The defaults' exponential patience had a mean; the child's replacement has none. The
    missing mean is the child's mistake, so the message must name the child file."""
    child = write_toml("child.toml", '[service]\npatience = { kind = "exponential" }\n')
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    problem = _problem_at(_problems(excinfo), "service.patience.mean")
    assert problem.where == f"{child}: service.patience.mean"


def test_problem_in_a_parent_file_names_the_parent(write_toml):
    base = write_toml("base.toml", "[demand]\ninformed = 1.2\n")
    child = write_toml("child.toml", 'extends = "base.toml"\n[run]\nyears = 2\n')
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    assert _problem_at(_problems(excinfo), "demand.informed").where == (
        f"{base}: demand.informed")


def test_level_one_refuses_domestic_abuse(write_toml):
    child = write_toml("l1.toml", '[level_one]\ndiversion_share = 0.1\n'
                       'groups = ["theft", "domestic_abuse"]\n')
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    problem = _problem_at(_problems(excinfo), "level_one.groups")
    assert "domestic abuse" in problem.message
    assert problem.where.startswith(str(child))


@pytest.mark.parametrize("group", ["sexual", "hate"])
def test_level_one_refuses_other_sensitive_groups(group):
    with pytest.raises(ScenarioError, match="sensitive"):
        scenario(level_one={"groups": [group]})


def test_level_one_accepts_general_low_level_groups():
    sc = scenario(level_one={"diversion_share": 0.2, "groups": ["theft", "criminal_damage"]})
    assert sc.level_one.groups == ("theft", "criminal_damage")


@pytest.mark.parametrize("table, bad_key, fragment", [
    ('{ kind = "exponential" }', "mean", "is required"),
    ('{ kind = "exponential", mean = -3 }', "mean", "must be positive"),
    ('{ kind = "exponential", mean = 0 }', "mean", "must be positive"),
    ('{ kind = "lognormal", median = 7 }', "sigma", "is required"),
    ('{ kind = "lognormal", median = 0, sigma = 0.5 }', "median", "must be positive"),
    ('{ kind = "gamma", mean = 10, cv = -0.1 }', "cv", "must be positive or zero"),
    ('{ kind = "exponential", mean = 5, median = 7 }', "median", "is not a parameter"),
    ('{ kind = "never", mean = 3 }', "mean", "no parameters"),
    ('{ kind = "fixed", value = "3" }', "value", "must be a number"),
    ('{ kind = "exponential", meen = 3 }', "meen", "did you mean 'mean'"),
])
def test_bad_distribution_parameters(write_toml, table, bad_key, fragment):
    child = write_toml("dist.toml", f"[service]\npatience = {table}\n")
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    assert fragment in _problem_at(_problems(excinfo), f"service.patience.{bad_key}").message


def test_unknown_distribution_kind_lists_the_kinds(write_toml):
    child = write_toml("dist.toml", '[service]\nwindow = { kind = "weibul", mean = 3 }\n')
    with pytest.raises(ScenarioError) as excinfo:
        load(child)
    message = _problem_at(_problems(excinfo), "service.window.kind").message
    assert "'exponential'" in message and "'lognormal'" in message and "'never'" in message


@pytest.mark.parametrize("section, values, key_path", [
    ("run", {"years": 0}, "run.years"),
    ("run", {"replications": 0}, "run.replications"),
    ("run", {"start_date": "2025-13-01"}, "run.start_date"),
    ("run", {"years": 1, "warmup_days": 400}, "run.warmup_days"),
    ("demand", {"informed": 1.01}, "demand.informed"),
    ("demand", {"groups": ["theft", "theft"]}, "demand.groups"),
    ("funding", {"on_cost_factor": 0.9}, "funding.on_cost_factor"),
    ("interventions", {"facilitators_per_direct_conference": 1.5},
     "interventions.facilitators_per_direct_conference"),
    ("service", {"productive_hours_per_fte_day": True}, "service.productive_hours_per_fte_day"),
    ("statutory_right", {"commence_day": 5000}, "statutory_right.commence_day"),
])
def test_out_of_range_values_are_refused_at_their_key(section, values, key_path):
    with pytest.raises(ScenarioError) as excinfo:
        scenario(**{section: values})
    _problem_at(_problems(excinfo), key_path)


def test_a_commencement_date_is_counted_from_the_start_date():
    sc = scenario(run={"start_date": "2025-04-01"},
                  statutory_right={"commence_date": "2027-04-01"})
    assert sc.commence_day == 730.0
    assert scenario().commence_day is None


@pytest.mark.parametrize("right", [
    {"commence_date": "2027-04-01", "commence_day": 730.0},
    {"commence_date": "2024-04-01"},
    {"commence_date": "2040-04-01"},
    {"commence_date": "1 April 2027"},
])
def test_bad_commencement_is_refused(right):
    with pytest.raises(ScenarioError) as excinfo:
        scenario(statutory_right=right)
    assert "statutory_right.commence" in str(excinfo.value)


# --- paths to area data ----------------------------------------------------------------------

def test_area_data_path_is_relative_to_the_file_that_set_it(write_toml, tmp_path, monkeypatch):
    write_toml("lib/base.toml", '[areas]\ndata = "areas.csv"\n')
    child = write_toml("runs/child.toml", 'extends = "../lib/base.toml"\n[run]\nyears = 2\n')
    monkeypatch.chdir(tmp_path / "runs")
    assert Path(load(child).areas.data) == (tmp_path / "lib" / "areas.csv").resolve()


def test_area_data_set_by_the_child_is_relative_to_the_child(write_toml, tmp_path):
    write_toml("lib/base.toml", '[areas]\ndata = "areas.csv"\n')
    child = write_toml("runs/child.toml", 'extends = "../lib/base.toml"\n'
                       '[areas]\ndata = "data/mine.csv"\n')
    assert Path(load(child).areas.data) == (tmp_path / "runs" / "data" / "mine.csv").resolve()


def test_empty_area_data_means_the_packaged_table(write_toml):
    assert load(write_toml("plain.toml", "")).areas.data == ""


# --- immutability ----------------------------------------------------------------------------

def test_scenario_is_frozen_at_every_level():
    sc = scenario()
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.run = sc.run  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.run.years = 9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.service.patience.mean = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.stages.assessment.effort_hours = 1.0  # type: ignore[misc]
    assert isinstance(sc.demand.groups, tuple)


def test_table_valued_settings_cannot_be_changed_after_validation():
    """A frozen scenario whose dicts stay mutable can be changed behind validation's back
    (e.g. an unsuitable probability of 7)."""
    sc = scenario()
    with pytest.raises(TypeError):
        sc.exits.unsuitable_by_group["sexual"] = 7.0  # type: ignore[index]
    assert sc.unsuitable("sexual") == 0.2


def test_with_overrides_returns_a_new_scenario_and_leaves_the_original():
    sc = scenario(demand={"wants_rj": 0.3})
    changed = with_overrides(sc, run={"years": 2.0}, demand={"wants_rj": 0.5})
    assert (changed.run.years, changed.demand.wants_rj) == (2.0, 0.5)
    assert (sc.run.years, sc.demand.wants_rj) == (5, 0.3)
    assert changed.run.seed == sc.run.seed


def test_funnel_and_unsuitable_apply_group_overrides():
    sc = scenario(demand={"informed": 0.3, "wants_rj": 0.3,
                          "by_group": {"sexual": {"wants_rj": 0.1}}})
    assert sc.funnel("sexual") == (0.15, 0.30, 0.1)
    assert sc.funnel("violence") == (0.15, 0.30, 0.30)
    assert (sc.unsuitable("domestic_abuse"), sc.unsuitable("theft")) == (0.30, 0.10)


def test_fingerprint_changes_with_any_value_and_not_with_where_the_data_lives(write_toml):
    a = load(write_toml("a/x.toml", "[run]\nyears = 3\n"))
    same = load(write_toml("b/x.toml", "[run]\nyears = 3\n"))
    other = load(write_toml("c/x.toml", "[run]\nyears = 3\nseed = 1\n"))
    assert fingerprint(a, "d1") == fingerprint(same, "d1")
    assert fingerprint(a, "d1") != fingerprint(other, "d1")
    assert fingerprint(a, "d1") != fingerprint(a, "d2")
    moved = with_overrides(a, areas={"data": "/somewhere/else.csv"})
    assert fingerprint(moved, "d1") == fingerprint(a, "d1")


def test_defaults_alone_validate():
    sc = scenario_io.from_dict({})
    assert sc.run.horizon_days == 5 * 365.0
    assert "domestic_abuse" not in sc.level_one.groups


# --- writing the resolved scenario -----------------------------------------------------------


def test_resolved_scenario_round_trips_through_toml_with_numpy_numbers(tmp_path: Path) -> None:
    """What a results directory writes as ``scenario.toml`` (``tomli_w`` over ``to_plain``)
    reads back as the same scenario, even where code put NumPy scalars into it (a planner's
    FTE are ``np.float64``; counts can be ``np.int64``, which TOML writers refuse)."""
    base = scenario()
    run = dataclasses.replace(base.run, seed=np.int64(11), years=np.float64(2.5),
                              replications=np.int64(4))
    numpyish = dataclasses.replace(base, run=run)
    plain = to_plain(numpyish)
    assert type(plain["run"]["seed"]) is int and type(plain["run"]["years"]) is float
    assert type(to_plain(np.bool_(True))) is bool
    path = tmp_path / "scenario.toml"
    path.write_text(tomli_w.dumps(plain), encoding="utf-8")
    again = load(path)
    assert (again.run.seed, again.run.years, again.run.replications) == (11, 2.5, 4)
    expected = dataclasses.replace(base, run=dataclasses.replace(
        base.run, seed=11, years=2.5, replications=4), name=again.name)
    assert fingerprint(again, "") == fingerprint(expected, "")


@pytest.mark.parametrize(("sections", "where", "fragment"), [
    ({"demand": {"scope": "indictable"}}, "demand.scope", "recorded"),
    ({"demand": {"cja_in_scope": {"violense": 0.5}}}, "demand.cja_in_scope", "violence"),
    ({"demand": {"cja_in_scope": {"violence": 1.5}}}, "demand.cja_in_scope.violence",
     "at most 1"),
    ({"demand": {"apportionment": {"hate_recorded_as": {"public_ordr": 0.5}}}},
     "demand.apportionment.hate_recorded_as", "did you mean 'public_order'"),
    ({"demand": {"apportionment": {"hate_recorded_as": {"public_order": 0.7,
                                                        "violence_and_sexual": 0.5}}}},
     "demand.apportionment.hate_recorded_as", "at most 1"),
])
def test_demand_scope_and_hate_categories_are_checked(sections, where, fragment):
    with pytest.raises(ScenarioError) as excinfo:
        scenario(**sections)
    problem = _problem_at(_problems(excinfo), where)
    assert fragment in problem.message + str(problem)


def test_cja_scope_has_a_share_for_every_group_and_overlays_keep_the_rest():
    sc = scenario(demand={"scope": "cja", "cja_in_scope": {"violence": 0.5}})
    assert set(sc.demand.cja_in_scope) == set(GROUPS)
    assert sc.demand.in_scope("violence") == 0.5
    assert sc.demand.in_scope("sexual") == scenario().demand.cja_in_scope["sexual"]
    assert scenario().demand.in_scope("violence") == 1.0  # default scope: all recorded crime
