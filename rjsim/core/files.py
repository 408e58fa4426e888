"""Reading a user's file safely: a regular file, of bounded size, named by a usable path.

Every file rjsim reads on a user's behalf (scenario files, area data) goes through
:func:`read_limited`, so that a path with a NUL byte, a name too long for the file system, a
symlink loop, a directory, a FIFO or device (``/dev/zero`` never ends; a FIFO blocks forever)
or a file far larger than any real input is a clear :class:`FileProblem`, not a hang, an
exhausted memory or a traceback.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: Largest file read: far above any real scenario (a few KB) or area CSV (43 rows, ~10 KB).
MAX_FILE_BYTES = 16 * 1024 * 1024


class FileProblem(Exception):
    """Why a file cannot be read, in words for the user (what is wrong, what is allowed)."""


def describe_os_error(exc: OSError | ValueError | RuntimeError) -> str:
    """A short reason for a failed path operation."""
    if isinstance(exc, ValueError):
        return "the path contains a NUL byte"
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return "the path is a symbolic link loop"
    if getattr(exc, "errno", None) == errno.ENAMETOOLONG:
        return "the file name is too long for the file system"
    return str(exc.strerror or exc)


def resolve(path: Path) -> Path:
    """``path.resolve()``, with a :class:`FileProblem` for a NUL byte, a symlink loop or a
    name the file system refuses."""
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        raise FileProblem(describe_os_error(exc)) from None


def read_limited(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises :class:`FileProblem` (with a message saying what is wrong and what is allowed) for
    a missing file, a directory, anything that is not a regular file, a file larger than
    ``limit`` bytes, or a path the operating system refuses.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileProblem("does not exist") from None
    except IsADirectoryError:
        raise FileProblem("is a directory, not a file") from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise FileProblem(f"cannot be opened: {describe_os_error(exc)}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem("is not a regular file (a device, FIFO or socket); give a file")
        if info.st_size > limit:
            raise FileProblem(f"is {info.st_size:,} bytes; at most {limit:,} are allowed")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew while being read
            raise FileProblem(f"is more than {limit:,} bytes; at most {limit:,} are allowed")
        return b"".join(chunks)
    except OSError as exc:
        raise FileProblem(f"cannot be read: {describe_os_error(exc)}") from None
    finally:
        os.close(fd)
