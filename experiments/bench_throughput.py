"""Throughput benchmark: architectures per second and peak memory for the five core proxies.

Modes, measured in one run so that the ratios are fair on a shared machine:

- ``baseline``: one proxy at a time, each on a freshly built model, nothing shared (the way the
  reference implementation scores), one process, one thread;
- ``fast-1`` / ``fast-2``: zcnas's engine (one forward serves jacob_cov, naswot, grad_norm and
  snip; channels_last layout) in 1 and 2 worker processes of one thread each;
- ``nchw-1`` / ``nchw-2``: the same engine in the reference NCHW layout, where the computation is
  the baseline's and the values must be bitwise equal;
- ``--ray``: the Ray backend on the same architectures, checked equal to the local result;
- ``--interleave K``: ``baseline`` and ``fast-1`` (the engine in this process, one thread)
  alternate on chunks of K architectures, in the order AB BA AB ..., each chunk timed on its own,
  so that a change of machine load falls on both modes alike; the report gives the ratio of the
  totals and the median and quartiles of the per-chunk ratios (the figure to quote on a shared
  machine). Values of both modes are compared as for the other modes. With ``--isolated`` each
  mode runs in its own persistent worker process (one computes while the other waits): the
  baseline as a plain process with one torch thread, zcnas set up as its scoring workers are
  (one thread, :func:`zcnas.ranking.backends.tune_malloc`), i.e. each as its users run it;
- ``--full-space``: every NB201 architecture (one per function class with ``--dedupe``) into a
  record store, timed; resumable, so the time reported is only meaningful for a fresh store.

``--foresight DIR`` makes the baseline the peer itself: foresight's ``find_measures`` (a checkout
of SamsungLabs' zero-cost-nas at DIR, imported from there, never copied into zcnas) on the same
networks (zcnas's build, same seed) and the same batch, NCHW as foresight leaves them; the
``agreement`` then compares zcnas's values with foresight's own. Get it with
``git clone https://github.com/SamsungLabs/zero-cost-nas DIR``. ``--foresight-network own`` gives
foresight its own NB201 model instead, the one its ``nasbench2_pred.py`` scores (all five candidate
ops built on every edge behind a keep-mask, so it deep-copies a super-network per measure): what a
foresight user pays end to end; that network differs from NB201's (cell batch norms without affine,
conv biases), so the agreement is then between two different networks' scores.

``--proxies shared`` measures only the four proxies that foresight also implements (synflow,
jacob_cov, grad_norm, snip), the like-for-like comparison; the default is the five core proxies.

Results unchanged: for each proxy, the Spearman correlation between fast and baseline scores and
the fraction of bitwise-equal values. Run::

    ZCNAS_DATA=../shared/benchmarks python experiments/bench_throughput.py --n 200
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import time
from pathlib import Path

CORE = ("synflow", "jacob_cov", "grad_norm", "snip", "naswot")
# the four proxies that foresight (SamsungLabs' zero-cost-nas) also implements: the fair comparison
SHARED_WITH_FORESIGHT = ("synflow", "jacob_cov", "grad_norm", "snip")
PROXY_SETS = {"core": CORE, "shared": SHARED_WITH_FORESIGHT}
#: what foresight raised on (the architecture, the measure, the error); zcnas records such a proxy as failed
FORESIGHT_FAILURES: list[dict] = []


def _proxies(text: str) -> tuple[str, ...]:
    """``core``, ``shared`` or a comma-separated list of registered proxies."""
    if text in PROXY_SETS:
        return PROXY_SETS[text]
    from zcnas.proxies import list_proxies

    names = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in names if p not in list_proxies()]
    if unknown or not names:
        raise SystemExit(f"--proxies: unknown {unknown or text!r}; use core, shared or names from `zcnas list proxies`")
    return names


def _foresight_version(path: str) -> str:
    import subprocess

    rev = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return (f"foresight (SamsungLabs/zero-cost-nas{' @ ' + rev.stdout.strip() if rev.returncode == 0 else ''}) "
            f"find_measures, all measures in one call")


def _peak_rss_mb() -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_main_mb": round(own, 1), "peak_rss_worker_mb": round(kids, 1)}


def _data_args(args) -> dict:
    if args.dataset == "cifar10" and args.data_dir is None and os.environ.get("ZCNAS_DATA"):
        args.data_dir = str(Path(os.environ["ZCNAS_DATA"]) / "images/cifar10-partial-real")
    return {"dataset": args.dataset, "data_dir": args.data_dir}


def run_baseline(archs, config, batch, per_proxy: dict | None = None, proxies=CORE) -> tuple[dict, float]:
    """One proxy at a time on a fresh model: the reference way. ``per_proxy`` collects each
    proxy's seconds per architecture (model build included)."""
    import torch

    from zcnas.proxies import score_model
    from zcnas.ranking.scoring import build_seeded

    torch.set_num_threads(1)
    space_fmt = __import__("zcnas").get_space(config.space).format
    values: dict = {}
    t0 = time.perf_counter()
    for a in archs:
        s = space_fmt(a)
        for p in proxies:
            t1 = time.perf_counter()
            model = build_seeded(config.space, a, config.num_classes, config.seed)
            r = score_model(model, batch, [p], seed=config.seed, share=False)[p]
            values[(s, p)] = r.value
            if per_proxy is not None:
                per_proxy.setdefault(p, []).append(time.perf_counter() - t1)
    return values, time.perf_counter() - t0


