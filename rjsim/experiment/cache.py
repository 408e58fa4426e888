"""The task cache: each finished (replication, area) task stored atomically on disk.

Re-running an interrupted experiment reuses every finished task and gives results identical to
an uninterrupted run. Entries live under ``<root>/<key>/``, where the key is a SHA-256 of the
scenario's fingerprint and of rjsim's version and source code, so changing either starts a new
cache. Each entry is written to a temporary file and renamed into place: a crash (even
``kill -9``) leaves either a complete entry or none.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path

from rjsim.core.version import __version__
from rjsim.experiment.runner import AreaDigest

log = logging.getLogger(__name__)


@cache
def code_digest() -> str:
    """SHA-256 of rjsim's version and every module's source (a code change invalidates)."""
    h = hashlib.sha256(__version__.encode())
    root = Path(str(resources.files("rjsim")))
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


class TaskCache:
    """Finished tasks of one scenario, stored as one file per (replication, area)."""

    def __init__(self, root: Path, scenario_fingerprint: str) -> None:
        self.key = hashlib.sha256((scenario_fingerprint + code_digest()).encode()).hexdigest()
        self.dir = Path(root) / self.key[:24]

    def _path(self, replication: int, area: str) -> Path:
        return self.dir / f"rep{replication:05d}" / f"{area}.pkl"

    def get(self, replication: int, area: str, *, need_records: bool = False
            ) -> AreaDigest | None:
        """The stored digest, or ``None`` (an unreadable entry is discarded, not trusted; one
        without raw records does not do when they are needed)."""
        path = self._path(replication, area)
        try:
            with path.open("rb") as f:
                found = pickle.load(f)
        except FileNotFoundError:
            return None
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
            log.warning("discarding unreadable cache entry %s (%s)", path, exc)
            return None
        if not isinstance(found, AreaDigest) or (need_records and found.records is None):
            return None
        return found

    def put(self, d: AreaDigest) -> None:
        """Store a finished task atomically."""
        path = self._path(d.replication, d.area)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{d.area}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(d, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
