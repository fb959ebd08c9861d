"""The record store: one HDF5 file per run (or study), written crash-safely and resumably.

HDF5 is not crash-safe, so the store never updates the HDF5 file in place:

* every :meth:`RecordStore.append` / :meth:`RecordStore.set_meta` writes one JSON line to a sidecar
  journal ``<path>.journal`` and flushes (and by default fsyncs) it, so a row is durable on return;
  a line torn by a kill has no final newline and is ignored when the journal is read;
* :meth:`RecordStore.compact` writes a complete new HDF5 file next to the old one and
  ``os.replace``-s it (atomic), then replaces the journal by an empty one. Readers see the HDF5 rows
  plus the journal rows, de-duplicated on each table's key (the last write wins), so a kill between
  the two replacements only leaves rows that are in both, which is harmless;
* one writer at a time holds an ``fcntl.flock`` on ``<path>.lock``; readers (mode ``"r"``) take no
  lock and may read while a writer appends.

Layout of the HDF5 file: root attributes ``zcnas_store``, ``schema_version``, ``zcnas_version``,
``created``, ``generation`` and ``meta`` (a JSON document); one group per table under ``tables/``,
one dataset per column (variable-length UTF-8 strings, int64 or float64), and the group attributes
``n_rows``, ``key`` and ``columns`` (JSON) so a table can be read without its declaration.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from zcnas.errors import InputError, StoreError, UnknownNameError
from zcnas.records.schema import SCHEMA_VERSION, TABLES, Column, TableSchema

log = logging.getLogger(__name__)

MAGIC = "zcnas record store"
MODES = ("r", "a", "w")
_DEFAULTS = {"str": "", "int": -1, "float": math.nan}

#: schema migrations: ``MIGRATIONS[v]`` upgrades an open, writable h5py file from version v to v + 1
MIGRATIONS: dict[int, Callable[[h5py.File], None]] = {}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


class RecordStore:
    """Records of runs in one HDF5 file (plus a journal and a lock file next to it).

    ``mode``: ``"r"`` read only (no lock), ``"a"`` create or append, ``"w"`` start a new, empty store.
    The writer compacts the journal into the HDF5 file every ``compact_rows`` rows, every
    ``compact_seconds`` seconds and on :meth:`close`. ``sync=False`` skips the fsync of each append
    (rows then survive a killed process but not a power cut).
    """

    def __init__(self, path: str | os.PathLike, mode: str = "a", *, compact_rows: int = 5000,
                 compact_seconds: float = 120.0, sync: bool = True):
        if mode not in MODES:
            raise InputError(f"The 'mode' parameter of RecordStore must be one of {MODES}. "
                             f"Got {mode!r} instead.")
        self.path = Path(path)
        self.journal_path = Path(f"{self.path}.journal")
        self.lock_path = Path(f"{self.path}.lock")
        self.mode = mode
        self.compact_rows = compact_rows
        self.compact_seconds = compact_seconds
        self.sync = sync
        self._lock_fd: int | None = None
        self._jfile = None
        self._closed = False
        self._reset_h5_state()
        self._reset_journal_state()
        if mode != "r":
            self._acquire_lock()
        try:
            if mode == "w":
                for p in (self.path, self.journal_path):
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
            elif mode == "r" and not self.path.exists():
                raise StoreError(f"No record store at {str(self.path)!r}; check the path (--store).")
            if self.path.exists():
                self._load_h5_header()
            self._read_journal()
            if mode != "r":
                if not self.path.exists() or self._j_rows_since_compact or self._j_meta or self._j_torn:
                    self.compact()  # create the file, or fold in what a killed writer left
                self._open_journal()
        except BaseException:
            self._release_lock()
            raise

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
            if self._jfile is not None:
                self._jfile.close()
                self._jfile = None
            self._release_lock()

    # ---- locking -----------------------------------------------------------------------------------
    def _acquire_lock(self) -> None:
        self._lock_fd = _acquire_lock(self.path)

    def _release_lock(self) -> None:
        _release_lock(self._lock_fd)
        self._lock_fd = None

    def _check_open(self, writing: bool = False) -> None:
        if self._closed:
            raise StoreError(f"Record store {str(self.path)!r} is closed; open it again.")
        if writing and self.mode == "r":
            raise StoreError(f"Record store {str(self.path)!r} is open read-only; "
                             f"open it with mode='a' to write.")

    # ---- HDF5 side ---------------------------------------------------------------------------------
    def _reset_h5_state(self) -> None:
        self._h5_ino: int | None = None
        self._h5_meta: dict = {}
        self._h5_tables: dict[str, TableSchema] = {}  # tables in the file, with their stored layout
        self._h5_rows: dict[str, int] = {}
        self._h5_frames: dict[str, pd.DataFrame] = {}
        self._generation = 0
        self.attrs: dict[str, Any] = {}

    def _corrupt(self, why: str) -> StoreError:
        return _corrupt_error(self.path, why)

    def _open_h5(self) -> h5py.File:
        try:
            return h5py.File(self.path, "r")
        except OSError as exc:
            raise self._corrupt(f"corrupted or not an HDF5 file: {exc}") from None

    def _load_h5_header(self) -> None:
        self._reset_h5_state()
        self._h5_ino = os.stat(self.path).st_ino
        with self._open_h5() as f:
            attrs = dict(f.attrs)
            if attrs.get("zcnas_store") != MAGIC:
                raise self._corrupt("an HDF5 file without the zcnas record-store marker")
            version = int(attrs.get("schema_version", -1))
            check_version(version, self.path)
            try:
                self._h5_meta = json.loads(attrs.get("meta", "{}"))
                self._generation = int(attrs.get("generation", 0))
                for name, g in f.get("tables", {}).items():
                    cols = [Column(c, d) if c in key_of(g) else Column(c, d, _DEFAULTS[d])
                            for c, d in json.loads(g.attrs["columns"])]
                    self._h5_tables[name] = TableSchema(name, tuple(cols), tuple(key_of(g)))
                    self._h5_rows[name] = int(g.attrs["n_rows"])
            except (KeyError, ValueError, TypeError) as exc:
                raise self._corrupt(f"damaged table layout: {exc}") from None
            self.attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in attrs.items() if k != "meta"}

    def _read_h5_frame(self, name: str, schema: TableSchema) -> pd.DataFrame:
        with self._open_h5() as f:
            try:
                g = f["tables"][name]
                n = int(g.attrs["n_rows"])
                data = {}
                for col in schema.columns:
                    if col.name in g:
                        vals = _read_column(g, col)
                        if len(vals) != n:
                            raise ValueError(f"column {col.name!r} has {len(vals)} rows, expected {n}")
                        data[col.name] = vals
                    else:  # a column added to the declaration after this file was written
                        data[col.name] = np.full(n, col.default, dtype=object if col.dtype == "str" else None)
            except (KeyError, ValueError, OSError) as exc:
                raise self._corrupt(f"table {name!r} cannot be read: {exc}") from None
        df = pd.DataFrame(data)
        for col in schema.columns:
            df[col.name] = df[col.name].astype({"str": object, "int": "int64", "float": "float64"}[col.dtype])
        return df

    def _write_h5(self, target: Path, frames: dict[str, pd.DataFrame], meta: dict) -> None:
        from zcnas import __version__

        created = self.attrs.get("created") or _now()
        with h5py.File(target, "w", libver="latest") as f:
            f.attrs["zcnas_store"] = MAGIC
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["zcnas_version"] = __version__
            f.attrs["created"] = created
            f.attrs["modified"] = _now()
            f.attrs["generation"] = self._generation + 1
            f.attrs["meta"] = json.dumps(meta, default=_json_default)
            tables = f.create_group("tables")
            for name, df in frames.items():
                if not len(df):
                    continue
                schema = self._schema(name)
                g = tables.create_group(name)
                g.attrs["n_rows"] = len(df)
                g.attrs["key"] = json.dumps(list(schema.key))
                g.attrs["columns"] = json.dumps([[c.name, c.dtype] for c in schema.columns])
                for col in schema.columns:
                    _write_column(g, col, df[col.name])
            f.flush()
        with open(target, "rb+") as fh:
            os.fsync(fh.fileno())

    # ---- journal side ------------------------------------------------------------------------------
    def _reset_journal_state(self) -> None:
        self._j_ino: int | None = None
        self._j_offset = 0
        self._j_lines = 0
        self._j_torn = False
        self._j_frames: dict[str, list[pd.DataFrame]] = {}
        self._j_counts: dict[str, int] = {}
        self._j_meta: dict = {}
        self._j_schemas: dict[str, TableSchema] = {}
        self._j_rows_since_compact = 0
        self._last_compact = time.monotonic()

    def _read_journal(self) -> None:
        try:
            st = os.stat(self.journal_path)
        except FileNotFoundError:
            return
        if self._j_ino is not None and st.st_ino != self._j_ino:
            self._reset_journal_state()
        self._j_ino = st.st_ino
        if st.st_size <= self._j_offset:
            return
        with open(self.journal_path, "rb") as fh:
            fh.seek(self._j_offset)
            data = fh.read()
        end = data.rfind(b"\n")
        self._j_torn = end + 1 < len(data)  # a torn last line (killed writer) or one being written
        if end < 0:
            return
        first_line = self._j_offset == 0
        for raw in data[: end + 1].splitlines():
            self._j_lines += 1
            lineno = self._j_lines
            try:
                rec = json.loads(raw)
            except ValueError:
                raise StoreError(f"Journal {str(self.journal_path)!r} is damaged at line {lineno} "
                                 f"(not a torn last line). Its earlier lines are intact; remove the "
                                 f"journal to lose its uncompacted rows, or remove the store to start "
                                 f"over.") from None
            if first_line:
                first_line = False
                if "zcnas_journal" in rec:
                    check_version(int(rec["zcnas_journal"]), self.journal_path)
                    continue
            self._apply_journal_record(rec)
        self._j_offset += end + 1

    def _apply_journal_record(self, rec: dict) -> None:
        if "m" in rec:
            self._j_meta.update(rec["m"])
            return
        name = rec["t"]
        if name not in self._j_schemas:
            cols = [Column(c, d) if c in rec["k"] else Column(c, d, _DEFAULTS[d]) for c, d in rec["s"]]
            self._j_schemas[name] = TableSchema(name, tuple(cols), tuple(rec["k"]))
        schema = self._schema(name)
        df = schema.normalize(pd.DataFrame(rec["c"]), where=f"journal {self.journal_path}")
        self._add_journal_frame(name, df)

    def _add_journal_frame(self, name: str, df: pd.DataFrame) -> None:
        self._j_frames.setdefault(name, []).append(df)
        self._j_counts[name] = self._j_counts.get(name, 0) + len(df)
        self._j_rows_since_compact += len(df)

    def _open_journal(self) -> None:
        if self._jfile is not None:
            self._jfile.close()
        self._jfile = open(self.journal_path, "ab")

    def _write_journal_line(self, rec: dict) -> None:
        line = json.dumps(rec, default=_json_default, separators=(",", ":")).encode() + b"\n"
        self._jfile.write(line)
        self._jfile.flush()
        if self.sync:
            os.fsync(self._jfile.fileno())
        self._j_offset += len(line)

    def _reset_journal(self) -> None:
        """Replace the journal by an empty one (after its rows went into the HDF5 file)."""
        tmp = self.journal_path.with_name(f".{self.journal_path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as fh:
            fh.write(json.dumps({"zcnas_journal": SCHEMA_VERSION}).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.journal_path)
        _fsync_dir(self.journal_path.parent)

    # ---- refresh (readers) -------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Readers pick up what a concurrent writer appended or compacted since the last look."""
        if self.mode != "r":
            return
        for _ in range(5):
            try:
                ino = os.stat(self.path).st_ino
            except FileNotFoundError:
                raise StoreError(f"Record store {str(self.path)!r} has disappeared.") from None
            if ino != self._h5_ino:
                self._load_h5_header()
                self._reset_journal_state()
            self._read_journal()
            if os.stat(self.path).st_ino == ino:
                return

    # ---- schemas -----------------------------------------------------------------------------------
    def _schema(self, name: str) -> TableSchema:
        if name in TABLES:
            return TABLES.get(name)
        if name in self._h5_tables:
            return self._h5_tables[name]
        if name in self._j_schemas:
            return self._j_schemas[name]
        raise UnknownNameError("table", name, list(TABLES) + list(self._h5_tables))

    # ---- public API --------------------------------------------------------------------------------
    def append(self, table: str, rows: Sequence[dict] | pd.DataFrame) -> int:
        """Add ``rows`` (a list of dicts or a DataFrame) to ``table``; durable on return.

        Rows whose key equals an existing row replace it. Returns the number of rows written."""
        self._check_open(writing=True)
        schema = self._schema(table)
        df = schema.normalize(rows, where=f"append to {self.path.name}")
        if not len(df):
            return 0
        self._add_journal_frame(table, df)
        if len(df) >= self.compact_rows:
            self.compact()  # a big batch goes straight into the HDF5 file (atomic, so also durable)
            return len(df)
        self._write_journal_line({
            "t": table, "k": list(schema.key), "s": [[c.name, c.dtype] for c in schema.columns],
            "c": {c: df[c].tolist() for c in df.columns},
        })
        self._maybe_compact()
        return len(df)

    def set_meta(self, key: str, value: Any) -> None:
        """Set one entry of :attr:`meta` (a JSON-serialisable value); durable on return."""
        self._check_open(writing=True)
        try:
            json.dumps(value, default=_json_default)
        except TypeError as exc:
            raise InputError(f"Store metadata {key!r} must be JSON-serialisable: {exc}.") from None
        self._j_meta[str(key)] = value
        self._write_journal_line({"m": {str(key): value}})
        self._j_rows_since_compact += 1
        self._maybe_compact()

    @property
    def meta(self) -> dict:
        """The store's metadata (a copy)."""
        self._check_open()
        self._refresh()
        return json.loads(json.dumps({**self._h5_meta, **self._j_meta}, default=_json_default))

    def _maybe_compact(self) -> None:
        if self._j_rows_since_compact >= self.compact_rows or (
                self._j_rows_since_compact and time.monotonic() - self._last_compact >= self.compact_seconds):
            self.compact()

    def tables(self) -> list[str]:
        """Names of the tables that hold rows (declared tables first)."""
        self._check_open()
        self._refresh()
        names = {n for n, k in self._h5_rows.items() if k} | {n for n, k in self._j_counts.items() if k}
        order = list(TABLES)
        return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))

    def frame(self, table: str) -> pd.DataFrame:
        """All rows of ``table`` (HDF5 + journal, de-duplicated on its key; the last write wins).

        An empty frame with the table's columns when it has no rows."""
        self._check_open()
        self._refresh()
        schema = self._schema(table)
        parts = []
        if self._h5_rows.get(table):
            if table not in self._h5_frames:
                self._h5_frames[table] = self._read_h5_frame(table, schema)
            parts.append(self._h5_frames[table])
        journal = self._j_frames.get(table, [])
        if not parts and not journal:
            return schema.empty()
        if not journal:
            return parts[0].copy()
        df = pd.concat(parts + journal, ignore_index=True)
        df = df.drop_duplicates(subset=list(schema.key), keep="last", ignore_index=True)
        return df

    def delete(self, table: str, **where: Any) -> int:
        """Remove the rows of ``table`` whose columns equal ``where`` (a list or tuple value
        matches any of its items), e.g. ``delete("scores", proxy=["meco", "meco_opt"])`` after a
        proxy's definition changed. Atomic (the file is rewritten and swapped in); returns the
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
        """Write all rows into a new HDF5 file, swap it in atomically, and empty the journal.
        ``replace``: tables whose rows are written instead of their current ones (see :meth:`delete`)."""
        self._check_open(writing=True)
        names = set(self._h5_tables) | set(self._j_frames)
        frames = {n: self.frame(n) for n in sorted(names)}
        frames.update(replace or {})
        meta = {**self._h5_meta, **self._j_meta}
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        try:
            self._write_h5(tmp, frames, meta)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        _fsync_dir(self.path.parent)
        self._reset_journal()
        self._load_h5_header()
        self._h5_frames = {n: df for n, df in frames.items() if len(df)}
        self._reset_journal_state()
        self._j_ino = os.stat(self.journal_path).st_ino
        self._j_offset = os.stat(self.journal_path).st_size
        if self._jfile is not None:
            self._open_journal()

    def to_csv(self, table: str, path: str | os.PathLike) -> Path:
        """Write ``table`` to a CSV file; returns its path."""
        out = Path(path)
        self.frame(table).to_csv(out, index=False)
        return out

    def info(self) -> dict:
        """A summary: path, versions, row count of each table, rows still in the journal, metadata."""
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
        }

    # ---- convenience views -------------------------------------------------------------------------
    def scores_wide(self, run_key: str | None = None, dataset: str | None = None) -> pd.DataFrame:
        """Scores as a frame indexed by arch with one column per proxy (NaN where not ``ok``)."""
        df = self.frame("scores")
        if run_key is not None:
            df = df[df["run_key"] == run_key]
        if dataset is not None:
            df = df[df["dataset"] == dataset]
        dup = df.duplicated(["arch", "proxy"])
        if dup.any():
            runs = sorted(set(df["run_key"]))
            first = tuple(df.loc[dup, ["arch", "proxy"]].iloc[0])
            raise InputError(f"Scores of several runs/datasets for the same (arch, proxy), e.g. {first}; "
                             f"pass run_key= (one of {runs}) or dataset=.")
        values = df["value"].where(df["status"] == "ok")
        return _pivot(df["arch"], df["proxy"], values)

    def truth_wide(self, metrics: Sequence[str] | None = None, dataset: str | None = None,
                   space: str | None = None) -> pd.DataFrame:
        """Ground truth indexed by arch, one column per metric.

        A metric present for several datasets or aggregations gets one column each, named
        ``metric[dataset]``, ``metric@aggregation`` or ``metric[dataset]@aggregation``."""
        df = self.frame("truth")
        if metrics is not None:
            unknown = sorted(set(metrics) - set(df["metric"]))
            if unknown:
                raise InputError(f"No truth rows for metric(s) {unknown}; known metrics in "
                                 f"{self.path.name}: {sorted(set(df['metric']))}.")
            df = df[df["metric"].isin(list(metrics))]
        if dataset is not None:
            df = df[df["dataset"] == dataset]
        if space is not None:
            df = df[df["space"] == space]
        if df.duplicated(["arch", "metric", "dataset", "aggregation"]).any():
            raise InputError("Truth rows of several search spaces share an arch string; pass space=.")
        n_ds = df.groupby("metric")["dataset"].nunique()
        n_ag = df.groupby("metric")["aggregation"].nunique()
        label = df["metric"].copy()
        multi_ds = df["metric"].map(n_ds) > 1
        multi_ag = df["metric"].map(n_ag) > 1
        label[multi_ds] = label[multi_ds] + "[" + df.loc[multi_ds, "dataset"] + "]"
        label[multi_ag] = label[multi_ag] + "@" + df.loc[multi_ag, "aggregation"]
        wide = _pivot(df["arch"], label, df["value"])
        if metrics is not None:  # keep the caller's order
            order = {m: i for i, m in enumerate(metrics)}
            wide = wide[sorted(wide.columns, key=lambda c: (order.get(c.split("[")[0].split("@")[0], 0), c))]
        return wide


def _pivot(index: pd.Series, columns: pd.Series, values: pd.Series) -> pd.DataFrame:
    """Long -> wide for unique (index, column) pairs; rows and columns sorted (much faster than pivot)."""
    i_codes, i_uni = pd.factorize(index.to_numpy(dtype=object), sort=True)
    c_codes, c_uni = pd.factorize(columns.to_numpy(dtype=object), sort=True)
    m = np.full((len(i_uni), len(c_uni)), np.nan)
    m[i_codes, c_codes] = values.to_numpy(dtype="float64")
    return pd.DataFrame(m, index=pd.Index(i_uni, name="arch"), columns=list(c_uni))


def _acquire_lock(path: Path) -> int:
    """Take the writer lock of the store at ``path``; a :class:`StoreError` names the holder's pid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            pid = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
        finally:
            os.close(fd)
        raise StoreError(f"{str(path)!r} is being written by another process (pid {pid}); "
                         f"wait for it or use another --store.") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _release_lock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _journal_has_rows(journal: Path) -> int:
    """Number of complete data lines in a journal (0 when missing or only a header)."""
    try:
        with open(journal, "rb") as fh:
            lines = fh.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return 0
    return sum(1 for ln in lines if not ln.startswith(b'{"zcnas_journal"'))


