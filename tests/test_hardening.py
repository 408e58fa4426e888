"""Every case of the hardening issue as a CLI regression test: each was a traceback, a hang,
an exhausted memory, silent acceptance or data loss; each is now a clean exit 2 naming what,
where and what is allowed (or a documented, correct run).

The commands run in this process (``rjsim.cli.main.main``), so an exception fails the test
with its traceback, and under an alarm, so a hang fails the test instead of blocking the suite.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fuzzing import alarm

from rjsim.cli.main import main
from rjsim.experiment import experiment
from rjsim.results import atomic

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = ROOT / "rjsim" / "data" / "force_areas_2024_25.csv"
TIME_LIMIT_S = 120  # far above what any case takes; only a hang reaches it
HEADER, *ROWS = PACKAGED.read_text(encoding="utf-8").splitlines()
COLUMNS = HEADER.split(",")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``rjsim ARGS`` in this process: exit status, stdout, stderr."""
    with alarm(TIME_LIMIT_S):
        try:
            status = main(list(args))
        except SystemExit as exc:  # argparse
            status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def csv_with(change: Callable[[int, list[str]], list[str]], extra: str = "") -> str:
    """The packaged area data with each row changed by ``change(index, fields)`` and an
    optional extra header column (whose values ``change`` appends)."""
    rows = [",".join(change(i, r.split(","))) for i, r in enumerate(ROWS)]
    return "\n".join([HEADER + (f",{extra}" if extra else ""), *rows]) + "\n"


def set_column(column: str, value: str) -> Callable[[int, list[str]], list[str]]:
    index = COLUMNS.index(column)
    return lambda _, f: [*f[:index], value, *f[index + 1:]]


def add_value(value_of: Callable[[int], str]) -> Callable[[int, list[str]], list[str]]:
    return lambda i, f: [*f, value_of(i)]


@dataclass
class Case:
    """Files to write (name -> text or bytes), a command, and what it must print."""

    files: dict[str, str | bytes]
    args: tuple[str, ...]
    needles: tuple[str, ...]
    status: int = 2
    setup: Callable[[Path], None] | None = field(default=None)


def scenario(body: str, name: str = "case") -> str:
    return f'name = "{name}"\n{body}\n'


def with_data(csv: str, funding: str = "") -> dict[str, str | bytes]:
    return {"s.toml": scenario(f'[areas]\ndata = "areas.csv"\n[funding]\n{funding}'),
            "areas.csv": csv}


def _fifo(tmp: Path) -> None:
    os.mkfifo(tmp / "areas.csv")


def _loop(tmp: Path) -> None:
    (tmp / "a.toml").symlink_to("b.toml")
    (tmp / "b.toml").symlink_to("a.toml")


def _many_rows() -> str:
    bad = [",".join(["X99999999", "nowhere", *["x"] * (len(COLUMNS) - 2)])] * 20_000
    return "\n".join([HEADER, *bad]) + "\n"


