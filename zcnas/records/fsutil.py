"""File-system care for the record store's files: never follow a planted symlink, never replace a
read-only file, name missing folders, and clean up temporary files of dead writers.

Permission bits are honoured even for root (who may write anyway): a file or folder without any
write bit is treated as read-only, so ``chmod a-w`` protects a store from every user.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

from zcnas.errors import StoreError

#: temporary files a writer creates next to ``<name>``: ``.<name>.tmp-<pid>`` (snapshot),
#: ``.<name>.journal.tmp-<pid>`` (journal reset) and ``.<name>.migrate-<pid>`` (migration)
_TMP = re.compile(r"^\.(?P<base>.+?)(?:\.journal)?\.(?:tmp|migrate)-(?P<pid>\d+)$")


def tmp_name(path: Path, kind: str = "tmp") -> Path:
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}")


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except (OverflowError, ValueError):
        return False
    return True


def remove_stale_tmp(path: Path) -> list[Path]:
    """Remove the temporary files that writers of the store at ``path`` left when they were killed
    (their pid is no longer alive); returns the removed paths."""
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        m = _TMP.match(name)
        if not m or m["base"] != path.name:
            continue
        if int(m["pid"]) == os.getpid() or pid_alive(int(m["pid"])):
            continue
        p = path.parent / name
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)  # unlink removes a link itself, never its target
            removed.append(p)
    return removed


def read_only(st: os.stat_result) -> bool:
    return not (st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def check_writable(path: Path, display: str) -> None:
    """Raise a one-line :class:`StoreError` unless a writer may create or replace the store file at
    ``path`` (already resolved): its folder exists and is writable, and the file, if any, is a
    writable regular file."""
    folder = path.parent
    try:
        fst = os.stat(folder)
    except FileNotFoundError:
        raise StoreError(f"The folder {str(folder)!r} of the record store {display!r} does not exist; create it "
                         f"(mkdir -p {str(folder)!r}) or choose another --store.") from None
    if not stat.S_ISDIR(fst.st_mode):
        raise StoreError(f"{str(folder)!r} (the folder of the record store {display!r}) is not a folder; "
                         f"choose another --store.")
    if read_only(fst) or not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"The folder {str(folder)!r} is read-only, so the record store {display!r} cannot be "
                         f"written there; open it read-only (zcnas store info/export), or choose a writable "
                         f"--store.")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"The record store {display!r} is a folder; give a file path (e.g. "
                         f"{os.path.join(display, 'run.h5')!r}).")
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"The record store {display!r} is not a regular file; choose another --store.")
    if read_only(st) or not os.access(path, os.W_OK):
        raise StoreError(f"The record store {display!r} is read-only (mode {stat.S_IMODE(st.st_mode):04o}), so it "
                         f"is never replaced; open it read-only (zcnas store info/export), or make it writable "
                         f"(chmod u+w {str(path)!r}) to add to it.")


def os_error(exc: OSError, what: str, display: str) -> StoreError:
    """A one-line :class:`StoreError` for an operating-system error while ``what`` (e.g. "writing")."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "make it and its folder writable, or choose another --store"
    elif exc.errno == errno.ENOSPC:
        fix = "free some disk space and run the command again (finished rows are kept)"
    else:
        fix = "check the path and the disk, or choose another --store"
    why = exc.strerror or str(exc)
    return StoreError(f"Cannot finish {what} the record store {display!r} ({why}); {fix}.")


def create_exclusive(path: Path, display: str) -> int:
    """Create ``path`` as a new empty file (never through a symlink, never an existing file) and
    return its descriptor; a stale file of this process's name is removed first."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise os_error(exc, "writing", display) from None


def open_nofollow(path: Path, flags: int, what: str, display: str, mode: int = 0o666) -> int | None:
    """``os.open`` that refuses a symlink with a one-line error; ``None`` when the file is missing and
    ``flags`` do not create it."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except FileNotFoundError:
        if flags & os.O_CREAT:
            raise StoreError(f"The folder {str(path.parent)!r} of the record store {display!r} does not exist; "
                             f"create it or choose another --store.") from None
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(f"The {what} {str(path)!r} of the record store {display!r} is a symbolic link; zcnas "
                             f"never writes through one. Remove the link (rm {str(path)!r}) and run again.") from None
        raise os_error(exc, f"opening the {what} of", display) from None
    st = os.fstat(fd)
    writing = flags & (os.O_WRONLY | os.O_RDWR)
    if not stat.S_ISREG(st.st_mode) or (writing and st.st_nlink > 1):
        os.close(fd)
        kind = "a hard link to another file" if stat.S_ISREG(st.st_mode) else "not a regular file"
        raise StoreError(f"The {what} {str(path)!r} of the record store {display!r} is {kind}; zcnas never "
                         f"writes to it. Remove it (rm {str(path)!r}) and run again.")
    return fd
