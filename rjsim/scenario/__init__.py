"""What a scenario is: its typed, validated settings (``spec``), the funding and capacity-test
tables, distributions, the closed-form expected case path, sweeps, and reading scenario files
(``extends`` chains, overrides, packaged defaults).

May import: ``core``.
"""