VALIDATE = "validate"
CASES: dict[str, Case] = {
    # 6. tracebacks that are now clean errors
    "areas is a number": Case({"s.toml": scenario("areas = 1")}, (VALIDATE, "s.toml"),
                              ("s.toml: areas", "must be a table")),
    "300-digit integer in a float field": Case(
        {"s.toml": scenario("[run]\nyears = " + "1" * 300)}, (VALIDATE, "s.toml"),
        ("run.years", "at most 50")),
    "5,000-digit integer": Case({"s.toml": scenario("[run]\nyears = " + "1" * 5000)},
                                (VALIDATE, "s.toml"), ("s.toml", "at most 4300 digits")),
    "sweep key under a plain value": Case(
        {"s.toml": scenario('[sweep]\nmode = "grid"\n[sweep.values]\n"name.x" = [1]')},
        (VALIDATE, "s.toml"), ("sweep.values.name.x", "cannot be swept")),
    "sweep key inside another swept key": Case(
        {"s.toml": scenario('[sweep.values]\n"run" = [1]\n"run.years" = [1]')},
        (VALIDATE, "s.toml"), ("sweep.values.run.years", "lies inside 'run'")),
    "lognormal sigma 100": Case(
        {"s.toml": scenario('[stages.assessment]\nduration = { kind = "lognormal", '
                            'median = 14, sigma = 100 }')},
        (VALIDATE, "s.toml"), ("stages.assessment.duration.sigma", "at most 5")),
    "extends name of 300 characters": Case(
        {"s.toml": f'extends = "{"x" * 300}.toml"\n'}, (VALIDATE, "s.toml"),
        ("s.toml: extends", "too long")),
    "NUL byte in a path": Case({"s.toml": scenario('[areas]\ndata = "a\\u0000b.csv"')},
                               (VALIDATE, "s.toml"), ("areas.data", "NUL byte")),
    "1,000 levels of nesting": Case({"s.toml": scenario("x = " + "[" * 1000 + "]" * 1000)},
                                    (VALIDATE, "s.toml"), ("s.toml", "too deeply")),
    "symlink loop": Case({}, (VALIDATE, "a.toml"), ("a.toml", "symbolic link loop"),
                         setup=_loop),
    "--cache is a file": Case({"s.toml": scenario('[run]\nyears = 1\n[areas]\ninclude = '
                                                  '["Gwent"]'), "c": "a file"},
                              ("run", "s.toml", "--cache", "c", "-q", "--workers", "1"),
                              ("--cache c", "is a file, not a folder")),
    "--cache under a file": Case({"s.toml": scenario('[run]\nyears = 1\n[areas]\ninclude = '
                                                     '["Gwent"]'), "c": "a file"},
                                 ("run", "s.toml", "--cache", "c/sub", "-q", "--workers", "1"),
                                 ("--cache c/sub", "cannot store finished tasks")),
    "--out under a file": Case({"s.toml": scenario('[run]\nyears = 1\n[areas]\ninclude = '
                                                   '["Gwent"]'), "o": "a file"},
                               ("run", "s.toml", "--out", "o/res", "--no-cache", "-q"),
                               ("--out o/res", "cannot create the results directory")),
    # 7. validate catches what run would fail on
    "gamma cv 1e-200": Case(
        {"s.toml": scenario('[stages.preparation]\nduration = { kind = "gamma", mean = 21, '
                            'cv = 1e-200 }')},
        (VALIDATE, "s.toml"), ("stages.preparation.duration.cv", "or at least 0.001")),
    "national count 4.6e18": Case(
        {"s.toml": scenario("[demand.apportionment]\ndomestic_abuse_national = 4.6e18")},
        (VALIDATE, "s.toml"), ("domestic_abuse_national", "at most 1e+08")),
    "area counts 1e300": Case(with_data(csv_with(set_column("prc_robbery", "1e300"))),
                              (VALIDATE, "s.toml"),
                              ("areas.csv: row 2, column prc_robbery", "at most 1e+08")),
    # 3. bounded inputs
    "area data /dev/zero": Case({"s.toml": scenario('[areas]\ndata = "/dev/zero"')},
                                (VALIDATE, "s.toml"), ("/dev/zero", "not a regular file")),
    "area data a FIFO": Case({"s.toml": scenario('[areas]\ndata = "areas.csv"')},
                             (VALIDATE, "s.toml"), ("areas.csv", "not a regular file"),
                             setup=_fifo),
    "20,000 bad rows: the first 50 and a count": Case(
        with_data(_many_rows()), (VALIDATE, "s.toml"),
        ("areas.csv: row 2, column pfa_code", "more (the first 50 are shown")),
    "an area CSV over the size limit": Case(
        with_data(HEADER + "\n" + ("#" * 99 + "\n") * 50_000), (VALIDATE, "s.toml"),
        ("areas.csv", "5,000,536 bytes; at most 4,194,304 are allowed")),
    "a scenario file over the size limit": Case(
        {"s.toml": scenario("# padding\n" * 120_000)}, (VALIDATE, "s.toml"),
        ("s.toml", "at most 1,048,576 are allowed")),
    "a sweep grid of a million points": Case(
        {"s.toml": scenario("[sweep.values]\n" + "\n".join(
            f'"run.{k}" = [{", ".join(str(v) for v in range(1, 11))}]'
            for k in ("years", "seed", "warmup_days", "replications"))
            + '\n"demand.informed" = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]'
            + '\n"demand.wants_rj" = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]')},
        (VALIDATE, "s.toml"), ("sweep", "has 1000000 points; at most 1000")),
    "notice_days 1e9": Case({"s.toml": scenario("[staffing]\nnotice_days = 1e9")},
                            (VALIDATE, "s.toml"), ("staffing.notice_days", "at most 3650")),
    "notice_days 1e15": Case({"s.toml": scenario("[staffing]\nnotice_days = 1e15")},
                             (VALIDATE, "s.toml"), ("staffing.notice_days", "at most 3650")),
    "20,000 keys": Case({"s.toml": scenario("[run]\n" + "\n".join(
        f"k{i} = {i}" for i in range(20_000)))}, (VALIDATE, "s.toml"),
        ("run.k0: unknown key 'k0'", "and 19950 more")),
    # 8. bad area data
    "negative rj_budget_gbp": Case(
        with_data(csv_with(add_value(lambda i: "-5" if i == 2 else "1000"), "rj_budget_gbp")),
        (VALIDATE, "s.toml"), ("areas.csv: row 4, column rj_budget_gbp", "non-negative")),
    "rj_budget_gbp nan": Case(
        with_data(csv_with(add_value(lambda i: "nan" if i == 2 else "1000"), "rj_budget_gbp")),
        (VALIDATE, "s.toml"), ("areas.csv: row 4, column rj_budget_gbp", "(got 'nan')")),
    "rj_budget_gbp text": Case(
        with_data(csv_with(add_value(lambda i: "lots" if i == 2 else "1"), "rj_budget_gbp")),
        (VALIDATE, "s.toml"), ("areas.csv: row 4, column rj_budget_gbp", "(got 'lots')")),
    "allocation column all zero": Case(
        with_data(csv_with(add_value(lambda i: "0"), "w"),
                  'allocation = "column"\nallocation_column = "w"'),
        (VALIDATE, "s.toml"), ("areas.csv: column w", "positive weight")),
    "allocation column negative": Case(
        with_data(csv_with(add_value(lambda i: "-1" if i == 3 else "1"), "w"),
                  'allocation = "column"\nallocation_column = "w"'),
        (VALIDATE, "s.toml"), ("areas.csv: row 5, column w", "non-negative weight")),
    "allocation column overflows": Case(
        with_data(csv_with(add_value(lambda i: "1e308"), "w"),
                  'allocation = "column"\nallocation_column = "w"'),
        (VALIDATE, "s.toml"), ("areas.csv: column w", "add up to inf")),
    "all-zero population": Case(
        with_data(csv_with(set_column("census2021_population", "0")),
                  'allocation = "population"'),
        (VALIDATE, "s.toml"), ("areas.csv: column census2021_population", "positive weight")),
    "all-zero recorded crime": Case(
        with_data(csv_with(set_column("prc_2024_25_total_excl_fraud", "0")),
                  'allocation = "recorded_crime"'),
        (VALIDATE, "s.toml"),
        ("areas.csv: column prc_2024_25_total_excl_fraud", "positive weight")),
    # 10. a byte-order mark
    "UTF-8 BOM": Case({"s.toml": b"\xef\xbb\xbf" + scenario("").encode()},
                      (VALIDATE, "s.toml"), (), status=0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_case_is_a_clean_outcome(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    for file, text in case.files.items():
        target = tmp_path / file
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
    if case.setup is not None:
        case.setup(tmp_path)
    monkeypatch.chdir(tmp_path)

    def no_simulation(*_: object, **__: object) -> None:
        raise AssertionError("a task was simulated before the bad input was found")
    monkeypatch.setattr(experiment, "run_tasks", no_simulation)
    status, out, err = cli(capsys, *case.args)
    assert status == case.status, out + err
    assert "Traceback" not in out + err
    for needle in case.needles:
        assert needle in err, err
    if case.status == 2:
        assert len(err.splitlines()) < 60, "problems beyond the first 50 must be counted"


def _write(tmp: Path, name: str, text: str) -> Path:
    (tmp / name).write_text(text, encoding="utf-8")
    return tmp / name


NO_DEMAND = """name = "no_demand"
[run]
years = 1
replications = 2
[areas]
data = "areas.csv"
include = ["W15000002"]
[demand]
offender_identified = 0
"""


def test_a_scenario_without_demand_runs_and_reports_and_formulas_stay_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook
    name = '=HYPERLINK("http://example.invalid","click")'
    rows = [r.replace(",Gwent,", f',"{name.replace(chr(34), chr(34) * 2)}",') for r in ROWS]
    _write(tmp_path, "areas.csv", "\n".join([HEADER, *rows]) + "\n")
    _write(tmp_path, "s.toml", NO_DEMAND)
    monkeypatch.chdir(tmp_path)
    status, out, err = cli(capsys, "run", "s.toml", "--out", "res", "--no-cache", "-q",
                           "--workers", "1")
    assert status == 0, out + err
    assert (tmp_path / "res" / "report.html").is_file()
    book = load_workbook(tmp_path / "res" / "report.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value == name]
    assert cells, "the area's name is in the workbook"
    assert all(c.data_type == "s" for c in cells)  # text, not a formula
    with zipfile.ZipFile(tmp_path / "res" / "report.xlsx") as z:
        sheets = "".join(z.read(n).decode() for n in z.namelist() if "worksheets" in n)
    assert "<f>" not in sheets  # no formula anywhere


def test_out_is_replaced_only_when_it_holds_what_rjsim_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "s.toml", 'name = "s"\n[run]\nyears = 1\nreplications = 2\n[areas]\n'
                               'include = ["Gwent"]\n')
    monkeypatch.chdir(tmp_path)
    args = ("run", "s.toml", "--out", "res", "--no-cache", "-q", "--workers", "1")
    assert cli(capsys, *args)[0] == 0
    manifest = json.loads((tmp_path / "res" / "manifest.json").read_text())
    assert "tables/area_summary.csv" in manifest["files"]
    assert cli(capsys, *args)[0] == 0  # its own results (and report) are replaced
    mine = tmp_path / "res" / "tables" / "my_notes.txt"
    mine.write_text("keep me")
    status, _, err = cli(capsys, *args)
    assert status == 2 and "holds 'tables/my_notes.txt', which rjsim did not write" in err
    assert mine.read_text() == "keep me"
    mine.unlink()
    forged = tmp_path / "forged"  # a marker alone does not make a folder replaceable
    forged.mkdir()
    (forged / "manifest.json").write_text('{"rjsim_results": 1}')
    (forged / "thesis.docx").write_text("years of work")
    status, _, err = cli(capsys, "run", "s.toml", "--out", "forged", "--no-cache", "-q")
    assert status == 2 and "does not list the files rjsim wrote" in err
    assert (forged / "thesis.docx").read_text() == "years of work"


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_staging_folders_of_killed_runs_are_cleaned(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "s.toml", 'name = "s"\n[run]\nyears = 1\nreplications = 1\n[areas]\n'
                               'include = ["Gwent"]\n')
    out = tmp_path / "res"
    dead = atomic.temp_dir(out, "records", owned=True)
    (dead / "rep00000_W15000002.parquet").write_bytes(b"part of a killed run")
    (dead / atomic.OWNER).write_text(json.dumps({"host": socket.gethostname(),
                                                 "pid": _dead_pid()}))
    live = atomic.temp_dir(out, "records", owned=True)  # this process: still running
    foreign = tmp_path / ".res.records-unowned"  # no owner record: not ours to delete
    foreign.mkdir()
    monkeypatch.chdir(tmp_path)
    status, out_text, err = cli(capsys, "run", "s.toml", "--out", "res", "--no-cache", "-q",
                                "--workers", "1", "--records", "--no-report")
    assert status == 0, out_text + err
    assert not dead.exists() and live.is_dir() and foreign.is_dir()
    assert (tmp_path / "res" / "tables" / "cases").is_dir()
    assert not any((tmp_path / "res").rglob(atomic.OWNER))


def test_a_read_only_out_parent_is_found_before_any_simulation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, permissions do not stop writes, so the refusal is simulated at mkdtemp."""
    import tempfile
    _write(tmp_path, "s.toml", 'name = "s"\n[run]\nyears = 1\n[areas]\ninclude = ["Gwent"]\n')
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.mkdtemp

    def refuse(*args: object, **kwargs: object) -> str:
        if Path(str(kwargs.get("dir", ""))).resolve() == locked:
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)  # type: ignore[call-overload, no-any-return]
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)

    def no_simulation(*_: object, **__: object) -> None:
        raise AssertionError("simulated before finding the folder cannot be written")
    monkeypatch.setattr(experiment, "run_tasks", no_simulation)
    monkeypatch.chdir(tmp_path)
    status, _, err = cli(capsys, "run", "s.toml", "--out", "locked/res", "--no-cache", "-q",
                         "--workers", "1")
    assert status == 2 and "--out locked/res: cannot create the results directory there" in err
    assert "Permission denied" in err
