"""Progress over all the work of a command, not one scenario at a time.

A command that runs several scenarios (a comparison, a sweep) runs one experiment after
another, and each experiment counts only its own tasks. :class:`Tracker` turns each
experiment's ``(done, total)`` into progress over every scenario's tasks, so a display's
total (and so its ETA) covers all remaining work, and its label says which scenario of how
many is running ("scenario 2/6: funding_30m_crime").

What is shown, and where, is the caller's: anything with the :class:`Display` methods (the
CLI's terminal bar, a notebook widget, a test's recorder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from rjsim.core.errors import RjsimError

if TYPE_CHECKING:
    from rjsim.scenario.spec import Scenario


class Display(Protocol):
    """Where a command's progress goes."""

    def update(self, done: int, total: int, label: str) -> None:
        """``done`` of ``total`` tasks of the whole command are finished; ``label`` says
        what is running."""

    def message(self, text: str) -> None:
        """A line about the work (a sweep point starting, a planner round finished)."""

    def close(self) -> None:
        """The work is over (or failed): end the display."""


def area_count(scenario: Scenario) -> int:
    """How many areas ``scenario`` simulates (0 when its area selection is invalid: the run
    itself then reports the problem, with the others, in its usual words)."""
    from rjsim.data import areas as areadata
    try:
        return len(areadata.load(scenario.areas.data or None)
                   .select(scenario.areas.include, "areas.include"))
    except RjsimError:
        return 0


class Tracker:
    """Progress of a sequence of experiments (scenarios), reported to a :class:`Display`.

    ``planned``: each scenario's name and expected number of tasks (replications x areas).
    An experiment that runs more tasks than planned (one with a target precision adds
    replications) raises the total as it goes; once it finishes, its planned count becomes
    what it ran.
    """

    def __init__(self, display: Display, planned: Sequence[tuple[str, int]]) -> None:
        self.display = display
        self.names = [name for name, _ in planned]
        self.planned = [tasks for _, tasks in planned]
        self.done = [0] * len(planned)

    @property
    def total(self) -> int:
        """Tasks of every scenario, as far as they are known now."""
        return sum(self.planned)

    def label(self, index: int) -> str:
        return f"scenario {index + 1}/{len(self.names)}: {self.names[index]}"

    def stage(self, index: int) -> Callable[[int, int], None]:
        """The progress callback of scenario ``index``'s experiment (its own done/total)."""
        def report(done: int, total: int) -> None:
            self.planned[index] = max(self.planned[index], total)
            self.done[index] = done
            self.display.update(sum(self.done), self.total, self.label(index))
        return report

    def finish(self, index: int) -> None:
        """Scenario ``index`` has finished: what it ran is what it counts."""
        self.planned[index] = self.done[index]
