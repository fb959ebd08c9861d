"""Where the seconds of the four proxies zcnas shares with foresight go, on NB201 (one thread).

zcnas serves synflow, jacob_cov, grad_norm and snip with synflow's one-image float64 pass and one
train-mode forward of the batch followed by two backward passes (the input Jacobian, then the loss
gradients that grad_norm and snip share). This script measures, on the same architectures:

1. the seconds of each piece (network build, synflow, the shared pass, the three read-outs);
2. the operator profile of the shared pass (``torch.profiler``, self CPU time by kernel);
3. the shared pass under each memory format (channels_last, NCHW) with oneDNN on and off, the
   levers PyTorch gives on a CPU without changing the values' definition.

It prints tables and writes them to ``--out`` (``profile.md``, ``profile.json``)::

    ZCNAS_DATA=../shared/benchmarks OMP_NUM_THREADS=1 python experiments/shared_pass_profile.py --n 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10, help="random NB201 architectures (seeded)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--data-dir", default=None,
                    help="CIFAR-10 images (default $ZCNAS_DATA/images/cifar10-partial-real)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "shared_pass_profile"))
    args = ap.parse_args(argv)
    data_dir = args.data_dir or (str(Path(os.environ["ZCNAS_DATA"]) / "images/cifar10-partial-real")
                                 if os.environ.get("ZCNAS_DATA") else None)
    if data_dir is None:
        raise SystemExit("shared_pass_profile: give --data-dir or set ZCNAS_DATA to the shared benchmarks folder")

    import torch
    from torch.profiler import ProfilerActivity, profile

    from zcnas import get_space
    from zcnas.data import get_batch
    from zcnas.proxies.base import ProxyBatch, ProxyContext, get_proxy
    from zcnas.ranking.scoring import build_seeded

    torch.set_num_threads(1)
    archs = get_space("nb201").sample(args.n, args.seed)
    batch = ProxyBatch.from_any(get_batch("cifar10", data_dir, batch_size=args.batch_size, seed=0))

    def context(model, fmt="channels_last"):
        ctx = ProxyContext(model, batch, seed=0, memory_format=fmt)
        ctx.plan(["jacobian", "loss_gradients"])
        return ctx

    # 1. pieces
    pieces: dict[str, list[float]] = {k: [] for k in ("build", "synflow", "shared pass", "read-outs")}
    models = []
    for a in archs:
        t = time.perf_counter()
        m = build_seeded("nb201", a, 10, 0)
        pieces["build"].append(time.perf_counter() - t)
        models.append(m)
        ctx = context(m)
        t = time.perf_counter()
        get_proxy("synflow")(ctx)
        pieces["synflow"].append(time.perf_counter() - t)
        t = time.perf_counter()
        ctx.input_jacobian()
        pieces["shared pass"].append(time.perf_counter() - t)
        t = time.perf_counter()
        for p in ("jacob_cov", "grad_norm", "snip"):
            try:
                get_proxy(p)(ctx)
            except FloatingPointError:  # a cell with no path to the input: recorded as failed by the engine
                pass
        pieces["read-outs"].append(time.perf_counter() - t)
    piece_ms = {k: round(statistics.median(v) * 1000, 1) for k, v in pieces.items()}

    # 2. operator profile of the shared pass
    def shared_pass(fmt="channels_last"):
        for m in models:
            context(m, fmt).input_jacobian()

    shared_pass()  # warm up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        shared_pass()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    ops = [{"op": e.key, "share": round(e.self_cpu_time_total / total, 4), "calls": e.count}
           for e in events[:12]]

    # 3. memory format x oneDNN
    variants = []
    for fmt in ("channels_last", "contiguous"):
        for onednn in (True, False):
            torch.backends.mkldnn.enabled = onednn
            t = time.perf_counter()
            shared_pass(fmt)
            variants.append({"memory_format": fmt, "onednn": onednn,
                             "ms_per_arch": round((time.perf_counter() - t) / len(models) * 1000, 1)})
    torch.backends.mkldnn.enabled = True

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"n_archs": len(archs), "batch_size": args.batch_size, "torch": torch.__version__,
              "machine": platform.machine(), "cpu_count": os.cpu_count(), "threads": 1,
              "load_average": [round(x, 2) for x in os.getloadavg()],
              "median_ms": piece_ms, "ops": ops, "variants": variants}
    (out / "profile.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [f"# The shared pass of synflow, jacob_cov, grad_norm and snip on NB201 ({len(archs)} architectures)",
             "", f"{platform.machine()}, {os.cpu_count()} cores, 1 torch thread, batch {args.batch_size}, "
             f"torch {torch.__version__}, load average at the end {result['load_average']}.", "",
             "| piece | median ms per architecture |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in piece_ms.items()]
    lines += ["", "| kernel (shared pass) | share of self CPU time | calls |", "|---|---|---|"]
    lines += [f"| `{o['op']}` | {o['share']:.1%} | {o['calls']} |" for o in ops]
    lines += ["", "| memory format | oneDNN | shared pass, ms per architecture |", "|---|---|---|"]
    lines += [f"| {v['memory_format']} | {'on' if v['onednn'] else 'off'} | {v['ms_per_arch']} |" for v in variants]
    text = "\n".join(lines) + "\n"
    (out / "profile.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
