"""``zcnas import NAME [FILE] --store PATH``: load public benchmark data into a record store.

``zcnas import list`` shows the importers, ``zcnas import metrics`` the documented truth metrics.
"""

from __future__ import annotations

import logging

import pandas as pd

from zcnas.cli.output import FORMATS, emit
from zcnas.spaces import default_space

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser("import", help="import public benchmark data (ground truth, published scores)",
                       description="Import public benchmark data into a record store. "
                                   "NAME is an importer (see `zcnas import list`), 'list' or 'metrics'.")
    p.add_argument("importer", metavar="NAME", help="importer name, 'list' or 'metrics'")
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="file to read (default: the importer's file under --data-root / $ZCNAS_DATA)")
    p.add_argument("--store", metavar="PATH", help="record store to append to; without it, only report counts")
    p.add_argument("--data-root", metavar="DIR", help="benchmark data folder (default: $ZCNAS_DATA)")
    p.add_argument("--dataset", help="dataset (hw-nas-bench, suitezero-csv: which file; csv: metadata)")
    g = p.add_argument_group("generic csv importer")
    g.add_argument("--arch-column", default="arch", help="column holding the architecture (default: arch)")
    g.add_argument("--arch-format", choices=("string", "naslib"), default="string",
                   help="official string or NASLib op tuple (default: string)")
    g.add_argument("--space", default=None, help=f"search space of the strings (default: {default_space()})")
    g.add_argument("--metric", action="append", default=[], metavar="COLUMN[=NAME]",
                   help="metric column to import, optionally renamed (repeat for several)")
    g.add_argument("--split", help="evaluation split, e.g. ori-test, x-valid")
    g.add_argument("--epochs", type=int, help="training epochs")
    g.add_argument("--aggregation", help="seed-mean, single or seed:<k>")
    g.add_argument("--source", help="where the values come from")
    g.add_argument("--missing", action="append", type=float, default=[], metavar="VALUE",
                   help="value meaning 'no value' (repeatable)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.set_defaults(func=run)


def _options(args) -> dict:
    name = args.importer
    if name == "csv":
        if not args.metric:
            from zcnas.errors import InputError

            raise InputError("The csv importer needs at least one --metric COLUMN[=NAME].")
        columns = {}
        for m in args.metric:
            col, _, new = m.partition("=")
            columns[col] = {"metric": new} if new else {}
        return dict(columns=columns, arch_column=args.arch_column, arch_format=args.arch_format,
                    space=args.space or default_space(), missing=tuple(args.missing), dataset=args.dataset,
                    split=args.split, epochs=args.epochs, aggregation=args.aggregation, source=args.source)
    if name in ("hw-nas-bench", "suitezero-csv") and args.dataset:
        return {"dataset": args.dataset}
    if name in ("suitezero-json", "nats-bench") and args.dataset:
        return {"datasets": [args.dataset]}
    return {}


def summarize(result: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per table and metric (truth; detail: dataset, aggregation) or proxy (scores; detail: run)."""
    parts = []
    if "truth" in result and len(result["truth"]):
        t = result["truth"].groupby(["metric", "dataset", "aggregation"], sort=True).size()
        parts.append(pd.DataFrame({"table": "truth", "name": [m for m, _, _ in t.index],
                                   "detail": [f"{d}, {a}" for _, d, a in t.index], "rows": t.to_numpy()}))
    if "scores" in result and len(result["scores"]):
        s = result["scores"]
        g = s.assign(failed=s["status"] != "ok").groupby(["run_key", "proxy"], sort=True)
        size, failed = g.size(), g["failed"].sum()
        parts.append(pd.DataFrame({"table": "scores", "name": [p for _, p in size.index],
                                   "detail": [r for r, _ in size.index], "rows": size.to_numpy(),
                                   "failed": failed.to_numpy()}))
    cols = ["table", "name", "detail", "rows", "failed"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["failed"] = out.get("failed", pd.Series(0, index=out.index)).fillna(0).astype(int)
    return out[cols]


def run(args) -> int:
    from zcnas.records import RecordStore
    from zcnas.records import importers as imp

    if args.importer == "list":
        emit(imp.list_importers(), args.format, title="importers")
        return 0
    if args.importer == "metrics":
        emit(imp.list_metrics(), args.format, title="truth metrics")
        return 0
    fn = imp.get_importer(args.importer)
    opts = _options(args)
    if args.store:
        with RecordStore(args.store, mode="a") as store:
            result = fn(store, args.file, data_root=args.data_root, **opts)
        log.info("imported %s into %s", ", ".join(f"{len(v)} {k} rows" for k, v in result.items()), args.store)
    else:
        result = fn(None, args.file, data_root=args.data_root, **opts)
        log.info("no --store given: nothing was written")
    emit(summarize(result), args.format, title=f"import {args.importer}")
    return 0
