"""Build the bench HTML report from committed data and look at it in a headless browser.

Scores: zcnas's own NB201 scores (``benchmarks_data/nb201_zcnas_scores.h5``): the CIFAR-10 run (five
proxies plus params and flops) and the image-free run (seven proxies), 14 proxies in all.
Truth: the shared NB201 merged table, imported into a temporary record store from ``$ZCNAS_DATA``
(or ``--truth`` a store that has it). Cost of the Pareto figure: HW-NAS-Bench edge-GPU latency.

    python experiments/report_screenshot.py --out experiments/results/bench_report

writes the report into ``--report-dir`` (default ``reports/bench_report/``, git-ignored: the page is
a few MB; report.html, figures/, results.csv, summary.md, pareto.csv) and ``OUT/screenshot.png``
(the top 1280 x 2400 px of the page as headless chromium draws it) when chromium is installed,
else says so. ``--full-height PX`` also writes ``screenshot_full.png``, a window that tall (to look at
every figure; not committed).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from zcnas.bench import bench
from zcnas.constraints import load_costs
from zcnas.errors import ZcnasError
from zcnas.records import RecordStore
from zcnas.records.importers import run_importer
from zcnas.report import find_chromium, screenshot, write_report

ROOT = Path(__file__).resolve().parents[1]
SCORES = ROOT / "benchmarks_data" / "nb201_zcnas_scores.h5"
#: the CIFAR-10 run and the image-free run of the committed store (see benchmarks_data/README.md)
RUNS = ("score:cafe23222c5ea76e", "score:a8ef6de359701139")
TRUTH_METRICS = ("c10_test_200ep", "c100_test_200ep")
COST = "latency:edgegpu"

log = logging.getLogger("report_screenshot")


def load_scores(path: Path, runs: tuple[str, ...] = RUNS) -> pd.DataFrame:
    """Scores of ``runs`` side by side (the runs score different proxies)."""
    with RecordStore(path, "r") as s:
        frames = [s.scores_wide(run_key=r) for r in runs]
    return pd.concat(frames, axis=1, join="outer")


def truth_store(data_root: str | None, given: str | None, tmp: Path) -> Path:
    """A record store with NB201 truth: ``given``, else the merged table imported from ``data_root``."""
    if given:
        return Path(given)
    root = data_root or os.environ.get("ZCNAS_DATA")
    if not root:
        raise ZcnasError("No truth: pass --truth STORE or --data-root (or set ZCNAS_DATA) to the shared benchmarks.")
    path = tmp / "truth.h5"
    with RecordStore(path, "w") as s:
        run_importer("nb201-merged", s, data_root=root, scores=False)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scores", default=str(SCORES))
    ap.add_argument("--truth", default=None, help="record store with the NB201 truth (default: import it)")
    ap.add_argument("--data-root", default=None, help="shared benchmarks folder (default $ZCNAS_DATA)")
    ap.add_argument("--out", default=str(ROOT / "experiments" / "results" / "bench_report"))
    ap.add_argument("--report-dir", default=str(ROOT / "reports" / "bench_report"))
    ap.add_argument("--full-height", type=int, default=0, metavar="PX")
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=2400)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    out = Path(args.out)
    try:
        scores = load_scores(Path(args.scores))
        with tempfile.TemporaryDirectory() as tmp:
            tpath = truth_store(args.data_root, args.truth, Path(tmp))
            with RecordStore(tpath, "r") as s:
                truth = s.truth_wide(metrics=list(TRUTH_METRICS))
            cost = load_costs(truth.index, [COST], source=tpath, dataset="cifar10").iloc[:, 0]
        res = bench(scores, truth, bootstrap=args.bootstrap, seed=0)
        meta = {"scores": f"{Path(args.scores).name} (runs {', '.join(RUNS)})",
                "truth": "NB201 merged table (nb201-merged importer)",
                "truth metric": ", ".join(TRUTH_METRICS),
                "bootstrap": f"{args.bootstrap} resamples, seed 0", "Pareto cost": str(cost.name)}
        files = write_report(res.results, res.scores, res.truth, args.report_dir, directions=res.directions,
                             pareto_cost=cost, meta=meta)
    except ZcnasError as exc:
        print(f"report_screenshot: error: {exc}", file=sys.stderr)
        return 1
    pngs = sorted(Path(args.report_dir, "figures").glob("*.png"))
    log.info("wrote %s (%.1f MB) and %d figures for %d proxies", files["report"],
             files["report"].stat().st_size / 1e6, len(pngs), scores.shape[1])
    if find_chromium() is None:
        log.info("no chromium on PATH: no screenshot (Debian: apt-get install -y chromium)")
        return 0
    shot = screenshot(files["report"], out / "screenshot.png", width=args.width, height=args.height)
    log.info("screenshot: %s", shot)
    if args.full_height:
        full = screenshot(files["report"], out / "screenshot_full.png", width=args.width, height=args.full_height)
        log.info("full-height screenshot: %s", full)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
