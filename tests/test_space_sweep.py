"""experiments/space_surrogate_sweep.py: the split is disjoint, nested and seeded; the sweep resumes.

No benchmark data: a synthetic target over TNB101 micro cells (an enumerable space)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.space_surrogate_sweep import (
    RAW_KEY,
    SweepData,
    config_features,
    run_sweep,
    split_indices,
)
from zcnas import get_space


def test_split_is_disjoint_nested_and_seeded():
    sizes = (10, 20, 50, 100)
    test, trains = split_indices(1000, 300, sizes, seed=3)
    assert len(test) == 300 and len(set(test)) == 300
    for n in sizes:
        assert len(trains[n]) == n and len(set(trains[n])) == n
        assert not set(trains[n]) & set(test)
    for a, b in zip(sizes, sizes[1:]):
        assert set(trains[a]) < set(trains[b])
    test2, trains2 = split_indices(1000, 300, sizes, seed=3)
    np.testing.assert_array_equal(test, test2)
    np.testing.assert_array_equal(trains[100], trains2[100])
    test3, _ = split_indices(1000, 300, sizes, seed=4)
    assert set(test3) != set(test)
    # the test set does not depend on the sizes asked for
    test4, _ = split_indices(1000, 300, (10,), seed=3)
    np.testing.assert_array_equal(test, test4)


def test_split_rejects_sizes_that_do_not_fit():
    with pytest.raises(ValueError, match="exceed"):
        split_indices(725, 225, (10, 501), seed=0)


def _data() -> SweepData:
    sp = get_space("tnb101_micro")
    archs = [sp.format(a) for a in sp.sample(120, 0)]
    x = sp.encode_many(archs, "onehot")
    rng = np.random.default_rng(0)
    target = x @ rng.normal(size=x.shape[1]) + 0.01 * rng.normal(size=len(archs))
    frame = pd.DataFrame({"arch": archs, "target": target, "zcnas_params": np.where(np.arange(120) < 100, 1.0, np.nan)})
    return SweepData("tnb101_micro", "class_scene", frame.sort_values("arch").reset_index(drop=True),
                     own=("zcnas_params",))


def test_sweep_writes_one_row_per_run_and_resumes(tmp_path):
    data, raw = _data(), tmp_path / "raw_tnb101_micro.csv"
    logs: list[str] = []
    added = run_sweep(data, ["onehot"], [10, 20], [0, 1], 50, raw, log=logs.append)
    assert added == 4
    df = pd.read_csv(raw)
    assert list(df.columns[: len(RAW_KEY)]) == list(RAW_KEY)
    assert sorted(zip(df["n_train"], df["seed"])) == [(10, 0), (10, 1), (20, 0), (20, 1)]
    assert df["spearman"].between(-1, 1).all() and (df["n_test"] == 50).all()
    assert df.loc[df["n_train"] == 20, "spearman"].mean() > 0.3  # the target is learnable
    # a rerun does nothing
    assert run_sweep(data, ["onehot"], [10, 20], [0, 1], 50, raw, log=logs.append) == 0
    # a lost row is recomputed, and only it; its value is reproduced (seeded split and model)
    lost = df.iloc[-1]
    df.iloc[:-1].to_csv(raw, index=False)
    assert run_sweep(data, ["onehot"], [10, 20], [0, 1], 50, raw, log=logs.append) == 1
    again = pd.read_csv(raw).iloc[-1]
    assert (again["n_train"], again["seed"]) == (lost["n_train"], lost["seed"])
    assert again["spearman"] == pytest.approx(lost["spearman"], abs=1e-12)
    # another test size is another run
    assert run_sweep(data, ["onehot"], [10], [0], 40, raw, log=logs.append) == 1


def test_own_proxy_configs_need_full_coverage():
    data = _data()
    reason = config_features("graf_own", data)
    assert isinstance(reason, str) and "miss 20 of 120" in reason
    assert isinstance(config_features("graf_pub", data), str)  # no published proxies given
    spec, tune = config_features("onehot_graf_cv", data)
    assert tune == "cv" and spec.graph and spec.encodings == ("onehot",)
