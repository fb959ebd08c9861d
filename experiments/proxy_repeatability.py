"""Repeatability of data-dependent proxies: how well one seed's scores rank like another seed's.

A proxy computed from one image batch and one random initialisation is a random variable. When
its spread across seeds is as large as its spread across architectures, two implementations (or
two runs of one) cannot agree, however exactly each follows the definition: the best agreement
any reimplementation can reach with a published single-seed score is about the seed-to-seed
Spearman of the proxy itself. This script measures that ceiling, per space and proxy.

For each space, the same architectures are scored with seeds 0, 1, 2 (``zcnas rank --seed S``:
the seed picks both the real CIFAR-10 batch and every network's initialisation), batch 32, into
a resumable store under ``--out``. Rows of ``results.csv``:

- ``seed_i`` vs ``seed_j``: Spearman between two of zcnas's seeds (the repeatability);
- ``seed_i`` vs ``published``: Spearman with NAS-Bench-Suite-Zero's published score of the same
  architectures (their own batch, seed and initialisation);
- ``seed_i`` vs ``truth``: Spearman with the pair's ground truth (NB301: surrogate prediction);
- ``seed_i`` vs ``committed``: Spearman with zcnas's committed scores in ``benchmarks_data/``
  (DARTS: batch 32, seed 0, so ``seed_0`` must give 1.0: the run reproduces; NB201: batch 64,
  seed 0, which shows what halving the batch changes). ``committed`` vs ``truth`` is in the
  summary for the batch-size comparison.

Spaces: ``darts`` (a seeded sample of the 725 NB301 genotypes of the suite's sample) and
``nb201`` (a seeded sample of the 9,445 NB201 architectures with NAS-Bench-Suite-Zero's CIFAR-10
scores, for contrast: a space where the same proxies are known to agree with the published ones).

    ZCNAS_DATA=../shared/benchmarks python experiments/proxy_repeatability.py --n-darts 40 --n-nb201 200

Writes experiments/results/proxy_repeatability/{scores.h5, results.csv, summary.md}.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("zcnas.experiments")
OUT = Path(__file__).resolve().parent / "results" / "proxy_repeatability"
#: space -> the suite pair task whose truth and published scores are compared
PAIRS = {"darts": "cifar10", "nb201": "cifar10"}


def sample_archs(pair_data, proxies: list[str], n: int, seed: int) -> list[str]:
    """``n`` architectures (seeded) among those with a published score for every proxy."""
    cols = [f"published:{p}" for p in proxies if f"published:{p}" in pair_data.scores.columns]
    have = pair_data.scores[cols].dropna().index if cols else pair_data.scores.index
    have = sorted(set(have) & set(pair_data.truth.dropna().index))
    rng = np.random.default_rng(seed)
    return [have[i] for i in sorted(rng.choice(len(have), size=min(n, len(have)), replace=False))]


def correlations(space: str, wide: dict[int, pd.DataFrame], pair_data, proxies: list[str]) -> list[dict]:
    from zcnas.metrics import spearman

    rows = []
    for p in proxies:
        cols = {s: w[p] for s, w in wide.items() if p in w.columns}
        for (a, sa), (b, sb) in itertools.combinations(sorted(cols.items()), 2):
            both = pd.concat([sa, sb], axis=1).dropna()
            rows.append({"space": space, "proxy": p, "a": f"seed_{a}", "b": f"seed_{b}", "n": len(both),
                         "spearman": spearman(both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy())})
        refs = {"truth": pair_data.truth}
        if f"published:{p}" in pair_data.scores.columns:
            refs["published"] = pair_data.scores[f"published:{p}"]
        if f"own:{p}" in pair_data.scores.columns:  # the committed store (benchmarks_data/, its own batch size)
            refs["committed"] = pair_data.scores[f"own:{p}"]
        for s, col in sorted(cols.items()):
            for name, ref in refs.items():
                both = pd.concat([col, ref], axis=1).dropna()
                rows.append({"space": space, "proxy": p, "a": f"seed_{s}", "b": name, "n": len(both),
                             "spearman": spearman(both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy())})
        if "committed" in refs:
            both = pd.concat([refs["committed"], pair_data.truth], axis=1).reindex(next(iter(cols.values())).index)
            both = both.dropna()
            rows.append({"space": space, "proxy": p, "a": "committed", "b": "truth", "n": len(both),
                         "spearman": spearman(both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy())})
    return rows


def summarise(df: pd.DataFrame, args) -> str:
    lines = ["# Seed-to-seed repeatability of data-dependent proxies", "",
             f"Produced by `experiments/proxy_repeatability.py --n-darts {args.n_darts} --n-nb201 {args.n_nb201}` "
             f"(batch {args.batch_size}, seeds {args.seeds}; a seed picks the real CIFAR-10 batch and the "
             "initialisation). Spearman over the same architectures; `published` = NAS-Bench-Suite-Zero's "
             "score of those architectures; DARTS truth is NB301's surrogate prediction.", "",
             "| space | proxy | n | seed vs seed (mean, min-max) | seed vs published (mean) | seed vs truth (mean) "
             "| seed 0 vs committed | committed vs truth |",
             "|---|---|---|---|---|---|---|---|"]

    def cell(values: pd.Series) -> str:
        return f"{values.mean():.3f}" if len(values) else "-"

    for (space, proxy), g in df.groupby(["space", "proxy"], sort=False):
        ss = g[g["b"].str.startswith("seed_")]["spearman"]
        seeds = g[g["a"].str.startswith("seed_")]
        lines.append(f"| {space} | {proxy} | {int(g['n'].max())} | {ss.mean():.3f} ({ss.min():.3f}-{ss.max():.3f}) | "
                     f"{cell(seeds[seeds['b'] == 'published']['spearman'])} | "
                     f"{cell(seeds[seeds['b'] == 'truth']['spearman'])} | "
                     f"{cell(g[(g['a'] == 'seed_0') & (g['b'] == 'committed')]['spearman'])} | "
                     f"{cell(g[g['a'] == 'committed']['spearman'])} |")
    lines += ["", "Read: a reimplementation's agreement with a published single-seed score cannot be expected "
              "to exceed the proxy's own seed-to-seed Spearman (both are one draw each)."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-darts", type=int, default=40)
    ap.add_argument("--n-nb201", type=int, default=200)
    ap.add_argument("--proxies", default="jacob_cov,naswot")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from zcnas.paths import benchmark_root
    from zcnas.ranking.backends import make_backend
    from zcnas.ranking.scoring import ScoringConfig, score_architectures, wide_scores
    from zcnas.records import RecordStore
    from zcnas.suite import load_pair

    proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = os.path.join(str(benchmark_root()), "images", "cifar10-partial-real")
    rows: list[dict] = []
    with RecordStore(out / "scores.h5") as store:
        for space, n in (("darts", args.n_darts), ("nb201", args.n_nb201)):
            if n <= 0:
                continue
            pair = load_pair(space, PAIRS[space])
            archs = sample_archs(pair, proxies, n, seed=0)
            wide = {}
            for seed in seeds:
                t0 = time.perf_counter()
                cfg = ScoringConfig(space=space, dataset="cifar10", data_dir=data_dir, batch_size=args.batch_size,
                                    seed=seed)
                long = score_architectures(archs, proxies, cfg, store=store,
                                           backend=make_backend("process", workers=args.workers)
                                           if args.workers > 1 else None)
                wide[seed] = wide_scores(long, proxies)
                log.info("%s seed %d: %d archs in %.0f s", space, seed, len(archs), time.perf_counter() - t0)
            rows += correlations(space, wide, pair, proxies)
    df = pd.DataFrame(rows)
    df.to_csv(out / "results.csv", index=False, float_format="%.4f")
    text = summarise(df, args)
    (out / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
