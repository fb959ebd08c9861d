"""Importers of public benchmark data: counts and known values from the PROVENANCE files, sentinel
handling, error messages, the generic CSV importer and the ``zcnas import`` command."""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pandas as pd
import pytest

from zcnas import get_space
from zcnas.cli import main
from zcnas.cli.output import read_json_lines
from zcnas.errors import DataError, InputError, UnknownNameError
from zcnas.records import RecordStore
from zcnas.records import importers as imp
from zcnas.records import importers_nb201 as nb201_imp

# NB201 index 6111, the best CIFAR-10 architecture (test acc 94.37, PROVENANCE of nb201-naswot/nats);
# index 13714, isomorphic to it, has the same value
BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
ROW0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
A = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
B = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"


def metric(truth: pd.DataFrame, name: str, **eq) -> pd.Series:
    sel = truth["metric"] == name
    for k, v in eq.items():
        sel &= truth[k] == v
    return truth[sel].set_index("arch")["value"]


@pytest.fixture(scope="module")
def merged(bench_root):
    return nb201_imp.import_nb201_merged(None, data_root=bench_root)


# ---- known values ------------------------------------------------------------------------------------

@pytest.mark.benchdata
def test_merged_truth_counts_and_optima(merged):
    truth = merged["truth"]
    c10 = metric(truth, "c10_test_200ep")
    assert len(c10) == 15625 and c10.index.is_unique
    assert set(c10.index) == {get_space("nb201").format(a) for a in get_space("nb201").enumerate()}
    assert c10[BEST_C10] == c10.max() and round(c10.max(), 2) == 94.37
    assert round(metric(truth, "c100_test_200ep").max(), 2) == 73.51
    assert round(metric(truth, "in16_test_200ep").max(), 2) == 47.31
    v11 = metric(truth, "c10_test_200ep_v11")
    diff = (v11 - c10).abs()
    assert (diff > 1e-9).sum() == 2416 and round(diff.max(), 2) == 2.22
    assert round(metric(truth, "c10valid_valid_200ep").max(), 2) == 91.61
    assert round(metric(truth, "c10_test_12ep").max(), 2) == 89.16  # 12 epochs, not converged
    assert len(metric(truth, "in16_valid_200ep_sz")) == 9445
    assert len(metric(truth, "c10valid_valid_200ep_sz")) == 15625
    # HW-NAS-Bench: -1 is "missing" (4,699 archs on the edge TPU); the dataset is a column
    tpu = metric(truth, "hw_edgetpu_latency", dataset="cifar10")
    assert len(tpu) == 15625 - 4699 and (tpu > 0).all()
    assert metric(truth, "hw_edgegpu_latency", dataset="cifar10")[ROW0] == pytest.approx(5.807418537139893)
    row = truth[(truth["metric"] == "c10_test_200ep") & (truth["arch"] == BEST_C10)].iloc[0]
    assert (row["dataset"], row["split"], row["epochs"], row["aggregation"]) == ("cifar10", "ori-test", 200,
                                                                                  "seed-mean")


@pytest.mark.benchdata
def test_merged_published_scores_sentinels_become_failures(merged):
    sc = merged["scores"]
    c10 = sc[sc["run_key"] == "published:suitezero:cifar10"]
    assert set(c10["proxy"]) == {"epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacob_cov", "l2_norm",
                                 "naswot", "params", "plain", "snip", "synflow", "zen"}
    assert (c10.groupby("proxy").size() == 9445).all()
    failed = c10[c10["status"] == "failed"]
    assert sorted(failed["proxy"]) == ["epe_nas", "jacob_cov", "naswot", "zen"]  # one each, -1e8 in the file
    assert failed["value"].isna().all() and (failed["reason"].str.contains("-1e8")).all()
    assert (c10["value"] > -1e7).all() or c10["value"].isna().any()
    ok = c10[c10["status"] == "ok"]
    assert ok["value"].notna().all() and (ok["value"] != -1e8).all()
    naswot = sc[sc["run_key"] == "published:naswot:cifar10"]
    assert len(naswot) == 15625 and (naswot["status"] == "failed").sum() == 341


