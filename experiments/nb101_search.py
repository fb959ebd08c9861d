"""NASWOT's search protocol on NAS-Bench-101, restricted to the 30,001 architectures with ground truth.

Protocol (Mellor et al., ICML 2021, Table 2, on NB101's 30,001 here): draw N architectures
uniformly without replacement from a pool, score them at initialisation, pick the best, report the
pick's CIFAR-10 validation accuracy after 108 epochs (one training run, nasbench-vis table), mean
± sd over seeds. N in {100, 1000}, ``--seeds`` seeds (default 200). Beside the training-free
pick: the top 10 by the ranker confirmed by the 12-epoch accuracy (the best of the ten at 12
epochs, as a short training would choose), a random pick, and the oracle (the best of the sample).

Rankers (scores computed by zcnas, ``zcnas.ranking.score_architectures``, into a resumable store
under ``--work-dir``; structural proxies build no network):

``@zcnas_nb101_graph``  signed mean of log-ranks of the graph features chosen on half of the
                        30,001 (split seed 0, ``experiments/structural_rankers.py``);
``params``              the parameter count (the table's column, which zcnas's ``params`` proxy
                        reproduces on all 30,001: experiments/results/nb101/parity.md);
``graph:paths[c3+c1]``  the best single graph feature of the fit half.

Pools: ``held-out`` (the architectures whose function class was in the half the ranker was NOT
chosen on: the clean figure) and ``all`` (the 30,001; the ranker saw half of them).

Run:  ZCNAS_DATA=../shared/benchmarks nice python experiments/nb101_search.py
Writes experiments/results/nb101/search/{results.csv, summary.md}.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.aggregate import aggregate
from zcnas.paths import benchmark_root
from zcnas.proxies import get_proxy, resolve_proxies
from zcnas.ranking.scoring import ScoringConfig, score_architectures, wide_scores
from zcnas.records import RecordStore
from zcnas.records.importers import run_importer
from zcnas.selection import split_by_class

OUT = Path(__file__).resolve().parent / "results" / "nb101" / "search"
RANKERS = {"@zcnas_nb101_graph": "@zcnas_nb101_graph", "params": "params",
           "graph:paths[c3+c1]": "graph:paths[c3+c1]"}
OUTCOME, SHORT, PARAMS = "nb101_c10_valid_108ep", "nb101_c10_valid_12ep", "nb101_params"


def load(args) -> tuple[pd.DataFrame, pd.DataFrame]:
    truth_store = RecordStore.memory()
    run_importer("nb101-csv", truth_store, data_root=args.data_root)
    truth = truth_store.truth_wide(metrics=[OUTCOME, SHORT, PARAMS], space="nb101").dropna()
    archs = list(truth.index)
    proxies = [p for p in dict.fromkeys(p for r in RANKERS.values() for p in resolve_proxies(r)) if p != "params"]
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with RecordStore(work / "nb101_search_scores.h5", mode="a") as store:
        long = score_architectures(archs, proxies, ScoringConfig(space="nb101"), store=store, progress=args.progress)
    print(f"scores of {len(archs)} architectures x {len(proxies)} proxies in {time.time() - t0:.0f} s "
          f"(resumable store {work / 'nb101_search_scores.h5'})", flush=True)
    wide = wide_scores(long, proxies).reindex(archs)
    wide["params"] = truth[PARAMS] / 1e6
    return truth, wide


def study(truth: pd.DataFrame, wide: pd.DataFrame, args) -> pd.DataFrame:
    archs = np.asarray(truth.index)
    fit, _test = split_by_class(list(archs), "nb101", seed=0)
    pools = {"held-out": np.flatnonzero(~fit), "all": np.arange(len(archs))}
    y, short = truth[OUTCOME].to_numpy(), truth[SHORT].to_numpy()
    X = wide.to_numpy(dtype=float)
    cols = {c: i for i, c in enumerate(wide.columns)}
    rankers = {name: resolve_proxies(spec) for name, spec in RANKERS.items()}
    rows = []
    for pool_name, pool in pools.items():
        for n in args.sizes:
            for seed in range(args.seeds):
                rng = np.random.default_rng(seed)
                idx = rng.choice(pool, size=n, replace=False)
                base = {"pool": pool_name, "N": n, "seed": seed}
                rows.append({**base, "method": "oracle", "acc": y[idx].max()})
                rows.append({**base, "method": "random", "acc": y[idx[0]]})
                for name, proxies in rankers.items():
                    sub = pd.DataFrame(X[np.ix_(idx, [cols[p] for p in proxies])], columns=proxies)
                    score = aggregate(sub, proxies, {p: get_proxy(p).higher_is_better for p in proxies}).to_numpy()
                    order = np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")
                    rows.append({**base, "method": name, "acc": y[idx[order[0]]]})
                    top = idx[order[:10]]
                    rows.append({**base, "method": f"{name} + top-10 confirmed (12 ep)",
                                 "acc": y[top[np.argmax(short[top])]]})
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame, n_archs: int, args) -> str:
    g = df.groupby(["pool", "N", "method"], sort=False)["acc"].agg(["mean", "std", "count"]).reset_index()
    oracle = df[df["method"] == "oracle"].set_index(["pool", "N", "seed"])["acc"]
    gaps = df.join(oracle.rename("oracle_acc"), on=["pool", "N", "seed"])
    gaps["gap"] = gaps["oracle_acc"] - gaps["acc"]
    gap = gaps.groupby(["pool", "N", "method"], sort=False)["gap"].mean().reset_index()
    g = g.merge(gap, on=["pool", "N", "method"])
    lines = ["# NASWOT's protocol on NB101 (30,001 architectures with a 108-epoch training)", "",
             f"Produced by `experiments/nb101_search.py` ({args.seeds} seeds; {n_archs} architectures). "
             "Outcome: CIFAR-10 validation accuracy (%) after 108 epochs, one training run per architecture. "
             "`held-out`: candidates drawn only from the function classes of the half the ranker was not "
             "chosen on (the clean figure); `all`: from the 30,001. Gap: oracle minus pick, points, mean over seeds.",
             "", "| pool | N | method | mean acc | sd | gap to oracle | seeds |", "|---|---|---|---|---|---|---|"]
    for r in g.itertuples():
        lines.append(f"| {r.pool} | {r.N} | {r.method} | {r.mean:.2f} | {r.std:.2f} | {r.gap:.2f} | {r.count} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")], default=[100, 1000])
    ap.add_argument("--data-root", default=str(benchmark_root()))
    ap.add_argument("--work-dir", default="runs/nb101_search")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)
    truth, wide = load(args)
    df = study(truth, wide, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "results.csv", index=False)
    text = summarise(df, len(truth), args)
    (out / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
