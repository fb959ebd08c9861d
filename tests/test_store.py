"""Record store: round trip, crash safety (SIGKILL, torn journal line, kill between rename and journal
reset), clear errors (corrupted file, schema version, lock, unknown column), exports and the CLI."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from zcnas.cli import main
from zcnas.cli.output import read_json_lines
from zcnas.errors import InputError, StoreError, UnknownNameError
from zcnas.records import SCHEMA_VERSION, RecordStore, get_table, migrate, register_table

REPO = Path(__file__).resolve().parents[1]
ARCHS = [f"|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|{op}~2|"
         for op in ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")]


def score_row(i: int, proxy: str = "synflow", value: float = 1.0, **kw) -> dict:
    row = dict(run_key="r1", space="nb201", arch=f"arch-{i}", proxy=proxy, dataset="cifar10",
               batch_size=64, seed=0, value=value, status="ok", reason="", seconds=0.5)
    row.update(kw)
    return row


def test_round_trip_all_tables(tmp_path):
    path = tmp_path / "run.h5"
    with RecordStore(path, "w") as s:
        s.append("runs", [dict(run_key="r1", kind="score", config={"proxies": ["synflow"], "batch_size": 64},
                               zcnas_version="0.1.0", created="2024-01-01T00:00:00+00:00")])
        s.append("scores", [score_row(0, value=1.5), score_row(1, value=math.nan, status="failed",
                                                                reason="CUDA out of memory: ünïcode")])
        s.append("truth", [dict(space="nb201", arch=ARCHS[0], metric="c10_test_200ep", value=94.37,
                                dataset="cifar10", split="ori-test", epochs=200, aggregation="seed-mean",
                                source="test")])
        s.append("trainings", [dict(run_key="t", space="nb201", arch=ARCHS[0], dataset="cifar10", epochs=3,
                                    seed=1, epoch_acc=[10.0, 20.5, 30.25], final_acc=30.25, seconds=2.0,
                                    device="cpu")])
        s.append("predictions", pd.DataFrame([dict(run_key="p", space="nb201", arch=ARCHS[1], model="xgb",
                                                   target="c10_test_200ep", value=90.0, std=0.5)]))
        s.set_meta("config", {"proxies": ["synflow"], "seed": 0})
        assert s.tables() == ["runs", "scores", "truth", "trainings", "predictions"]
    with RecordStore(path, "r") as s:
        assert s.meta == {"config": {"proxies": ["synflow"], "seed": 0}}
        runs = s.frame("runs")
        assert json.loads(runs.loc[0, "config"]) == {"proxies": ["synflow"], "batch_size": 64}
        sc = s.frame("scores")
        assert list(sc.columns) == get_table("scores").names
        assert sc["value"].iloc[0] == 1.5 and math.isnan(sc["value"].iloc[1])
        assert sc["reason"].iloc[1] == "CUDA out of memory: ünïcode"
        assert sc["batch_size"].dtype == np.int64 and sc["value"].dtype == np.float64
        tr = s.frame("trainings")
        assert json.loads(tr.loc[0, "epoch_acc"]) == [10.0, 20.5, 30.25]
        assert s.frame("truth").loc[0, "value"] == 94.37
        assert s.frame("predictions").loc[0, "std"] == 0.5
        assert s.attrs["schema_version"] == SCHEMA_VERSION
    # defaults fill optional columns; an empty table gives the declared columns
    with RecordStore(tmp_path / "b.h5", "w") as s:
        s.append("scores", [dict(run_key="r", space="nb201", arch="a", proxy="p", dataset="d")])
        row = s.frame("scores").iloc[0]
        assert (row["batch_size"], row["seed"], row["status"], row["reason"]) == (-1, -1, "ok", "")
        empty = s.frame("truth")
        assert len(empty) == 0 and list(empty.columns) == get_table("truth").names


def test_last_write_wins_across_file_and_journal(tmp_path):
    path = tmp_path / "s.h5"
    with RecordStore(path, "w") as s:
        s.append("scores", [score_row(i, value=float(i)) for i in range(5)])
    with RecordStore(path, "a", compact_rows=10**6) as s:
        s.append("scores", [score_row(2, value=200.0), score_row(9, value=9.0)])
        df = s.frame("scores")  # h5 rows + journal rows, before any compaction
        assert len(df) == 6 and df.set_index("arch").loc["arch-2", "value"] == 200.0
    with RecordStore(path, "r") as s:
        df = s.frame("scores").set_index("arch")
        assert len(df) == 6 and df.loc["arch-2", "value"] == 200.0


WRITER = textwrap.dedent("""
    import sys
    from zcnas.records import RecordStore
    path, start = sys.argv[1], int(sys.argv[2])
    with RecordStore(path, "a", compact_rows=7, compact_seconds=1e9) as s:
        for i in range(start, start + 100000):
            s.append("scores", [dict(run_key="r1", space="nb201", arch=f"arch-{i}", proxy="synflow",
                                     dataset="cifar10", value=float(i))])
            print(i, flush=True)
