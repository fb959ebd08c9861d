"""``zcnas list spaces|proxies|datasets|aggregates``."""

from __future__ import annotations

import fnmatch

import pandas as pd

from zcnas.cli.output import add_format_option, emit


def add_parser(sub) -> None:
    p = sub.add_parser("list", help="list search spaces, proxies, datasets or aggregates",
                       description="List what is registered, with each proxy's direction and needs.")
    p.add_argument("what", choices=("spaces", "proxies", "datasets", "aggregates"))
    p.add_argument("pattern", nargs="?", default="*", help="glob pattern, e.g. 'syn*' or 'graph:*c3*'")
    p.add_argument("--space", default=None,
                   help="with 'proxies': also list this space's structural proxies graph:<feature>")
    add_format_option(p)
    p.set_defaults(func=run)


def list_table(what: str, pattern: str = "*", space: str | None = None) -> pd.DataFrame:
    if what == "spaces":
        from zcnas.spaces import SPACES, get_space

        rows = []
        for n in SPACES.names(pattern):
            d = get_space(n).describe()
            rows.append({"name": n, "aliases": ",".join(SPACES.entry(n).aliases),
                         "size": d["size"] if d["size"] is not None else "not enumerable",
                         "default_ranker": d["default_ranker"], "default_dataset": d["default_dataset"],
                         "description": SPACES.entry(n).meta.get("description", "")})
    elif what == "proxies":
        from zcnas.proxies import PROXIES

        rows = []
        for n in PROXIES.names(pattern):
            s = PROXIES.get(n)
            rows.append({"name": n, "direction": "higher" if s.higher_is_better else "lower",
                         "needs_data": s.needs_data, "needs_labels": s.needs_labels,
                         "aliases": ",".join(s.aliases), "description": s.description})
        if space is None:
            for prefix, desc in PROXIES.families().items():
                if fnmatch.fnmatchcase(prefix + "<feature>", pattern):
                    rows.append({"name": prefix + "<feature>", "direction": "higher", "needs_data": False,
                                 "needs_labels": False, "aliases": "",
                                 "description": desc + " (zcnas list proxies --space S lists them)"})
        else:
            from zcnas.proxies import graph_proxy_names

            rows += [{"name": n, "direction": "higher", "needs_data": False, "needs_labels": False, "aliases": "",
                      "description": f"GRAF graph feature of {space}'s cell graph; negate with graph:-"}
                     for n in graph_proxy_names(space) if fnmatch.fnmatchcase(n, pattern)]
    elif what == "datasets":
        from zcnas.data import DATASETS

        rows = [{"name": n, "aliases": ",".join(DATASETS.entry(n).aliases),
                 "description": DATASETS.entry(n).meta.get("description", "")} for n in DATASETS.names(pattern)]
    else:
        from zcnas.aggregate import AGGREGATES

        rows = [{"name": n, "description": (AGGREGATES.get(n).__doc__ or "").strip().splitlines()[0]}
                for n in AGGREGATES.names(pattern)]
    return pd.DataFrame(rows)


def run(args) -> int:
    if args.space is not None and args.what != "proxies":
        from zcnas.errors import InputError

        raise InputError(f"--space only applies to 'zcnas list proxies', not to 'zcnas list {args.what}'.")
    emit(list_table(args.what, args.pattern, args.space), args.format, title=args.what)
    return 0
