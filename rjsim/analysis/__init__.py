"""From one replication's records to tidy tables: per area, month and group; summaries and KPIs;
time-weighted averages; the capacity metrics the minister's test judges.

May import: ``core``, ``scenario``, ``data``, ``model``, ``funding``.
"""
