"""A corpus of bad inputs run through the command line: each gives exit code 1 (input or data
error) or 2 (usage error), one line on stderr of at most 500 characters, no traceback, and writes
nothing (no store, no output file)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zcnas.cli import main

GOOD = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _files(d: Path) -> dict[str, Path]:
    f = {
        "binary": d / "binary.txt", "latin1": d / "latin1.txt", "deep": d / "deep.jsonl",
        "huge": d / "huge.txt", "empty": d / "empty.txt", "garbage_h5": d / "garbage.h5",
        "model_bin": d / "model.json", "model_bad": d / "model_bad.json", "objnpz": d / "obj.npz",
        "badline": d / "bad.jsonl", "folder": d / "folder",
    }
    f["binary"].write_bytes(bytes(range(256)) * 4)
    f["latin1"].write_bytes(("caf\u00e9 " + GOOD).encode("latin-1"))
    f["deep"].write_text("[" * 100_000 + "]" * 100_000 + "\n")
    f["huge"].write_text("|" + "x" * 10_000_000 + "|\n")
    f["empty"].write_text("")
    f["garbage_h5"].write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    f["model_bin"].write_bytes(bytes(range(256)))
    f["model_bad"].write_text(json.dumps({"format": "zcnas-xgb-surrogate", "version": 1, "boosters": ["!!"]}))
    np.savez(f["objnpz"], x_train=np.array([object(), 1], dtype=object), y_train=np.array([0, 1]))
    f["badline"].write_text('{"arch": "' + "|" * 3000 + '"}\n')
    f["folder"].mkdir()
    return f


CASES: list[tuple[str, list[str], tuple[int, ...]]] = [
    ("archs binary file", ["rank", "--archs", "{binary}", "--proxies", "params"], (1,)),
    ("archs latin-1 file", ["rank", "--archs", "{latin1}", "--proxies", "params"], (1,)),
    ("archs JSON nested 100,000 deep", ["rank", "--archs", "{deep}", "--proxies", "params"], (1,)),
    ("archs 10 MB line", ["rank", "--archs", "{huge}", "--proxies", "params"], (1,)),
    ("archs empty file", ["rank", "--archs", "{empty}", "--proxies", "params"], (1,)),
    ("archs is a folder", ["rank", "--archs", "{folder}", "--proxies", "params"], (1,)),
    ("archs missing file", ["rank", "--archs", "{folder}/nope.txt", "--proxies", "params"], (1,)),
    ("seed -1", ["rank", "--sample", "2", "--seed", "-1", "--proxies", "params"], (2,)),
    ("top -1", ["rank", "--sample", "2", "--top", "-1", "--proxies", "params"], (2,)),
    ("sample 0", ["rank", "--sample", "0", "--proxies", "params"], (2,)),
    ("workers 0", ["rank", "--sample", "2", "--workers", "0", "--backend", "process"], (2,)),
    ("workers with the local backend", ["rank", "--sample", "2", "--workers", "2", "--proxies", "params"], (1,)),
    ("ray address without ray", ["rank", "--sample", "2", "--ray-address", "x:1", "--proxies", "params"], (1,)),
    ("device cuda without CUDA", ["rank", "--sample", "2", "--device", "cuda", "--proxies", "params"], (1,)),
    ("device foo", ["rank", "--sample", "2", "--device", "foo", "--proxies", "params"], (1,)),
    ("unknown proxy", ["rank", "--sample", "2", "--proxies", "synflw"], (1,)),
    ("unknown space", ["rank", "--space", "nb210", "--sample", "2", "--proxies", "params"], (1,)),
    ("unknown aggregate", ["rank", "--sample", "2", "--proxies", "params,synflow", "--aggregate", "avg"], (1,)),
    ("store in a missing folder", ["rank", "--sample", "2", "--proxies", "params", "--store",
                                   "{folder}/no/such/run.h5"], (1,)),
    ("store that is garbage", ["rank", "--sample", "2", "--proxies", "params", "--store", "{garbage_h5}"], (1,)),
    ("object-array npz", ["rank", "--sample", "2", "--proxies", "naswot", "--dataset", "npz", "--data-dir",
                          "{objnpz}"], (1,)),
    ("prefilter input missing", ["prefilter", "--proxies", "params", "--input", "{folder}/nope.jsonl"], (1,)),
    ("prefilter input folder", ["prefilter", "--proxies", "params", "--input", "{folder}"], (1,)),
    ("prefilter only a bad line", ["prefilter", "--proxies", "params", "--input", "{badline}"], (1,)),
    ("prefilter k 0", ["prefilter", "--proxies", "params", "--k", "0", "--input", "{badline}"], (1, 2)),
    ("search budget -1", ["search", "--sample", "2", "--confirm", "none", "--budget-trainings", "-1"], (2,)),
    ("surrogate model binary", ["surrogate", "predict", "--model", "{model_bin}", "--archs", "{empty}"], (1,)),
    ("surrogate model tampered", ["surrogate", "predict", "--model", "{model_bad}", "--archs", "{empty}"], (1,)),
    ("store info on garbage", ["store", "info", "{garbage_h5}"], (1,)),
    ("store info missing", ["store", "info", "{folder}/nope.h5"], (1,)),
    ("bench scores missing", ["bench", "--scores", "{folder}/s.csv", "--truth", "{folder}/t.csv",
                              "--truth-metric", "acc"], (1,)),
    ("import into a missing folder", ["import", "nb201-merged", "--store", "{folder}/x/truth.h5"], (1,)),
    ("unknown command", ["rnak"], (2,)),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return _files(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("name,argv,codes", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_bounded_line(name, argv, codes, corpus, capsys):
    args = [a.format(**{k: str(v) for k, v in corpus.items()}) for a in argv]
    before = sorted(p.name for p in corpus["folder"].parent.rglob("*"))
    rc = main(["-q", *args])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc in codes, f"{name}: exit {rc}, stderr {err[-300:]!r}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"{name}: {len(lines)} lines: {err[:500]!r}"
    assert len(lines[0]) <= 500, f"{name}: {len(lines[0])} characters"
    assert sorted(p.name for p in corpus["folder"].parent.rglob("*")) == before, f"{name} wrote a file"


def test_corpus_size():
    assert len(CASES) >= 30


def test_output_piped_into_head_ends_quietly(tmp_path):
    """`zcnas ... | head -1`: the reader closes the pipe early; zcnas stops without a traceback."""
    import subprocess
    import sys

    store = Path(__file__).resolve().parents[1] / "benchmarks_data" / "nb201_zcnas_scores.h5"  # MBs of CSV
    code = ("import sys; from zcnas.cli import main; "
            f"sys.exit(main(['store', 'export', {str(store)!r}, '--table', 'scores', '--format', 'csv']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # like `head -1` exiting
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=120)
    assert first.startswith(b"run_key") and "Traceback" not in err and "BrokenPipe" not in err
    assert rc in (0, 120, -13)
