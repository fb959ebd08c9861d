"""zcnas.suite: the pairs, the per-pair evaluation, size biases and the resumable suite."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import zcnas.suite as suite
from zcnas.cli import main
from zcnas.errors import InputError
from zcnas.suite import (
    PairData,
    SuitePair,
    best_per_pair,
    evaluate_pair,
    partial_spearman,
    run_suite,
    size_biases,
    suite_pairs,
)


def synthetic_pair(n: int = 300, seed: int = 0, task: str = "cifar10") -> PairData:
    """params drives accuracy; 'info' adds what params does not; 'te_ntk' is lower-is-better."""
    rng = np.random.default_rng(seed)
    archs = [f"a{i:04d}" for i in range(n)]
    params = rng.normal(size=n)
    info = rng.normal(size=n)
    truth = pd.Series(params + info + 0.1 * rng.normal(size=n), index=archs, name="acc")
    scores = pd.DataFrame({"own:params": params, "own:info": info, "own:te_ntk": -(params + info),
                           "published:params": params + 0.01 * rng.normal(size=n),
                           "published:noise": rng.normal(size=n)}, index=pd.Index(archs, name="arch"))
    meta = pd.DataFrame({"column": scores.columns, "proxy": [c.split(":")[1] for c in scores.columns],
                         "origin": [c.split(":")[0] for c in scores.columns], "source": "test"})
    meta["n"] = n
    meta["higher_is_better"] = [c != "own:te_ntk" for c in scores.columns]
    pair = SuitePair("nb201", task, "none", "acc", published=())
    return PairData(pair, truth, scores, meta)


def test_nineteen_pairs_with_marked_surrogate_truth():
    pairs = suite_pairs()
    assert len(pairs) == 19
    assert {p.key for p in pairs} >= {"nb201/cifar10", "nb201/cifar100", "nb201/ImageNet16-120", "nb101/cifar10",
                                      "darts/cifar10", "tnb101_micro/jigsaw", "tnb101_macro/autoencoder"}
    kinds = {p.key: p.truth_kind for p in pairs}
    assert kinds["darts/cifar10"] == "surrogate"
    assert all(k == "benchmark" for key, k in kinds.items() if key != "darts/cifar10")
    assert len(suite_pairs("tnb101_macro/*")) == 7
    with pytest.raises(InputError, match="No suite pair matches"):
        suite_pairs("nb999")


def test_evaluate_pair_orients_columns_and_adds_aggregates():
    data = synthetic_pair()
    res = evaluate_pair(data, bootstrap=20, aggregates=["mean_rank"])
    sp = res[res["metric"] == "spearman"].set_index("column")
    # te_ntk is lower-is-better: oriented, it ranks as well as the sum it negates
    assert sp.loc["own:te_ntk", "value"] > 0.9
    assert sp.loc["published:noise", "value"] < 0.2
    assert {"own:agg:mean_rank", "published:agg:mean_rank"} <= set(sp.index)
    assert sp.loc["own:agg:mean_rank", "origin"] == "own" and sp.loc["own:agg:mean_rank", "kind"] == "aggregate"
    assert (sp["ci_low"] <= sp["value"]).all() and (sp["value"] <= sp["ci_high"]).all()
    assert set(res["metric"]) == {"spearman", "kendall", "precision@1%", "precision@5%", "precision@10%"}
    assert (res["n"] == 300).all()
    expected = stats.spearmanr(data.scores["own:info"], data.truth).statistic
    assert sp.loc["own:info", "value"] == pytest.approx(expected)


def test_best_per_pair_ignores_columns_scored_on_a_small_subset():
    data = synthetic_pair()
    # 'lucky' is scored on 20 of 300 architectures where it happens to equal the truth
    lucky = pd.Series(np.nan, index=data.scores.index)
    lucky.iloc[:20] = data.truth.iloc[:20].to_numpy()
    data.scores["own:lucky"] = lucky
    data.columns = pd.concat([data.columns, pd.DataFrame([{"column": "own:lucky", "proxy": "lucky", "origin": "own",
                                                     "source": "test", "n": 20, "higher_is_better": True}])],
                          ignore_index=True)
    res = evaluate_pair(data, bootstrap=20, aggregates=[])
    sp = res[res["metric"] == "spearman"].set_index("column")
    assert sp.loc["own:lucky", "value"] == pytest.approx(1.0) and sp.loc["own:lucky", "n"] == 20
    best = best_per_pair(res).iloc[0]
    assert best["best_own"] == "own:te_ntk" and best["own_n"] == 300
    assert best_per_pair(res, min_coverage=0.0).iloc[0]["best_own"] == "own:lucky"
    with pytest.raises(ValueError, match="min_coverage"):
        best_per_pair(res, min_coverage=2.0)


def test_aggregate_leaves_out_a_proxy_scored_on_a_short_prefix():
    """An expensive proxy scored on 30 of 300 architectures (next to a cheap set on all of them) must
    not shrink the aggregate to those 30: it is left out of the aggregate (still evaluated alone)."""
    data = synthetic_pair()
    short = pd.Series(np.nan, index=data.scores.index)
    short.iloc[:30] = data.truth.iloc[:30].to_numpy()
    data.scores["own:zen"] = short
    data.columns = pd.concat([data.columns, pd.DataFrame([{"column": "own:zen", "proxy": "zen", "origin": "own",
                                                     "source": "test", "n": 30, "higher_is_better": True}])],
                          ignore_index=True)
    res = evaluate_pair(data, bootstrap=0, aggregates=["mean_rank"])
    sp = res[res["metric"] == "spearman"].set_index("column")
    agg = sp.loc["own:agg:mean_rank"]
    assert agg["n"] == 300 and "zen" not in agg["source"] and "te_ntk" in agg["source"]
    assert sp.loc["own:zen", "n"] == 30


def test_partial_spearman_removes_what_size_explains():
    rng = np.random.default_rng(1)
    size = rng.normal(size=2000)
    acc = size + rng.normal(size=2000)
    r_size_only, n = partial_spearman(size + 0.01 * rng.normal(size=2000), acc, size)
    assert n == 2000 and abs(r_size_only) < 0.1
    r_info, _ = partial_spearman(acc - size, acc, size)
    assert r_info > 0.5


def test_size_biases_flag_information_beyond_size():
    b = size_biases(synthetic_pair()).set_index("column")
    assert b.loc["own:info", "beyond_size"]
    assert not b.loc["published:noise", "beyond_size"]
    assert b.loc["own:params", "spearman_params"] == pytest.approx(1.0)
    assert b.loc["own:info", "size_source_params"] == "own:params"


def test_run_suite_caches_pairs_and_recomputes_changed_ones(tmp_path, monkeypatch):
    pairs = [SuitePair("nb201", "cifar10", "x", "acc"), SuitePair("nb201", "cifar100", "x", "acc")]
    calls = []

    def fake_load(pair, **kw):
        calls.append(pair.key)
        return synthetic_pair(task=pair.task)

    monkeypatch.setattr(suite, "load_pair", fake_load)
    r1 = run_suite(tmp_path / "out", pairs=pairs, bootstrap=10, report=True)
    assert sorted(r1.computed) == ["nb201/cifar10", "nb201/cifar100"] and not r1.cached
    table = pd.read_csv(r1.files["suite"])
    assert set(table.columns) >= {"space", "task", "column", "origin", "source", "metric", "value", "ci_low", "n"}
    assert (r1.files["suite"].parent / "report.html").exists()
    r2 = run_suite(tmp_path / "out", pairs=pairs, bootstrap=10, report=False)
    assert r2.cached == ["nb201/cifar10", "nb201/cifar100"] and not r2.computed
    assert len(calls) == 2
    pd.testing.assert_frame_equal(pd.read_csv(r2.files["suite"]), table)
    r3 = run_suite(tmp_path / "out", pairs=pairs, bootstrap=11, report=False)  # other parameters: recomputed
    assert len(r3.computed) == 2


def test_run_suite_out_must_be_a_folder(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        run_suite(f, pairs=[])


def test_cli_suite_list_and_missing_out(capsys):
    assert main(["suite", "--list", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 20 and "darts/cifar10" in out and "surrogate" in out
    assert main(["suite"]) == 1
    assert "--out" in capsys.readouterr().err


@pytest.mark.benchdata
def test_load_pair_tnb101_macro_real(bench_root, tmp_path):
    data = suite.load_pair("tnb101_macro", "autoencoder", data_root=bench_root, scores_dir=tmp_path)
    assert len(data.truth) == 3256
    assert data.origin("published") == ["published:zen"]
    assert data.origin("own") == []  # no store in tmp_path
    res = evaluate_pair(data, bootstrap=0)
    v = res[(res["column"] == "published:zen") & (res["metric"] == "spearman")]["value"].item()
    s = data.scores["published:zen"].reindex(data.truth.index)
    ok = s.notna()
    assert v == pytest.approx(stats.spearmanr(s[ok], data.truth[ok]).statistic)
