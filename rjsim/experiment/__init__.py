"""Running scenarios: the unit of work (scenario, replication, area) and its digest, executors
(local, processes, Dask), the task cache, reduction to summaries with confidence intervals, and
comparisons under common random numbers.

May import: ``core``, ``scenario``, ``data``, ``results``, ``model``, ``funding``, ``analysis``,
``capacity``.
"""
