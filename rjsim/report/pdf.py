"""``report.pdf``: the HTML report printed by headless Chromium, for committee circulation.

A4 portrait with "Page N of M" in every page's footer (CSS ``@page`` margin boxes, in the
print styles of :mod:`rjsim.report.html`), the page's first section (the headline or decision
table) on page 1, and the figures as vectors: each embedded PNG is swapped for its SVG twin
from ``figures/`` before printing. Chromium runs as a subprocess (``--headless
--print-to-pdf``) on a temporary copy of ``report.html`` with a throw-away profile; the page
has no scripts and fetches nothing. Without Chromium, or when it fails, the error says so and
``report.pdf`` is left as it was (written atomically).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from rjsim.core.errors import ResultsError
from rjsim.results.atomic import write_bytes_atomic

PDF = "report.pdf"
#: Executables tried, in order, when no browser is given.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds Chromium may take to print one report.
TIMEOUT_S = 180.0


class PdfError(ResultsError):
    """The PDF could not be made (no Chromium, or Chromium failed); ``report.html`` and the
    other files are unaffected."""


def find_browser() -> str | None:
    """The first of :data:`BROWSERS` on ``PATH``, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def vector_page(text: str, figures: Path) -> str:
    """``text`` (the report's HTML) with every embedded PNG that has an SVG twin in
    ``figures`` replaced by that SVG, so that the printed figures are vectors."""
    if not figures.is_dir():
        return text
    for png in sorted(figures.glob("*.png")):
        svg = png.with_suffix(".svg")
        if not svg.is_file():
            continue
        uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
        if uri in text:
            vector = base64.b64encode(svg.read_bytes()).decode("ascii")
            text = text.replace(uri, "data:image/svg+xml;base64," + vector)
    return text


def write_pdf(results_dir: Path, browser: str | None = None,
              timeout_s: float = TIMEOUT_S) -> Path:
    """Print ``results_dir/report.html`` to ``results_dir/report.pdf``; return its path.

    Raises
    ------
    PdfError
        When there is no report, no Chromium (``browser`` or one of :data:`BROWSERS`), or
        Chromium fails or takes longer than ``timeout_s``.
    """
    folder = Path(results_dir)
    page = folder / "report.html"
    if not page.is_file():
        raise PdfError(f"{folder}: no report.html to print; build it first "
                       f"('rjsim report {folder}')")
    exe = browser or find_browser()
    if exe is None or shutil.which(exe) is None:
        raise PdfError("--pdf needs headless Chromium, but none of "
                       f"{', '.join((browser and [browser]) or BROWSERS)} is on PATH: install "
                       "it (Debian: apt-get install chromium) or leave out --pdf; "
                       f"report.html is in {folder}/")
    with tempfile.TemporaryDirectory(prefix="rjsim-pdf-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / PDF
        src.write_text(vector_page(page.read_text(encoding="utf-8"), folder / "figures"),
                       encoding="utf-8")
        command = [exe, "--headless", "--disable-gpu", "--no-first-run", "--disable-extensions",
                   "--disable-background-networking", "--no-pdf-header-footer",
                   f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={out}",
                   src.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium refuses root otherwise
            command.insert(1, "--no-sandbox")
        try:
            proc = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium took more than {timeout_s:g} s to print {page}; "
                           "report.pdf was not written") from None
        except OSError as exc:
            raise PdfError(f"could not start Chromium ({exe}): {exc}") from None
        data = out.read_bytes() if out.is_file() else b""
        if proc.returncode != 0 or not data.startswith(b"%PDF-"):
            said = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfError(f"Chromium could not print {page} (exit {proc.returncode}"
                           + (f": {' / '.join(said)}" if said else "") + "); report.pdf was "
                           "not written")
    return write_bytes_atomic(folder / PDF, data)
