"""Printing tables on stdout: a rich table that fits the terminal, CSV, or JSON lines.

``--format json`` writes JSON lines everywhere (one object per row, one row per line, ``null``
for missing values): the same convention as ``zcnas prefilter``'s stream, readable with
``pandas.read_json(..., lines=True)`` or ``jq``. ``--format table`` fits the terminal width by
shortening long text cells (architecture strings) in the middle; ``--wide`` prints them whole."""

from __future__ import annotations

import json
import math
import sys
from typing import TextIO

import pandas as pd

FORMATS = ("table", "csv", "json")
#: set by the command line from ``--wide`` (one place, so every command's tables follow it)
DEFAULTS = {"wide": False}


def add_format_option(parser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="output format on stdout: table (fits the terminal), csv, or json (JSON lines: one "
                             "object per row)")
    parser.add_argument("--wide", action="store_true",
                        help="table format: print long cells (architecture strings) whole instead of fitting "
                             "the terminal")


def _shorten(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    keep = max(width - 1, 2)
    head = (keep + 1) // 2
    return text[:head] + "\u2026" + text[len(text) - (keep - head):]


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
    return v


def emit(df: pd.DataFrame, fmt: str = "table", *, title: str | None = None,
         stream: TextIO | None = None, float_format: str = "{:.6g}", wide: bool | None = None,
         width: int | None = None) -> None:
    """Write ``df`` to stdout in ``fmt``: a rich table (fitted to ``width``, the terminal's by
    default, unless ``wide``), CSV, or JSON lines (one object per row)."""
    out = stream or sys.stdout
    wide = DEFAULTS["wide"] if wide is None else wide
    if fmt == "csv":
        df.to_csv(out, index=False)
    elif fmt == "json":
        for row in df.to_dict(orient="records"):
            out.write(json.dumps({k: _jsonable(v) for k, v in row.items()}) + "\n")
    elif fmt == "table":
        import shutil

        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, show_lines=False)
        cells = [[float_format.format(v) if isinstance(v, float) else str(v) for v in row]
                 for row in df.itertuples(index=False)]
        widths = [max([len(str(col))] + [len(r[i]) for r in cells]) for i, col in enumerate(df.columns)]
        term = width or shutil.get_terminal_size((120, 24)).columns
        need = sum(widths) + 3 * len(widths) + 4
        if not wide and need > term:
            # shorten the widest text columns (architecture strings, descriptions) a character at a time,
            # so long columns end at a common width and short ones stay whole
            text_cols = [i for i, col in enumerate(df.columns) if not pd.api.types.is_numeric_dtype(df[col])]
            floor = {i: max(12, len(str(df.columns[i]))) for i in text_cols}
            new = list(widths)
            excess = need - term
            while excess > 0:
                cand = [i for i in text_cols if new[i] > floor[i]]
                if not cand:
                    break
                i = max(cand, key=lambda j: new[j])
                new[i] -= 1
                excess -= 1
            for i in text_cols:
                if new[i] < widths[i]:
                    for r in cells:
                        r[i] = _shorten(r[i], new[i])
                    widths[i] = new[i]
        for col in df.columns:
            table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(df[col]) else "left",
                             no_wrap=True)
        for row in cells:
            # plain Text, not markup: run keys such as '...:jigsaw:...' must not become emoji, and
            # genotype strings with '[...]' must not be read as style tags
            table.add_row(*(Text(c) for c in row))
        total = sum(widths) + 3 * len(widths) + 4
        Console(file=out, width=total if wide else max(min(total, term), 20), soft_wrap=False).print(table)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    out.flush()


def read_json_lines(text: str) -> list[dict]:
    """The rows of ``--format json`` output (JSON lines) as a list of dicts."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
