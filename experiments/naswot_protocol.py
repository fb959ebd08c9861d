"""NASWOT's search protocol on NAS-Bench-201 CIFAR-10, training-free and with confirmation.

Protocol (Mellor et al., ICML 2021, Table 2): sample N architectures uniformly from NB201, score
them at initialisation, pick the best, report the pick's CIFAR-10 test accuracy after the full
200-epoch training, mean +- sd over seeds. Here N in {10, 100, 1000}, and a second variant confirms
the top k in {5, 10, 20} with the 12-epoch NB201 accuracy (``c10_test_12ep``, NB201 v1_1 hp=12,
seed mean) and picks the best of those. The outcome column is ``c10_test_200ep``: CIFAR-10 test
accuracy (ori-test) after 200 epochs, NATS-Bench TSS seed mean (the NB201 v1_1 column differs on
2,416 architectures; ``--outcome c10_test_200ep_v11`` uses that one).

Score sources (``--sources``):

``zcnas``      zcnas's own scores of all 15,625 strings (benchmarks_data/nb201_zcnas_scores.h5,
               CIFAR-10 run: synflow, jacob_cov, grad_norm, snip, naswot, params, flops; batch 64 of
               real CIFAR-10 images, seed 0); used only when the store covers the whole space.
``published``  the NASWOT authors' published score for all 15,625 (NaN for 341, ranked last) plus
               the ``params_M`` column (parameter count, a registered proxy ``params``).
``suitezero``  the 13 NAS-Bench-Suite-Zero proxies (CIFAR-10), published for 9,445 architectures;
               candidates are then sampled from those 9,445 only.

How the aggregate is chosen, honestly: the function classes of NB201 (NATS canonical string; all
strings of a class on one side) are shuffled with a fixed seed and split into halves A and B.
Every combination (each proxy alone; every subset of 2..``--max-combo`` proxies, or
``--max-combo-many`` for Suite-Zero's 13, under the aggregates mean_log_rank, mean_rank and
min_rank) is scored on half A with ``--select-seeds`` seeds per N (seeds 0..S-1), by the mean
over N of the mean 200-epoch accuracy of the pick; the
confirmed variant is selected separately, by the same objective with k=10. The chosen combinations
and fixed baselines (naswot alone; mean_log_rank of naswot, synflow, jacob_cov, flops, params) are
then reported on half B with ``--seeds`` new seeds (10,000 + i), and, for comparison with NASWOT's
table, on the whole space with the same seeds (the selection saw half of those architectures, so
only the B numbers are clean).

Wall time: the measured time of one search with precomputed scores (``SearchPipeline`` with a
``StoredScorer``, an ``AggregateSelector`` and a ``BenchmarkConfirmer``; median over
``--timing-seeds`` runs, which also check that the pipeline picks what the vectorised study
picks), plus the cost of computing the scores of N architectures, estimated as N times the mean
per-architecture seconds of the chosen proxies in the zcnas store (``seconds`` column, rows that
were computed rather than copied within a function class; measured on a shared 2-core CPU).

Run: ZCNAS_DATA=../shared/benchmarks nice -n 15 python experiments/naswot_protocol.py
Writes experiments/results/naswot_protocol/{results.csv, selection_*.csv, README.md}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

NS = (10, 100, 1000)
KS = (5, 10, 20)
AGGS = ("mean_log_rank", "mean_rank", "min_rank")
NASWOT_PAPER = {10: "92.44 +- 1.13", 100: "92.81 +- 0.99", 1000: "92.96 +- 0.81"}
BASELINE = ("naswot", "synflow", "jacob_cov", "flops", "params")
RESULTS = Path(__file__).resolve().parent / "results" / "naswot_protocol"
log = logging.getLogger("naswot_protocol")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default=None, help="benchmark folder (default ZCNAS_DATA)")
    p.add_argument("--zcnas-store", default=str(Path(__file__).resolve().parents[1] / "benchmarks_data"
                                                 / "nb201_zcnas_scores.h5"))
    p.add_argument("--sources", default="zcnas,published,suitezero")
    p.add_argument("--outcome", default="c10_test_200ep")
    p.add_argument("--short", default="c10_test_12ep")
    p.add_argument("--seeds", type=int, default=500, help="report seeds per N")
    p.add_argument("--select-seeds", type=int, default=100, help="selection seeds per N (on half A)")
    p.add_argument("--max-combo", type=int, default=5, help="largest proxy subset tried (suitezero: min(3, this))")
    p.add_argument("--max-combo-many", type=int, default=3,
                   help="largest subset for sources with more than 8 proxies (suitezero)")
    p.add_argument("--timing-seeds", type=int, default=10)
    p.add_argument("--split-seed", type=int, default=2024)
    p.add_argument("--out", default=str(RESULTS))
    return p.parse_args(argv)


# ---- data -------------------------------------------------------------------------------------------
def load_truth(data_root) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide truth (all merged-table metrics) and the published score rows."""
    from zcnas.records.importers import run_importer

    imp = run_importer("nb201-merged", None, data_root=data_root, hw=False)
    t = imp["truth"].pivot_table(index="arch", columns="metric", values="value", aggfunc="last")
    t.columns.name = None
    return t, imp["scores"]


