"""Regularised evolution (Real et al., AAAI 2019) on the DARTS space, children through a zcnas Prefilter.

A worked example of :class:`zcnas.ranking.Prefilter` in a DARTS searcher's loop, built from the
space API only (``space.sample``, ``space.mutate``, ``space.encode``). The pre-filter computes its
proxies for real on the built NB301 networks (32 channels, 8 cells): by default ``params`` and
``l2_norm`` (data-free; no forward pass) combined by ``mean_log_rank``.

Fitness can only be measured where NB301's *surrogate prediction* is known: the 725 genotypes of
NAS-Bench-Suite-Zero. So two runs:

``pool``   evolution restricted to the 725. A mutation is ``space.mutate(parent)`` followed by a move
           to the nearest pool genotype not yet evaluated (L1 distance of ``space.encode(., "onehot")``,
           which ignores a node's pair order; ties broken at random). Fitness = NB301's predicted
           accuracy (``nb301_c10_val_pred``, a surrogate's prediction, not a training run); each
           evaluation stands for one training. Variants, the same budget of evaluations:
           ``random`` (pool genotypes drawn at random), ``plain`` (tournament, one child per cycle),
           ``offspring`` (``--children`` mutations per cycle, the pre-filter picks the one evaluated),
           ``warm`` (initial population = the pre-filter's top P of ``--warm-pool`` random pool
           genotypes) and ``warm+offspring``. Outcome: the best prediction found after E
           evaluations, mean +- sd over seeds. The pre-filter's scores are computed once per
           genotype and cached across seeds (seeded, where present, from zcnas's own store
           ``benchmarks_data/darts_zcnas_scores.h5``, the same configuration: seed 0, PyTorch
           default initialisation per genotype).
``open``   the same loop over the open space (children are arbitrary genotypes, almost never in the
           pool): it shows the pre-filter scoring new genotypes and its cost per child, but no
           outcome can be measured. The tournament needs a fitness, so this run uses the pre-filter's
           own criterion as a stand-in (the ``--open-fitness`` proxy of the picked child): it is a
           zero-cost search whose result nobody has measured here.

Run: ZCNAS_DATA=../shared/benchmarks nice -n 5 python -m experiments.darts_evolution
Writes experiments/results/darts/evolution/{curves.csv, runs.csv, open_space.csv, summary.md}.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results" / "darts" / "evolution"
ZCNAS_STORE = Path(__file__).resolve().parents[1] / "benchmarks_data" / "darts_zcnas_scores.h5"
OUTCOME = "nb301_c10_val_pred"
CHECKPOINTS = (10, 25, 50, 100)
VARIANTS = ("random", "plain", "offspring", "warm", "warm+offspring")
log = logging.getLogger("darts_evolution")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default=None, help="benchmark folder (default ZCNAS_DATA)")
    p.add_argument("--zcnas-store", default=str(ZCNAS_STORE), help="read only: seeds the pre-filter's cache")
    p.add_argument("--proxies", default="params,l2_norm")
    p.add_argument("--aggregate", default="mean_log_rank")
    p.add_argument("--seeds", type=int, default=200)
    p.add_argument("--budget", type=int, default=100, help="fitness evaluations per run")
    p.add_argument("--population", type=int, default=20)
    p.add_argument("--sample-size", type=int, default=5)
    p.add_argument("--children", type=int, default=10)
    p.add_argument("--warm-pool", type=int, default=200)
    p.add_argument("--open-cycles", type=int, default=30, help="cycles of the open-space run")
    p.add_argument("--open-fitness", default="params", help="stand-in fitness of the open-space run")
    p.add_argument("--open-data-proxies", default="naswot",
                   help="a second open-space run with proxies that read real CIFAR-10 images ('' to skip)")
    p.add_argument("--open-data-batch-size", type=int, default=8)
    p.add_argument("--open-data-cycles", type=int, default=5)
    p.add_argument("--work-store", default="/tmp/zcnas_darts_evolution/prefilter.h5",
                   help="record store (outside the repository) where the pre-filter saves the scores it computes, "
                        "so a rerun reuses them; '' for none")
    p.add_argument("--out", default=str(RESULTS))
    return p.parse_args(argv)


def load_pool(data_root) -> pd.Series:
    from zcnas.records.importers import run_importer

    t = run_importer("nb301-suitezero-json", None, data_root=data_root)["truth"]
    return t[t["metric"] == OUTCOME].set_index("arch")["value"]


def store_cache(path: str, proxies: list[str], pool: pd.Index) -> pd.DataFrame | None:
    """zcnas's own data-free scores of pool genotypes (seed 0), to seed the pre-filter's cache."""
    from zcnas.proxies import get_proxy
    from zcnas.records import RecordStore

    if not Path(path).exists() or any(get_proxy(p).needs_data for p in proxies):
        return None
    with RecordStore(path, "r") as st:
        long = st.frame("scores")
    long = long[(long["dataset"] == "") & long["proxy"].isin(proxies) & long["arch"].isin(pool)
                & (long["seed"] == 0)]
    if long.empty:
        return None
    long = long.assign(value=long["value"].where(long["status"] == "ok"))
    wide = long.pivot_table(index="arch", columns="proxy", values="value", aggfunc="last", dropna=False)
    return wide.dropna(subset=[p for p in proxies if p in wide.columns], how="any")


class PoolMoves:
    """Mutation inside the pool: a random neighbour of the parent (``space.neighbours``, the move
    ``space.mutate`` draws from, drawn the same way), then the nearest pool genotype not yet
    evaluated. A parent's neighbours and their distances to the pool are computed once."""

    def __init__(self, space, pool: list[str]):
        self.space, self.pool = space, pool
        self._encf = np.stack([space.encode(a, "onehot") for a in pool]).astype(np.float32)
        self._norm = self._encf.sum(1)
        self.index = {a: i for i, a in enumerate(pool)}
        self._dist: dict[str, np.ndarray] = {}

    def distances(self, parent: str) -> np.ndarray:
        """(neighbours of parent) x (pool) L1 distances of the onehot encodings."""
        if parent not in self._dist:
            nb = np.stack([self.space.encode(a, "onehot") for a in self.space.neighbours(parent)]).astype(np.float32)
            # L1 between 0/1 vectors: |a| + |b| - 2 a.b
            d = nb.sum(1)[:, None] + self._norm[None, :] - 2.0 * nb @ self._encf.T
            self._dist[parent] = np.rint(d).astype(np.int16)
        return self._dist[parent]

    def mutate(self, parent: str, rng: np.random.Generator, taken: set[str]) -> str:
        dist = self.distances(parent)
        d = dist[int(rng.integers(len(dist)))].astype(float)  # as space.mutate: a uniform neighbour
        d[[self.index[a] for a in taken]] = np.inf
        best = np.flatnonzero(d == d.min())
        return self.pool[int(rng.choice(best))]


