"""Examples shown at the end of each command's ``--help``, and the help formatter that keeps
them on their own lines.

Every command needs an entry in :data:`EXAMPLES` (a test checks it, and that every example
parses). :data:`DEVELOPER` commands are listed apart from the others in ``rjsim --help``.
"""

from __future__ import annotations

import argparse
import textwrap

#: Width of an example or command line in the help, before it is continued on the next line.
WIDTH = 78

#: Command -> example command lines (each is parsed by the test suite, so keep them valid).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "run": ("rjsim run scenarios/baseline.toml --replications 10",
            "rjsim run scenarios/statutory_right.toml --target-precision 0.05 --out results/right"),
    "compare": ("rjsim compare scenarios/funding_today.toml scenarios/funding_30m_need.toml "
                "scenarios/funding_120m_need.toml --replications 5",
                "rjsim compare scenarios/funding_today.toml scenarios/funding_120m_need.toml "
                "--replications 5 --uncertainty 8"),
    "validate": ("rjsim validate scenarios/*.toml",),
    "assumptions": ("rjsim assumptions", "rjsim assumptions scenarios/funding_30m_need.toml"),
    "report": ("rjsim report results/statutory_right_capacity_test",
               "rjsim report results/statutory_right_capacity_test --pdf"),
    "capacity-test": ("rjsim capacity-test scenarios/statutory_right.toml --replications 10",),
    "plan": ("rjsim plan scenarios/statutory_right.toml "
             "--write-scenario scenarios/commencement_plan.toml",),
    "uncertainty": ("rjsim uncertainty scenarios/statutory_right.toml --samples 16 "
                    "--replications 2",
                    "rjsim uncertainty scenarios/funding_today.toml "
                    "scenarios/funding_120m_need.toml --samples 16 --replications 2"),
    "sensitivity": ("rjsim sensitivity scenarios/statutory_right.toml --trajectories 10",),
    "backcast": ("rjsim backcast", "rjsim backcast scenarios/baseline.toml --replications 20"),
    "calibrate": ("rjsim calibrate --points 20 --write-scenario scenarios/calibrated.toml",),
    "verify": ("rjsim verify scenarios/verification/cumbria_funded.toml",),
    "regress": ("rjsim regress",
                "rjsim regress --scenarios baseline --seed 7 --statistical-only"),
    "bench": ("rjsim bench --repeats 5",
              "rjsim bench --replications 30 --workers 2 --repeats 1"),
}

#: Commands for those who develop rjsim, listed apart in ``rjsim --help``: command -> summary.
DEVELOPER: dict[str, str] = {
    "regress": "check the shipped scenarios' KPIs against the committed references "
               "(exit 1 on a regression)",
    "bench": "time a national run against a bare SimPy model, and other benchmarks",
}

#: The examples of ``rjsim`` itself (its ``--help``).
MAIN_EXAMPLES = ("rjsim capacity-test scenarios/statutory_right.toml --replications 10",
                 "rjsim run --help")


def epilog(lines: tuple[str, ...], title: str = "examples") -> str:
    """An epilog: ``title:`` then each example command line, indented (so :class:`Formatter`
    keeps it as it is), a long one continued on the next line with a backslash."""
    out = [f"{title}:"]
    for line in lines:
        parts = textwrap.wrap(line, WIDTH - 8, break_long_words=False, break_on_hyphens=False)
        out.append("  " + " \\\n      ".join(parts))
    return "\n".join(out)


def main_epilog() -> str:
    """``rjsim --help``'s epilog: the developer commands, then examples."""
    width = max(len(name) for name in DEVELOPER)
    developer = ["developer commands (see docs/developers.md):"]
    for name, text in DEVELOPER.items():
        developer += textwrap.wrap(text, WIDTH, initial_indent=f"  {name:<{width}}  ",
                                   subsequent_indent=" " * (width + 4))
    return "\n".join(developer) + "\n\n" + epilog(MAIN_EXAMPLES)


class Formatter(argparse.HelpFormatter):
    """Wraps descriptions and epilogs paragraph by paragraph, but keeps indented lines
    (examples, command lists) as they are."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for line in text.splitlines():
            if not line.strip() or line.startswith("  "):
                out.append(indent + line)
            else:
                out.append(super()._fill_text(line, width, indent))
        return "\n".join(out)
