"""The one writer and reader of files on disk: the atomic writer (``atomic``: temp file or
folder, then rename; staging folders of killed runs cleaned), results directories (tables,
manifest with the list of files written, scenario, assumptions) and reading them back, and the
data-only format of the task cache (``bundle``: never pickle).

May import: ``core``, ``scenario``, ``data``.
"""