def load_sources(names, published: pd.DataFrame, truth: pd.DataFrame, zcnas_store: str) -> dict:
    """name -> (wide scores over the archs it covers, per-arch seconds frame or None, note)."""
    out = {}
    for name in names:
        if name == "zcnas":
            from zcnas.records import RecordStore

            if not Path(zcnas_store).exists():
                log.warning("no zcnas store at %s; skipping", zcnas_store)
                continue
            with RecordStore(zcnas_store, "r") as st:
                long = st.frame("scores")
            # the CIFAR-10 run, and the data-free run (proxies that need no images: dataset "")
            long = long[long["dataset"].isin(["cifar10", ""])].drop_duplicates(["arch", "proxy"])
            run_keys = sorted(set(long["run_key"]))
            wide = long.assign(value=long["value"].where(long["status"] == "ok")).pivot_table(
                index="arch", columns="proxy", values="value", aggfunc="last", dropna=False)
            wide.columns.name = None
            if len(wide) < len(truth):
                log.warning("zcnas store covers %d of %d architectures: not complete, skipped", len(wide), len(truth))
                out["zcnas-partial"] = None
                continue
            computed = long[~long["reason"].str.contains("copied from", regex=False)]
            secs = computed.pivot_table(index="arch", columns="proxy", values="seconds", aggfunc="last")
            rows_per_proxy = long.groupby("proxy")["arch"].nunique()
            incomplete = sorted(rows_per_proxy[rows_per_proxy < len(truth)].index)
            if incomplete:
                log.warning("zcnas proxies %s do not cover the whole space yet: left out", incomplete)
            wide = wide.drop(columns=incomplete)
            out["zcnas"] = (wide, secs, f"zcnas store {Path(zcnas_store).name}, runs {', '.join(run_keys)}")
        elif name == "published":
            nw = published[published["run_key"] == "published:naswot:cifar10"]
            wide = pd.DataFrame({"naswot": nw.set_index("arch")["value"].where(nw.set_index("arch")["status"] == "ok")})
            wide["params"] = truth["params_M"].reindex(wide.index)
            out["published"] = (wide, None, "NASWOT authors' score (merged table) + params_M")
        elif name == "suitezero":
            sz = published[published["run_key"] == "published:suitezero:cifar10"]
            sz = sz.assign(value=sz["value"].where(sz["status"] == "ok"))
            wide = sz.pivot_table(index="arch", columns="proxy", values="value", aggfunc="last", dropna=False)
            wide.columns.name = None
            from zcnas.proxies import PROXIES

            keep = [c for c in wide.columns if c in PROXIES]
            wide = wide[keep].rename(columns={c: PROXIES.resolve(c) for c in keep})
            out["suitezero"] = (wide, None, f"NAS-Bench-Suite-Zero CIFAR-10, {len(wide)} archs "
                                            f"(proxies with a registered direction: {list(wide.columns)})")
        else:
            raise SystemExit(f"unknown source {name!r}")
    return out