def run_foresight(archs, config, batch, path: str, per_proxy: dict | None = None, proxies=CORE,
                  network: str = "zcnas") -> tuple[dict, float]:
    """foresight's own ``find_measures`` on each architecture, all measures in one call (it deep-copies
    the network per measure), the batch given as a one-batch loader; network build included, as in
    the zcnas mode. ``path``: a checkout of SamsungLabs/zero-cost-nas. ``network``: ``zcnas`` (zcnas's
    build under the same seed: the like-for-like engine comparison, values comparable) or ``own``
    (foresight's ``nasbench2.get_model_from_arch_str``, as its ``nasbench2_pred.py`` builds it: every
    edge holds all five candidate ops behind a keep-mask, cell batch norms without affine, conv biases;
    a different network, so its values are not comparable with zcnas's one for one)."""
    import torch
    import torch.nn.functional as F

    from zcnas.ranking.scoring import build_seeded

    if path not in sys.path:
        if not (Path(path) / "foresight" / "pruners" / "predictive.py").is_file():
            raise SystemExit(f"--foresight {path}: no foresight/pruners/predictive.py there; clone "
                             f"https://github.com/SamsungLabs/zero-cost-nas into it")
        sys.path.insert(0, path)
    from foresight.pruners.predictive import find_measures

    if network not in ("zcnas", "own"):
        raise SystemExit(f"--foresight-network {network!r}: use zcnas or own")
    if network == "own":
        from foresight.models import nasbench2
    torch.set_num_threads(1)
    space_fmt = __import__("zcnas").get_space(config.space).format
    loader = [(batch.inputs, batch.targets)]
    info = ("random", 1, batch.num_classes)
    values: dict = {}
    t0 = time.perf_counter()
    for a in archs:
        s = space_fmt(a)
        t1 = time.perf_counter()
        if network == "own":  # as foresight's nasbench2_pred.py: default init (init_w_type 'none')
            torch.manual_seed(config.seed)
            model = nasbench2.get_model_from_arch_str(s, config.num_classes)
        else:
            model = build_seeded(config.space, a, config.num_classes, config.seed)
        try:  # one call for all measures, as foresight's own scripts do (it deep-copies per measure)
            got = find_measures(model, loader, info, torch.device(config.device), loss_fn=F.cross_entropy,
                                measure_names=list(proxies))
        except Exception as exc:  # e.g. jacob_cov where no path reaches the input: x.grad is None
            FORESIGHT_FAILURES.append({"arch": s, "proxies": list(proxies),
                                       "error": f"{type(exc).__name__}: {exc}"[:200]})
            got = {}
            for p in proxies:  # the measures that do run, one by one (only on the failing architecture)
                try:
                    got[p] = find_measures(model, loader, info, torch.device(config.device), loss_fn=F.cross_entropy,
                                           measure_names=[p])[p]
                except Exception:  # noqa: BLE001
                    got[p] = float("nan")
        for p in proxies:
            values[(s, p)] = float(got[p])
        if per_proxy is not None:  # foresight times all measures together: the total, per architecture
            per_proxy.setdefault("all", []).append(time.perf_counter() - t1)
    return values, time.perf_counter() - t0


def run_fast(archs, config, batch, backend, proxies=CORE) -> tuple[dict, float]:
    from zcnas.ranking import score_architectures

    t0 = time.perf_counter()
    long = score_architectures(archs, list(proxies), config, batch=batch, progress=False, backend=backend)
    dt = time.perf_counter() - t0
    return {(r.arch, r.proxy): r.value for r in long.itertuples()}, dt


