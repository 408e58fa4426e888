"""The one exception hierarchy of rjsim.

Every error the library raises on purpose derives from :class:`RjsimError`, so the CLI can turn
any of them into a short message and a non-zero exit without a traceback. Messages say *what* is
wrong, *where* (file, row, column or key path) and *what is allowed*.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Problems listed in an error message; the rest are counted.
MAX_SHOWN = 50


class RjsimError(Exception):
    """Base class for every deliberate rjsim error."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located precisely enough to fix it.

    Parameters
    ----------
    where
        File (and row/column or key path) the problem is in, e.g.
        ``"baseline.toml: demand.informed"``.
    message
        What is wrong and what is allowed.
    value
        The offending value, as text, or ``None`` when there is no value (a missing key).
    """

    where: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (got {self.value})"
        return f"{self.where}: {self.message}{shown}"


class InputError(RjsimError):
    """One or more problems with user input, all reported together."""

    def __init__(self, problems: Iterable[Problem], summary: str = "invalid input") -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.summary = summary
        lines = [f"{summary}: {len(self.problems)} problem(s)"]
        lines += [f"  - {p}" for p in self.problems[:MAX_SHOWN]]
        if len(self.problems) > MAX_SHOWN:
            lines.append(f"  ... and {len(self.problems) - MAX_SHOWN} more (the first "
                         f"{MAX_SHOWN} are shown; fix them and check again)")
        super().__init__("\n".join(lines))


class ScenarioError(InputError):
    """A scenario file (or its ``extends`` chain) is invalid."""


class DataError(InputError):
    """An area data file is invalid."""


class ConservationError(RjsimError):
    """Cases were created or destroyed: referrals != closed + lost + in progress somewhere."""


class ResultsError(RjsimError):
    """A results directory cannot be written or read."""
