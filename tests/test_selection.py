"""Tests of zcnas.selection: class-respecting splits and greedy proxy selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zcnas.errors import InputError
from zcnas.selection import greedy_select, rank_correlation, split_by_class
from zcnas.spaces import get_space

SPACE = get_space("nb201")


@pytest.fixture(scope="module")
def archs() -> list[str]:
    return [SPACE.format(a) for a in SPACE.sample(3000, seed=4)]


@pytest.mark.parametrize("method", ["hash", "permutation"])
def test_split_keeps_every_function_class_on_one_side(archs, method):
    fit, test = split_by_class(archs, "nb201", seed=1, method=method)
    assert (fit ^ test).all()
    fit_classes = {SPACE.canonical(a) for a, f in zip(archs, fit) if f}
    test_classes = {SPACE.canonical(a) for a, t in zip(archs, test) if t}
    assert not fit_classes & test_classes
    assert 0.4 < fit.mean() < 0.6


def test_hash_split_does_not_depend_on_the_other_archs(archs):
    fit_all, _ = split_by_class(archs, "nb201", seed=2)
    fit_sub, _ = split_by_class(archs[::3], "nb201", seed=2)
    assert (fit_all[::3] == fit_sub).all()
    assert not (split_by_class(archs, "nb201", seed=3)[0] == fit_all).all()


def test_split_rejects_bad_values(archs):
    with pytest.raises(InputError, match="frac"):
        split_by_class(archs, "nb201", frac=1.0)
    with pytest.raises(InputError, match="method"):
        split_by_class(archs, "nb201", method="random")


def test_greedy_select_finds_the_informative_proxies():
    rng = np.random.default_rng(0)
    y = pd.Series(rng.normal(size=400))
    wide = pd.DataFrame({"good": y + rng.normal(0, 0.3, 400), "also": -(y + rng.normal(0, 0.6, 400)),
                         "noise1": rng.normal(size=400), "noise2": rng.normal(size=400)})
    dirs = {"good": True, "also": False, "noise1": True, "noise2": True}
    chosen = greedy_select(wide, y, list(wide.columns), dirs)
    assert "good" in chosen and "noise1" not in chosen and "noise2" not in chosen
    with pytest.raises(InputError, match="no score column or no direction"):
        greedy_select(wide, y, ["good", "missing"], dirs)


def test_rank_correlation_ignores_missing_pairs():
    x = pd.Series([1.0, 2.0, np.nan, 4.0, 5.0])
    y = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan])
    rho, n = rank_correlation(x, y)
    assert n == 3 and rho == pytest.approx(1.0)
    assert np.isnan(rank_correlation(x.iloc[:2], y.iloc[:2])[0])
