"""Store layers: query views (data-free proxies served to every dataset, CLI-worded errors, runs
summary), the in-memory backend, the journal backend contract, and imports without torch."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from zcnas.cli import main
from zcnas.cli.output import read_json_lines
from zcnas.errors import InputError, StoreError
from zcnas.records import RecordStore, views
from zcnas.records.journal import FileJournal, JournalBackend, MemoryJournal
from zcnas.records.snapshot import MemoryBackend

REPO = Path(__file__).resolve().parents[1]


def row(arch, proxy, value, dataset="cifar10", run_key="r10", **kw):
    return dict(run_key=run_key, space="nb201", arch=arch, proxy=proxy, dataset=dataset, value=value, **kw)


def _scores() -> list[dict]:
    """Like benchmarks_data/nb201_zcnas_scores.h5: a CIFAR-10 run, a CIFAR-100 run and a run of
    data-free proxies, recorded with dataset ''."""
    return [row("a", "naswot", 1.0), row("b", "naswot", 2.0), row("a", "synflow", 5.0),
            row("a", "naswot", 10.0, "cifar100", "r100"), row("b", "naswot", 20.0, "cifar100", "r100"),
            row("a", "meco", 7.0, "", "free"), row("b", "meco", 8.0, "", "free"),
            row("a", "synflow", 50.0, "", "free")]


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "imagenet16-120"])
def test_data_free_proxies_are_served_to_every_dataset(dataset):
    with RecordStore.memory() as s:
        s.append("scores", _scores())
        wide = s.scores_wide(dataset=dataset)
    # meco needs no data: every dataset gets it (the old view dropped it)
    assert wide.loc["a", "meco"] == 7.0 and wide.loc["b", "meco"] == 8.0
    if dataset == "cifar10":
        assert wide.loc["a", "naswot"] == 1.0
        assert wide.loc["a", "synflow"] == 5.0  # the dataset's own row wins over the data-free one
        assert math.isnan(wide.loc["b", "synflow"])  # no row of b for synflow anywhere
    elif dataset == "cifar100":
        assert wide.loc["b", "naswot"] == 20.0 and wide.loc["a", "synflow"] == 50.0
    else:
        assert list(wide.columns) == ["meco", "synflow"]


def test_scores_wide_runs_and_errors_speak_cli():
    scores = pd.DataFrame([{**r, "status": "ok"} for r in _scores()])
    with pytest.raises(InputError) as err:
        views.scores_wide(scores)
    msg = str(err.value)
    assert "--run-key (Python: run_key=)" in msg and "--dataset (Python: dataset=)" in msg
    assert "\n" not in msg and "pass run_key" not in msg
    both = views.scores_wide(scores, run_key=["r100", "free"])
    assert both.loc["a", "naswot"] == 10.0 and both.loc["a", "meco"] == 7.0
    # a chosen run keeps only its own rows
    assert list(views.scores_wide(scores, run_key="r10", dataset="cifar10").columns) == ["naswot", "synflow"]
    # several spaces sharing arch strings: --space
    other = scores.assign(space="toy", run_key=scores["run_key"])
    with pytest.raises(InputError, match=r"--space \(Python: space=\)"):
        views.scores_wide(pd.concat([scores, other]), run_key="r10")
    assert views.scores_wide(pd.concat([scores, other]), run_key="r10", space="toy").loc["a", "naswot"] == 1.0
    # many runs: the message stays short
    many = pd.concat([scores.assign(run_key=f"run-{i}") for i in range(50)])
    with pytest.raises(InputError) as err:
        views.scores_wide(many)
    assert "(50 in all)" in str(err.value) and len(str(err.value)) < 400


def test_truth_wide_error_speaks_cli():
    truth = pd.DataFrame([dict(space=sp, arch="a", metric="acc", value=1.0, dataset="c10", aggregation="single")
                          for sp in ("nb201", "toy")])
    with pytest.raises(InputError, match=r"--space \(Python: space=\)"):
        views.truth_wide(truth)
    assert views.truth_wide(truth, space="toy").loc["a", "acc"] == 1.0


def test_space_is_part_of_the_scores_key():
    with RecordStore.memory() as s:
        s.append("scores", [row("a", "naswot", 1.0), {**row("a", "naswot", 2.0), "space": "toy"}])
        assert len(s.frame("scores")) == 2
        assert s.scores_wide(space="toy").loc["a", "naswot"] == 2.0


def test_memory_store_round_trip_compaction_and_shared_backend():
    backend = MemoryBackend()
    with RecordStore(backend, "a", compact_rows=3) as w:
        w.append("scores", [row(f"x{i}", "naswot", float(i)) for i in range(2)])
        w.set_meta("note", {"k": 1})
        with RecordStore(backend, "r") as r:  # a reader on the same store sees journal rows
            assert len(r.frame("scores")) == 2 and r.meta == {"note": {"k": 1}}
            w.append("scores", [row(f"x{i}", "naswot", float(i)) for i in range(2, 6)])  # compacts
            assert len(r.frame("scores")) == 6
        with pytest.raises(StoreError, match="being written by another RecordStore"):
            RecordStore(backend, "a")
        assert w.delete("scores", arch=["x0", "x1"]) == 2
    with RecordStore(backend, "r") as r:
        assert sorted(r.frame("scores")["arch"]) == ["x2", "x3", "x4", "x5"]
    with RecordStore(":memory:", "a") as fresh:
        assert fresh.tables() == [] and str(fresh.path) == ":memory:"
    with pytest.raises(StoreError, match="No record store"):
        RecordStore(MemoryBackend(), "r")


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_journal_backend_contract(tmp_path, kind):
    j: JournalBackend = FileJournal(tmp_path / "s.h5") if kind == "file" else MemoryJournal()
    assert j.read(0) == (b"", None)
    release = j.lock()
    j.append(b"one\n")
    j.append(b"two\n")
    data, epoch = j.read(0)
    assert data == b"one\ntwo\n" and epoch is not None
    assert j.read(4) == (b"two\n", epoch)
    j.reset(b"head\n")
    data, epoch2 = j.read(0)
    assert data == b"head\n" and epoch2 != epoch
    with pytest.raises(StoreError, match="being written by another"):
        (FileJournal(tmp_path / "s.h5") if kind == "file" else j).lock()
    release()
    j.lock()()  # free again
    j.close()


def test_records_and_views_import_without_torch():
    code = ("import sys; import zcnas.records, zcnas.records.store, zcnas.records.views, zcnas.records.codec, "
            "zcnas.records.journal, zcnas.records.snapshot; assert 'torch' not in sys.modules, 'torch imported'")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_store_info_lists_runs(tmp_path, capsys):
    path = tmp_path / "i.h5"
    with RecordStore(path, "w") as s:
        s.append("runs", [dict(run_key="r10", kind="score", config={"space": "nb201", "dataset": "cifar10",
                                                                   "batch_size": 64, "seed": 3, "device": "cpu"})])
        s.append("scores", _scores())
        s.append("trainings", [dict(run_key="r10", space="nb201", arch="a", dataset="cifar10", epochs=1, seed=0)])
    assert main(["store", "info", str(path), "--runs", "--format", "json"]) == 0
    runs = {r["run_key"]: r for r in read_json_lines(capsys.readouterr().out)}
    assert set(runs) == {"r10", "r100", "free"}
    assert runs["r10"] == {"run_key": "r10", "kind": "score", "space": "nb201", "dataset": "cifar10",
                           "batch_size": "64", "seed": "3", "scores": 3, "trainings": 1}
    # a run without a runs row gets its configuration from its score rows
    assert runs["r100"]["kind"] == "" and runs["r100"]["dataset"] == "cifar100" and runs["r100"]["scores"] == 2
    assert main(["store", "info", str(path), "--format", "json"]) == 0
    items = {r["item"]: r["value"] for r in read_json_lines(capsys.readouterr().out)}
    assert items["run r10"] == "score space=nb201 dataset=cifar10 batch_size=64 seed=3; 3 scores, 1 trainings"
    assert items["run free"].startswith("(no runs row) space=nb201; 3 scores")
    assert main(["store", "info", str(path)]) == 0  # the table view shows the run keys
    assert "run r100" in capsys.readouterr().out


def test_committed_stores_still_open():
    """Files written before the layered store (schema v1, scores keyed without space) open read-only."""
    path = REPO / "benchmarks_data" / "nb201_zcnas_scores.h5"
    if not path.exists():
        pytest.skip("benchmarks_data/nb201_zcnas_scores.h5 is not in this checkout")
    before = path.stat().st_mtime_ns
    with RecordStore(path, "r") as s:
        wide = s.scores_wide(dataset="cifar100")
        assert wide.shape[0] == 15625 and {"meco", "te_lr", "naswot"} <= set(wide.columns)
        assert len(s.runs()) == 3
    assert path.stat().st_mtime_ns == before


def test_table_output_prints_cells_verbatim():
    """Table output shows text as stored: a run key with ':jigsaw:' stays text (rich would make it an
    emoji) and a DARTS genotype's '[...]' is not read as a style tag."""
    import io

    import pandas as pd

    from zcnas.cli.output import emit

    key = "zcnas:tnb101:tnb101_micro:jigsaw:seed0:v1"
    geno = "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2, 3, 4, 5])"
    out = io.StringIO()
    emit(pd.DataFrame({"run_key": [key], "arch": [geno]}), "table", stream=out, wide=True)
    text = out.getvalue()
    assert key in text
    assert geno in text
