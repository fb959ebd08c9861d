"""NB101 parity: the space against the public NB101 table (30,001 rows of nb101_30k_joined.csv).

Measures, and writes to ``results/nb101/parity.md``:

- hash parity: the NB101 hash of each row's cell equals its ``hash`` column;
- parameter parity: the analytic parameter count of NB101's own cell of each row's class equals the
  ``params`` column, and how many rows' own matrix (the CSV's) differs from NB101's cell of its class;
- torch parity: the built network's parameter count equals the analytic count on a seeded sample;
- enumeration: the number of classes, and the time to build the index cold (in a fresh cache
  folder), to load it from the cache, and to build the hash table cold (optional, minutes).

    ZCNAS_DATA=../shared/benchmarks python experiments/nb101_parity.py [--torch-sample 30] [--hash-table]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "nb101"
CSV = "nb101/nb101-nasbenchvis-30k/nb101_30k_joined.csv"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=os.environ.get("ZCNAS_DATA"), help="benchmarks folder (or $ZCNAS_DATA)")
    ap.add_argument("--torch-sample", type=int, default=30, help="networks built to check the analytic count")
    ap.add_argument("--hash-table", action="store_true", help="also time the hash table built cold (minutes)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)

    import pandas as pd
    import torch

    from zcnas import get_space
    from zcnas.paths import benchmark_file
    from zcnas.spaces import nb101

    torch.set_num_threads(1)
    sp = get_space("nb101")
    lines = ["# NB101 parity with the public table", "",
             f"Machine: {platform.processor() or platform.machine()}, one thread, a CPU shared with other jobs "
             f"(times are upper bounds). Produced by `experiments/nb101_parity.py`.", ""]

    # enumeration, cold and cached, in a fresh cache folder
    saved = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp
        nb101._INDEX.clear()
        t0 = time.perf_counter()
        idx = nb101.cell_index()
        cold = time.perf_counter() - t0
        nb101._INDEX.clear()
        t0 = time.perf_counter()
        idx = nb101.cell_index()
        cached = time.perf_counter() - t0
        size = (Path(tmp) / "zcnas" / f"nb101_index_v{nb101.INDEX_VERSION}.npz").stat().st_size
        hash_cold = None
        if args.hash_table:
            t0 = time.perf_counter()
            idx.hashes()
            hash_cold = time.perf_counter() - t0
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved
    nb101._INDEX.clear()
    idx = nb101.cell_index()
    t0 = time.perf_counter()
    idx.hashes()
    hash_cached = time.perf_counter() - t0
    lines += ["## Enumeration", "",
              f"- classes: {len(idx):,} (NB101 publishes 423,624)",
              f"- index built cold (numpy isomorphism classes, NB101's order): {cold:.1f} s; loaded from the cache: "
              f"{cached:.2f} s; cache file {size / 1e6:.2f} MB",
              "- hash table (one iterated-MD5 NB101 hash per class, needed only to look a hash up): "
              + (f"built cold in {hash_cold:.0f} s; " if hash_cold is not None else "")
              + f"loaded from the cache in {hash_cached:.2f} s", ""]

    df = pd.read_csv(benchmark_file(CSV, args.data_root))
    t0 = time.perf_counter()
    hash_ok = params_ok = own_params_ok = own_is_rep = 0
    mismatch = []
    for h, adj, ops, params in zip(df.hash, df.adjacency, df.ops, df.params, strict=True):
        a = sp.parse_json({"matrix": json.loads(adj), "ops": json.loads(ops)})
        rep = sp.representative(a)
        hash_ok += sp.canonical(a) == h
        params_ok += sp.count_params(rep) == params
        own_params_ok += sp.count_params(a) == params
        own_is_rep += rep == a
        if rep != a and len(mismatch) < 3:
            mismatch.append((h, sp.format(a), sp.format(rep), int(params), sp.count_params(a)))
    secs = time.perf_counter() - t0
    n = len(df)
    lines += ["## Table parity", "",
              f"- rows: {n:,} ({secs:.0f} s for all checks)",
              f"- hash parity (the NB101 hash of the row's cell equals `hash`): **{hash_ok:,} / {n:,}**",
              f"- parameter parity (analytic count of NB101's own cell of the row's class equals `params`): "
              f"**{params_ok:,} / {n:,}**",
              f"- the row's matrix is NB101's own cell of its class (first in NB101's generation order, the "
              f"matrix NB101 trained): {own_is_rep:,} / {n:,}; for the other {n - own_is_rep:,} rows the CSV "
              f"holds an isomorphic reordering, and the analytic count of that reordering equals `params` "
              f"on {own_params_ok - own_is_rep:,} of them ({own_params_ok:,} / {n:,} overall): NB101 gives "
              f"the remainder channels of the output split to the first vertices in vertex order, so the "
              f"order changes the network. The importers store every row under NB101's own cell.", ""]
    if mismatch:
        lines += ["Examples (hash, CSV cell, NB101's cell, params, count of the CSV cell):", ""]
        lines += [f"- `{m[0]}`: `{m[1]}` vs `{m[2]}`: {m[3]:,} vs {m[4]:,}" for m in mismatch]
        lines.append("")

    sample = sp.sample(args.torch_sample, seed=0) + [sp.at(0)]
    t0 = time.perf_counter()
    torch_ok = 0
    for a in sample:
        net = sp.build(a)
        torch_ok += sum(p.numel() for p in net.parameters()) == sp.count_params(a)
    lines += ["## Torch network", "",
              f"- built network's parameter count equals the analytic count: **{torch_ok} / {len(sample)}** "
              f"(seeded sample of {args.torch_sample} cells + the input->output cell; "
              f"{(time.perf_counter() - t0) / len(sample):.2f} s per build)", ""]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "parity.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if hash_ok == params_ok == n and torch_ok == len(sample) else 1


if __name__ == "__main__":
    raise SystemExit(main())
