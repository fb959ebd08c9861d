"""Importers of public benchmark data into the record store (``truth`` and published ``scores``).

Every importer is registered by name (:data:`IMPORTERS`, :func:`list_importers`, :func:`get_importer`)
and has the signature ``import_x(store=None, path=None, *, data_root=None, ...) -> dict[str, DataFrame]``:
it reads the file (``path``, else its default file under the benchmark folder, see
:func:`zcnas.paths.benchmark_file`), returns the rows it made per table (``"truth"`` and/or
``"scores"``) and appends them to ``store`` when one is given. Architectures are always stored as the
space's official string, never as a benchmark index.

Ground-truth metrics are documented in :data:`METRICS` (dataset, split, epochs, aggregation, unit,
source). Naming: ``<dataset>_<split>_<epochs>ep[_<variant>]`` with ``c10`` = CIFAR-10 trained on
train+valid, ``c10valid`` = NB201's "cifar10-valid" (trained on a 25k half), ``c100`` = CIFAR-100,
``in16`` = ImageNet16-120; ``_v11`` = NAS-Bench-201 v1_1 seeds (the plain CIFAR-10 name is the
NATS-Bench seed set; they differ on 2,416 architectures); ``_sz`` = the single value that
NAS-Bench-Suite-Zero publishes. HW-NAS-Bench metrics are ``hw_<device>_<quantity>`` with the dataset
in the ``dataset`` column.

Published proxy scores go to the ``scores`` table under run keys ``published:<source>:<dataset>``;
a failure sentinel in the source (-1e8, -inf, NaN) becomes ``status="failed"`` with a NaN value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zcnas.errors import DataError, InputError
from zcnas.paths import benchmark_file
from zcnas.registry import Registry
from zcnas.spaces import get_space

Imported = dict[str, pd.DataFrame]

# ---- metrics ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """What a ground-truth metric means. ``dataset=None``: the dataset is given per row."""

    name: str
    dataset: str | None
    split: str
    epochs: int
    aggregation: str
    unit: str
    doc: str
    #: direction of the metric as stored (every accuracy: True; a loss or error stored as is: False)
    higher_is_better: bool = True
    #: the search space whose architectures the metric describes (None: any)
    space: str | None = None


METRICS: Registry[Metric] = Registry("metric")


def register_metric(name: str, dataset: str | None, split: str, epochs: int, aggregation: str, doc: str,
                    unit: str = "%", *, higher_is_better: bool = True, space: str | None = None) -> Metric:
    """Declare a ground-truth metric (name, dataset, split, epochs, aggregation, unit, direction)."""
    m = Metric(name, dataset, split, epochs, aggregation, unit, doc, higher_is_better, space)
    METRICS.add(name, m)
    return m


_metric = register_metric


#: NAS-Bench-Suite-Zero / NASLib proxy names -> zcnas canonical names (others are kept as they are)
PROXY_NAMES = {"jacov": "jacob_cov", "nwot": "naswot"}
SENTINEL = -1e8


def metric_info(name: str) -> Metric:
    """What a metric means (every benchmark's metrics are declared by its importer module)."""
    _discover()
    return METRICS.get(name)


def has_metric(name: str) -> bool:
    _discover()
    return name in METRICS


def list_metrics(pattern: str = "*") -> pd.DataFrame:
    """The documented metrics as a table."""
    _discover()
    rows = [vars(METRICS.get(n)) for n in METRICS.names(pattern)]
    cols = ["name", "dataset", "split", "epochs", "aggregation", "unit", "doc", "higher_is_better", "space"]
    return pd.DataFrame(rows, columns=cols)


# ---- importer registry -----------------------------------------------------------------------------

IMPORTERS: Registry[Callable[..., Imported]] = Registry("importer")


def register_importer(name: str, *, description: str, default: str | None, produces: str,
                      aliases: tuple[str, ...] = ()):
    """Decorator registering ``fn(store=None, path=None, *, data_root=None, ...) -> dict of frames``."""

    def deco(fn):
        IMPORTERS.add(name, fn, aliases, description=description, default=default, produces=produces)
        return fn

    return deco


def _discover() -> None:
    """Import the benchmark importer modules beside this one (``importers_<space>.py``; each
    registers its importers with :func:`register_importer`)."""
    import importlib
    import pkgutil

    import zcnas.records as pkg

    if _DISCOVERED:
        return
    _DISCOVERED.append(True)
    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if m.name.startswith("importers_"):
            importlib.import_module(f"zcnas.records.{m.name}")


_DISCOVERED: list[bool] = []


def get_importer(name: str) -> Callable[..., Imported]:
    _discover()
    return IMPORTERS.get(name)


def list_importers(pattern: str = "*") -> pd.DataFrame:
    _discover()
    rows = []
    for n in IMPORTERS.names(pattern):
        e = IMPORTERS.entry(n)
        rows.append({"name": n, "description": e.meta["description"], "default_file": e.meta["default"] or "",
                     "produces": e.meta["produces"]})
    return pd.DataFrame(rows, columns=["name", "description", "default_file", "produces"])


def run_importer(name: str, store=None, path: str | os.PathLike | None = None, **options: Any) -> Imported:
    """Run the importer called ``name`` (see :func:`list_importers`)."""
    return get_importer(name)(store, path, **options)


# ---- helpers ---------------------------------------------------------------------------------------

def _resolve(path: str | os.PathLike | None, default: str | None, data_root) -> Path:
    if path is None:
        if default is None:
            raise InputError("This importer has no default file; pass the file path.")
        return benchmark_file(default, data_root)
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"File {str(p)!r} not found.")
    return p


