"""Progress on the terminal: a ``tqdm`` bar over all of a command's tasks, and its messages.

The bar (tasks done/total, elapsed time, ETA over all remaining work, and which scenario of how
many is running) is drawn on standard error only when it is a terminal, or when asked
(``bar=True``), and never with ``--quiet``. Messages (a sweep point starting, a planner round
finished) go to standard error unless ``--quiet``, printed above the bar when there is one.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any, TextIO

from tqdm import tqdm


class TerminalProgress:
    """A :class:`rjsim.app.progress.Display` on a stream (standard error by default)."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False,
                 bar: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.enabled = not quiet and (self.stream.isatty() if bar is None else bar)
        self._bar: tqdm[Any] | None = None

    def update(self, done: int, total: int, label: str) -> None:
        if not self.enabled:
            return
        bar = self._bar
        if bar is None:
            # a terminal that reports no size (0 x 0, e.g. some CI or editor ptys) would hide
            # the bar: 80 x 24 then
            size = shutil.get_terminal_size()
            bar = self._bar = tqdm(total=total, desc=label, unit="task", file=self.stream,
                                   mininterval=0.1, ncols=size.columns, nrows=size.lines,
                                   leave=True)
        if bar.total != total:
            bar.total = total
        if bar.desc != label:
            bar.set_description_str(label, refresh=False)
        bar.update(done - bar.n)

    def message(self, text: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
