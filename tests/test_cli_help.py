"""The CLI's help: every command and argument explained, with examples that parse; developer
commands listed apart; ``--years`` described as it is checked."""

from __future__ import annotations

import argparse
import itertools
import shlex
from pathlib import Path

import pytest

from rjsim.cli import examples
from rjsim.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


COMMANDS = _commands()


def test_every_command_has_examples_and_no_example_names_a_missing_command() -> None:
    assert sorted(examples.EXAMPLES) == sorted(COMMANDS), \
        "add the new command's examples to rjsim/cli/examples.py (EXAMPLES)"
    assert set(examples.DEVELOPER) <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_shows_its_examples_in_its_help(name: str) -> None:
    text = COMMANDS[name].format_help()
    assert "examples:" in text
    for line in examples.EXAMPLES[name]:
        assert " ".join(line.split()[:2]) in text
        # the help's example, continuation backslashes removed, is the example itself
    shown = text.split("examples:", 1)[1].replace("\\\n", " ")
    for line in examples.EXAMPLES[name]:
        assert " ".join(line.split()) in " ".join(shown.split())


@pytest.mark.parametrize(("name", "line"), [(n, line) for n, lines in examples.EXAMPLES.items()
                                            for line in lines])
def test_every_example_parses_and_names_shipped_scenarios(name: str, line: str) -> None:
    words = shlex.split(line)
    assert words[:2] == ["rjsim", name]
    args = build_parser().parse_args(words[1:])
    assert args.command == name
    written = {w for before, w in itertools.pairwise(words) if before == "--write-scenario"}
    for word in words:
        if word.startswith("scenarios/") and word.endswith(".toml") and "*" not in word \
                and word not in written:
            assert (ROOT / word).is_file(), f"{line}: {word} is not a shipped scenario"


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(
        a, argparse._HelpAction | argparse._VersionAction | argparse._SubParsersAction)]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_argument_has_help(name: str) -> None:
    bare = [a.dest for a in _arguments(COMMANDS[name]) if not (a.help or "").strip()]
    assert bare == [], f"rjsim {name}: arguments without help: {bare}"
    assert COMMANDS[name].description or name in _listed(build_parser().format_help())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_positional_argument_has_help(name: str) -> None:
    positionals = [a for a in _arguments(COMMANDS[name]) if not a.option_strings]
    assert all(a.help and len(a.help) > 10 for a in positionals), name


def _listed(text: str) -> set[str]:
    """Command names at the start of a line of the main help's "commands:" listing."""
    listing = text.split("\ncommands:\n", 1)[1].split("\ndeveloper commands", 1)[0]
    return {line.split()[0] for line in listing.splitlines()
            if line.startswith("    ") and line.split() and line.split()[0] in COMMANDS}


def test_main_help_lists_developer_commands_apart(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert _listed(text) == set(COMMANDS) - set(examples.DEVELOPER)
    developer = text.split("\ndeveloper commands", 1)[1].split("\nexamples:", 1)[0]
    assert {line.split()[0] for line in developer.splitlines()[1:] if line[:3].strip()} \
        == set(examples.DEVELOPER)
    assert "\nexamples:\n  rjsim " in text


def test_formatter_wraps_prose_but_keeps_indented_lines() -> None:
    parser = argparse.ArgumentParser(prog="x", formatter_class=examples.Formatter,
                                     description="word " * 40,
                                     epilog="examples:\n  x --a 1\n  x --b 2")
    text = parser.format_help()
    assert "\nexamples:\n  x --a 1\n  x --b 2" in text
    assert max(len(line) for line in text.split("examples:")[0].splitlines()) < 100


def test_a_long_example_is_continued_with_a_backslash() -> None:
    text = examples.epilog(("rjsim compare " + " ".join(f"s{i}.toml" for i in range(30)),))
    lines = text.splitlines()
    assert len(lines) > 2 and all(line.endswith(" \\") for line in lines[1:-1])
    assert all(len(line) <= examples.WIDTH for line in lines)


SHARED_YEARS = [name for name, p in COMMANDS.items()
                if any("--years" in a.option_strings for a in p._actions)
                and name not in ("verify", "backcast", "bench")]


@pytest.mark.parametrize("name", SHARED_YEARS)
def test_years_help_says_what_is_accepted(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    action = next(a for a in COMMANDS[name]._actions if "--years" in a.option_strings)
    assert "more than 0" in (action.help or "") and "at most 50" in (action.help or "")
    scenario = [] if name in ("calibrate",) else ["scenarios/baseline.toml"]
    assert build_parser().parse_args([name, *scenario, "--years", "50"]).years == 50
    assert build_parser().parse_args([name, *scenario, "--years", "0.5"]).years == 0.5
    for bad in ("0", "50.5", "-1"):
        with pytest.raises(SystemExit) as stop:
            build_parser().parse_args([name, *scenario, "--years", bad])
        assert stop.value.code == 2
        assert "at most 50" in capsys.readouterr().err


def test_verify_years_help_matches_its_check(capsys: pytest.CaptureFixture[str]) -> None:
    action = next(a for a in COMMANDS["verify"]._actions if "--years" in a.option_strings)
    assert "7 to 200" in (action.help or "")
    for bad in ("6.9", "200.5"):
        assert main(["verify", "scenarios/verification/cumbria_funded.toml", "--years", bad,
                     "--out", "unused"]) == 2
        assert "must be 7 to 200" in capsys.readouterr().err
