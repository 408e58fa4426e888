"""The task cache: each finished (replication, area) task stored atomically on disk.

Re-running an interrupted experiment reuses every finished task and gives results identical to
an uninterrupted run. Entries live under ``<root>/<key>/``, where the key is a SHA-256 of the
scenario's fingerprint and of rjsim's version and source code, so changing either starts a new
cache. Each entry is written to a temporary file and renamed into place: a crash (even
``kill -9``) leaves either a complete entry or none.

Entries are :mod:`rjsim.results.bundle` files (JSON, Arrow tables and NumPy arrays in a ZIP),
never pickles: the key is computable by anyone, so a cache may hold files planted by someone
else, and reading an entry must not be able to run code. Every entry is validated on load
(format, every field of :class:`AreaDigest` with its type, the task it claims to be, size); a
corrupt, foreign or outdated entry is discarded with a warning and the task is recomputed.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from importlib import resources
from pathlib import Path

from rjsim.core.errors import ResultsError
from rjsim.core.version import __version__
from rjsim.experiment.runner import AreaDigest
from rjsim.results import atomic, bundle
from rjsim.results.atomic import write_bytes_atomic

log = logging.getLogger(__name__)

SUFFIX = ".rjb"
#: An entry larger than this is not read (a task's digest with raw records is a few MB).
MAX_ENTRY_BYTES = 512 << 20


@cache
def code_digest() -> str:
    """SHA-256 of rjsim's version and every module's source (a code change invalidates)."""
    h = hashlib.sha256(__version__.encode())
    root = Path(str(resources.files("rjsim")))
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def usable(root: Path) -> None:
    """Check, before any task runs, that finished tasks can be stored under ``root``
    (a folder, created if missing, that this process can write in)."""
    where = f"--cache {root}"
    if root.exists() and not root.is_dir():
        raise ResultsError(f"{where}: is a file, not a folder; give a folder for the task "
                           "cache, or --no-cache")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = atomic.temp_dir(root / "probe", "probe")
        probe.rmdir()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "the path contains a NUL byte"
        raise ResultsError(f"{where}: cannot store finished tasks there ({reason or exc}); "
                           "give a folder you can write in, or --no-cache") from None


class TaskCache:
    """Finished tasks of one scenario, stored as one file per (replication, area)."""

    def __init__(self, root: Path, scenario_fingerprint: str) -> None:
        self.key = hashlib.sha256((scenario_fingerprint + code_digest()).encode()).hexdigest()
        self.dir = Path(root) / self.key[:24]
        usable(Path(root))

    def _path(self, replication: int, area: str) -> Path:
        return self.dir / f"rep{replication:05d}" / f"{area}{SUFFIX}"

    def get(self, replication: int, area: str, *, need_records: bool = False
            ) -> AreaDigest | None:
        """The stored digest, or ``None`` (a corrupt, foreign or mismatched entry is discarded
        with a warning, never trusted; one without raw records does not do when they are
        needed)."""
        path = self._path(replication, area)
        try:
            with path.open("rb") as f:
                data = f.read(MAX_ENTRY_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("discarding unreadable cache entry %s (%s)", path, exc.strerror or exc)
            return None
        try:
            if len(data) > MAX_ENTRY_BYTES:
                raise bundle.BundleError(f"larger than {MAX_ENTRY_BYTES} bytes")
            found: AreaDigest = bundle.loads(data, AreaDigest)
            if (found.replication, found.area) != (replication, area):
                raise bundle.BundleError(f"holds replication {found.replication} of area "
                                         f"{found.area}, not {replication} of {area}")
        except bundle.BundleError as exc:
            log.warning("discarding invalid cache entry %s (%s); the task is recomputed",
                        path, exc)
            path.unlink(missing_ok=True)
            return None
        if need_records and found.records is None:
            return None
        return found

    def put(self, d: AreaDigest) -> None:
        """Store a finished task atomically (not fsync-ed: a torn entry fails validation)."""
        write_bytes_atomic(self._path(d.replication, d.area), bundle.dumps(d), durable=False)