def _read_csv(path: Path, needed: Sequence[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"Cannot read {str(path)!r} as CSV: {exc}.") from None
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(f"{str(path)!r} has no column(s) {missing}; its columns are {list(df.columns)}. "
                         f"Check the file or the column names you passed.")
    return df


def _where(path: Path, i: int) -> str:
    return f"{path.name}, row {i + 1} (line {i + 2})"


def _arch_strings(values: Sequence, path: Path, column: str, fmt: str = "string", *,
                  space: str, where: Callable[[int], str] | None = None,
                  convert: Callable[[str], str] | None = None) -> np.ndarray:
    """Official strings of an architecture column; errors name the file, row and fix.

    ``fmt`` names the column's form: ``"string"`` (parsed by the space) or another form that
    ``convert`` turns into the space's string (e.g. NB201's NASLib op tuples)."""
    sp = get_space(space)  # a space's parse reads every form it knows (NB201: its string and NASLib tuples)
    out = []
    for i, v in enumerate(values):
        try:
            if not isinstance(v, str):
                raise InputError(f"expected text, got {v!r}")
            out.append(sp.format(sp.parse(convert(v) if convert is not None else v)))
        except InputError as exc:
            kind = f"{fmt} form" if fmt != "string" else f"{space} architecture string"
            loc = where(i) if where else _where(path, i)
            raise InputError(f"{loc}: column {column!r} is not a valid {kind}: {exc} "
                             f"Fix that row or pick the right column/format.") from None
    arr = np.asarray(out, dtype=object)
    dup = pd.Series(arr).duplicated(keep=False)
    if dup.any():
        rows = np.flatnonzero(dup.to_numpy())
        first = arr[rows[0]]
        same = [int(r) + 1 for r in rows if arr[r] == first]
        raise DataError(f"{path.name}: architecture {first!r} appears in rows {same} (column {column!r}); "
                        f"each architecture may appear once. Remove or merge the duplicates.")
    return arr


def _check_same(a: np.ndarray, b: np.ndarray, path: Path, cols: tuple[str, str]) -> None:
    bad = np.flatnonzero(a != b)
    if len(bad):
        i = int(bad[0])
        raise DataError(f"{_where(path, i)}: columns {cols[0]!r} and {cols[1]!r} name different "
                        f"architectures ({a[i]!r} vs {b[i]!r}); {len(bad)} row(s) disagree. The file is "
                        f"inconsistent; re-download it.")


def _numeric(df: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    s = df[col]
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{_where(path, i)}: column {col!r} holds {s.iloc[i]!r}, not a number.")
    return num.to_numpy(dtype="float64")


def _truth_rows(archs: np.ndarray, df: pd.DataFrame, path: Path, specs: Mapping[str, Mapping[str, Any]],
                origin: str, space: str, missing: Sequence[float] = ()) -> pd.DataFrame:
    """Long truth rows from ``specs``: source column -> {metric, dataset, split, epochs, aggregation}."""
    parts = []
    for col, spec in specs.items():
        vals = _numeric(df, col, path)
        keep = ~np.isnan(vals)
        for m in missing:
            keep &= vals != m
        n = int(keep.sum())
        parts.append(pd.DataFrame({
            "space": space, "arch": archs[keep], "metric": spec["metric"], "value": vals[keep],
            "dataset": spec["dataset"], "split": spec.get("split", ""), "epochs": int(spec.get("epochs", -1)),
            "aggregation": spec.get("aggregation", "single"),
            "source": spec.get("source") or f"{origin}:{path.name}:{col}",
        }, index=range(n)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _spec(metric: str, **override: Any) -> dict:
    m = metric_info(metric)
    spec = {"metric": m.name, "dataset": m.dataset, "split": m.split, "epochs": m.epochs,
            "aggregation": m.aggregation}
    spec.update(override)
    return spec


def _score_rows(archs: np.ndarray, values: np.ndarray, proxy: str, run_key: str, dataset: str,
                seconds: np.ndarray | None = None, nan: str = "skip", *, space: str) -> pd.DataFrame:
    """Scores of one proxy; sentinels (-1e8, +-inf) and, with ``nan="failed"``, NaN become failures."""
    values = np.asarray(values, dtype="float64")
    keep = np.ones(len(values), bool) if nan == "failed" else ~np.isnan(values)
    values = values[keep]
    failed = (values == SENTINEL) | np.isinf(values) | np.isnan(values)
    reason = np.where(values == SENTINEL, "failed in the source (sentinel -1e8)",
                      np.where(np.isinf(values), "failed in the source (infinite score)",
                               "failed in the source (NaN score)"))
    n = len(values)
    return pd.DataFrame({
        "run_key": run_key, "space": space, "arch": archs[keep], "proxy": PROXY_NAMES.get(proxy, proxy),
        "dataset": dataset, "batch_size": -1, "seed": -1, "value": np.where(failed, np.nan, values),
        "status": np.where(failed, "failed", "ok"), "reason": np.where(failed, reason, ""),
        "seconds": np.asarray(seconds, dtype="float64")[keep] if seconds is not None else np.nan,
    }, index=range(n))


def _finish(store, out: dict[str, list[pd.DataFrame]]) -> Imported:
    result = {t: pd.concat(parts, ignore_index=True) for t, parts in out.items() if parts}
    if store is not None:
        for table, df in result.items():
            store.append(table, df)
    return result


# ---- generic CSV -----------------------------------------------------------------------------------

_META_KEYS = ("metric", "dataset", "split", "epochs", "aggregation", "source")


@register_importer("csv", default=None, produces="truth",
                   description="any CSV: an architecture column plus metric columns you name")
def import_csv(store=None, path=None, *, columns: Sequence[str] | Mapping[str, Mapping[str, Any]],
               arch_column: str = "arch", arch_format: str = "string", space: str | None = None,
               missing: Sequence[float] = (), data_root=None, **defaults: Any) -> Imported:
    """Truth rows from the metric ``columns`` of a CSV file.

    ``columns``: names, or ``{column: {metric, dataset, split, epochs, aggregation, source}}``. A column
    without metadata that is a documented metric (see :data:`METRICS`) takes that metric's metadata;
    otherwise ``dataset`` is required (per column or as a keyword default, like the other keys).
    ``arch_format``: ``"string"`` (official string of ``space``) or ``"naslib"`` (NB201 op tuple).
    ``missing``: values meaning "no value" (NaN cells are always skipped)."""
    if path is None:
        raise InputError("The generic CSV importer needs a file: import_csv(store, 'file.csv', columns=...).")
    if arch_format not in ("string", "naslib"):
        raise InputError(f"The 'arch_format' parameter of import_csv must be 'string' or 'naslib'. "
                         f"Got {arch_format!r} instead.")
    bad_defaults = [k for k in defaults if k not in _META_KEYS[1:]]
    if bad_defaults:
        raise InputError(f"Unknown option(s) {bad_defaults} for import_csv; metadata keys are {_META_KEYS[1:]}.")
    cols = dict.fromkeys(columns, None) if not isinstance(columns, Mapping) else dict(columns)
    if not cols:
        raise InputError("Name at least one metric column (columns=[...]).")
    f = _resolve(path, None, data_root)
    df = _read_csv(f, [arch_column, *cols])
    specs = {}
    for col, meta in cols.items():
        meta = dict(meta or {})
        bad = [k for k in meta if k not in _META_KEYS]
        if bad:
            raise InputError(f"Unknown metadata key(s) {bad} for column {col!r}; allowed: {list(_META_KEYS)}.")
        name = meta.get("metric", col)
        spec = _spec(name) if has_metric(name) and metric_info(name).dataset else {"metric": name}
        spec.update({k: v for k, v in defaults.items() if v is not None})
        spec.update(meta)
        if not spec.get("dataset"):
            raise InputError(f"Column {col!r} (metric {name!r}) needs a dataset: pass dataset=... "
                             f"(CLI: --dataset).")
        specs[col] = spec
    space = get_space(space).name
    archs = _arch_strings(df[arch_column].tolist(), f, arch_column, arch_format, space=space)
    return _finish(store, {"truth": [_truth_rows(archs, df, f, specs, "csv", space, missing)]})