def _corrupt_error(path: Path, why: str) -> StoreError:
    journal = Path(f"{path}.journal")
    n = _journal_has_rows(journal)
    jnote = (f" The journal {str(journal)!r} still holds {n} batch(es) of results written since the last "
             f"compaction; move it aside if you want to keep them." if n else "")
    return StoreError(f"{str(path)!r} is not a readable zcnas record store ({why}).{jnote} "
                      f"Remove {str(path)!r} (and its .journal) to start over, or use another --store.")


def _write_column(g: h5py.Group, col: Column, values: pd.Series) -> None:
    """Numbers as int64/float64 datasets. Text as a variable-length UTF-8 dataset of the distinct values
    (``<col>__values``) plus an int32 dataset ``<col>`` of positions into it: reading 150,000 rows of
    variable-length strings one by one takes seconds, this takes milliseconds, and repeated values
    (run keys, proxy names, datasets) are stored once."""
    if col.dtype == "str":
        codes, uniques = pd.factorize(values.to_numpy(dtype=object), sort=False)
        g.create_dataset(col.name, data=codes.astype("int32"), compression="gzip", compression_opts=1,
                         shuffle=True, chunks=True)
        # distinct values as one gzip-compressed UTF-8 blob + end offsets (variable-length strings
        # cannot be compressed by HDF5; architecture strings compress about 10x)
        encoded = [str(u).encode("utf-8") for u in uniques]
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        g.create_dataset(f"{col.name}__blob", data=blob, compression="gzip", compression_opts=4,
                         chunks=True if len(blob) else None)
        g.create_dataset(f"{col.name}__ends", data=ends, compression="gzip", compression_opts=4,
                         chunks=True if len(ends) else None)
        g[col.name].attrs["encoding"] = "dictionary-blob"
    else:
        data = values.to_numpy(dtype="int64" if col.dtype == "int" else "float64")
        g.create_dataset(col.name, data=data, compression="gzip", compression_opts=4, shuffle=True,
                         chunks=True if len(data) else None)


