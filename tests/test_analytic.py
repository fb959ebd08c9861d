"""Analytic params and FLOPs: exact against the counter on the real network, and used by the scorer."""

from __future__ import annotations

import pytest

from zcnas.proxies import score_model
from zcnas.ranking.scoring import ScoringConfig, score_architectures
from zcnas.spaces import get_space
from zcnas.spaces.analytic import analytic_counts, cost_table
from zcnas.spaces.seeding import build_seeded

#: DARTS (196 terms, about 200 networks to fit) is checked on all 725 genotypes of the NB301 sample by
#: experiments/analytic_costs.py instead
CASES = [
    ("nb201", {"num_classes": 10, "input_shape": (3, 32, 32)}),
    ("nb201", {"num_classes": 120, "input_shape": (3, 16, 16)}),
    ("tnb101_micro", {"input_shape": (3, 256, 256), "task": "class_scene"}),
]
#: a small NB201 network (3 cells of 2 channels): the fast tests fit in seconds
SMALL = {"channels": 2, "cells_per_stage": 1}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "analytic-cache"))


@pytest.mark.slow
@pytest.mark.parametrize("space_name, kwargs", CASES, ids=lambda v: str(v))
def test_analytic_counts_equal_the_counter_on_the_real_network(space_name, kwargs):
    space = get_space(space_name)
    table = cost_table(space_name, kwargs)
    assert table is not None and table.additive
    for arch in space.sample(3, seed=2024):
        params, flops = analytic_counts(space_name, arch, kwargs)
        extra = {k: v for k, v in kwargs.items() if k not in ("num_classes", "input_shape")}
        model = build_seeded(space_name, arch, kwargs.get("num_classes"), 0, input_shape=kwargs["input_shape"],
                             **extra)
        res = score_model(model, None, ["params", "flops"], input_shape=kwargs["input_shape"])
        assert res["params"].value == params / 1e6
        assert res["flops"].value == flops / 1e6


def test_spaces_without_additive_counts_have_no_table():
    assert cost_table("nb101", {"num_classes": 10, "input_shape": (3, 32, 32)}) is None
    assert cost_table("tnb101_macro", {"input_shape": (3, 256, 256), "task": "class_scene"}) is None


def test_the_scorer_takes_params_and_flops_from_the_table_without_building(monkeypatch):
    import zcnas.ranking.scoring as scoring

    space = get_space("nb201")
    archs = space.sample(4, seed=5)
    cfg = ScoringConfig(space="nb201", num_classes=10, build_options=SMALL)
    want = {space.format(a): analytic_counts("nb201", a, {"num_classes": 10, "input_shape": (3, 32, 32), **SMALL})
            for a in archs}

    def boom(*a, **k):
        raise AssertionError("built a network for params/flops")

    monkeypatch.setattr(scoring, "build_seeded", boom)
    long = score_architectures(archs, ["params", "flops", "graph:depth"], cfg, progress=False)
    wide = long.pivot(index="arch", columns="proxy", values="value")
    for a, (p, f) in want.items():
        assert wide.loc[a, "params"] == p / 1e6 and wide.loc[a, "flops"] == f / 1e6


def test_a_table_that_cannot_reproduce_the_counts_is_never_used(monkeypatch):
    import zcnas.spaces.analytic as analytic

    calls = {"n": 0}
    real = analytic.count_network

    def skewed(space_name, arch, kwargs):  # every network after the fit gains a parameter
        calls["n"] += 1
        p, f = real(space_name, arch, kwargs)
        return (p + calls["n"], f)

    monkeypatch.setattr(analytic, "count_network", skewed)
    kwargs = {"num_classes": 7, "input_shape": (3, 8, 8), **SMALL}
    table = cost_table("nb201", kwargs)
    assert table is not None and not table.additive
    assert analytic_counts("nb201", get_space("nb201").sample(1, seed=0)[0], kwargs) is None


def test_analytic_counts_mix_with_proxies_that_need_the_network():
    """params/flops from the table and synflow from the built network, in one call."""
    space = get_space("nb201")
    archs = space.sample(3, seed=11)
    cfg = ScoringConfig(space="nb201", num_classes=10, build_options=SMALL)
    long = score_architectures(archs, ["params", "synflow", "flops"], cfg, progress=False)
    assert (long["status"] == "ok").all() and len(long) == 9
    wide = long.pivot(index="arch", columns="proxy", values="value")
    for a in archs:
        model = build_seeded("nb201", a, 10, 0, input_shape=(3, 32, 32), **SMALL)
        ref = score_model(model, None, ["params", "flops"], input_shape=(3, 32, 32))
        assert wide.loc[space.format(a), "params"] == ref["params"].value
        assert wide.loc[space.format(a), "flops"] == ref["flops"].value


@pytest.mark.parametrize("space_name, options", [("nb101", {}), ("tnb101_macro", {"task": "autoencoder"})])
def test_spaces_without_a_table_count_params_and_flops_on_the_meta_device(space_name, options, monkeypatch):
    """NB101 and TNB101 macro have no additive table: with nothing else to compute, the scorer counts
    on the meta-device network (no weights), and the counts equal those of the real network."""
    import zcnas.ranking.scoring as scoring

    space = get_space(space_name)
    archs = space.sample(2, seed=3)
    shape = space.input_shape(options.get("task"))
    cfg = ScoringConfig(space=space_name, build_options=options, input_shape=shape)
    real = {}
    for a in archs:
        model = build_seeded(space_name, a, None, 0, input_shape=shape, **options)
        real[space.format(a)] = score_model(model, None, ["params", "flops"], input_shape=shape)

    def boom(*a, **k):
        raise AssertionError("built a real network for params/flops")

    monkeypatch.setattr(scoring, "build_seeded", boom)
    long = score_architectures(archs, ["params", "flops"], cfg, progress=False)
    wide = long.pivot(index="arch", columns="proxy", values="value")
    for a, ref in real.items():
        assert wide.loc[a, "params"] == ref["params"].value
        assert wide.loc[a, "flops"] == ref["flops"].value
