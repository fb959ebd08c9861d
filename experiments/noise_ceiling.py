"""Noise ceiling of NB201 CIFAR-10 ground truth: how well one training seed ranks another.

A proxy is scored against accuracies that are themselves noisy: the same arch trained with another
seed lands somewhere else. The rank correlation between two seeds of the same archs is therefore
about the best any proxy could reach against a single-seed truth, and the correlation of one seed
with the mean of the others bounds what is reachable against a seed-mean truth.

Data: ``nb201/nb201-meco-c10-test-per-seed`` (NB201 v1_1, CIFAR-10 test accuracy after 200 epochs,
trained on train+valid, 1-3 seeds per arch in slots a/b/c; the actual seed ids are not stored).

Rows of ``results.csv`` (written to ``--out``, default ``experiments/results/noise_ceiling/``):

- ``seed_a`` vs ``seed_b`` (and a/c, b/c): archs that have both slots;
- ``seed_x`` vs ``mean_of_others``: archs with >= 2 seeds, the other slots' mean as truth;
- ``seed_x`` vs ``mean_all``: every arch with slot x against the mean of all its seeds (includes
  itself, so optimistic; this is how a proxy evaluated on the published mean sees it);
- the same seed-pair rows with one vote per function class (``by_class``).

    ZCNAS_DATA=/work/shared/benchmarks PYTHONPATH=. python experiments/noise_ceiling.py
"""

from __future__ import annotations

import argparse
import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.metrics import evaluate
from zcnas.paths import benchmark_file
from zcnas.report import hexbin_plot

log = logging.getLogger("zcnas.experiments")

FILE = "nb201/nb201-meco-c10-test-per-seed/nb2_test_acc_cf10_per_seed.csv"
SLOTS = ("a", "b", "c")


def load(root: str | None = None) -> pd.DataFrame:
    """Per-seed accuracies indexed by NB201 string, columns seed_a, seed_b, seed_c (NaN if absent)."""
    df = pd.read_csv(benchmark_file(FILE, root))
    out = df.set_index("arch_str")[[f"acc_seed_{s}" for s in SLOTS]].astype(float)
    out.columns = [f"seed_{s}" for s in SLOTS]
    out.index.name = "arch"
    return out


def ceiling_table(acc: pd.DataFrame, *, metrics=("spearman", "kendall", "precision"),
                  topk=(1, 5, 10), bootstrap: int = 1000, seed: int = 0,
                  by_class: str | None = "nb201") -> pd.DataFrame:
    """All comparisons described in the module notes as one tidy frame with a ``comparison`` column."""
    parts = []

    def run(score: pd.Series, truth: pd.Series, label: str, group: str, cls=None) -> None:
        ok = score.notna() & truth.notna()
        res = evaluate(score[ok].to_frame(score.name), truth[ok].rename(truth.name), {score.name: True},
                       metrics=metrics, topk=topk, bootstrap=bootstrap, seed=seed, by_class=cls)
        parts.append(res.assign(comparison=label, group=group))

    for a, b in itertools.combinations(acc.columns, 2):
        run(acc[a], acc[b], f"{a} vs {b}", "seed pair")
        if by_class:
            run(acc[a], acc[b], f"{a} vs {b} (one vote per class)", "seed pair, by class", by_class)
    n_seeds = acc.notna().sum(axis=1)
    for c in acc.columns:
        others = acc.drop(columns=c).mean(axis=1).where(n_seeds >= 2)
        run(acc[c], others.rename("mean_of_others"), f"{c} vs mean of other seeds", "seed vs mean of others")
        run(acc[c], acc.mean(axis=1).rename("mean_all"), f"{c} vs mean of all seeds (incl. itself)",
            "seed vs mean (optimistic)")
    out = pd.concat(parts, ignore_index=True)
    return out[["group", "comparison", "proxy", "truth", "metric", "value", "ci_low", "ci_high", "n"]]


def markdown(table: pd.DataFrame, acc: pd.DataFrame, n_boot: int) -> str:
    n_seeds = acc.notna().sum(axis=1).value_counts().sort_index()
    lines = ["# Noise ceiling: NB201 CIFAR-10 test accuracy (200 epochs) across training seeds", "",
             "Seeds per arch: " + ", ".join(f"{k}: {v:,}" for k, v in n_seeds.items()) + ".",
             f"95 % percentile bootstrap intervals ({n_boot} resamples).", ""]
    metrics = list(dict.fromkeys(table["metric"]))
    lines += ["| comparison | n | " + " | ".join(metrics) + " |", "|---|---:|" + "---:|" * len(metrics)]
    for comp, sub in table.groupby("comparison", sort=False):
        r = sub.set_index("metric")
        cells = [f"{r.loc[m, 'value']:.3f} [{r.loc[m, 'ci_low']:.3f}, {r.loc[m, 'ci_high']:.3f}]"
                 if np.isfinite(r.loc[m, "ci_low"]) else f"{r.loc[m, 'value']:.3f}" for m in metrics]
        lines.append(f"| {comp} | {int(r['n'].iloc[0])} | " + " | ".join(cells) + " |")
    pair = table[(table.group == "seed pair") & (table.metric == "spearman")]["value"]
    loo = table[(table.group == "seed vs mean of others") & (table.metric == "spearman")]["value"]
    top1 = table[(table.group == "seed pair") & (table.metric == "precision@1%")]["value"]
    lines += ["", f"Seed-to-seed Spearman is {pair.min():.3f}-{pair.max():.3f}; one seed against the mean "
              f"of the others reaches {loo.min():.3f}-{loo.max():.3f}. A proxy's Spearman against a "
              "single-seed CIFAR-10 truth cannot be expected to exceed these."]
    if len(top1):
        lines += ["", f"The top of the ranking is far noisier: only {top1.min():.2f}-{top1.max():.2f} of one "
                  "seed's top 1 % are in another seed's top 1 %, so top-1 % precision well below 1 is "
                  "expected even from a perfect proxy."]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", default=None, help="benchmark folder (default: $ZCNAS_DATA)")
    ap.add_argument("--out", default="experiments/results/noise_ceiling")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-by-class", action="store_true", help="skip the one-vote-per-class rows")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    acc = load(args.data_root)
    table = ceiling_table(acc, bootstrap=args.bootstrap, seed=args.seed,
                          by_class=None if args.no_by_class else "nb201")
    table.to_csv(out / "results.csv", index=False, float_format="%.6g")
    (out / "summary.md").write_text(markdown(table, acc, args.bootstrap))
    hexbin_plot(acc["seed_a"], acc["seed_b"], out / "hexbin_seed_a__seed_b.png", proxy="seed_a",
                truth_name="seed_b (CIFAR-10 test %, 200 ep)")
    log.info("wrote %s", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
