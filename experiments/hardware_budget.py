"""Hardware-budgeted selection on NB201 CIFAR-10: how close does a training-free pick get to the best
architecture that fits a latency budget, with and without 10 short-training confirmations?

Protocol (every number in ``summary.md`` comes from this script):

- Space and truth: all 15,625 NB201 strings; outcome = CIFAR-10 test accuracy after 200 epochs
  (NATS-Bench seed mean, ``c10_test_200ep``); confirmation = the 12-epoch CIFAR-10 test accuracy of
  the NB201 ``hp=12`` schedule (``c10_test_12ep``), a benchmark look-up standing in for a short
  training run.
- Costs: HW-NAS-Bench latency on its six devices (edgegpu, raspi4, edgetpu, pixel3, eyeriss, fpga;
  CIFAR-10 networks). edgetpu latency is missing (-1) for 4,699 archs: those can never be shown to
  meet an edgetpu budget and count as infeasible.
- Training-free scores: the 13 NAS-Bench-Suite-Zero proxies (published for the 9,445 cells without
  unreachable ops; for the other 6,180 strings, whose function equals one of those, the mean score of
  their NATS function class is used, since the same function has the same data-dependent score),
  NASWOT's published score (all 15,625; 341 failures stay missing), the parameter count of the
  NASWOT table (all 15,625), and zcnas's own scores when ``--zcnas-scores`` holds a complete run
  for all 15,625 strings (otherwise they are left out and the summary says so).
- Honest selection of the ranker: the 6,466 NATS function classes are split at random (``--split-seed``)
  into a development half and a test half; every string goes with its class, so no function is in both.
  The ranker (a proxy multiset combined by the sum of log rank-percentiles among the feasible
  candidates, i.e. AZ-NAS's mean of log-ranks with integer weights) is chosen by greedy forward selection
  on ``--dev-seeds`` samples drawn from the development half, averaged over all six devices. The
  reported numbers use other seeds (``--seeds``) and samples drawn only from the test half.
- Each reported episode: N = ``--n`` archs sampled without replacement from the test half; for each
  device, the budget is the 25th percentile of that device's latency over the sample; "best" is the
  most accurate feasible arch of the sample; the training-free pick is the feasible arch the ranker
  puts first; with confirmations, the top 10 feasible by the ranker are "trained" (12-epoch look-up)
  and the best of them at 12 epochs is picked. Regret = best - picked 200-epoch accuracy (points).
- Fronts: the predicted front is the Pareto front of (ranker score, latency) over the whole sample; its
  members are placed at their true accuracy, and its hypervolume is divided by the true front's
  (accuracy, latency) hypervolume. Normalisation: accuracy and latency min-max over the sample's archs,
  reference point (1.1, 1.1) in the normalised "lower is better" space (see zcnas.constraints).
  ``hv_frac_focused`` also reports the fraction with the accuracy axis cut at the sample's median
  accuracy (only the better half of accuracies counts), because the full-range figure is dominated by
  the easy area between 10 % (untrainable cells) and ~85 %.

    ZCNAS_DATA=/work/shared/benchmarks PYTHONPATH=. nice -n 15 python experiments/hardware_budget.py
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.aggregate import rank_percentiles
from zcnas.bench import PUBLISHED_DIRECTIONS
from zcnas.constraints import hypervolume, pareto_mask
from zcnas.paths import benchmark_file

log = logging.getLogger("zcnas.experiments")

MERGED = "nb201/nb201-merged-derived/nb201_all15625_merged.csv"
NATS = "nb201/nb201-nats-tss-test200/nats_bench.csv"
DEVICES = ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga")
SZ_PROXIES = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params",
              "plain", "snip", "synflow", "zen")
ZCNAS_PROXIES = ("synflow", "jacob_cov", "grad_norm", "snip", "naswot", "params", "flops")
OUT = Path(__file__).resolve().parent / "results" / "hardware_budget"
N_CONFIRM = 10
MAX_TERMS = 8


# ---- data -------------------------------------------------------------------------------------------

def load_table(data_root: str | None, zcnas_scores: str | None) -> tuple[pd.DataFrame, dict[str, bool], str]:
    """One row per NB201 string: outcome, confirmation, latencies, class, proxies (oriented names)."""
    m = pd.read_csv(benchmark_file(MERGED, data_root))
    nats = pd.read_csv(benchmark_file(NATS, data_root), usecols=["ArchitectureString", "UniqueString"])
    cls = dict(zip(nats["ArchitectureString"], nats["UniqueString"]))
    df = pd.DataFrame({"arch": m["arch_str"], "acc200": m["c10_test_200ep__nats"],
                       "acc12": m["c10_test_12ep__mini"]})
    df["cls"] = df["arch"].map(cls)
    if df["cls"].isna().any():
        raise SystemExit(f"{int(df['cls'].isna().sum())} archs have no NATS class; check {NATS}.")
    for d in DEVICES:
        v = m[f"hw_cifar10_{d}_latency"].astype(float)
        df[f"lat_{d}"] = v.where(v > 0)  # -1 = missing
    dirs: dict[str, bool] = {}
    for p in SZ_PROXIES:
        v = m[f"zc_cifar10_{p}"].astype(float)
        v = v.where(v > -1e7)  # -1e8 = failed
        df[f"sz_{p}"] = v.groupby(df["cls"]).transform("mean").where(v.isna(), v)  # class mean fills gaps
        dirs[f"sz_{p}"] = PUBLISHED_DIRECTIONS[p]
    df["naswot_pub"] = m["naswot_v1_score__naswot"].astype(float)
    dirs["naswot_pub"] = True
    df["params_M"] = m["params_M__naswot"].astype(float)
    dirs["params_M"] = True
    note = "zcnas's own scores: not used (no --zcnas-scores given)."
    if zcnas_scores:
        note = _add_zcnas(df, dirs, zcnas_scores)
    return df.set_index("arch"), dirs, note


def _add_zcnas(df: pd.DataFrame, dirs: dict[str, bool], path: str) -> str:
    from zcnas.records import RecordStore

    p = Path(path)
    if not p.exists():
        return f"zcnas's own scores: not used ({p} does not exist)."
    with RecordStore(p, "r") as st:
        scores = st.frame("scores")
    scores = scores[scores["dataset"] == "cifar10"]
    counts = scores.groupby(["run_key", "proxy"])["arch"].nunique()
    complete = counts[counts == 15625]
    if complete.empty:
        got = counts.to_dict()
        return (f"zcnas's own scores: not used ({p.name} is not complete: archs per (run, proxy) "
                f"{got}; 15,625 needed).")
    run = complete.index[0][0]
    wide = st_wide = scores[scores["run_key"] == run]
    st_wide = wide.assign(value=wide["value"].where(wide["status"] == "ok")) \
        .pivot(index="arch", columns="proxy", values="value")
    from zcnas.bench import proxy_direction

    used = []
    for prox in ZCNAS_PROXIES:
        if prox in st_wide.columns and counts.get((run, prox), 0) == 15625:
            df[f"zc_{prox}"] = df["arch"].map(st_wide[prox])
            dirs[f"zc_{prox}"] = proxy_direction(prox)
            used.append(prox)
    return f"zcnas's own scores: used run {run} of {p.name} ({', '.join(used)})."


def split_classes(df: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the development and test halves (whole function classes)."""
    classes = np.array(sorted(df["cls"].unique()))
    rng = np.random.default_rng(seed)
    dev_cls = set(rng.permutation(classes)[: len(classes) // 2])
    is_dev = df["cls"].isin(dev_cls).to_numpy()
    return np.flatnonzero(is_dev), np.flatnonzero(~is_dev)


# ---- episodes ---------------------------------------------------------------------------------------

@dataclass
class Episode:
    seed: int
    device: str
    budget_ms: float
    n_feasible: int
    acc200: np.ndarray       # feasible archs
    acc12: np.ndarray
    logpct: np.ndarray       # (n_feasible, n_proxies) log rank percentile among the feasible
    best: float
    mean_feasible: float
    sample_acc: np.ndarray   # whole sample, for the fronts
    sample_lat: np.ndarray
    sample_logpct: np.ndarray


def make_episodes(df: pd.DataFrame, pool: np.ndarray, seeds, n: int, proxies: list[str],
                  dirs: dict[str, bool]) -> list[Episode]:
    acc = df["acc200"].to_numpy(float)
    a12 = df["acc12"].to_numpy(float)
    signs = np.array([1.0 if dirs[p] else -1.0 for p in proxies])
    X = df[proxies].to_numpy(float) * signs
    X[~np.isfinite(X)] = np.nan
    out = []
    for s in seeds:
        idx = np.random.default_rng(s).choice(pool, size=n, replace=False)
        for d in DEVICES:
            lat = df[f"lat_{d}"].to_numpy(float)[idx]
            budget = float(np.nanpercentile(lat, 25))
            feas = np.flatnonzero(np.isfinite(lat) & (lat <= budget))
            fi = idx[feas]
            has = np.isfinite(lat)
            out.append(Episode(
                s, d, budget, len(feas), acc[fi], a12[fi], np.log(rank_percentiles(X[fi], "worst")),
                float(acc[fi].max()), float(acc[fi].mean()), acc[idx][has], lat[has],
                np.log(rank_percentiles(X[idx][has], "worst"))))
    return out


def regrets(episodes: list[Episode], weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training-free and confirmed regret (points) of the ranker ``weights`` in each episode."""
    tf, cf = np.empty(len(episodes)), np.empty(len(episodes))
    for i, e in enumerate(episodes):
        score = e.logpct @ weights
        order = np.argsort(-score, kind="stable")
        tf[i] = e.best - e.acc200[order[0]]
        top = order[:N_CONFIRM]
        cf[i] = e.best - e.acc200[top[np.argmax(e.acc12[top])]]
    return tf, cf


def hv_fractions(e: Episode, weights: np.ndarray) -> tuple[float, float]:
    """Hypervolume of the predicted front (at true accuracy) / the true front's: full range, and with
    the accuracy axis cut at the sample's median accuracy."""
    score = e.sample_logpct @ weights
    pts_true = np.column_stack([e.sample_acc, e.sample_lat])
    pred = pareto_mask(np.column_stack([score, e.sample_lat]), ["max", "min"])
    true = pareto_mask(pts_true, ["max", "min"])
    out = []
    for lo in (e.sample_acc.min(), float(np.median(e.sample_acc))):
        bounds = np.array([[lo, e.sample_lat.min()], [e.sample_acc.max(), e.sample_lat.max()]])
        hp = hypervolume(pts_true[pred], ["max", "min"], bounds=bounds)
        ht = hypervolume(pts_true[true], ["max", "min"], bounds=bounds)
        out.append(hp / ht if ht > 0 else np.nan)
    return out[0], out[1]


def greedy(episodes: list[Episode], proxies: list[str], objective: str, max_terms: int = MAX_TERMS):
    """Forward selection with replacement of proxy terms minimising the mean regret on ``episodes``."""
    w = np.zeros(len(proxies))
    best_val, path = np.inf, []
    for _ in range(max_terms):
        cand = []
        for j in range(len(proxies)):
            w2 = w.copy()
            w2[j] += 1
            tf, cf = regrets(episodes, w2)
            cand.append((float((tf if objective == "tf" else cf).mean()), j))
        val, j = min(cand)
        if val >= best_val - 1e-9:
            break
        w[j] += 1
        best_val = val
        path.append((proxies[j], val))
        log.info("  + %s -> dev mean regret %.3f", proxies[j], val)
    return w, path


def describe(weights: np.ndarray, proxies: list[str]) -> str:
    return " + ".join(f"{int(c)}x{p}" if c > 1 else p for p, c in zip(proxies, weights) if c > 0)


# ---- main -------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=None, help="benchmark folder (default: $ZCNAS_DATA)")
    ap.add_argument("--zcnas-scores", default="benchmarks_data/nb201_zcnas_scores.h5",
                    help="zcnas record store with full-space scores (used only when complete)")
    ap.add_argument("--n", type=int, default=1000, help="archs per sample (default 1000)")
    ap.add_argument("--seeds", type=int, default=50, help="reported seeds 0..S-1 (default 50)")
    ap.add_argument("--dev-seeds", type=int, default=30, help="selection seeds on the development half")
    ap.add_argument("--split-seed", type=int, default=2024, help="seed of the class split")
    ap.add_argument("--out", default=str(OUT), help="results folder")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    t0 = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    df, dirs, zc_note = load_table(args.data_root, args.zcnas_scores)
    log.info(zc_note)
    dev, test = split_classes(df.reset_index(), args.split_seed)
    proxies = list(dirs)
    log.info("%d proxies; dev half %d archs, test half %d archs", len(proxies), len(dev), len(test))
    dev_eps = make_episodes(df, dev, range(1000, 1000 + args.dev_seeds), args.n, proxies, dirs)
    test_eps = make_episodes(df, test, range(args.seeds), args.n, proxies, dirs)

    published = [p for p in proxies if p.startswith("sz_")] + ["naswot_pub"]
    rankers: dict[str, np.ndarray] = {
        "mean_log_rank(published)": np.array([1.0 if p in published else 0.0 for p in proxies]),
        "mean_log_rank(all)": np.ones(len(proxies)),
    }
    for p in proxies:
        rankers[f"single:{p}"] = np.array([1.0 if q == p else 0.0 for q in proxies])
    log.info("selecting the training-free ranker on %d dev episodes", len(dev_eps))
    w_tf, path_tf = greedy(dev_eps, proxies, "tf")
    log.info("selecting the ranker for 10 confirmations on the dev episodes")
    w_cf, path_cf = greedy(dev_eps, proxies, "cf")
    rankers["selected_tf"] = w_tf
    rankers["selected_cf"] = w_cf
    # the dev-half choice among the fixed candidates (no greedy): best single proxy / aggregate
    fixed = [k for k in rankers if k not in ("selected_tf", "selected_cf")]
    dev_tf = {k: regrets(dev_eps, rankers[k])[0].mean() for k in fixed}
    dev_cf = {k: regrets(dev_eps, rankers[k])[1].mean() for k in fixed}

    rows = []
    for name, w in rankers.items():
        tf, cf = regrets(test_eps, w)
        for e, a, b in zip(test_eps, tf, cf):
            rows.append({"ranker": name, "seed": e.seed, "device": e.device, "budget_ms": e.budget_ms,
                         "n_feasible": e.n_feasible, "best": e.best, "regret_tf": a, "regret_confirm10": b,
                         "regret_random": e.best - e.mean_feasible})
    res = pd.DataFrame(rows)
    hv_rows = []
    for name in ("mean_log_rank(published)", "selected_tf", "selected_cf", "single:params_M"):
        for e in test_eps:
            f_full, f_focus = hv_fractions(e, rankers[name])
            hv_rows.append({"ranker": name, "seed": e.seed, "device": e.device, "hv_frac": f_full,
                            "hv_frac_focused": f_focus})
    hv = pd.DataFrame(hv_rows)
    res.to_csv(out / "episodes.csv", index=False)
    hv.to_csv(out / "hypervolume.csv", index=False)

    agg = res.groupby(["ranker", "device"]).agg(
        regret_tf=("regret_tf", "mean"), regret_tf_se=("regret_tf", lambda x: x.std(ddof=1) / np.sqrt(len(x))),
        regret_confirm10=("regret_confirm10", "mean"),
        regret_confirm10_se=("regret_confirm10", lambda x: x.std(ddof=1) / np.sqrt(len(x))),
        regret_random=("regret_random", "mean"), n_feasible=("n_feasible", "mean"),
        budget_ms=("budget_ms", "mean"), seeds=("seed", "nunique")).reset_index()
    agg.to_csv(out / "summary.csv", index=False)
    hv_agg = hv.groupby(["ranker", "device"])[["hv_frac", "hv_frac_focused"]].mean().reset_index()
    hv_agg.to_csv(out / "hypervolume_summary.csv", index=False)
    _figure(df, test, proxies, dirs, rankers["selected_tf"], args.n, out)

    config = {k: v for k, v in vars(args).items()}
    config.update({"proxies": proxies, "selected_tf": describe(w_tf, proxies),
                   "selected_cf": describe(w_cf, proxies), "greedy_path_tf": path_tf,
                   "greedy_path_cf": path_cf, "dev_regret_tf_fixed": dev_tf, "dev_regret_cf_fixed": dev_cf,
                   "zcnas_scores": zc_note, "seconds": round(time.time() - t0, 1)})
    (out / "config.json").write_text(json.dumps(config, indent=2, default=float))
    (out / "summary.md").write_text(_markdown(agg, hv_agg, config, len(test), len(dev)))
    log.info("done in %.0f s; results in %s", time.time() - t0, out)
    return 0


def _figure(df, test, proxies, dirs, weights, n, out: Path) -> None:
    """Predicted vs true front for seed 0 on edgegpu (whole sample)."""
    from zcnas.constraints import pareto_plot

    idx = np.random.default_rng(0).choice(test, size=n, replace=False)
    s = df.iloc[idx]
    signs = np.array([1.0 if dirs[p] else -1.0 for p in proxies])
    lp = np.log(rank_percentiles(s[proxies].to_numpy(float) * signs, "worst"))
    frame = pd.DataFrame({"predicted": lp @ weights, "acc200": s["acc200"].to_numpy(),
                          "lat_edgegpu_ms": s["lat_edgegpu"].to_numpy()})
    pareto_plot(frame, "predicted", "acc200", "lat_edgegpu_ms", out / "front_edgegpu_seed0.png")


def _markdown(agg: pd.DataFrame, hv: pd.DataFrame, config: dict, n_test: int, n_dev: int) -> str:
    def table(names):
        lines = ["| ranker | device | budget (ms, mean) | feasible (mean) | training-free regret | "
                 "10 confirmations regret | random feasible regret |", "|---|---|---:|---:|---:|---:|---:|"]
        for name in names:
            for _, r in agg[agg["ranker"] == name].iterrows():
                lines.append(f"| {name} | {r.device} | {r.budget_ms:.3f} | {r.n_feasible:.0f} | "
                             f"{r.regret_tf:.2f} ± {r.regret_tf_se:.2f} | {r.regret_confirm10:.2f} ± "
                             f"{r.regret_confirm10_se:.2f} | {r.regret_random:.2f} |")
        return lines

    main_names = ["mean_log_rank(published)", "selected_tf", "selected_cf"]
    singles = agg[agg["ranker"].str.startswith("single:") & (agg["device"] == "edgegpu")] \
        .sort_values("regret_tf")
    lines = ["# Hardware-budgeted selection on NB201 CIFAR-10 (HW-NAS-Bench latency)", "",
             "Regret = 200-epoch CIFAR-10 test accuracy (NATS seed mean) of the best feasible arch in the "
             "sample minus that of the pick, in points; mean ± standard error over "
             f"{config['seeds']} seeds; N = {config['n']} archs per sample drawn from the test half "
             f"({n_test} strings; the development half, {n_dev} strings, whole function classes, chose the "
             f"ranker on {config['dev_seeds']} other seeds). Budget = 25th percentile of the device's "
             "latency over the sample. Confirmation = best of the ranker's top 10 feasible archs at 12 "
             "epochs (`c10_test_12ep`).", "",
             f"- Selected training-free ranker (dev, all six devices): `{config['selected_tf']}`",
             f"- Selected ranker for 10 confirmations: `{config['selected_cf']}`",
             f"- {config['zcnas_scores']}", "",
             "Proxy names: `sz_*` NAS-Bench-Suite-Zero (class mean for the 6,180 strings it omits), "
             "`naswot_pub` NASWOT's published score, `params_M` parameter count; a ranker is the sum of "
             "the log rank-percentiles (among the feasible archs) of its terms.", "",
             "## Regret under the 25th-percentile latency budget", ""] + table(main_names) + [
             "", "## Single proxies on edgegpu (test half)", "",
             "| proxy | training-free regret | 10 confirmations regret |", "|---|---:|---:|"]
    for _, r in singles.iterrows():
        lines.append(f"| {r.ranker[7:]} | {r.regret_tf:.2f} | {r.regret_confirm10:.2f} |")
    lines += ["", "## Hypervolume of the predicted front / the true front", "",
              "Predicted front: Pareto front of (ranker score, latency) over the whole sample, placed at the "
              "members' true accuracy. Objectives min-max normalised over the sample, reference point "
              "(1.1, 1.1); `focused`: accuracy axis from the sample median up.", "",
              "| ranker | device | HV fraction | HV fraction (focused) |", "|---|---|---:|---:|"]
    for _, r in hv.iterrows():
        lines.append(f"| {r.ranker} | {r.device} | {r.hv_frac:.3f} | {r.hv_frac_focused:.3f} |")
    lines += ["", "![front](front_edgegpu_seed0.png)", "",
              f"Run time {config['seconds']} s. Files: episodes.csv (one row per ranker, seed and device), "
              "summary.csv, hypervolume.csv, config.json (greedy path and dev-half regrets).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