def halves(archs: pd.Index, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of halves A and B, split by NB201 function class (an exact half of the classes)."""
    from zcnas.selection import split_by_class

    return split_by_class(list(archs), "nb201", seed=seed, method="permutation")


# ---- the study ----------------------------------------------------------------------------------------
class Study:
    """Vectorised picks over seeds for many combinations, calling the library's aggregates."""

    def __init__(self, scores: pd.DataFrame, truth: pd.DataFrame, outcome: str, short: str):
        from zcnas.proxies import get_proxy

        self.archs = scores.index
        self.proxies = list(scores.columns)
        signs = np.array([1.0 if get_proxy(p).higher_is_better else -1.0 for p in self.proxies])
        o = scores.to_numpy(float) * signs
        o[~np.isfinite(o)] = np.nan
        self.oriented = o
        self.outcome = truth[outcome].reindex(self.archs).to_numpy(float)
        self.short = truth[short].reindex(self.archs).to_numpy(float)
        self.tiebreak = np.argsort(np.argsort(self.archs.to_numpy(dtype=str)))  # arch-string order

    def combos(self, max_size: int) -> list[tuple[str, tuple[str, ...]]]:
        out = [("proxy", (p,)) for p in self.proxies]
        for size in range(2, max_size + 1):
            for sub in itertools.combinations(self.proxies, size):
                out += [(agg, sub) for agg in AGGS]
        return out

    def run(self, pool: np.ndarray, n: int, seeds, combos, ks=(1, *KS)) -> np.ndarray:
        """Outcome of the pick: array (len(seeds), len(combos), len(ks)); k=1 is training-free."""
        from zcnas.aggregate import AGGREGATES, rank_percentiles

        col = {p: i for i, p in enumerate(self.proxies)}
        res = np.full((len(seeds), len(combos), len(ks)), np.nan)
        for si, seed in enumerate(seeds):
            idx = pool[np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False)]
            o = self.oriented[idx]
            pct = rank_percentiles(o, "worst")
            tb = self.tiebreak[idx]
            for ci, (agg, sub) in enumerate(combos):
                cols = [col[p] for p in sub]
                if agg == "proxy":
                    v = o[:, cols[0]]
                    v = np.where(np.isnan(v), -np.inf, v)
                else:
                    v = AGGREGATES.get(agg)(pct[:, cols], o[:, cols])
                order = np.lexsort((tb, -v))  # best first, ties by arch string (as order_by)
                for ki, k in enumerate(ks):
                    top = idx[order[:k]]
                    res[si, ci, ki] = self.outcome[top[np.nanargmax(self.short[top])]] if k > 1 else \
                        self.outcome[top[0]]
        return res


def name_of(combo) -> str:
    agg, sub = combo
    return sub[0] if agg == "proxy" else f"{agg}({','.join(sub)})"


def select(study: Study, pool_a: np.ndarray, combos, seeds) -> pd.DataFrame:
    rows = []
    per_n = {n: study.run(pool_a, n, seeds, combos, ks=(1, 10)) for n in NS}
    for ci, c in enumerate(combos):
        r = {"combo": name_of(c)}
        for n in NS:
            r[f"free_N{n}"] = float(np.nanmean(per_n[n][:, ci, 0]))
            r[f"k10_N{n}"] = float(np.nanmean(per_n[n][:, ci, 1]))
        r["objective_free"] = float(np.mean([r[f"free_N{n}"] for n in NS]))
        r["objective_k10"] = float(np.mean([r[f"k10_N{n}"] for n in NS]))
        rows.append(r)
    return pd.DataFrame(rows)


