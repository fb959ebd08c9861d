"""``zcnas store info|export|compact|delete|merge|migrate PATH``: look into and maintain a record store."""

from __future__ import annotations

import json
import logging
import os
import sys

import pandas as pd

from zcnas.cli.output import FORMATS, emit

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser("store", help="inspect, export, compact or migrate a record store (.h5)",
                       description="Inspect, export, compact or migrate a zcnas record store.")
    actions = p.add_subparsers(dest="store_action", metavar="ACTION")
    actions.required = True

    a = actions.add_parser("info", help="versions, tables and row counts, metadata, runs with their keys")
    a.add_argument("path", metavar="PATH")
    a.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    a.add_argument("--runs", action="store_true",
                   help="only the runs: run key, kind, space, dataset, batch size, seed and rows per table")

    a = actions.add_parser("export", help="write one table as CSV/JSON/table to stdout or a file")
    a.add_argument("path", metavar="PATH")
    a.add_argument("--table", required=True, help="table to export (runs, scores, truth, ...)")
    a.add_argument("--format", choices=FORMATS, default="csv", help="output format (default: csv)")
    a.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    a = actions.add_parser("compact", help="fold the journal into the HDF5 file now")
    a.add_argument("path", metavar="PATH")

    a = actions.add_parser("delete", help="remove rows, e.g. a proxy's scores after its definition changed")
    a.add_argument("path", metavar="PATH")
    a.add_argument("--table", default="scores", help="table to remove rows from (default: scores)")
    a.add_argument("--where", action="append", required=True, metavar="COLUMN=V1[,V2...]",
                   help="rows whose COLUMN is one of the values; repeat to narrow (e.g. --where proxy=meco "
                        "--where run_key=score:...)")

    a = actions.add_parser("merge", help="copy the rows of other stores into one (parts scored on several machines)")
    a.add_argument("path", metavar="PATH", help="the store to merge into (created if missing)")
    a.add_argument("sources", metavar="SOURCE", nargs="+", help="stores to copy from (read only)")

    a = actions.add_parser("migrate", help="upgrade a store written by an older zcnas")
    a.add_argument("path", metavar="PATH")

    p.set_defaults(func=run)


def run(args) -> int:
    from zcnas.records import RecordStore, migrate

    if args.store_action == "info":
        with RecordStore(args.path, mode="r") as store:
            info = store.info()
            runs = store.runs()
        if args.runs:
            emit(runs, args.format, title=f"runs in {args.path}")
            return 0
        rows = [{"item": k, "value": str(info[k])} for k in
                ("path", "schema_version", "zcnas_version", "created", "modified", "journal_rows")]
        rows += [{"item": f"table {name}", "value": str(n)} for name, n in info["tables"].items()]
        rows += [{"item": f"meta {k}", "value": json.dumps(v)} for k, v in info["meta"].items()]
        rows += [{"item": f"run {r['run_key']}", "value": _run_line(r, list(runs.columns[6:]))}
                 for r in info["runs"]]
        emit(pd.DataFrame(rows, columns=["item", "value"]), args.format, title=f"record store {args.path}")
    elif args.store_action == "export":
        with RecordStore(args.path, mode="r") as store:
            df = store.frame(args.table)
        if args.output:
            with open(args.output, "w", newline="") as fh:
                emit(df, args.format, stream=fh)
            log.info("wrote %d rows of table %r to %s", len(df), args.table, args.output)
        else:
            emit(df, args.format, stream=sys.stdout)
    elif args.store_action == "compact":
        with RecordStore(args.path, mode="r") as store:  # a maintenance command never creates a store
            pending = store.info()["journal_rows"]
        with RecordStore(args.path, mode="a") as store:  # opening folds in what the journal holds
            store.compact()
        log.info("compacted %s (%d journal rows folded in)", args.path, pending)
    elif args.store_action == "delete":
        from zcnas.errors import InputError

        where = {}
        for cond in args.where:
            col, sep, values = cond.partition("=")
            if not sep or not col or not values:
                raise InputError(f"--where {cond!r}: expected COLUMN=VALUE[,VALUE...], e.g. proxy=meco,meco_opt.")
            where[col.strip()] = [v.strip() for v in values.split(",")]
        RecordStore(args.path, mode="r").close()  # a maintenance command never creates a store
        with RecordStore(args.path, mode="a") as store:
            n = store.delete(args.table, **where)
        log.info("removed %d row(s) of table %r from %s", n, args.table, args.path)
        print(n)
    elif args.store_action == "merge":
        from zcnas.errors import InputError

        missing = [src for src in args.sources if not os.path.exists(src)]
        if missing:
            raise InputError(f"No record store at {', '.join(map(repr, missing))}; check the path(s) to merge from.")
        with RecordStore(args.path, mode="a") as store:
            for src in args.sources:
                copied = store.merge_from(src)
                log.info("merged %s into %s: %s", src, args.path,
                         ", ".join(f"{n} {t}" for t, n in copied.items()) or "no rows")
    elif args.store_action == "migrate":
        print(migrate(args.path))
    return 0


def _run_line(run: dict, tables: list[str]) -> str:
    """One run as a short line: kind, configuration summary and rows per table."""
    parts = [run["kind"] or "(no runs row)"]
    parts += [f"{k}={run[k]}" for k in ("space", "dataset", "batch_size", "seed") if run[k] != ""]
    counts = ", ".join(f"{run[t]} {t}" for t in tables if run.get(t))
    return " ".join(parts) + (f"; {counts}" if counts else "")
