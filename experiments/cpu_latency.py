"""Measured CPU latency of sampled NB201 networks on this machine: spread across repeats, and how
latency ranks against FLOPs (and against HW-NAS-Bench's device latencies when ZCNAS_DATA is set).

Each network (CIFAR-10 head, PyTorch default init from seed 0) is timed with
:func:`zcnas.hardware.measure_latency`: batch 1, 3x32x32 zeros, ``--warmup`` untimed and ``--repeats``
timed forward passes under ``torch.inference_mode()``, ``--threads`` torch threads. The process
lowers its own priority (``os.nice``) so that it disturbs other jobs less; on a shared, busy machine
the timings are noisy, so the summary reports medians and inter-quartile ranges (IQR) and the
relative spread IQR / median, never the mean alone. FLOPs come from zcnas's ``flops`` proxy
(FlopCounterMode; a multiply-add counts 2).

    PYTHONPATH=. ZCNAS_DATA=/work/shared/benchmarks python experiments/cpu_latency.py
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path

log = logging.getLogger("zcnas.experiments")
OUT = Path(__file__).resolve().parent / "results" / "hardware_budget"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="architectures (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="sample seed")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--nice", type=int, default=15, help="increment of this process's niceness (default 15)")
    ap.add_argument("--store", default=None, help="record store to append the latency rows to")
    ap.add_argument("--data-root", default=None, help="benchmark folder for HW-NAS-Bench (default $ZCNAS_DATA)")
    ap.add_argument("--out", default=str(OUT), help="results folder")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.nice:
        os.nice(args.nice)

    import torch
    from scipy import stats

    from zcnas import get_space
    from zcnas.hardware import measure_archs
    from zcnas.proxies import score_model
    from zcnas.ranking import build_seeded

    torch.set_num_threads(args.threads)
    space = get_space("nb201")
    archs = [space.format(a) for a in space.sample(args.n, seed=args.seed)]
    t0 = time.time()
    if args.store:
        from zcnas.records import RecordStore

        with RecordStore(args.store, "a") as st:
            lat = measure_archs(archs, label="cpu", warmup=args.warmup, repeats=args.repeats,
                                threads=args.threads, store=st, progress=True)
    else:
        lat = measure_archs(archs, label="cpu", warmup=args.warmup, repeats=args.repeats,
                            threads=args.threads, progress=True)
    secs = time.time() - t0
    flops, params = [], []
    for a in archs:
        r = score_model(build_seeded("nb201", a, 10, 0), None, ["flops", "params"], input_shape=(3, 32, 32),
                        raise_errors=True)
        flops.append(r["flops"].value)
        params.append(r["params"].value)
    df = lat[["arch", "median_ms", "iqr_ms", "p10_ms", "p90_ms", "min_ms"]].copy()
    df["rel_spread"] = df["iqr_ms"] / df["median_ms"]
    df["flops_M"] = flops
    df["params_M"] = params
    corr = {"flops_M": stats.spearmanr(df["median_ms"], df["flops_M"])[0],
            "params_M": stats.spearmanr(df["median_ms"], df["params_M"])[0]}
    hw_note = "HW-NAS-Bench: not compared (no ZCNAS_DATA / --data-root)."
    try:
        from zcnas.constraints import load_costs

        hw = load_costs(archs, [f"latency:{d}" for d in ("edgegpu", "raspi4", "pixel3", "fpga")],
                        data_root=args.data_root)
        df = df.join(hw, on="arch")
        for c in hw.columns:
            ok = df[c].notna()
            corr[c] = stats.spearmanr(df.loc[ok, "median_ms"], df.loc[ok, c])[0]
        hw_note = "HW-NAS-Bench (CIFAR-10 networks): compared."
    except Exception as exc:  # noqa: BLE001 - the comparison is optional; say why it was skipped
        hw_note = f"HW-NAS-Bench: not compared ({exc})."
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "cpu_latency.csv", index=False)
    load = os.getloadavg()
    meta = {"host": platform.node(), "cpus": os.cpu_count(), "load_avg_1_5_15": load, "threads": args.threads,
            "warmup": args.warmup, "repeats": args.repeats, "n": args.n, "seed": args.seed,
            "torch": torch.__version__, "seconds": round(secs, 1), "spearman_median_latency_vs": corr}
    (out / "cpu_latency.json").write_text(json.dumps(meta, indent=2, default=float))
    lines = ["# Measured CPU latency of 20 NB201 networks (this machine)", "",
             f"Host `{platform.node()}`, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} thread(s), "
             f"batch 1, 3x32x32, {args.warmup} warm-up + {args.repeats} timed passes each, run at niceness "
             f"+{args.nice}. **The machine was shared and busy** (load average {load[0]:.1f} / {load[1]:.1f} / "
             f"{load[2]:.1f} on {os.cpu_count()} cores at the end): absolute numbers are inflated and noisy; "
             "medians and IQRs are reported.", "",
             f"- Median latency over the {args.n} networks: {df['median_ms'].median():.2f} ms "
             f"(range {df['median_ms'].min():.2f} - {df['median_ms'].max():.2f} ms)",
             f"- Spread across repeats, IQR / median: median {df['rel_spread'].median():.3f}, "
             f"max {df['rel_spread'].max():.3f}; p90/p10 ratio median "
             f"{(df['p90_ms'] / df['p10_ms']).median():.2f}",
             f"- Spearman of median latency with FLOPs: {corr['flops_M']:.3f}; with params: {corr['params_M']:.3f}"]
    for c in [k for k in corr if k.startswith("hw_")]:
        lines.append(f"- Spearman with HW-NAS-Bench `{c}`: {corr[c]:.3f}")
    lines += [f"- {hw_note}", "", "| arch | median ms | IQR ms | IQR/median | FLOPs (M) |", "|---|---:|---:|---:|---:|"]
    for r in df.sort_values("median_ms").itertuples():
        lines.append(f"| `{r.arch}` | {r.median_ms:.2f} | {r.iqr_ms:.2f} | {r.rel_spread:.3f} | {r.flops_M:.1f} |")
    (out / "cpu_latency.md").write_text("\n".join(lines) + "\n")
    log.info("\n".join(lines[:12]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
