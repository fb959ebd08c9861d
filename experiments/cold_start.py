"""Cold start to ranked output: architectures per minute of ``zcnas rank``, per space and ranker.

Each measurement runs the command line in a fresh process (imports, data, network builds,
scoring, output: everything a user waits for), ``--backend process --workers 2`` (this machine's
two cores), real CIFAR-10 images when the ranker reads images, no record store, and times the
wall clock from start to exit. The quality beside each ranker is its Spearman on held-out
architectures as measured elsewhere (named in the table). Pause other work on the machine first;
the load average at the start of each run is recorded.

Run:  ZCNAS_DATA=../shared/benchmarks python experiments/cold_start.py
Writes experiments/results/cold_start/{results.csv, summary.md}.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent / "results" / "cold_start"
#: (space, ranker, N, held-out Spearman and where it was measured)
RUNS = [
    ("nb201", "@zcnas_nb201_fast", 1000,
     "0.951, half of NB201 not used to choose it (experiments/results/cost_quality)"),
    ("nb201", "@zcnas_nb201_graph", 1000,
     "0.915 +- 0.032 over 5 held-out halves (experiments/results/structural_rankers)"),
    ("nb201", "@zcnas_nb201", 200, "0.940 on held-out function classes (experiments/results/proxy_family)"),
    ("nb101", "@zcnas_nb101_graph", 1000, "0.869 +- 0.002 over 5 held-out halves of the 30,001"),
    ("darts", "@zcnas_darts_graph", 1000, "0.795 +- 0.026 over 5 held-out halves of the 725 (NB301 surrogate truth)"),
    # TNB101: the task's default ranker (`zcnas rank --space S --task T` with no --proxies takes it)
    ("tnb101_micro/class_scene", "@zcnas_tnb101_micro_class_scene_graph", 1000,
     "0.880 on held-out halves of the 4,096, class_scene (experiments/results/structural_rankers)"),
    ("tnb101_macro/segmentsemantic", "@zcnas_tnb101_macro_segmentsemantic_graph", 1000,
     "0.863 on held-out halves of the 3,256, segmentsemantic (experiments/results/structural_rankers)"),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="comma-separated ranker names to run")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    data = os.environ.get("ZCNAS_DATA", "")
    zcnas = str(Path(sys.executable).with_name("zcnas"))
    rows = []
    for space, ranker, n, quality in RUNS:
        if args.only and ranker not in args.only.split(","):
            continue
        space_name, _, task = space.partition("/")
        cmd = [zcnas, "-q", "rank", "--space", space_name, "--sample", str(n), "--seed", "1", "--proxies", ranker,
               *(["--task", task] if task else []),
               "--dataset", "cifar10", "--data-dir", f"{data}/images/cifar10-partial-real",
               "--backend", "process", "--workers", "2", "--format", "csv", "--top", "0"]
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            print(res.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{' '.join(cmd)} failed")
        lines = len(res.stdout.strip().splitlines()) - 1
        row = {"space": space, "ranker": ranker, "n": n, "ranked": lines, "wall_s": round(wall, 1),
               "archs_per_min": round(60 * n / wall, 1), "load_at_start": round(load, 2), "quality": quality}
        rows.append(row)
        print(row, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    if args.only and (out / "results.csv").exists():  # a partial rerun replaces its own rows only
        old = pd.read_csv(out / "results.csv")
        old = old[~old.set_index(["space", "ranker", "n"]).index.isin(df.set_index(["space", "ranker", "n"]).index)]
        df = pd.concat([old, df], ignore_index=True)
        rows = df.to_dict(orient="records")
    df.to_csv(out / "results.csv", index=False)
    lines = ["# Cold start to ranked output (`zcnas rank`, 2 worker processes, this 2-core CPU)", "",
             "Produced by `experiments/cold_start.py`: each row is one fresh `zcnas rank` process (imports, "
             "data, networks, scoring, CSV output), timed start to exit; real CIFAR-10 images where the ranker "
             "reads images. Quality: Spearman on architectures the ranker was not chosen on.", "",
             "| space | ranker | N | wall (s) | archs/min | load at start | held-out quality |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['space']} | `{r['ranker']}` | {r['n']} | {r['wall_s']} | {r['archs_per_min']} | "
                     f"{r['load_at_start']} | {r['quality']} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
