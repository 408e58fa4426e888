"""The minister's capacity test (verdicts per criterion, area and nation from per-replication
metrics) and the queueing formulas (Erlang C and A) the planner starts from.

May import: ``core``, ``scenario``, ``data``, ``model``, ``funding``, ``analysis``.
"""