def evolve_pool(variant: str, seed: int, fitness: dict, prefilter, moves: PoolMoves, args) -> list[str]:
    rng = np.random.default_rng(seed)
    pool = moves.pool
    if variant == "random":
        return [pool[i] for i in rng.choice(len(pool), size=args.budget, replace=False)]
    evaluated: list[str] = []
    taken: set[str] = set()
    pop: deque[tuple[str, float]] = deque()
    if variant.startswith("warm"):
        cands = [pool[i] for i in rng.choice(len(pool), size=args.warm_pool, replace=False)]
        init = prefilter(cands, args.population).archs
    else:
        init = [pool[i] for i in rng.choice(len(pool), size=args.population, replace=False)]
    for a in init:
        evaluated.append(a)
        taken.add(a)
        pop.append((a, fitness[a]))
    while len(evaluated) < args.budget:
        idx = rng.choice(len(pop), size=min(args.sample_size, len(pop)), replace=False)
        parent = max((pop[i] for i in idx), key=lambda t: t[1])[0]
        if variant.endswith("offspring"):
            kids: list[str] = []
            for _ in range(args.children):
                kids.append(moves.mutate(parent, rng, taken | set(kids)))
            child = prefilter(kids, 1).archs[0]
        else:
            child = moves.mutate(parent, rng, taken)
        evaluated.append(child)
        taken.add(child)
        pop.append((child, fitness[child]))
        pop.popleft()
    return evaluated


