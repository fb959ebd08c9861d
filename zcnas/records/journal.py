"""Journal backends: where a record store keeps the lines written since its last compaction.

A journal is an append-only sequence of byte lines (the store writes one JSON document per line)
with a single-writer lock. :class:`JournalBackend` is the whole contract, four methods:

* ``append(line)``: add one complete line; durable on return;
* ``read(offset)``: the bytes from ``offset`` to the end and the journal's *epoch*, a token that
  changes whenever the journal is replaced (a reader that sees a new epoch reads again from 0);
* ``reset(header)``: replace the journal, atomically, by one that holds only ``header``;
* ``lock()``: take the writer lock (a :class:`StoreError` naming the holder when it is taken) and
  return the function that releases it.

:class:`FileJournal` keeps ``<store>.journal`` and ``<store>.lock`` next to the store file;
:class:`MemoryJournal` keeps the bytes in memory (tests, notebooks: see ``RecordStore.memory()``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from pathlib import Path

from zcnas.errors import StoreError
from zcnas.records.fsutil import create_exclusive, fsync_dir, open_nofollow, os_error, remove_stale_tmp, tmp_name


class JournalBackend(ABC):
    """Append-only lines plus a writer lock (see the module docstring)."""

    @abstractmethod
    def append(self, line: bytes) -> None:
        """Append ``line`` (one complete line, ending in a newline); durable on return."""

    @abstractmethod
    def read(self, offset: int) -> tuple[bytes, Hashable | None]:
        """``(bytes from offset to the end, epoch)``; ``(b"", None)`` when there is no journal."""

    @abstractmethod
    def reset(self, header: bytes) -> None:
        """Replace the journal atomically by one that holds only ``header`` (a new epoch)."""

    @abstractmethod
    def lock(self) -> Callable[[], None]:
        """Take the single-writer lock or raise :class:`StoreError`; returns the release function."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Close what :meth:`append` opened."""


class FileJournal(JournalBackend):
    """``<store>.journal`` and ``<store>.lock`` next to the (resolved) store file ``store``.

    The journal and the lock file are opened with ``O_NOFOLLOW``: a symlink (or hard link, or
    anything but a regular file) planted there is refused, never written through. The lock is an
    ``fcntl.flock`` on the lock file, which stays in place between writers (so it is opened with
    ``O_CREAT`` but not ``O_EXCL``); temporary files are created with ``O_EXCL``. ``sync=False``
    skips the fsync of each line (rows then survive a killed process but not a power cut)."""

    def __init__(self, store: Path, *, display: str | None = None, sync: bool = True):
        self.store = Path(store)
        self.path = Path(f"{store}.journal")
        self.lock_path = Path(f"{store}.lock")
        self.display = display or str(store)
        self.sync = sync
        self._fd: int | None = None

    def append(self, line: bytes) -> None:
        if self._fd is None:
            self._fd = open_nofollow(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, "journal", self.display)
        try:
            view = memoryview(line)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            if self.sync:
                os.fsync(self._fd)
        except OSError as exc:
            raise os_error(exc, "writing", self.display) from None

    def read(self, offset: int) -> tuple[bytes, Hashable | None]:
        fd = open_nofollow(self.path, os.O_RDONLY, "journal", self.display)
        if fd is None:
            return b"", None
        try:
            st = os.fstat(fd)
            if st.st_size <= offset:
                return b"", (st.st_dev, st.st_ino)
            os.lseek(fd, offset, os.SEEK_SET)
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks), (st.st_dev, st.st_ino)
        finally:
            os.close(fd)

    def reset(self, header: bytes) -> None:
        tmp = tmp_name(self.path)
        fd = create_exclusive(tmp, self.display)
        try:
            try:
                os.write(fd, header)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise os_error(exc, "writing", self.display) from None
        fsync_dir(self.path.parent)
        self.close()  # the next append opens the new journal

    def lock(self) -> Callable[[], None]:
        fd = open_nofollow(self.lock_path, os.O_RDWR | os.O_CREAT, "lock file", self.display, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                pid = os.read(fd, 64).decode(errors="replace").strip()[:20] or "unknown"
            finally:
                os.close(fd)
            raise StoreError(f"{self.display!r} is being written by another process (pid {pid}); "
                             f"wait for it or use another --store.") from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass  # the pid is only a hint for the error above
        remove_stale_tmp(self.store)

        def release() -> None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.close(fd)

        return release

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


class MemoryJournal(JournalBackend):
    """A journal in memory; the lock is held by at most one open writer at a time."""

    def __init__(self, display: str = ":memory:"):
        self.display = display
        self.data = bytearray()
        self.epoch: int | None = None
        self._locked = False

    def append(self, line: bytes) -> None:
        if self.epoch is None:
            self.epoch = 0
        self.data += line

    def read(self, offset: int) -> tuple[bytes, Hashable | None]:
        return bytes(self.data[offset:]), self.epoch

    def reset(self, header: bytes) -> None:
        self.data = bytearray(header)
        self.epoch = 0 if self.epoch is None else self.epoch + 1

    def lock(self) -> Callable[[], None]:
        if self._locked:
            raise StoreError(f"{self.display!r} is being written by another RecordStore; close it first.")
        self._locked = True

        def release() -> None:
            self._locked = False

        return release
