"""Budgets (parsing, units, applying, infeasible errors), Pareto fronts and 2-D hypervolume."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from zcnas.cli.output import read_json_lines
from zcnas.constraints import (
    Budget,
    InfeasibleBudgetError,
    apply_budgets,
    feasible_mask,
    hypervolume,
    hypervolume_fraction,
    normalise,
    pareto_front,
    pareto_mask,
    parse_budget,
    parse_budgets,
    resolve_cost,
)
from zcnas.errors import InputError


@pytest.mark.parametrize("text, cost, limit, sense", [
    ("latency:pixel3=5ms", "latency:pixel3", 5.0, "max"),
    ("latency:pixel3=5", "latency:pixel3", 5.0, "max"),
    ("latency:edgegpu=2500us", "latency:edgegpu", 2.5, "max"),
    ("latency:raspi4 = 0.1 s", "latency:raspi4", 100.0, "max"),
    ("params=0.5M", "params", 0.5, "max"),
    ("params=800K", "params", 0.8, "max"),
    ("params=800k", "params", 0.8, "max"),
    ("flops=1.5G", "flops", 1500.0, "max"),
    ("energy:edgegpu=0.02J", "energy:edgegpu", 20.0, "max"),
    ("energy:fpga=3mJ", "energy:fpga", 3.0, "max"),
    ("params>=0.2M", "params", 0.2, "min"),
    ("flops<=1e2M", "flops", 100.0, "max"),
    ("hw_fpga_latency=3ms", "hw_fpga_latency", 3.0, "max"),
    ("my_cost=7", "my_cost", 7.0, "max"),
])
def test_parse_budget_units(text, cost, limit, sense):
    b = parse_budget(text)
    assert (b.cost, b.sense) == (cost, sense)
    assert b.limit == pytest.approx(limit)
    assert b.text == text.strip()


@pytest.mark.parametrize("text, words", [
    ("latency:pixel3", ["COST=VALUE", "latency:pixel3=5ms"]),
    ("latency:pixel3=fast", ["Cannot read budget"]),
    ("latency:pixel3=5 parsecs", ["Unknown unit 'parsecs'"]),
    ("latency:pixel3=5 ms ms", ["Cannot read budget"]),
    ("latency:pixel3=5xs", ["Unknown unit 'xs'", "ms"]),
    ("latency:pixel3=5M", ["count unit", "time cost", "ms"]),
    ("params=5ms", ["time unit", "count cost"]),
    ("energy:pixel3=5mJ", ["No energy metric", "edgegpu"]),
    ("speed:pixel3=5ms", ["Unknown cost kind 'speed'"]),
    ("latency:=5ms", ["names no device"]),
    ("my_cost=5ms", ["unit of cost 'my_cost' is not known"]),
    ("=5ms", ["Cannot read budget"]),
])
def test_parse_budget_errors_are_clear(text, words):
    with pytest.raises(InputError) as err:
        parse_budget(text)
    for w in words:
        assert w in str(err.value)


def test_parse_budgets_lists_and_objects():
    bs = parse_budgets(["latency:pixel3=5ms,params=0.5M", Budget("flops", 100.0)])
    assert [b.cost for b in bs] == ["latency:pixel3", "params", "flops"]
    assert parse_budgets(None) == [] and len(parse_budgets("params=1M")) == 1
    assert parse_budgets("params=1M", sense="min")[0].sense == "min"


def test_resolve_cost_columns():
    assert resolve_cost("latency:pixel3").columns == ("hw_pixel3_latency", "latency_pixel3_ms")
    assert resolve_cost("latency:laptop").columns == ("latency_laptop_ms",)
    assert resolve_cost("energy:eyeriss").columns == ("hw_eyeriss_energy",)
    assert resolve_cost("params").columns == ("params", "params_M")
    assert resolve_cost("hw_edgegpu_latency").kind == "time"


@pytest.fixture
def hand():
    return pd.DataFrame({
        "arch": ["a", "b", "c", "d", "e"],
        "score": [5.0, 4.0, 3.0, 2.0, 1.0],
        "params": [1.2, 0.4, 0.9, 0.3, 0.1],
        "hw_pixel3_latency": [9.0, 4.0, 6.0, 5.0, np.nan],
        "latency_laptop_ms": [3.0, 1.0, 2.0, 1.5, 0.5],
    })


def test_apply_budgets_hand_table(hand):
    assert list(apply_budgets(hand, "latency:pixel3=5ms")["arch"]) == ["b", "d"]
    assert list(apply_budgets(hand, ["latency:pixel3=5ms", "params=0.35M"])["arch"]) == ["d"]
    assert list(apply_budgets(hand, "params=1M")["arch"]) == ["b", "c", "d", "e"]
    assert list(apply_budgets(hand, "params>=0.9M")["arch"]) == ["a", "c"]
    assert list(apply_budgets(hand, "latency:laptop=1500us")["arch"]) == ["b", "d", "e"]
    # the missing pixel3 latency of "e" cannot be checked: infeasible, even for a huge budget
    assert "e" not in set(apply_budgets(hand, "latency:pixel3=1s")["arch"])
    assert apply_budgets(hand, []).equals(hand)
    assert feasible_mask(hand, "params=0.35M").tolist() == [False, False, False, True, True]


def test_params_falls_back_to_truth_column(hand):
    t = hand.rename(columns={"params": "params_M"})
    assert list(apply_budgets(t, "params=0.35M")["arch"]) == ["d", "e"]


def test_infeasible_budget_names_budget_cheapest_and_count(hand):
    with pytest.raises(InfeasibleBudgetError) as err:
        apply_budgets(hand, "latency:pixel3=3ms")
    msg = str(err.value)
    assert "latency:pixel3 <= 3 ms" in msg and "5 candidate(s) checked" in msg
    assert "hw_pixel3_latency = 4 ms" in msg and "(b)" in msg and "1 had no value" in msg
    assert err.value.n_checked == 5 and err.value.budget.cost == "latency:pixel3"


def test_infeasible_together_but_not_alone(hand):
    with pytest.raises(InfeasibleBudgetError) as err:
        apply_budgets(hand, ["latency:pixel3=4ms", "params>=1M"])
    msg = str(err.value)
    assert "all budgets together" in msg and "latency:pixel3 <= 4 ms: 1" in msg and "params >= 1 M: 1" in msg
    assert err.value.budget is None


def test_missing_cost_column_is_clear(hand):
    with pytest.raises(InputError, match="No column for cost 'flops'"):
        apply_budgets(hand, "flops=10M")
    with pytest.raises(InfeasibleBudgetError, match="No candidates"):
        apply_budgets(hand.iloc[:0], "params=1M")


def test_pareto_mask_hand_example():
    # minimise both: (1,5) (2,3) (3,4)x (4,1) (5,5)x (2,3) duplicate kept
    pts = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [5, 5], [2, 3], [np.nan, 0]])
    assert pareto_mask(pts).tolist() == [True, True, False, True, False, True, False]
    # maximise the first: (5,5) now non-dominated, (1,5) dominated
    assert pareto_mask(pts, ["max", "min"]).tolist() == [False, False, False, True, True, False, False]


def test_pareto_mask_matches_brute_force_and_nd():
    rng = np.random.default_rng(0)
    pts = rng.integers(0, 6, size=(60, 2)).astype(float)
    brute = [not any(np.all(q <= p) and np.any(q < p) for q in pts) for p in pts]
    assert pareto_mask(pts).tolist() == brute
    p3 = rng.random((40, 3))
    brute3 = [not any(np.all(q <= p) and np.any(q < p) for q in p3) for p in p3]
    assert pareto_mask(p3).tolist() == brute3


def test_pareto_front_frame(hand):
    front = pareto_front(hand, {"score": "max", "latency_laptop_ms": "min"})
    # a: best score; b: 4.0 at 1.0 ms; e: 0.5 ms; c (2 ms, 3.0) and d (1.5 ms, 2.0) are dominated by b
    assert list(front["arch"]) == ["a", "b", "e"]
    with pytest.raises(InputError, match="'max' or 'min'"):
        pareto_front(hand, {"score": "up"})
    with pytest.raises(InputError, match="No column"):
        pareto_front(hand, {"nope": "max"})


def test_hypervolume_hand_examples():
    # unnormalised, minimise both, ref (2, 2): union of [0,2]x[1,2] and [1,2]x[0,2] = 3
    assert hypervolume([[0, 1], [1, 0]], normalize=False, ref=(2, 2)) == pytest.approx(3.0)
    # a dominated point and a point beyond the reference add nothing
    assert hypervolume([[0, 1], [1, 0], [1.5, 1.5], [3, -1]], normalize=False, ref=(2, 2)) == pytest.approx(3.0)
    assert hypervolume([[0.5, 0.5]], normalize=False, ref=(1, 1)) == pytest.approx(0.25)
    assert hypervolume(np.empty((0, 2))) == 0.0
    # maximise the first objective: points (acc, cost) = (90, 1) (80, 0); negated acc
    assert hypervolume([[90, 1], [80, 0]], ["max", "min"], normalize=False, ref=(-70, 2)) == \
        pytest.approx(20 * 1 + 10 * 1)
    # normalised: bounds (acc 80..90, cost 0..1) -> points (0, 1) and (1, 0); ref (1.1, 1.1)
    hv = hypervolume([[90, 1], [80, 0]], ["max", "min"])
    assert hv == pytest.approx(1.0 * 0.1 + 0.1 * 1.1)  # strips below y=1.1 and left of x=1.1
    assert hv == pytest.approx((1.1 * 1.1) - 1.0 * 1.0)
    with pytest.raises(InputError, match="exact for 2 objectives"):
        hypervolume(np.ones((3, 3)))


def test_hypervolume_bounds_put_fronts_on_one_scale():
    pts = np.array([[0.0, 0.0], [10.0, 10.0]])
    sub = pts[:1]
    assert hypervolume(sub, bounds=pts) == pytest.approx(1.21)
    assert normalise(np.array([[5.0, 5.0]]), ["min", "max"], pts).tolist() == [[0.5, 0.5]]


def test_hypervolume_fraction_perfect_and_worse():
    df = pd.DataFrame({"acc": [90, 85, 80, 70], "lat": [4.0, 2.0, 1.0, 0.5]})
    df["perfect"] = df["acc"]
    df["bad"] = -df["acc"]  # ranks the worst first: its front is only the cheapest arch
    assert hypervolume_fraction(df, "perfect", "acc", "lat").fraction == pytest.approx(1.0)
    bad = hypervolume_fraction(df, "bad", "acc", "lat")
    assert list(bad.predicted["acc"]) == [70]
    assert 0 < bad.fraction < 1
    assert math.isclose(bad.hv_true, hypervolume(df[["acc", "lat"]], ["max", "min"]))


# ---- rank with budgets and fronts (library and CLI) ------------------------------------------------

def _sample(n: int = 12, seed: int = 0) -> list[str]:
    from zcnas import get_space

    sp = get_space("nb201")
    return [sp.format(a) for a in sp.sample(n, seed=seed)]


def test_rank_with_params_budget_and_infeasible_cli(capsys):
    from zcnas.cli import main

    rc = main(["-q", "rank", "--sample", "8", "--proxies", "params", "--max", "params=0.3M", "--format", "csv",
               "--top", "0"])
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert rc == 0 and len(out) >= 1 and (out["params"] <= 0.3).all()
    assert out["rank"].tolist() == list(range(1, len(out) + 1))
    assert out["score"].is_monotonic_decreasing
    rc = main(["-q", "rank", "--sample", "8", "--proxies", "params", "--max", "params=1K"])
    err = capsys.readouterr().err
    assert rc == 1 and "No architecture meets the budget params <= 0.001 M" in err
    assert "8 candidate(s) checked" in err and "the cheapest has params =" in err
    rc = main(["-q", "rank", "--sample", "3", "--proxies", "params", "--max", "latency:pixel3=5 lightyears"])
    assert rc == 1 and "Unknown unit 'lightyears'" in capsys.readouterr().err


def test_rank_pareto_from_cost_csv(tmp_path, capsys):
    from zcnas.cli import main
    from zcnas.ranking import Constraints, ProxyScorer, ScoringConfig, rank

    archs = _sample(6, seed=4)
    lat = pd.DataFrame({"arch": archs, "latency_box_ms": np.linspace(1.0, 10.0, len(archs))})
    lat.to_csv(tmp_path / "costs.csv", index=False)
    scorer = ProxyScorer("params", ScoringConfig("nb201"))
    res = rank(archs, scorer, constraints=Constraints(budgets=("latency:box=8ms",), pareto="latency:box",
                                                      costs=tmp_path / "costs.csv"))
    assert res.n_candidates == 6 and len(res.table) == int((lat["latency_box_ms"] <= 8).sum())
    expect = pareto_front(res.table, {"score": "max", "latency_box_ms": "min"})
    assert res.front["arch"].tolist() == expect["arch"].tolist()
    assert 0 < res.hypervolume <= 1.21
    (tmp_path / "a.txt").write_text("\n".join(archs))
    rc = main(["-q", "rank", "--archs", str(tmp_path / "a.txt"), "--proxies", "params", "--pareto", "latency:box",
               "--costs", str(tmp_path / "costs.csv"), "--format", "json"])
    rows = read_json_lines(capsys.readouterr().out)
    full = rank(archs, scorer, constraints=Constraints(pareto="latency:box", costs=tmp_path / "costs.csv"))
    assert rc == 0 and [r["arch"] for r in rows] == full.front["arch"].tolist()
    assert full.n_candidates == len(full.table) == 6
    rc = main(["-q", "rank", "--archs", str(tmp_path / "a.txt"), "--proxies", "params", "--max", "latency:cpu=1ms",
               "--costs", str(tmp_path / "costs.csv")])
    assert rc == 1 and "No values for cost(s) ['latency:cpu']" in capsys.readouterr().err


@pytest.mark.benchdata
def test_rank_hw_nas_bench_budget(bench_root, capsys):
    from zcnas.cli import main

    rc = main(["-q", "rank", "--sample", "8", "--proxies", "params", "--max", "latency:edgegpu=3ms",
               "--data-root", str(bench_root), "--format", "csv", "--top", "0"])
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert rc == 0 and (out["hw_edgegpu_latency"] <= 3).all() and len(out) < 8
    rc = main(["-q", "rank", "--sample", "8", "--proxies", "params", "--max", "latency:edgegpu=1us",
               "--data-root", str(bench_root)])
    err = capsys.readouterr().err
    assert rc == 1 and "latency:edgegpu <= 0.001 ms" in err and "8 candidate(s) checked" in err


def test_bench_pareto_report_from_csv(tmp_path, capsys):
    from zcnas.cli import main

    rng = np.random.default_rng(0)
    n = 40
    archs = [f"a{i}" for i in range(n)]
    acc = rng.uniform(80, 94, n)
    lat = rng.uniform(1, 10, n)
    pd.DataFrame({"arch": archs, "good": acc, "noise": rng.normal(size=n)}).to_csv(tmp_path / "s.csv", index=False)
    pd.DataFrame({"arch": archs, "acc": acc, "lat_ms": lat}).to_csv(tmp_path / "t.csv", index=False)
    rep = tmp_path / "rep"
    args = ["-q", "bench", "--scores", str(tmp_path / "s.csv"), "--truth", str(tmp_path / "t.csv"),
            "--truth-metric", "acc", "--direction", "good=+1", "--direction", "noise=+1", "--bootstrap", "0",
            "--metrics", "spearman", "--format", "csv"]
    rc = main(args + ["--report", str(rep), "--pareto-cost", "lat_ms"])
    assert rc == 0, capsys.readouterr().err
    hv = pd.read_csv(rep / "pareto.csv").set_index("proxy")
    assert hv.loc["good", "hv_fraction"] == pytest.approx(1.0)  # a perfect predictor finds the true front
    assert hv.loc["noise", "hv_fraction"] < 1.0
    assert (rep / "figures" / "pareto_acc.png").stat().st_size > 0 and not list(rep.glob("*.png"))
    capsys.readouterr()
    assert main(args + ["--pareto-cost", "lat_ms"]) == 1
    assert "give --report DIR too" in capsys.readouterr().err


# ---- imports flow one way: tables -> constraints -> bench (issue 12.3) ----------------------------
def _zcnas_imports(module: str) -> set[str]:
    """Every zcnas module ``module`` imports, at any level (function-local imports included)."""
    import ast
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / (module.replace(".", "/") + ".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("zcnas")}


def test_bench_and_constraints_form_no_cycle():
    assert not any(m.startswith("zcnas.bench") for m in _zcnas_imports("zcnas.constraints"))
    assert _zcnas_imports("zcnas.tables") <= {"zcnas.errors", "zcnas.errors.DataError"}
    bench_imports = _zcnas_imports("zcnas.bench")
    assert "zcnas.constraints" in bench_imports and "zcnas.tables" in bench_imports