_ISOLATED: dict = {}


def _isolated_init(mode, config, batch, proxies, foresight, as_zcnas_worker, network="zcnas"):
    """A persistent worker process of ``--isolated``: set up as zcnas's scoring workers are (one torch
    thread, :func:`zcnas.ranking.backends.tune_malloc`) for ``fast-1``, as a plain Python process with
    one torch thread for the baseline (as a foresight user runs it)."""
    import torch

    if as_zcnas_worker:
        from zcnas.ranking.backends import tune_malloc

        tune_malloc()
    torch.set_num_threads(1)
    _ISOLATED.update(mode=mode, config=config, batch=batch, proxies=proxies, foresight=foresight, network=network)


def _isolated_run(part):
    """One timed chunk in an ``--isolated`` worker: (values, seconds, what foresight raised on in this
    chunk), timed inside the worker (the failures are sent back: the worker's list is its own)."""
    from zcnas.ranking.backends import LocalBackend

    w = _ISOLATED
    if w["mode"] == "fast-1":
        out = run_fast(part, w["config"], w["batch"], LocalBackend(threads=1), w["proxies"])
    elif w["foresight"]:
        out = run_foresight(part, w["config"], w["batch"], w["foresight"], None, w["proxies"], w["network"])
    else:
        out = run_baseline(part, w["config"], w["batch"], None, w["proxies"])
    failures = list(FORESIGHT_FAILURES)
    FORESIGHT_FAILURES.clear()
    return (*out, failures)


def run_interleaved(archs, config, batch, chunk: int, proxies=CORE, foresight: str | None = None,
                    isolated: bool = False, network: str = "zcnas") -> dict:
    """``baseline`` and ``fast-1`` on the same chunks of ``archs``, alternating which goes first (AB,
    BA, ...), after one untimed warm-up architecture each. In this process, or with ``isolated`` each
    mode in its own persistent worker process (only one of the two computes at a time), zcnas's set
    up as its scoring workers are. Returns both modes' values, totals and per-chunk seconds, and the
    per-chunk ratios."""
    from zcnas.ranking.backends import LocalBackend

    if chunk < 1:
        raise SystemExit(f"--interleave {chunk}: give a chunk size of at least 1 architecture")
    backend = LocalBackend(threads=1)
    pools = {}
    if isolated:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        for mode in ("baseline", "fast-1"):
            pools[mode] = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_isolated_init,
                                              initargs=(mode, config, batch, proxies, foresight, mode == "fast-1",
                                                        network))

    def baseline(part):
        if isolated:
            values, seconds, failures = pools["baseline"].submit(_isolated_run, part).result()
            FORESIGHT_FAILURES.extend(failures)
            return values, seconds
        if foresight:
            return run_foresight(part, config, batch, foresight, None, proxies, network)
        return run_baseline(part, config, batch, None, proxies)

    def fast(part):
        if isolated:
            values, seconds, _ = pools["fast-1"].submit(_isolated_run, part).result()
            return values, seconds
        return run_fast(part, config, batch, backend, proxies)

    try:
        return _interleave(archs, chunk, baseline, fast)
    finally:
        for pool in pools.values():
            pool.shutdown()


def _interleave(archs, chunk, baseline, fast) -> dict:
    import numpy as np

    baseline(archs[:1])  # warm-up: imports, allocator, kernels
    fast(archs[:1])
    FORESIGHT_FAILURES.clear()  # the warm-up architecture is scored again below
    vals = {"baseline": {}, "fast-1": {}}
    secs = {"baseline": [], "fast-1": []}
    for i, start in enumerate(range(0, len(archs), chunk)):
        part = archs[start:start + chunk]
        order = ("baseline", "fast-1") if i % 2 == 0 else ("fast-1", "baseline")
        for mode in order:
            v, dt = baseline(part) if mode == "baseline" else fast(part)
            vals[mode].update(v)
            secs[mode].append(dt)
    ratios = np.array(secs["baseline"]) / np.array(secs["fast-1"])
    q1, med, q3 = (float(x) for x in np.percentile(ratios, [25, 50, 75]))
    return {"values": vals, "seconds": secs,
            "summary": {"chunk": chunk, "chunks": len(ratios),
                        "baseline_s_per_arch": round(sum(secs["baseline"]) / len(archs), 4),
                        "fast1_s_per_arch": round(sum(secs["fast-1"]) / len(archs), 4),
                        "ratio_of_totals": round(sum(secs["baseline"]) / sum(secs["fast-1"]), 2),
                        "ratio_median": round(med, 2), "ratio_q1": round(q1, 2), "ratio_q3": round(q3, 2),
                        "ratio_min": round(float(ratios.min()), 2), "ratio_max": round(float(ratios.max()), 2),
                        "chunk_ratios": [round(float(r), 2) for r in ratios]}}


