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
    lab = p.add_argument_group("few labelled architectures of the target task (see docs/suite.md)")
    lab.add_argument("--labelled", default=None, metavar="FILE",
                     help="CSV with an 'arch' column and an 'accuracy' column: a few architectures of the target task "
                          "with their measured accuracy; they choose how the candidates are ranked (proxies, signs "
                          "and graph features, or a surrogate; zcnas.transfer.AUTO_RULE)")
    lab.add_argument("--labelled-column", default=None, metavar="NAME",
                     help="accuracy column of --labelled (default: accuracy, acc, val_acc, test_acc, ...)")
    lab.add_argument("--labelled-method", default="auto",
                     help="how the labelled architectures choose the ranker: auto (the measured rule), declared, "
                          "best_single, top3, greedy, greedy_graf, surrogate, cv")
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
    selector = selector_from(args, len(scorer.proxies))
    if args.labelled:
        selector = _labelled_selector(args, scorer)
    constraints = Constraints(budgets=tuple(budgets), pareto=args.pareto, costs=args.costs,
                              cost_dataset=args.cost_dataset, data_root=args.data_root)
    log.info("ranking with %s (%s)", ",".join(scorer.proxies), getattr(selector, "method", None) or "single proxy")
    result = rank(cands, scorer, selector=selector, constraints=constraints, store=args.store)
    if args.labelled:
        log.info("labelled ranker: %s", selector.ranker_.describe())
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


def _labelled_selector(args, scorer):
    """A LabelledSelector fitted on --labelled (their proxy scores computed with the same scorer)."""
    from zcnas.ranking.labelled import LabelledSelector, read_labelled
    from zcnas.spaces import get_space

    space = get_space(args.space).name
    labelled = read_labelled(args.labelled, space, column=args.labelled_column)
    log.info("scoring the %d labelled architectures of %s", len(labelled), args.labelled)
    if args.store:
        from zcnas.records import RecordStore

        with RecordStore(args.store, mode="a") as st:
            lab_scores = scorer.score(list(labelled.index), st)
    else:
        lab_scores = scorer.score(list(labelled.index))
    return LabelledSelector(labelled, space=space, labelled_scores=lab_scores, method=args.labelled_method,
                            random_state=args.seed)
