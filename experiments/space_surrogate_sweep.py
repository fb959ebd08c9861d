"""Surrogate sweep on NB101, DARTS (NB301) and TransNAS-Bench-101: the NB201 protocol of
``experiments/surrogate_sweep.py`` generalised to any space with a benchmark importer.

Protocol, per space (and task), seed and training size ``n``:
  the architectures with ground truth are sorted by their space string and shuffled with
  ``numpy.random.default_rng(seed)``; the first ``n_test`` are the test set, the training set is the
  first ``n`` of the rest (nested in ``n``, always disjoint from the test set). Each feature
  configuration is fitted (XGBSurrogate, ``n_jobs`` threads, ``random_state=seed``) on the training
  set only and scored by Spearman, Kendall and top-10 % precision between its predictions and the
  ground truth of the test set. ``tune="cv"`` configurations tune inside the training set only.

Data (read through the library's importers from ZCNAS_DATA or --data-root; never copied):
  nb101         nb101-csv (30,001 architectures): NB101 CIFAR-10 validation accuracy after 108
                epochs (one training run, %); params from the same table. No published proxies here.
                Default test set: 1,000 architectures.
  darts         nb301-suitezero-json (725 genotypes): NB301's SURROGATE-PREDICTED CIFAR-10 validation
                accuracy (a model's prediction, not a training run); NAS-Bench-Suite-Zero's 12
                published proxies (params and flops among them). Default test set: 225 (the
                genotypes left after the largest training size, 500).
  tnb101_micro  tnb101-tables / tnb101-macro-tables (4,096 / 3,256): the task's TNB101 metric
  tnb101_macro  (--task, or --task all for the seven); published zen/epe_nas/synflow/fisher of
                that task where they exist. Default test set: 1,000.
zcnas's own scores (benchmarks_data/<family>_zcnas_scores.h5, partial) are features only in the
``*own*`` configurations, and only where they cover every architecture of the run; ``--pool own``
restricts a run to the covered architectures (then state ``--n-test``).

Configurations (names; append ``_cv`` to any for tune="cv", 8 candidates, 3-fold inner CV):
  onehot, path          the space's encoding only
  graf                  GRAF-style graph features only
  onehot_graf           both
  graf_cost             graf + params/FLOPs (nb101: params; darts: published params, flops;
                        tnb101: zcnas's own params where covered)
  pub                   published proxies only
  graf_pub              graf + published proxies
  onehot_graf_pub       onehot + graf + published proxies
  graf_own              graf + zcnas's own proxies
  graf_pub_own          graf + published + own proxies

Raw rows are appended to ``<out>/raw_<space>.csv`` (one per run) so a rerun resumes; ``--report``
rewrites summary.csv, summary.md and surrogate_sweep.png from all ``raw_*.csv`` of ``<out>``.

Examples:
  nice -n 5 python -m experiments.space_surrogate_sweep --space nb101 --seeds 10
  nice -n 5 python -m experiments.space_surrogate_sweep --space tnb101_micro --task all
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.metrics import kendall, spearman, topk_precision
from zcnas.surrogate import FeatureSpec, XGBSurrogate

TNB101_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal",
                "autoencoder")


@dataclass(frozen=True)
class SpaceSetup:
    """What a space's sweep reads and its default protocol."""

    family: str                 # results folder and score-store prefix
    importer: str
    sizes: tuple[int, ...]
    n_test: int
    configs: tuple[str, ...]
    truth_doc: str
    notes: tuple[str, ...] = ()