def _read_column(g: h5py.Group, col: Column) -> np.ndarray:
    ds = g[col.name]
    if col.dtype != "str":
        return ds[()]
    encoding = ds.attrs.get("encoding")
    if encoding in ("dictionary", "dictionary-blob"):
        if encoding == "dictionary-blob":
            blob = g[f"{col.name}__blob"][()].tobytes()
            ends = g[f"{col.name}__ends"][()]
            starts = np.concatenate([[0], ends[:-1]]) if len(ends) else ends
            uniques = [blob[a:b].decode("utf-8") for a, b in zip(starts, ends)]
        else:  # files written before the blob encoding
            uniques = g[f"{col.name}__values"].asstr()[()]
        codes = ds[()]
        if len(codes) and (codes.min() < 0 or codes.max() >= len(uniques)):
            raise ValueError(f"column {col.name!r} refers to values that are not stored")
        return np.asarray(uniques, dtype=object)[codes]
    return ds.asstr()[()]  # plain variable-length strings


def key_of(group: h5py.Group) -> list[str]:
    return json.loads(group.attrs["key"])


def check_version(version: int, path: Path) -> None:
    """Raise a :class:`StoreError` that says what to do when ``version`` is not this zcnas's."""
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(f"{str(path)!r} was written by a newer zcnas (record-store schema v{version}; this "
                         f"zcnas reads v{SCHEMA_VERSION}); upgrade zcnas (pip install -U zcnas).")
    raise StoreError(f"{str(path)!r} uses the old record-store schema v{version} (this zcnas reads "
                     f"v{SCHEMA_VERSION}); run `zcnas store migrate {path}` to upgrade it.")


