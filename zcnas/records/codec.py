"""The HDF5 snapshot codec of the record store: frames and metadata to and from one HDF5 file.

Layout: root attributes ``zcnas_store`` (the marker :data:`MAGIC`), ``schema_version``,
``zcnas_version``, ``created``, ``modified``, ``generation`` and ``meta`` (a JSON document); one
group per table under ``tables/`` with one dataset per column and the group attributes ``n_rows``,
``key`` and ``columns`` (JSON), so a table can be read without its declaration. Numbers are int64 or
float64 datasets; text is dictionary-encoded (see :func:`write_column`).

This module knows nothing of journals, locks or where the file lives; it reads and writes the file
it is given, and says what to do when the file is damaged or of another schema version
(:func:`check_version`).
"""

from __future__ import annotations

import json
import math
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from zcnas.errors import StoreError
from zcnas.records.schema import SCHEMA_VERSION, Column, TableSchema

MAGIC = "zcnas record store"
DEFAULTS = {"str": "", "int": -1, "float": math.nan}

#: schema migrations: ``MIGRATIONS[v]`` upgrades an open, writable h5py file from version v to v + 1
MIGRATIONS: dict[int, Callable[[h5py.File], None]] = {}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def zcnas_version() -> str:
    """The running zcnas's version, read from the (already imported) package without importing it:
    ``zcnas.records`` sits below the package root, so an import here would run upwards."""
    return str(getattr(sys.modules.get("zcnas"), "__version__", ""))


def json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


@dataclass
class SnapshotHeader:
    """What a snapshot holds, without its rows: metadata, file attributes, and per table its stored
    layout and row count."""

    meta: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    tables: dict[str, TableSchema] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def generation(self) -> int:
        return int(self.attrs.get("generation", 0))


# ---- versions and errors -------------------------------------------------------------------------
def migration_path(version: int) -> bool:
    """Whether this zcnas can upgrade schema ``version`` to :data:`SCHEMA_VERSION`."""
    return 0 <= version < SCHEMA_VERSION and all(v in MIGRATIONS for v in range(version, SCHEMA_VERSION))


def check_version(version: int, path: Path | str) -> None:
    """Raise a :class:`StoreError` that says what to do when ``version`` is not this zcnas's.

    ``zcnas store migrate`` is suggested only when a chain of migrations to the current schema exists."""
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(f"{str(path)!r} was written by a newer zcnas (record-store schema v{version}; this "
                         f"zcnas reads v{SCHEMA_VERSION}); upgrade zcnas (pip install -U zcnas).")
    if migration_path(version):
        raise StoreError(f"{str(path)!r} uses the old record-store schema v{version} (this zcnas reads "
                         f"v{SCHEMA_VERSION}); run `zcnas store migrate {shlex.quote(str(path))}` to upgrade it.")
    raise StoreError(f"{str(path)!r} uses record-store schema v{version}, which this zcnas (schema "
                     f"v{SCHEMA_VERSION}) can neither read nor upgrade; re-create it by re-running the command "
                     f"that wrote it, or read it with the zcnas version that wrote it.")


def check_journal_version(version: int, journal: Path | str, store: Path | str) -> None:
    """Like :func:`check_version` for a journal's header line (``zcnas store migrate`` does not
    rewrite journals, so it is never suggested here)."""
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(f"The journal {str(journal)!r} was written by a newer zcnas (record-store schema "
                         f"v{version}; this zcnas reads v{SCHEMA_VERSION}); upgrade zcnas (pip install -U zcnas).")
    raise StoreError(f"The journal {str(journal)!r} uses the old record-store schema v{version}; fold it in with "
                     f"the zcnas that wrote it (`zcnas store compact {shlex.quote(str(store))}`), or remove it "
                     f"to lose its uncompacted rows.")


def journal_batches(journal: Path) -> int:
    """Number of complete data lines in a journal file (0 when missing, unreadable or only a header)."""
    try:
        with open(journal, "rb") as fh:
            lines = fh.read().split(b"\n")[:-1]
    except OSError:
        return 0
    return sum(1 for ln in lines if not ln.startswith(b'{"zcnas_journal"'))


def corrupt_error(path: Path | str, why: str, journal: Path | None = None) -> StoreError:
    n = journal_batches(journal) if journal is not None else 0
    jnote = (f" The journal {str(journal)!r} still holds {n} batch(es) of results written since the last "
             f"compaction; move it aside if you want to keep them." if n else "")
    return StoreError(f"{str(path)!r} is not a readable zcnas record store ({why}).{jnote} "
                      f"Remove {str(path)!r} (and its .journal) to start over, or use another --store.")


# ---- reading -------------------------------------------------------------------------------------
def open_file(path: Path, display: Path | str, journal: Path | None = None) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise corrupt_error(display, f"corrupted or not an HDF5 file: {exc}", journal) from None


