"""Backend parity: the same architectures scored by the local and the process backend (issue 16.3).

40 seeded NB201 architectures (``get_space("nb201").sample(40, seed=0)``) are scored with jacob_cov
and naswot (the two proxies that moved by up to 2e-3 relative between backends) three times:

``local``     :class:`LocalBackend` in this process, torch left at its default thread count
              (the machine's cores); the backend pins scoring to ``SCORING_THREADS``.
``process``   :class:`ProcessBackend` with 2 workers.
``unpinned``  the old local behaviour for comparison: the same task run in this process under the
              default thread count, without the pin (a backend defined here).

Reports how many of the values are bitwise equal between ``local`` and ``process`` (the fix) and
between ``unpinned`` and ``process`` (before the fix), with the largest relative difference.
Images: CIFAR-10 from ``--data-dir`` or ``$ZCNAS_DATA/images/cifar10-partial-real`` when set, else
the built-in digits.

Run: ZCNAS_DATA=../shared/benchmarks nice -n 10 python experiments/backend_parity.py
Writes experiments/results/backend_parity/{values.csv, summary.json, README.md}.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas import get_space
from zcnas.ranking import ScoringConfig, score_architectures
from zcnas.ranking.backends import SCORING_THREADS, Backend, LocalBackend, ProcessBackend

PROXIES = ("jacob_cov", "naswot")
OUT = Path(__file__).resolve().parent / "results" / "backend_parity"


class Unpinned(Backend):
    """The local backend as it was: the caller's (default) thread count, no pin."""

    def map(self, fn, items, payload):
        for item in items:
            yield item, fn(item, payload)


def _values(long: pd.DataFrame) -> pd.Series:
    return long.set_index(["arch", "proxy"])["value"].sort_index()


def _compare(a: pd.Series, b: pd.Series) -> dict:
    a, b = a.align(b)
    both = a.notna() & b.notna()
    rel = ((a - b).abs() / b.abs().where(b != 0, 1.0))[both]
    return {"bitwise_equal": int((a[both].to_numpy() == b[both].to_numpy()).sum()), "compared": int(both.sum()),
            "max_rel_diff": float(rel.max()) if len(rel) else float("nan")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)

    import torch

    data_dir = args.data_dir
    if data_dir is None and os.environ.get("ZCNAS_DATA"):
        data_dir = str(Path(os.environ["ZCNAS_DATA"]) / "images" / "cifar10-partial-real")
    dataset = "cifar10" if data_dir else "digits"
    cfg = ScoringConfig(dataset=dataset, data_dir=data_dir, batch_size=args.batch_size)
    archs = get_space("nb201").sample(args.n, seed=0)
    default_threads = torch.get_num_threads()
    runs, seconds = {}, {}
    for name, backend in (("local", LocalBackend()), ("process", ProcessBackend(workers=args.workers)),
                          ("unpinned", Unpinned())):
        t0 = time.perf_counter()
        runs[name] = _values(score_architectures(archs, list(PROXIES), cfg, progress=False, backend=backend))
        seconds[name] = round(time.perf_counter() - t0, 1)
    assert torch.get_num_threads() == default_threads
    table = pd.DataFrame(runs)
    table["local_equals_process"] = table["local"].to_numpy() == table["process"].to_numpy()
    summary = {
        "n_archs": args.n, "proxies": list(PROXIES), "dataset": dataset, "batch_size": args.batch_size,
        "default_torch_threads": default_threads, "scoring_threads": SCORING_THREADS, "workers": args.workers,
        "local_vs_process": _compare(runs["local"], runs["process"]),
        "unpinned_vs_process": _compare(runs["unpinned"], runs["process"]),
        "seconds": seconds,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "values.csv", float_format="%.17g")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    lp, up = summary["local_vs_process"], summary["unpinned_vs_process"]
    (args.out / "README.md").write_text(
        "# Backend parity (issue 16.3)\n\n"
        f"{args.n} NB201 architectures (sample seed 0), {', '.join(PROXIES)}, {dataset} batch {args.batch_size}; "
        f"torch default threads here: {default_threads}; scoring pinned to {SCORING_THREADS}.\n\n"
        "| comparison | bitwise equal | max relative difference |\n|---|---|---|\n"
        f"| local (pinned) vs process | {lp['bitwise_equal']}/{lp['compared']} | {lp['max_rel_diff']:.3g} |\n"
        f"| unpinned (before) vs process | {up['bitwise_equal']}/{up['compared']} | {up['max_rel_diff']:.3g} |\n\n"
        f"Seconds: {seconds}. Produced by `experiments/backend_parity.py`.\n")
    print(json.dumps(summary))
    return 0 if lp["bitwise_equal"] == lp["compared"] and np.isfinite(lp["max_rel_diff"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