@pytest.mark.benchdata
def test_nats_csv_per_seed_and_mini(bench_root, merged):
    nats = nb201_imp.import_nats_csv(None, data_root=bench_root)["truth"]
    assert nats.groupby("metric").size().to_dict() == {"c100_test_200ep": 15625, "c10_test_200ep": 15625,
                                                      "in16_test_200ep": 15625}
    pd.testing.assert_series_equal(metric(nats, "c10_test_200ep").sort_index(),
                                   metric(merged["truth"], "c10_test_200ep").sort_index())
    seeds = nb201_imp.import_nb201_per_seed(None, data_root=bench_root)["truth"]
    assert seeds.groupby("aggregation").size().to_dict() == {"seed:a": 15625, "seed:b": 13400, "seed:c": 7961}
    assert round(seeds["value"].max(), 2) == 94.68
    mean = seeds.groupby("arch")["value"].mean()  # == the NB201 v1_1 seed mean, exactly (PROVENANCE)
    v11 = metric(merged["truth"], "c10_test_200ep_v11")
    assert np.allclose(mean.sort_index(), v11.sort_index(), atol=1e-9)
    mini = nb201_imp.import_nb201_mini(None, data_root=bench_root)["truth"]
    assert len(mini) == 6 * 15625 and set(mini["epochs"]) == {12}
    assert round(metric(mini, "in16_test_12ep").max(), 2) == 38.27


@pytest.mark.benchdata
def test_suitezero_json_and_csv(bench_root):
    js = nb201_imp.import_suitezero_json(None, data_root=bench_root)
    truth, sc = js["truth"], js["scores"]
    assert truth.groupby("metric").size().to_dict() == {"c100_valid_200ep_sz": 725, "c10valid_valid_200ep_sz": 725,
                                                       "in16_valid_200ep_sz": 724}
    c10 = sc[sc["run_key"] == "published:suitezero-json:cifar10"]
    # one entry, (3, 2, 4, 0, 4, 4), has no synflow at all: absent, so no row (not a failure)
    assert len(c10) == 725 * 12 - 1 and c10["seconds"].notna().all()
    assert "|nor_conv_1x1~0|" in nb201_imp.naslib_to_arch_str("(3, 2, 4, 0, 4, 4)")
    assert nb201_imp.naslib_to_arch_str("(3, 2, 4, 0, 4, 4)") not in set(c10[c10["proxy"] == "synflow"]["arch"])
    failed = c10[c10["status"] == "failed"].set_index("proxy")
    assert sorted(failed.index) == ["epe_nas", "jacob_cov", "naswot"]  # -1e8, -1e8 and -inf in the JSON
    assert "-1e8" in failed.loc["epe_nas", "reason"] and "infinite" in failed.loc["naswot", "reason"]
    assert failed["value"].isna().all()
    in16 = sc[sc["run_key"] == "published:suitezero-json:ImageNet16-120"]
    assert ((in16["proxy"] == "epe_nas") & (in16["status"] == "failed")).sum() == 9

    csv = nb201_imp.import_suitezero_csv(None, data_root=bench_root)
    assert len(csv["scores"]) == 13 * 9445 and set(csv["scores"]["run_key"]) == {"published:suitezero:cifar10"}
    val = metric(csv["truth"], "c10valid_valid_200ep_sz")
    assert len(val) == 9445 and round(val.max(), 2) == 91.57
    # PROVENANCE: val accs identical to the JSON sample for every overlapping arch
    sample = metric(truth, "c10valid_valid_200ep_sz")
    common = sample.index.intersection(val.index)
    assert len(common) > 0 and (sample[common] == val[common]).all()
    in16 = nb201_imp.import_suitezero_csv(None, data_root=bench_root, dataset="ImageNet16-120")
    assert round(metric(in16["truth"], "in16_valid_200ep_sz").max(), 2) == 47.33


@pytest.mark.benchdata
def test_hw_nas_bench_and_import_into_store(bench_root, tmp_path):
    hw = nb201_imp.import_hw_nas_bench(None, data_root=bench_root, dataset="cifar100")["truth"]
    assert set(hw["dataset"]) == {"cifar100"} and len(metric(hw, "hw_fpga_energy")) == 15625
    assert len(metric(hw, "hw_edgetpu_latency")) == 15625 - 4699
    path = tmp_path / "truth.h5"
    with RecordStore(path, "w") as store:
        nb201_imp.import_nats_csv(store, data_root=bench_root)
        nb201_imp.import_nb201_per_seed(store, data_root=bench_root)
    with RecordStore(path, "r") as store:
        wide = store.truth_wide()
        assert wide.shape == (15625, 6)
        assert wide.loc[BEST_C10, "c10_test_200ep"] == wide["c10_test_200ep"].max()
        assert wide["c10_test_200ep_v11@seed:c"].notna().sum() == 7961
    # importing again replaces rows instead of duplicating them
    with RecordStore(path, "a") as store:
        nb201_imp.import_nats_csv(store, data_root=bench_root)
        assert len(store.frame("truth")) == 3 * 15625 + 15625 + 13400 + 7961


