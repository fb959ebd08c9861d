"""``zcnas search``: zero-cost ranking, top k, confirmation by short training, final ranking."""

from __future__ import annotations

import logging

from zcnas.cli.options import (
    _nonneg_int,
    _pos_int,
    add_candidate_options,
    add_scoring_options,
    aggregate_from,
    candidates_from,
    proxies_from,
    scorer_from,
)
from zcnas.cli.output import add_format_option, emit
from zcnas.spaces import get_space

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "search", help="rank by zero-cost proxies, confirm the top k by short training",
        description="Score candidates with zero-cost proxies, rank them with a training-free aggregate "
                    "(or a surrogate), confirm the top k by short training (real, or a benchmark's 12-epoch "
                    "accuracy) and print the final ranking. With --store every stage is saved and the same "
                    "command resumes.")
    add_candidate_options(p)
    add_scoring_options(p)
    s = p.add_argument_group("precomputed scores (instead of scoring)")
    s.add_argument("--scores-store", default=None, help="read precomputed scores from this record store")
    s.add_argument("--scores-run-key", default=None, help="run key of the precomputed scores")
    s.add_argument("--scores-dataset", default=None, help="dataset of the precomputed scores")
    m = p.add_argument_group("surrogate (optional)")
    m.add_argument("--surrogate", default=None, help="saved surrogate model (zcnas surrogate fit --out)")
    m.add_argument("--records", default=None, help="record store or CSV to fit a surrogate on (with --target)")
    m.add_argument("--target", default=None, help="metric the surrogate predicts")
    c = p.add_argument_group("confirmation")
    c.add_argument("--k", type=_nonneg_int, default=10, help="how many top candidates to confirm (default 10)")
    c.add_argument("--confirm", choices=("benchmark", "train", "none"), default="benchmark",
                   help="benchmark: a tabular benchmark's short-schedule accuracy; train: real short training")
    c.add_argument("--truth", default=None, help="record store with imported truth (benchmark confirmation)")
    c.add_argument("--data-root", default=None, help="benchmark folder (default ZCNAS_DATA) when --truth is not given")
    c.add_argument("--metric", default=None,
                   help="benchmark metric that plays the short training (default: the space's, e.g. NB201 "
                        "c10_test_12ep)")
    c.add_argument("--outcome", default=None,
                   help="benchmark metric reported as the outcome (default: the space's, e.g. NB201 c10_test_200ep; "
                        "'' for none)")
    c.add_argument("--seconds-per-training", type=float, default=0.0,
                   help="nominal cost of one benchmark confirmation (for --budget-seconds)")
    c.add_argument("--epochs", type=_pos_int, default=12, help="epochs of real short training")
    c.add_argument("--train-dataset", default="cifar10", help="dataset of real short training")
    c.add_argument("--train-data-dir", default=None)
    c.add_argument("--train-device", default=None, help="cuda or cpu (default: cuda when present)")
    c.add_argument("--max-train-images", type=_pos_int, default=None)
    c.add_argument("--max-test-images", type=_pos_int, default=None)
    a = p.add_argument_group("active loop (optional)")
    a.add_argument("--active", action="store_true", help="refit a surrogate on confirmations and go on")
    a.add_argument("--batch", type=_pos_int, default=None, help="confirmations per round (default --k)")
    a.add_argument("--budget-trainings", type=_pos_int, default=None, help="total confirmations allowed")
    a.add_argument("--budget-seconds", type=float, default=None, help="total confirmation seconds allowed")
    p.add_argument("--store", default=None, help="HDF5 record store to save to and resume from")
    p.add_argument("--top", type=_nonneg_int, default=10, metavar="K", help="rows to print (0 = all)")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from zcnas.ranking import AggregateSelector, StoredScorer, SurrogateSelector, make_confirmer, search

    cands = candidates_from(args)
    if args.scores_store is not None:
        scorer = StoredScorer(args.scores_store, proxies_from(args), run_key=args.scores_run_key,
                              dataset=args.scores_dataset)
    else:
        scorer = scorer_from(args, progress=args.show_progress)
    aggregate = aggregate_from(args, len(scorer.proxies)) or "mean_log_rank"
    if args.surrogate is not None or args.records is not None:
        selector = SurrogateSelector(args.surrogate, records=args.records, target=args.target, aggregate=aggregate)
    else:
        selector = AggregateSelector(aggregate)
    train = {"dataset": args.train_dataset, "data_dir": args.train_data_dir, "epochs": args.epochs,
             "seed": args.seed, "device": args.train_device, "max_train_images": args.max_train_images,
             "max_test_images": args.max_test_images, "progress": args.show_progress}
    confirmer = make_confirmer(args.confirm, space=get_space(args.space).name, truth=args.truth,
                               data_root=args.data_root, metric=args.metric,
                               outcome="" if args.outcome is None else (args.outcome or None),
                               seconds_per_training=args.seconds_per_training, train=train)
    result = search(cands, scorer, selector, confirmer, k=args.k, active=args.active, batch=args.batch,
                    budget_trainings=args.budget_trainings, budget_seconds=args.budget_seconds, store=args.store)
    table = result.table if args.top == 0 else result.top(args.top)
    n_conf = int(result.table["confirmed"].sum())
    emit(table, args.format, title=f"top {len(table)} of {len(result.table)}, {n_conf} confirmed ({result.run_key})")
    if args.store:
        log.info("saved to %s (run %s)", args.store, result.run_key)
    return 0
