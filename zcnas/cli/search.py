"""``zcnas search``: zero-cost ranking, top k, confirmation by short training, final ranking."""

from __future__ import annotations

import logging

from zcnas.cli.output import add_format_option, emit
from zcnas.spaces import default_space

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "search", help="rank by zero-cost proxies, confirm the top k by short training",
        description="Score candidates with zero-cost proxies, rank them with a training-free aggregate "
                    "(or a surrogate), confirm the top k by short training (real, or a benchmark's 12-epoch "
                    "accuracy) and print the final ranking. With --store every stage is saved and the same "
                    "command resumes.")
    p.add_argument("--space", default=None, help=f"search space (default: {default_space()}; see `zcnas list spaces`)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--sample", type=int, metavar="N", help="N architectures drawn with --seed")
    g.add_argument("--all", action="store_true", help="every architecture of the space")
    g.add_argument("--archs", metavar="FILE", help="file of architecture strings (lines, JSON lines or CSV)")
    p.add_argument("--seed", type=int, default=0, help="seed for the sample, the batch, the init and training")
    s = p.add_argument_group("scores")
    s.add_argument("--proxies", default="synflow,jacob_cov,naswot", help="comma-separated proxies")
    s.add_argument("--aggregate", default="mean_log_rank", help="training-free aggregate of the proxies")
    s.add_argument("--dataset", default="digits", help="image source for data-dependent proxies")
    s.add_argument("--data-dir", default=None, help="folder (or .npz file) with the dataset's images")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--device", default="cpu", help="torch device for scoring")
    s.add_argument("--backend", default="local", choices=("local", "process", "ray"))
    s.add_argument("--workers", type=int, default=None)
    s.add_argument("--scores-store", default=None, help="read precomputed scores from this record store")
    s.add_argument("--scores-run-key", default=None, help="run key of the precomputed scores")
    s.add_argument("--scores-dataset", default=None, help="dataset of the precomputed scores")
    m = p.add_argument_group("surrogate (optional)")
    m.add_argument("--surrogate", default=None, help="saved surrogate model (zcnas surrogate fit --out)")
    m.add_argument("--records", default=None, help="record store or CSV to fit a surrogate on (with --target)")
    m.add_argument("--target", default=None, help="metric the surrogate predicts")
    c = p.add_argument_group("confirmation")
    c.add_argument("--k", type=int, default=10, help="how many top candidates to confirm (default 10)")
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
    c.add_argument("--epochs", type=int, default=12, help="epochs of real short training")
    c.add_argument("--train-dataset", default="cifar10", help="dataset of real short training")
    c.add_argument("--train-data-dir", default=None)
    c.add_argument("--train-device", default=None, help="cuda or cpu (default: cuda when present)")
    c.add_argument("--max-train-images", type=int, default=None)
    c.add_argument("--max-test-images", type=int, default=None)
    a = p.add_argument_group("active loop (optional)")
    a.add_argument("--active", action="store_true", help="refit a surrogate on confirmations and go on")
    a.add_argument("--batch", type=int, default=None, help="confirmations per round (default --k)")
    a.add_argument("--budget-trainings", type=int, default=None, help="total confirmations allowed")
    a.add_argument("--budget-seconds", type=float, default=None, help="total confirmation seconds allowed")
    p.add_argument("--store", default=None, help="HDF5 record store to save to and resume from")
    p.add_argument("--top", type=int, default=10, metavar="K", help="rows to print (0 = all)")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from zcnas.ranking.search import search

    result = search(args.space, sample=args.sample, all=args.all, archs_file=args.archs, seed=args.seed,
                    proxies=args.proxies, aggregate=args.aggregate, dataset=args.dataset, data_dir=args.data_dir,
                    batch_size=args.batch_size, device=args.device, backend=args.backend, workers=args.workers,
                    scores_store=args.scores_store, scores_run_key=args.scores_run_key,
                    scores_dataset=args.scores_dataset, surrogate=args.surrogate, records=args.records,
                    target=args.target, k=args.k, confirm=args.confirm, truth=args.truth, data_root=args.data_root,
                    metric=args.metric, outcome="" if args.outcome is None else (args.outcome or None),
                    seconds_per_training=args.seconds_per_training, epochs=args.epochs,
                    train_dataset=args.train_dataset, train_data_dir=args.train_data_dir,
                    train_device=args.train_device, max_train_images=args.max_train_images,
                    max_test_images=args.max_test_images, active=args.active, batch=args.batch,
                    budget_trainings=args.budget_trainings, budget_seconds=args.budget_seconds, store=args.store,
                    progress=not args.quiet)
    table = result.table if args.top == 0 else result.top(args.top)
    n_conf = int(result.table["confirmed"].sum())
    emit(table, args.format, title=f"top {len(table)} of {len(result.table)}, {n_conf} confirmed ({result.run_key})")
    if args.store:
        log.info("saved to %s (run %s)", args.store, result.run_key)
    return 0
