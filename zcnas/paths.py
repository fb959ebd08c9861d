"""Where the shared benchmark data is: an explicit path, else the ``ZCNAS_DATA`` variable."""

from __future__ import annotations

import os
from pathlib import Path

from zcnas.errors import DataError

ENV_VAR = "ZCNAS_DATA"


def benchmark_root(path: str | os.PathLike | None = None) -> Path:
    """Root of the benchmark data folder (the one holding ``nb201/`` and ``images/``)."""
    raw = path if path is not None else os.environ.get(ENV_VAR)
    if not raw:
        raise DataError(f"No benchmark data folder given: pass --data-root DIR or set {ENV_VAR}=DIR "
                        f"(the folder that holds nb201/ and images/).")
    root = Path(raw).expanduser()
    if not root.is_dir():
        raise DataError(f"Benchmark data folder {str(root)!r} does not exist; check --data-root or {ENV_VAR}.")
    return root


def benchmark_file(relative: str, path: str | os.PathLike | None = None) -> Path:
    """A file inside the benchmark data folder, with a clear error when it is missing."""
    f = benchmark_root(path) / relative
    if not f.exists():
        raise DataError(f"Benchmark file {relative!r} not found under {str(benchmark_root(path))!r}; "
                        f"is {ENV_VAR} pointing at the benchmarks folder?")
    return f


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/zcnas`` (default ``~/.cache/zcnas``): indexes and tables zcnas derives once."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "zcnas"
