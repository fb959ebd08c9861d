"""``zcnas bench``: rank correlations and top-k precision of proxy scores against tabular truth."""

from __future__ import annotations

import logging

from zcnas.cli.output import add_format_option, emit
from zcnas.errors import InputError

log = logging.getLogger("zcnas")


def _csv_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items or None


def _proxy_columns(text: str | None) -> list[str] | None:
    """Proxy columns, with named sets (``@zcnas_nb201``) expanded to their members."""
    items = _csv_list(text)
    if items and any(i.startswith("@") for i in items):
        from zcnas.proxies import resolve_proxies

        out: list[str] = []
        for i in items:
            out += resolve_proxies(i) if i.startswith("@") else [i]
        return list(dict.fromkeys(out))
    return items


def _floats(text: str, option: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"{option} takes comma-separated numbers. Got {text!r} instead.") from None


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench", help="benchmark proxy scores against ground truth",
        description="Spearman, Kendall tau-b, top-k precision and NDCG (with bootstrap intervals) of "
                    "proxy scores against tabular ground truth. Scores and truth are record stores "
                    "(.h5) or CSV files with an arch column and one column per proxy / metric.")
    p.add_argument("--scores", required=True, metavar="FILE", help="record store (.h5) or CSV of scores")
    p.add_argument("--run-key", default=None, help="run of the store to use (default: the only one)")
    p.add_argument("--dataset", default=None, help="dataset of the scores in the store")
    p.add_argument("--proxies", default=None, help="comma-separated proxy columns (default: all)")
    p.add_argument("--truth", required=True, metavar="FILE", help="record store (.h5) or CSV of truth")
    p.add_argument("--truth-metric", required=True,
                   help="comma-separated truth metric(s), e.g. c10_test_200ep,c100_test_200ep")
    p.add_argument("--truth-dataset", default=None, help="dataset of the truth rows in the store")
    p.add_argument("--arch-column", default=None,
                   help="arch column of CSV inputs (default: arch, arch_str or net_str)")
    p.add_argument("--missing", default=None, metavar="VALUES",
                   help="comma-separated sentinel values in a score CSV that mean 'failed' (write --missing=-1e8)")
    p.add_argument("--direction", action="append", default=[], metavar="NAME=+1|-1",
                   help="direction of a proxy the registry does not know (repeatable)")
    p.add_argument("--metrics", default="spearman,kendall,precision,ndcg",
                   help="comma-separated: spearman, kendall, pearson, precision, ndcg (default: all but pearson)")
    p.add_argument("--topk", default="1,5,10", help="k %% for precision and ndcg (default 1,5,10)")
    p.add_argument("--aggregate", default=None,
                   help="also benchmark aggregates of all proxies, e.g. mean_log_rank (comma-separated)")
    p.add_argument("--by-class", action="store_true",
                   help="one vote per function class (isomorphic cells) of --space")
    p.add_argument("--space", default="nb201", help="search space for --by-class (default nb201)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for 95%% intervals (0 = none; default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--report", default=None, metavar="DIR",
                   help="write DIR/report.html (one self-contained page: tables, heat-map, top-k, scatter and "
                        "Pareto figures), DIR/figures/*.png, results.csv and summary.md")
    p.add_argument("--pareto-cost", default=None, metavar="COST",
                   help="with --report: plot each proxy's predicted Pareto front of (truth, COST) against the "
                        "true front and write pareto.csv; COST as in `zcnas rank --max`, e.g. latency:edgegpu, "
                        "params (looked up in --scores, --truth, then HW-NAS-Bench under $ZCNAS_DATA)")
    p.add_argument("--cost-dataset", default="cifar10", help="dataset of HW-NAS-Bench costs (default cifar10)")
    add_format_option(p)
    p.set_defaults(func=run)


def _source(path: str, run_key: str | None, dataset: str | None) -> str:
    extra = [f"{k} {v}" for k, v in (("run", run_key), ("dataset", dataset)) if v]
    return path + (f" ({', '.join(extra)})" if extra else "")


def _pareto_cost(name: str, result, truth_path: str, cost_dataset: str):
    """The cost per arch named by --pareto-cost: a score column, else the truth file, else HW-NAS-Bench."""
    from zcnas.constraints import load_costs, resolve_cost

    spec = resolve_cost(name)
    col = spec.find_column(result.scores.columns)
    if col is not None:
        return result.scores[col].rename(col)
    return load_costs(result.truth.index, [spec.name], source=truth_path, dataset=cost_dataset).iloc[:, 0]


def run(args) -> int:
    from zcnas.bench import bench_files, parse_direction_overrides

    missing = _floats(args.missing, "--missing") if args.missing else []
    if args.pareto_cost and not args.report:
        raise InputError("--pareto-cost draws figures into the report; give --report DIR too.")
    if args.pareto_cost:
        from zcnas.constraints import resolve_cost

        resolve_cost(args.pareto_cost)  # a bad name fails before the benchmark runs
    result = bench_files(
        args.scores, args.truth, _csv_list(args.truth_metric) or [],
        run_key=args.run_key, dataset=args.dataset, truth_dataset=args.truth_dataset,
        proxies=_proxy_columns(args.proxies), arch_column=args.arch_column, missing=missing,
        directions=parse_direction_overrides(args.direction), metrics=_csv_list(args.metrics) or [],
        topk=_floats(args.topk, "--topk"), bootstrap=args.bootstrap, seed=args.seed,
        aggregate=_csv_list(args.aggregate), by_class=args.space if args.by_class else None)
    n = int(result.results["n"].max()) if len(result.results) else 0
    emit(result.results, args.format, title=f"{result.scores.shape[1]} proxies vs "
                                            f"{result.truth.shape[1]} truth metric(s), up to {n} archs")
    if args.report:
        from zcnas.report import write_report

        cost = _pareto_cost(args.pareto_cost, result, args.truth, args.cost_dataset) if args.pareto_cost else None
        meta = {"scores": _source(args.scores, args.run_key, args.dataset),
                "truth": _source(args.truth, None, args.truth_dataset),
                "truth metric": ", ".join(result.truth.columns),
                "votes": f"one per function class of {args.space}" if args.by_class else None,
                "bootstrap": f"{args.bootstrap} resamples, seed {args.seed}" if args.bootstrap else "none",
                "Pareto cost": cost.name if cost is not None else None}
        files = write_report(result.results, result.scores, result.truth, args.report,
                             directions=result.directions, pareto_cost=cost, meta=meta)
        log.info("report written to %s", files["report"])
    return 0
