"""Orphans: kill -9 a ``--backend process`` scoring during worker start-up (issue 16.4).

Each trial starts a process-backend scoring (8 NB201 architectures, synflow and params, 2 workers)
in a fresh Python process tagged by an environment variable, waits until its first worker process
appears, sleeps ``delay`` seconds (20 trials spread over 0-1.9 s: the workers are importing torch
and unpickling their payload then), sends SIGKILL to the parent, and counts the processes that
carry the tag (workers, the multiprocessing resource tracker) still alive ``--grace`` seconds
later: the orphans. Linux only (reads /proc).

``--repo`` runs the trials against another checkout (e.g. the commit before the fix) for a
before/after figure.

Run: nice -n 10 python experiments/orphans.py [--repo PATH] [--label NAME]
Writes experiments/results/orphans/{trials_<label>.csv, summary_<label>.json, README.md}.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "results" / "orphans"
REPO = Path(__file__).resolve().parents[1]
SCRIPT = ("if __name__ == '__main__':  # imports here, as the CLI imports lazily\n"
          "    from zcnas import get_space\n"
          "    from zcnas.ranking import ScoringConfig, score_architectures\n"
          "    from zcnas.ranking.backends import ProcessBackend\n"
          "    archs = get_space('nb201').sample(8, seed=3)\n"
          "    score_architectures(archs, ['synflow', 'params'], ScoringConfig(batch_size=8),\n"
          "                        progress=False, backend=ProcessBackend(workers=2))\n")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return not any(line.startswith("State:") and "Z" in line for line in fh)
    except OSError:
        return False


def tagged(token: str) -> list[int]:
    """Live processes whose environment holds ``token``."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if token.encode() in (d / "environ").read_bytes() and _alive(int(d.name)):
                    out.append(int(d.name))
            except OSError:
                continue
    return out


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
    except OSError:
        return "?"


def trial(delay_s: float, token: str, script: Path, env: dict, grace_s: float) -> dict:
    proc = subprocess.Popen([sys.executable, str(script)], env={**env, "ZCNAS_ORPHAN_TOKEN": token},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and not [p for p in tagged(token) if p != proc.pid]:
        time.sleep(0.01)
    time.sleep(delay_s)
    children = [p for p in tagged(token) if p != proc.pid]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    t0 = time.time()
    while time.time() - t0 < grace_s and tagged(token):
        time.sleep(0.05)
    left = tagged(token)
    last_exit_s = time.time() - t0
    kinds = ["resource_tracker" if "resource_tracker" in _comm(p) else "worker" for p in left]
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return {"delay_s": round(delay_s, 3), "children_at_kill": len(children), "orphans": len(left),
            "orphan_workers": kinds.count("worker"), "orphan_trackers": kinds.count("resource_tracker"),
            "all_gone_after_s": round(last_exit_s, 2) if not left else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--max-delay", type=float, default=1.9)
    p.add_argument("--grace", type=float, default=15.0, help="seconds after the kill before counting orphans")
    p.add_argument("--repo", type=Path, default=REPO, help="checkout whose zcnas is tested")
    p.add_argument("--label", default="after")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    if not Path("/proc").is_dir():
        print("orphans: needs Linux /proc", file=sys.stderr)
        return 1
    env = {**os.environ, "PYTHONPATH": str(args.repo.resolve())}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "score.py"
        script.write_text(SCRIPT)
        for i, delay in enumerate(np.linspace(0.0, args.max_delay, args.trials)):
            row = trial(float(delay), f"zcnas-orphans-{os.getpid()}-{i}", script, env, args.grace)
            rows.append(row)
            print(json.dumps(row), flush=True)
    df = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / f"trials_{args.label}.csv", index=False)
    gone = df["all_gone_after_s"].dropna()
    summary = {"label": args.label, "repo": str(args.repo), "trials": len(df),
               "trials_with_orphans": int((df["orphans"] > 0).sum()), "orphans": int(df["orphans"].sum()),
               "orphan_workers": int(df["orphan_workers"].sum()), "orphan_trackers": int(df["orphan_trackers"].sum()),
               "grace_s": args.grace, "max_all_gone_after_s": float(gone.max()) if len(gone) else None,
               "median_all_gone_after_s": float(gone.median()) if len(gone) else None}
    (args.out / f"summary_{args.label}.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = ["# Orphans after kill -9 during worker start-up (issue 16.4)", "",
             "`experiments/orphans.py`: a process-backend scoring (2 workers) is SIGKILLed 0-1.9 s after its first "
             f"worker appears; orphans are its processes still alive {args.grace:g} s later.", "",
             "| run | trials | trials with orphans | orphans (workers + trackers) | slowest exit after kill (s) |",
             "|---|---|---|---|---|"]
    for f in sorted(args.out.glob("summary_*.json")):
        s = json.loads(f.read_text())
        lines.append(f"| {s['label']} | {s['trials']} | {s['trials_with_orphans']} | {s['orphans']} "
                     f"({s['orphan_workers']} + {s['orphan_trackers']}) | {s['max_all_gone_after_s']} |")
    (args.out / "README.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(summary))
    return 0 if summary["orphans"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
