"""The simulation of one area for one replication: demand, case paths, the SimPy engine, the
workforce stock-and-flow, and the pure staffing arithmetic (FTE to caseload slots). No pandas, no
files, no funding rules.

May import: ``core``, ``scenario``, ``data``.
"""
