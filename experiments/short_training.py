"""Confirmation by real short training: does a few-epoch run of the NB201 recipe on real CIFAR-10
images rank architectures like NB201's own 12-epoch CIFAR-10 accuracy?

Picks ``--n-archs`` NB201 architectures spanning the accuracy range (evenly spaced in the 12-epoch
``cifar10-test`` accuracy of the mini-bench table, ``--spread value``; or one per quantile bin,
``--spread quantile``), trains each with
:func:`zcnas.ranking.train.train_architecture`, and reports per-architecture accuracy, seconds and
the Spearman / Kendall correlation with the 12-epoch accuracy. Writes ``results.csv`` (rows are
written as each architecture finishes, so an interrupted run can ``--resume``) and ``results.md``
to ``--out``, and prints the table.

    ZCNAS_DATA=../shared/benchmarks PYTHONPATH=. nice python experiments/short_training.py \
        --epochs 3 --max-train-images 1024 --max-test-images 500 --batch-size 64
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

TABLE = "nb201/nb201-mini-12epoch/mini-bench-arch-cell-accs.csv"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "short_training"
FIELDS = ["bin", "arch", "nb201_12ep_acc", "short_acc", "epoch_acc", "seconds", "device", "epochs",
          "n_train", "n_test", "batch_size", "lr", "seed", "max_train_images",
          "max_test_images"]


def pick_architectures(table: Path, n: int, seed: int, column: str = "cifar10-test",
                       spread: str = "value") -> list[tuple[str, float]]:
    """``n`` seeded picks spanning the accuracy range of ``column``.

    ``spread="value"``: targets evenly spaced in accuracy from the 3rd to the 99th percentile of
    the trainable networks (12-epoch accuracy above chance, 10 %), one seeded random pick among
    the 20 networks nearest each target. ``spread="quantile"``: one seeded random pick from each
    of ``n`` equal-count quantile bins of all 15,625 (crowded at the top of the range, where
    12-epoch accuracies differ by fractions of a point)."""
    import pandas as pd

    df = pd.read_csv(table, usecols=["cellstr", column])
    vals = df[column].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    picks: list[tuple[str, float]] = []
    if spread == "value":
        live = vals[vals > 10.5]
        targets = np.linspace(*np.quantile(live, [0.03, 0.99]), n)
        for t in targets:
            near = np.argsort(np.abs(vals - t), kind="stable")[:20]
            j = int(rng.choice(near))
            picks.append((str(df["cellstr"].iloc[j]), float(vals[j])))
        return picks
    if spread != "quantile":
        raise ValueError(f"spread must be 'value' or 'quantile', not {spread!r}")
    edges = np.quantile(vals, np.linspace(0.0, 1.0, n + 1))
    for i in range(n):
        lo, hi = edges[i], edges[i + 1]
        inside = np.flatnonzero((vals >= lo) & ((vals < hi) if i < n - 1 else (vals <= hi)))
        j = int(rng.choice(inside))
        picks.append((str(df["cellstr"].iloc[j]), float(vals[j])))
    return picks


def _read_done(path: Path, config: dict) -> dict[str, dict]:
    if not path.exists():
        return {}
    done = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            same = all(str(row.get(k)) == str(v) for k, v in config.items())
            if same:
                done[row["arch"]] = row
    return done


def _markdown(rows: list[dict], summary: dict) -> str:
    head = "| # | arch | NB201 12-ep C10 acc (%) | short acc (%) | acc per epoch | seconds |"
    lines = [head, "|---|---|---|---|---|---|"]
    for i, r in enumerate(rows, 1):
        per = ", ".join(f"{a:.1f}" for a in json.loads(r["epoch_acc"]))
        lines.append(f"| {i} | `{r['arch']}` | {float(r['nb201_12ep_acc']):.2f} | {float(r['short_acc']):.2f} | "
                     f"{per} | {float(r['seconds']):.0f} |")
    s = summary
    lines += [
        "",
        f"Spearman rho (short acc vs NB201 12-epoch CIFAR-10 test acc): **{s['spearman']:.3f}** "
        f"(p = {s['spearman_p']:.3g}); Kendall tau {s['kendall']:.3f}; n = {s['n_archs']} architectures.",
        f"Seconds per architecture: mean {s['seconds_mean']:.0f}, min {s['seconds_min']:.0f}, "
        f"max {s['seconds_max']:.0f}; total {s['seconds_total']:.0f} s on {s['device']} ({s['host']}).",
        f"Settings: dataset {s['dataset']} ({s['data_dir']}), {s['epochs']} epochs, {s['n_train']} training "
        f"images, {s['n_test']} test images, batch {s['batch_size']}, lr {s['lr']}, seed {s['seed']}, "
        f"architectures picked by {s.get('spread', 'quantile')} spread.",
        f"Command: `{s['command']}`",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", default=os.environ.get("ZCNAS_DATA"),
                   help="benchmarks folder holding nb201/ and images/ (default: $ZCNAS_DATA)")
    p.add_argument("--dataset", default="cifar10", help="zcnas.data dataset name (default cifar10)")
    p.add_argument("--data-dir", default=None,
                   help="image folder (default: <data-root>/images/cifar10-partial-real)")
    p.add_argument("--n-archs", type=int, default=8)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--spread", choices=("value", "quantile"), default="value",
                   help="pick archs evenly in 12-epoch accuracy (value) or by quantile bins")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--max-train-images", type=int, default=None)
    p.add_argument("--max-test-images", type=int, default=None)
    p.add_argument("--seed", type=int, default=0, help="seed of the architecture pick and of training")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--resume", action="store_true", help="reuse rows of results.csv with the same settings")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)

    from scipy.stats import kendalltau, spearmanr

    from zcnas.paths import benchmark_file, benchmark_root
    from zcnas.ranking.train import train_architecture

    root = benchmark_root(args.data_root)
    data_dir = args.data_dir or (str(root / "images" / "cifar10-partial-real") if args.dataset == "cifar10"
                                 else None)
    archs = pick_architectures(benchmark_file(TABLE, root), args.n_archs, args.seed, spread=args.spread)
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = args.out / "results.csv", args.out / "results.md"
    config = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
              "max_train_images": args.max_train_images or "", "max_test_images": args.max_test_images or ""}
    done = _read_done(csv_path, config) if args.resume else {}

    rows: list[dict] = []
    start = time.perf_counter()
    for i, (arch, ref) in enumerate(archs, 1):
        if arch in done:
            rows.append(done[arch])
            print(f"[{i}/{len(archs)}] {arch}: reused {float(done[arch]['short_acc']):.2f}%", file=sys.stderr)
        else:
            r = train_architecture("nb201", arch, dataset=args.dataset, data_dir=data_dir, epochs=args.epochs,
                                   batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device,
                                   max_train_images=args.max_train_images,
                                   max_test_images=args.max_test_images, progress=not args.quiet)
            rows.append({"bin": i, "arch": arch, "nb201_12ep_acc": ref, "short_acc": round(r.final_acc, 3),
                         "epoch_acc": json.dumps([round(a, 3) for a in r.epoch_acc]),
                         "seconds": round(r.seconds, 2), "device": r.device, "epochs": r.epochs,
                         "n_train": r.n_train, "n_test": r.n_test, "batch_size": args.batch_size,
                         "lr": args.lr, "seed": args.seed,
                         "max_train_images": args.max_train_images or "",
                         "max_test_images": args.max_test_images or ""})
            print(f"[{i}/{len(archs)}] {arch}: {r.final_acc:.2f}% (NB201 12-ep {ref:.2f}%) "
                  f"in {r.seconds:.0f} s", file=sys.stderr)
        with open(csv_path, "w", newline="") as fh:  # rewrite after every architecture
            w = csv.DictWriter(fh, fieldnames=FIELDS)
            w.writeheader()
            w.writerows(rows)

    ref = np.array([float(r["nb201_12ep_acc"]) for r in rows])
    got = np.array([float(r["short_acc"]) for r in rows])
    secs = np.array([float(r["seconds"]) for r in rows])
    rho, p_rho = spearmanr(ref, got)
    tau, _ = kendalltau(ref, got)
    cmd = "python experiments/short_training.py " + " ".join(argv if argv is not None else sys.argv[1:])
    summary = {
        "spearman": float(rho), "spearman_p": float(p_rho), "kendall": float(tau), "n_archs": len(rows),
        "seconds_mean": float(secs.mean()), "seconds_min": float(secs.min()), "seconds_max": float(secs.max()),
        "seconds_total": float(secs.sum()), "wall_s": time.perf_counter() - start,
        "device": rows[0]["device"], "host": f"{platform.machine()}, {os.cpu_count()} CPU(s)",
        "dataset": args.dataset, "data_dir": data_dir, "epochs": args.epochs, "n_train": rows[0]["n_train"],
        "n_test": rows[0]["n_test"], "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
        "spread": args.spread, "command": cmd.strip(),
    }
    md = _markdown(rows, summary)
    md_path.write_text("# Short training vs NB201 12-epoch CIFAR-10 accuracy\n\n" + md)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
