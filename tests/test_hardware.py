"""Latency measurement: structure of the result, no change to the caller's model, records. No timing
assertions (the machine is shared)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from zcnas.errors import InputError
from zcnas.hardware import LatencyResult, latency_wide, measure_archs, measure_latency
from zcnas.records import RecordStore

TINY = "|none~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"
CONV = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"


def tiny_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))


def test_measure_latency_structure_and_model_untouched():
    net = tiny_net().train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    threads = torch.get_num_threads()
    r = measure_latency(net, input_shape=(2, 3, 8, 8), warmup=1, repeats=4, threads=1)
    assert isinstance(r, LatencyResult)
    assert (r.repeats, r.warmup, r.batch_size, r.input_size) == (4, 1, 2, (3, 8, 8))
    assert r.device == "cpu" and r.threads == 1 and r.timer == "perf_counter"
    assert len(r.samples_ms) == 4 and all(s > 0 for s in r.samples_ms)
    assert r.min_ms <= r.p10_ms <= r.median_ms <= r.p90_ms <= max(r.samples_ms)
    assert r.iqr_ms >= 0 and r.spread >= 0
    assert torch.get_num_threads() == threads  # restored
    assert net.training  # the caller's model is not put in eval mode
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # nor its BN stats changed
    d = r.as_dict()
    assert "samples_ms" not in d and d["input_size"] == [3, 8, 8]


def test_measure_latency_of_arch_string():
    r = measure_latency(TINY, warmup=0, repeats=2, threads=1)
    assert r.input_size == (3, 32, 32) and r.repeats == 2


@pytest.mark.parametrize("kwargs, match", [
    ({"repeats": 0}, "'repeats' parameter of measure_latency must be an int >= 1"),
    ({"warmup": -1}, "'warmup'"),
    ({"threads": 0}, "'threads'"),
    ({"input_shape": (3, 32)}, None),
    ({"input_shape": (0, 3, 8, 8)}, "input_shape"),
    ({"device": "banana"}, "'device' parameter"),
])
def test_measure_latency_bad_input(kwargs, match):
    with pytest.raises((InputError, RuntimeError), match=match):
        measure_latency(tiny_net(), **{"warmup": 0, "repeats": 1, **kwargs})


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_measure_latency_cuda_missing_is_clear():
    with pytest.raises(InputError, match="CUDA is not available"):
        measure_latency(tiny_net(), device="cuda", warmup=0, repeats=1)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_measure_latency_cuda_events():
    r = measure_latency(tiny_net(), device="cuda", warmup=1, repeats=3)
    assert r.timer == "cuda_events" and r.device.startswith("cuda") and len(r.samples_ms) == 3


def test_measure_archs_records_round_trip(tmp_path):
    path = tmp_path / "lat.h5"
    with RecordStore(path, "a") as st:
        rows = measure_archs([TINY, CONV, TINY], label="box", warmup=0, repeats=2, threads=1, store=st)
    assert len(rows) == 2 and set(rows["label"]) == {"box"} and rows["run_key"].nunique() == 1
    with RecordStore(path, "r") as st:
        lat = st.frame("latency")
        runs = st.frame("runs")
    assert len(lat) == 2 and (lat["status"] == "ok").all()
    assert json.loads(lat["input_size"].iloc[0]) == [3, 32, 32]
    assert runs["kind"].tolist() == ["latency"] and runs["run_key"].iloc[0] == lat["run_key"].iloc[0]
    assert json.loads(runs["config"].iloc[0])["label"] == "box"
    wide = latency_wide(lat)
    assert wide.columns.tolist() == ["latency_box_ms"] and set(wide.index) == {TINY, CONV}
    with pytest.raises(InputError, match="label"):
        measure_archs([TINY], label="a b", repeats=1, warmup=0)


def test_budget_on_measured_latency():
    from zcnas.constraints import apply_budgets

    rows = measure_archs([TINY, CONV], label="box", warmup=0, repeats=2, threads=1)
    wide = latency_wide(rows)
    slowest = wide["latency_box_ms"].max()
    kept = apply_budgets(wide, f"latency:box={slowest * 1010:.6f}us")
    assert len(apply_budgets(wide, f"latency:box={wide['latency_box_ms'].min() * 1010:.6f}us")) >= 1
    assert len(kept) == 2


def test_latency_cli_store_then_rank_budget(tmp_path, capsys):
    import io

    import pandas as pd

    from zcnas.cli import main

    store = str(tmp_path / "lat.h5")
    rc = main(["-q", "latency", "--arch", TINY, "--arch", CONV, "--warmup", "0", "--repeats", "2",
               "--threads", "1", "--label", "box", "--store", store, "--format", "csv"])
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert rc == 0 and set(out["arch"]) == {TINY, CONV} and set(out["label"]) == {"box"}
    assert (out["median_ms"] > 0).all() and (out["repeats"] == 2).all()
    slow = out["median_ms"].max()
    (tmp_path / "a.txt").write_text(f"{TINY}\n{CONV}\n")
    rc = main(["-q", "rank", "--archs", str(tmp_path / "a.txt"), "--proxies", "params", "--costs", store,
               "--max", f"latency:box={slow * 2:.6f}ms", "--format", "csv"])
    ranked = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert rc == 0 and len(ranked) == 2 and "latency_box_ms" in ranked.columns
    rc = main(["-q", "rank", "--archs", str(tmp_path / "a.txt"), "--proxies", "params", "--costs", store,
               "--max", "latency:box=1ns"])
    assert rc == 1 and "Unknown unit 'ns'" in capsys.readouterr().err
    rc = main(["-q", "latency", "--sample", "1", "--repeats", "0"])
    assert rc == 1 and "'repeats'" in capsys.readouterr().err
