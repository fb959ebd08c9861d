"""``zcnas prefilter`` on 1,000 JSON lines, as another program would call it.

Writes ``--n`` seeded NB201 candidate strings as JSON lines (every 100th line an object
``{"arch": ...}``, one line malformed on purpose), pipes them through ``zcnas prefilter`` in a
subprocess, and checks what a caller relies on: exactly ``--k`` JSON lines on stdout, best first;
the malformed line named on stderr with its line number; exit code 0. Each configuration in
``--runs`` is timed end to end (process start, imports, batch loading, scoring):

``cold``     nothing cached: every candidate is scored (``--workers`` processes).
``store``    the same command again with ``--store``: the first call saves the scores, the second
             reads them (``warm``), so a loop that proposes candidates again pays nothing twice.

    ZCNAS_DATA=../shared/benchmarks PYTHONPATH=. python experiments/prefilter_jsonl.py \\
        --proxies synflow,naswot --dataset cifar10 --workers 2

Writes ``results.json`` and ``summary.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "experiments" / "results" / "prefilter_jsonl"


def make_lines(n: int, seed: int, bad_line: int) -> list[str]:
    from zcnas.spaces import get_space

    space = get_space("nb201")
    archs = [space.format(a) for a in space.sample(n, seed=seed)]
    lines = [json.dumps({"arch": a}) if i % 100 == 0 else json.dumps(a) for i, a in enumerate(archs)]
    lines[bad_line - 1] = '{"arch": "|nor_conv_3x3~0|+|broken'  # malformed JSON
    return lines


def run_prefilter(lines: list[str], args, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "zcnas", "-q", "prefilter", "--k", str(args.k), "--proxies", args.proxies,
           "--dataset", args.dataset, "--batch-size", str(args.batch_size), *extra]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    out = [json.loads(x) for x in done.stdout.splitlines() if x.strip()]
    return {"command": " ".join(cmd[1:]), "exit_code": done.returncode, "seconds": round(seconds, 2),
            "n_out": len(out), "ranks": [r["rank"] for r in out], "top": out[:3],
            "stderr": done.stderr.strip().splitlines()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bad-line", type=int, default=500, help="the line made malformed (1-based)")
    p.add_argument("--proxies", default="synflow,naswot")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--runs", default="cold,store", help="comma-separated: cold, store")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    if args.dataset in ("cifar10", "cifar100") and not args.data_dir and os.environ.get("ZCNAS_DATA"):
        args.data_dir = str(Path(os.environ["ZCNAS_DATA"]) / "images" / f"{args.dataset}-partial-real")

    lines = make_lines(args.n, args.seed, args.bad_line)
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    results: dict = {"n_lines": len(lines), "k": args.k, "bad_line": args.bad_line, "proxies": args.proxies,
                     "dataset": args.dataset, "host": f"{platform.machine()}, {os.cpu_count()} CPU(s)", "runs": {}}
    par = ["--backend", "process", "--workers", str(args.workers)] if args.workers > 1 else []
    with tempfile.TemporaryDirectory() as tmp:
        if "cold" in runs:
            results["runs"]["cold"] = run_prefilter(lines, args, par)
        if "store" in runs:
            store = str(Path(tmp) / "prefilter.h5")
            results["runs"]["store_first"] = run_prefilter(lines, args, [*par, "--store", store])
            results["runs"]["store_warm"] = run_prefilter(lines, args, ["--store", store])
    ok = True
    for r in results["runs"].values():
        named = any(f"line {args.bad_line}:" in e for e in r["stderr"])
        r["checks"] = {"exit_code_0": r["exit_code"] == 0, "k_lines": r["n_out"] == args.k,
                       "ranks_1_to_k": r["ranks"] == list(range(1, args.k + 1)), "bad_line_named": named}
        ok &= all(r["checks"].values())
    if "store_warm" in results["runs"] and "store_first" in results["runs"]:
        same = results["runs"]["store_warm"]["top"] == results["runs"]["store_first"]["top"]
        results["runs"]["store_warm"]["checks"]["same_top_as_first"] = same
        ok &= same
    results["all_checks_pass"] = bool(ok)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    md = ["# `zcnas prefilter` on JSON lines", "",
          f"{len(lines)} candidate lines (NB201, seed {args.seed}; line {args.bad_line} malformed), top {args.k} by "
          f"{args.proxies} on {args.dataset} images, batch {args.batch_size}; {results['host']}. Seconds are end "
          "to end (process start, imports, scoring).", "",
          "| run | seconds | exit | lines out | checks |", "|---|---|---|---|---|"]
    for name, r in results["runs"].items():
        md.append(f"| {name} | {r['seconds']:.1f} | {r['exit_code']} | {r['n_out']} | "
                  + ", ".join(f"{k}={v}" for k, v in r["checks"].items()) + " |")
    first_err = next((e for r in results["runs"].values() for e in r["stderr"] if "line" in e), "")
    md += ["", f"stderr names the bad line: `{first_err}`", "",
           "Command: `python experiments/prefilter_jsonl.py " + " ".join(argv if argv is not None else sys.argv[1:])
           + "`", ""]
    (args.out / "summary.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