SETUPS = {
    "nb101": SpaceSetup("nb101", "nb101-csv", (10, 20, 50, 100, 300, 1000), 1000,
                        ("onehot", "path", "graf", "onehot_graf", "graf_cost"),
                        "NB101 CIFAR-10 validation accuracy after 108 epochs (%, one training run; "
                        "nb101_c10_valid_108ep of the 30,001-architecture nasbench-vis table)",
                        ("nb101: the 30,001 architectures are distinct NB101 hash classes, so no test cell has an "
                         "isomorphic twin in a training set. Single training runs: the noise floor of the truth "
                         "is about 0.2-0.5 points. graf_cost adds NB101's own parameter count (no FLOPs column).",)),
    "darts": SpaceSetup("darts", "nb301-suitezero-json", (10, 20, 50, 100, 200, 500), 225,
                        ("onehot", "path", "graf", "onehot_graf", "graf_cost", "pub", "graf_pub",
                         "onehot_graf_pub"),
                        "NB301's SURROGATE-PREDICTED CIFAR-10 validation accuracy (%; a model's prediction, "
                        "not a training run) of NAS-Bench-Suite-Zero's 725 genotypes",
                        ("darts: every figure is against NB301's SURROGATE prediction, not real training. With 725 "
                         "genotypes in all, the test set is the 225 left after the largest training size (500), "
                         "drawn per seed; training sets are nested. 'published proxies' are NAS-Bench-Suite-Zero's "
                         "12 (params and flops among them); graf_cost adds only their params and flops.",)),
    "tnb101_micro": SpaceSetup("tnb101", "tnb101-tables", (10, 20, 50, 100), 1000,
                               ("onehot", "path", "graf", "onehot_graf", "pub", "graf_pub", "onehot_graf_pub"),
                               "TransNAS-Bench-101 micro, the task's validation metric (NASLib's query of the "
                               "official table; real training)",
                               ("tnb101_micro: the split is by cell string, as NAS-Bench-Suite-Zero's; 4,096 cells "
                                "form 1,730 function classes (identical rows for e.g. all-zero cells), so a test "
                                "cell can have an isomorphic twin in the training set. Published proxies per task: "
                                "zen/epe_nas/synflow/fisher where NAS-Bench-Suite-Zero published them (-1e8 and "
                                "empty = missing, left to XGBoost). The 'mean of 7 tasks' rows average the seven "
                                "tasks per seed first (every task of a seed shares the split). graf_cost on TNB101 "
                                "adds zcnas's own params (class_scene network), so it runs only on the own pool.",)),
    "tnb101_macro": SpaceSetup("tnb101", "tnb101-macro-tables", (10, 20, 50, 100), 1000,
                               ("onehot", "graf", "onehot_graf", "pub", "graf_pub", "onehot_graf_pub"),
                               "TransNAS-Bench-101 macro, the task's validation metric (NASLib's query of the "
                               "official table; real training)",
                               ("tnb101_macro: every skeleton is its own function class. The macro space has no "
                                "path encoding.",)),
}
CONFIG_LABEL = {
    "onehot": "one-hot", "path": "path encoding", "graf": "GRAF", "onehot_graf": "one-hot + GRAF",
    "graf_cost": "GRAF + params/FLOPs", "pub": "published proxies", "graf_pub": "GRAF + published proxies",
    "onehot_graf_pub": "one-hot + GRAF + published proxies", "graf_own": "GRAF + zcnas proxies",
    "graf_pub_own": "GRAF + published + zcnas proxies",
}
RAW_KEY = ("space", "task", "pool", "n_test", "config", "n_train", "seed")


@dataclass
class SweepData:
    """One space/task: ``frame`` has ``arch`` (sorted, unique), ``target`` and feature columns."""

    space: str
    task: str
    frame: pd.DataFrame
    published: tuple[str, ...] = ()
    cost: tuple[str, ...] = ()
    own: tuple[str, ...] = ()
    pool: str = "all"
    notes: list[str] = field(default_factory=list)


# ---- split ---------------------------------------------------------------------------------------