def compare(a: dict, b: dict) -> dict:
    import numpy as np
    from scipy.stats import spearmanr

    out = {}
    for p in dict.fromkeys(k[1] for k in a):
        keys = [k for k in a if k[1] == p and k in b]
        x = np.array([a[k] for k in keys])
        y = np.array([b[k] for k in keys])
        ok = np.isfinite(x) & np.isfinite(y)
        rel = np.abs(x[ok] - y[ok]) / np.maximum(np.abs(x[ok]), 1e-300)
        out[p] = {"spearman": float(spearmanr(x[ok], y[ok]).statistic) if ok.sum() > 2 else float("nan"),
                  "bitwise_equal": float(np.mean(x[ok] == y[ok])) if ok.any() else float("nan"),
                  "max_rel_diff": float(rel.max()) if ok.any() else float("nan"),
                  "n": int(ok.sum())}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="random architectures (seed --seed)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--dataset", default="cifar10")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--modes", default="baseline,nchw-1,fast-1,fast-2",
                    help="comma-separated modes: baseline, fast-N, nchw-N (N worker processes); '' for none")
    ap.add_argument("--interleave", type=int, default=0, metavar="K",
                    help="alternate baseline and fast-1 (in-process) on chunks of K architectures (AB BA ...) "
                         "and report the per-chunk ratios; replaces --modes")
    ap.add_argument("--isolated", action="store_true",
                    help="with --interleave: each mode in its own persistent worker process (zcnas's set up "
                         "as its scoring workers are), one computing at a time")
    ap.add_argument("--foresight", metavar="DIR", default=None,
                    help="baseline = foresight's own find_measures from a checkout of SamsungLabs/zero-cost-nas")
    ap.add_argument("--foresight-network", choices=("zcnas", "own"), default="zcnas",
                    help="with --foresight: the networks foresight scores: zcnas's build (like for like, values "
                         "compared; default) or foresight's own NB201 model, as its nasbench2_pred.py runs it")
    ap.add_argument("--ray", action="store_true", help="also check the Ray backend on the same archs")
    ap.add_argument("--full-space", metavar="STORE", default=None,
                    help="score the whole space into STORE (with --dedupe) and time it")
    ap.add_argument("--dedupe", action="store_true", help="with --full-space: one score per function class")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--proxies", default="core",
                    help="core (the five), shared (the four foresight also has) or a comma-separated list")
    ap.add_argument("--out", default="experiments/results/bench_throughput")
    args = ap.parse_args(argv)
    proxies = _proxies(args.proxies)

    import torch

    from zcnas import get_space
    from zcnas.ranking.backends import LocalBackend, ProcessBackend, RayBackend
    from zcnas.ranking.scoring import ScoringConfig, load_batch

    config = ScoringConfig(batch_size=args.batch_size, seed=args.seed, device=args.device, **_data_args(args))
    batch, config = load_batch(config)
    if args.device != "cpu":
        batch = type(batch)(**{**batch.__dict__, "inputs": batch.inputs.to(args.device),
                               "targets": batch.targets.to(args.device)})
    space = get_space("nb201")
    archs = space.sample(args.n, seed=args.seed)
    report: dict = {"n_archs": args.n, "batch_size": args.batch_size, "dataset": config.dataset,
                    "proxies": list(proxies), "cpu_count": os.cpu_count(), "torch": torch.__version__,
                    "device": args.device, "modes": {},
                    "baseline": _foresight_version(args.foresight) if args.foresight else
                    "zcnas proxies one at a time, each on a fresh model (share=False)"}
    if args.foresight:
        report["foresight_network"] = args.foresight_network
    results = {}
    modes = [] if args.interleave else [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.interleave:
        print(f"[interleaved] baseline and fast-1 on chunks of {args.interleave} of {args.n} architectures ...",
              file=sys.stderr, flush=True)
        inter = run_interleaved(archs, config, batch, args.interleave, proxies, args.foresight, args.isolated,
                                args.foresight_network)
        results.update(inter["values"])
        report["interleaved"] = {**inter["summary"], "isolated": args.isolated}
        report["interleaved"]["agreement"] = compare(results["baseline"], results["fast-1"])
        for mode, secs in inter["seconds"].items():
            report["modes"][mode] = {"seconds": round(sum(secs), 2), "archs_per_s": round(args.n / sum(secs), 3),
                                     "s_per_arch": round(sum(secs) / args.n, 4)}
        print(f"[interleaved] ratio of totals {inter['summary']['ratio_of_totals']}x, per-chunk median "
              f"{inter['summary']['ratio_median']}x [{inter['summary']['ratio_q1']}, {inter['summary']['ratio_q3']}]",
              file=sys.stderr, flush=True)
    for mode in modes:
        print(f"[{mode}] scoring {args.n} architectures ...", file=sys.stderr, flush=True)
        if mode == "baseline":
            per_proxy: dict = {}
            vals, dt = (run_foresight(archs, config, batch, args.foresight, per_proxy, proxies, args.foresight_network)
                        if args.foresight
                        else run_baseline(archs, config, batch, per_proxy, proxies))
            report["baseline_seconds_per_arch_by_proxy"] = {p: round(sum(v) / len(v), 4) for p, v in per_proxy.items()}
        elif mode.split("-")[0] in ("fast", "nchw") and mode.split("-")[-1].isdigit():
            workers = int(mode.split("-")[-1])
            backend = LocalBackend(threads=1) if workers == 1 and args.device != "cpu" else \
                ProcessBackend(workers=workers, threads=1)
            layout = "contiguous" if mode.startswith("nchw") else "channels_last"
            vals, dt = run_fast(archs, dataclasses.replace(config, memory_format=layout), batch, backend, proxies)
        else:
            ap.error(f"unknown mode {mode!r}")
        results[mode] = vals
        report["modes"][mode] = {"seconds": round(dt, 2), "archs_per_s": round(args.n / dt, 3),
                                 "s_per_arch": round(dt / args.n, 4)}
        print(f"[{mode}] {dt:.1f} s, {args.n / dt:.3f} arch/s", file=sys.stderr, flush=True)
    if "baseline" in results and not args.interleave:
        base = report["modes"]["baseline"]["seconds"]
        for mode in results:
            report["modes"][mode]["speedup_vs_baseline"] = round(base / report["modes"][mode]["seconds"], 2)
            if mode != "baseline":
                report["modes"][mode]["agreement"] = compare(results["baseline"], results[mode])
    if args.ray:
        local = results.get("fast-1") or run_fast(archs, config, batch, LocalBackend(threads=1))[0]
        ray_vals, dt = run_fast(archs, config, batch, RayBackend(workers=2))
        same = [ray_vals[k] == local[k] or (ray_vals[k] != ray_vals[k] and local[k] != local[k]) for k in local]
        report["ray"] = {"seconds": round(dt, 2), "agreement_with_local": compare(local, ray_vals),
                         "identical": all(same)}
    if args.full_space:
        from zcnas.ranking import score_architectures
        from zcnas.records import RecordStore

        cfg = ScoringConfig(**{**config.__dict__, "dedupe": args.dedupe})
        with RecordStore(args.full_space) as st:  # a resumed run times only what was left
            prev = st.frame("scores")
            n_before = int((prev["run_key"] == cfg.run_key()).sum()) if len(prev) else 0
        n_todo = len(space) * len(proxies)
        t0 = time.perf_counter()
        with RecordStore(args.full_space) as st:
            score_architectures(list(space.enumerate()), list(proxies), cfg, batch=batch, store=st,
                                backend=ProcessBackend(threads=1), progress=True)
        dt = time.perf_counter() - t0
        report["full_space"] = {"store": args.full_space, "seconds": round(dt, 1), "minutes": round(dt / 60, 1),
                                "dedupe": args.dedupe, "memory_format": cfg.memory_format,
                                "rows_already_in_store": n_before, "rows_total": n_todo,
                                "run_key": cfg.run_key(), "workers": os.cpu_count()}
    if args.foresight:
        report["foresight_failures"] = FORESIGHT_FAILURES
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    report.update(_peak_rss_mb())
    if torch.cuda.is_available() and args.device != "cpu":
        report["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "throughput.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
