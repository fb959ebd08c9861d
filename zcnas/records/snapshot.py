"""Snapshot backends: where a record store keeps its compacted rows.

A snapshot is replaced whole, never updated in place. :class:`SnapshotBackend` is the contract:
``identity()`` (a token that changes on every replacement, ``None`` when there is none yet),
``header()``, ``read_frame(name, schema)`` and ``write(...)`` (atomic replacement).
:class:`H5Snapshot` is an HDF5 file (through :mod:`zcnas.records.codec`), written next to the old one
and swapped in with ``os.replace``; :class:`MemorySnapshot` keeps frames in memory.

A file-backed store bundles the two halves in :class:`FileBackend`, an in-memory one in
:class:`MemoryBackend`.
"""

from __future__ import annotations

import contextlib
import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from pathlib import Path

import pandas as pd

from zcnas.errors import StoreError
from zcnas.records import codec
from zcnas.records.codec import SnapshotHeader
from zcnas.records.fsutil import check_writable, create_exclusive, fsync_dir, os_error, remove_stale_tmp, tmp_name
from zcnas.records.journal import FileJournal, JournalBackend, MemoryJournal
from zcnas.records.schema import TableSchema


class SnapshotBackend(ABC):
    """The compacted rows of a store (see the module docstring)."""

    @abstractmethod
    def identity(self) -> Hashable | None:
        """A token that changes whenever the snapshot is replaced; ``None`` when there is none."""

    @abstractmethod
    def header(self) -> SnapshotHeader:
        """Metadata, attributes and per-table layout and row counts (``StoreError`` when unreadable)."""

    @abstractmethod
    def read_frame(self, name: str, schema: TableSchema) -> pd.DataFrame:
        """All rows of table ``name``, with ``schema``'s columns."""

    @abstractmethod
    def write(self, frames: Mapping[str, pd.DataFrame], schemas: Mapping[str, TableSchema], meta: dict, *,
              created: str, generation: int) -> None:
        """Replace the snapshot, atomically, by one holding ``frames`` and ``meta``."""

    def prepare_write(self) -> None:  # noqa: B027 - optional hook
        """Checks before a writer starts (raise :class:`StoreError` when it may not write)."""


class H5Snapshot(SnapshotBackend):
    """The HDF5 file at ``path`` (already resolved: a symlinked store is written at its target, and the
    link stays a link). ``display`` is the path the user gave, for messages."""

    def __init__(self, path: Path, *, display: str | None = None, journal: Path | None = None):
        self.path = Path(path)
        self.display = display or str(path)
        self.journal = journal

    def identity(self) -> Hashable | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise os_error(exc, "reading", self.display) from None
        if stat.S_ISDIR(st.st_mode):
            raise StoreError(f"The record store {self.display!r} is a folder; give a file path.")
        return st.st_dev, st.st_ino, st.st_mtime_ns

    def header(self) -> SnapshotHeader:
        return codec.read_header(self.path, self.display, self.journal)

    def read_frame(self, name: str, schema: TableSchema) -> pd.DataFrame:
        return codec.read_frame(self.path, name, schema, self.display, self.journal)

    def prepare_write(self) -> None:
        check_writable(self.path, self.display)
        remove_stale_tmp(self.path)

    def write(self, frames: Mapping[str, pd.DataFrame], schemas: Mapping[str, TableSchema], meta: dict, *,
              created: str, generation: int) -> None:
        try:
            old_mode = stat.S_IMODE(os.stat(self.path).st_mode)
        except FileNotFoundError:
            old_mode = None
        except OSError as exc:
            raise os_error(exc, "writing", self.display) from None
        tmp = tmp_name(self.path)
        os.close(create_exclusive(tmp, self.display))
        try:
            codec.write_file(tmp, frames, schemas, meta, created=created, generation=generation)
            if old_mode is not None:
                os.chmod(tmp, old_mode)  # a compacted store keeps its permissions
            os.replace(tmp, self.path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise os_error(exc, "writing", self.display) from None
            raise
        fsync_dir(self.path.parent)


class MemorySnapshot(SnapshotBackend):
    """Frames kept in memory (copies on the way in and out)."""

    def __init__(self) -> None:
        self._frames: dict[str, pd.DataFrame] = {}
        self._head: SnapshotHeader | None = None

    def identity(self) -> Hashable | None:
        return None if self._head is None else self._head.generation

    def header(self) -> SnapshotHeader:
        if self._head is None:
            raise StoreError("The in-memory record store holds no snapshot yet; open it with mode='a' first.")
        h = self._head
        return SnapshotHeader(dict(h.meta), dict(h.attrs), dict(h.tables), dict(h.rows))

    def read_frame(self, name: str, schema: TableSchema) -> pd.DataFrame:
        return self._frames[name].copy()

    def write(self, frames: Mapping[str, pd.DataFrame], schemas: Mapping[str, TableSchema], meta: dict, *,
              created: str, generation: int) -> None:
        import json

        kept = {n: df.copy() for n, df in frames.items() if len(df)}
        attrs = {"zcnas_store": codec.MAGIC, "schema_version": codec.SCHEMA_VERSION,
                 "zcnas_version": codec.zcnas_version(), "created": created or codec.now(),
                 "modified": codec.now(), "generation": generation}
        self._frames = kept
        self._head = SnapshotHeader(json.loads(json.dumps(meta, default=codec.json_default)), attrs,
                                    {n: schemas[n] for n in kept}, {n: len(df) for n, df in kept.items()})


class Backend:
    """A journal and a snapshot: everything a :class:`~zcnas.records.RecordStore` stores.

    ``path`` is what messages name; ``journal_path``/``lock_path`` are ``None`` in memory."""

    journal: JournalBackend
    snapshot: SnapshotBackend
    path: Path
    journal_path: Path | None = None
    lock_path: Path | None = None


class FileBackend(Backend):
    """``path`` (an HDF5 file, resolved through symlinks) with ``<path>.journal`` and ``<path>.lock``
    next to the resolved file, so every alias of a store shares one lock."""

    def __init__(self, path: str | os.PathLike, *, sync: bool = True):
        self.path = Path(path)
        self.real_path = Path(os.path.realpath(self.path))
        display = str(self.path)
        self.journal = FileJournal(self.real_path, display=display, sync=sync)
        self.snapshot = H5Snapshot(self.real_path, display=display, journal=self.journal.path)
        self.journal_path = self.journal.path
        self.lock_path = self.journal.lock_path


class MemoryBackend(Backend):
    """A store in memory. Share one instance to open a writer and readers on the same store:
    ``b = MemoryBackend(); w = RecordStore(b, "a"); r = RecordStore(b, "r")``."""

    def __init__(self, name: str = ":memory:"):
        self.path = Path(name)
        self.journal = MemoryJournal(name)
        self.snapshot = MemorySnapshot()

    def __repr__(self) -> str:
        return f"MemoryBackend({str(self.path)!r})"