def timing(scores: pd.DataFrame, truth: pd.DataFrame, combo, pool: np.ndarray, n: int, k: int, seeds,
           study: Study, outcome: str, short: str) -> tuple[float, bool]:
    """Median wall time of one SearchPipeline run; checks the pipeline's pick equals the study's."""
    from zcnas.ranking import AggregateSelector, BenchmarkConfirmer, SearchPipeline, StoredScorer

    agg, sub = combo
    conf = BenchmarkConfirmer(truth[[short, outcome]], metric=short, outcome=outcome, space="nb201")
    scorer = StoredScorer(scores, list(sub))
    selector = AggregateSelector(None if agg == "proxy" else agg, list(sub))
    times, same = [], True
    for seed in seeds:
        idx = pool[np.random.default_rng(seed).choice(len(pool), size=n, replace=False)]
        archs = list(scores.index[idx])
        t0 = time.perf_counter()
        res = SearchPipeline(scorer, selector, conf, k=k).run(archs)
        times.append(time.perf_counter() - t0)
        expect = study.run(pool, n, [seed], [combo], ks=(k,))[0, 0, 0]
        got = truth.at[res.best, outcome] if k > 1 else truth.at[res.table["arch"].iloc[0], outcome]
        same &= bool(np.isclose(got, expect))
    return float(np.median(times)), same


def main(argv=None) -> int:
    import torch

    torch.set_num_threads(1)
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    truth, published = load_truth(args.data_root)
    sources = load_sources(args.sources.split(","), published, truth, args.zcnas_store)
    rows, notes, selections = [], {}, {}
    report_seeds = [10_000 + i for i in range(args.seeds)]
    sel_seeds = list(range(args.select_seeds))
    for name, src in sources.items():
        if src is None:
            notes[name] = "store incomplete; not used"
            continue
        scores, secs, note = src
        notes[name] = note
        scores = scores[scores.index.isin(truth.index)]
        study = Study(scores, truth, args.outcome, args.short)
        a, b = halves(scores.index, args.split_seed)
        pool_a, pool_b, pool_all = np.flatnonzero(a), np.flatnonzero(b), np.arange(len(scores))
        max_size = min(args.max_combo, args.max_combo_many) if len(study.proxies) > 8 else args.max_combo
        combos = study.combos(min(max_size, len(study.proxies)))
        t0 = time.time()
        sel = select(study, pool_a, combos, sel_seeds)
        log.info("%s: %d combinations selected on half A in %.0f s", name, len(combos), time.time() - t0)
        sel.sort_values("objective_free", ascending=False).to_csv(out / f"selection_{name}.csv", index=False,
                                                                  float_format="%.4f")
        best_free = combos[int(sel["objective_free"].idxmax())]
        best_k10 = combos[int(sel["objective_k10"].idxmax())]
        selections[name] = {"training-free": name_of(best_free), "k=10 confirmation": name_of(best_k10)}
        report = {"selected (training-free)": best_free, "selected (k=10)": best_k10}
        if "naswot" in study.proxies:
            report["naswot alone"] = ("proxy", ("naswot",))
        if all(p in study.proxies for p in BASELINE):
            report["baseline mean_log_rank"] = ("mean_log_rank", BASELINE)
        merged: dict = {}
        for label, combo in report.items():  # one report per distinct combination
            merged[combo] = f"{merged[combo]} = {label}" if combo in merged else label
        for combo, label in merged.items():
            for pool_name, pool in (("B", pool_b), ("all", pool_all)):
                for n in NS:
                    res = study.run(pool, n, report_seeds, [combo])[:, 0, :]
                    n_secs = np.nan
                    if secs is not None:
                        per_arch = secs.reindex(columns=list(combo[1])).sum(axis=1, min_count=1).mean()
                        n_secs = float(per_arch * n)
                    for ki, k in enumerate((1, *KS)):
                        rows.append({"source": name, "choice": label, "combo": name_of(combo), "pool": pool_name,
                                     "N": n, "k": k if k > 1 else 0, "mean": float(np.nanmean(res[:, ki])),
                                     "sd": float(np.nanstd(res[:, ki], ddof=1)), "seeds": len(report_seeds),
                                     "score_cost_s": n_secs})
            for n in NS:
                for k in (1, 10):
                    t, same = timing(scores, truth, combo, pool_all, n, k, report_seeds[: args.timing_seeds], study,
                                     args.outcome, args.short)
                    for r in rows:
                        if r["source"] == name and r["choice"] == label and r["N"] == n and \
                                r["k"] == (k if k > 1 else 0):
                            r["search_wall_s"] = t
                            r["pipeline_agrees"] = same
        log.info("%s done (%.0f s so far)", name, time.time() - t_start)
        df = pd.DataFrame(rows)  # written after each source, so a long run leaves its finished part
        df.to_csv(out / "results.csv", index=False, float_format="%.4f")
        write_readme(out, df, notes, selections, args, time.time() - t_start)
    return 0


