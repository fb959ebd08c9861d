"""Printing tables as a rich table, CSV or JSON lines/array on stdout."""

from __future__ import annotations

import json
import math
import sys
from typing import TextIO

import pandas as pd

FORMATS = ("table", "csv", "json")


def add_format_option(parser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="output format on stdout (default: table)")


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
    return v


def emit(df: pd.DataFrame, fmt: str = "table", *, title: str | None = None,
         stream: TextIO | None = None, float_format: str = "{:.6g}") -> None:
    """Write ``df`` to stdout in ``fmt``: a rich table, CSV, or a JSON array of row objects."""
    out = stream or sys.stdout
    if fmt == "csv":
        df.to_csv(out, index=False)
    elif fmt == "json":
        rows = [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
        json.dump(rows, out, indent=None)
        out.write("\n")
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        cells = [[float_format.format(v) if isinstance(v, float) else str(v) for v in row]
                 for row in df.itertuples(index=False)]
        widths = []
        for i, col in enumerate(df.columns):
            table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(df[col]) else "left",
                             no_wrap=True)
            widths.append(max([len(str(col))] + [len(r[i]) for r in cells]))
        for row in cells:
            table.add_row(*row)
        # wide enough that architecture strings are never cut
        width = max(Console(file=out).width, sum(widths) + 3 * len(widths) + 4)
        Console(file=out, width=width, soft_wrap=False).print(table)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    out.flush()
