"""``zcnas suite``: every proxy and aggregate against every space x task with ground truth here."""

from __future__ import annotations

import logging

from zcnas.cli.output import add_format_option, emit

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "suite", help="benchmark every proxy against every space x task (resumable)",
        description="Spearman and Kendall (bootstrap intervals) and top-k precision of zcnas's own scores "
                    "(benchmarks_data/) and the published scores against the ground truth of NB201 (3 datasets), "
                    "NB101, NB301 (surrogate truth) and TNB101 micro/macro (7 tasks), with size biases. Writes "
                    "OUT/suite.csv, biases.csv, coverage.csv, summary.md and report.html; finished pairs are "
                    "cached in OUT/pairs/ and skipped on a rerun unless their inputs changed.")
    p.add_argument("--out", default=None, metavar="DIR", help="folder for the results (required unless --list)")
    p.add_argument("--pairs", default=None, metavar="PATTERN",
                   help="space/task pairs to run, a pattern such as 'tnb101*' or nb201/cifar10 (default: all)")
    p.add_argument("--list", action="store_true", help="list the pairs and where their data comes from, and stop")
    p.add_argument("--data-root", default=None, metavar="DIR", help="benchmark data folder (default: $ZCNAS_DATA)")
    p.add_argument("--scores-dir", default=None, metavar="DIR",
                   help="folder of zcnas's own score stores (default: the repository's benchmarks_data/)")
    p.add_argument("--bootstrap", type=int, default=100, metavar="N",
                   help="bootstrap resamples for the 95%% intervals (default 100; 0 = none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--force", action="store_true", help="recompute every pair (ignore the cache)")
    p.add_argument("--no-report", action="store_true", help="skip report.html and the heat-map")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import pandas as pd

    from zcnas.errors import InputError
    from zcnas.suite import best_per_pair, run_suite, suite_pairs

    if args.list:
        rows = [{"pair": p.key, "truth": p.truth_metric, "truth_kind": p.truth_kind, "own_store": p.own_store or "",
                 "published": "; ".join(s.run_key for s in p.published) or "none", "note": p.note}
                for p in suite_pairs(args.pairs)]
        emit(pd.DataFrame(rows), args.format, title=f"{len(rows)} suite pairs")
        return 0
    if not args.out:
        raise InputError("zcnas suite needs --out DIR (the folder for suite.csv and the report), or --list.")
    res = run_suite(args.out, pairs=args.pairs, data_root=args.data_root, scores_dir=args.scores_dir,
                    bootstrap=args.bootstrap, seed=args.seed, force=args.force, report=not args.no_report,
                    progress=log.info)
    log.info("%d pairs (%d computed, %d from the cache) in %.1f s; results in %s", len(res.coverage),
             len(res.computed), len(res.cached), res.seconds, res.files["suite"].parent)
    emit(best_per_pair(res.results), args.format, title="best column per pair (Spearman)")
    return 0