def write_readme(out: Path, df: pd.DataFrame, notes, selections, args, elapsed: float) -> None:
    lines = ["# NASWOT's search protocol on NB201 CIFAR-10", "",
             f"Outcome: `{args.outcome}` (CIFAR-10 test accuracy after 200 epochs, NATS-Bench TSS seed mean). "
             f"Confirmation: `{args.short}` (12-epoch NB201 test accuracy), best of the top k.",
             f"Report: {args.seeds} seeds per N on half B of the function classes (clean) and on the whole space "
             f"(for NASWOT's table; the selection saw half A). Selection: {args.select_seeds} seeds per N on half A.",
             f"Produced by `experiments/naswot_protocol.py` in {elapsed / 60:.1f} min "
             f"(args: {json.dumps({k: v for k, v in vars(args).items() if k not in ('out', 'zcnas_store')})}).", "",
             "Sources:", *[f"- **{k}**: {v}" for k, v in notes.items()], "",
             "Selected combinations (on half A):", *[f"- {k}: {v}" for k, v in selections.items()], "",
             "NASWOT (Mellor et al. 2021, Table 2, CIFAR-10 test): N=10 92.44 +- 1.13, N=100 92.81 +- 0.99, "
             "N=1000 92.96 +- 0.81; 30 s for N=100 on a GTX 1080 Ti. Regularised evolution: 93.92 after "
             "12,000 s of training; best architecture in the space 94.37.", ""]
    for pool in ("B", "all"):
        sub = df[df["pool"] == pool]
        lines += [f"## Pool {pool}: mean +- sd of the pick's {args.outcome} (%)", ""]
        head = "| source | choice | combo | k | " + " | ".join(f"N={n}" for n in NS) + " |"
        lines += [head, "|" + "---|" * (4 + len(NS))]
        for (src, choice, combo, k), g in sub.groupby(["source", "choice", "combo", "k"], sort=False):
            cells = []
            for n in NS:
                r = g[g["N"] == n].iloc[0]
                cells.append(f"{r['mean']:.2f} +- {r['sd']:.2f}")
            lines.append(f"| {src} | {choice} | {combo} | {k or '-'} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Wall time per search (pool all)", "",
              "search_wall_s: measured, one SearchPipeline run with precomputed scores (median). score_cost_s: "
              "N x mean per-arch seconds of the combo's proxies in the zcnas store (CPU, shared machine).", "",
              "| source | combo | N | k | search_wall_s | score_cost_s | pipeline agrees |",
              "|---|---|---|---|---|---|---|"]
    t = df[(df["pool"] == "all") & df["k"].isin([0, 10])].dropna(subset=["search_wall_s"])
    for r in t.itertuples(index=False):
        lines.append(f"| {r.source} | {r.combo} | {r.N} | {r.k or '-'} | {r.search_wall_s:.3f} | "
                     f"{'' if np.isnan(r.score_cost_s) else f'{r.score_cost_s:.0f}'} | {r.pipeline_agrees} |")
    (out / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