# ---- NASLib encoding and errors (no benchmark data needed) ------------------------------------------

def test_naslib_tuple_conversion():
    assert nb201_imp.naslib_to_arch_str("(4, 3, 3, 0, 0, 0)") == ROW0
    assert nb201_imp.naslib_to_arch_str([2, 2, 0, 2, 2, 3]) == BEST_C10
    for bad in ("(4, 3, 3, 0, 0)", "(4, 3, 3, 0, 0, 9)", "4,3,3,0,0,0,x"):
        with pytest.raises(InputError, match="NASLib NB201 op tuple"):
            nb201_imp.naslib_to_arch_str(bad)


def test_generic_csv(tmp_path):
    f = tmp_path / "accs.csv"
    pd.DataFrame({"arch": [A, B], "acc": [91.5, float("nan")], "lat": [3.0, -1.0]}).to_csv(f, index=False)
    path = tmp_path / "s.h5"
    with RecordStore(path, "w") as store:
        out = imp.import_csv(store, f, columns={"acc": {"metric": "my_acc", "epochs": 5}, "lat": {}},
                             dataset="cifar10", missing=(-1.0,))
    t = out["truth"]
    assert list(t["metric"]) == ["my_acc", "lat"] and list(t["arch"]) == [A, A]  # NaN and -1 skipped
    assert t.iloc[0]["epochs"] == 5 and t.iloc[0]["dataset"] == "cifar10" and "accs.csv:acc" in t.iloc[0]["source"]
    with RecordStore(path, "r") as store:
        assert len(store.frame("truth")) == 2
    # a documented metric name brings its own metadata
    g = tmp_path / "c10.csv"
    pd.DataFrame({"arch": [A], "c10_test_200ep": [90.0]}).to_csv(g, index=False)
    row = imp.import_csv(None, g, columns=["c10_test_200ep"])["truth"].iloc[0]
    assert (row["dataset"], row["split"], row["epochs"]) == ("cifar10", "ori-test", 200)


def test_import_errors_name_file_row_and_fix(tmp_path):
    dup = tmp_path / "dup.csv"
    pd.DataFrame({"arch": [A, B, A], "acc": [1.0, 2.0, 3.0]}).to_csv(dup, index=False)
    with pytest.raises(DataError, match=r"dup\.csv: architecture .* appears in rows \[1, 3\]"):
        imp.import_csv(None, dup, columns=["acc"], dataset="cifar10")

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"arch": [A, "|nor_conv_3x3~0|+|none~0|"], "acc": [1.0, 2.0]}).to_csv(bad, index=False)
    with pytest.raises(InputError, match=r"bad\.csv, row 2 \(line 3\): column 'arch' is not a valid nb201"):
        imp.import_csv(None, bad, columns=["acc"], dataset="cifar10")

    with pytest.raises(InputError, match=r"has no column\(s\) \['accuracy'\]; its columns are \['arch', 'acc'\]"):
        imp.import_csv(None, bad, columns=["accuracy"], dataset="cifar10")
    with pytest.raises(InputError, match="needs a dataset"):
        imp.import_csv(None, dup, columns=["acc"])
    with pytest.raises(InputError, match=r"Unknown metadata key\(s\) \['epoch'\]"):
        imp.import_csv(None, dup, columns={"acc": {"epoch": 3}}, dataset="cifar10")

    text = tmp_path / "text.csv"
    pd.DataFrame({"arch": [A, B], "acc": ["1.0", "high"]}).to_csv(text, index=False)
    with pytest.raises(InputError, match=r"text\.csv, row 2 \(line 3\): column 'acc' holds 'high', not a number"):
        imp.import_csv(None, text, columns=["acc"], dataset="cifar10")

    zc = tmp_path / "zc.csv"  # NASLib tuple and string disagree on row 2
    pd.DataFrame({"net": ["(4, 3, 3, 0, 0, 0)", "(2, 2, 0, 2, 2, 3)"], "net_str": [ROW0, A],
                  "synflow": [1.0, 2.0]}).to_csv(zc, index=False)
    with pytest.raises(DataError, match=r"zc\.csv, row 2 \(line 3\): columns 'net' and 'net_str' name different"):
        nb201_imp.import_suitezero_csv(None, zc, with_val=False)
    zc2 = tmp_path / "zc2.csv"
    pd.DataFrame({"net": ["(4, 3, 3, 0, 0, 0)"], "synflow": [1.0], "mystery": [2.0]}).to_csv(zc2, index=False)
    with pytest.raises(InputError, match=r"unknown column\(s\) \['mystery'\]"):
        nb201_imp.import_suitezero_csv(None, zc2, with_val=False)
    with pytest.raises(UnknownNameError, match="Did you mean 'nb201-merged'"):
        imp.get_importer("nb201-merge")
    with pytest.raises(DataError, match="not found"):
        nb201_imp.import_nats_csv(None, tmp_path / "missing.csv")


