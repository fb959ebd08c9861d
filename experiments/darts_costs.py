"""Cost per network of the zero-cost proxies on the DARTS / NB301 network (32 channels, 8 cells), on
this machine's CPU with one torch thread.

Protocol: ``--n-archs`` architectures sampled with ``DartsSpace.sample(seed=--seed)``; one seeded batch
of real CIFAR-10 training images (``zcnas.data.get_batch``, ``--data-dir``) per batch size. For each
network, each proxy group is run on its own through ``zcnas.proxies.score_model`` (a fresh private
copy, so no pass is shared between groups) and timed as wall-clock seconds around the call; the AZ-NAS
components are one group (one shared pass). Data-dependent proxies are timed at every batch size;
data-free ones (their own Gaussian inputs, the batch is not used) once. The table gives the median and
max over the networks, and the build time of a network.

    ZCNAS_DATA=/work/shared/benchmarks OMP_NUM_THREADS=1 nice -n 10 \\
        .venv/bin/python -m experiments.darts_costs --out experiments/results/darts
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

DATA_DEPENDENT = (("synflow",), ("jacob_cov",), ("naswot",), ("grad_norm",), ("snip",))
DATA_FREE = (("meco",), ("meco_opt",), ("az_expressivity", "az_progressivity", "az_trainability"), ("te_lr",),
             ("l2_norm",), ("params",), ("flops",), ("zen",))


def measure(n_archs: int, batch_sizes: list[int], data_dir: str | None, seed: int) -> list[dict]:
    import torch

    from zcnas import get_space
    from zcnas.data import get_batch
    from zcnas.proxies import score_model

    torch.set_num_threads(1)
    space = get_space("darts")
    batches = {b: get_batch("cifar10", data_dir=data_dir, batch_size=b, seed=seed) for b in batch_sizes}
    rows = []
    for i, arch in enumerate(space.sample(n_archs, seed=seed)):
        t0 = time.perf_counter()
        model = space.build(arch)
        build_s = time.perf_counter() - t0
        rows.append({"arch": i, "group": "build", "batch_size": 0, "seconds": build_s, "status": "ok"})
        jobs = [(g, b) for b in batch_sizes for g in DATA_DEPENDENT] + [(g, 0) for g in DATA_FREE]
        for group, b in jobs:
            batch = batches[b] if b else None
            t0 = time.perf_counter()
            res = score_model(model, batch, list(group), seed=seed, input_shape=(3, 32, 32))
            secs = time.perf_counter() - t0
            bad = [f"{r.proxy}: {r.reason}" for r in res.values() if not r.ok]
            rows.append({"arch": i, "group": "+".join(group), "batch_size": b, "seconds": secs,
                         "status": "failed: " + "; ".join(bad) if bad else "ok"})
            print(f"arch {i} {'+'.join(group):<50} b={b:<3} {secs:7.2f} s {'' if not bad else bad}", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    keys = sorted({(r["group"], r["batch_size"]) for r in rows},
                  key=lambda k: (k[0] != "build", k[1] == 0, k[0], -k[1]))
    lines = ["| proxy (group) | batch | median s/net | max s/net | failures |", "|---|---|---|---|---|"]
    for g, b in keys:
        sel = [r for r in rows if r["group"] == g and r["batch_size"] == b]
        s = np.array([r["seconds"] for r in sel])
        fails = sum(r["status"] != "ok" for r in sel)
        lines.append(f"| {g} | {b or '-'} | {np.median(s):.2f} | {s.max():.2f} | {fails}/{len(sel)} |")
    for b in sorted({r["batch_size"] for r in rows if r["batch_size"]}, reverse=True):
        per = {}
        for r in rows:
            if r["batch_size"] in (b, 0):
                per.setdefault(r["arch"], 0.0)
                per[r["arch"]] += r["seconds"]
        lines.append(f"| **all of the above (build, core at batch {b}, data-free)** | {b} | "
                     f"{np.median(list(per.values())):.1f} | {max(per.values()):.1f} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-archs", type=int, default=3)
    ap.add_argument("--batch-sizes", default="64,32")
    ap.add_argument("--data-dir", default=None,
                    help="CIFAR-10 images (default: zcnas.data's search, $ZCNAS_DATA/images/cifar10-partial-real)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="folder for costs.json and costs.md (default: print only)")
    args = ap.parse_args(argv)
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    t0 = time.time()
    rows = measure(args.n_archs, sizes, args.data_dir, args.seed)
    md = table(rows)
    print(md)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "torch_threads": 1,
                "n_archs": args.n_archs, "batch_sizes": sizes, "seed": args.seed, "wall_s": time.time() - t0,
                "network": "DartsSpace.build defaults: NB301 network, 32 channels, 8 cells (NASLib construction)"}
        (out / "costs.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
        (out / "costs.md").write_text(
            f"# Proxy cost per DARTS/NB301 network (CPU, 1 torch thread)\n\n{json.dumps(meta)}\n\n"
            f"Shared machine (2 cores, several jobs): times are upper bounds of a quiet machine's.\n\n{md}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
