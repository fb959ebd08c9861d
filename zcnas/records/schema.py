"""Tables of the record store: a small registry of name -> columns (with dtypes) and key columns.

A table is declared once with :func:`register_table`; later modules add their own tables the same
way. Rows appended to a store are checked against the declaration: unknown columns and missing
required columns are an :class:`~zcnas.errors.InputError` naming them, values are converted to the
column's dtype, and rows are de-duplicated on the key columns (the last write wins).

Column dtypes are ``"str"`` (UTF-8 text; JSON documents are stored as text), ``"int"`` (int64) and
``"float"`` (float64, ``NaN`` for missing or failed values).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zcnas.errors import InputError
from zcnas.registry import Registry

#: version of the on-disk layout; bump it (and add a migration in ``codec.MIGRATIONS``) on change. A
#: change of a table's key or a new column with a default needs no bump: files carry their own layout
SCHEMA_VERSION = 1

DTYPES = ("str", "int", "float")
_REQUIRED = object()


@dataclass(frozen=True)
class Column:
    """One column: ``name``, ``dtype`` (str/int/float), a ``default`` (omit for a required column)."""

    name: str
    dtype: str
    default: Any = _REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str = ""
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def empty(self) -> pd.DataFrame:
        """An empty frame with this table's columns and dtypes."""
        return pd.DataFrame({c.name: pd.Series([], dtype=_pandas_dtype(c.dtype)) for c in self.columns})

    def normalize(self, rows: Sequence[dict] | pd.DataFrame, *, where: str = "") -> pd.DataFrame:
        """Rows as a frame with exactly this table's columns, in order, converted to their dtypes.

        Raises :class:`InputError` naming unknown or missing columns, or the first bad value."""
        df = rows.reset_index(drop=True) if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        ctx = f" ({where})" if where else ""
        unknown = [c for c in df.columns if c not in self._by_name]
        if unknown:
            raise InputError(f"Unknown column(s) {unknown} for table {self.name!r}{ctx}; "
                             f"its columns are {self.names}.")
        missing = [c.name for c in self.columns if c.required and c.name not in df.columns]
        if missing and len(df):
            raise InputError(f"Missing required column(s) {missing} for table {self.name!r}{ctx}; "
                             f"give a value for each row.")
        out = {}
        for col in self.columns:
            if col.name in df.columns:
                out[col.name] = _convert(df[col.name], col, self.name, ctx)
            else:
                out[col.name] = pd.Series([col.default] * len(df), dtype=_pandas_dtype(col.dtype))
        return pd.DataFrame(out)


def _pandas_dtype(dtype: str):
    return {"str": "object", "int": "int64", "float": "float64"}[dtype]


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _convert(s: pd.Series, col: Column, table: str, ctx: str) -> pd.Series:
    def bad(i: int, why: str) -> InputError:
        return InputError(f"Column {col.name!r} of table {table!r}{ctx}, row {i}: {why}.")

    if col.dtype == "float":
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            return s.astype("float64")
        vals = []
        for i, v in enumerate(s.tolist()):
            if _is_missing(v):
                vals.append(col.default if not col.required else math.nan)
                continue
            try:
                vals.append(float(v))
            except (TypeError, ValueError):
                raise bad(i, f"expected a number, got {v!r}") from None
        return pd.Series(vals, dtype="float64")
    if col.dtype == "int":
        if pd.api.types.is_integer_dtype(s) and not pd.api.types.is_bool_dtype(s):
            return s.astype("int64")
        vals = []
        for i, v in enumerate(s.tolist()):
            if _is_missing(v):
                if col.required:
                    raise bad(i, "missing value (this column has no default)")
                vals.append(col.default)
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or float(v) != int(v):
                raise bad(i, f"expected an integer, got {v!r}")
            vals.append(int(v))
        return pd.Series(vals, dtype="int64")
    # str
    vals = []
    for i, v in enumerate(s.tolist()):
        if isinstance(v, str):
            vals.append(v)
        elif _is_missing(v):
            if col.required:
                raise bad(i, "missing value (this column has no default)")
            vals.append(col.default)
        elif isinstance(v, (dict, list, tuple)):
            vals.append(json.dumps(v, sort_keys=True))
        else:
            raise bad(i, f"expected text, got {type(v).__name__} {v!r}")
    return pd.Series(vals, dtype="object")