def open_space_run(space, prefilter, args, pool: set[str], cycles: int) -> tuple[pd.DataFrame, dict]:
    """Evolution over the open space; every child is scored for real; records cost per child. The
    tournament's stand-in fitness is ``--open-fitness`` when the pre-filter computes it, else its
    first proxy (in its direction)."""
    from zcnas.proxies import get_proxy

    names = prefilter.names
    fit = args.open_fitness if args.open_fitness in names else names[0]
    sign = 1.0 if get_proxy(fit).higher_is_better else -1.0
    rng = np.random.default_rng(12345)
    rows = []
    init = [space.format(a) for a in space.sample(args.population, rng)]
    t0 = time.perf_counter()
    res = prefilter(init, args.population)
    init_s = time.perf_counter() - t0
    per = {p.arch: sign * p.proxies[fit] for p in res}
    pop: deque[tuple[str, float]] = deque((a, per[a]) for a in init)
    load_before = os.getloadavg()
    for cycle in range(cycles):
        idx = rng.choice(len(pop), size=args.sample_size, replace=False)
        parent = max((pop[i] for i in idx), key=lambda t: t[1])[0]
        kids = list(dict.fromkeys(space.format(space.mutate(parent, rng)) for _ in range(args.children)))
        t0 = time.perf_counter()
        pick = prefilter(kids, 1)
        secs = time.perf_counter() - t0
        n_new = pick.n_computed / max(1, len(names))
        best = pick[0]
        pop.append((best.arch, sign * best.proxies[fit]))
        pop.popleft()
        rows.append({"prefilter": ",".join(names), "cycle": cycle, "children": len(kids), "children_scored": n_new,
                     "seconds": secs, "seconds_per_scored_child": secs / n_new if n_new else np.nan,
                     "children_in_pool": sum(k in pool for k in kids), "picked": best.arch,
                     **{f"picked_{p}": v for p, v in best.proxies.items()}})
    info = {"prefilter": ",".join(names), "fitness": fit, "cycles": cycles, "init_population_s": init_s,
            "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    return pd.DataFrame(rows), info


def main(argv=None) -> int:
    import torch

    from zcnas.ranking import Prefilter
    from zcnas.spaces import get_space

    torch.set_num_threads(1)
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    space = get_space("darts")
    truth = load_pool(args.data_root)
    pool = list(truth.index)
    fitness = truth.to_dict()
    proxies = args.proxies.split(",")
    cache = store_cache(args.zcnas_store, proxies, truth.index)
    if args.work_store:
        Path(args.work_store).parent.mkdir(parents=True, exist_ok=True)
    pf = Prefilter(space="darts", proxies=proxies, aggregate=args.aggregate, seed=0, cache=cache,
                   store=args.work_store or None)
    n_seeded = pf.cache_size
    log.info("pre-filter cache seeded with %d pool genotypes from %s", n_seeded, args.zcnas_store)
    # score the pool once, timed: the cost per genotype of the pre-filter on this machine
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    pf.score(pool)
    pool_score_s = time.perf_counter() - t0
    n_pool_computed = pf._last_computed / len(proxies)  # new this run (not from the cache nor the work store)
    log.info("scored %d pool genotypes in %.0f s", n_pool_computed, pool_score_s)
    moves = PoolMoves(space, pool)
    e = moves._encf
    d = e.sum(1)[:, None] + e.sum(1)[None, :] - 2.0 * e @ e.T
    np.fill_diagonal(d, np.inf)
    args.nearest_pool_l1 = float(np.median(d.min(1)))  # a one-edit mutation changes the onehot by L1 <= 2
    rows = []
    for variant in VARIANTS:
        tv = time.time()
        for seed in range(args.seeds):
            seq = evolve_pool(variant, seed, fitness, pf, moves, args)
            best = -np.inf
            for i, a in enumerate(seq, start=1):
                best = max(best, fitness[a])
                if i in CHECKPOINTS:
                    rows.append({"variant": variant, "seed": seed, "evaluations": i, "best_pred": best})
        log.info("%s: %d seeds in %.0f s", variant, args.seeds, time.time() - tv)
    runs = pd.DataFrame(rows)
    runs.to_csv(out / "runs.csv", index=False, float_format="%.4f")
    curves = runs.groupby(["variant", "evaluations"], sort=False)["best_pred"].agg(["mean", "std", "count"]
                                                                                    ).reset_index()
    curves.to_csv(out / "curves.csv", index=False, float_format="%.4f")
    opens = [open_space_run(space, pf, args, set(pool), args.open_cycles)]
    images = Path(os.environ.get("ZCNAS_DATA", args.data_root or "")) / "images" / "cifar10-partial-real"
    if args.open_data_proxies and images.is_dir():
        pf_data = Prefilter(space="darts", proxies=args.open_data_proxies.split(","), dataset="cifar10",
                            data_dir=str(images), batch_size=args.open_data_batch_size, seed=0)
        opens.append(open_space_run(space, pf_data, args, set(pool), args.open_data_cycles))
    pd.concat([d for d, _ in opens]).to_csv(out / "open_space.csv", index=False, float_format="%.6g")
    write_summary(out, curves, opens, args, truth, n_seeded, n_pool_computed, pool_score_s, load0,
                  time.time() - t_start)
    return 0


def write_summary(out, curves, opens, args, truth, n_seeded, n_pool_computed, pool_score_s, load0, elapsed) -> None:
    shown = {k: v for k, v in vars(args).items() if k not in ("out", "zcnas_store", "data_root", "nearest_pool_l1")}
    lines = ["# Regularised evolution on the DARTS space with a zcnas pre-filter", "",
             f"**Fitness and outcome are `{OUTCOME}`: NAS-Bench-301's SURROGATE PREDICTION of CIFAR-10 validation "
             "accuracy, not a training run**; it is known only for the 725 NAS-Bench-Suite-Zero genotypes "
             f"(mean {truth.mean():.2f}, max {truth.max():.2f}).", "",
             f"Pre-filter: `{args.aggregate}` of {args.proxies.split(',')} computed by zcnas on the built NB301 "
             f"networks (seed 0). Population {args.population}, tournament {args.sample_size}, {args.children} "
             f"children per cycle for the pre-filtered variants, warm start from {args.warm_pool} pool genotypes, "
             f"{args.budget} evaluations, {args.seeds} seeds. {elapsed / 60:.1f} min "
             f"(`ZCNAS_DATA=../shared/benchmarks nice -n 5 python -m experiments.darts_evolution`, args "
             f"{json.dumps(shown)}).", "",
             "## Pool run (725 genotypes; mutation = space.mutate, then the nearest unevaluated pool genotype)", "",
             "Best NB301-predicted accuracy found after E evaluations, mean +- sd over seeds (%):", "",
             "| variant | " + " | ".join(f"E={e}" for e in CHECKPOINTS) + " |", "|---|" + "---|" * len(CHECKPOINTS)]
    def at(v, e):
        g = curves[(curves["variant"] == v) & (curves["evaluations"] == e)]
        return f"{g['mean'].iloc[0]:.2f} +- {g['std'].iloc[0]:.2f}" if len(g) else ""

    last = max(e for e in CHECKPOINTS if e <= args.budget)
    for v in VARIANTS:
        lines.append(f"| {v} | " + " | ".join(at(v, e) for e in CHECKPOINTS) + " |")
    if n_pool_computed:
        cost = (f"{n_pool_computed:.0f} were computed in this run in {pool_score_s:.0f} s "
                f"({pool_score_s / n_pool_computed:.2f} s per genotype, build included; load average {load0[0]:.1f} "
                "on 2 cores shared with two background scoring jobs and other developers)")
    else:
        cost = ("the others were read from the work store, where an earlier run of this script saved them (the cost "
                "per child is measured in the open-space run below)")
    lines += ["", f"How coarse the pool's mutation is: the median L1 distance (onehot encoding) from a pool genotype "
                  f"to its nearest other pool genotype is {args.nearest_pool_l1:.0f}; one real edit (an operation or "
                  "an input) changes it by at most 2, so a pool move is about "
                  f"{args.nearest_pool_l1 / 2:.0f} edits."]
    lines += ["", f"Pre-filter scores of the pool: {n_seeded} genotypes' came from zcnas's store (the same "
                  f"configuration); {cost}. Scores are cached, so the seeds reuse them.", "",
              "## Open-space runs (no outcome)", "",
              f"Each cycle, {args.children} children (`space.mutate` of the tournament winner, arbitrary genotypes) "
              "are scored for real and the pre-filter keeps one. The tournament's fitness is a stand-in, a zero-cost "
              "value of the picked child: nobody measured these genotypes' accuracy. Seconds per scored child "
              "include building the NB301 network; the machine has 2 cores shared with two background scoring jobs "
              "and other developers (load averages below).", "",
              "| pre-filter | cycles | children scored | in the 725 pool | s per child, median (max) | s per cycle, "
              "median | stand-in fitness, first -> last pick | load avg before -> after |",
              "|---|---|---|---|---|---|---|---|"]
    for df, info in opens:
        fit_col = f"picked_{info['fitness']}"
        pc = df["seconds_per_scored_child"]
        data = info["prefilter"] == args.open_data_proxies
        batch = f", batch {args.open_data_batch_size} real CIFAR-10" if data else ""
        lines.append(f"| {info['prefilter']}{batch} | {info['cycles']} | {df['children_scored'].sum():.0f} | "
                     f"{int(df['children_in_pool'].sum())} | {pc.median():.2f} ({pc.max():.2f}) | "
                     f"{df['seconds'].median():.1f} | {info['fitness']} {df[fit_col].iloc[0]:.4g} -> "
                     f"{df[fit_col].iloc[-1]:.4g} | {info['loadavg_before'][0]:.1f} -> "
                     f"{info['loadavg_after'][0]:.1f} |")
    lines += ["",
              "## What this shows and what it cannot", "",
              "- Shows: the pre-filter runs inside a DARTS regularised-evolution loop on any genotype, with the "
              "cost per child above; and, inside the pool, at equal budget, whether evaluating pre-filtered "
              f"children finds better NB301-predicted genotypes: after E={last} evaluations "
              + ", ".join(f"{v} {at(v, last)}" for v in VARIANTS) + ".",
              "- Cannot show: the effect on real trainings (NB301 is a surrogate); the effect in the open space "
              "(no outcome for its genotypes); the pool is a small random sample of ~10^18 genotypes, so the pool "
              "run's mutation (about ten edits, above) is much coarser than a real one-edit mutation; and "
              f"{args.budget} evaluations see {100 * args.budget / len(truth):.0f}% of the pool, so the pool's "
              f"ceiling ({truth.max():.2f}) compresses the differences between arms.",
              "- The pre-filter's proxies were fixed for cost (no forward pass), not selected on these results; "
              "that params and l2_norm rank NB301's prediction well on the 725 (published Spearman 0.52 each, "
              "experiments/results/darts/naswot_protocol/) is a look at the same pool.", ""]
    (out / "summary.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
