"""Agreement of zcnas's own DARTS scores with NAS-Bench-Suite-Zero's published ones (725 NB301 genotypes).

Per proxy that both have: Spearman between zcnas's score (``benchmarks_data/darts_zcnas_scores.h5``,
real CIFAR-10 batch of 32, seed 0, NB301's 32-channel 8-cell network) and the published score of
the same genotype (``zc_nasbench301_725archs.json``, their own batch and initialisation), over the
genotypes both have. The store grows in the background; ``n`` says how many were compared.

Run:  ZCNAS_DATA=../shared/benchmarks python experiments/darts_agreement.py
Writes experiments/results/darts/agreement.md.
"""

from __future__ import annotations

from pathlib import Path

from zcnas.metrics import spearman
from zcnas.paths import benchmark_root
from zcnas.records import RecordStore
from zcnas.records.importers import run_importer
from zcnas.spaces import get_space

ROOT = Path(__file__).resolve().parents[1]
SHARED = ("synflow", "params", "flops", "l2_norm", "jacob_cov", "naswot", "grad_norm", "snip")


def main() -> int:
    space = get_space("darts")
    st = RecordStore.memory()
    run_importer("nb301-suitezero-json", st, data_root=str(benchmark_root()))
    pub = st.frame("scores").pivot_table(index="arch", columns="proxy", values="value", aggfunc="last")
    pub.index = [space.format(space.parse(a)) for a in pub.index]
    with RecordStore(ROOT / "benchmarks_data" / "darts_zcnas_scores.h5", mode="r") as own_store:
        own = own_store.frame("scores")
    own = own[own["status"] == "ok"].pivot_table(index="arch", columns="proxy", values="value", aggfunc="last")
    lines = ["# DARTS: zcnas's scores vs NAS-Bench-Suite-Zero's published scores (same genotypes)", "",
             "Produced by `experiments/darts_agreement.py`. Targets of issue 15: Spearman >= 0.95 for synflow, "
             "params and flops; >= 0.85 for the data-dependent core proxies.", "",
             "| proxy | genotypes compared | Spearman |", "|---|---|---|"]
    for p in SHARED:
        if p not in own.columns or p not in pub.columns:
            continue
        both = own[[p]].rename(columns={p: "own"}).join(pub[[p]].rename(columns={p: "pub"}), how="inner").dropna()
        lines.append(f"| {p} | {len(both)} | {spearman(both['own'].to_numpy(), both['pub'].to_numpy()):.4f} |")
    if "jacob_cov" in own.columns and "jacob_cov" in pub.columns:
        # why jacob_cov cannot agree: NASLib's score -sum(log(v + k) + 1 / (v + k)) over the eigenvalues
        # v of the batch's Jacobian correlation matrix is -B exactly when the Jacobians of the B images
        # are uncorrelated; on DARTS networks both sides sit within a few hundredths of that limit, so
        # what separates architectures is the batch and the initialisation, not the architecture
        lines += ["", "jacob_cov's spread (both sides; -B is the value for uncorrelated input Jacobians, "
                  "B = batch size):", "", "| side | mean | std | min | max | std / abs(mean) |",
                  "|---|---|---|---|---|---|"]
        for name, col in (("zcnas", own["jacob_cov"]), ("published", pub["jacob_cov"])):
            col = col.dropna()
            lines.append(f"| {name} | {col.mean():.4f} | {col.std():.4f} | {col.min():.4f} | {col.max():.4f} "
                         f"| {col.std() / abs(col.mean()):.2e} |")
        rel = [p for p in ("naswot", "params", "synflow", "grad_norm") if p in own.columns and p in pub.columns]
        lines += ["", "Spearman of jacob_cov with the other proxies, each side against its own scores:", "",
                  "| side | " + " | ".join(rel) + " |", "|---" * (len(rel) + 1) + "|"]
        for name, frame in (("zcnas", own), ("published", pub)):
            cells = [f"{spearman(*frame[['jacob_cov', p]].dropna().to_numpy().T):.2f}" for p in rel]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", "Seed-to-seed repeatability of jacob_cov on DARTS is in "
                  "`experiments/results/proxy_repeatability/summary.md`: one draw against another cannot "
                  "agree better than the proxy agrees with itself."]
    out = ROOT / "experiments" / "results" / "darts" / "agreement.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
