"""The ``zcnas`` command line: a thin layer over the library.

Each subcommand lives in ``zcnas/cli/<name>.py`` and exposes ``add_parser(subparsers)`` and
``run(args) -> int``. Data goes to stdout, logs and progress to stderr. Exit codes: 0 success,
1 input or data error (one-line message; traceback only with ``--debug``), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from zcnas._version import __version__
from zcnas.errors import ZcnasError

#: subcommand modules, in the order ``zcnas --help`` lists them
COMMANDS = ("list", "rank", "bench", "importer", "surrogate", "search", "prefilter", "store", "latency")

log = logging.getLogger("zcnas")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zcnas",
        description="Zero-cost proxy and surrogate ranking engine for neural architecture search.",
    )
    parser.add_argument("--version", action="version", version=f"zcnas {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or info logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"zcnas.cli.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not shipped in this build
            if exc.name == f"zcnas.cli.{name}":
                continue
            raise
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else (logging.WARNING if args.quiet else logging.INFO),
        format="%(message)s", stream=sys.stderr, force=True,
    )
    try:
        return int(args.func(args) or 0)
    except ZcnasError as exc:
        if args.debug:
            raise
        print(f"zcnas: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zcnas: interrupted; finished results are saved, run the same command to resume.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
