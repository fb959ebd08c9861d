"""Score the full zero-cost proxy family on NB201 and compare with 200-epoch test accuracy.

Scoring (resumable; each (arch, proxy) pair is stored as soon as it is computed):

    ZCNAS_DATA=/work/shared/benchmarks
    nice -n 15 python experiments/proxy_family.py score --sample 1000 \
        --data-dir $ZCNAS_DATA/images/cifar10-partial-real \
        --c100-data-dir $ZCNAS_DATA/images/cifar100-partial-real
    python experiments/proxy_family.py table --sample 1000 \
        --truth $ZCNAS_DATA/nb201/nb201-merged-derived/nb201_all15625_merged.csv

Without ``--sample`` the whole space (15,625 strings, one network per function class) is scored.
The archs are scored in a seeded random order and the proxies in cost groups (cheap first), so
an interrupted run leaves a random subset of archs with every cheap proxy.

Selection protocol for fitted rankers (``table``): the archs with every score are split by
function class (``zcnas.selection.split_by_class``: NB201's canonical form, seeded) into a fit half
and a test half, so no two functionally identical strings sit on both sides. Forward selection (one proxy or
a pair per step) and backward elimination (from all) of the proxies for the AZ-NAS
sum-of-log-ranks aggregate run on the fit half (CIFAR-10 truth); the
reported numbers for the selected set are on the test half only (both datasets). Unfitted
rankers (every single proxy, AZ-NAS's fixed set) are reported on all archs and on the test half.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("proxy_family")

FAMILY = ["l2_norm", "zen", "te_lr", "epe_nas", "meco", "meco_opt", "swap", "reg_swap",
          "az_expressivity", "az_progressivity", "az_trainability", "plain", "zico", "fisher", "grasp",
          "te_ntk"]
CORE = ["params", "flops", "synflow", "naswot", "jacob_cov", "grad_norm", "snip"]
#: cost groups, cheapest first (seconds per NB201 net on a loaded 2-core CPU measured first)
GROUPS = [
    ["params", "l2_norm", "naswot", "jacob_cov", "epe_nas", "grad_norm", "snip", "plain", "synflow",
     "meco", "meco_opt", "az_expressivity", "az_progressivity", "az_trainability", "zen", "te_lr",
     "flops", "swap", "reg_swap"],
    ["zico", "fisher", "grasp"],
    ["te_ntk"],
]
AZ_NAS = ["az_expressivity", "az_progressivity", "az_trainability", "flops"]
TRUTH = {"cifar10": "c10_test_200ep__nats", "cifar100": "c100_test_200ep__nats"}

#: published Spearman rho on NB201 (dataset -> value) and where it comes from
PUBLISHED: dict[str, tuple[dict[str, float], str]] = {
    "az_nas": ({"cifar10": 0.913}, "Lee & Ham, CVPR 2024, Table 1 (AZ-NAS, NB201 test acc)"),
    "zico": ({"cifar10": 0.80, "cifar100": 0.81}, "Li et al., ICLR 2023, Table 2"),
    "meco": ({"cifar10": 0.894, "cifar100": 0.883}, "Jiang et al., NeurIPS 2023, Table 1"),
    "reg_swap": ({"cifar100": 0.90}, "Peng et al., ICLR 2024, abstract (CIFAR-100 validation accuracy)"),
    "grad_norm": ({"cifar10": 0.58, "cifar100": 0.64}, "Abdelfattah et al., ICLR 2021, Table 2"),
    "snip": ({"cifar10": 0.58, "cifar100": 0.63}, "Abdelfattah et al., ICLR 2021, Table 2"),
    "grasp": ({"cifar10": 0.48, "cifar100": 0.54}, "Abdelfattah et al., ICLR 2021, Table 2"),
    "fisher": ({"cifar10": 0.36, "cifar100": 0.39}, "Abdelfattah et al., ICLR 2021, Table 2"),
    "synflow": ({"cifar10": 0.74, "cifar100": 0.76}, "Abdelfattah et al., ICLR 2021, Table 2"),
    "jacob_cov": ({"cifar10": 0.73, "cifar100": 0.71}, "Abdelfattah et al., ICLR 2021, Table 2"),
}
#: NAS-Bench-Suite-Zero scores vs CIFAR-10 200-ep validation acc (9,445 nets), computed in
#: experiments/results/suitezero_table from the published scores
SUITEZERO_NAMES = {"epe_nas": "epe_nas", "fisher": "fisher", "flops": "flops", "grad_norm": "grad_norm",
                   "grasp": "grasp", "jacob_cov": "jacov", "l2_norm": "l2_norm", "naswot": "nwot",
                   "params": "params", "plain": "plain", "snip": "snip", "synflow": "synflow", "zen": "zen"}


def _bench_root() -> Path:
    from zcnas.paths import benchmark_root

    return benchmark_root()


def _candidates(sample: int | None, seed: int) -> list[str]:
    from zcnas.ranking.candidates import candidates
    from zcnas.spaces import get_space

    space = get_space("nb201")
    archs = candidates("nb201", sample=sample, seed=seed) if sample else candidates("nb201", all=True)
    strings = [space.format(a) for a in archs]
    rng = np.random.default_rng(seed)
    return [strings[i] for i in rng.permutation(len(strings))]


def score(args: argparse.Namespace) -> None:
    import torch

    from zcnas.proxies import get_proxy
    from zcnas.ranking import score_architectures
    from zcnas.ranking.backends import make_backend
    from zcnas.ranking.scoring import ScoringConfig
    from zcnas.records import RecordStore

    torch.set_num_threads(1)
    archs = _candidates(args.sample, args.seed)
    proxies = [p.strip() for p in args.proxies.split(",")] if args.proxies else FAMILY + CORE
    runs = [("cifar10", args.data_dir, proxies)]
    if args.c100_data_dir:
        runs.append(("cifar100", args.c100_data_dir, [p for p in proxies if get_proxy(p).needs_data]))
    backend = make_backend(args.backend, workers=args.workers)
    extra = [p for p in proxies if not any(p in g for g in GROUPS)]
    cheap = [p for g in GROUPS[:-1] for p in g if p in proxies] + extra
    last = [p for p in GROUPS[-1] if p in proxies]
    with RecordStore(args.store, mode="a") as store:
        # chunks of archs with every cheap proxy on both datasets, then the costly NTK pass
        passes = [(archs[i:i + args.chunk], cheap) for i in range(0, len(archs), args.chunk)]
        passes += [(archs, last)] if last else []
        for chunk, group in passes:
            for dataset, data_dir, names in runs:
                todo = [p for p in group if p in names]
                if not todo:
                    continue
                log.info("%s: %s on %d archs", dataset, ",".join(todo), len(chunk))
                config = ScoringConfig(space="nb201", dataset=dataset, data_dir=str(data_dir),
                                       batch_size=args.batch_size, seed=args.seed, dedupe=True)
                score_architectures(chunk, todo, config, store=store, backend=backend,
                                    progress=not args.quiet)


def costs(args: argparse.Namespace) -> pd.DataFrame:
    """Seconds per NB201 network of each proxy computed alone (fresh seeded network, nothing
    shared with other proxies, model build excluded), one torch thread, CIFAR-10 batch of 64, the
    engine's default channels_last layout. Writes costs.csv and costs.md to --out."""
    import time

    import torch

    from zcnas.data import get_batch
    from zcnas.proxies import get_proxy, score_model
    from zcnas.ranking.scoring import build_seeded

    torch.set_num_threads(1)
    names = [p.strip() for p in args.proxies.split(",")] if args.proxies else CORE + FAMILY
    batch = get_batch("cifar10", data_dir=args.data_dir, batch_size=args.batch_size, seed=args.seed)
    archs = _candidates(args.sample or 10, args.seed)
    rows = []
    for name in names:
        spec = get_proxy(name)
        for a in archs[: (2 if name == "te_ntk" else len(archs))]:  # te_ntk: 64 backward passes
            model = build_seeded("nb201", a, 10, args.seed)
            t0 = time.perf_counter()
            r = score_model(model, batch if spec.needs_data else None, [name], seed=args.seed, share=False,
                            input_shape=(3, 32, 32), memory_format="channels_last")[name]
            rows.append({"proxy": name, "arch": a, "seconds": time.perf_counter() - t0, "status": r.status})
        log.info("%s: median %.3f s", name, np.median([r["seconds"] for r in rows if r["proxy"] == name]))
    raw = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summ = raw.groupby("proxy", sort=False).agg(n=("seconds", "size"), median_s=("seconds", "median"),
                                                mean_s=("seconds", "mean"), max_s=("seconds", "max"))
    summ["space_hours_2_procs"] = summ["mean_s"] * 6466 / 2 / 3600  # one network per function class
    summ = summ.reset_index()
    summ.to_csv(out / "costs.csv", index=False)
    (out / "costs.md").write_text(
        "# Cost of each proxy per NB201 network on this CPU\n\n"
        f"Each proxy alone on a freshly built seeded network (build excluded, nothing shared), one torch "
        f"thread, CIFAR-10 batch of {args.batch_size}, channels_last, {os.cpu_count()}-core machine; "
        f"{len(archs)} seeded random architectures (te_ntk: 2). `space_hours_2_procs`: the mean times "
        "6,466 function classes / 2 processes. In the engine, jacob_cov, naswot, grad_norm, snip, plain "
        "(and fisher's) passes are shared, so the cost of a set is less than the sum.\n\n"
        f"Command: `python experiments/proxy_family.py costs --sample {len(archs)}`\n\n" + _markdown(summ) + "\n")
    print(summ.to_string(index=False))
    return summ


