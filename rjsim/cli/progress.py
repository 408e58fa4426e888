"""A terminal progress bar for long runs: tasks done/total, elapsed time and ETA.

Silent unless its stream is a terminal (and the CLI passes ``enabled=False`` for --quiet).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """Callable as ``bar(done, total)``; redraws at most ten times a second."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None,
                 width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.width = width
        self.start = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        elapsed = now - self.start
        frac = done / total if total else 1.0
        eta = elapsed * (total - done) / done if done else float("nan")
        bar = "#" * int(frac * self.width) + "." * (self.width - int(frac * self.width))
        eta_text = _clock(eta) if eta == eta else "--:--"
        self.stream.write(f"\r[{bar}] {done}/{total} tasks  elapsed {_clock(elapsed)}  "
                          f"ETA {eta_text} ")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line (if anything was drawn)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
