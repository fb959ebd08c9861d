"""Cost per network of zcnas's data-free proxies on TransNAS-Bench-101's task networks (encoder +
the task's head), one torch thread, on this CPU.

For each (space, architecture, task) the network is built by the space (NASLib's construction,
PyTorch's default init from seed 0 plus TNB101's Kaiming init of the encoder) and scored with
``zcnas.proxies.score_model(model, None, group, input_shape=<the task's input>)``, one proxy group
per call, so each group's seconds are its own: passes that proxies share are one group (``meco`` +
``meco_opt``; the three ``az_*`` components). Seconds are wall time of the call (private copies
included). A proxy that fails records its reason (e.g. a proxy that needs a global average pool on
a dense decoder). Rows are appended to ``costs.csv`` as they finish, so a rerun resumes; the
summary ``costs.md`` is rewritten at the end.

    OMP_NUM_THREADS=1 python -m experiments.tnb101_costs            # defaults below
    python -m experiments.tnb101_costs --tasks class_scene jigsaw --groups synflow params
    python -m experiments.tnb101_costs --groups zen az --retry-failed   # after a fix: time them again
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
OUT = Path(__file__).resolve().parent / "results" / "tnb101"
#: proxy groups timed together because they share one pass
GROUPS: dict[str, tuple[str, ...]] = {
    "synflow": ("synflow",), "zen": ("zen",), "zen_b4": ("zen_b4",), "meco": ("meco", "meco_opt"),
    "az": ("az_expressivity", "az_progressivity", "az_trainability"), "te_lr": ("te_lr",),
    "params": ("params",), "flops": ("flops",), "l2_norm": ("l2_norm",),
}
DEFAULT_ARCHS = ("tnb101_micro:64-41414-1_02_333", "tnb101_macro:64-1234-basic")
FIELDS = ["space", "arch", "task", "group", "proxy", "value", "status", "reason", "seconds", "group_seconds",
          "params_M"]


def main(argv=None) -> int:
    from zcnas.spaces.tnb101 import TASKS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archs", nargs="+", default=list(DEFAULT_ARCHS), help="space:arch items")
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    ap.add_argument("--groups", nargs="+", default=list(GROUPS), choices=list(GROUPS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--nice", type=int, default=10, help="increment of this process's niceness")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--retry-failed", action="store_true",
                    help="drop the rows of the chosen groups that failed and time those groups again")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.nice:
        os.nice(args.nice)

    import torch

    from zcnas import get_space
    from zcnas.proxies import score_model

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "costs.csv"
    done = set()
    if path.exists():
        with path.open() as fh:
            rows = list(csv.DictReader(fh))
        if args.retry_failed:
            failed = {_key(r) for r in rows if r["group"] in args.groups and r["status"] != "ok"}
            if failed:
                rows = [r for r in rows if _key(r) not in failed]
                _rewrite(path, rows)
                log.info("retrying %d failed (space, arch, task, group) item(s)", len(failed))
        done = {_key(r) for r in rows}
    new = not path.exists()
    with path.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()
        for item in args.archs:
            space_name, _, arch = item.partition(":")
            sp = get_space(space_name)
            a = sp.format(sp.parse(arch))
            for task in args.tasks:
                shape = sp.input_shape(task)
                torch.manual_seed(0)
                model = sp.build(a, task=task)
                params_m = sum(p.numel() for p in model.parameters()) / 1e6
                for g in args.groups:
                    if (sp.name, a, task, g) in done:
                        continue
                    t0 = time.perf_counter()
                    res = score_model(model, None, GROUPS[g], input_shape=shape)
                    wall = time.perf_counter() - t0
                    for r in res.values():
                        w.writerow({"space": sp.name, "arch": a, "task": task, "group": g, "proxy": r.proxy,
                                    "value": r.value, "status": r.status, "reason": r.reason.replace("\n", " "),
                                    "seconds": round(r.seconds, 3), "group_seconds": round(wall, 3),
                                    "params_M": round(params_m, 6)})
                    fh.flush()
                    shown = " ".join(f"{r.proxy}={r.value:.4g}" if r.ok else f"{r.proxy}=FAILED" for r in res.values())
                    log.info("%s %s %-16s %-8s %7.2f s %s", sp.name, a, task, g, wall, shown)
    _summary(path, out / "costs.md", args.threads)
    return 0


def _key(row: dict) -> tuple[str, str, str, str]:
    return row["space"], row["arch"], row["task"], row["group"]


def _rewrite(path: Path, rows: list[dict]) -> None:
    """Replace ``costs.csv`` by ``rows`` (written beside it, then moved: never half a file)."""
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)


def _summary(path: Path, md: Path, threads: int) -> None:
    import pandas as pd

    df = pd.read_csv(path)
    g = df.groupby(["space", "arch", "task", "group"], sort=False).agg(
        seconds=("group_seconds", "first"), ok=("status", lambda s: (s == "ok").all()),
        reason=("reason", lambda s: next((x for x in s if isinstance(x, str) and x), "")))
    wide = g["seconds"].unstack("group")
    fails = g[~g["ok"]].reset_index()
    vals = df[df["proxy"].isin(["params", "flops"])].pivot_table(
        index=["space", "arch", "task"], columns="proxy", values="value", sort=False)
    lines = [
        "# TNB101: seconds per network of zcnas's data-free proxies",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {threads} torch thread(s), a CPU shared with "
        "other jobs (load varied; read the figures as upper bounds). Wall seconds per proxy group and "
        "network, input = the task's (3x256x256; jigsaw 27x64x64 = 9 tiles). `meco` = meco + meco_opt "
        "(one pass), `az` = the three AZ-NAS components (one pass). Produced by "
        "`experiments/tnb101_costs.py`; raw rows in `costs.csv`.",
        "",
        _md(wide.round(2).reset_index()),
        "",
        "## Network size (params in millions as built; FLOPs in millions from FlopCounterMode, 2 per MAC)",
        "",
        _md(vals.round(3).reset_index()) if len(vals) else "(none)",
        "",
        "## Failures (a proxy that cannot run on a network; recorded, not raised)",
        "",
        _md(fails[["space", "arch", "task", "group", "reason"]]) if len(fails) else "(none)",
        "",
    ]
    md.write_text("\n".join(lines))


def _md(df) -> str:
    """A pipe table (no tabulate dependency)."""
    cols = [str(c) for c in df.columns]
    rows = [["" if v != v else str(v) for v in r] for r in df.itertuples(index=False)]
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
                     + ["| " + " | ".join(r) + " |" for r in rows])


if __name__ == "__main__":
    raise SystemExit(main())
