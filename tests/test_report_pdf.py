"""``report.pdf`` for committee circulation: printed by headless Chromium from the report, A4,
"Page N of M" on every page, the decision table on page 1, figures as vectors; without
Chromium a clean error (exit 2) that leaves report.html in place.

Like the browser test, it needs Debian's ``chromium`` (``make test`` installs it as root) and
fails, saying so, without it.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pypdf
import pytest
from reporttools import LONG_OPTIONS, small_comparison

from rjsim.cli import main as cli
from rjsim.report import pdf as report_pdf

A4_POINTS = (595.28, 841.89)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real comparison of four shipped options, its report printed by ``compare --pdf``."""
    if report_pdf.find_browser() is None:
        pytest.fail("the PDF test needs chromium on PATH: apt-get install -y chromium "
                    "(as root; 'make test' does it)")
    return small_comparison(tmp_path_factory.mktemp("pdf"), "--pdf")


def _pages(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(path).pages]


def _images(path: Path) -> int:
    count = 0
    for page in pypdf.PdfReader(path).pages:
        objects = page.get("/Resources", {}).get_object().get("/XObject") or {}
        count += sum(o.get_object().get("/Subtype") == "/Image" for o in objects.values())
    return count


@pytest.mark.slow
def test_compare_pdf_is_a4_numbered_with_the_decision_table_on_page_1(comparison: Path) -> None:
    path = comparison / "report.pdf"
    reader = pypdf.PdfReader(path)
    n = len(reader.pages)
    assert n >= 3  # decision table, tables, figures, assumptions
    for page in reader.pages:
        box = page.mediabox
        assert float(box.width) == pytest.approx(A4_POINTS[0], abs=1)
        assert float(box.height) == pytest.approx(A4_POINTS[1], abs=1)
    texts = _pages(path)
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of {n}" in text, text[:200]
    first = texts[0]
    assert "The options at a glance" in first
    for name in LONG_OPTIONS:  # every option's row of the decision table is on page 1
        assert name in first.replace("\n", ""), name
    assert "Differences from the baseline" not in first or first.index(
        "The options at a glance") < first.index("Differences from the baseline")


@pytest.mark.slow
def test_pdf_figures_are_vectors(comparison: Path) -> None:
    # the two figures are SVG in the PDF: no raster image at all; printing the page as it is
    # (PNG figures) would embed them as images
    assert _images(comparison / "report.pdf") == 0
    page = (comparison / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2


def test_vector_page_swaps_each_png_with_an_svg_twin(tmp_path: Path) -> None:
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "a.png").write_bytes(b"PNG-a")
    (figures / "a.svg").write_bytes(b"<svg>a</svg>")
    (figures / "b.png").write_bytes(b"PNG-b")  # no twin: stays a PNG
    uri = {k: "data:image/png;base64," + base64.b64encode(v).decode()
           for k, v in (("a", b"PNG-a"), ("b", b"PNG-b"))}
    text = f'<img src="{uri["a"]}"><img src="{uri["b"]}"><img src="{uri["a"]}">'
    out = report_pdf.vector_page(text, figures)
    svg = "data:image/svg+xml;base64," + base64.b64encode(b"<svg>a</svg>").decode()
    assert out == f'<img src="{svg}"><img src="{uri["b"]}"><img src="{svg}">'
    assert report_pdf.vector_page(text, tmp_path / "none") == text


@pytest.mark.slow
def test_report_pdf_without_chromium_is_a_clean_error_and_keeps_the_html(
        comparison: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(comparison, copy, ignore=shutil.ignore_patterns("report.pdf"))
    monkeypatch.setattr(report_pdf, "BROWSERS", ("no-such-chromium",))
    status = cli.main(["report", str(copy), "--pdf"])
    out, err = capsys.readouterr()
    assert status == 2
    assert "needs headless Chromium" in err and "no-such-chromium" in err
    assert "Traceback" not in err and f"Report: {copy / 'report.html'}" in out
    assert (copy / "report.html").is_file() and not (copy / "report.pdf").exists()


@pytest.mark.slow
def test_report_command_prints_the_pdf_again(comparison: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(comparison, copy, ignore=shutil.ignore_patterns("report.pdf"))
    assert cli.main(["report", str(copy), "--pdf"]) == 0
    assert f"PDF: {copy / 'report.pdf'}" in capsys.readouterr().out
    assert len(pypdf.PdfReader(copy / "report.pdf").pages) == len(
        pypdf.PdfReader(comparison / "report.pdf").pages)


def test_no_report_to_print_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(report_pdf.PdfError, match=r"no report\.html"):
        report_pdf.write_pdf(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["uncertainty", "sensitivity"])
def test_uncertainty_and_sensitivity_print_their_report_with_pdf(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from uncertainty_helpers import write_area_csv, write_mmc_toml
    table = {"samples": 2, "replications": 1, "vary": ["demand.offender_identified"],
             "distributions": {"demand.offender_identified": {"kind": "uniform", "low": 0.5,
                                                              "high": 0.8}}}
    scenario = write_mmc_toml(tmp_path / "mmc.toml", write_area_csv(tmp_path / "area.csv"),
                              years=0.5, uncertainty=table)
    size = ["--samples", "2"] if command == "uncertainty" else ["--trajectories", "2"]
    out = tmp_path / "out"
    status = cli.main([command, str(scenario), *size, "--workers", "1", "--no-cache", "-q",
                       "--out", str(out), "--pdf"])
    printed = capsys.readouterr().out
    assert status == 0
    assert f"PDF: {out / 'report.pdf'}" in printed
    reader = pypdf.PdfReader(out / "report.pdf")
    n = len(reader.pages)
    first = reader.pages[0]
    assert float(first.mediabox.width) == pytest.approx(A4_POINTS[0], abs=1)
    assert f"Page 1 of {n}" in (first.extract_text() or "")
    assert "Headline" in (first.extract_text() or "")
