"""Tests of the XGBoost surrogate: features, estimator contract, uncertainty, persistence, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from zcnas.cli import main
from zcnas.cli.output import read_json_lines
from zcnas.errors import DataError, InputError, UnknownNameError
from zcnas.spaces import get_space
from zcnas.surrogate import FeatureSpec, XGBSurrogate

SPACE = get_space("nb201")
FAST = dict(space="nb201", n_estimators=30, learning_rate=0.2, max_depth=3, n_jobs=1)


def _graf(arch: str) -> dict[str, float]:
    return dict(zip(SPACE.graph_feature_names(), SPACE.graph_features(arch)))


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    """120 random NB201 cells with a target that depends on the cell and two synthetic proxies."""
    rng = np.random.default_rng(0)
    idx = rng.choice(len(SPACE), size=120, replace=False)
    archs = [SPACE.format(SPACE.at(int(i))) for i in idx]
    g = np.array([SPACE.graph_features(a) for a in archs])
    names = SPACE.graph_feature_names()
    conv = g[:, names.index("eff_count_c3")] * 2 + g[:, names.index("eff_count_c1")]
    acc = 60 + 5 * conv + 10 * g[:, names.index("reachable")] + rng.normal(0, 1, len(archs))
    jacov = acc + rng.normal(0, 3, len(archs))
    jacov[:7] = -1e8  # published "missing" sentinel
    nwot = rng.normal(0, 1, len(archs))
    nwot[7:12] = np.nan
    return pd.DataFrame({"arch": archs, "jacov": jacov, "nwot": nwot, "val_acc": acc})


# ---- features -------------------------------------------------------------------------------------
def test_graph_features_all_none_cell_has_no_paths():
    f = _graf("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert f["reachable"] == 0 and f["depth"] == 0 and f["n_live_paths"] == 0
    assert f["count_none"] == 6
    assert all(v == 0 for k, v in f.items() if k.startswith(("paths[", "maxlen[", "maxon[")))
    assert all(v == 4 for k, v in f.items() if k.startswith("minlen["))  # no path: longer than any
    assert all(v == 0 for k, v in f.items() if k.startswith(("indeg_", "outdeg_")))


def test_graph_features_single_conv_on_input_output_edge():
    f = _graf("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    assert f["paths[c3]"] == 1 and f["minlen[c3]"] == 1 and f["maxlen[c3]"] == 1
    assert f["paths[skip+c1+c3+pool]"] == 1
    assert f["paths[c1]"] == 0 and f["paths[skip+c1+pool]"] == 0
    assert f["reachable"] == 1 and f["depth"] == 1 and f["conv_depth"] == 1
    assert f["indeg_3"] == 1 and f["outdeg_0"] == 1 and f["indeg_1"] == 0
    assert f["out_indeg[c3]"] == 1 and f["in_outdeg[c3]"] == 1 and f["out_indeg[skip+c1]"] == 0
    assert f["maxon[c3]"] == 1 and f["maxon[skip+pool]"] == 0 and f["minlen[c1]"] == 4
    assert f["count_c3"] == 1 and f["eff_count_c3"] == 1


def test_graph_features_chain_and_dead_edges():
    # 0->1 conv3, 1->2 conv1, 2->3 skip: one path of length 3; edge 0->2 pool feeds node 2 too
    f = _graf("|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|")
    assert f["n_live_paths"] == 2 and f["depth"] == 3 and f["conv_depth"] == 2
    assert f["paths[skip+c1+c3]"] == 1 and f["minlen[skip+c1+c3]"] == 3
    assert f["paths[skip+pool]"] == 1 and f["maxlen[skip+pool]"] == 2
    assert f["maxon[c1+c3]"] == 2 and f["maxon[skip+c1+c3+pool]"] == 3 and f["maxon[pool]"] == 1
    # a conv whose output is cut off (node 1 only feeds 'none' edges) is counted but not effective
    g = _graf("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert g["count_c3"] == 1 and g["eff_count_c3"] == 0 and g["depth"] == 1


def test_feature_spec_shapes_and_round_trip(records):
    archs = records["arch"].tolist()[:5]
    assert FeatureSpec("nb201", encodings=("onehot",), graph=False).transform(archs).shape == (5, 30)
    assert FeatureSpec("nb201", encodings=("adjacency", "path"), graph=False).transform(archs).shape == (5, 58 + 84)
    spec = FeatureSpec("nb201", encodings=("onehot",), graph=True, proxies=("jacov", "nwot"))
    X = spec.transform(archs, records.iloc[:5])
    assert X.shape == (5, 30 + len(SPACE.graph_feature_names()) + 2) == (5, spec.n_features)
    assert FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert FeatureSpec.parse("onehot,graf,proxies:jacov,nwot", "nb201") == spec
    assert spec.describe() == "onehot,graf,proxies:jacov,nwot"


def test_feature_spec_rejects_bad_values():
    with pytest.raises(UnknownNameError, match="Did you mean 'onehot'"):
        FeatureSpec("nb201", encodings=("onehto",))
    with pytest.raises(InputError, match="proxy_transform"):
        FeatureSpec("nb201", proxy_transform="rank")
    with pytest.raises(InputError, match="at least one"):
        FeatureSpec("nb201", encodings=(), graph=False)


def test_missing_proxies_become_nan_and_aliases_match(records):
    spec = FeatureSpec("nb201", encodings=(), graph=False, proxies=("jacob_cov", "naswot"), proxy_transform="log")
    X = spec.transform(records["arch"], records)  # columns are called jacov / nwot
    assert np.isnan(X[:7, 0]).all() and np.isfinite(X[7:, 0]).all()
    assert np.isnan(X[7:12, 1]).all()
    with pytest.raises(DataError, match=r"model expects proxy columns \['jacob_cov', 'naswot'\] but the data"):
        spec.transform(records["arch"], records[["arch", "val_acc"]])


def test_proxy_values_beyond_float32_get_a_clear_error_and_log_fixes_them(records):
    """synflow in float64 reaches 1e40 on large NB201 nets; XGBoost's float32 would see inf. By default
    the model takes the signed log itself (decided on the training data and kept); with
    proxy_transform=None it refuses with a message naming the fix."""
    huge = records.assign(synflow=np.geomspace(1.0, 1e45, len(records)))
    raw = FeatureSpec("nb201", encodings=(), graph=False, proxies=("synflow",), proxy_transform=None)
    with pytest.raises(InputError, match=r"\['synflow'\] hold values beyond float32.*proxy_transform='log'"):
        XGBSurrogate(features=raw, n_estimators=5).fit(huge, huge["val_acc"])
    auto = XGBSurrogate(features=FeatureSpec("nb201", encodings=(), graph=False, proxies=("synflow",)),
                        n_estimators=5).fit(huge, huge["val_acc"])
    assert auto.spec_.proxy_transform == "log" and np.isfinite(auto.predict(huge)).all()
    small = XGBSurrogate(features=FeatureSpec("nb201", encodings=(), graph=False, proxies=("jacov",)),
                         n_estimators=5).fit(records.iloc[10:], records["val_acc"].iloc[10:])
    assert small.spec_.proxy_transform is None  # ordinary magnitudes: kept as they are
    logged = FeatureSpec("nb201", encodings=(), graph=False, proxies=("synflow",), proxy_transform="log")
    X = logged.transform(huge["arch"], huge)
    assert np.isfinite(X).all() and (np.diff(X[:, 0]) > 0).all()  # order kept


# ---- estimator contract ---------------------------------------------------------------------------
def test_estimator_contract(records):
    m = XGBSurrogate(features="onehot,graf", **FAST)
    params = m.get_params()
    assert params["features"] == "onehot,graf" and params["n_estimators"] == 30
    c = clone(m)
    assert c is not m and c.get_params() == params
    assert m.set_params(max_depth=2) is m and m.max_depth == 2
    with pytest.raises(TypeError):
        XGBSurrogate("onehot")  # keyword-only
    with pytest.raises(NotFittedError, match="fit"):
        m.predict(records["arch"])
    assert not any(k.endswith("_") for k in vars(m))
    assert m.fit(records["arch"].tolist(), records["val_acc"]) is m
    assert hasattr(m, "boosters_") and m.target_ == "val_acc"
    assert m.predict(records["arch"]).shape == (len(records),)


def test_invalid_parameter_named_in_error(records):
    with pytest.raises(InputError, match="The 'tune' parameter of XGBSurrogate must be one of"):
        XGBSurrogate(tune="grid").fit(records["arch"], records["val_acc"])
    with pytest.raises(InputError, match="n_members >= 2"):
        XGBSurrogate(uncertainty="ensemble").fit(records["arch"], records["val_acc"])


def test_cross_val_score_and_grid_search(records):
    X, y = records[["arch", "jacov", "nwot"]], records["val_acc"].to_numpy()
    m = XGBSurrogate(features="onehot,graf,proxies:jacov,nwot", **FAST)
    scores = cross_val_score(m, X, y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and np.all(scores > 0.5)  # the score is Spearman
    gs = GridSearchCV(XGBSurrogate(features="onehot,graf", **FAST), {"max_depth": [1, 3]}, cv=3)
    gs.fit(records["arch"].tolist(), y)
    assert gs.best_params_["max_depth"] in (1, 3) and gs.best_estimator_.predict(records["arch"]).shape == (120,)


def test_graph_features_learn_better_than_chance_on_held_out(records):
    tr, te = records.iloc[:80], records.iloc[80:]
    m = XGBSurrogate(features="graf", **FAST).fit(tr[["arch"]], tr["val_acc"])
    assert m.score(te[["arch"]], te["val_acc"]) > 0.6


def test_tuning_uses_training_set_only(records, monkeypatch):
    seen: list[int] = []
    orig = XGBSurrogate._train

    def spy(self, X, z, hyper, seed, quantile=False):
        seen.append(len(z))
        return orig(self, X, z, hyper, seed, quantile)

    monkeypatch.setattr(XGBSurrogate, "_train", spy)
    tr = records.iloc[:60]
    m = XGBSurrogate(features="onehot,graf", tune="cv", tune_iter=3, tune_cv=3, **FAST)
    m.fit(tr["arch"], tr["val_acc"])
    assert max(seen) == 60 and seen.count(40) == 9  # 3 candidates x 3 folds of 40, then the refit
    assert set(m.best_params_) == {"max_depth", "learning_rate", "n_estimators", "min_child_weight",
                                   "subsample", "colsample_bytree"}
    assert -1 <= m.tune_score_ <= 1


@pytest.mark.parametrize("objective", ["rank:pairwise", "rank:ndcg"])
def test_ranking_objectives(records, objective):
    m = XGBSurrogate(features="graf", objective=objective, **FAST).fit(records["arch"], records["val_acc"])
    assert m.score(records["arch"], records["val_acc"]) > 0.6


@pytest.mark.parametrize("kind,extra", [("ensemble", {"n_members": 3}), ("quantile", {})])
def test_uncertainty_shape_and_non_negative(records, kind, extra):
    m = XGBSurrogate(features="onehot,graf", uncertainty=kind, **extra, **FAST)
    m.fit(records["arch"], records["val_acc"])
    mean, std = m.predict(records["arch"][:10], return_std=True)
    assert mean.shape == std.shape == (10,)
    assert np.all(std >= 0) and np.any(std > 0)
    with pytest.raises(InputError, match="uncertainty"):
        XGBSurrogate(features="graf", **FAST).fit(records["arch"], records["val_acc"]).predict(
            records["arch"], return_std=True)


# ---- persistence ----------------------------------------------------------------------------------
@pytest.fixture()
def saved(records, tmp_path):
    m = XGBSurrogate(features="onehot,graf,proxies:jacov,nwot", target="val_acc", n_members=2,
                     uncertainty="ensemble", **FAST).fit(records.drop(columns="val_acc"), records["val_acc"])
    path = m.save(tmp_path / "model.json")
    return m, path


def test_save_load_round_trip_identical_predictions(records, saved):
    m, path = saved
    loaded = XGBSurrogate.load(path, target="val_acc", space="nasbench201", columns=records.columns)
    X = records.drop(columns="val_acc")
    np.testing.assert_array_equal(loaded.predict(X), m.predict(X))
    np.testing.assert_array_equal(loaded.predict(X, return_std=True)[1], m.predict(X, return_std=True)[1])
    assert loaded.get_params() == {**m.get_params(), "features": m.spec_}
    doc = json.loads(path.read_text())
    assert doc["target"] == "val_acc" and doc["space"] == "nb201"
    assert set(doc["versions"]) == {"zcnas", "xgboost"}


def test_load_refuses_mismatch_with_one_line_reason(records, saved):
    _, path = saved
    cases = [
        (dict(target="test_acc"), "model predicts target 'val_acc' but 'test_acc' was asked for"),
        (dict(features="onehot,proxies:jacov"), "model uses features 'onehot,graf,proxies:jacov,nwot'"),
        (dict(columns=["arch", "synflow"]), r"model expects proxy columns \['jacov', 'nwot'\] but the data has"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(DataError, match=msg) as exc:
            XGBSurrogate.load(path, **kwargs)
        assert "\n" not in str(exc.value)
    with pytest.raises(UnknownNameError):
        XGBSurrogate.load(path, space="nb999")
    m = XGBSurrogate.load(path)
    with pytest.raises(DataError, match="model expects proxy columns"):
        m.predict(records[["arch", "jacov"]])
    bad = path.with_name("bad.json")
    bad.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(DataError, match="not a zcnas surrogate model"):
        XGBSurrogate.load(bad)


def test_load_refuses_other_space(saved, monkeypatch):
    _, path = saved
    doc = json.loads(path.read_text())
    from zcnas.spaces import SPACES

    monkeypatch.setattr(SPACES, "resolve", lambda name: "nb101" if name == "nb101" else "nb201")
    with pytest.raises(DataError, match="model is for space 'nb201' but the data is in space 'nb101'"):
        XGBSurrogate.load(path, space="nb101")
    assert doc["space"] == "nb201"


# ---- command line ---------------------------------------------------------------------------------
def test_cli_fit_predict_eval(records, tmp_path, capsys):
    csv = tmp_path / "records.csv"
    records.to_csv(csv, index=False)
    model = tmp_path / "m.json"
    rc = main(["surrogate", "fit", "--store", str(csv), "--target", "val_acc",
               "--features", "onehot,graf,proxies:jacov,nwot", "--out", str(model), "--format", "json"])
    out = capsys.readouterr().out
    assert rc == 0 and model.exists()
    assert read_json_lines(out)[0]["n_train"] == 120

    rc = main(["surrogate", "predict", "--model", str(model), "--store", str(csv), "--format", "csv"])
    pred = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert rc == 0 and len(pred) == 120 and list(pred.columns) == ["arch", "prediction"]
    assert pred["prediction"].is_monotonic_decreasing
    direct = XGBSurrogate.load(model).predict(records.drop(columns="val_acc"))
    np.testing.assert_allclose(np.sort(pred["prediction"].to_numpy()), np.sort(direct), rtol=1e-5)

    archs = tmp_path / "archs.txt"
    archs.write_text("\n".join(records["arch"][:3]) + "\n")
    rc = main(["surrogate", "predict", "--model", str(model), "--archs", str(archs)])
    err = capsys.readouterr().err
    assert rc == 1 and "model expects proxy columns ['jacov', 'nwot'] but the data has []" in err

    rc = main(["surrogate", "eval", "--store", str(csv), "--target", "val_acc", "--features", "graf",
               "--cv", "3", "--format", "json"])
    res = read_json_lines(capsys.readouterr().out)[0]
    assert rc == 0 and res["cv"] == 3 and res["spearman_mean"] > 0.5 and res["kendall_mean"] > 0.3

    rc = main(["surrogate", "fit", "--store", str(csv), "--target", "nope", "--out", str(model)])
    assert rc == 1 and "No target column 'nope'" in capsys.readouterr().err


@pytest.mark.benchdata
def test_published_naslib_tuple_conversion_matches_net_str(bench_root):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "experiments" / "surrogate_sweep.py"
    spec = importlib.util.spec_from_file_location("surrogate_sweep", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    df = mod.load_published(bench_root, "cifar10")
    assert len(df) == 9445 and df["arch"].is_unique
    assert df["jacov"].isna().sum() == 1 and df["target"].max() == pytest.approx(91.57)


def test_cli_on_record_store_saves_predictions(records, tmp_path, capsys):
    from zcnas.records import RecordStore

    store = tmp_path / "records.h5"
    scores = [{"run_key": "r1", "space": "nb201", "arch": a, "proxy": p, "dataset": "cifar10",
               "value": float(v)} for a, j, n in zip(records["arch"], records["jacov"], records["nwot"])
              for p, v in (("jacob_cov", j), ("naswot", n))]
    truth = [{"space": "nb201", "arch": a, "metric": "val_acc", "value": float(v), "dataset": "cifar10-valid"}
             for a, v in zip(records["arch"], records["val_acc"])]
    with RecordStore(store, "w") as s:
        s.append("scores", scores)
        s.append("truth", truth)
    model = tmp_path / "m.json"
    assert main(["surrogate", "fit", "--store", str(store), "--target", "val_acc", "--features",
                 "graf,proxies:jacov,nwot", "--uncertainty", "quantile", "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["surrogate", "predict", "--model", str(model), "--store", str(store),
                 "--save-run-key", "sur1", "--format", "json"]) == 0
    rows = read_json_lines(capsys.readouterr().out)
    assert len(rows) == 120 and all(r["std"] >= 0 for r in rows)
    with RecordStore(store, "r") as s:
        saved = s.frame("predictions")
    assert len(saved) == 120 and set(saved["target"]) == {"val_acc"} and set(saved["run_key"]) == {"sur1"}
    assert (saved["std"] >= 0).all()


def test_proxy_frame_is_matched_by_architecture_not_position(records):
    """A frame indexed by strings in another order gives each architecture its own values."""
    archs = records["arch"].tolist()[20:23]  # rows without missing values
    frame = records.set_index("arch").loc[archs[::-1], ["jacov", "nwot"]]  # [z, y, x], same length
    spec = FeatureSpec("nb201", encodings=(), graph=False, proxies=("jacov",), proxy_transform="log")
    X = spec.transform(archs, frame)
    want = records.set_index("arch").loc[archs, "jacov"].to_numpy()
    assert np.allclose(X[:, 0], np.sign(want) * np.log1p(np.abs(want)), equal_nan=True)
    with pytest.raises(DataError, match="not indexed by architecture"):
        spec.transform(archs, frame.reset_index(drop=True).iloc[:2])
