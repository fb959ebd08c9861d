"""``zcnas prefilter``: a language-neutral pre-filter, JSON lines in, the top K as JSON lines out.

Each stdin line is a bare string form (an NB201 string, a DARTS ``Genotype(...)`` as the DARTS
repository prints it, ``range(2, 6)`` concat included, NASLib's compact tuples), a JSON string, the
space's JSON form, or an object with the architecture under ``arch`` or ``genotype`` (a string or
the space's JSON form); the other keys of an object (an ``id``, a search loop's own fields) are
passed through to the output line. Blank lines and ``#`` comment lines are skipped
(:func:`zcnas.ranking.prefilter.read_candidate_lines`). A malformed line (bad JSON, no ``arch``, an
invalid architecture) is reported on stderr with its line number and the fix, and left out; the
others are still ranked. Each stdout line is
``{<input fields>, "arch", "rank", "score", <proxy>: value, ...}``; a candidate whose proxies all
failed has ``"score": null`` and a ``"reason"``, and ranks last. Exit code 0 when at least one
candidate was valid, else 1.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import TextIO

from zcnas.cli.options import add_scoring_options, add_space_option, config_from, proxies_from
from zcnas.errors import DataError, check_int

log = logging.getLogger("zcnas")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "prefilter", help="top K of candidate architectures read as JSON lines on stdin",
        description="Read candidate architectures, one per line on stdin (a string form such as a DARTS "
                    "Genotype(...) or NASLib tuples, a JSON string, or {\"arch\"|\"genotype\": ..., <fields>}), "
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
    each valid line's other JSON fields (in the order of the strings); see
    :func:`zcnas.ranking.prefilter.read_candidate_lines`."""
    from zcnas.ranking.prefilter import read_candidate_lines  # keeps torch out of `zcnas --help`

    got = read_candidate_lines(stream, space_name)
    return got.archs, got.errors, got.extras


def run(args) -> int:
    from zcnas.ranking.prefilter import OUTPUT_FIELDS, Prefilter

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
    clash = sorted({f for e in extras for f in e} & {*OUTPUT_FIELDS, *pf.names})
    if clash:
        print(f"zcnas prefilter: input field(s) {clash} are replaced by the pre-filter's output of the same name; "
              f"rename them to keep them.", file=sys.stderr)
    fields: dict[str, dict] = {}
    for a, extra in zip(archs, extras, strict=True):
        fields.setdefault(a, extra)  # a candidate given twice keeps its first line's fields
    result = pf(archs, args.k)
    result.extras = [fields[a] for a in result.archs]
    if result.note:
        print(f"zcnas prefilter: {result.note}", file=sys.stderr)
    out = sys.stdout
    for rec in result.records():
        out.write(json.dumps(rec) + "\n")
    out.flush()
    log.info("kept %d of %d candidates (%d malformed line(s))", len(result), result.n_candidates, len(errors))
    return 0
