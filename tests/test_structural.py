"""Structural proxies (``graph:<feature>``): values, directions, errors, and no network built."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zcnas.errors import InputError, UnknownNameError
from zcnas.graph import graph_feature_names, graph_features
from zcnas.proxies import PROXY_SETS, get_proxy, graph_proxy_names, list_proxies, resolve_proxies, score_model
from zcnas.ranking.scoring import ScoringConfig, score_architectures
from zcnas.spaces import get_space

RANKERS = Path(__file__).resolve().parents[1] / "experiments" / "results" / "structural_rankers" / "rankers.json"


@pytest.mark.parametrize("space_name", ["nb201", "nb101", "darts", "tnb101_micro", "tnb101_macro"])
def test_graph_proxy_value_is_the_graph_feature_and_minus_negates_it(space_name):
    space = get_space(space_name)
    archs = space.sample(3, seed=7)
    names = graph_feature_names(space.cell_graph(archs[0]))
    feature = names[len(names) // 3]
    long = score_architectures(archs, [f"graph:{feature}", f"graph:-{feature}"],
                               ScoringConfig(space=space_name), progress=False)
    wide = long.pivot(index="arch", columns="proxy", values="value")
    for a in archs:
        want = graph_features(space.cell_graph(a))[names.index(feature)]
        assert wide.loc[space.format(a), f"graph:{feature}"] == want
        assert wide.loc[space.format(a), f"graph:-{feature}"] == -want
    assert set(long["dataset"]) == {""}  # read no images: serves every dataset


def test_structural_proxies_build_no_network_and_read_no_data(monkeypatch):
    import zcnas.ranking.scoring as scoring

    def boom(*a, **k):
        raise AssertionError("a network was built for structural proxies")

    monkeypatch.setattr(scoring, "build_seeded", boom)
    monkeypatch.setattr(scoring, "load_batch", boom)
    space = get_space("nb101")
    long = score_architectures(space.sample(5, seed=1), ["graph:count_c3", "graph:-depth"],
                               ScoringConfig(space="nb101", dataset="cifar10"), progress=False)
    assert (long["status"] == "ok").all() and len(long) == 10


def test_direction_is_higher_for_both_signs_and_listing_shows_the_family():
    assert get_proxy("graph:depth").higher_is_better and get_proxy("graph:-depth").higher_is_better
    assert get_proxy("graph:-depth").structural and not get_proxy("synflow").structural
    assert "graph:count_c3" in graph_proxy_names("nb101")
    assert "graph:-count_c3" in graph_proxy_names("nb101", signed=True)
    assert not any(n.startswith("graph:") for n in list_proxies())  # members made on lookup are not listed


def test_unknown_feature_fails_at_setup_naming_the_space_features():
    with pytest.raises(UnknownNameError, match="nb101 graph feature 'count_nor_conv_3x3'.*count_c3"):
        score_architectures(get_space("nb101").sample(2, seed=0), ["graph:count_nor_conv_3x3"],
                            ScoringConfig(space="nb101"), progress=False)
    with pytest.raises(InputError, match="names no graph feature"):
        resolve_proxies("graph:-")


def test_scoring_a_bare_network_with_a_graph_proxy_is_a_usage_error_that_says_why():
    import torch

    with pytest.raises(InputError, match="read the architecture, not a network"):
        score_model(torch.nn.Linear(3, 2), None, ["graph:depth"], input_shape=(3,))


def test_unknown_proxy_message_mentions_the_family():
    with pytest.raises(UnknownNameError, match=r"graph:<\.\.\.>"):
        resolve_proxies("synflw")


@pytest.mark.skipif(not RANKERS.exists(), reason="experiments/structural_rankers.py has not been run")
def test_named_graph_rankers_are_the_ones_the_experiment_chose():
    chosen = json.loads(RANKERS.read_text())
    from zcnas.proxies import check_structural
    from zcnas.spaces.base import ranker_set_name

    for key, proxies in chosen.items():
        assert PROXY_SETS[ranker_set_name(key)] == tuple(proxies), key
        space = key.split("/")[0]
        get_space(space)  # every feature exists in its space
        check_structural(list(proxies), space)


def test_a_tnb101_task_defaults_to_its_own_structural_ranker():
    """The best proxy changes with the TNB101 task, so the default ranker does too: each task's
    is the structural set chosen on that task (no network, no Taskonomy images needed)."""
    micro = get_space("tnb101_micro")
    assert micro.default_ranker("jigsaw") == "@zcnas_tnb101_micro_jigsaw_graph"
    assert micro.default_ranker() == micro.default_ranker("class_scene")
    assert resolve_proxies(micro.default_ranker("normal")) != resolve_proxies(micro.default_ranker("jigsaw"))
    assert get_space("nb101").default_ranker("anything") == "@zcnas_nb101_graph"
    long = score_architectures(micro.sample(3, seed=0), resolve_proxies(micro.default_ranker("autoencoder")),
                               ScoringConfig(space="tnb101_micro", build_options={"task": "autoencoder"}),
                               progress=False)
    assert (long["status"] == "ok").all()


def test_effective_op_count_never_exceeds_the_raw_count_of_the_matrix_form():
    """eff_count counts operations on a live input->output path, so at most all of them."""
    space = get_space("nb101")
    archs = space.sample(40, seed=3)
    long = score_architectures(archs, ["graph:eff_count_c3"], ScoringConfig(space="nb101"), progress=False)
    counts = [sum(op == "conv3x3-bn-relu" for op in json.loads(space.format(a))["ops"]) for a in archs]
    vals = long.set_index("arch").loc[[space.format(a) for a in archs], "value"].to_numpy()
    assert np.all(vals <= np.asarray(counts))  # effective count never exceeds the raw count
