"""Property tests of the record store (issue 16 item 7, store half): random interleavings of append,
set_meta, compact, delete, reopen and kills (a line torn mid-append, a compaction killed before its
rename, one killed between the rename and the journal reset, a real SIGKILL of a writer process).

After every step, reopening gives exactly the rows whose append returned (the last write of each key
wins) and nothing else, the file reads, and a file store and an in-memory store given the same steps
agree."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from zcnas.records import RecordStore, get_table  # noqa: E402
from zcnas.records.snapshot import MemoryBackend  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PROXIES = ("naswot", "synflow", "meco")
SCHEMA = get_table("scores")

keys = st.tuples(st.integers(0, 7), st.sampled_from(PROXIES))
values = st.floats(-1e6, 1e6, allow_nan=False, width=32)
batch = st.lists(st.tuples(keys, values), min_size=1, max_size=4)
steps = st.one_of(
    st.tuples(st.just("append"), batch),
    st.tuples(st.just("meta"), st.sampled_from("xyz"), st.integers(-5, 5)),
    st.tuples(st.just("compact")),
    st.tuples(st.just("delete"), st.sampled_from(PROXIES)),
    st.tuples(st.just("reopen")),
    st.tuples(st.just("kill_torn_append"), batch, st.floats(0.0, 0.999)),
    st.tuples(st.just("kill_before_rename")),
    st.tuples(st.just("kill_before_journal_reset")),
)


def _rows(items) -> list[dict]:
    return [dict(run_key="r", space="nb201", arch=f"arch-{a}", proxy=p, dataset="cifar10", value=float(v))
            for (a, p), v in items]


def _line(items) -> bytes:
    """The journal line an append of ``items`` writes (the store's own format)."""
    df = SCHEMA.normalize(_rows(items))
    rec = {"t": "scores", "k": list(SCHEMA.key), "s": [[c.name, c.dtype] for c in SCHEMA.columns],
           "c": {c: df[c].tolist() for c in df.columns}}
    return json.dumps(rec, separators=(",", ":")).encode() + b"\n"


def _content(store: RecordStore) -> tuple[dict, dict]:
    df = store.frame("scores")
    assert not df.duplicated(list(SCHEMA.key)).any()
    return {(a, p): v for a, p, v in zip(df["arch"], df["proxy"], df["value"])}, store.meta


class Twin:
    """The same steps on a file store and an in-memory store, and the model they must match."""

    def __init__(self, folder: Path, compact_rows: int):
        self.path = folder / "p.h5"
        self.backend = MemoryBackend()
        self.opts = dict(compact_rows=compact_rows, sync=False)
        self.rows: dict = {}
        self.meta: dict = {}
        self.open()

    def open(self) -> None:
        self.stores = [RecordStore(self.path, "a", **self.opts), RecordStore(self.backend, "a", **self.opts)]

    def kill(self) -> None:
        for s in self.stores:
            s._abandon()
        self.open()

    def step(self, op) -> None:
        kind = op[0]
        if kind == "append":
            for s in self.stores:
                assert s.append("scores", _rows(op[1])) == len(op[1])
            self.rows.update({(f"arch-{a}", p): float(v) for (a, p), v in op[1]})
        elif kind == "meta":
            for s in self.stores:
                s.set_meta(op[1], op[2])
            self.meta[op[1]] = op[2]
        elif kind == "compact":
            for s in self.stores:
                s.compact()
        elif kind == "delete":
            expected = sum(1 for (_, p) in self.rows if p == op[1])
            for s in self.stores:
                assert s.delete("scores", proxy=op[1]) == expected
            self.rows = {k: v for k, v in self.rows.items() if k[1] != op[1]}
        elif kind == "reopen":
            for s in self.stores:
                s.close()
            self.open()
        elif kind == "kill_torn_append":  # killed while writing the line: a prefix of it reaches the journal
            line = _line(op[1])
            torn = line[: int(op[2] * (len(line) - 1))]
            for s in self.stores:
                s._journal.append(torn)
            self.kill()
        elif kind == "kill_before_rename":  # a half-written snapshot under a dead writer's temporary name
            dead = subprocess.Popen([sys.executable, "-c", "pass"])
            dead.wait()
            data = self.path.read_bytes()
            (self.path.parent / f".{self.path.name}.tmp-{dead.pid}").write_bytes(data[: len(data) // 2])
            self.kill()
            assert not (self.path.parent / f".{self.path.name}.tmp-{dead.pid}").exists()
        elif kind == "kill_before_journal_reset":  # the new snapshot is in place, the journal not yet reset
            before = [Path(f"{self.path}.journal").read_bytes(), bytes(self.backend.journal.data)]
            for s in self.stores:
                s.compact()
            Path(f"{self.path}.journal").write_bytes(before[0])
            self.backend.journal.data = bytearray(before[1])
            self.kill()

    def check(self) -> None:
        with RecordStore(self.path, "r") as r:  # a reader beside the writer
            assert _content(r) == (self.rows, self.meta)
        for s in self.stores:
            assert _content(s) == (self.rows, self.meta)

    def close(self) -> None:
        for s in self.stores:
            s.close()
        with RecordStore(self.path, "r") as r, RecordStore(self.backend, "r") as m:
            assert _content(r) == _content(m) == (self.rows, self.meta)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(steps, min_size=1, max_size=10), compact_rows=st.integers(2, 12))
def test_random_interleavings_keep_exactly_the_returned_rows(ops, compact_rows):
    with tempfile.TemporaryDirectory() as d:
        twin = Twin(Path(d), compact_rows)
        try:
            for op in ops:
                twin.step(op)
                twin.check()
        finally:
            twin.close()


WRITER = textwrap.dedent("""
    import sys
    from zcnas.records import RecordStore
    path, start = sys.argv[1], int(sys.argv[2])
    with RecordStore(path, "a", compact_rows=int(sys.argv[3]), compact_seconds=1e9) as s:
        print("open", flush=True)
        for i in range(start, start + 100000):
            s.append("scores", [dict(run_key="r", space="nb201", arch=f"arch-{i}", proxy="naswot",
                                     dataset="cifar10", value=float(i))])
            print(i, flush=True)
""")


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(delays=st.lists(st.floats(0.0, 0.25), min_size=2, max_size=2), compact_rows=st.integers(1, 6))
def test_sigkill_at_random_moments_loses_no_returned_row(delays, compact_rows):
    """A real writer process killed with SIGKILL at a random moment, twice: every row whose append
    returned (and was printed) is there, at most the one being written besides, and the store reads."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "k.h5"
        done = -1
        for delay in delays:
            proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(done + 1), str(compact_rows)],
                                    stdout=subprocess.PIPE, text=True, env=env)
            assert proc.stdout.readline().strip() == "open"
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            printed = [int(x) for x in out.split()]
            done = printed[-1] if printed else done
            with RecordStore(path, "r") as s:
                df = s.frame("scores")
            stored = {int(a[5:]) for a in df["arch"]}
            assert set(range(done + 1)) <= stored <= set(range(done + 2))
            assert all(math.isclose(v, int(a[5:])) for a, v in zip(df["arch"], df["value"]))
            done = max(stored, default=done)
        with RecordStore(path, "a") as s:  # the next writer folds in whatever the kill left
            assert len(s.frame("scores")) == done + 1
        assert not list(Path(d).glob(".k.h5.*tmp-*"))
