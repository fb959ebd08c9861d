"""Few-shot and transfer study over the suite's pairs (zcnas.suite, zcnas.transfer).

    ZCNAS_DATA=../shared/benchmarks OMP_NUM_THREADS=1 python -m experiments.suite_transfer \
        --out experiments/results/transfer [--pairs 'tnb101*'] [--repetitions 20] [--max-archs 1000]

Writes into --out: ``study.csv`` (one row per pair x n x repetition x method), ``summary.csv`` (means
per pair, n and method beside the best published proxy in hindsight), ``best_per_n.csv``,
``n20.csv`` (per pair at n = 20: the best method's Spearman, the best published proxy's, margin),
``transfer_matrix.csv``, ``loso.csv`` and ``summary.md``. Per-pair results are cached in
``--out/pairs/`` (a rerun skips finished pairs; --force recomputes).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pandas as pd

from zcnas.report import frame_to_markdown
from zcnas.suite import load_pair, suite_pairs
from zcnas.transfer import (
    best_method_per_n,
    few_shot_study,
    few_shot_summary,
    leave_one_space_out,
    transfer_matrix,
)

log = logging.getLogger("zcnas")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="experiments/results/transfer")
    p.add_argument("--pairs", default=None, help="pattern of space/task pairs (default: all)")
    p.add_argument("--ns", default="0,5,10,20,50")
    p.add_argument("--repetitions", type=int, default=20)
    p.add_argument("--max-archs", type=int, default=1000, help="evaluation pool per pair (seeded sample)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default="declared,best_single,top3,greedy,surrogate",
                   help="few-shot methods (zcnas.transfer.FEWSHOT_METHODS)")
    p.add_argument("--no-transfer", action="store_true",
                   help="only the few-shot study of these pairs (to run pair groups in parallel; a last run over "
                        "all pairs reuses their caches and adds the transfer matrix and leave-one-space-out)")
    p.add_argument("--cached-only", action="store_true",
                   help="summarise the pairs whose study is cached, skip (and name) the others")
    p.add_argument("--force", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    out = Path(args.out)
    (out / "pairs").mkdir(parents=True, exist_ok=True)
    ns = tuple(int(x) for x in args.ns.split(","))
    t0 = time.perf_counter()
    datas = [load_pair(pair) for pair in suite_pairs(args.pairs)]
    log.info("loaded %d pairs in %.0f s", len(datas), time.perf_counter() - t0)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    parts, skipped = [], []
    for d in datas:
        f = out / "pairs" / f"{d.pair.space}__{d.pair.task}.csv"
        if args.cached_only and not f.exists():
            skipped.append(d.pair.key)
            continue
        if f.exists() and not args.force:
            parts.append(pd.read_csv(f))
            log.info("%s: cached", d.pair.key)
            continue
        t = time.perf_counter()
        st = few_shot_study([d], ns=ns, repetitions=args.repetitions, seed=args.seed, max_archs=args.max_archs,
                            methods=methods)
        st.to_csv(f, index=False)
        parts.append(st)
        log.info("%s: %d rows in %.0f s", d.pair.key, len(st), time.perf_counter() - t)
    if args.no_transfer:
        return 0
    loso, _ = leave_one_space_out(datas, max_archs=args.max_archs, seed=args.seed)
    loso.to_csv(out / "loso.csv", index=False)
    tm = transfer_matrix(datas, max_archs=args.max_archs, seed=args.seed)
    tm.to_csv(out / "transfer_matrix.csv", index=False)
    study = pd.concat(parts, ignore_index=True)
    study.to_csv(out / "study.csv", index=False)
    summ = few_shot_summary(study)
    summ.to_csv(out / "summary.csv", index=False)
    best = best_method_per_n(summ)
    best.to_csv(out / "best_per_n.csv", index=False)
    n20 = _at_n(summ, 20)
    n20.to_csv(out / "n20.csv", index=False)
    text = _markdown(best, n20, loso, tm, args, time.perf_counter() - t0)
    if skipped:
        text += f"\nPairs whose few-shot study was not run (not in the tables): {', '.join(skipped)}.\n"
    (out / "summary.md").write_text(text)
    print(frame_to_markdown(best))
    print(frame_to_markdown(n20))
    return 0


def _at_n(summ: pd.DataFrame, n: int) -> pd.DataFrame:
    """Per pair at ``n``: the method with the best mean over the pairs at that n (the rule), the best
    method of this pair (in hindsight), and the best published proxy in hindsight."""
    sub = summ[summ["n"] == n]
    if sub.empty:
        return pd.DataFrame()
    rule = sub.groupby("method")["spearman"].mean().idxmax()
    rows = []
    for (space, task), g in sub.groupby(["space", "task"], sort=False):
        r = g[g["method"] == rule].iloc[0]
        b = g.loc[g["spearman"].idxmax()]
        rows.append({"space": space, "task": task, "rule_method": rule, "rule_spearman": r["spearman"],
                     "rule_sd": r["spearman_sd"], "best_published": r["best_published"],
                     "best_published_column": r["best_published_column"], "margin": r["margin"],
                     "win_rate": r["win_rate"], "beats": bool(r["margin"] > 0) if pd.notna(r["margin"]) else None,
                     "pair_best_method": b["method"], "pair_best_spearman": b["spearman"]})
    return pd.DataFrame(rows)


def _markdown(best, n20, loso, tm, args, seconds) -> str:
    fails = n20[n20["beats"] == False]  # noqa: E712 (None = no published proxy)
    nopub = n20[n20["beats"].isna()]
    lines = ["# Few-shot and transfer study", "",
             f"Command: `python -m experiments.suite_transfer --out {args.out} --repetitions {args.repetitions} "
             f"--max-archs {args.max_archs} --ns {args.ns}` ({seconds / 60:.1f} min).", "",
             "Per pair, n architectures of the pool (truth and published scores; own-scored ones when at least "
             "500 are; a seeded sample of --max-archs) are labelled, each method is fitted on them and ranks the "
             "rest; 'best_published' is the best single published proxy of the pair chosen in hindsight on the "
             "same rest (declared direction).", "",
             "## Methods per n (mean Spearman over the pairs)", "", frame_to_markdown(best), "",
             "## n = 20, per pair", "", frame_to_markdown(n20), "",
             f"Pairs where the rule method does not beat the best published proxy: "
             f"{', '.join(fails['space'] + '/' + fails['task']) or 'none'}; pairs without published proxies: "
             f"{', '.join(nopub['space'] + '/' + nopub['task']) or 'none'}.", "",
             "## Leave one space out (n = 0: a signed proxy ranker chosen on the other benchmarks' pairs, "
             "among the proxies the held-out pair has; Spearman on its whole pool)", "", frame_to_markdown(loso), ""]
    if len(tm):
        piv = tm.pivot_table(index="source", columns="target", values="spearman")
        lines += ["## Transfer matrix (ranker chosen on the row's pair, Spearman on the column's)", "",
                  frame_to_markdown(piv.reset_index()), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
