"""Every code block of the README and the tutorial runs (docs that run).

Fenced ``python`` blocks are executed in order, one namespace per document; fenced ``bash``
blocks run line by line: a ``zcnas ...`` line through the CLI's ``main`` in this process (``<`` and
``>`` redirections supported), a ``make ...`` line is not run (``make test`` is this suite
itself; ``make demo`` is run by the project's own entry check), and ``$ZCNAS_DATA`` is the only
substitution. Blocks run in a scratch folder that sees the repository's ``benchmarks_data/`` and ``docs/``.
Output blocks (fenced ``text``) are not compared: timings and paths differ between machines.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
from pathlib import Path

import pytest

from zcnas.cli import main

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "docs" / "tutorial.md"]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str, int]]:
    text = path.read_text()
    return [(m.group(1), m.group(2), text[: m.start()].count("\n") + 1) for m in FENCE.finditer(text)]


def _substitute(code: str, data: str | None) -> str:
    if "$ZCNAS_DATA" in code or "ZCNAS_DATA" in code:
        if not data:
            pytest.skip("block reads the benchmark data: set ZCNAS_DATA")
    return code.replace("$ZCNAS_DATA", data or "")


def run_bash(code: str, where: str) -> None:
    for raw in code.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or line.startswith("make "):
            continue
        words = shlex.split(line)
        assert words[0] == "zcnas", f"{where}: only zcnas and make lines may appear in bash blocks: {line!r}"
        stdin, stdout = None, None
        if "<" in words:
            i = words.index("<")
            stdin = words[i + 1]
            del words[i:i + 2]
        if ">" in words:
            i = words.index(">")
            stdout = words[i + 1]
            del words[i:i + 2]
        out = io.StringIO()
        old_stdin = sys.stdin
        try:
            if stdin:
                sys.stdin = open(stdin)  # noqa: SIM115
            with contextlib.redirect_stdout(out):
                rc = main(["-q", *words[1:]])
        finally:
            if stdin:
                sys.stdin.close()
            sys.stdin = old_stdin
        assert rc == 0, f"{where}: `{line}` exited with {rc}"
        if stdout:
            Path(stdout).write_text(out.getvalue())


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_code_block_runs(doc, tmp_path, monkeypatch):
    data = os.environ.get("ZCNAS_DATA")
    monkeypatch.chdir(tmp_path)
    for folder in ("benchmarks_data", "docs"):
        (tmp_path / folder).symlink_to(REPO / folder)
    namespace: dict = {"__name__": "__docs__"}
    found = blocks(doc)
    assert found, f"{doc} has no code blocks"
    for lang, code, line in found:
        where = f"{doc.name}:{line}"
        if lang == "python":
            exec(compile(_substitute(code, data), where, "exec"), namespace)  # noqa: S102
        elif lang == "bash":
            run_bash(_substitute(code, data), where)


def test_docs_list_their_blocks():
    """The documents have the blocks the suite runs (a guard against a fence typo hiding one)."""
    readme = blocks(REPO / "README.md")
    assert sum(lang == "python" for lang, *_ in readme) >= 1
    assert sum(lang == "bash" for lang, *_ in readme) >= 3
    for lang, _code, line in readme + blocks(REPO / "docs" / "tutorial.md"):
        assert lang in ("python", "bash", "text"), f"unknown fence language {lang!r} at line {line}"
