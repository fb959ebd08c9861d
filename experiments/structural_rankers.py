"""Structural rankers: signed aggregates of graph features (``graph:<feature>`` proxies), chosen on
half of a space and reported on the other half.

For each space with ground truth here (NB101: CIFAR-10 validation accuracy after 108 epochs, one
run, 30,001 cells; DARTS: NB301's *surrogate-predicted* CIFAR-10 accuracy of NAS-Bench-Suite-Zero's
725 genotypes; NB201: CIFAR-10 test accuracy after 200 epochs, all 15,625), and each split seed:

1. the architectures are split in halves by the space's ``canonical`` form
   (:func:`zcnas.selection.split_by_class`: architectures that compute the same function stay on
   one side);
2. on the fit half, every graph feature gets the sign of its Spearman with the truth
   (``graph:f`` or ``graph:-f``); the ``--screen`` features of largest absolute Spearman are the
   candidates of :func:`zcnas.selection.greedy_select` (mean of log-ranks, at most ``--max-size``
   features; the fit half is subsampled to ``--fit-max`` architectures for speed);
3. the chosen set is scored on the held-out half: Spearman, Kendall, and beside it the best
   single signed feature of the fit half and the parameter count (NB101: the table's ``params``,
   equal to zcnas's ``params`` proxy on all 30,001; DARTS: the published ``params``).

The seed-0 choice of each space is the named proxy set ``@zcnas_<space>_graph`` in
:data:`zcnas.proxies.PROXY_SETS` (copied from ``rankers.json``; a test checks they agree).

Run:  ZCNAS_DATA=../shared/benchmarks nice python experiments/structural_rankers.py
Writes experiments/results/structural_rankers/{results.csv, summary.md, rankers.json}.
"""

from __future__ import annotations

import argparse
import json
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.aggregate import aggregate
from zcnas.graph import graph_feature_names, graph_features
from zcnas.metrics import kendall, spearman
from zcnas.paths import benchmark_root
from zcnas.records import RecordStore
from zcnas.records.importers import run_importer
from zcnas.selection import greedy_select, split_by_class
from zcnas.spaces import get_space
from zcnas.spaces.base import TASK_RANKERS, ranker_set_name
from zcnas.spaces.tnb101 import TASKS

#: key -> (space, importer, truth metric, size metric or None, what the truth is); a TNB101 key is
#: ``space/task`` (the same cells, one truth per task)
SPACES = {
    "nb101": ("nb101", "nb101-csv", "nb101_c10_valid_108ep", "nb101_params",
              "CIFAR-10 validation accuracy after 108 epochs (one run)"),
    "darts": ("darts", "nb301-suitezero-json", "nb301_c10_val_pred", None,
              "NB301's surrogate-predicted CIFAR-10 validation accuracy (a prediction, not a training)"),
    "nb201": ("nb201", "nats-csv", "c10_test_200ep", None,
              "CIFAR-10 test accuracy after 200 epochs (NATS-Bench TSS, seed mean)"),
}
for _which in ("micro", "macro"):
    for _task in TASKS:
        SPACES[f"tnb101_{_which}/{_task}"] = (f"tnb101_{_which}", f"tnb101-{_which}-tables", f"tnb101_{_task}_valid",
                                              None, f"TNB101 {_which}, task {_task} "
                                              f"(tnb101_{_task}_valid, higher is better)")
TNB101_KEYS = ",".join(k for k in SPACES if k.startswith("tnb101"))
OUT = Path(__file__).resolve().parent / "results" / "structural_rankers"


@lru_cache(maxsize=4)
def _imported(importer: str, data_root: str) -> RecordStore:
    st = RecordStore.memory()
    run_importer(importer, st, data_root=data_root)
    return st


def load(key: str, data_root: str) -> tuple[pd.Series, pd.Series | None]:
    space_name, importer, metric, size_metric, _ = SPACES[key]
    st = _imported(importer, data_root)
    truth = st.truth_wide(space=space_name)
    size = None
    if size_metric:
        size = truth[size_metric]
    elif space_name == "darts":
        sc = st.frame("scores")
        sc = sc[sc["proxy"] == "params"]
        size = sc.drop_duplicates("arch").set_index("arch")["value"]
    return truth[metric].dropna(), size


def features(space_name: str, archs: list[str]) -> pd.DataFrame:
    space = get_space(space_name)
    graphs = [space.cell_graph(space.parse(a)) for a in archs]
    names = graph_feature_names(graphs[0])
    F = np.vstack([graph_features(g) for g in graphs])
    df = pd.DataFrame(F, index=archs, columns=list(names))
    return df.loc[:, df.std() > 0]


