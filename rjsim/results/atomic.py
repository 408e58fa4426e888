"""The one atomic writer: every file and directory rjsim writes goes through here.

A file is written to a temporary sibling (same folder, so the same file system), flushed, and
renamed over its destination with :func:`os.replace`, which is atomic on POSIX and Windows:
readers see the complete old file or the complete new one, never half of either, and a
failure or ``kill -9`` at any point leaves at most a hidden ``.NAME.tmp-*`` file. With
``durable=True`` (the default) the data and the rename are also ``fsync``-ed, so a power cut
cannot leave an empty file under the final name; the task cache skips that (a torn entry is
detected and recomputed), results and scenario files do not.

A directory is built in a temporary sibling (:func:`temp_dir`) and swapped into place by
:func:`replace_dir`; the previous directory is put back if the swap fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

from rjsim.core.errors import ResultsError


def umask() -> int:
    """The process's umask (read without changing it for longer than a call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Callable[[Path], object], *, durable: bool = True,
                 what: str | None = None) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    Either the complete new file replaces ``path`` or, on any failure, nothing changes and the
    temporary file is removed. The file gets the permissions of a normally created file (the
    umask applies). An :class:`OSError` becomes a :class:`ResultsError` naming ``what`` (the
    option or file the user gave, default the path).
    """
    path = Path(path)
    label = what or str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.tmp-", suffix=path.suffix,
                                    dir=path.parent)
    except OSError as exc:
        raise ResultsError(f"{label}: cannot write there ({exc.strerror or exc})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        if durable:
            with tmp.open("rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ResultsError(f"{label}: cannot write it ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = True,
                       what: str | None = None) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), durable=durable, what=what)


def write_text_atomic(path: Path, text: str, *, durable: bool = True,
                      what: str | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"),
                        durable=durable, what=what)


def move_atomic(src: Path, path: Path, *, durable: bool = True) -> Path:
    """Move the finished file ``src`` (on the same file system) over ``path`` atomically."""
    if durable:
        with Path(src).open("rb+") as f:
            os.fsync(f.fileno())
    os.replace(src, path)
    if durable:
        _fsync_dir(Path(path).parent)
    return Path(path)


#: In a staging folder: which process owns it (JSON: host and pid), so that a later run can
#: tell a folder left by a killed run from one still in use.
OWNER = ".rjsim-owner"
#: Kinds of staging folder made next to a results directory (``.NAME.KIND-*``).
STAGING = ("tmp", "records", "probe")


def temp_dir(beside: Path, label: str = "tmp", *, owned: bool = False) -> Path:
    """A new hidden directory ``.NAME.LABEL-*`` next to ``beside`` (same file system), with
    the permissions of a normally created directory (``mkdtemp`` makes private ones).

    ``owned``: record this process in it (:data:`OWNER`) so :func:`clean_stale` can remove it
    if the process dies without cleaning up (``kill -9``); call :func:`disown` before the
    folder is moved into place.
    """
    beside = Path(beside)
    tmp = Path(tempfile.mkdtemp(prefix=f".{beside.name}.{label}-", dir=beside.parent))
    os.chmod(tmp, 0o777 & ~umask())
    if owned:
        (tmp / OWNER).write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}),
                                 encoding="utf-8")
    return tmp


def disown(folder: Path) -> None:
    """Remove the owner record of a staging folder about to be moved into place."""
    (Path(folder) / OWNER).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or not a pid: leave the folder alone
    return True


def clean_stale(beside: Path) -> list[Path]:
    """Remove staging folders next to ``beside`` left by runs that were killed: those whose
    owner record names a process of this machine that no longer runs. Folders of live runs,
    of other machines and without an owner record are left alone. Returns what was removed."""
    beside = Path(beside)
    removed: list[Path] = []
    try:
        candidates = [p for p in beside.parent.iterdir() if p.name.startswith(f".{beside.name}")
                      and any(f".{kind}" in p.name[len(beside.name) + 1:] for kind in STAGING)]
    except OSError:
        return removed
    host = socket.gethostname()
    for folder in candidates:
        try:
            owner = json.loads((folder / OWNER).read_text(encoding="utf-8"))
            pid = owner["pid"]
            if owner["host"] != host or not isinstance(pid, int) or _alive(pid):
                continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def replace_dir(tmp: Path, out_dir: Path) -> None:
    """Rename the complete directory ``tmp`` to ``out_dir``, replacing what is there only once
    the new one is in place (the old one is put back if that fails)."""
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        out_dir.rmdir()
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        _fsync_dir(out_dir.parent)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    old.rmdir()
    os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except OSError:
        os.replace(old, out_dir)  # put the previous complete results back
        raise
    _fsync_dir(out_dir.parent)
    shutil.rmtree(old, ignore_errors=True)
