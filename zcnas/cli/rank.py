"""``zcnas rank``: score candidates with zero-cost proxies and print the top K."""

from __future__ import annotations

import logging

from zcnas.cli.options import (
    _nonneg_int,
    add_candidate_options,
    add_scoring_options,
    candidates_from,
    scorer_from,
    selector_from,
)
from zcnas.cli.output import add_format_option, emit

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "rank", help="rank architectures by zero-cost proxies",
        description="Score candidate architectures at initialisation and rank them. Results are saved "
                    "to --store as they are computed; the same command resumes an interrupted run.")
    add_candidate_options(p)
    add_scoring_options(p)
    p.add_argument("--store", default=None, help="HDF5 record store to save to and resume from")
    p.add_argument("--top", type=_nonneg_int, default=10, metavar="K", help="rows to print (0 = all)")
    h = p.add_argument_group("hardware budgets and Pareto fronts (see zcnas.constraints)")
    h.add_argument("--max", action="append", default=[], metavar="COST=VALUE",
                   help="keep candidates with COST <= VALUE, e.g. latency:pixel3=5ms, params=0.5M, flops=100M, "
                        "energy:edgegpu=20mJ (units us ms s K M G uJ mJ J; repeatable)")
    h.add_argument("--min", action="append", default=[], metavar="COST=VALUE",
                   help="keep candidates with COST >= VALUE (repeatable)")
    h.add_argument("--pareto", default=None, metavar="COST",
                   help="print the Pareto front of (score, COST) among the feasible candidates and its hypervolume")
    h.add_argument("--costs", default=None, metavar="FILE",
                   help="record store or CSV with cost columns (default: --store's truth rows, then HW-NAS-Bench)")
    h.add_argument("--cost-dataset", default="cifar10",
                   help="dataset of the HW-NAS-Bench costs: cifar10, cifar100, ImageNet16-120 (default cifar10)")
    h.add_argument("--data-root", default=None, metavar="DIR", help="benchmark data folder (default: $ZCNAS_DATA)")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from zcnas.constraints import parse_budgets
    from zcnas.ranking import Constraints, rank

    budgets = parse_budgets(args.max, "max") + parse_budgets(args.min, "min")  # bad text fails before scoring
    cands = candidates_from(args)
    scorer = scorer_from(args, progress=args.show_progress)
    constraints = Constraints(budgets=tuple(budgets), pareto=args.pareto, costs=args.costs,
                              cost_dataset=args.cost_dataset, data_root=args.data_root)
    log.info("ranking with %s (%s)", ",".join(scorer.proxies), selector_from(args, len(scorer.proxies)).method or
             "single proxy")
    result = rank(cands, scorer, selector=selector_from(args, len(scorer.proxies)), constraints=constraints,
                  store=args.store)
    failed = result.scores[result.scores["status"] != "ok"]
    if len(failed):
        log.warning("%d of %d proxy scores failed (see the store's reason column); those rank last.",
                    len(failed), len(result.scores))
    if budgets:
        log.info("%d of %d candidates within %s", len(result.table), result.n_candidates,
                 " and ".join(map(str, budgets)))
    if args.pareto:
        emit(result.front, args.format, title=f"Pareto front of score vs {args.pareto}: {len(result.front)} of "
                                              f"{len(result.table)}, hypervolume {result.hypervolume:.4f}")
        return 0
    table = result.table if args.top == 0 else result.top(args.top)
    emit(table, args.format, title=f"top {len(table)} of {len(result.table)} ({result.run_key})")
    if args.store:
        log.info("saved to %s (run %s)", args.store, result.run_key)
    return 0
