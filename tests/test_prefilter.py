"""Pre-filter: library API, cache, errors, and ``zcnas prefilter`` (JSON lines in and out)."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from zcnas import get_space
from zcnas.cli import main
from zcnas.errors import InputError, UnknownNameError
from zcnas.ranking import Pick, Prefilter, prefilter

SPACE = get_space("nb201")


def _archs(n: int, seed: int = 0) -> list[str]:
    return [SPACE.format(a) for a in SPACE.sample(n, seed=seed)]


def test_prefilter_returns_top_k_by_direction():
    cands = _archs(8, seed=1)
    res = prefilter(cands, 3, proxies="params")
    assert len(res) == 3 and res.n_candidates == 8 and res.note == ""
    arch, score, per = res[0]
    assert isinstance(res[0], Pick) and set(per) == {"params"}
    # params is higher-is-better: the 3 picks are the 3 largest networks, best first
    all_params = prefilter(cands, 8, proxies="params")
    values = [p.proxies["params"] for p in all_params]
    assert values == sorted(values, reverse=True)
    assert res.archs == all_params.archs[:3]
    assert [p.score for p in res] == sorted((p.score for p in res), reverse=True)


def test_prefilter_aggregate_and_table():
    cands = _archs(6, seed=2)
    known = pd.DataFrame({"params": [1.0, 2, 3, 4, 5, 6], "synflow": [6.0, 5, 4, 3, 2, 1]}, index=cands)
    res = prefilter(cands, 4, proxies="params,synflow", aggregate="mean_rank", cache=known)
    assert res.n_computed == 0
    assert res.table.columns[:3].tolist() == ["arch", "rank", "score"]
    assert list(res.table["rank"]) == [1, 2, 3, 4]
    assert {"params", "synflow"} <= set(res.table.columns)
    assert res.table["score"].nunique() == 1  # opposite orders: every candidate ties on the Borda count
    best = prefilter(cands, 1, proxies="params,synflow", aggregate="min_rank",
                     cache=known.assign(synflow=known["params"]))
    assert best.archs == [cands[5]]


def test_prefilter_cache_avoids_recompute(monkeypatch):
    import zcnas.ranking.scoring as scoring

    built = []
    real = scoring.build_seeded
    monkeypatch.setattr(scoring, "build_seeded", lambda *a, **k: built.append(a[1]) or real(*a, **k))
    pf = Prefilter(proxies="synflow")  # needs a network (params comes from the analytic table: none built)
    cands = _archs(6, seed=3)
    first = pf(cands[:4], 2)
    assert len(built) == 4 and first.n_computed == 4 and pf.cache_size == 4
    second = pf(cands, 2)  # two new candidates only
    assert len(built) == 6 and second.n_computed == 2
    pf(list(reversed(cands)), 3)
    assert len(built) == 6  # everything cached


def test_prefilter_seeded_cache_is_used():
    cands = _archs(5, seed=4)
    fake = pd.DataFrame({"params": np.arange(5, dtype=float)}, index=cands)  # last candidate "largest"
    pf = Prefilter(proxies="params", cache=fake)
    res = pf(cands, 2)
    assert res.n_computed == 0
    assert res.archs == [cands[4], cands[3]]


def test_prefilter_errors_and_note():
    cands = _archs(3, seed=5)
    with pytest.raises(InputError, match="'k' parameter of Prefilter must be an int >= 1. Got 0"):
        prefilter(cands, 0, proxies="params")
    with pytest.raises(UnknownNameError, match="Did you mean 'synflow'"):
        prefilter(cands, 1, proxies="synflw")
    with pytest.raises(InputError, match="No candidates"):
        prefilter([], 1, proxies="params")
    res = prefilter(cands + cands[:1], 10, proxies="params")
    assert len(res) == 3 and "only 3 distinct candidates" in res.note


def test_prefilter_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state().clone()
    np_before = np.random.get_state()[1].copy()
    prefilter(_archs(3, seed=6), 1, proxies="params")
    assert torch.equal(before, torch.get_rng_state())
    assert np.array_equal(np_before, np.random.get_state()[1])


def _run_cli(argv, stdin_text, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin_text))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prefilter_json_lines_with_malformed_lines(monkeypatch, capsys):
    good = _archs(12, seed=7)
    lines = [json.dumps(good[0]), json.dumps({"arch": good[1], "id": 1}), "{not json",
             json.dumps(good[2]), json.dumps({"name": "x"}), "", json.dumps("|bogus~0|+|"),
             *[json.dumps(a) for a in good[3:]]]
    code, out, err = _run_cli(["-q", "prefilter", "--k", "4", "--proxies", "params"], "\n".join(lines) + "\n",
                              monkeypatch, capsys)
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == 4
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert all(set(r) == {"arch", "rank", "score", "params"} for r in rows)
    assert all(r["arch"] in good for r in rows)
    assert rows == sorted(rows, key=lambda r: -r["score"])
    # malformed lines are named by their line numbers; the blank line 6 is skipped silently
    assert "line 3:" in err and "line 5:" in err and "line 7:" in err and "line 6" not in err
    # the same candidates without the bad lines give the same answer
    code2, out2, _ = _run_cli(["-q", "prefilter", "--k", "4", "--proxies", "params"],
                              "\n".join(json.dumps(a) for a in good) + "\n", monkeypatch, capsys)
    assert code2 == 0 and out2 == out


def test_cli_prefilter_exit_codes(monkeypatch, capsys):
    code, out, err = _run_cli(["-q", "prefilter", "--k", "2", "--proxies", "params"], "oops\n[1]\n",
                              monkeypatch, capsys)
    assert code == 1 and out == "" and "line 1:" in err and "2 malformed line(s)" in err and "no valid candidate" in err
    assert err.count("\n") == 1  # one line when nothing is left to rank
    code, out, err = _run_cli(["-q", "prefilter", "--k", "0", "--proxies", "params"], json.dumps(_archs(1)[0]),
                              monkeypatch, capsys)
    assert code == 1 and "'k'" in err
    code, out, err = _run_cli(["-q", "prefilter", "--proxies", "nwotx"], json.dumps(_archs(1)[0]),
                              monkeypatch, capsys)
    assert code == 1 and "Unknown proxy" in err
    a = _archs(2, seed=8)
    code, out, err = _run_cli(["-q", "prefilter", "--k", "5", "--proxies", "params"],
                              "\n".join(json.dumps(x) for x in a), monkeypatch, capsys)
    assert code == 0 and len(out.splitlines()) == 2 and "only 2 distinct" in err


@pytest.mark.slow
def test_cli_prefilter_thousand_lines(monkeypatch, capsys):
    lines = [json.dumps(a) for a in _archs(1000, seed=9)]
    lines[499] = "{broken"
    code, out, err = _run_cli(["-q", "prefilter", "--k", "10", "--proxies", "params"], "\n".join(lines),
                              monkeypatch, capsys)
    assert code == 0 and len(out.splitlines()) == 10 and "line 500:" in err


def test_prefilter_store_is_reused_across_instances(tmp_path):
    """Scores saved to a store by one pre-filter serve the next (another process or run)."""
    store = str(tmp_path / "pf.h5")
    a = _archs(6, seed=4)
    first = Prefilter(proxies="synflow,params", store=store, batch_size=8)(a, 3)
    assert first.n_computed == 12
    again = Prefilter(proxies="synflow,params", store=store, batch_size=8)(a, 3)
    assert again.n_computed == 0
    assert again.archs == first.archs
    pd.testing.assert_frame_equal(again.table, first.table)
    # other settings are another run: nothing is taken from the first one
    other = Prefilter(proxies="synflow,params", store=store, batch_size=8, seed=1)(a, 3)
    assert other.n_computed == 12


def test_prefilter_process_backend_equals_local():
    a = _archs(6, seed=5)
    local = Prefilter(proxies="synflow,naswot", batch_size=8)(a, 6)
    procs = Prefilter(proxies="synflow,naswot", batch_size=8, backend="process", workers=2)(a, 6)
    assert procs.archs == local.archs
    pd.testing.assert_frame_equal(procs.table, local.table)


def test_cli_prefilter_store_option(monkeypatch, capsys, tmp_path):
    store = tmp_path / "cli.h5"
    lines = "\n".join(json.dumps(x) for x in _archs(5, seed=6))
    args = ["-q", "prefilter", "--k", "2", "--proxies", "params", "--store", str(store)]
    code, out1, _ = _run_cli(args, lines, monkeypatch, capsys)
    assert code == 0 and store.exists()
    code, out2, _ = _run_cli(args, lines, monkeypatch, capsys)
    assert code == 0 and out2 == out1


def test_prefilter_store_with_dedupe_counts_only_new_scores(tmp_path):
    store = str(tmp_path / "dd.h5")
    a = _archs(5, seed=7)
    first = Prefilter(proxies="synflow,params", store=store, batch_size=8, dedupe=True)(a, 2)
    assert first.n_computed == 10
    again = Prefilter(proxies="synflow,params", store=store, batch_size=8, dedupe=True)(a + _archs(1, seed=8), 2)
    assert again.n_computed == 2
