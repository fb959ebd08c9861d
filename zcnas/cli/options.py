"""Option groups shared by the commands that take candidates and score them (``rank``, ``search``,
``prefilter``, ``latency``): one definition of each flag, and the functions that turn parsed
arguments into the library's objects (:class:`~zcnas.ranking.Candidates`,
:class:`~zcnas.ranking.ScoringConfig`, :class:`~zcnas.ranking.ProxyScorer`,
:class:`~zcnas.ranking.AggregateSelector`)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from zcnas.errors import InputError
from zcnas.spaces import default_space, get_space

log = logging.getLogger("zcnas")


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {v}")
    return v


def _pos_int(text: str) -> int:
    v = _nonneg_int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {v}")
    return v


def add_space_option(p: argparse.ArgumentParser, help_text: str = "search space") -> None:
    p.add_argument("--space", default=None, help=f"{help_text} (default: {default_space()}; `zcnas list spaces`)")


def add_candidate_options(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    """--space, one of --sample/--all/--archs, and --seed."""
    add_space_option(p)
    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument("--sample", type=_pos_int, metavar="N", help="N architectures drawn with --seed")
    g.add_argument("--all", action="store_true", help="every architecture of the space (enumerable spaces)")
    g.add_argument("--archs", metavar="FILE", help="file of architecture strings (lines, JSON lines or CSV)")
    p.add_argument("--seed", type=_nonneg_int, default=0,
                   help="seed for the sample, the image batch and each network's initialisation")


def add_scoring_options(p: argparse.ArgumentParser, *, seed: bool = False) -> None:
    """Proxies, aggregate, images, batch, device, layout, dedupe and backend."""
    g = p.add_argument_group("scoring")
    g.add_argument("--proxies", default=None,
                   help="comma-separated proxies or named sets (@core, @az_nas, @zcnas_nb201); default: the "
                        "space's best measured ranker (`zcnas list spaces`; NB201: @zcnas_nb201, Spearman 0.957 "
                        "on all 15,625, 0.940 on held-out function classes)")
    g.add_argument("--budget", type=float, default=None, metavar="SECONDS_PER_ARCH",
                   help="instead of --proxies: the best measured ranker of the space costing at most this many "
                        "seconds per architecture on a 2-core CPU, one thread (zcnas/budget_table.csv, "
                        "experiments/cost_quality.py); says which it chose")
    g.add_argument("--aggregate", default=None,
                   help="how several proxies combine (default: the space's, mean_log_rank; `zcnas list aggregates`)")
    g.add_argument("--dataset", default="digits",
                   help="images for data-dependent proxies: cifar10, cifar100, npz, or digits (built in, for "
                        "demos; `zcnas list datasets`)")
    g.add_argument("--data-dir", default=None, help="folder (or .npz file) with the dataset's images")
    g.add_argument("--download", action="store_true",
                   help="fetch CIFAR-10/100 from the official URL (md5-checked) into --data-dir (default "
                        "~/.cache/zcnas/datasets) when it is not there")
    g.add_argument("--task", default=None,
                   help="task of a multi-task space (TNB101: class_scene, class_object, jigsaw, room_layout, "
                        "segmentsemantic, normal, autoencoder): picks the network's head and input shape")
    g.add_argument("--batch-size", type=_pos_int, default=64)
    g.add_argument("--sampling", choices=("random", "balanced"), default="random",
                   help="how the image batch is drawn (balanced: equal images per class)")
    g.add_argument("--device", default="cpu", help="torch device: cpu, cuda or cuda:<i>")
    g.add_argument("--memory-format", default="channels_last", choices=("channels_last", "contiguous"),
                   help="tensor layout while scoring: channels_last (NHWC, faster on CPU) or contiguous (NCHW)")
    g.add_argument("--dedupe", action="store_true",
                   help="score one architecture per function class and copy its scores to the other members")
    g.add_argument("--backend", default="local", choices=("local", "process", "ray"),
                   help="where networks are scored: this process, worker processes, or a Ray cluster")
    g.add_argument("--workers", type=_pos_int, default=None,
                   help="worker processes (--backend process/ray; default: the CPU count)")
    g.add_argument("--ray-address", default=None, help="Ray cluster address (--backend ray)")
    if seed:
        g.add_argument("--seed", type=_nonneg_int, default=0, help="seed for the image batch and the initialisation")


def candidates_from(args: argparse.Namespace) -> Any:
    from zcnas.ranking import Candidates

    return Candidates(space=args.space, sample=args.sample, all=args.all, file=args.archs, seed=args.seed)


def _check_device(device: str) -> str:
    import torch


    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"--device must be cpu, cuda or cuda:<i>; got {device!r}.") from None
    if dev.type not in ("cpu", "cuda"):
        raise InputError(f"--device must be cpu, cuda or cuda:<i>; got {device!r}.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {device} was asked for but CUDA is not available here; use --device cpu.")
    return device


def config_from(args: argparse.Namespace) -> Any:
    from zcnas.ranking import ScoringConfig

    task = getattr(args, "task", None)
    space = get_space(args.space)
    if task is not None and task not in space.tasks:
        from zcnas.errors import UnknownNameError

        raise UnknownNameError(f"{space.name} task", task, space.tasks or ("(none: the space has no tasks)",))
    if task is None and space.tasks:
        task = space.default_dataset
    return ScoringConfig(space=args.space or "", dataset=args.dataset,
                         build_options={"task": task} if task else {},
                         input_shape=space.input_shape(task) if task else None,
                         data_dir=str(args.data_dir) if args.data_dir else None, batch_size=args.batch_size,
                         seed=args.seed, sampling=args.sampling, dedupe=args.dedupe,
                         device=_check_device(args.device), memory_format=args.memory_format,
                         download=args.download)


def budget_ranker_from(args: argparse.Namespace) -> Any:
    """The ranker ``--budget`` chooses (None without --budget); announced once on stderr."""
    budget = getattr(args, "budget", None)
    if budget is None:
        return None
    if args.proxies is not None:
        raise InputError("Give --proxies or --budget, not both: --budget chooses the proxies.")
    chosen = getattr(args, "_budget_ranker", None)
    if chosen is None:
        from zcnas.budget import ranker_within

        chosen = ranker_within(args.space, budget, task=getattr(args, "task", None))
        args._budget_ranker = chosen
        logging.getLogger("zcnas").warning("--budget %g s/arch: %s", budget, chosen.describe())
    return chosen


def proxies_from(args: argparse.Namespace) -> str:
    chosen = budget_ranker_from(args)
    if chosen is not None:
        return ",".join(chosen.proxies)
    if args.proxies is not None:
        return args.proxies
    return get_space(args.space).default_ranker(getattr(args, "task", None))


def scorer_from(args: argparse.Namespace, *, progress: bool) -> Any:
    from zcnas.ranking import ProxyScorer

    return ProxyScorer(proxies_from(args), config_from(args), backend=args.backend, workers=args.workers,
                       address=args.ray_address, progress=progress)


def aggregate_from(args: argparse.Namespace, n_proxies: int) -> str | None:
    if args.aggregate is not None:
        return args.aggregate
    chosen = budget_ranker_from(args)
    if chosen is not None and n_proxies > 1:
        return chosen.aggregate or "mean_log_rank"
    if n_proxies <= 1:
        return None
    return get_space(args.space).default_aggregate or "mean_log_rank"


def selector_from(args: argparse.Namespace, n_proxies: int) -> Any:
    from zcnas.ranking import AggregateSelector

    return AggregateSelector(aggregate_from(args, n_proxies))
