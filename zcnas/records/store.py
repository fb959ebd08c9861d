"""The record store: one HDF5 file per run (or study), written crash-safely and resumably.

Three layers, each replaceable on its own:

* a **journal backend** (:mod:`zcnas.records.journal`): every :meth:`RecordStore.append` /
  :meth:`RecordStore.set_meta` writes one JSON line and makes it durable before returning; a line
  torn by a kill has no final newline and is ignored when the journal is read. One writer at a time
  holds the journal's lock; readers (mode ``"r"``) take no lock and may read while a writer appends;
* a **snapshot backend** (:mod:`zcnas.records.snapshot`, HDF5 through :mod:`zcnas.records.codec`):
  :meth:`RecordStore.compact` writes a complete new snapshot and swaps it in atomically, then resets
  the journal. Readers see the snapshot rows plus the journal rows, de-duplicated on each table's
  key (the last write wins), so a kill between the two steps only leaves rows that are in both;
* **query views** (:mod:`zcnas.records.views`): ``scores_wide`` (which serves data-free proxies to
  every dataset), ``truth_wide`` and a per-run summary.

``RecordStore(path)`` keeps ``path`` (resolved through symlinks) with ``<path>.journal`` and
``<path>.lock`` beside it; ``RecordStore(":memory:")`` or :meth:`RecordStore.memory` keeps everything
in memory (tests, notebooks); ``RecordStore(MemoryBackend())`` lets a writer and readers share one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from zcnas.errors import InputError, StoreError, UnknownNameError
from zcnas.records import codec, views
from zcnas.records.codec import MAGIC, MIGRATIONS, check_version  # noqa: F401 - public names kept here
from zcnas.records.fsutil import check_writable, create_exclusive, fsync_dir, os_error, tmp_name
from zcnas.records.journal import FileJournal
from zcnas.records.schema import SCHEMA_VERSION, TABLES, Column, TableSchema
from zcnas.records.snapshot import Backend, FileBackend, MemoryBackend

log = logging.getLogger(__name__)

MODES = ("r", "a", "w")
MEMORY = ":memory:"
_DEFAULTS = codec.DEFAULTS
_json_default = codec.json_default


class RecordStore:
    """Records of runs: a snapshot (an HDF5 file) plus a journal and a lock file next to it.

    ``path``: a file path, ``":memory:"`` for a new in-memory store, or a
    :class:`~zcnas.records.snapshot.Backend` (e.g. a shared ``MemoryBackend()``).
    ``mode``: ``"r"`` read only (no lock), ``"a"`` create or append, ``"w"`` start a new, empty store.
    The writer compacts the journal into the snapshot every ``compact_rows`` rows, every
    ``compact_seconds`` seconds and on :meth:`close`. ``sync=False`` skips the fsync of each append
    (rows then survive a killed process but not a power cut).

    A store given through a symlink is written at its target (the link stays a link) and locked
    there, so two aliases of one store cannot both write. A store whose file or folder is read-only
    is never replaced: opening it for writing is a :class:`StoreError`.
    """

    def __init__(self, path: str | os.PathLike | Backend, mode: str = "a", *, compact_rows: int = 5000,
                 compact_seconds: float = 120.0, sync: bool = True):
        if mode not in MODES:
            raise InputError(f"The 'mode' parameter of RecordStore must be one of {MODES}. "
                             f"Got {mode!r} instead.")
        if isinstance(path, Backend):
            backend = path
        elif str(path) == MEMORY:
            backend = MemoryBackend()
        else:
            backend = FileBackend(path, sync=sync)
        self.backend = backend
        self.path = backend.path
        self.journal_path = backend.journal_path
        self.lock_path = backend.lock_path
        self._journal = backend.journal
        self._snapshot = backend.snapshot
        self.mode = mode
        self.compact_rows = compact_rows
        self.compact_seconds = compact_seconds
        self.sync = sync
        self._release: Any = None
        self._closed = False
        self._reset_snapshot_state()
        self._reset_journal_state()
        lock_path = getattr(self._journal, "lock_path", None)
        new_lock = lock_path is not None and not os.path.lexists(lock_path)
        if mode != "r":
            self._snapshot.prepare_write()
            self._release = self._journal.lock()
        try:
            exists = self._snapshot.identity() is not None
            if mode == "r" and not exists:
                raise StoreError(f"No record store at {str(self.path)!r}; check the path (--store).")
            if exists and mode != "w":
                self._load_header()
                self._read_journal()
            if mode != "r":
                if mode == "w" or not exists or self._j_rows_since_compact or self._j_meta or self._j_torn:
                    self.compact()  # create the store, or fold in what a killed writer left
        except BaseException:
            self._journal.close()
            if new_lock and mode != "r" and self._release is not None:
                with contextlib.suppress(OSError):  # a failed open leaves nothing behind
                    os.unlink(lock_path)
            self._release_lock()
            raise

    @classmethod
    def memory(cls, **options: Any) -> RecordStore:
        """A new, empty store in memory (mode ``"a"``); ``options`` as for the constructor."""
        return cls(MemoryBackend(), "a", **options)

    # ---- context manager ---------------------------------------------------------------------------
    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RecordStore({str(self.path)!r}, mode={self.mode!r})"

    def close(self) -> None:
        """Compact (writers) and release the lock. Safe to call twice."""
        if self._closed:
            return
        try:
            if self.mode != "r" and self._j_rows_since_compact > 0:
                self.compact()
        finally:
            self._closed = True
            self._journal.close()
            self._release_lock()

    def _abandon(self) -> None:
        """Stop as a killed process would: no compaction, the journal and lock simply let go (tests)."""
        self._closed = True
        self._journal.close()
        self._release_lock()

    def _release_lock(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None

    def _check_open(self, writing: bool = False) -> None:
        if self._closed:
            raise StoreError(f"Record store {str(self.path)!r} is closed; open it again.")
        if writing and self.mode == "r":
            raise StoreError(f"Record store {str(self.path)!r} is open read-only; "
                             f"open it with mode='a' to write.")

    # ---- snapshot side -----------------------------------------------------------------------------
    def _reset_snapshot_state(self) -> None:
        self._s_id: Any = None
        self._s_meta: dict = {}
        self._s_tables: dict[str, TableSchema] = {}  # tables in the snapshot, with their stored layout
        self._s_rows: dict[str, int] = {}
        self._s_frames: dict[str, pd.DataFrame] = {}
        self.attrs: dict[str, Any] = {}

    def _load_header(self) -> None:
        self._reset_snapshot_state()
        self._s_id = self._snapshot.identity()
        head = self._snapshot.header()
        self._s_meta, self._s_tables, self._s_rows, self.attrs = head.meta, head.tables, head.rows, head.attrs

    # ---- journal side ------------------------------------------------------------------------------
    def _reset_journal_state(self) -> None:
        self._j_epoch: Any = None
        self._j_offset = 0
        self._j_lines = 0
        self._j_torn = False
        self._j_frames: dict[str, list[pd.DataFrame]] = {}
        self._j_counts: dict[str, int] = {}
        self._j_meta: dict = {}
        self._j_schemas: dict[str, TableSchema] = {}
        self._j_rows_since_compact = 0
        self._last_compact = time.monotonic()

    @property
    def _journal_name(self) -> str:
        return str(self.journal_path or f"{self.path} (journal)")

    def _read_journal(self) -> None:
        data, epoch = self._journal.read(self._j_offset)
        if epoch is None:
            return
        if epoch != self._j_epoch:
            if self._j_epoch is not None or self._j_offset:
                self._reset_journal_state()
                data, epoch = self._journal.read(0)
            self._j_epoch = epoch
        if not data:
            return
        end = data.rfind(b"\n")
        self._j_torn = end + 1 < len(data)  # a torn last line (killed writer) or one being written
        if end < 0:
            return
        first_line = self._j_offset == 0
        for raw in data[: end + 1].splitlines():
            self._j_lines += 1
            try:
                rec = json.loads(raw)
                if not isinstance(rec, dict):
                    raise ValueError("not an object")
            except ValueError:
                raise StoreError(f"Journal {self._journal_name!r} is damaged at line {self._j_lines} "
                                 f"(not a torn last line). Its earlier lines are intact; remove the "
                                 f"journal to lose its uncompacted rows, or remove the store to start "
                                 f"over.") from None
            if first_line:
                first_line = False
                if "zcnas_journal" in rec:
                    codec.check_journal_version(int(rec["zcnas_journal"]), self._journal_name, self.path)
                    continue
            self._apply_journal_record(rec)
        self._j_offset += end + 1

    def _apply_journal_record(self, rec: dict) -> None:
        try:
            if "m" in rec:
                self._j_meta.update(rec["m"])
                return
            name = rec["t"]
            if name not in self._j_schemas:
                cols = [Column(c, d) if c in rec["k"] else Column(c, d, _DEFAULTS[d]) for c, d in rec["s"]]
                self._j_schemas[name] = TableSchema(name, tuple(cols), tuple(rec["k"]))
            schema = self._schema(name)
            df = schema.normalize(pd.DataFrame(rec["c"]), where=f"journal {self._journal_name}")
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise StoreError(f"Journal {self._journal_name!r} has a damaged record at line {self._j_lines} "
                             f"({type(exc).__name__}); remove the journal to lose its uncompacted rows, or "
                             f"remove the store to start over.") from None
        self._add_journal_frame(name, df)

    def _add_journal_frame(self, name: str, df: pd.DataFrame) -> None:
        self._j_frames.setdefault(name, []).append(df)
        self._j_counts[name] = self._j_counts.get(name, 0) + len(df)
        self._j_rows_since_compact += len(df)

    def _write_journal_line(self, rec: dict) -> None:
        line = json.dumps(rec, default=_json_default, separators=(",", ":")).encode() + b"\n"
        self._journal.append(line)
        self._j_offset += len(line)

    # ---- refresh (readers) -------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Readers pick up what a concurrent writer appended or compacted since the last look."""
        if self.mode != "r":
            return
        for _ in range(5):
            ident = self._snapshot.identity()
            if ident is None:
                raise StoreError(f"Record store {str(self.path)!r} has disappeared.")
            if ident != self._s_id:
                self._load_header()
                self._reset_journal_state()
            self._read_journal()
            if self._snapshot.identity() == ident:
                return

    # ---- schemas -----------------------------------------------------------------------------------
    def _schema(self, name: str) -> TableSchema:
        if name in TABLES:
            return TABLES.get(name)
        if name in self._s_tables:
            return self._s_tables[name]
        if name in self._j_schemas:
            return self._j_schemas[name]
        raise UnknownNameError("table", name, list(TABLES) + list(self._s_tables))

    # ---- public API --------------------------------------------------------------------------------
    def append(self, table: str, rows: Sequence[dict] | pd.DataFrame) -> int:
        """Add ``rows`` (a list of dicts or a DataFrame) to ``table``; durable on return.

        Rows whose key equals an existing row replace it. Returns the number of rows written."""
        self._check_open(writing=True)
        schema = self._schema(table)
        df = schema.normalize(rows, where=f"append to {self.path.name}")
        if not len(df):
            return 0
        if len(df) >= self.compact_rows:
            self._add_journal_frame(table, df)
            self.compact()  # a big batch goes straight into the snapshot (atomic, so also durable)
            return len(df)
        self._write_journal_line({
            "t": table, "k": list(schema.key), "s": [[c.name, c.dtype] for c in schema.columns],
            "c": {c: df[c].tolist() for c in df.columns},
        })
        self._add_journal_frame(table, df)  # only once the line is durable
        self._maybe_compact()
        return len(df)

    def set_meta(self, key: str, value: Any) -> None:
        """Set one entry of :attr:`meta` (a JSON-serialisable value); durable on return."""
        self._check_open(writing=True)
        try:
            json.dumps(value, default=_json_default)
        except TypeError as exc:
            raise InputError(f"Store metadata {key!r} must be JSON-serialisable: {exc}.") from None
        self._write_journal_line({"m": {str(key): value}})
        self._j_meta[str(key)] = value
        self._j_rows_since_compact += 1
        self._maybe_compact()

    @property
    def meta(self) -> dict:
        """The store's metadata (a copy)."""
        self._check_open()
        self._refresh()
        return json.loads(json.dumps({**self._s_meta, **self._j_meta}, default=_json_default))

    def _maybe_compact(self) -> None:
        if self._j_rows_since_compact >= self.compact_rows or (
                self._j_rows_since_compact and time.monotonic() - self._last_compact >= self.compact_seconds):
            self.compact()

    def tables(self) -> list[str]:
        """Names of the tables that hold rows (declared tables first)."""
        self._check_open()
        self._refresh()
        names = {n for n, k in self._s_rows.items() if k} | {n for n, k in self._j_counts.items() if k}
        order = list(TABLES)
        return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))

    def frame(self, table: str) -> pd.DataFrame:
        """All rows of ``table`` (snapshot + journal, de-duplicated on its key; the last write wins).

        An empty frame with the table's columns when it has no rows."""
        self._check_open()
        self._refresh()
        schema = self._schema(table)
        parts = []
        if self._s_rows.get(table):
            if table not in self._s_frames:
                self._s_frames[table] = self._snapshot.read_frame(table, schema)
            parts.append(self._s_frames[table])
        journal = self._j_frames.get(table, [])
        if not parts and not journal:
            return schema.empty()
        if not journal:
            return parts[0].copy()
        df = pd.concat(parts + journal, ignore_index=True)
        return df.drop_duplicates(subset=list(schema.key), keep="last", ignore_index=True)

    def delete(self, table: str, **where: Any) -> int:
        """Remove the rows of ``table`` whose columns equal ``where`` (a list or tuple value
        matches any of its items), e.g. ``delete("scores", proxy=["meco", "meco_opt"])`` after a
        proxy's definition changed. Atomic (the snapshot is rewritten and swapped in); returns the
        number of rows removed."""
        self._check_open(writing=True)
        schema = self._schema(table)
        unknown = [c for c in where if c not in schema.names]
        if unknown:
            raise InputError(f"Table {table!r} has no column(s) {unknown}; its columns are {schema.names}.")
        if not where:
            raise InputError("delete needs at least one column=value condition (nothing is removed unasked).")
        df = self.frame(table)
        mask = pd.Series(True, index=df.index)
        for col, value in where.items():
            values = list(value) if isinstance(value, list | tuple | set) else [value]
            mask &= df[col].isin(values)
        n = int(mask.sum())
        if n:
            self.compact(replace={table: df[~mask].reset_index(drop=True)})
        return n

    def compact(self, replace: dict[str, pd.DataFrame] | None = None) -> None:
        """Write all rows into a new snapshot, swap it in atomically, and empty the journal.
        ``replace``: tables whose rows are written instead of their current ones (see :meth:`delete`)."""
        self._check_open(writing=True)
        names = set(self._s_tables) | set(self._j_frames)
        frames = {n: self.frame(n) for n in sorted(names)}
        frames.update(replace or {})
        meta = {**self._s_meta, **self._j_meta}
        schemas = {n: self._schema(n) for n in frames}
        generation = int(self.attrs.get("generation", 0)) + 1
        self._snapshot.write(frames, schemas, meta, created=str(self.attrs.get("created") or ""),
                             generation=generation)
        self._journal.reset(json.dumps({"zcnas_journal": SCHEMA_VERSION}).encode() + b"\n")
        self._load_header()
        self._s_frames = {n: df for n, df in frames.items() if len(df)}
        self._reset_journal_state()
        data, self._j_epoch = self._journal.read(0)
        self._j_offset = len(data)

    def to_csv(self, table: str, path: str | os.PathLike) -> Path:
        """Write ``table`` to a CSV file; returns its path."""
        out = Path(path)
        self.frame(table).to_csv(out, index=False)
        return out

    def runs(self) -> pd.DataFrame:
        """One row per run: run key, kind, space, dataset, batch size, seed and its row count in each
        table (see :func:`zcnas.records.views.runs_summary`)."""
        self._check_open()
        return views.runs_summary(self.frame("runs"), {n: self.frame(n) for n in self.tables()})

    def info(self) -> dict:
        """A summary: path, versions, row count of each table, rows still in the journal, metadata and
        the runs (a list of dicts, see :meth:`runs`)."""
        self._check_open()
        self._refresh()
        return {
            "path": str(self.path),
            "schema_version": int(self.attrs.get("schema_version", SCHEMA_VERSION)),
            "zcnas_version": self.attrs.get("zcnas_version", ""),
            "created": self.attrs.get("created", ""),
            "modified": self.attrs.get("modified", ""),
            "tables": {n: len(self.frame(n)) for n in self.tables()},
            "journal_rows": sum(self._j_counts.values()),
            "meta": self.meta,
            "runs": self.runs().to_dict(orient="records"),
        }

    # ---- query views (zcnas.records.views) ---------------------------------------------------------
    def merge_from(self, other: str | os.PathLike | RecordStore) -> dict[str, int]:
        """Copy every table of ``other`` (a store or its path, read without a lock, so its writer may
        still be running) into this store: rows whose key is already here are replaced, as by
        :meth:`append`; metadata keys of ``other`` that this store lacks are added. For stores scored on
        several machines or processes (one writer per file) that should become one. Returns rows
        copied per table."""
        self._check_open(writing=True)
        src = other if isinstance(other, RecordStore) else RecordStore(other, mode="r")
        try:
            if src.backend is self.backend or (self.lock_path is not None and src.lock_path == self.lock_path):
                raise InputError(f"Cannot merge {self.path.name!r} into itself; name another store to merge from.")
            copied = {}
            for name in src.tables():
                df = src.frame(name)
                if len(df):
                    copied[name] = self.append(name, df)
            mine = self.meta
            for key, value in src.meta.items():
                if key not in mine:
                    self.set_meta(key, value)
        finally:
            if src is not other:
                src.close()
        return copied

    def scores_wide(self, run_key: str | Sequence[str] | None = None, dataset: str | None = None,
                    space: str | None = None) -> pd.DataFrame:
        """Scores indexed by arch with one column per proxy (NaN where not ``ok``); with ``dataset``,
        the data-free proxies' rows are included (see :func:`zcnas.records.views.scores_wide`)."""
        return views.scores_wide(self.frame("scores"), run_key=run_key, dataset=dataset, space=space)

    def truth_wide(self, metrics: Sequence[str] | None = None, dataset: str | None = None,
                   space: str | None = None) -> pd.DataFrame:
        """Ground truth indexed by arch, one column per metric (see :func:`zcnas.records.views.truth_wide`)."""
        return views.truth_wide(self.frame("truth"), metrics, dataset, space, where=self.path.name)


def migrate(path: str | os.PathLike) -> str:
    """Upgrade the store at ``path`` to :data:`SCHEMA_VERSION` in place (atomically); returns a message."""
    given = Path(path)
    real = Path(os.path.realpath(given))
    display = str(given)
    if not real.exists():
        raise StoreError(f"No record store at {display!r}; check the path.")
    version = codec.read_version(real, display)
    if version == SCHEMA_VERSION:
        return f"{given} is already at schema v{SCHEMA_VERSION}; nothing to do."
    if version > SCHEMA_VERSION or not codec.migration_path(version):
        check_version(version, display)  # says why not, without suggesting this command
    check_writable(real, display)
    release = FileJournal(real, display=display).lock()
    tmp = tmp_name(real, "migrate")
    try:
        os.close(create_exclusive(tmp, display))
        try:
            shutil.copy2(real, tmp)
            codec.apply_migrations(tmp, version)
            os.replace(tmp, real)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise os_error(exc, "migrating", display) from None
            raise
        fsync_dir(real.parent)
    finally:
        release()
    return f"{given} migrated from schema v{version} to v{SCHEMA_VERSION}."

