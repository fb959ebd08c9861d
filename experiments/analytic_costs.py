"""Analytic params and FLOPs against PyTorch's counter, per space: parity, fit cost, lookup cost.

For every space with ``cost_terms`` (NB201, DARTS, TNB101 micro), the table of
:mod:`zcnas.spaces.analytic` is fitted (timed; once per configuration, then cached) and compared,
integer for integer, with the ``params`` and ``flops`` proxies computed on the real network
(``score_model`` on ``build_seeded``): NB201 on ``--nb201`` random architectures, DARTS on all 725
genotypes of NAS-Bench-Suite-Zero's NB301 sample (whose published ``params`` they also match:
``experiments/results/darts``), TNB101 micro on ``--tnb`` random cells for two tasks. Seconds: the
median per architecture of the table lookup and of build + counter, one torch thread, on this
(shared) CPU.

Run:  ZCNAS_DATA=../shared/benchmarks nice python experiments/analytic_costs.py
Writes experiments/results/analytic_costs/summary.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from zcnas.paths import benchmark_file
from zcnas.proxies import score_model
from zcnas.spaces import get_space
from zcnas.spaces.analytic import cost_table
from zcnas.spaces.seeding import build_seeded

OUT = Path(__file__).resolve().parent / "results" / "analytic_costs"


def check(space_name: str, archs: list, kwargs: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    table = cost_table(space_name, kwargs)
    fit_s = time.perf_counter() - t0
    extra = {k: v for k, v in kwargs.items() if k not in ("num_classes", "input_shape")}
    same, lookup, counter = 0, [], []
    for a in archs:
        t1 = time.perf_counter()
        p, f = table.counts(a)
        lookup.append(time.perf_counter() - t1)
        t2 = time.perf_counter()
        model = build_seeded(space_name, a, kwargs.get("num_classes"), 0, input_shape=kwargs["input_shape"], **extra)
        res = score_model(model, None, ["params", "flops"], input_shape=kwargs["input_shape"])
        counter.append(time.perf_counter() - t2)
        same += res["params"].value == p / 1e6 and res["flops"].value == f / 1e6
    return {"space": space_name, "config": json.dumps(kwargs), "terms": len(table.terms), "additive": table.additive,
            "fit_s": round(fit_s, 1), "n": len(archs), "identical": same,
            "lookup_ms": round(1e3 * float(np.median(lookup)), 4),
            "counter_s": round(float(np.median(counter)), 3)}


#: the networks zcnas builds for the benchmarks' datasets and tasks
PACKAGE_CONFIGS = [("nb201", {"num_classes": n, "input_shape": shape})
                   for n, shape in ((10, (3, 32, 32)), (100, (3, 32, 32)), (120, (3, 16, 16)))]
PACKAGE_CONFIGS += [("darts", {"num_classes": 10, "input_shape": (3, 32, 32)})]


def package() -> int:
    import shutil

    from zcnas.paths import cache_dir
    from zcnas.spaces.analytic import PACKAGED, TABLE_VERSION, _config_key

    tnb = get_space("tnb101_micro")
    configs = PACKAGE_CONFIGS + [("tnb101_micro", {"input_shape": tnb.input_shape(t), "task": t}) for t in tnb.tasks]
    PACKAGED.mkdir(exist_ok=True)
    for space_name, kwargs in configs:
        table = cost_table(space_name, kwargs)
        name = f"costs_v{TABLE_VERSION}_{space_name}_{_config_key(space_name, kwargs)}.json"
        if table.additive and (cache_dir() / name).exists():
            shutil.copy(cache_dir() / name, PACKAGED / name)
        print(space_name, kwargs, "additive" if table.additive else "NOT additive", flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nb201", type=int, default=200)
    ap.add_argument("--tnb", type=int, default=50)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--package", action="store_true",
                    help="also fit the benchmarks' configurations and copy every checked table into "
                         "zcnas/spaces/cost_tables/ (shipped, so users never wait for a fit)")
    args = ap.parse_args(argv)
    if args.package:
        return package()
    rows = []
    nb201 = get_space("nb201")
    rows.append(check("nb201", nb201.sample(args.nb201, seed=1), {"num_classes": 10, "input_shape": (3, 32, 32)}))
    print(rows[-1], flush=True)
    darts = get_space("darts")
    d = json.loads(benchmark_file("nb301/nb301-suitezero-sample/zc_nasbench301_725archs.json").read_text())["cifar10"]
    rows.append(check("darts", [darts.parse(k) for k in d], {"num_classes": 10, "input_shape": (3, 32, 32)}))
    print(rows[-1], flush=True)
    tnb = get_space("tnb101_micro")
    for task in ("class_scene", "segmentsemantic"):
        rows.append(check("tnb101_micro", tnb.sample(args.tnb, seed=2),
                          {"input_shape": tnb.input_shape(task), "task": task}))
        print(rows[-1], flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Analytic params and FLOPs vs PyTorch's counter", "",
             "Produced by `experiments/analytic_costs.py`. `identical`: architectures whose analytic params and "
             "FLOPs equal the counter's on the real network exactly. Seconds on this shared 2-core CPU, one torch "
             "thread; the fit runs once per configuration and is cached. NB101 and TNB101 macro have no additive "
             "counts (counted on the network).", "",
             "| space | configuration | terms | fit (s, once) | identical | lookup (ms/arch) "
             "| build + counter (s/arch) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['space']} | `{r['config']}` | {r['terms']} | {r['fit_s']} | {r['identical']} / {r['n']} | "
                     f"{r['lookup_ms']} | {r['counter_s']} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
