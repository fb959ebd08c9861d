"""Batch size of the Gaussian-input proxies (zen and the AZ-NAS components): how far below the
authors' 64 the batch can go before the ranking moves, and what each batch costs per network.

For every architecture of a seeded sample (TNB101: the first ``--n`` of ``tnb101_score``'s visiting
order, so the architectures and their initialisation are the ones the committed scores used; NB201:
``space.sample(n, seed)``), the network is built once under its per-architecture seed and each
proxy is computed at every batch size in ``--batches`` on a fresh private copy (same seeded
Gaussian generator, so a smaller batch is a different draw, not a prefix). Reported per space, proxy
and batch: the median seconds per network (this CPU, one thread), the Spearman with the largest
batch on the same architectures, and the Spearman with the ground truth (and, for zen on TNB101,
with NAS-Bench-Suite-Zero's published zen). The AZ-NAS aggregate (``az_nas`` set: mean log-rank of
the three components and FLOPs) is reported as well. Rows are appended to ``raw.csv`` per
architecture, so an interrupted run resumes where it stopped.

    OMP_NUM_THREADS=1 ZCNAS_DATA=../shared/benchmarks python -m experiments.gaussian_batch_size \\
        --pairs tnb101_micro:class_scene,tnb101_macro:class_scene,nb201:cifar10 --n 20 \\
        --out experiments/results/gaussian_batch_size
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import time
from pathlib import Path

log = logging.getLogger("zcnas.experiments")
AZ = ("az_expressivity", "az_progressivity", "az_trainability")
FIELDS = ("space", "task", "arch", "batch", "proxy", "value", "seconds")


def sample_archs(sp, task: str, n: int, seed: int) -> list[str]:
    """The architectures to study: TNB101's scoring order (its first ``n``), else a seeded sample."""
    import numpy as np

    if sp.name.startswith("tnb101"):
        archs = [sp.format(a) for a in sp.enumerate()]
        order = np.random.default_rng(seed).permutation(len(archs))
        return [archs[int(i)] for i in order[:n]]
    return [sp.format(a) for a in sp.sample(n, seed)]


def build(sp, arch: str, task: str, seed: int):
    import torch

    from experiments.tnb101_score import arch_seed

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(arch_seed(seed, arch))
        if sp.name.startswith("tnb101"):
            return sp.build(arch, task=task)
        return sp.build(arch)


def _failed_as_nan(fn, *args, **kwargs):
    """The proxy's value, or NaN where it fails (as the engine records a failure: e.g. a cell whose
    every path is cut has a constant output, with no gradient for AZ-NAS's trainability)."""
    try:
        return fn(*args, **kwargs)
    except (RuntimeError, ValueError) as err:
        log.info("failed: %s", str(err).splitlines()[0])
        return float("nan")


def measure(sp, task: str, arch: str, batches: list[int], seed: int, which=("zen", "az")) -> list[dict]:
    """One architecture: zen and the AZ-NAS components at every batch size, and its FLOPs."""
    from zcnas.proxies import score_model
    from zcnas.proxies.base import ProxyBatch, ProxyContext
    from zcnas.proxies.family import _az_pass, zen

    model = build(sp, arch, task, seed)
    shape = sp.input_shape(task) if sp.name.startswith("tnb101") else (3, 32, 32)
    rows = []
    flops = score_model(model, None, ["flops"], input_shape=shape, seed=seed)["flops"]
    rows.append({"proxy": "flops", "batch": 0, "value": flops.value, "seconds": flops.seconds})
    for b in batches:
        if "zen" in which:
            ctx = ProxyContext(model, ProxyBatch.from_any(None), seed=seed, input_shape=shape)
            t = time.perf_counter()
            v = _failed_as_nan(zen, ctx, batch_size=b)
            rows.append({"proxy": "zen", "batch": b, "value": v, "seconds": time.perf_counter() - t})
        if "az" not in which:
            continue
        ctx = ProxyContext(model, ProxyBatch.from_any(None), seed=seed, input_shape=shape)
        t = time.perf_counter()
        az = _failed_as_nan(_az_pass, ctx, batch_size=b)
        dt = time.perf_counter() - t
        rows += [{"proxy": p, "batch": b, "value": az[p[3:]] if isinstance(az, dict) else az, "seconds": dt}
                 for p in AZ]
    return [{"space": sp.name, "task": task, "arch": arch, **r} for r in rows]


