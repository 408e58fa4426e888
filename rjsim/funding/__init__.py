"""Money to staff: allocation rules that split a national pot across areas, budget schedules, and
each area's day-0 staffing and monthly workforce.

May import: ``core``, ``scenario``, ``data``, ``model``.
"""
