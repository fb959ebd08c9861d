"""The whole NB201 space with a ranker, cold start to ranked CSV, timed; then its quality.

Runs, in a fresh process, ``zcnas -q rank --space nb201 --all --proxies RANKER --dedupe --backend
process --workers 2 --store STORE --format csv --top 0`` (every architecture, one network per
function class, two worker processes of one thread), timing the wall clock from start to exit, and
then measures the ranked output against NB201's CIFAR-10 200-epoch test accuracy: Spearman and
Kendall on all 15,625 and Spearman on the half of the space the ranker was not chosen on (the
canonical split, seed 0, of experiments/cost_quality.py), and the accuracy of the top pick.

Pause other work on the machine first; the load average at the start is recorded. With ``--csv``
an earlier run's output is evaluated without scoring again (the time is then not re-measured).

    ZCNAS_DATA=../shared/benchmarks python experiments/full_space_ranker.py --ranker @zcnas_nb201_fast

Writes experiments/results/full_space_ranker/{results.csv, summary.md} (one row per ranker run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "results" / "full_space_ranker"


def run(ranker: str, csv: Path, store: Path, workers: int) -> float:
    cmd = [sys.executable, "-m", "zcnas", "-q", "rank", "--space", "nb201", "--all", "--proxies", ranker,
           "--dedupe", "--backend", "process", "--workers", str(workers), "--store", str(store),
           "--format", "csv", "--top", "0"]
    t0 = time.perf_counter()
    with open(csv, "w") as fh:
        subprocess.run(cmd, stdout=fh, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - t0


def evaluate(csv: Path) -> dict:
    from zcnas.metrics import kendall, spearman
    from zcnas.selection import split_by_class
    from zcnas.suite import load_pair

    ranked = pd.read_csv(csv).set_index("arch")
    truth = load_pair("nb201", "cifar10").truth.reindex(ranked.index)
    s, t = ranked["score"].to_numpy(), truth.to_numpy()
    _, test = split_by_class(list(ranked.index), "nb201", seed=0)
    test = np.asarray(test)
    return {"n": len(ranked), "spearman_all": spearman(s, t), "kendall_all": kendall(s, t),
            "n_heldout": int(test.sum()), "spearman_heldout": spearman(s[test], t[test]),
            "top1_accuracy": float(truth.loc[ranked["score"].idxmax()]), "best_accuracy": float(truth.max())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ranker", default="@zcnas_nb201_fast")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--csv", default=None, help="evaluate this earlier output instead of scoring again")
    ap.add_argument("--wall-s", type=float, default=None, help="with --csv: the wall seconds that run took")
    ap.add_argument("--load", type=float, default=None, help="with --csv: the load average when that run started")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    if args.csv:
        csv, wall, load = Path(args.csv), args.wall_s, args.load if args.load is not None else float("nan")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="zcnas-full-"))
        csv = tmp / "ranked.csv"
        wall = run(args.ranker, csv, tmp / "store.h5", args.workers)
    row = {"ranker": args.ranker, "workers": args.workers, "wall_s": wall, "load_at_start": load,
           "cpus": os.cpu_count(), **evaluate(csv)}
    path = out / "results.csv"
    df = pd.concat([pd.read_csv(path), pd.DataFrame([row])]) if path.exists() else pd.DataFrame([row])
    df.to_csv(path, index=False, float_format="%.4f")
    lines = ["# The whole NB201 space, cold start to ranked output", "",
             "Produced by `experiments/full_space_ranker.py` (command and protocol in its docstring): every one "
             "of the 15,625 architectures, `--dedupe`, 2 worker processes of one thread, this machine's CPU "
             "(no GPU). Truth: CIFAR-10 test accuracy after 200 epochs.", "",
             "| ranker | wall (min) | load at start | Spearman (all) | Kendall (all) | Spearman (held-out half) "
             "| top pick acc (best) |", "|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        wall_min = f"{r.wall_s / 60:.1f}" if pd.notna(r.wall_s) else "-"
        lines.append(f"| `{r.ranker}` | {wall_min} | {r.load_at_start:.2f} | {r.spearman_all:.3f} | "
                     f"{r.kendall_all:.3f} | {r.spearman_heldout:.3f} ({r.n_heldout}) | "
                     f"{r.top1_accuracy:.2f} ({r.best_accuracy:.2f}) |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
