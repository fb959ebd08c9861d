"""A seeded sample of the 30,001 NB101 architectures of the public table, one NB101 hash per line (an
``nb101`` architecture string: ``zcnas rank --space nb101 --archs FILE`` resolves each hash to NB101's own
cell of that class). The row order of the file is the sample's order.

    ZCNAS_DATA=../shared/benchmarks python experiments/nb101_sample.py --n 1000 --seed 0 \\
        --out benchmarks_data/nb101_sample1000_seed0.txt
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

CSV = "nb101/nb101-nasbenchvis-30k/nb101_30k_joined.csv"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=os.environ.get("ZCNAS_DATA"), help="benchmarks folder (or $ZCNAS_DATA)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    import numpy as np
    import pandas as pd

    from zcnas.paths import benchmark_file

    hashes = pd.read_csv(benchmark_file(CSV, args.data_root), usecols=["hash"])["hash"].to_numpy()
    rows = np.random.default_rng(args.seed).choice(len(hashes), size=args.n, replace=False)
    Path(args.out).write_text("".join(f"{h}\n" for h in hashes[rows]))
    print(f"{args.n} of {len(hashes)} NB101 hashes (seed {args.seed}) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