""")


def _spawn(path: Path, start: int = 0) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start)], stdout=subprocess.PIPE,
                            text=True, env=env)


def test_resume_after_sigkill(tmp_path):
    path = tmp_path / "killed.h5"
    finished = -1
    for round_, target in enumerate((40, 95, 150)):  # kill three times at different moments
        proc = _spawn(path, start=finished + 1)
        for line in proc.stdout:
            finished = int(line)
            if finished >= target:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        with RecordStore(path, "r") as s:  # readable, nothing that was reported finished is lost
            df = s.frame("scores")
            done = set(df["arch"])
            assert {f"arch-{i}" for i in range(finished + 1)} <= done, f"round {round_}"
            assert not df.duplicated(["run_key", "arch", "proxy"]).any()
            assert (df["value"] == df["arch"].str[5:].astype(float)).all()
        # the journal's torn or pending rows are folded in by the next writer, which resumes
        with RecordStore(path, "a") as s:
            finished = max(int(a[5:]) for a in s.frame("scores")["arch"])
    with RecordStore(path, "r") as s:
        assert len(s.frame("scores")) == finished + 1


def test_torn_journal_line_is_ignored(tmp_path):
    path = tmp_path / "torn.h5"
    s = RecordStore(path, "w", compact_rows=10**6)
    s.append("scores", [score_row(0), score_row(1)])
    s.append("scores", [score_row(2)])
    # simulate a process killed in the middle of writing the next line: stop without close()
    s._journal.append(b'{"t":"scores","k":["run_key"],"c":{"arch":["arch-3"')
    s._abandon()
    with RecordStore(path, "r") as r:
        assert sorted(r.frame("scores")["arch"]) == ["arch-0", "arch-1", "arch-2"]
    with RecordStore(path, "a") as w:  # the writer compacts, dropping the torn line, and can append
        w.append("scores", [score_row(4)])
    assert path.with_name("torn.h5.journal").read_bytes().count(b"\n") == 1  # only the header
    with RecordStore(path, "r") as r:
        assert sorted(r.frame("scores")["arch"]) == ["arch-0", "arch-1", "arch-2", "arch-4"]


def test_kill_between_rename_and_journal_reset_gives_no_duplicates(tmp_path):
    path = tmp_path / "s.h5"
    journal = Path(f"{path}.journal")
    with RecordStore(path, "w", compact_rows=10**6) as s:
        s.append("scores", [score_row(i) for i in range(3)])
        s.append("scores", [score_row(1, value=11.0)])
        s.set_meta("k", 1)
        before = journal.read_bytes()  # journal holding the rows, as at the moment of the rename
        s.compact()
    journal.write_bytes(before)  # the new HDF5 file is in place but the journal was not reset
    with RecordStore(path, "r") as s:
        df = s.frame("scores")
        assert len(df) == 3 and df.set_index("arch").loc["arch-1", "value"] == 11.0
        assert s.meta == {"k": 1}
    with RecordStore(path, "a") as s:
        assert len(s.frame("scores")) == 3


def test_corrupted_file_error_says_what_to_do(tmp_path):
    path = tmp_path / "bad.h5"
    path.write_bytes(b"this is not HDF5" * 10)
    with pytest.raises(StoreError, match=r"not a readable zcnas record store.*Remove"):
        RecordStore(path, "r")
    with pytest.raises(StoreError, match="not a readable zcnas record store"):
        RecordStore(path, "a")
    # an HDF5 file that is not a store
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1, 2]
    with pytest.raises(StoreError, match="without the zcnas record-store marker"):
        RecordStore(other, "r")
    # a damaged store whose journal still holds results: the message names the journal
    good = tmp_path / "good.h5"
    with RecordStore(good, "w", compact_rows=10**6) as s:
        s.append("scores", [score_row(0)])
        good.write_bytes(b"garbage")
        s._abandon()
    with pytest.raises(StoreError, match=r"good\.h5\.journal' still holds 1 batch"):
        RecordStore(good, "r")


def test_schema_version_errors(tmp_path):
    path = tmp_path / "v.h5"
    with RecordStore(path, "w") as s:
        s.append("scores", [score_row(0)])
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(StoreError, match="newer zcnas.*upgrade zcnas"):
        RecordStore(path, "r")
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION - 1
    # no migration from that version exists: the error must not send the user to `store migrate`
    with pytest.raises(StoreError, match="can neither read nor upgrade; re-create it") as err:
        RecordStore(path, "a")
    assert "migrate" not in str(err.value)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="can neither read nor upgrade") as err:
        migrate(path)
    assert "migrate" not in str(err.value) and path.read_bytes() == before


def test_migrate_is_suggested_only_when_it_migrates(tmp_path, monkeypatch, capsys):
    from zcnas.records import codec

    path = tmp_path / "old store.h5"
    with RecordStore(path, "w") as s:
        s.append("scores", [score_row(0, value=4.0)])
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION - 1
        f.attrs["old_flag"] = 1

    def upgrade(f):  # a migration registered for the previous version
        del f.attrs["old_flag"]

    monkeypatch.setitem(codec.MIGRATIONS, SCHEMA_VERSION - 1, upgrade)
    with pytest.raises(StoreError) as err:
        RecordStore(path, "r")
    command = f"zcnas store migrate '{path}'"
    assert f"`{command}`" in str(err.value)
    # the command it names does the job
    assert main(["store", "migrate", str(path)]) == 0
    assert f"migrated from schema v{SCHEMA_VERSION - 1} to v{SCHEMA_VERSION}" in capsys.readouterr().out
    with h5py.File(path, "r") as f:
        assert "old_flag" not in f.attrs and f.attrs["schema_version"] == SCHEMA_VERSION
    with RecordStore(path, "r") as s:
        assert s.frame("scores")["value"].tolist() == [4.0]
    assert not list(tmp_path.glob(".*migrate*"))


def test_migrate_current_store_is_a_no_op(tmp_path):
    path = tmp_path / "m.h5"
    RecordStore(path, "w").close()
    assert "already at schema" in migrate(path)


HOLDER = textwrap.dedent("""
    import sys, time
    from zcnas.records import RecordStore
    with RecordStore(sys.argv[1], "a") as s:
        s.append("scores", [dict(run_key="r", space="nb201", arch="a", proxy="p", dataset="d", value=1.0)])
        print("ready", flush=True)
        time.sleep(60)