def run_space(key: str, args) -> tuple[list[dict], dict]:
    t0 = time.time()
    space_name = SPACES[key][0]
    truth, size = load(key, args.data_root)
    space = get_space(space_name)
    archs = [space.format(space.parse(a)) for a in truth.index]
    truth = pd.Series(truth.to_numpy(), index=archs)
    if size is not None:
        size = pd.Series(size.to_numpy(), index=[space.format(space.parse(a)) for a in size.index]).reindex(archs)
    F = features(space_name, archs)
    print(f"{key}: {len(archs)} architectures, {F.shape[1]} varying graph features "
          f"({time.time() - t0:.1f} s)", flush=True)
    rows, rankers = [], {}
    for seed in range(args.seeds):
        fit_i, test_i = split_by_class(archs, space_name, seed=seed)
        fit = [a for a, f in zip(archs, fit_i) if f]
        test = [a for a, t in zip(archs, test_i) if t]
        rho_fit = {c: spearman(F.loc[fit, c].to_numpy(), truth[fit].to_numpy()) for c in F.columns}
        rho_fit = {c: v for c, v in rho_fit.items() if np.isfinite(v)}
        screened = sorted(rho_fit, key=lambda c: -abs(rho_fit[c]))[: args.screen]
        signed = pd.DataFrame({("graph:" if rho_fit[c] > 0 else "graph:-") + c:
                               F[c] * (1.0 if rho_fit[c] > 0 else -1.0) for c in screened})
        directions = {c: True for c in signed.columns}
        rng = np.random.default_rng(seed)
        sub = list(rng.choice(fit, size=min(args.fit_max, len(fit)), replace=False))
        t1 = time.time()
        chosen = greedy_select(signed.loc[sub], truth[sub], list(signed.columns), directions,
                               max_size=args.max_size)
        agg = aggregate(signed.loc[test], chosen, {c: True for c in chosen})
        best1 = signed.columns[0]
        row = {"space": key, "seed": seed, "n_fit": len(fit), "n_test": len(test),
               "ranker": ",".join(chosen), "size": len(chosen),
               "spearman_test": spearman(agg.to_numpy(), truth[test].to_numpy()),
               "kendall_test": kendall(agg.to_numpy(), truth[test].to_numpy()),
               "best_single": best1,
               "best_single_spearman_test": spearman(signed.loc[test, best1].to_numpy(), truth[test].to_numpy()),
               "select_s": round(time.time() - t1, 1)}
        if size is not None:
            row["params_spearman_test"] = spearman(size[test].to_numpy(), truth[test].to_numpy())
        rows.append(row)
        if seed == 0:
            rankers[key] = chosen
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return rows, rankers


def write_summary(df: pd.DataFrame, rankers: dict, out: Path, args) -> None:
    lines = ["# Structural rankers: signed graph-feature aggregates, chosen on half, reported on the other half", "",
             "Produced by `experiments/structural_rankers.py` (see its docstring for the protocol). "
             f"Split seeds per section as stated; fit half subsampled to {args.fit_max}; {args.screen} screened "
             f"features; at most {args.max_size} chosen; aggregate mean_log_rank. No network is built: "
             "every value is a function of the architecture.", ""]
    for sp, g in df.groupby("space", sort=False):
        lines += [f"## {sp}: {SPACES[sp][4]}", "",
                  f"{int(g['n_fit'].iloc[0]) + int(g['n_test'].iloc[0])} architectures; halves by canonical form; "
                  f"{len(g)} split seeds.", "",
                  "| held-out metric | mean | sd | min |", "|---|---|---|---|"]
        cols = ["spearman_test", "kendall_test", "best_single_spearman_test"]
        if "params_spearman_test" in g and g["params_spearman_test"].notna().any():
            cols.append("params_spearman_test")
        for c in cols:
            sd = g[c].std(ddof=1) if len(g) > 1 else 0
            lines.append(f"| {c} | {g[c].mean():.3f} | {sd:.3f} | {g[c].min():.3f} |")
        lines += ["", f"Seed-0 ranker (`@{ranker_set_name(sp)}`): `{','.join(rankers[sp])}`", ""]
    out.joinpath("summary.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", default="nb101,darts,nb201",
                    help=f"comma-separated keys of SPACES (TNB101: space/task, e.g. {TNB101_KEYS.split(',')[0]})")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--screen", type=int, default=24)
    ap.add_argument("--max-size", type=int, default=8)
    ap.add_argument("--fit-max", type=int, default=3000)
    ap.add_argument("--data-root", default=str(benchmark_root()))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, rankers = [], {}
    for sp in args.spaces.split(","):
        if sp not in SPACES:
            raise SystemExit(f"unknown key {sp!r}; keys: {', '.join(SPACES)}")
        r, k = run_space(sp, args)
        rows += r
        rankers.update(k)
    df = pd.DataFrame(rows)
    # one results / rankers file for every key ever run: a run over some keys keeps the others' rows
    if (out / "results.csv").exists():
        old = pd.read_csv(out / "results.csv")
        df = pd.concat([old[~old["space"].isin(df["space"].unique())], df], ignore_index=True)
    if (out / "rankers.json").exists():
        rankers = {**json.loads((out / "rankers.json").read_text()), **rankers}
    df.to_csv(out / "results.csv", index=False)
    out.joinpath("rankers.json").write_text(json.dumps(rankers, indent=1) + "\n")
    # per-task rankers of multi-task spaces ship with zcnas (PROXY_SETS, the space's default_ranker)
    TASK_RANKERS.write_text(json.dumps({k: v for k, v in rankers.items() if "/" in k}, indent=1) + "\n")
    write_summary(df, rankers, out, args)
    print(out.joinpath("summary.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