def split_indices(n_total: int, n_test: int, sizes: Sequence[int],
                  seed: int) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Seeded disjoint split: ``(test, {n: train_n})``. The test set is the first ``n_test`` of a
    permutation drawn from ``default_rng(seed)``; ``train_n`` the first ``n`` of the rest (nested)."""
    if n_test < 1 or any(n < 2 for n in sizes):
        raise ValueError(f"n_test must be >= 1 and every size >= 2; got n_test={n_test}, sizes={list(sizes)}.")
    if n_test + max(sizes) > n_total:
        raise ValueError(f"n_test ({n_test}) + the largest training size ({max(sizes)}) exceed the "
                         f"{n_total} architectures.")
    perm = np.random.default_rng(seed).permutation(n_total)
    test, pool = perm[:n_test], perm[n_test:]
    return test, {n: pool[:n] for n in sizes}


# ---- data ----------------------------------------------------------------------------------------

def _import(importer: str, root: Path) -> dict[str, pd.DataFrame]:
    from zcnas.records.importers import run_importer

    return run_importer(importer, data_root=root)


def _own_scores(space: str, family: str, task: str, score_dir: Path) -> pd.DataFrame:
    """zcnas's own scores (wide, ``zcnas_<proxy>`` columns) for ``space`` / ``task``; empty when none."""
    from zcnas.records import RecordStore
    from zcnas.records.views import scores_wide

    path = score_dir / f"{family}_zcnas_scores.h5"
    if not path.exists():
        return pd.DataFrame()
    with RecordStore(path, mode="r") as s:
        scores = s.frame("scores")
    if scores.empty:
        return pd.DataFrame()
    dataset = task if space.startswith("tnb101") else "cifar10"
    wide = scores_wide(scores, dataset=dataset, space=space)
    return wide.add_prefix("zcnas_")


def load_space(space: str, task: str, root: Path, score_dir: Path, pool: str = "all",
               own_proxies: Sequence[str] | None = None) -> SweepData:
    """Ground truth, published proxies, costs and own scores of ``space`` (``task`` for TNB101);
    ``own_proxies`` keeps only those of zcnas's own proxies (default: all in the store)."""
    from zcnas.records.views import scores_wide, truth_wide

    setup = SETUPS[space]
    imported = _import(setup.importer, root)
    notes: list[str] = []
    if space == "nb101":
        truth = truth_wide(imported["truth"], ["nb101_c10_valid_108ep", "nb101_params"], space=space)
        frame = pd.DataFrame({"target": truth["nb101_c10_valid_108ep"], "params": truth["nb101_params"]})
        published, cost = (), ("params",)
    elif space == "darts":
        truth = truth_wide(imported["truth"], ["nb301_c10_val_pred"], space=space)
        pub = scores_wide(imported["scores"], dataset="cifar10", space=space)
        frame = pd.DataFrame({"target": truth["nb301_c10_val_pred"]}).join(pub)
        published, cost = tuple(pub.columns), ("params", "flops")
    else:
        from zcnas.records.importers_tnb101 import metric_name

        truth = truth_wide(imported["truth"], [metric_name(task)], space=space)
        pub = scores_wide(imported["scores"], dataset=task, space=space)
        pub = pub.loc[:, pub.notna().any()]
        frame = pd.DataFrame({"target": truth[metric_name(task)]}).join(pub)
        published, cost = tuple(pub.columns), ()
    frame = frame[np.isfinite(frame["target"])]
    own = _own_scores(space, setup.family, task, score_dir)
    if own_proxies and not own.empty:
        missing = [p for p in own_proxies if f"zcnas_{p}" not in own.columns]
        if missing:
            raise ValueError(f"--own-proxies {missing} not in the score store; it has "
                             f"{[c.removeprefix('zcnas_') for c in own.columns]}")
        own = own[[f"zcnas_{p}" for p in own_proxies]]
    own_cols: tuple[str, ...] = ()
    if not own.empty:
        own = own.reindex(frame.index)
        covered = own.notna().all(axis=1)
        own_cols = tuple(own.columns)
        notes.append(f"zcnas's own scores ({setup.family}_zcnas_scores.h5, {len(own_cols)} proxies) cover "
                     f"{int(covered.sum())} of the {len(frame)} architectures with ground truth"
                     + (f" ({int(own.notna().any(axis=1).sum())} have at least one)." if not covered.all() else "."))
        frame = frame.join(own)
        if pool == "own":
            frame = frame[covered.to_numpy()]
        if space.startswith("tnb101") and "zcnas_params" in own_cols:
            cost = ("zcnas_params",)
    elif pool == "own":
        raise ValueError(f"--pool own: no zcnas scores for {space}/{task}.")
    frame = frame.sort_index().rename_axis("arch").reset_index()
    # the own pool grows as the background scoring goes on: its size is part of its name, so a later
    # run on a larger pool never resumes (or mixes with) the rows of a smaller one
    label = pool if pool == "all" else ("own:" + "+".join(own_proxies) if own_proxies else "own") + f"[{len(frame)}]"
    return SweepData(space, task, frame, published, cost, own_cols, label, notes)


