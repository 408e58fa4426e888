"""The staffing planner: the least facilitator staffing per area that passes the capacity test,
seeded by queueing theory and confirmed by simulation.

May import: any layer up to ``experiment``.
"""
