"""Score and truth tables from CSV files, and failure markers in them. No torch.

The lowest layer that :mod:`zcnas.bench` and :mod:`zcnas.constraints` both read tables through
(imports flow ``tables -> constraints -> bench``). Published score tables often mark a failed
proxy with a number (NAS-Bench-Suite-Zero writes ``-1e8``); a number like that would be ranked as
a real score, so :func:`check_no_sentinels` finds such values and asks the caller to name them
(``missing=[...]``, ``--missing``), which turns them into NaN (a failure).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.errors import DataError

ARCH_COLUMNS = ("arch", "arch_str", "net_str", "architecture")
#: CSV columns that are never scores or truth (row numbers)
ID_COLUMNS = ("index", "Unnamed: 0")
#: a finite value is sentinel-like when it is +-10**k with k >= this (-1e8, 1e9, -1e10, ...) or the
#: largest float32/float64; infinities always are. Real proxies reach such magnitudes (synflow is
#: often 1e30 and more) but never an exact round power of ten.
SENTINEL_MIN_EXPONENT = 8
_FLOAT_MAXES = (float(np.finfo(np.float64).max), float(np.finfo(np.float32).max))


def check_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path, or a :class:`DataError` naming it when it does not exist."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{what} file {str(p)!r} does not exist.")
    return p


def sentinel_mask(values: np.ndarray | pd.DataFrame | pd.Series) -> np.ndarray:
    """True where a value looks like a failure marker rather than a score (see
    :data:`SENTINEL_MIN_EXPONENT`); NaN is never a sentinel (it already means missing)."""
    v = np.asarray(values, dtype=float)
    out = np.isinf(v)
    a = np.abs(np.where(np.isfinite(v), v, 0.0))
    big = a >= 10.0 ** SENTINEL_MIN_EXPONENT
    if big.any():
        exp = np.rint(np.log10(a[big]))
        out[big] = (a[big] == 10.0 ** exp) | np.isin(a[big], _FLOAT_MAXES)
    return out


def mask_missing(df: pd.DataFrame, missing: Sequence[float]) -> pd.DataFrame:
    """``df`` with the values listed in ``missing`` (within 1e-9 relative) set to NaN."""
    out = df
    for raw in missing:
        v = float(raw)
        arr = out.to_numpy(dtype=float)
        hit = arr == v if not np.isfinite(v) else np.isclose(arr, v, rtol=0, atol=abs(v) * 1e-9 + 1e-12)
        out = out.mask(hit)
    return out


def check_no_sentinels(df: pd.DataFrame, source: str) -> None:
    """Raise a one-line :class:`DataError` when a score column holds sentinel-like values, naming
    each column, the count and the values, and how to mark them missing."""
    bad = []
    found: list[float] = []
    for c in df.columns:
        col = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        m = sentinel_mask(col)
        if m.any():
            vals = sorted(set(col[m].tolist()))
            found.extend(v for v in vals if v not in found)
            bad.append(f"{c!r} ({int(m.sum())} x {', '.join(f'{v:g}' for v in vals)})")
    if bad:
        listed = ",".join(f"{v:g}" for v in found)
        raise DataError(f"Score column(s) {'; '.join(bad)} in {source} hold failure-marker-like values, which "
                        f"would be ranked as real scores; pass missing=[{listed}] (--missing={listed}) to "
                        f"treat them as missing.")


def read_csv_table(path: str | Path, *, arch_column: str | None = None,
                   missing: Sequence[float] = ()) -> pd.DataFrame:
    """A CSV as a frame indexed by arch with its numeric columns; ``missing`` values become NaN."""
    p = check_file(path, "CSV")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read {str(p)!r} as CSV: {exc}") from None
    col = arch_column
    if col is None:
        col = next((c for c in ARCH_COLUMNS if c in df.columns), None)
    if col is None or col not in df.columns:
        want = repr(arch_column) if arch_column else f"one of {list(ARCH_COLUMNS)}"
        raise DataError(f"{p.name} has no arch column {want}; its columns are {list(df.columns)} "
                        f"(name it with --arch-column).")
    df = df.set_index(df[col].astype(str).str.strip()).drop(columns=[col])
    df.index.name = "arch"
    num = df[[c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and c not in ID_COLUMNS]]
    num = mask_missing(num.astype(float), missing)
    if num.index.has_duplicates:
        dup = num.index[num.index.duplicated()][:3].tolist()
        raise DataError(f"{p.name} has several rows for the same arch, e.g. {dup}.")
    return num


__all__ = ["ARCH_COLUMNS", "ID_COLUMNS", "SENTINEL_MIN_EXPONENT", "check_file", "check_no_sentinels",
           "mask_missing", "read_csv_table", "sentinel_mask"]