# ---- models --------------------------------------------------------------------------------------

def config_features(config: str, data: SweepData) -> tuple[FeatureSpec, str] | str:
    """``(FeatureSpec, tune)`` of a configuration, or the reason it cannot run on ``data``."""
    base, tune = (config[:-3], "cv") if config.endswith("_cv") else (config, "none")
    sp = data.space
    if base in ("onehot", "path"):
        from zcnas.spaces import get_space

        if base not in get_space(sp).encodings:
            return f"{sp} has no {base} encoding"
        return FeatureSpec(sp, encodings=(base,), graph=False), tune
    if base == "graf":
        return FeatureSpec(sp, encodings=(), graph=True), tune
    if base == "onehot_graf":
        return FeatureSpec(sp, encodings=("onehot",), graph=True), tune
    parts = {"graf_cost": ((), True, data.cost), "pub": ((), False, data.published),
             "graf_pub": ((), True, data.published), "onehot_graf_pub": (("onehot",), True, data.published),
             "graf_own": ((), True, data.own), "graf_pub_own": ((), True, data.published + data.own)}
    if base not in parts:
        raise ValueError(f"unknown configuration {config!r}; known: {sorted(CONFIG_LABEL)} (+ '_cv')")
    enc, graph, proxies = parts[base]
    if not proxies:
        return f"no {'cost' if base == 'graf_cost' else 'proxy'} columns for {sp}/{data.task}"
    needs_own = [p for p in proxies if p.startswith("zcnas_")]
    if needs_own:
        missing = int(data.frame[needs_own].isna().any(axis=1).sum())
        if missing:
            return (f"zcnas's own scores miss {missing} of {len(data.frame)} architectures "
                    f"(use --pool own to sweep the covered ones)")
    return FeatureSpec(sp, encodings=enc, graph=graph, proxies=tuple(proxies), proxy_transform="log"), tune


def make_model(spec: FeatureSpec, tune: str, seed: int, n_jobs: int) -> XGBSurrogate:
    return XGBSurrogate(features=spec, tune=tune, tune_iter=8, random_state=seed, n_jobs=n_jobs)


# ---- sweep ---------------------------------------------------------------------------------------

def raw_path_for(out: Path, space: str) -> Path:
    return out / f"raw_{space}.csv"


def _done(raw_path: Path) -> set[tuple]:
    if not raw_path.exists():
        return set()
    prev = pd.read_csv(raw_path, keep_default_na=False)
    return {tuple(str(v) for v in r) for r in prev[list(RAW_KEY)].itertuples(index=False)}


