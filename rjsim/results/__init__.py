"""The one writer and reader of files on disk: atomic writes (temp file, then rename), results
directories (tables, manifest, scenario, assumptions) and reading them back.

May import: ``core``, ``scenario``, ``data``.
"""
