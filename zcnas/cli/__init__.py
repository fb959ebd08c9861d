"""The ``zcnas`` command line: a thin layer over the library.

Each subcommand lives in ``zcnas/cli/<name>.py`` and exposes ``add_parser(subparsers)`` and
``run(args) -> int``. Data goes to stdout, logs and progress to stderr. Exit codes: 0 success,
1 input or data error (one-line message; traceback only with ``--debug``), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from zcnas._version import __version__
from zcnas.errors import ZcnasError

#: subcommand modules, in the order ``zcnas --help`` lists them
COMMANDS = ("list", "rank", "bench", "suite", "importer", "surrogate", "search", "prefilter", "store", "latency")

log = logging.getLogger("zcnas")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (``zcnas rank: error: ...; see zcnas rank --help``), exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        message = message.replace("\n", " ")
        if len(message) > 400:
            message = message[:380] + "..."
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="zcnas",
        description="Zero-cost proxy and surrogate ranking engine for neural architecture search.",
    )
    parser.add_argument("--version", action="version", version=f"zcnas {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or info logs")
    parser.add_argument("--progress", action="store_true",
                        help="show progress bars even when stderr is not a terminal (default: only on a terminal)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
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
    args.show_progress = False if args.quiet else (True if args.progress else None)
    from zcnas.cli import output

    output.DEFAULTS["wide"] = bool(getattr(args, "wide", False))
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # stdout closed early (`| head`): stop quietly, as a pipe tool should
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except RecursionError:
        print("zcnas: error: an input is nested too deeply to read (e.g. a JSON line nested thousands deep).",
              file=sys.stderr)
        return 1
    except ZcnasError as exc:
        if args.debug:
            raise
        msg = str(exc).replace("\n", " ")
        if len(msg) > 500:  # never echo megabytes of a bad input back
            msg = msg[:440] + f"... ({len(msg)} characters; the rest is cut)"
        print(f"zcnas: error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zcnas: interrupted; finished results are saved, run the same command to resume.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
