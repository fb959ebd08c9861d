"""``zcnas prefilter``: a language-neutral pre-filter, JSON lines in, the top K as JSON lines out.

Each stdin line is a JSON string (``"|nor_conv_3x3~0|+|...|"``) or an object with an ``arch``
string (other keys are ignored). Blank lines are skipped. A malformed line (bad JSON, no ``arch``,
an invalid architecture string) is reported on stderr with its line number and left out; the
others are still ranked. Each stdout line is ``{"arch", "rank", "score", <proxy>: value, ...}``.
Exit code 0 when at least one candidate was valid, else 1.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from typing import TextIO

from zcnas.spaces import default_space

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "prefilter", help="top K of candidate architectures read as JSON lines on stdin",
        description="Read candidate architectures as JSON lines on stdin (a string or {\"arch\": ...}), "
                    "score them with zero-cost proxies and write the top K as JSON lines on stdout "
                    "({\"arch\", \"rank\", \"score\", proxies...}). Malformed lines are reported on "
                    "stderr with their line number; the other candidates are still ranked.")
    p.add_argument("--k", type=int, default=10, help="how many candidates to keep (default 10)")
    p.add_argument("--proxies", default="synflow,naswot", help="comma-separated proxies (default synflow,naswot)")
    p.add_argument("--aggregate", default=None,
                   help="how several proxies combine (default mean_log_rank; see `zcnas list aggregates`)")
    p.add_argument("--space", default=None, help=f"search space of the strings (default: {default_space()})")
    p.add_argument("--dataset", default="digits",
                   help="image source for data-dependent proxies: digits (built in), cifar10, cifar100, npz")
    p.add_argument("--data-dir", default=None, help="folder (or .npz file) with the dataset's images")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0, help="seed for the batch and the initialisation")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--input", default="-", help="file to read instead of stdin")
    p.add_argument("--store", default=None,
                   help="HDF5 record store: scores of the same settings found there are reused, new ones saved")
    p.add_argument("--dedupe", action="store_true",
                   help="score one network per function class (as the committed full-space store)")
    p.add_argument("--backend", default="local", choices=("local", "process", "ray"),
                   help="where networks are scored (default local)")
    p.add_argument("--workers", type=int, default=None, help="worker processes for --backend process/ray")
    p.set_defaults(func=run)


def read_candidates(stream: TextIO, space_name: str = "nb201") -> tuple[list[str], list[str]]:
    """Valid architecture strings and one error message per malformed line (``line N: ...``)."""
    from zcnas.errors import InputError
    from zcnas.spaces import get_space

    space = get_space(space_name)
    archs: list[str] = []
    errors: list[str] = []
    for i, line in enumerate(stream, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(f"line {i}: not valid JSON ({exc.msg}); expected a string or {{\"arch\": ...}}")
            continue
        s = obj.get("arch") if isinstance(obj, dict) else obj
        if not isinstance(s, str):
            errors.append(f"line {i}: expected a JSON string or an object with an 'arch' string, "
                          f"got {text[:80]}")
            continue
        try:
            archs.append(space.format(space.parse(s)))
        except InputError as exc:
            errors.append(f"line {i}: {exc}")
    return archs, errors


def _json_value(v):
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and not math.isfinite(v) else v


def run(args) -> int:
    from zcnas.errors import check_int
    from zcnas.ranking.prefilter import Prefilter

    check_int("k", args.k, "zcnas prefilter (--k)", minimum=1)
    pf = Prefilter(proxies=args.proxies, aggregate=args.aggregate, space=args.space, dataset=args.dataset,
                   data_dir=args.data_dir, batch_size=args.batch_size, seed=args.seed, device=args.device,
                   store=args.store, dedupe=args.dedupe, backend=args.backend, workers=args.workers)
    pf.names  # validate the proxies and the aggregate before reading stdin  # noqa: B018
    if args.input == "-":
        archs, errors = read_candidates(sys.stdin, args.space)
    else:
        with open(args.input) as fh:
            archs, errors = read_candidates(fh, args.space)
    for e in errors:
        print(f"zcnas prefilter: {e}", file=sys.stderr)
    if not archs:
        print(f"zcnas prefilter: no valid candidate on the input ({len(errors)} malformed line(s)).",
              file=sys.stderr)
        return 1
    result = pf(archs, args.k)
    if result.note:
        print(f"zcnas prefilter: {result.note}", file=sys.stderr)
    out = sys.stdout
    for pick, row in zip(result, result.table.to_dict(orient="records"), strict=True):
        rec = {"arch": pick.arch, "rank": int(row["rank"]), "score": _json_value(pick.score)}
        rec.update({p: _json_value(v) for p, v in pick.proxies.items()})
        out.write(json.dumps(rec) + "\n")
    out.flush()
    log.info("kept %d of %d candidates (%d malformed line(s))", len(result), result.n_candidates, len(errors))
    return 0