""")


def test_lock_held_by_another_process(tmp_path):
    path = tmp_path / "locked.h5"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True,
                            env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match=rf"being written by another process \(pid {proc.pid}\); "
                                             r"wait for it or use another --store"):
            RecordStore(path, "a")
        with RecordStore(path, "r") as s:  # readers need no lock and see the writer's journal rows
            assert list(s.frame("scores")["arch"]) == ["a"]
    finally:
        proc.kill()
        proc.wait()
    with RecordStore(path, "a") as s:  # the lock dies with its holder
        assert len(s.frame("scores")) == 1


def test_append_validation(tmp_path):
    with RecordStore(tmp_path / "v.h5", "w") as s:
        with pytest.raises(InputError, match=r"Unknown column\(s\) \['colour'\] for table 'scores'"):
            s.append("scores", [score_row(0, colour="red")])
        with pytest.raises(InputError, match=r"Missing required column\(s\) \['proxy'\]"):
            s.append("scores", [{k: v for k, v in score_row(0).items() if k != "proxy"}])
        with pytest.raises(InputError, match="'batch_size'.*row 1: expected an integer"):
            s.append("scores", [score_row(0), score_row(1, batch_size=6.5)])
        with pytest.raises(InputError, match="'value'.*expected a number"):
            s.append("scores", [score_row(0, value="high")])
        with pytest.raises(UnknownNameError, match="Unknown table 'score'. Did you mean 'scores'"):
            s.append("score", [score_row(0)])
        with pytest.raises(InputError, match="JSON-serialisable"):
            s.set_meta("x", object())
        assert s.tables() == []
    with RecordStore(tmp_path / "v.h5", "r") as s, pytest.raises(StoreError, match="read-only"):
        s.append("scores", [score_row(0)])


def test_registered_table_and_unknown_table_in_file(tmp_path):
    name = "test_store_extra_table"
    register_table(name, [("run_key", "str"), ("step", "int"), ("loss", "float", math.nan)],
                   key=["run_key", "step"])
    path = tmp_path / "x.h5"
    with RecordStore(path, "w") as s:
        s.append(name, [dict(run_key="r", step=1, loss=0.5), dict(run_key="r", step=2)])
    from zcnas.records.schema import TABLES
    del TABLES._entries[name]  # a process that does not know the table can still read and keep it
    try:
        with RecordStore(path, "a") as s:
            s.append("scores", [score_row(0)])
            assert s.tables() == ["scores", name]
        with RecordStore(path, "r") as s:
            df = s.frame(name)
            assert list(df["step"]) == [1, 2] and math.isnan(df["loss"].iloc[1])
    finally:
        TABLES._entries.pop(name, None)


def test_csv_export_and_wide_views(tmp_path):
    path = tmp_path / "w.h5"
    with RecordStore(path, "w") as s:
        s.append("scores", [score_row(0, "synflow", 3.0), score_row(0, "naswot", 7.0),
                            score_row(1, "synflow", math.nan, status="failed", reason="nan"),
                            score_row(1, "naswot", 5.0), score_row(1, "naswot", 6.0, run_key="r2")])
        s.append("truth", [dict(space="nb201", arch=f"arch-{i}", metric="acc", value=90.0 + i,
                                dataset=d, aggregation="single") for i in range(2) for d in ("c10", "c100")])
        out = s.to_csv("scores", tmp_path / "scores.csv")
        with pytest.raises(InputError, match=r"choose one with --run-key \(Python: run_key=\): 'r1', 'r2'"):
            s.scores_wide()
        wide = s.scores_wide(run_key="r1")
        assert wide.loc["arch-0", "naswot"] == 7.0 and math.isnan(wide.loc["arch-1", "synflow"])
        tw = s.truth_wide(["acc"])
        assert set(tw.columns) == {"acc[c10]", "acc[c100]"} and tw.loc["arch-1", "acc[c10]"] == 91.0
        assert list(s.truth_wide(dataset="c100").columns) == ["acc"]
    back = pd.read_csv(out)
    assert len(back) == 5 and list(back.columns) == get_table("scores").names


def test_read_15625_x_10_rows_fast(tmp_path):
    archs = [f"arch-{i:05d}" for i in range(15625)]
    n = len(archs) * 10
    rows = pd.DataFrame({"run_key": "r", "space": "nb201", "arch": np.repeat(archs, 10),
                         "proxy": [f"p{j}" for j in range(10)] * len(archs), "dataset": "cifar10",
                         "value": np.arange(n, dtype=float), "status": "ok"})
    path = tmp_path / "big.h5"
    with RecordStore(path, "w") as s:
        s.append("scores", rows)
    t0 = time.perf_counter()
    with RecordStore(path, "r") as s:
        df = s.frame("scores")
    elapsed = time.perf_counter() - t0
    assert len(df) == n and df["value"].iloc[-1] == n - 1 and df["arch"].iloc[-1] == archs[-1]
    assert elapsed < 1.0, f"reading {n} rows took {elapsed:.2f} s"


def test_store_cli(tmp_path, capsys):
    path = tmp_path / "c.h5"
    with RecordStore(path, "w", compact_rows=10**6) as s:
        s.append("scores", [score_row(0, value=2.5), score_row(1)])
        s.set_meta("dataset", "cifar10")
    assert main(["store", "info", str(path), "--format", "json"]) == 0
    info = {r["item"]: r["value"] for r in read_json_lines(capsys.readouterr().out)}
    assert info["table scores"] == "2" and info["meta dataset"] == '"cifar10"'
    assert info["schema_version"] == str(SCHEMA_VERSION)

    assert main(["store", "export", str(path), "--table", "scores"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ",".join(get_table("scores").names) and "arch-0" in out
    csv = tmp_path / "out.csv"
    assert main(["store", "export", str(path), "--table", "scores", "-o", str(csv)]) == 0
    assert pd.read_csv(csv)["value"].tolist() == [2.5, 1.0]

    assert main(["store", "compact", str(path)]) == 0
    assert main(["store", "migrate", str(path)]) == 0
    assert "already at schema" in capsys.readouterr().out

    assert main(["store", "export", str(path), "--table", "nope"]) == 1
    assert "Unknown table 'nope'" in capsys.readouterr().err
    assert main(["store", "info", str(tmp_path / "missing.h5")]) == 1
    assert "No record store at" in capsys.readouterr().err


def test_records_import_without_torch():
    code = ("import sys; import zcnas.records, zcnas.records.importers, zcnas.cli.store, zcnas.cli.importer; "
            "sys.exit('torch' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


def test_delete_rows_file_and_journal(tmp_path):
    path = tmp_path / "d.h5"
    with RecordStore(path, "w") as s:
        s.append("scores", [score_row(0, "synflow", 3.0), score_row(0, "meco", 7.0), score_row(1, "meco", 5.0)])
        s.compact()
        s.append("scores", [score_row(2, "meco", 1.0), score_row(2, "naswot", 2.0)])  # journal rows
        assert s.delete("scores", proxy="meco", arch=["arch-0", "arch-2"]) == 2
        assert sorted(map(tuple, s.frame("scores")[["arch", "proxy"]].to_numpy())) == [
            ("arch-0", "synflow"), ("arch-1", "meco"), ("arch-2", "naswot")]
        with pytest.raises(InputError, match="no column"):
            s.delete("scores", colour="red")
        with pytest.raises(InputError, match="at least one"):
            s.delete("scores")
    with RecordStore(path, "r") as s:  # durable
        assert len(s.frame("scores")) == 3


def test_cli_store_delete(tmp_path, capsys):
    path = tmp_path / "c.h5"
    with RecordStore(path, "w") as s:
        s.append("scores", [score_row(0, "meco", 7.0), score_row(0, "meco_opt", 7.0), score_row(0, "zen", 1.0)])
    assert main(["-q", "store", "delete", str(path), "--where", "proxy=meco,meco_opt"]) == 0
    assert capsys.readouterr().out.strip() == "2"
    with RecordStore(path, "r") as s:
        assert list(s.frame("scores")["proxy"]) == ["zen"]
    assert main(["-q", "store", "delete", str(path), "--where", "proxy"]) == 1
    assert "COLUMN=VALUE" in capsys.readouterr().err


def test_merge_stores_replaces_equal_keys_and_keeps_the_rest(tmp_path, capsys):
    """Parts scored by several processes (one writer per file) become one store: rows of the source
    are added, a row with an existing key replaces it, metadata the target lacks is copied."""
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    with RecordStore(a, "w") as s:
        s.append("scores", [score_row(0, "meco", 1.0), score_row(1, "meco", 2.0)])
        s.set_meta("owner", "a")
    with RecordStore(b, "w") as s:
        s.append("scores", [score_row(1, "meco", 20.0), score_row(2, "meco", 3.0)])
        s.set_meta("owner", "b")
        s.set_meta("machine", "m2")
    with RecordStore(a, "a") as s:
        assert s.merge_from(b) == {"scores": 2}
        got = dict(zip(s.frame("scores")["arch"], s.frame("scores")["value"]))
        assert got == {"arch-0": 1.0, "arch-1": 20.0, "arch-2": 3.0}
        assert s.meta["owner"] == "a" and s.meta["machine"] == "m2"
        with pytest.raises(InputError, match="into itself"):
            s.merge_from(a)
    assert main(["-q", "store", "merge", str(c), str(a), str(b)]) == 0
    with RecordStore(c, "r") as s:
        assert len(s.frame("scores")) == 3
    assert main(["-q", "store", "merge", str(c), str(tmp_path / "nope.h5")]) == 1
    assert "nope.h5" in capsys.readouterr().err