TABLES: Registry[TableSchema] = Registry("table")


def register_table(name: str, columns: Sequence[Column | tuple], key: Sequence[str],
                   doc: str = "") -> TableSchema:
    """Declare a table. ``columns`` are :class:`Column` or ``(name, dtype[, default])`` tuples."""
    cols = tuple(c if isinstance(c, Column) else Column(*c) for c in columns)
    for c in cols:
        if c.dtype not in DTYPES:
            raise InputError(f"Column {c.name!r} of table {name!r} has dtype {c.dtype!r}; "
                             f"use one of {DTYPES}.")
    names = [c.name for c in cols]
    if len(set(names)) != len(names):
        raise InputError(f"Table {name!r} declares a column twice: {names}.")
    bad_key = [k for k in key if k not in names]
    if bad_key or not key:
        raise InputError(f"Key column(s) {bad_key or '(none)'} of table {name!r} must be among "
                         f"its columns {names}.")
    schema = TableSchema(name, cols, tuple(key), doc)
    TABLES.add(name, schema)
    return schema


def get_table(name: str) -> TableSchema:
    return TABLES.get(name)


def list_tables() -> list[str]:
    return TABLES.names()


NAN = math.nan

register_table("runs", [
    Column("run_key", "str", doc="unique id of a run"),
    Column("kind", "str", doc="what the run did: score, train, predict, import, ..."),
    Column("config", "str", "{}", "the run's configuration as a JSON document"),
    Column("zcnas_version", "str", "", "zcnas version that made the run"),
    Column("created", "str", "", "ISO 8601 time the run started"),
], key=["run_key"], doc="One row per run: its configuration.")

register_table("scores", [
    Column("run_key", "str"),
    Column("space", "str"),
    Column("arch", "str", doc="the space's official architecture string"),
    Column("proxy", "str", doc="canonical proxy name"),
    Column("dataset", "str"),
    Column("batch_size", "int", -1, "batch size (-1: not known, e.g. published scores)"),
    Column("seed", "int", -1, "seed (-1: not known)"),
    Column("value", "float", NAN, "score; NaN when failed"),
    Column("status", "str", "ok", "'ok' or 'failed'"),
    Column("reason", "str", "", "why it failed (empty when ok)"),
    Column("seconds", "float", NAN, "wall time of the proxy"),
], key=["run_key", "space", "arch", "proxy"],
    doc="Zero-cost proxy scores, one row per (run, space, arch, proxy); dataset '' marks a proxy that needs "
        "no data (served to every dataset by zcnas.records.views.scores_wide).")

register_table("truth", [
    Column("space", "str"),
    Column("arch", "str"),
    Column("metric", "str", doc="metric name, e.g. c10_test_200ep (see zcnas.records.importers.METRICS)"),
    Column("value", "float"),
    Column("dataset", "str", doc="dataset of the metric (NB201 names: cifar10, cifar10-valid, ...)"),
    Column("split", "str", "", "evaluation split (ori-test, x-valid, x-test, ...)"),
    Column("epochs", "int", -1, "training epochs (-1: not applicable)"),
    Column("aggregation", "str", "single", "'seed-mean', 'single' or 'seed:<k>'"),
    Column("source", "str", "", "where the value comes from"),
], key=["space", "arch", "metric", "dataset", "aggregation"],
    doc="Ground truth and benchmark metrics (accuracy in percent).")

register_table("trainings", [
    Column("run_key", "str"),
    Column("space", "str"),
    Column("arch", "str"),
    Column("dataset", "str"),
    Column("epochs", "int"),
    Column("seed", "int"),
    Column("epoch_acc", "str", "[]", "JSON list of accuracy (%) after each epoch"),
    Column("final_acc", "float", NAN),
    Column("seconds", "float", NAN),
    Column("device", "str", ""),
], key=["run_key", "arch", "seed"], doc="Short-training results.")

register_table("predictions", [
    Column("run_key", "str"),
    Column("space", "str"),
    Column("arch", "str"),
    Column("model", "str"),
    Column("target", "str"),
    Column("value", "float"),
    Column("std", "float", NAN),
], key=["run_key", "arch", "model", "target"], doc="Surrogate predictions.")
