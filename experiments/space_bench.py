"""`zcnas bench` of zero-cost proxies against NB101's 108-epoch accuracy and NB301's predicted accuracy.

Benches (each runs `zcnas bench` with --aggregate, --bootstrap and --report):
  nb101/zcnas      zcnas's own scores (benchmarks_data/nb101_zcnas_scores.h5, CIFAR-10 images; partial,
                   growing in the background) against NB101 CIFAR-10 validation accuracy after 108 epochs
                   (one training run, %; nb101-csv importer)
  darts/published  NAS-Bench-Suite-Zero's 12 published proxies on its 725 genotypes against NB301's
                   SURROGATE-PREDICTED CIFAR-10 validation accuracy (a model's prediction, not training)
  darts/zcnas      zcnas's own scores (benchmarks_data/darts_zcnas_scores.h5; partial) against the same

The truth and score tables are written as CSV to a temporary folder (the shared benchmark data is never
copied into the repository); each bench reports its coverage (architectures with all proxies / with any).
Aggregates (mean_log_rank, mean_rank) are as `zcnas bench` computes them; their n is in the tables.

Run:  nice -n 5 python -m experiments.space_bench [--benches nb101/zcnas,darts/published,darts/zcnas]
Outputs: experiments/results/<space>/bench/<name>/ (figures/, results.csv, summary.md; report.html is removed)
and experiments/results/<space>/bench/README.md (what was benched, coverage, the command).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

BENCHES = ("nb101/zcnas", "darts/published", "darts/zcnas")
TRUTH = {"nb101": ("nb101-csv", "nb101_c10_valid_108ep",
                   "NB101 CIFAR-10 validation accuracy after 108 epochs (%, one training run)"),
         "darts": ("nb301-suitezero-json", "nb301_c10_val_pred",
                   "NB301's SURROGATE-PREDICTED CIFAR-10 validation accuracy (%; a model's prediction, not a "
                   "training run)")}


def tables(bench: str, root: Path, score_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(scores wide, truth wide, coverage note) for one bench, both indexed by arch."""
    from zcnas.records import RecordStore
    from zcnas.records.importers import run_importer
    from zcnas.records.views import scores_wide, truth_wide

    space, source = bench.split("/")
    importer, metric, _ = TRUTH[space]
    imported = run_importer(importer, data_root=root)
    truth = truth_wide(imported["truth"], [metric], space=space)
    if source == "published":
        scores = scores_wide(imported["scores"], dataset="cifar10", space=space)
    else:
        with RecordStore(score_dir / f"{space}_zcnas_scores.h5", mode="r") as s:
            scores = scores_wide(s.frame("scores"), dataset="cifar10", space=space)
    scores = scores[scores.index.isin(truth.index)]
    full = int(scores.notna().all(axis=1).sum())
    note = (f"{len(scores)} of the {len(truth)} architectures with truth have at least one score, {full} have "
            f"all {scores.shape[1]} proxies")
    return scores, truth.loc[scores.index], note


def run_bench(bench: str, root: Path, score_dir: Path, out: Path, bootstrap: int) -> str:
    from zcnas.cli import main as zcnas_main

    space = bench.split("/")[0]
    scores, truth, note = tables(bench, root, score_dir)
    dest = out / space / "bench" / bench.split("/")[1]
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        s_csv, t_csv = Path(tmp) / "scores.csv", Path(tmp) / "truth.csv"
        scores.rename_axis("arch").reset_index().to_csv(s_csv, index=False)
        truth.rename_axis("arch").reset_index().to_csv(t_csv, index=False)
        argv = ["bench", "--scores", str(s_csv), "--truth", str(t_csv), "--truth-metric", TRUTH[space][1],
                "--aggregate", "mean_log_rank,mean_rank", "--bootstrap", str(bootstrap), "--seed", "0",
                "--report", str(dest), "--format", "csv"]
        with open(os.devnull, "w") as fh:  # the table is also in results.csv
            old, sys.stdout = sys.stdout, fh
            try:
                rc = zcnas_main(argv)
            finally:
                sys.stdout = old
    if rc != 0:
        raise RuntimeError(f"zcnas bench failed for {bench} (exit {rc})")
    # report.html embeds the same figures (about 1 MB a page); the repository keeps figures/ and summary.md
    (dest / "report.html").unlink(missing_ok=True)
    return note


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--benches", default=",".join(BENCHES))
    ap.add_argument("--data-root", default=None, help="benchmark folder (default: $ZCNAS_DATA)")
    ap.add_argument("--score-dir", default="benchmarks_data")
    ap.add_argument("--out", default="experiments/results")
    ap.add_argument("--bootstrap", type=int, default=1000)
    args = ap.parse_args(argv)

    from zcnas.paths import benchmark_root

    root = benchmark_root(args.data_root)
    out = Path(args.out)
    notes: dict[str, list[str]] = {}
    for bench in args.benches.split(","):
        note = run_bench(bench, root, Path(args.score_dir), out, args.bootstrap)
        space = bench.split("/")[0]
        notes.setdefault(space, []).append(f"- `{bench}`: {note}. Truth: {TRUTH[space][2]}.")
        print(f"{bench}: {note}", file=sys.stderr)
    for space, lines in notes.items():
        readme = out / space / "bench" / "README.md"
        text = [f"# `zcnas bench` on {space}", "",
                "Made by `experiments/space_bench.py` (`zcnas bench --aggregate mean_log_rank,mean_rank "
                "--bootstrap 1000 --report`); one folder per bench with summary.md, results.csv and figures/.",
                "zcnas's own score stores are partial (scored in the background), so their figures rest on "
                "few architectures: read the n column.", "", *lines, ""]
        readme.write_text("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
