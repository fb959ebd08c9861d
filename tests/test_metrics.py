"""Ranking metrics: agreement with scipy, ties, hand examples, bootstrap, class votes."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from zcnas import metrics as M
from zcnas.errors import InputError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=800)
    y = 0.6 * x + rng.normal(size=800)
    return x, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correlations_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=500)
    y = x * rng.uniform(0, 2) + rng.normal(size=500)
    assert M.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-9)
    assert M.kendall(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-9)
    assert M.pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-9)


def test_ties_equal_scipy_tau_b():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, size=300).astype(float)  # heavy ties in both
    y = (x + rng.integers(0, 3, size=300)).astype(float)
    assert M.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-9)
    tau_b = stats.kendalltau(x, y, variant="b").statistic
    assert M.kendall(x, y) == pytest.approx(tau_b, abs=1e-9)
    assert M.kendall(x, y) != pytest.approx(stats.kendalltau(x, y, variant="c").statistic, abs=1e-6)


def test_nan_pairs_are_dropped():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, np.inf])
    y = np.array([1.0, 3.0, 2.0, np.nan, 4.0, 9.0])
    keep = [0, 1, 4]
    assert M.spearman(x, y) == pytest.approx(stats.spearmanr(x[keep], y[keep]).statistic)
    res = M.evaluate(pd.DataFrame({"p": x}, index=list("abcdef")), pd.Series(y, index=list("abcdef")),
                     {"p": True}, metrics=("spearman",), bootstrap=0)
    assert res["n"].tolist() == [3]


def test_constant_score_is_nan():
    assert math.isnan(M.spearman(np.ones(10), np.arange(10.0)))
    assert math.isnan(M.kendall(np.ones(10), np.arange(10.0)))


def test_topk_precision_hand_example():
    truth = np.arange(10.0)  # best archs: 9, 8
    score = np.array([0, 1, 2, 3, 4, 5, 6, 7, 20, 10.0])  # proxy's top 2: 8, 9 -> both right
    assert M.topk_precision(score, truth, 20) == 1.0
    score = np.array([0, 1, 2, 3, 4, 5, 6, 30, 20, 1.0])  # top 2 by proxy: 7, 8 -> one of {8, 9}
    assert M.topk_precision(score, truth, 20) == 0.5
    # top 30% = 3 archs {7, 8, 9} by truth; proxy's top 3 {7, 8, 6}: two of three
    score = np.array([0, 1, 2, 3, 4, 5, 10, 30, 20, 1.0])
    assert M.topk_precision(score, truth, 30) == pytest.approx(2 / 3)


def test_topk_precision_ties_are_expected_value():
    truth = np.array([0.0, 1.0, 2.0, 3.0])
    score = np.array([0.0, 0.0, 5.0, 5.0])  # top 1 is arch 2 or 3 with equal chance; truth top 1 = 3
    assert M.topk_precision(score, truth, 25) == pytest.approx(0.5)
    # independent of input order
    assert M.topk_precision(score[::-1], truth[::-1], 25) == pytest.approx(0.5)


def test_topk_size():
    assert M.topk_size(9445, 1) == 95
    assert M.topk_size(100, 5) == 5
    assert M.topk_size(10, 0.1) == 1
    with pytest.raises(InputError):
        M.topk_size(10, 0)


def test_ndcg_hand_example():
    truth = np.array([3.0, 2.0, 1.0, 0.0])
    score = np.array([0.0, 3.0, 2.0, 1.0])  # order: arch 1, 2, 3, 0
    # value gains: DCG@2 = 2/log2(2) + 1/log2(3); ideal = 3 + 2/log2(3)
    expect = (2 + 1 / math.log2(3)) / (3 + 2 / math.log2(3))
    assert M.ndcg(score, truth, 50, gain="value") == pytest.approx(expect, abs=1e-12)
    # rank gains (rank-1)/(n-1): 1, 2/3, 1/3, 0
    expect_r = (2 / 3 + (1 / 3) / math.log2(3)) / (1 + (2 / 3) / math.log2(3))
    assert M.ndcg(score, truth, 50) == pytest.approx(expect_r, abs=1e-12)
    assert M.ndcg(truth, truth, 50) == pytest.approx(1.0)
    # tied scores share the mean gain of the group: both orders of the tie averaged
    tied = np.array([1.0, 1.0, 0.0, 0.0])
    assert M.ndcg(tied, truth, 25, gain="value") == pytest.approx((3 + 2) / 2 / 3)


def test_bootstrap_matches_explicit_resamples(data):
    x, y = data
    names = ["spearman", "pearson", "kendall", "precision@5%", "ndcg@10%"]
    boot = M.bootstrap_samples(names[:-1], x, y, n_resamples=5, seed=11)
    idx, _ = next(M._resample_chunks(x.size, 5, 11))
    yv = y - y.min()  # gain='value' needs y >= 0; shift both sides identically
    boot_v = M.bootstrap_samples(["ndcg@10%"], x, yv, n_resamples=5, seed=11, gain="value")
    for b, i in enumerate(idx):
        assert boot["spearman"][b] == pytest.approx(stats.spearmanr(x[i], y[i]).statistic, abs=1e-9)
        assert boot["pearson"][b] == pytest.approx(stats.pearsonr(x[i], y[i]).statistic, abs=1e-9)
        assert boot["kendall"][b] == pytest.approx(stats.kendalltau(x[i], y[i]).statistic, abs=1e-9)
        assert boot["precision@5%"][b] == pytest.approx(M.topk_precision(x[i], y[i], 5), abs=1e-12)
        assert boot_v["ndcg@10%"][b] == pytest.approx(M.ndcg(x[i], yv[i], 10, gain="value"), abs=1e-12)


def test_bootstrap_ci_contains_estimate_and_is_seeded(data):
    x, y = data
    lo, hi = M.bootstrap_ci("spearman", x, y, n_resamples=300, seed=0)
    assert lo < M.spearman(x, y) < hi
    assert (lo, hi) == M.bootstrap_ci("spearman", x, y, n_resamples=300, seed=0)
    assert (lo, hi) != M.bootstrap_ci("spearman", x, y, n_resamples=300, seed=1)
    assert hi - lo < 0.2


def test_bootstrap_is_quick_on_full_space():
    import time

    rng = np.random.default_rng(0)
    x = rng.normal(size=15625)
    y = x + rng.normal(size=15625)
    t = time.perf_counter()
    M.bootstrap_samples(["spearman"], x, y, n_resamples=1000)
    assert time.perf_counter() - t < 20  # ~2 s on a shared 2-core machine


def test_direction_flips_sign(data):
    x, y = data
    scores = pd.DataFrame({"up": x, "down": -x})
    res = M.evaluate(scores, pd.Series(y), {"up": True, "down": -1}, metrics=("spearman",), bootstrap=0)
    assert res["value"].iloc[0] == pytest.approx(res["value"].iloc[1])
    assert res["value"].iloc[0] > 0.3


def test_direction_sign_values():
    assert [M.direction_sign(v) for v in (True, False, 1, -1, "+", "-", "+1", "-1")] == [1, -1] * 4
    with pytest.raises(InputError):
        M.direction_sign(0)


def test_evaluate_tidy_columns_and_errors(data):
    x, y = data
    idx = [f"a{i}" for i in range(x.size)]
    res = M.evaluate(pd.DataFrame({"p": x}, index=idx), pd.DataFrame({"t1": y, "t2": -y}, index=idx),
                     {"p": 1}, topk=(1, 5), bootstrap=50)
    assert list(res.columns) == list(M.RESULT_COLUMNS)
    assert set(res["metric"]) == {"spearman", "kendall", "precision@1%", "precision@5%", "ndcg@1%", "ndcg@5%"}
    assert set(res["truth"]) == {"t1", "t2"}
    assert (res["ci_low"] <= res["ci_high"]).all()
    with pytest.raises(InputError, match="share 0"):
        M.evaluate(pd.DataFrame({"p": x}, index=idx), pd.Series(y), {"p": 1}, bootstrap=0)
    with pytest.raises(InputError, match="No direction"):
        M.evaluate(pd.DataFrame({"p": x}, index=idx), pd.Series(y, index=idx), {}, bootstrap=0)
    with pytest.raises(InputError, match="Unknown metric"):
        M.evaluate(pd.DataFrame({"p": x}, index=idx), pd.Series(y, index=idx), {"p": 1},
                   metrics=("spearmen",))


def test_class_vote_one_vote_per_class():
    archs = ["a1", "a2", "b1", "c1", "c2", "c3"]
    cls = {"a1": "A", "a2": "A", "b1": "B", "c1": "C", "c2": "C", "c3": "C"}
    scores = pd.DataFrame({"p": [1.0, 3.0, 2.0, 9.0, 7.0, 8.0]}, index=archs)
    truth = pd.Series([10.0, 20.0, 5.0, 30.0, 40.0, 50.0], index=archs, name="acc")
    s, t = M.class_vote(scores, truth.to_frame(), cls)
    assert s["p"].to_dict() == {"A": 1.0, "B": 2.0, "C": 9.0}
    assert t["acc"].to_dict() == {"A": 15.0, "B": 5.0, "C": 40.0}
    s, _ = M.class_vote(scores, truth.to_frame(), cls, score_agg="mean")
    assert s["p"].to_dict() == {"A": 2.0, "B": 2.0, "C": 8.0}
    res = M.evaluate(scores, truth, {"p": True}, metrics=("spearman",), bootstrap=0, by_class=cls)
    assert res["n"].iloc[0] == 3
    assert res["value"].iloc[0] == pytest.approx(stats.spearmanr([1, 2, 9], [15, 5, 40]).statistic)


def test_class_vote_nb201_isomorphs():
    from zcnas import get_space

    sp = get_space("nb201")
    a = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    b = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"  # same function as a
    c = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    assert sp.canonical(a) == sp.canonical(b) != sp.canonical(c)
    scores = pd.DataFrame({"p": [1.0, 2.0, 3.0]}, index=[a, b, c])
    s, t = M.class_vote(scores, pd.DataFrame({"acc": [1.0, 1.0, 2.0]}, index=[a, b, c]), "nb201")
    assert len(s) == 2


def test_metrics_module_does_not_import_torch():
    assert "torch" not in sys.modules or M.__dict__.get("torch") is None
    import subprocess

    code = "import sys, zcnas.metrics, zcnas.aggregate, zcnas.report; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
