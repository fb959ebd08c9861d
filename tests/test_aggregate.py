"""Aggregates of several proxies: directions, hand examples, NaN policies, registry."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zcnas.aggregate import AGGREGATES, aggregate, list_aggregates, rank_percentiles
from zcnas.errors import InputError, UnknownNameError


@pytest.fixture
def scores():
    # a is best on p (higher better) and on q (lower better); c is worst on both
    return pd.DataFrame({"p": [3.0, 2.0, 1.0], "q": [10.0, 20.0, 30.0]}, index=["a", "b", "c"])


def test_mean_log_rank_hand_example(scores):
    out = aggregate(scores, ["p", "q"], {"p": True, "q": False}, "mean_log_rank")
    # ranks ascending in goodness: a = 3, b = 2, c = 1 on both proxies, n = 3
    assert out["a"] == pytest.approx(2 * math.log(3 / 3))
    assert out["b"] == pytest.approx(2 * math.log(2 / 3))
    assert out["c"] == pytest.approx(2 * math.log(1 / 3))
    assert out.name == "mean_log_rank"


def test_direction_respected(scores):
    good = aggregate(scores, ["p", "q"], {"p": 1, "q": -1}, "mean_rank")
    assert list(good.sort_values(ascending=False).index) == ["a", "b", "c"]
    # with q taken as higher-is-better the two proxies disagree completely: all tie
    tie = aggregate(scores, ["p", "q"], {"p": 1, "q": 1}, "mean_rank")
    assert np.allclose(tie.to_numpy(), tie.iloc[0])


def test_log_rank_punishes_one_bad_proxy():
    # ranks ascending in goodness (values = ranks): w is best on p but worst on q; y is middling
    df = pd.DataFrame({"p": [4.0, 5.0, 2.0, 3.0, 1.0], "q": [5.0, 1.0, 4.0, 2.0, 3.0]}, index=list("vwxyz"))
    d = {"p": True, "q": True}
    mean = aggregate(df, None, d, "mean_rank")
    logr = aggregate(df, None, d, "mean_log_rank")
    assert mean["w"] == pytest.approx(0.6) and mean["y"] == pytest.approx(0.5)
    assert mean["w"] > mean["y"]  # the arithmetic mean prefers w ...
    assert logr["w"] < logr["y"]  # ... log-rank prefers y: one bottom rank costs more
    assert logr["w"] == pytest.approx(math.log(1.0) + math.log(0.2))


def test_geo_mean_same_order_as_log_rank(scores):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(50, 3)), columns=list("abc"))
    d = dict.fromkeys("abc", True)
    a = aggregate(df, None, d, "mean_log_rank").rank()
    b = aggregate(df, None, d, "geo_mean_rank").rank()
    assert (a == b).all()


def test_nan_policies():
    df = pd.DataFrame({"p": [3.0, np.nan, 1.0], "q": [3.0, 2.0, 1.0]}, index=list("abc"))
    d = {"p": True, "q": True}
    worst = aggregate(df, None, d, "mean_rank", nan_policy="worst")
    # b's failed p counts as the bottom rank 1/3; its q rank is 2/3
    assert worst["b"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    omit = aggregate(df, None, d, "mean_rank", nan_policy="omit")
    assert omit["b"] == pytest.approx(2 / 3)
    allnan = pd.DataFrame({"p": [np.nan, 1.0]}, index=["x", "y"])
    assert math.isnan(aggregate(allnan, None, {"p": 1}, "mean_rank", nan_policy="omit")["x"])
    with pytest.raises(InputError, match="nan_policy"):
        rank_percentiles(np.ones((2, 1)), "drop")


def test_mean_zscore_and_min_rank(scores):
    z = aggregate(scores, None, {"p": True, "q": False}, "mean_zscore")
    assert z["a"] > z["b"] > z["c"] and z.sum() == pytest.approx(0)
    m = aggregate(scores, None, {"p": True, "q": True}, "min_rank")
    assert m.to_dict() == pytest.approx({"a": 1 / 3, "b": 2 / 3, "c": 1 / 3})


@pytest.mark.parametrize("name", list_aggregates())
def test_every_aggregate_contract(name):
    """Every registered aggregate: one value per arch, agrees with a single proxy's order."""
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"p": rng.normal(size=20)}, index=[f"a{i}" for i in range(20)])
    assert (AGGREGATES.get(name).__doc__ or "").strip(), "`zcnas list aggregates` shows the docstring"
    out = aggregate(df, ["p"], {"p": -1}, name)
    assert out.index.equals(df.index) and out.notna().all()
    assert out.rank().tolist() == (-df["p"]).rank().tolist()


def test_errors(scores):
    with pytest.raises(UnknownNameError, match="Did you mean"):
        aggregate(scores, None, {"p": 1, "q": 1}, "mean_rnak")
    with pytest.raises(InputError, match="No direction"):
        aggregate(scores, None, {"p": 1}, "mean_rank")
    with pytest.raises(InputError, match="No score column"):
        aggregate(scores, ["zz"], {"zz": 1}, "mean_rank")
    assert "az_nas" in AGGREGATES


# ---- a failure never becomes a number (issue 16.5) ------------------------------------------------
@pytest.mark.parametrize("policy", ["worst", "omit"])
@pytest.mark.parametrize("name", list_aggregates())
def test_all_failed_arch_gets_nan_and_ranks_last(name, policy):
    """An arch on which every proxy failed has no score (NaN), under every aggregate and policy."""
    df = pd.DataFrame({"p": [3.0, 2.0, np.nan, 1.0], "q": [30.0, 10.0, np.inf, 20.0]}, index=list("abxc"))
    out = aggregate(df, None, {"p": True, "q": False}, name, nan_policy=policy)
    assert math.isnan(out["x"])
    assert out.drop("x").notna().all()
    order = out.sort_values(ascending=False, na_position="last").index
    assert order[-1] == "x"


def test_partial_failures_follow_the_policy():
    """Documented: 'worst' puts a failed proxy at the bottom of that proxy; 'omit' averages the rest;
    mean_zscore under 'worst' gives the failure the proxy's worst observed score."""
    df = pd.DataFrame({"p": [4.0, 3.0, 2.0, 1.0], "q": [4.0, np.nan, 2.0, 1.0]}, index=list("abcd"))
    d = {"p": True, "q": True}
    worst = aggregate(df, None, d, "mean_rank", nan_policy="worst")
    assert worst["b"] == pytest.approx((3 / 4 + 1 / 4) / 2)  # q: b takes the bottom rank 1/4
    omit = aggregate(df, None, d, "mean_rank", nan_policy="omit")
    assert omit["b"] == pytest.approx(3 / 4)
    z = aggregate(df, None, d, "mean_zscore", nan_policy="worst")
    filled = df.fillna({"q": 1.0})  # the worst observed q
    expect = ((filled - filled.mean()) / filled.std(ddof=0)).mean(axis=1)
    assert z.to_numpy() == pytest.approx(expect.to_numpy())
    assert z["b"] < aggregate(df, None, d, "mean_zscore", nan_policy="omit")["b"]