def run_sweep(data: SweepData, configs: Sequence[str], sizes: Sequence[int], seeds: Sequence[int], n_test: int,
              raw_path: Path, n_jobs: int = 1, log=print) -> int:
    """Fit and score every (config, size, seed) not yet in ``raw_path``; returns the rows added."""
    done = _done(raw_path)
    frame = data.frame
    y = frame["target"].to_numpy(np.float64)
    runnable = {}
    for c in configs:
        r = config_features(c, data)
        if isinstance(r, str):
            note = f"{c} skipped on {data.space}/{data.task}: {r}."
            if note not in data.notes:
                data.notes.append(note)
            log(note)
        else:
            runnable[c] = r
    added = 0
    for seed in seeds:
        test, trains = split_indices(len(frame), n_test, sizes, seed)
        for n in sizes:
            train = trains[n]
            for config, (spec, tune) in runnable.items():
                key = tuple(str(v) for v in (data.space, data.task, data.pool, n_test, config, n, seed))
                if key in done:
                    continue
                model = make_model(spec, tune, seed, n_jobs)
                t0 = time.perf_counter()
                model.fit(frame.iloc[train], y[train])
                t1 = time.perf_counter()
                pred = model.predict(frame.iloc[test])
                t2 = time.perf_counter()
                row = dict(zip(RAW_KEY, (data.space, data.task, data.pool, n_test, config, n, seed), strict=True))
                row.update(spearman=spearman(pred, y[test]), kendall=kendall(pred, y[test]),
                           top10_precision=topk_precision(pred, y[test], 10.0), fit_s=t1 - t0, predict_s=t2 - t1,
                           tune_score=model.tune_score_ if model.tune_score_ is not None else np.nan,
                           n_features=model.n_features_)
                pd.DataFrame([row]).to_csv(raw_path, mode="a", header=not raw_path.exists(), index=False)
                added += 1
                log(f"{data.space}/{data.task} {config} n={n} seed={seed} spearman={row['spearman']:.4f} "
                    f"fit={row['fit_s']:.2f}s")
    return added


# ---- report --------------------------------------------------------------------------------------

def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    keys = ["space", "task", "pool", "n_test", "config", "n_train"]
    g = raw.groupby(keys)
    out = g.agg(spearman_mean=("spearman", "mean"), spearman_sd=("spearman", "std"),
                kendall_mean=("kendall", "mean"), kendall_sd=("kendall", "std"),
                top10_mean=("top10_precision", "mean"), top10_sd=("top10_precision", "std"),
                n_seeds=("seed", "nunique"), fit_s_mean=("fit_s", "mean")).reset_index()
    # TNB101: the average over tasks, per seed first (every task of a seed shares the split)
    tnb = raw[raw["space"].str.startswith("tnb101") & (raw["task"] != "")]
    if not tnb.empty:
        per_seed = tnb.groupby(["space", "pool", "n_test", "config", "n_train", "seed"]).agg(
            spearman=("spearman", "mean"), kendall=("kendall", "mean"), top10_precision=("top10_precision", "mean"),
            fit_s=("fit_s", "mean"), n_tasks=("task", "nunique")).reset_index()
        per_seed = per_seed[per_seed["n_tasks"] == len(TNB101_TASKS)]
        if not per_seed.empty:
            a = per_seed.groupby(["space", "pool", "n_test", "config", "n_train"]).agg(
                spearman_mean=("spearman", "mean"), spearman_sd=("spearman", "std"),
                kendall_mean=("kendall", "mean"), kendall_sd=("kendall", "std"),
                top10_mean=("top10_precision", "mean"), top10_sd=("top10_precision", "std"),
                n_seeds=("seed", "nunique"), fit_s_mean=("fit_s", "mean")).reset_index()
            a["task"] = "mean of 7 tasks"
            out = pd.concat([out, a[out.columns]], ignore_index=True)
    return out


