"""The application layer: one function per command (run, compare, capacity-test, plan, report,
regress, validate, bench) taking typed options and returning data (paths, verdicts, lines to
show). The CLI and the Python API are thin layers over it.

May import: any layer up to ``regress``.
"""
