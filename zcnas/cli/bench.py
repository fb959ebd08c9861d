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
    p.add_argument("--report", default=None, metavar="DIR", help="write summary.md, results.csv and figures")
    p.add_argument("--pareto-cost", default=None, metavar="COST",
                   help="with --report: plot each proxy's predicted Pareto front of (truth, COST) against the "
                        "true front and write pareto.csv; COST as in `zcnas rank --max`, e.g. latency:edgegpu, "
                        "params (looked up in --scores, --truth, then HW-NAS-Bench under $ZCNAS_DATA)")
    p.add_argument("--cost-dataset", default="cifar10", help="dataset of HW-NAS-Bench costs (default cifar10)")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from zcnas.bench import bench_files, parse_direction_overrides

    missing = _floats(args.missing, "--missing") if args.missing else []
    if args.pareto_cost and not args.report:
        raise InputError("--pareto-cost draws figures into the report; give --report DIR too.")
    result = bench_files(
        args.scores, args.truth, _csv_list(args.truth_metric) or [],
        run_key=args.run_key, dataset=args.dataset, truth_dataset=args.truth_dataset,
        proxies=_csv_list(args.proxies), arch_column=args.arch_column, missing=missing,
        directions=parse_direction_overrides(args.direction), metrics=_csv_list(args.metrics) or [],
        topk=_floats(args.topk, "--topk"), bootstrap=args.bootstrap, seed=args.seed,
        aggregate=_csv_list(args.aggregate), by_class=args.space if args.by_class else None,
        report=args.report, pareto_cost=args.pareto_cost, cost_dataset=args.cost_dataset)
    n = int(result.results["n"].max()) if len(result.results) else 0
    emit(result.results, args.format, title=f"{result.scores.shape[1]} proxies vs "
                                            f"{result.truth.shape[1]} truth metric(s), up to {n} archs")
    if args.report:
        log.info("report written to %s", args.report)
    return 0