def test_suitezero_json_format_from_a_small_file(tmp_path):
    f = tmp_path / "zc.json"
    f.write_text(json.dumps({"cifar10": {
        "(4, 3, 3, 0, 0, 0)": {"arch": "(4, 3, 3, 0, 0, 0)", "val_accuracy": 81.9,
                               "synflow": {"score": 3.5, "time": 0.1}, "jacov": {"score": -1e8, "time": 0.2}},
        "(2, 2, 0, 2, 2, 3)": {"arch": "(2, 2, 0, 2, 2, 3)", "val_accuracy": 91.0,
                               "synflow": {"score": 9.0, "time": 0.1}, "jacov": {"score": -30.0, "time": 0.2}},
    }}))
    out = nb201_imp.import_suitezero_json(None, f, run_key="pub:{dataset}")
    sc = out["scores"].set_index(["arch", "proxy"])
    assert sc.loc[(ROW0, "synflow"), "value"] == 3.5 and sc.loc[(ROW0, "synflow"), "run_key"] == "pub:cifar10"
    assert sc.loc[(ROW0, "jacob_cov"), "status"] == "failed" and math.isnan(sc.loc[(ROW0, "jacob_cov"), "value"])
    assert sc.loc[(BEST_C10, "jacob_cov"), "value"] == -30.0
    assert metric(out["truth"], "c10valid_valid_200ep_sz")[BEST_C10] == 91.0
    with pytest.raises(UnknownNameError, match="Unknown dataset 'cifar1'"):
        nb201_imp.import_suitezero_json(None, f, datasets=["cifar1"])


@pytest.mark.skipif(importlib.util.find_spec("nats_bench") is not None, reason="nats_bench is installed")
def test_nats_bench_missing_package_names_the_extra():
    with pytest.raises(InputError, match=r"pip install zcnas\[nats\]"):
        nb201_imp.import_nats_bench(None, "/nonexistent")


def test_registry_and_metric_catalogue():
    names = imp.IMPORTERS.names()
    assert {"nb201-merged", "nats-csv", "nb201-per-seed", "nb201-mini", "nb201-naswot", "suitezero-json",
            "suitezero-csv", "hw-nas-bench", "csv", "nats-bench"} <= set(names)
    metrics = imp.list_metrics()
    assert metrics["name"].is_unique and "c10_test_200ep" in set(metrics["name"])
    assert imp.metric_info("in16_test_200ep").split == "x-test"


# ---- CLI ---------------------------------------------------------------------------------------------

def test_import_cli(tmp_path, capsys):
    assert main(["import", "list", "--format", "json"]) == 0
    assert "nb201-merged" in {r["name"] for r in read_json_lines(capsys.readouterr().out)}
    f = tmp_path / "accs.csv"
    pd.DataFrame({"arch": [A, B], "acc": [91.5, 92.5]}).to_csv(f, index=False)
    store = tmp_path / "s.h5"
    rc = main(["import", "csv", str(f), "--metric", "acc=my_acc", "--dataset", "cifar10", "--epochs", "3",
               "--store", str(store), "--format", "csv"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "truth,my_acc,\"cifar10, single\",2,0" in out
    with RecordStore(store, "r") as s:
        t = s.frame("truth")
        assert list(t["value"]) == [91.5, 92.5] and set(t["epochs"]) == {3}
    assert main(["import", "csv", str(f), "--metric", "acc"]) == 1
    assert "needs a dataset" in capsys.readouterr().err
    assert main(["import", "csv", str(f)]) == 1
    assert "--metric" in capsys.readouterr().err
    assert main(["import", "nb201-merge"]) == 1
    assert "Did you mean 'nb201-merged'" in capsys.readouterr().err


@pytest.mark.benchdata
def test_import_cli_with_bench_data(bench_root, tmp_path, capsys):
    store = tmp_path / "t.h5"
    assert main(["import", "nb201-mini", "--data-root", str(bench_root), "--store", str(store),
                 "--format", "json"]) == 0
    rows = read_json_lines(capsys.readouterr().out)
    assert {r["name"]: r["rows"] for r in rows}["c10_test_12ep"] == 15625
    assert main(["store", "info", str(store), "--format", "json"]) == 0
    info = {r["item"]: r["value"] for r in read_json_lines(capsys.readouterr().out)}
    assert info["table truth"] == str(6 * 15625)