def summarise(raw, out: Path) -> str:
    import numpy as np
    import pandas as pd

    from zcnas.aggregate import aggregate
    from zcnas.metrics import spearman
    from zcnas.suite import load_pair

    lines = ["# Batch size of the Gaussian-input proxies", "",
             "Spearman of each batch size with the largest on the same architectures, with the truth "
             "(TNB101: the task's metric as stored, higher is better; NB201: CIFAR-10 test accuracy "
             "after 200 epochs) and, for zen on TNB101, with NAS-Bench-Suite-Zero's published zen. "
             "Seconds: median per network on this CPU, one thread (the AZ-NAS components share one "
             "pass, so their cost is that pass). `az_nas`: mean log-rank of the three components "
             "and FLOPs.", "",
             "| space | task | n | proxy | batch | s/net (median) | ρ with largest batch | ρ with truth "
             "| ρ with published |", "|---|---|---|---|---|---|---|---|---|"]
    for (space, task), g in raw.groupby(["space", "task"], sort=False):
        pair = load_pair(space, task)
        truth = pair.truth
        pub = pair.scores["published:zen"] if "published:zen" in pair.scores else None
        wide = g.pivot_table(index="arch", columns=["proxy", "batch"], values="value", aggfunc="first")
        secs = g.groupby(["proxy", "batch"])["seconds"].median()
        batches = sorted({b for _p, b in wide.columns if b > 0}, reverse=True)
        n = len(wide)
        t = truth.reindex(wide.index).to_numpy(dtype=float)
        for proxy in ("zen", *AZ, "az_nas"):
            if (AZ[0] if proxy in (*AZ, "az_nas") else proxy) not in {p for p, _b in wide.columns}:
                continue
            for b in batches:
                if proxy == "az_nas":
                    cols = pd.DataFrame({p: wide[(p, b)] for p in AZ} | {"flops": wide[("flops", 0)]})
                    v = aggregate(cols, None, {c: True for c in cols}).to_numpy()
                    ref_cols = pd.DataFrame({p: wide[(p, batches[0])] for p in AZ} | {"flops": wide[("flops", 0)]})
                    ref = aggregate(ref_cols, None, {c: True for c in ref_cols}).to_numpy()
                    sec = secs[(AZ[0], b)]
                else:
                    v, ref, sec = wide[(proxy, b)].to_numpy(), wide[(proxy, batches[0])].to_numpy(), secs[(proxy, b)]
                ok = np.isfinite(v) & np.isfinite(ref)
                r_ref = spearman(v[ok], ref[ok]) if b != batches[0] else 1.0
                okt = np.isfinite(v) & np.isfinite(t)
                r_t = spearman(v[okt], t[okt])
                r_p = ""
                if proxy == "zen" and pub is not None:
                    p = pub.reindex(wide.index).to_numpy(dtype=float)
                    okp = np.isfinite(v) & np.isfinite(p)
                    r_p = f"{spearman(v[okp], p[okp]):.3f} (n={int(okp.sum())})"
                lines.append(f"| {space} | {task} | {n} | {proxy} | {b} | {sec:.2f} | {r_ref:.3f} | {r_t:.3f} "
                             f"| {r_p} |")
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", default="tnb101_micro:class_scene,tnb101_macro:class_scene,nb201:cifar10",
                    help="comma-separated space:task pairs")
    ap.add_argument("--n", type=int, default=20, help="architectures per pair")
    ap.add_argument("--batches", default="64,16,8,4", help="batch sizes, the largest is the reference")
    ap.add_argument("--proxies", default="zen,az", help="zen, az (the AZ-NAS components) or both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="experiments/results/gaussian_batch_size")
    ap.add_argument("--summary-only", action="store_true", help="summarise raw.csv without scoring")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import pandas as pd
    import torch

    from zcnas import get_space

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw_path = out / "raw.csv"
    batches = sorted({int(b) for b in args.batches.split(",")}, reverse=True)
    done = set()
    if raw_path.exists():
        prev = pd.read_csv(raw_path)
        done = set(zip(prev["space"], prev["task"], prev["arch"]))
    if not args.summary_only:
        new_file = not raw_path.exists()
        with open(raw_path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=FIELDS)
            if new_file:
                w.writeheader()
            for pair in args.pairs.split(","):
                space, task = pair.split(":")
                sp = get_space(space)
                for i, arch in enumerate(sample_archs(sp, task, args.n, args.seed)):
                    if (sp.name, task, arch) in done:
                        continue
                    rows = measure(sp, task, arch, batches, args.seed, args.proxies.split(","))
                    w.writerows(rows)
                    fh.flush()
                    os.fsync(fh.fileno())
                    log.info("%s %s %d/%d %s: %s", space, task, i + 1, args.n, arch,
                             " ".join(f"{r['proxy'][:6]}@{r['batch']}={r['seconds']:.1f}s" for r in rows
                                      if r["proxy"] in ("zen", AZ[0])))
    print(summarise(pd.read_csv(raw_path), out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