def migrate(path: str | os.PathLike) -> str:
    """Upgrade the store at ``path`` to :data:`SCHEMA_VERSION` in place (atomically); returns a message."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"No record store at {str(path)!r}; check the path.")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("zcnas_store") != MAGIC:
                raise _corrupt_error(path, "an HDF5 file without the zcnas record-store marker")
            version = int(f.attrs.get("schema_version", -1))
    except OSError as exc:
        raise _corrupt_error(path, f"corrupted or not an HDF5 file: {exc}") from None
    if version == SCHEMA_VERSION:
        return f"{path} is already at schema v{SCHEMA_VERSION}; nothing to do."
    if version > SCHEMA_VERSION:
        check_version(version, path)
    missing = [v for v in range(version, SCHEMA_VERSION) if v not in MIGRATIONS]
    if missing:
        raise StoreError(f"No migration from record-store schema v{missing[0]} to v{missing[0] + 1} "
                         f"in this zcnas; re-create {str(path)!r} (re-run the command that wrote it).")
    fd = _acquire_lock(path)
    try:
        tmp = path.with_name(f".{path.name}.migrate-{os.getpid()}")
        shutil.copy2(path, tmp)
        with h5py.File(tmp, "r+") as f:
            for v in range(version, SCHEMA_VERSION):
                MIGRATIONS[v](f)
                f.attrs["schema_version"] = v + 1
        os.replace(tmp, path)
    finally:
        _release_lock(fd)
    return f"{path} migrated from schema v{version} to v{SCHEMA_VERSION}."