def _table(s: pd.DataFrame, metric: str) -> list[str]:
    sizes = sorted(s["n_train"].unique())
    lines = ["| configuration | " + " | ".join(str(n) for n in sizes) + " | seeds |",
             "|---|" + "---|" * (len(sizes) + 1)]
    order = [c for c in CONFIG_LABEL if c in set(s["config"].str.removesuffix("_cv"))]
    configs = sorted(s["config"].unique(), key=lambda c: (order.index(c.removesuffix("_cv")), c.endswith("_cv")))
    for config in configs:
        c = s[s["config"] == config].set_index("n_train")
        cells = [f"{c.loc[n, metric + '_mean']:.3f} ± {c.loc[n, metric + '_sd']:.3f}" if n in c.index else ""
                 for n in sizes]
        label = CONFIG_LABEL.get(config.removesuffix("_cv"), config) + (" (tune=cv)" if config.endswith("_cv") else "")
        lo, hi = int(c["n_seeds"].min()), int(c["n_seeds"].max())
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {lo if lo == hi else f'{lo}-{hi}'} |")
    return lines


def write_markdown(summary: pd.DataFrame, raw: pd.DataFrame, path: Path, notes: Sequence[str]) -> None:
    lines = ["# Surrogate sweep: " + ", ".join(sorted(summary["space"].unique())), "",
             "XGBSurrogate fitted on `n` training architectures and scored on a disjoint, seeded test set "
             "(Spearman, Kendall, top-10 % precision between predicted and true metric), mean ± sd over seeds. "
             "Produced by `experiments/space_surrogate_sweep.py`; raw rows in `raw_<space>.csv`.", ""]
    for (space, pool, n_test), s0 in summary.groupby(["space", "pool", "n_test"], sort=False):
        lines += [f"Truth of `{space}`: {SETUPS[space].truth_doc}. Test set: {n_test} architectures"
                  + (f" (pool {pool}: only the architectures zcnas's own scores cover)" if pool != "all" else "")
                  + ".", ""]
        tasks = list(dict.fromkeys(s0["task"]))
        tasks = [t for t in tasks if t == "mean of 7 tasks"] + [t for t in tasks if t != "mean of 7 tasks"]
        for task in tasks:
            s = s0[s0["task"] == task]
            title = (f"{space}" + (f" / {task}" if task else "")
                     + (f" (pool {pool}, test {n_test})" if pool != "all" else ""))
            metrics = ("spearman", "kendall", "top10") if task in ("", "mean of 7 tasks") else ("spearman",)
            for metric in metrics:
                name = {"top10": "top-10 % precision"}.get(metric, metric.capitalize())
                lines += [f"## {title}: {name}", ""] + _table(s, metric) + [""]
    t = raw.groupby(["space", "config", "n_train"])["fit_s"].mean().unstack("n_train")
    lines += ["## Mean fit time per model (s, this shared 2-core CPU, n_jobs as run)", "",
              "| space | configuration | " + " | ".join(str(c) for c in t.columns) + " |",
              "|---|---|" + "---|" * len(t.columns)]
    for (space, config), r in t.iterrows():
        lines.append(f"| {space} | {config} | " + " | ".join("" if np.isnan(v) else f"{v:.2f}" for v in r) + " |")
    lines += [""] + [f"- {n}" for n in dict.fromkeys(notes)]
    path.write_text("\n".join(lines) + "\n")


