"""Cost per NB101 network of zcnas's proxies, one torch thread, on this CPU, at batch sizes 64 and 32.

For a seeded sample of the NB101 cells in the 30,001-row table (NB101's own cell of each class,
spread over the parameter range), the network is built by the space (seed 0) and scored with
``zcnas.proxies.score_model(model, batch, group, input_shape=(3, 32, 32))``, one proxy group per
call, so each group's seconds are its own. Groups: each core proxy alone (``synflow``,
``jacob_cov``, ``naswot``, ``grad_norm``, ``snip``) and the five together (``core``: one forward serves
four of them), on real CIFAR-10 images (``zcnas.data.get_batch``, seed 0) at each batch size; the
data-free family (``meco`` = meco + meco_opt, ``az`` = the three AZ-NAS components, ``te_lr``,
``l2_norm``, ``params``, ``flops``, ``zen``) once per network (their inputs are their own, not the
batch). Rows are appended to ``costs.csv`` as they finish (a rerun resumes); ``costs.md`` is
rewritten at the end.

    ZCNAS_DATA=../shared/benchmarks OMP_NUM_THREADS=1 python experiments/nb101_costs.py --n 6
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import platform
import time
from pathlib import Path

log = logging.getLogger("zcnas.experiments")
OUT = Path(__file__).resolve().parent / "results" / "nb101"
CSV = "nb101/nb101-nasbenchvis-30k/nb101_30k_joined.csv"
CORE = ("synflow", "jacob_cov", "naswot", "grad_norm", "snip")
DATA_GROUPS: dict[str, tuple[str, ...]] = {**{p: (p,) for p in CORE}, "core": CORE}
FREE_GROUPS: dict[str, tuple[str, ...]] = {
    "meco": ("meco", "meco_opt"), "az": ("az_expressivity", "az_progressivity", "az_trainability"),
    "te_lr": ("te_lr",), "l2_norm": ("l2_norm",), "params": ("params",), "flops": ("flops",), "zen": ("zen",),
}
FIELDS = ["arch", "params_M", "batch_size", "group", "proxy", "value", "status", "reason", "seconds",
          "group_seconds", "build_seconds"]


def pick(space, table, n: int, seed: int) -> list[str]:
    """``n`` architectures of the table, one per parameter-count quantile bin, seeded."""
    import json

    import numpy as np

    rng = np.random.default_rng(seed)
    order = np.argsort(table["params"].to_numpy())
    bins = np.array_split(order, n)
    rows = [int(rng.choice(b)) for b in bins]
    out = []
    for i in rows:
        cell = space.parse_json({"matrix": json.loads(table["adjacency"].iloc[i]),
                                 "ops": json.loads(table["ops"].iloc[i])})
        out.append(space.format(space.representative(cell)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None,
                    help="CIFAR-10 images folder (default: $ZCNAS_DATA/images/cifar10-partial-real)")
    ap.add_argument("--data-root", default=os.environ.get("ZCNAS_DATA"), help="benchmarks folder (or $ZCNAS_DATA)")
    ap.add_argument("--n", type=int, default=6, help="networks (one per parameter-count bin)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 32])
    ap.add_argument("--groups", nargs="+", default=[*DATA_GROUPS, *FREE_GROUPS],
                    choices=[*DATA_GROUPS, *FREE_GROUPS])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--nice", type=int, default=10, help="increment of this process's niceness")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.nice:
        os.nice(args.nice)

    import pandas as pd
    import torch

    from zcnas import get_space
    from zcnas.data import get_batch
    from zcnas.paths import benchmark_file, benchmark_root
    from zcnas.proxies import score_model

    torch.set_num_threads(args.threads)
    data_dir = args.data_dir or str(benchmark_root(args.data_root) / "images" / "cifar10-partial-real")
    sp = get_space("nb101")
    archs = pick(sp, pd.read_csv(benchmark_file(CSV, args.data_root)), args.n, args.seed)
    batches = {b: get_batch("cifar10", data_dir=data_dir, batch_size=b, seed=0) for b in args.batch_sizes}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "costs.csv"
    done = set()
    if path.exists():
        with path.open() as fh:
            done = {(r["arch"], r["batch_size"], r["group"]) for r in csv.DictReader(fh)}
    new = not path.exists()
    with path.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()
        for a in archs:
            jobs = [(b, g) for b in args.batch_sizes for g in args.groups if g in DATA_GROUPS]
            jobs += [(0, g) for g in args.groups if g in FREE_GROUPS]
            jobs = [(b, g) for b, g in jobs if (a, str(b), g) not in done]
            if not jobs:
                continue
            torch.manual_seed(0)
            t0 = time.perf_counter()
            model = sp.build(a)
            build_s = time.perf_counter() - t0
            params_m = sum(p.numel() for p in model.parameters()) / 1e6
            for b, g in jobs:
                group = DATA_GROUPS.get(g) or FREE_GROUPS[g]
                t0 = time.perf_counter()
                res = score_model(model, batches[b] if b else None, group, input_shape=(3, 32, 32))
                wall = time.perf_counter() - t0
                for r in res.values():
                    w.writerow({"arch": a, "params_M": round(params_m, 3), "batch_size": b, "group": g,
                                "proxy": r.proxy, "value": r.value, "status": r.status,
                                "reason": r.reason.replace("\n", " "), "seconds": round(r.seconds, 3),
                                "group_seconds": round(wall, 3), "build_seconds": round(build_s, 3)})
                fh.flush()
                shown = " ".join(f"{r.proxy}={r.value:.4g}" if r.ok else f"{r.proxy}=FAILED({r.reason[:60]})"
                                 for r in res.values())
                log.info("%.2fM b=%-2s %-9s %7.2f s %s", params_m, b or "-", g, wall, shown)
    _summary(path, out / "costs.md", args.threads)
    return 0


def _summary(path: Path, md: Path, threads: int) -> None:
    import pandas as pd

    df = pd.read_csv(path)
    g = df.groupby(["arch", "batch_size", "group"], sort=False).agg(
        params_M=("params_M", "first"), seconds=("group_seconds", "first"),
        ok=("status", lambda s: (s == "ok").all()),
        reason=("reason", lambda s: next((x for x in s if isinstance(x, str) and x), ""))).reset_index()
    g["batch"] = g["batch_size"].map(lambda b: "data-free" if b == 0 else f"batch {b}")
    table = g.groupby(["group", "batch"], sort=False)["seconds"].agg(["median", "mean", "max", "count"]).round(2)
    per_net = g.pivot_table(index=["arch", "params_M"], columns=["batch", "group"], values="seconds", sort=False)
    fails = g[~g["ok"]]
    build = df.groupby("arch")["build_seconds"].first()
    lines = [
        "# NB101: seconds per network of zcnas's proxies",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {threads} torch thread(s), a CPU shared with "
        "other jobs (load average 8-14 on 2 cores while this ran, 4-7x oversubscribed: read the figures as "
        "upper bounds). "
        f"{df['arch'].nunique()} NB101 networks (one per parameter-count bin of the 30,001-row table, "
        f"{build.size} builds, median build {build.median():.2f} s, not included below). Wall seconds per proxy "
        "group and network; real CIFAR-10 images (seed 0) for the data proxies; `core` = the five core proxies in "
        "one call (shared forward), `meco` = meco + meco_opt, `az` = the three AZ-NAS components (one pass). "
        "Produced by `experiments/nb101_costs.py`; raw rows in `costs.csv`.",
        "",
        "## Seconds per network (over the networks)",
        "",
        _md(table.reset_index()),
        "",
        "## Per network",
        "",
        _md(per_net.round(2).reset_index()) if len(per_net) else "(none)",
        "",
        "## Failures (recorded, not raised)",
        "",
        _md(fails[["arch", "batch", "group", "reason"]]) if len(fails) else "(none)",
        "",
    ]
    md.write_text("\n".join(lines))


def _md(df) -> str:
    """A pipe table (no tabulate dependency)."""
    cols = [str(c) if not isinstance(c, tuple) else " ".join(map(str, c)).strip() for c in df.columns]
    rows = [["" if v != v else str(v) for v in r] for r in df.itertuples(index=False)]
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
                     + ["| " + " | ".join(r) + " |" for r in rows])


if __name__ == "__main__":
    raise SystemExit(main())
