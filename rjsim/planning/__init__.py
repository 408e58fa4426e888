"""Searches and checks over many experiments: the staffing planner (the least facilitator staffing
per area that passes the capacity test, seeded by queueing theory and confirmed by simulation)
and the back-cast of the status quo against the published evidence targets.

May import: any layer up to ``experiment``.
"""