def plot(summary: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(summary.groupby(["space", "task", "pool", "n_test"], sort=False).groups)
    panels = [p for p in panels if p[1] in ("", "mean of 7 tasks") or p[2] != "all"] or panels
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, (space, task, pool, n_test) in zip(axes[0], panels, strict=True):
        s = summary[(summary["space"] == space) & (summary["task"] == task) & (summary["pool"] == pool)
                    & (summary["n_test"] == n_test)]
        for config in s["config"].unique():
            c = s[s["config"] == config].sort_values("n_train")
            ax.errorbar(c["n_train"], c["spearman_mean"], yerr=c["spearman_sd"], marker="o", capsize=3,
                        label=CONFIG_LABEL.get(config.removesuffix("_cv"), config)
                        + (" (cv)" if config.endswith("_cv") else ""))
        ax.set_xscale("log")
        ax.set_xlabel("training architectures")
        ax.set_ylabel(f"Spearman on {n_test} test architectures")
        what = {"darts": "NB301 surrogate-predicted acc"}.get(space, "")
        ax.set_title(" / ".join(x for x in (space, task, what, f"pool {pool}" if pool != "all" else "") if x))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(out: Path, notes: Sequence[str] = ()) -> str:
    raws = sorted(out.glob("raw_*.csv"))
    if not raws:
        raise FileNotFoundError(f"no raw_*.csv in {out}")
    raw = pd.concat([pd.read_csv(p, keep_default_na=False, na_values=[""]) for p in raws], ignore_index=True)
    raw["task"] = raw["task"].astype(object).where(raw["task"].notna(), "").astype(str)
    summary = summarise(raw)
    summary.to_csv(out / "summary.csv", index=False)
    notes = [n for sp in sorted(raw["space"].unique()) for n in SETUPS[sp].notes] + list(notes)
    notes_path = out / "notes.txt"
    old = notes_path.read_text().splitlines() if notes_path.exists() else []
    all_notes = list(dict.fromkeys([*old, *notes]))
    notes_path.write_text("\n".join(all_notes) + ("\n" if all_notes else ""))
    write_markdown(summary, raw, out / "summary.md", all_notes)
    plot(summary, out / "surrogate_sweep.png")
    return (out / "summary.md").read_text()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", required=True, choices=sorted(SETUPS))
    ap.add_argument("--task", default="", help="TNB101 task, or 'all' (default: all seven)")
    ap.add_argument("--sizes", default=None, help="training sizes, comma-separated (default: per space)")
    ap.add_argument("--seeds", default="10", help="a count (0..N-1) or a range 'a-b' (inclusive)")
    ap.add_argument("--configs", default=None, help="comma-separated configurations (default: per space)")
    ap.add_argument("--n-test", type=int, default=None, help="test architectures (default: per space)")
    ap.add_argument("--pool", default="all", choices=("all", "own"),
                    help="own: only the architectures that zcnas's own scores (--own-proxies) cover")
    ap.add_argument("--own-proxies", default=None, help="comma-separated own proxies (default: all in the store)")
    ap.add_argument("--n-jobs", type=int, default=1, help="XGBoost threads")
    ap.add_argument("--data-root", default=None, help="benchmark folder (default: $ZCNAS_DATA)")
    ap.add_argument("--score-dir", default="benchmarks_data", help="folder of <family>_zcnas_scores.h5")
    ap.add_argument("--out", default=None, help="default: experiments/results/<family>/surrogate_sweep")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)

    from zcnas.paths import benchmark_root

    setup = SETUPS[args.space]
    out = Path(args.out or f"experiments/results/{setup.family}/surrogate_sweep")
    out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    if not args.report_only:
        root = benchmark_root(args.data_root)
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(setup.sizes)
        configs = args.configs.split(",") if args.configs else list(setup.configs)
        a, _, b = args.seeds.partition("-")
        seeds = range(int(a), int(b) + 1) if b else range(int(a))
        n_test = args.n_test or setup.n_test
        if args.space.startswith("tnb101"):
            tasks = TNB101_TASKS if args.task in ("", "all") else tuple(args.task.split(","))
        else:
            tasks = ("",)
        t0 = time.perf_counter()
        own = args.own_proxies.split(",") if args.own_proxies else None
        datas = [load_space(args.space, task, root, Path(args.score_dir), args.pool, own) for task in tasks]
        added = 0
        for seed in seeds:  # seed-major, so that an interrupted run leaves whole seeds over every task
            for data in datas:
                added += run_sweep(data, configs, sizes, [seed], n_test, raw_path_for(out, args.space), args.n_jobs,
                                   log=lambda m: print(m, file=sys.stderr, flush=True))
        notes += [n for d in datas for n in d.notes]
        print(f"{args.space}: {added} runs in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print(report(out, notes))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
