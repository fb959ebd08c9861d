"""``zcnas latency``: measure forward-pass latency of architectures on this machine's device."""

from __future__ import annotations

import logging

from zcnas.cli.output import add_format_option, emit
from zcnas.spaces import default_space

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "latency", help="measure forward-pass latency on this machine",
        description="Time the forward pass of architectures (batch --batch-size of zeros, warm-up then timed "
                    "repeats under torch.inference_mode; CUDA events on GPUs) and print median, IQR and "
                    "10th/90th percentiles in ms. With --store the rows go to its 'latency' table, where "
                    "budgets such as `zcnas rank --max latency:LABEL=5ms --costs STORE` find them. "
                    "On a shared machine timings are noisy: compare medians, and use --threads.")
    p.add_argument("--space", default=None, help=f"search space (default: {default_space()}; see `zcnas list spaces`)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--sample", type=int, metavar="N", help="N architectures drawn with --seed")
    g.add_argument("--archs", metavar="FILE", help="file of architecture strings (lines, JSON lines or CSV)")
    g.add_argument("--arch", action="append", metavar="STRING", help="one architecture string (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and of the weights")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    p.add_argument("--label", default=None,
                   help="name of the device in records and budgets (default: the device type, e.g. cpu)")
    p.add_argument("--batch-size", type=int, default=1, help="images per forward pass (default 1)")
    p.add_argument("--image-size", type=int, default=32, help="input height and width (default 32)")
    p.add_argument("--num-classes", type=int, default=10)
    p.add_argument("--warmup", type=int, default=10, help="untimed passes first (default 10)")
    p.add_argument("--repeats", type=int, default=50, help="timed passes (default 50)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads while timing (default: as is)")
    p.add_argument("--store", default=None, help="record store to append the rows to")
    add_format_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from zcnas.hardware import measure_archs
    from zcnas.ranking.candidates import candidates

    archs = candidates(args.space, sample=args.sample, archs=args.arch, archs_file=args.archs, seed=args.seed)
    kw = dict(space=args.space, label=args.label, input_shape=(args.batch_size, 3, args.image_size, args.image_size),
              device=args.device, warmup=args.warmup, repeats=args.repeats, threads=args.threads,
              num_classes=args.num_classes, seed=args.seed, progress=args.show_progress)
    if args.store:
        from zcnas.records import RecordStore

        with RecordStore(args.store, mode="a") as st:
            rows = measure_archs(archs, store=st, **kw)
        log.info("saved %d rows to %s (table 'latency')", len(rows), args.store)
    else:
        rows = measure_archs(archs, **kw)
    cols = ["arch", "label", "median_ms", "iqr_ms", "p10_ms", "p90_ms", "threads", "repeats"]
    emit(rows[cols], args.format, title=f"latency on {rows['device'].iloc[0]} ({rows['run_key'].iloc[0]})")
    return 0
