"""Area data: the packaged 2024/25 data for the 43 police force areas, a user's area CSV, and the
derived victims per offence group.

May import: ``core``, ``scenario``.
"""
