"""``zcnas prefilter``: a language-neutral pre-filter, JSON lines in, the top K as JSON lines out.

Each stdin line is a JSON string (``"|nor_conv_3x3~0|+|...|"``, a DARTS ``Genotype(...)``) or an
object with an ``arch`` (a string or the space's JSON form); the other keys of an object (an
``id``, a search loop's own fields) are passed through to the output line. Blank lines are
skipped. A malformed line (bad JSON, no ``arch``, an invalid architecture) is reported on stderr
with its line number and left out; the others are still ranked. Each stdout line is
``{<input fields>, "arch", "rank", "score", <proxy>: value, ...}``; a candidate whose proxies all
failed has ``"score": null`` and a ``"reason"``, and ranks last. Exit code 0 when at least one
candidate was valid, else 1.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from typing import TextIO

from zcnas.cli.options import add_scoring_options, add_space_option, config_from, proxies_from
from zcnas.errors import DataError, InputError, check_int
from zcnas.spaces import get_space
from zcnas.spaces.base import echo

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "prefilter", help="top K of candidate architectures read as JSON lines on stdin",
        description="Read candidate architectures as JSON lines on stdin (a string or {\"arch\": ...}), "
                    "score them with zero-cost proxies and write the top K as JSON lines on stdout "
                    "({\"arch\", \"rank\", \"score\", proxies...}). Malformed lines are reported on "
                    "stderr with their line number; the other candidates are still ranked.")
    p.add_argument("--k", type=int, default=10, help="how many candidates to keep (default 10)")
    add_space_option(p, "search space of the candidates")
    add_scoring_options(p, seed=True)
    p.add_argument("--input", default="-", help="file to read instead of stdin")
    p.add_argument("--store", default=None,
                   help="HDF5 record store: scores of the same settings found there are reused, new ones saved")
    p.set_defaults(func=run)


def read_candidates(stream: TextIO, space_name: str | None = None
                    ) -> tuple[list[str], list[str], list[dict]]:
    """Valid architecture strings, one error message per malformed line (``line N: ...``), and
    each valid line's other JSON fields (in the order of the strings)."""

    space = get_space(space_name)
    archs: list[str] = []
    errors: list[str] = []
    extras: list[dict] = []
    for i, line in enumerate(stream, start=1):
        text = line.strip()
        if not text:
            continue
        if text[0] not in "{[\"":  # a bare string form (e.g. Genotype(...)) on the line
            obj: object = text
        else:
            try:
                obj = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                errors.append(f"line {i}: not valid JSON ({why}); expected a string or {{\"arch\": ...}}")
                continue
        extra: dict = {}
        if isinstance(obj, dict) and "arch" in obj:
            extra = {k: v for k, v in obj.items() if k != "arch"}
            obj = obj["arch"]
        try:
            if isinstance(obj, str):
                a = space.parse(obj)
            elif isinstance(obj, dict):
                a = space.parse_json(obj)
            else:
                raise InputError(f"expected a JSON string or an object with an 'arch', got {echo(text, 80)}")
            archs.append(space.format(a))
            extras.append(extra)
        except InputError as exc:
            errors.append(f"line {i}: {exc}")
    return archs, errors, extras


def _json_value(v):
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and not math.isfinite(v) else v


def run(args) -> int:
    from zcnas.ranking.prefilter import Prefilter

    check_int("k", args.k, "zcnas prefilter (--k)", minimum=1)
    cfg = config_from(args)
    if args.backend == "local" and args.workers is not None:
        from zcnas.errors import InputError

        raise InputError("--workers applies to --backend process or ray; drop it or add --backend process.")
    pf = Prefilter(proxies=proxies_from(args), aggregate=args.aggregate, space=cfg.space, dataset=cfg.dataset,
                   data_dir=cfg.data_dir, batch_size=cfg.batch_size, seed=cfg.seed, sampling=cfg.sampling,
                   device=cfg.device, store=args.store, dedupe=args.dedupe, backend=args.backend,
                   workers=args.workers, progress=args.show_progress, download=cfg.download)
    pf.names  # validate the proxies and the aggregate before reading stdin  # noqa: B018
    if args.input == "-":
        archs, errors, extras = read_candidates(sys.stdin, cfg.space)
    else:
        from pathlib import Path

        path = Path(args.input)
        if not path.is_file():
            raise DataError(f"--input {args.input!r} is {'a folder' if path.is_dir() else 'not found'}; give a file "
                            f"of JSON lines (or - for stdin).")
        with open(path, encoding="utf-8", errors="replace") as fh:
            archs, errors, extras = read_candidates(fh, cfg.space)
    if not archs:
        first = f"; {errors[0][:300]}" if errors else ""
        print(f"zcnas prefilter: no valid candidate on the input ({len(errors)} malformed line(s){first}).",
              file=sys.stderr)
        return 1
    for e in errors:
        print(f"zcnas prefilter: {e[:500]}", file=sys.stderr)
    fields = {}
    for a, extra in zip(archs, extras, strict=True):
        fields.setdefault(a, extra)
    result = pf(archs, args.k)
    if result.note:
        print(f"zcnas prefilter: {result.note}", file=sys.stderr)
    out = sys.stdout
    for pick, row in zip(result, result.table.to_dict(orient="records"), strict=True):
        rec = dict(fields.get(pick.arch, {}))
        rec.update({"arch": pick.arch, "rank": int(row["rank"]), "score": _json_value(pick.score)})
        if rec["score"] is None:
            rec["reason"] = "every proxy of the ranker failed on this architecture (see --store's reason column)"
        rec.update({p: _json_value(v) for p, v in pick.proxies.items()})
        out.write(json.dumps(rec) + "\n")
    out.flush()
    log.info("kept %d of %d candidates (%d malformed line(s))", len(result), result.n_candidates, len(errors))
    return 0
