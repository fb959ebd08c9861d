"""``zcnas rank``: score candidates with zero-cost proxies and print the top K."""

from __future__ import annotations

import logging

from zcnas.cli.output import add_format_option, emit
from zcnas.spaces import default_space

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "rank", help="rank architectures by zero-cost proxies",
        description="Score candidate architectures at initialisation and rank them. Results are saved "
                    "to --store as they are computed; the same command resumes an interrupted run.")
    p.add_argument("--space", default=None, help=f"search space (default: {default_space()}; see `zcnas list spaces`)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--sample", type=int, metavar="N", help="N architectures drawn with --seed")
    g.add_argument("--all", action="store_true", help="every architecture of the space")
    g.add_argument("--archs", metavar="FILE", help="file of architecture strings (lines, JSON lines or CSV)")
    p.add_argument("--proxies", default="synflow,jacob_cov,naswot",
                   help="comma-separated proxies (see `zcnas list proxies`)")
    p.add_argument("--aggregate", default=None,
                   help="how several proxies combine (default mean_log_rank; see `zcnas list aggregates`)")
    p.add_argument("--dataset", default="digits",
                   help="image source for data-dependent proxies: digits (built in), cifar10, cifar100, npz")
    p.add_argument("--data-dir", default=None, help="folder (or .npz file) with the dataset's images")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--sampling", choices=("random", "balanced"), default="random")
    p.add_argument("--seed", type=int, default=0, help="seed for the sample, the batch and the init")
    p.add_argument("--store", default=None, help="HDF5 record store to save to and resume from")
    p.add_argument("--dedupe", action="store_true",
                   help="score one architecture per function class and copy the scores to its members")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--memory-format", default="channels_last", choices=("channels_last", "contiguous"),
                   help="tensor layout while scoring: channels_last (NHWC, about 2x faster on CPU) or "
                        "contiguous (NCHW, the reference layout; values differ only by float32 rounding)")
    p.add_argument("--backend", default="local", choices=("local", "process", "ray"),
                   help="where scoring runs: this process, local worker processes, or a Ray cluster")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: RAY_ADDRESS or local)")
    p.add_argument("--top", type=int, default=10, metavar="K", help="rows to print (0 = all)")
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
    from zcnas.ranking import rank

    budgets = parse_budgets(args.max, "max") + parse_budgets(args.min, "min")  # bad text fails before scoring
    result = rank(args.space, proxies=args.proxies, sample=args.sample, all=args.all,
                  archs_file=args.archs, dataset=args.dataset, data_dir=args.data_dir,
                  batch_size=args.batch_size, seed=args.seed, sampling=args.sampling, store=args.store,
                  aggregate=args.aggregate, dedupe=args.dedupe, device=args.device,
                  memory_format=args.memory_format,
                  progress=not args.quiet, backend=args.backend, workers=args.workers,
                  ray_address=args.ray_address, budgets=budgets, pareto=args.pareto, costs=args.costs,
                  cost_dataset=args.cost_dataset, data_root=args.data_root)
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