def read_header(path: Path, display: Path | str | None = None, journal: Path | None = None) -> SnapshotHeader:
    """The header of the snapshot at ``path``; :class:`StoreError` (naming ``display``) when it is not a
    readable store of this schema version."""
    display = path if display is None else display
    head = SnapshotHeader()
    with open_file(path, display, journal) as f:
        attrs = dict(f.attrs)
        if attrs.get("zcnas_store") != MAGIC:
            raise corrupt_error(display, "an HDF5 file without the zcnas record-store marker", journal)
        try:
            version = int(attrs.get("schema_version", -1))
        except (TypeError, ValueError):
            raise corrupt_error(display, "a damaged schema version", journal) from None
        check_version(version, display)
        try:
            head.meta = json.loads(attrs.get("meta", "{}"))
            int(attrs.get("generation", 0))
            for name, g in f.get("tables", {}).items():
                key = json.loads(g.attrs["key"])
                cols = [Column(c, d) if c in key else Column(c, d, DEFAULTS[d])
                        for c, d in json.loads(g.attrs["columns"])]
                head.tables[name] = TableSchema(name, tuple(cols), tuple(key))
                head.rows[name] = int(g.attrs["n_rows"])
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise corrupt_error(display, f"damaged table layout: {exc}", journal) from None
        head.attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in attrs.items() if k != "meta"}
    return head


def read_frame(path: Path, name: str, schema: TableSchema, display: Path | str | None = None,
               journal: Path | None = None) -> pd.DataFrame:
    """All rows of table ``name`` as a frame with ``schema``'s columns (columns the file lacks get
    their default)."""
    display = path if display is None else display
    with open_file(path, display, journal) as f:
        try:
            g = f["tables"][name]
            n = int(g.attrs["n_rows"])
            data = {}
            for col in schema.columns:
                if col.name in g:
                    vals = read_column(g, col)
                    if len(vals) != n:
                        raise ValueError(f"column {col.name!r} has {len(vals)} rows, expected {n}")
                    data[col.name] = vals
                else:  # a column added to the declaration after this file was written
                    data[col.name] = np.full(n, col.default, dtype=object if col.dtype == "str" else None)
        except (KeyError, ValueError, OSError, TypeError) as exc:
            raise corrupt_error(display, f"table {name!r} cannot be read: {exc}", journal) from None
    df = pd.DataFrame(data)
    for col in schema.columns:
        df[col.name] = df[col.name].astype({"str": object, "int": "int64", "float": "float64"}[col.dtype])
    return df


def read_column(g: h5py.Group, col: Column) -> np.ndarray:
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


# ---- writing -------------------------------------------------------------------------------------
def write_file(target: Path, frames: Mapping[str, pd.DataFrame], schemas: Mapping[str, TableSchema],
               meta: dict, *, created: str = "", generation: int = 1) -> None:
    """Write a complete snapshot to ``target`` (an existing empty file or a new one) and fsync it.
    Empty tables are left out."""
    with h5py.File(target, "w", libver="latest") as f:
        f.attrs["zcnas_store"] = MAGIC
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["zcnas_version"] = zcnas_version()
        f.attrs["created"] = created or now()
        f.attrs["modified"] = now()
        f.attrs["generation"] = generation
        f.attrs["meta"] = json.dumps(meta, default=json_default)
        tables = f.create_group("tables")
        for name, df in frames.items():
            if not len(df):
                continue
            schema = schemas[name]
            g = tables.create_group(name)
            g.attrs["n_rows"] = len(df)
            g.attrs["key"] = json.dumps(list(schema.key))
            g.attrs["columns"] = json.dumps([[c.name, c.dtype] for c in schema.columns])
            for col in schema.columns:
                write_column(g, col, df[col.name])
        f.flush()
    with open(target, "rb+") as fh:
        os.fsync(fh.fileno())


def write_column(g: h5py.Group, col: Column, values: pd.Series) -> None:
    """Numbers as int64/float64 datasets. Text as an int32 dataset ``<col>`` of positions into the
    distinct values, which are stored as one gzip-compressed UTF-8 blob (``<col>__blob``) plus end
    offsets (``<col>__ends``): reading 150,000 rows of variable-length strings one by one takes
    seconds, this takes milliseconds, and repeated values (run keys, proxy names) are stored once."""
    if col.dtype == "str":
        codes, uniques = pd.factorize(values.to_numpy(dtype=object), sort=False)
        g.create_dataset(col.name, data=codes.astype("int32"), compression="gzip", compression_opts=1,
                         shuffle=True, chunks=True)
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


def read_version(path: Path, display: Path | str) -> int:
    """The schema version recorded in the store file at ``path`` (for :func:`zcnas.records.migrate`)."""
    with open_file(path, display) as f:
        if f.attrs.get("zcnas_store") != MAGIC:
            raise corrupt_error(display, "an HDF5 file without the zcnas record-store marker")
        try:
            return int(f.attrs.get("schema_version", -1))
        except (TypeError, ValueError):
            raise corrupt_error(display, "a damaged schema version") from None


def apply_migrations(path: Path, version: int) -> None:
    """Run the migrations from ``version`` to :data:`SCHEMA_VERSION` on the file at ``path`` in place."""
    with h5py.File(path, "r+") as f:
        for v in range(version, SCHEMA_VERSION):
            MIGRATIONS[v](f)
            f.attrs["schema_version"] = v + 1