def _load_scores(store_path: str) -> pd.DataFrame:
    from zcnas.records import RecordStore

    with RecordStore(store_path, mode="r") as store:
        df = store.frame("scores")
    return df


def _wide(long: pd.DataFrame, dataset: str, archs: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    from zcnas.proxies import PROXIES, list_proxies

    rows = long[long["arch"].isin(archs)]
    # data-free proxies (synflow, params, flops, ...) serve every dataset: stored with dataset "",
    # or computed in the CIFAR-10 run while the other dataset's run skipped them
    free = rows["proxy"].map(lambda p: p in PROXIES and not PROXIES.get(p).needs_data)
    own = rows[rows["dataset"] == dataset]
    borrowed = rows[free & (rows["dataset"] != dataset) & ~rows["proxy"].isin(set(own["proxy"]))]
    borrowed = borrowed.drop_duplicates(["arch", "proxy"])
    rows = pd.concat([own, rows[rows["dataset"] == ""], borrowed[borrowed["dataset"] != ""]])
    ok = rows[rows["status"] == "ok"]
    wide = ok.pivot_table(index="arch", columns="proxy", values="value", aggfunc="last")
    attempted = rows.pivot_table(index="arch", columns="proxy", values="value", aggfunc="size")
    wide = wide.reindex(index=attempted.index, columns=attempted.columns)
    reps = rows[rows["seconds"] > 0]
    secs = reps.groupby("proxy")["seconds"].median()
    known = set(list_proxies())
    wide = wide[[c for c in wide.columns if c in known]]
    return wide, secs


def _spearman(x: pd.Series, y: pd.Series) -> tuple[float, int]:
    from zcnas.selection import rank_correlation

    return rank_correlation(x, y)


def _spearman_ci(x: pd.Series, y: pd.Series, n_boot: int = 200, seed: int = 0) -> str:
    """95 % percentile-bootstrap interval of the Spearman rho (archs resampled), as "lo..hi"."""
    from zcnas.metrics import bootstrap_ci

    if int((x.notna() & y.notna()).sum()) < 10:
        return ""
    lo, hi = bootstrap_ci("spearman", x, y, n_resamples=n_boot, seed=seed)
    return f"{lo:.3f}..{hi:.3f}"


def _test_half(index: pd.Index, seed: int) -> set[str]:
    """The test half of ``index``, split by NB201 function class."""
    from zcnas.selection import split_by_class

    _fit, test = split_by_class(list(index), "nb201", seed=seed)
    return set(index[test])


def _agg(wide: pd.DataFrame, cols: list[str], method: str = "mean_log_rank") -> pd.Series:
    from zcnas.aggregate import aggregate
    from zcnas.proxies import get_proxy

    return aggregate(wide, cols, {c: get_proxy(c).higher_is_better for c in cols}, method=method)


def greedy_select(wide: pd.DataFrame, truth: pd.Series, candidates: list[str], max_size: int = 10,
                  method: str = "mean_log_rank") -> list[str]:
    from zcnas.proxies import get_proxy
    from zcnas.selection import greedy_select as select

    return select(wide, truth, candidates, {c: get_proxy(c).higher_is_better for c in candidates},
                  max_size=max_size, method=method)


def table(args: argparse.Namespace) -> dict:
    from zcnas.proxies import get_proxy

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    truth = pd.read_csv(args.truth, usecols=["arch_str", *TRUTH.values()]).set_index("arch_str")
    archs = _candidates(args.sample, args.seed)
    long = _load_scores(args.store)
    sz = {}
    sz_file = Path(args.suitezero)
    if sz_file.exists():
        szdf = pd.read_csv(sz_file)
        szdf = szdf[(szdf["metric"] == "spearman") & (szdf["truth"] == "cifar10_val_acc_200ep")]
        sz = dict(zip(szdf["proxy"], szdf["value"], strict=True))
    rows = []
    summary: dict = {}
    wides = {}
    for dataset, col in TRUTH.items():
        wide, secs = _wide(long, dataset, archs)
        wides[dataset] = wide
        y = truth[col].reindex(wide.index)
        for p in wide.columns:
            spec = get_proxy(p)
            x = wide[p] if spec.higher_is_better else -wide[p]
            rho, n = _spearman(x, y)
            pub = PUBLISHED.get(p, ({}, ""))
            rows.append({"proxy": p, "dataset": dataset, "spearman": rho, "ci95": _spearman_ci(x, y), "n": n,
                         "n_failed": int(wide[p].isna().sum()),
                         "direction": "+" if spec.higher_is_better else "-",
                         "needs": ("labels" if spec.needs_labels else "data" if spec.needs_data else "none"),
                         "published": pub[0].get(dataset, np.nan), "published_source": pub[1],
                         "suitezero_c10_val": sz.get(SUITEZERO_NAMES.get(p, ""), np.nan) if dataset == "cifar10"
                         else np.nan})
        # rankers built from several proxies
        have = [c for c in AZ_NAS if c in wide.columns]
        full = wide.dropna(how="any")
        test_set = _test_half(full.index, args.seed)
        test = [a for a in full.index if a in test_set]
        fit = [a for a in full.index if a not in test_set]
        summary[dataset] = {"n_complete": len(full), "n_fit": len(fit), "n_test": len(test)}
        if len(have) == len(AZ_NAS) and len(full) >= 3:
            az_all = _agg(wide, AZ_NAS)  # every arch; a failed component ranks it last
            rho, n = _spearman(az_all, truth[col].reindex(wide.index))
            az = _agg(full, AZ_NAS)
            rho_t, n_t = _spearman(az.loc[test], truth[col].reindex(test))
            rows.append({"proxy": "az_nas (E+P+T+flops, sum log-rank)", "dataset": dataset, "spearman": rho,
                         "n": n, "published": PUBLISHED["az_nas"][0].get(dataset, np.nan),
                         "published_source": PUBLISHED["az_nas"][1], "spearman_test_half": rho_t})
    # greedy selection on the CIFAR-10 fit half, evaluated on the test halves
    wide10 = wides["cifar10"].dropna(how="any")
    test10 = _test_half(wide10.index, args.seed)
    fit = [a for a in wide10.index if a not in test10]
    if len(fit) >= 10:
        cands = list(wide10.columns)
        chosen = greedy_select(wide10.loc[fit], truth["c10_test_200ep__nats"].reindex(fit), cands)
        summary["selected"] = chosen
        for dataset, col in TRUTH.items():
            w = wides[dataset].dropna(how="any")
            test_w = _test_half(w.index, args.seed)
            test = [a for a in w.index if a in test_w]
            if all(c in w.columns for c in chosen) and len(test) >= 3:
                rho, n = _spearman(_agg(w.loc[test], chosen), truth[col].reindex(test))
                every = wides[dataset]  # all archs, a failed score ranks last
                rho_all, n_all = _spearman(_agg(every, chosen), truth[col].reindex(every.index))
                rows.append({"proxy": "selected (" + "+".join(chosen) + ")", "dataset": dataset,
                             "spearman": rho_all, "spearman_test_half": rho, "n": n_all,
                             "published_source": "proxies chosen on the CIFAR-10 fit half; spearman: all "
                                                 "archs (failed last; includes the fit half), test half: clean"})
    res = pd.DataFrame(rows)
    res.to_csv(out / "results.csv", index=False)
    _write_markdown(res, summary, out / "table.md", args)
    print(res.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(summary)
    return summary


def suitezero(args: argparse.Namespace) -> dict:
    """Training-free aggregates of the published NAS-Bench-Suite-Zero CIFAR-10 proxy scores (9,445
    nets): fixed sets on all nets, and a greedy-selected set fitted on the fit half (CIFAR-10
    200-ep test accuracy) and reported on the test half for CIFAR-10 and CIFAR-100."""
    from zcnas.aggregate import list_aggregates
    from zcnas.proxies import get_proxy

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ours = {v: k for k, v in SUITEZERO_NAMES.items()}
    cols = {f"zc_cifar10_{v}": k for k, v in SUITEZERO_NAMES.items()}
    df = pd.read_csv(args.truth, usecols=["arch_str", *TRUTH.values(), *cols]).set_index("arch_str")
    df = df.rename(columns=cols)
    proxies = list(cols.values())
    sc = df[proxies].where(df[proxies] > -1e7)  # -1e8 marks a failed score
    sc = sc[sc.notna().any(axis=1)]
    truth = df.loc[sc.index, list(TRUTH.values())]
    test_sc = _test_half(sc.index, args.seed)
    test = [a for a in sc.index if a in test_sc]
    fit = [a for a in sc.index if a not in test_sc]
    rows = []
    for method in list_aggregates():
        chosen = greedy_select(sc.loc[fit], truth.loc[fit, TRUTH["cifar10"]], proxies, method=method)
        fixed = {"all 13": proxies, "jacov+nwot+synflow+flops+params": ["jacob_cov", "naswot", "synflow",
                                                                         "flops", "params"],
                 "selected on fit half": chosen}
        for label, ps in fixed.items():
            agg = _agg(sc.loc[test], ps, method)
            r = {"aggregate": method, "proxies": label if label != "selected on fit half"
                 else "selected: " + "+".join(ps), "n_test": len(test)}
            for dataset, col in TRUTH.items():
                r[f"{dataset}_test_half"] = _spearman(agg, truth.loc[test, col])[0]
            rows.append(r)
    best_single = {d: max((_spearman(sc.loc[test, p] * (1 if get_proxy(p).higher_is_better else -1),
                                     truth.loc[test, c])[0], p) for p in proxies)
                   for d, c in TRUTH.items()}
    res = pd.DataFrame(rows)
    res.to_csv(out / "suitezero_aggregates.csv", index=False)
    lines = ["# Training-free aggregates of NAS-Bench-Suite-Zero CIFAR-10 proxy scores (NB201)", "",
             f"{len(sc)} nets with published scores ({ours and 'Suite-Zero names mapped to zcnas names'}); "
             f"fit half {len(fit)}, test half {len(test)} (seeded hash of the arch string, seed {args.seed}). "
             "Greedy forward selection of proxies on the fit half against CIFAR-10 200-ep test accuracy; "
             "every number below is on the test half. Truth: NATS 200-ep test accuracy.", "",
             f"Best single proxy on the test half: {best_single}", "", _markdown(res), ""]
    (out / "suitezero_aggregates.md").write_text("\n".join(lines))
    print(res.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("best single:", best_single)
    return {"best_single": best_single}


def _markdown(df: pd.DataFrame) -> str:
    def fmt(v) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:.3f}"
        return str(v)

    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _write_markdown(res: pd.DataFrame, summary: dict, path: Path, args) -> None:
    lines = ["# Proxy family on NB201: Spearman with 200-epoch test accuracy", "",
             f"Sample: {args.sample or 'all 15,625'} archs (seed {args.seed}), one network per function "
             "class, CIFAR-10 / CIFAR-100 real-image batch of 64. Truth: NATS 200-epoch test accuracy "
             "(`c10_test_200ep__nats`, `c100_test_200ep__nats`). Cost per network of each proxy: "
             "`experiments/results/proxy_family/costs/costs.md`. Published: "
             "Spearman rho on NB201 from the cited paper; `suitezero_c10_val`: the NAS-Bench-Suite-Zero "
             "scores vs CIFAR-10 200-ep validation accuracy (9,445 nets, experiments/results/suitezero_table).",
             "", f"Coverage: {summary}", ""]
    for dataset in TRUTH:
        sub = res[res["dataset"] == dataset].copy()
        sub = sub.sort_values("spearman", ascending=False, na_position="last")
        lines += [f"## {dataset}", "", _markdown(sub.dropna(axis=1, how="all")), ""]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    root = _bench_root()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("score", "table", "suitezero", "costs"):
        s = sub.add_parser(name)
        s.add_argument("--sample", type=int, default=None, help="seeded sample size (default: all)")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--store", default="benchmarks_data/nb201_zcnas_family.h5")
        s.add_argument("--quiet", action="store_true")
    for name in ("score", "costs"):
        sub.choices[name].add_argument("--data-dir", default=str(root / "images/cifar10-partial-real"))
        sub.choices[name].add_argument("--batch-size", type=int, default=64)
        sub.choices[name].add_argument("--proxies", default="", help="comma-separated (default: family + foundation)")
    sub.choices["costs"].add_argument("--out", default="experiments/results/proxy_family")
    sc = sub.choices["score"]
    sc.add_argument("--c100-data-dir", default=str(root / "images/cifar100-partial-real"),
                    help="CIFAR-100 images for the data-dependent proxies ('' to skip)")
    sc.add_argument("--backend", default="process")
    sc.add_argument("--workers", type=int, default=1)
    sc.add_argument("--chunk", type=int, default=20, help="archs per chunk of the cheap pass")
    for name in ("table", "suitezero"):
        tb = sub.choices[name]
        tb.add_argument("--truth", default=str(root / "nb201/nb201-merged-derived/nb201_all15625_merged.csv"))
        tb.add_argument("--suitezero", default="experiments/results/suitezero_table/results.csv")
        tb.add_argument("--out", default="experiments/results/proxy_family")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, stream=sys.stderr)
    if args.cmd == "score":
        score(args)
    elif args.cmd == "suitezero":
        suitezero(args)
    elif args.cmd == "costs":
        costs(args)
    else:
        table(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
