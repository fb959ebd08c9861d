"""Score TransNAS-Bench-101 architectures with zcnas's data-free proxies on one task's network, one
architecture at a time, into a record store; the same command resumes an interrupted run.

Why not ``zcnas rank``: the core scorer builds networks with the image source's name as the input
shape key and ``num_classes`` from it (``--dataset digits`` -> 10 classes), and has no way to pass a
TNB101 task; TNB101's heads are fixed by the task. This script calls the library directly:
``space.build(arch, task=...)`` under a per-architecture seed (``torch.random.fork_rng``, so the
init depends on the architecture string only, not on order), ``zcnas.proxies.score_model(model,
None, proxies, input_shape=space.input_shape(task), seed=...)``, and appends every architecture's
rows to the store's ``scores`` table at once (``dataset`` = the task, because the network and its
input depend on it). Architectures are visited in a seeded random order, so any prefix of a run is
a uniform random sample of the space; ``--dedupe`` scores one architecture per canonical class and
copies its rows to the class's other members (marked in ``reason``), except the proxies of the
network rather than of its function (``params``, ``flops``), which are computed for every member.
Tasks whose network is the same (``space.same_network_tasks``: normal and autoencoder share the
pix2pix decoder to 3 tanh channels) are scored once: the rows are written for both, the twin's
marked "copied from <task> (same network)" (``--no-twins`` scores each on its own).

    OMP_NUM_THREADS=1 python -m experiments.tnb101_score --space tnb101_micro --task class_scene \\
        --proxies params,synflow,meco,meco_opt,te_lr,l2_norm --store benchmarks_data/tnb101_zcnas_scores.h5

All fourteen (space, task) pairs, round-robin, 20 new architectures each per round (every pair's
scored set stays a uniform random prefix of its own order as the run goes on):

    OMP_NUM_THREADS=1 python -m experiments.tnb101_score --space tnb101_micro,tnb101_macro --task all \\
        --chunk 20 --store benchmarks_data/tnb101_zcnas_scores.h5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import time
from datetime import datetime, timezone

log = logging.getLogger("zcnas.experiments")
VERSION = 1


def arch_seed(seed: int, arch: str) -> int:
    """Stable per-architecture seed (blake2b of ``seed:arch``)."""
    digest = hashlib.blake2b(f"{seed}:{arch}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--space", default="tnb101_micro",
                    help="tnb101_micro, tnb101_macro, or a comma-separated list of both")
    ap.add_argument("--task", default="class_scene",
                    help="a task, a comma-separated list, or 'all' (the seven); several (space, task) pairs "
                         "are visited round-robin, --chunk new architectures each per round")
    ap.add_argument("--proxies", default="params,synflow,meco,meco_opt,te_lr,l2_norm",
                    help="comma-separated data-free proxies")
    ap.add_argument("--store", required=True, help="HDF5 record store (created or resumed)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the init and the visiting order")
    ap.add_argument("--dedupe", action="store_true", help="score one architecture per canonical class")
    ap.add_argument("--limit", type=int, default=0,
                    help="stop after this many new architectures per pair (0: all)")
    ap.add_argument("--chunk", type=int, default=20,
                    help="with several pairs: new architectures per pair and round (default 20)")
    ap.add_argument("--no-twins", action="store_true",
                    help="do not copy rows to the tasks with the same network (normal <-> autoencoder)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--nice", type=int, default=19, help="increment of this process's niceness")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.nice:
        os.nice(args.nice)

    import torch

    from zcnas import get_space
    from zcnas.proxies import get_proxy, resolve_proxies

    torch.set_num_threads(args.threads)
    proxies = resolve_proxies(args.proxies)
    needy = [p for p in proxies if get_proxy(p).needs_data]
    if needy:
        raise SystemExit(f"tnb101_score: {needy} need image data, which TNB101 has none of here; "
                         f"choose data-free proxies (zcnas list proxies).")
    pairs = []
    for name in args.space.split(","):
        if name.strip() not in ("tnb101_micro", "tnb101_macro"):
            raise SystemExit(f"tnb101_score: --space {name.strip()!r} is not a TNB101 space; "
                             f"use tnb101_micro, tnb101_macro or both, comma-separated.")
        sp = get_space(name.strip())
        tasks = sp.tasks if args.task == "all" else [t.strip() for t in args.task.split(",")]
        pairs += [(sp, sp.check_task(t)) for t in tasks]
    if len(pairs) == 1:
        score_pair(*pairs[0], proxies, args, limit=args.limit)
        return 0
    total = {(sp.name, t): 0 for sp, t in pairs}
    live = list(pairs)
    while live:  # round-robin, so that every pair's own scores grow as a uniform sample together
        for sp, t in list(live):
            budget = args.chunk if not args.limit else min(args.chunk, args.limit - total[(sp.name, t)])
            new = score_pair(sp, t, proxies, args, limit=budget)
            total[(sp.name, t)] += new
            if new < budget or (args.limit and total[(sp.name, t)] >= args.limit):
                live.remove((sp, t))
    return 0


def _run_key(sp, task: str, args) -> str:
    return f"zcnas:tnb101:{sp.name}:{task}:seed{args.seed}:v{VERSION}" + (":dedupe" if args.dedupe else "")


def _done(st, run_keys: dict[str, str], proxies: list[str]) -> dict[str, set[str]]:
    """Per task, the architectures of its run (``run_keys``: task -> run key) that have every proxy
    asked for."""
    if "scores" not in st.tables():
        return {t: set() for t in run_keys}
    prev = st.frame("scores")
    prev = prev[prev["run_key"].isin(set(run_keys.values())) & prev["proxy"].isin(proxies)]
    counts = prev.groupby(["run_key", "arch"])["proxy"].nunique()
    full = counts[counts >= len(proxies)].reset_index()
    return {t: set(full.loc[full["run_key"] == k, "arch"]) for t, k in run_keys.items()}


def score_pair(sp, task: str, proxies: list[str], args, limit: int = 0) -> int:
    """Score up to ``limit`` (0: all) not yet scored architectures of one (space, task) pair into
    ``args.store``; returns how many were scored. The store is open only while this runs, so its
    snapshot between two calls is complete (the journal also keeps what a kill interrupts).

    Unless ``args.no_twins``, every row is also written for the tasks whose network is the same
    (``space.same_network_tasks``: normal and autoencoder), under their own run keys, marked
    "copied from <task> (same network)"; an architecture a twin already has is left as it is."""
    import numpy as np
    import torch

    from zcnas.proxies import get_proxy, score_model
    from zcnas.records import RecordStore

    shape = sp.input_shape(task)
    #: proxies of the network rather than of its function (params, flops): never copied by --dedupe
    per_net = [p for p in proxies if not get_proxy(p).per_function]
    twins = [] if getattr(args, "no_twins", False) else sp.same_network_tasks(task)
    keys = {t: _run_key(sp, t, args) for t in (task, *twins)}
    run_key = keys[task]
    archs = [sp.format(a) for a in sp.enumerate()]
    order = np.random.default_rng(args.seed).permutation(len(archs))
    members: dict[str, list[str]] = {}
    for a in archs:
        members.setdefault(sp.canonical(a) if args.dedupe else a, []).append(a)
    new = 0
    with RecordStore(args.store, "a") as st:
        done = _done(st, keys, proxies)
        runs = st.frame("runs") if "runs" in st.tables() else None
        known = set() if runs is None else set(runs["run_key"])
        for t, k in keys.items():
            if k in known:
                continue
            config = {"v": VERSION, "space": sp.name, "task": t, "seed": args.seed, "dedupe": args.dedupe,
                      "input_shape": list(sp.input_shape(t)),
                      "init": "NASLib construction, torch default + TNB101 Kaiming encoder",
                      "script": "experiments/tnb101_score.py"}
            if t != task:
                config["same_network_as"] = task
            st.append("runs", [{"run_key": k, "kind": "score", "config": json.dumps(config, sort_keys=True),
                                "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}])
        log.info("%s: %d of %d architectures already scored; run key %s%s", args.store, len(done[task]),
                 len(archs), run_key, "".join(f"; same network as {t}: {len(done[t])} scored" for t in twins))
        seen_class: set[str] = set()
        t_start = time.time()
        for i in order:
            if limit and new >= limit:
                break
            a = archs[int(i)]
            cls = sp.canonical(a) if args.dedupe else a
            if cls in seen_class:
                continue
            seen_class.add(cls)
            group = members[cls]
            if all(m in done[t] for m in group for t in keys):
                continue
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(arch_seed(args.seed, a))
                model = sp.build(a, task=task)
            res = score_model(model, None, proxies, input_shape=shape, seed=args.seed)
            rows = []
            for m in group:
                own = res
                if m != a and per_net:  # counts of the network itself (a cut-off branch still has weights)
                    with torch.random.fork_rng(devices=[]):
                        torch.manual_seed(arch_seed(args.seed, m))
                        own = {**res, **score_model(sp.build(m, task=task), None, per_net, input_shape=shape,
                                                    seed=args.seed)}
                for t, k in keys.items():
                    if m in done[t]:
                        continue
                    for name, r in own.items():
                        notes = ["" if m == a or name in per_net else f"copied from {a} (same canonical class)",
                                 "" if t == task else f"copied from {task} (same network)"]
                        rows.append({"run_key": k, "space": sp.name, "arch": m, "proxy": r.proxy, "dataset": t,
                                     "batch_size": -1, "seed": args.seed, "value": r.value, "status": r.status,
                                     "reason": "; ".join(x for x in (r.reason, *notes) if x),
                                     "seconds": r.seconds})
            st.append("scores", rows)
            for t in keys:
                done[t].update(group)
            new += 1
            rate = (time.time() - t_start) / new
            log.info("%s %s %d/%d %s (%d member(s)) %.1f s/net: %s", sp.name, task, len(done[task]), len(archs), a,
                     len(group), rate, " ".join(f"{r.proxy}={r.value:.4g}" for r in res.values()))
    return new


if __name__ == "__main__":
    raise SystemExit(main())
