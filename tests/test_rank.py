"""``rank`` and ``zcnas rank``: ranking, saved results, resume after a kill, formats, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zcnas import get_space
from zcnas.cli import main
from zcnas.cli.output import read_json_lines
from zcnas.errors import InputError
from zcnas.ranking import (
    AggregateSelector,
    Candidates,
    ProxyScorer,
    ScoringConfig,
    build_seeded,
    rank,
    score_architectures,
)
from zcnas.records import RecordStore

FAST = "synflow,naswot,params"
REPO = Path(__file__).resolve().parents[1]


def _rank(proxies, *, store=None, seed=0, batch_size=8, **cands):
    """rank() of NB201 candidates with a scorer built from plain values (the composed objects)."""
    cfg = ScoringConfig("nb201", dataset="digits", batch_size=batch_size, seed=seed)
    return rank(Candidates("nb201", seed=seed, **cands), ProxyScorer(proxies, cfg), store=store)


def test_rank_library_orders_by_direction(tmp_path):
    res = _rank(["params"], sample=8, seed=3)
    assert list(res.table["rank"]) == list(range(1, 9))
    assert res.table["params"].is_monotonic_decreasing  # params: higher is better
    assert res.table.columns[:3].tolist() == ["arch", "rank", "score"]


def test_rank_aggregate_and_store_round_trip(tmp_path):
    store = tmp_path / "run.h5"
    res = _rank(FAST, sample=6, store=store)
    assert res.table["score"].notna().all()
    with RecordStore(store, "r") as st:
        scores = st.frame("scores")
        runs = st.frame("runs")
    assert len(scores) == 6 * 3 and set(scores["proxy"]) == {"synflow", "naswot", "params"}
    assert {"value", "status", "reason", "seconds", "dataset", "batch_size", "seed"} <= set(scores.columns)
    config = json.loads(runs["config"].iloc[0])
    assert config["batch_size"] == 8 and config["dataset"] == "digits" and config["seed"] == 0
    assert runs["zcnas_version"].iloc[0]


def test_resume_skips_finished_work(tmp_path, monkeypatch):
    store = tmp_path / "run.h5"
    first = _rank(FAST, sample=5, store=store)
    import zcnas.ranking.scoring as scoring

    built = []
    real = scoring.build_seeded
    monkeypatch.setattr(scoring, "build_seeded", lambda *a, **k: built.append(a) or real(*a, **k))
    again = _rank(FAST, sample=5, store=store)
    assert built == []  # nothing recomputed
    pd.testing.assert_frame_equal(first.table, again.table)
    # a new proxy on the same run computes only that proxy (snip needs the network: 5 builds)
    more = _rank(FAST + ",snip", sample=5, store=store)
    assert len(built) == 5 and "snip" in more.table.columns
    pd.testing.assert_series_equal(first.table.set_index("arch")["synflow"],
                                   more.table.set_index("arch").loc[first.table["arch"], "synflow"])


def test_scores_do_not_depend_on_order_or_sample(tmp_path):
    space = get_space("nb201")
    archs = space.sample(4, seed=11)
    cfg = ScoringConfig(batch_size=8)
    a = score_architectures(archs, ["naswot", "synflow"], cfg, progress=False)
    b = score_architectures(archs[::-1], ["naswot", "synflow"], cfg, progress=False)
    key, cols = ["arch", "proxy"], ["arch", "proxy", "value", "status"]
    pd.testing.assert_frame_equal(a.sort_values(key)[cols].reset_index(drop=True),
                                  b.sort_values(key)[cols].reset_index(drop=True))


def test_dedupe_copies_scores_within_function_class():
    space = get_space("nb201")
    a = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"
    b = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert space.canonical(a) == space.canonical(b)
    long = score_architectures([a, b], ["naswot"], ScoringConfig(batch_size=8, dedupe=True), progress=False)
    va, vb = (long.loc[long["arch"] == s, "value"].item() for s in (a, b))
    assert va == vb
    copied = long.loc[long["seconds"] == 0, "reason"]
    assert len(copied) >= 1 and copied.str.contains("same function class").all()


def test_seeded_build_leaves_global_rng_alone():
    import torch

    state = torch.random.get_rng_state()
    m1 = build_seeded("nb201", get_space("nb201").at(123), 10, seed=0)
    m2 = build_seeded("nb201", get_space("nb201").at(123), 10, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(m1.parameters(), m2.parameters()))


def test_rank_input_errors():
    with pytest.raises(InputError, match="exactly one of"):
        Candidates("nb201")
    with pytest.raises(InputError, match="Did you mean 'naswot'"):
        ProxyScorer("naswt")
    with pytest.raises(InputError, match="--workers applies to --backend process"):
        ProxyScorer("params", workers=2)
    with pytest.raises(InputError, match="needs exactly one proxy"):
        rank(Candidates("nb201", sample=2), ProxyScorer("params,synflow"), selector=AggregateSelector(None))


def test_default_scorer_is_the_space_default_ranker():
    from zcnas.proxies import resolve_proxies

    assert ProxyScorer().proxies == resolve_proxies(get_space("nb201").default_proxies)


# ---- CLI ------------------------------------------------------------------------------------------
def test_cli_rank_csv_json_table(tmp_path, capsys):
    args = ["rank", "--sample", "5", "--proxies", FAST, "--batch-size", "8", "--top", "3", "-q"]
    assert main(["-q", *args[:-1], "--format", "csv"]) == 0
    out = capsys.readouterr().out
    df = pd.read_csv(pd.io.common.StringIO(out))
    assert len(df) == 3 and list(df.columns) == ["arch", "rank", "score", "synflow", "naswot", "params"]
    assert main(["-q", *args[:-1], "--format", "json"]) == 0
    rows = read_json_lines(capsys.readouterr().out)
    assert [r["rank"] for r in rows] == [1, 2, 3] and all(r["arch"].startswith("|") for r in rows)
    assert main(["-q", *args[:-1]]) == 0
    assert "top 3 of 5" in capsys.readouterr().out


def test_cli_archs_file(tmp_path, capsys):
    f = tmp_path / "archs.txt"
    strings = [get_space("nb201").format(a) for a in get_space("nb201").sample(3, seed=5)]
    f.write_text("\n".join(strings) + "\n")
    assert main(["-q", "rank", "--archs", str(f), "--proxies", "params", "--format", "json"]) == 0
    assert {r["arch"] for r in read_json_lines(capsys.readouterr().out)} == set(strings)
    f.write_text(strings[0] + "\n|bogus~0|\n")
    assert main(["-q", "rank", "--archs", str(f), "--proxies", "params"]) == 1
    err = capsys.readouterr().err
    assert "archs.txt:2" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, code, fragment", [
    (["rank", "--sample", "3", "--proxies", "synflw"], 1, "Did you mean 'synflow'"),
    (["rank", "--sample", "3", "--proxies", "naswot", "--dataset", "cifar10", "--data-dir", "/nonexistent/x"],
     1, "/nonexistent/x"),
    (["rank", "--proxies", "params"], 2, "one of the arguments --sample --all --archs is required"),
    (["rank", "--sample", "3", "--format", "xml"], 2, "invalid choice"),
])
def test_cli_exit_codes(argv, code, fragment, capsys, monkeypatch):
    monkeypatch.delenv("ZCNAS_DATA", raising=False)
    assert main(["-q", *argv]) == code
    err = capsys.readouterr().err
    assert fragment in err
    if code == 1:
        assert err.strip().count("\n") == 0 and "Traceback" not in err


def test_cli_list(capsys):
    assert main(["list", "proxies", "--format", "json"]) == 0
    rows = {r["name"]: r for r in read_json_lines(capsys.readouterr().out)}
    assert rows["synflow"]["direction"] == "higher" and rows["synflow"]["needs_data"] is False
    assert "jacov" in rows["jacob_cov"]["aliases"]
    assert main(["list", "spaces", "--format", "csv"]) == 0
    assert "nb201" in capsys.readouterr().out


def test_sigkill_then_resume(tmp_path):
    """A run killed with SIGKILL keeps every finished architecture; the same command resumes."""
    store = tmp_path / "kill.h5"
    cmd = [sys.executable, "-m", "zcnas", "-q", "rank", "--sample", "30", "--proxies", "naswot,synflow",
           "--batch-size", "8", "--store", str(store), "--format", "csv", "--top", "0"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    journal = Path(str(store) + ".journal")
    while time.time() < deadline:  # wait until a few architectures are saved
        if journal.exists() and journal.read_text().count('"scores"') >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with RecordStore(store, "r") as st:
        saved = st.frame("scores")
    n_saved = saved["arch"].nunique()
    assert 3 <= n_saved < 30
    assert (saved.groupby("arch").size() == 2).all()  # whole architectures only
    done = subprocess.run(cmd, env={**env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(pd.io.common.StringIO(done.stdout))) == 30
    with RecordStore(store, "r") as st:
        final = st.frame("scores")
    assert len(final) == 60
    kept = final.merge(saved, on=["arch", "proxy"], suffixes=("", "_before"))
    assert (kept["value"].fillna(-1) == kept["value_before"].fillna(-1)).all()


def test_dedupe_scores_structural_costs_per_string():
    """params/flops differ inside a function class (a cut-off branch keeps its parameters)."""
    from zcnas.proxies import get_proxy

    assert not get_proxy("params").per_function and get_proxy("naswot").per_function
    a = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    b = "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    assert get_space("nb201").canonical(a) == get_space("nb201").canonical(b)
    long = score_architectures([a, b], ["params", "synflow"], ScoringConfig(batch_size=8, dedupe=True),
                               progress=False)
    p = long[long["proxy"] == "params"].set_index("arch")["value"]
    assert p[a] > p[b]  # the dead 3x3 convolution still counts
    s = long[long["proxy"] == "synflow"].set_index("arch")["value"]
    assert s[a] == s[b]  # the function is the same: one score, copied
    assert long["run_key"].nunique() == 1


def test_run_key_of_reference_layout_unchanged_and_layouts_kept_apart():
    """Stores written before the memory-format option (NCHW) keep their run keys, so they resume;
    channels_last scores (different last bits) live under another key."""
    assert ScoringConfig(memory_format="contiguous").run_key() == "score:752b66017566e17b"
    cfg = ScoringConfig(dataset="cifar10", batch_size=64, dedupe=True, batch_sha1="abc", memory_format="contiguous")
    assert cfg.run_key() == "score:1b8953a4c5056c8b"
    assert ScoringConfig().run_key() != ScoringConfig(memory_format="contiguous").run_key()
    with pytest.raises(InputError, match="memory format"):
        ScoringConfig(memory_format="nhwc")
