"""NB201 space: strings, enumeration, sampling, mutation, canonical classes, encodings, networks."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from zcnas import Architecture, get_space
from zcnas.errors import InputError, UnknownNameError
from zcnas.spaces import SPACES

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@pytest.fixture(scope="module")
def space():
    return get_space("nb201")


def test_aliases_and_unknown_space():
    assert get_space("nasbench201") is get_space("nb201")
    with pytest.raises(UnknownNameError, match="Did you mean 'nb201'"):
        get_space("nb210")
    assert "nb201" in SPACES


def test_enumerate_count_and_unique(space):
    strings = [space.format(a) for a in space.enumerate()]
    assert len(strings) == 15625 == len(space)
    assert len(set(strings)) == 15625
    assert [space.index(s) for s in strings[:50]] == list(range(50))


@pytest.mark.parametrize("bad, fragment", [
    ("|nor_conv_3x3~0|+|none~0|none~1|", "expected 3 groups"),
    ("|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "bad token 'nor_conv_5x5~0'"),
    ("|nor_conv_3x3~1|+|none~0|none~1|+|none~0|none~1|none~2|", "expected '<op>~0'"),
    ("|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|", "must have 2 edge"),
    ("nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end with '|'"),
])
def test_parse_errors_name_the_token(space, bad, fragment):
    with pytest.raises(InputError, match=fragment.replace("|", r"\|").replace("(", r"\(")):
        space.parse(bad)


def test_parse_suggests_op(space):
    with pytest.raises(InputError, match="Did you mean 'nor_conv_3x3'"):
        space.parse("|nor_conv3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")


def test_sample_seeded_and_validated(space):
    a, b = space.sample(100, seed=0), space.sample(100, seed=0)
    assert a == b and len(set(a)) == 100
    assert space.sample(100, seed=1) != a
    with pytest.raises(InputError, match="must be an int >= 1"):
        space.sample(0)
    with pytest.raises(InputError, match="Cannot sample"):
        space.sample(20000)


def test_neighbours(space):
    a = space.parse(BEST_C10)
    nb = space.neighbours(a)
    assert len(nb) == 6 * 4
    assert all(sum(x != y for x, y in zip(a.spec, n.spec)) == 1 for n in nb)


def test_canonical_classes(space):
    classes = {space.canonical(a) for a in space.enumerate()}
    assert len(classes) == 6466
    # isomorphic: node 1 = x, so conv(node 1) and conv(node 0) are the same term
    a = space.parse("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|")
    b = space.parse("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    assert space.canonical(a) == space.canonical(b)
    # a branch cut off by none: the op into node 1 never reaches the output
    c = space.parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    d = space.parse("|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert space.canonical(c) == space.canonical(d)
    assert space.canonical(BEST_C10) != space.canonical(c)


@pytest.mark.benchdata
def test_canonical_equals_nats_unique_string(space, bench_root):
    df = pd.read_csv(bench_root / "nb201/nb201-nats-tss-test200/nats_bench.csv")
    ours = df["ArchitectureString"].map(space.canonical)
    assert ours.nunique() == df["UniqueString"].nunique() == 6466
    assert (ours == df["UniqueString"]).all()


def test_encodings(space):
    a = space.parse(BEST_C10)
    onehot = space.encode(a, "onehot")
    assert onehot.shape == (30,) and onehot.sum() == 6
    path = space.encode(a, "path")
    assert path.shape == (84,) and path.sum() == 4  # no none: all four paths live
    empty = space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert space.encode(empty, "path").sum() == 0
    adj = space.encode(a, "adjacency")
    assert adj.shape == (28 + 30,)
    with pytest.raises(UnknownNameError, match="Known NB201 encodings"):
        space.encode(a, "graph2vec")


def _built_params(space, arch, num_classes=10):
    """Parameters of the torch network as built (on the meta device: shapes only, no weights drawn)."""
    with torch.device("meta"):
        net = space.build(arch, num_classes=num_classes)
    return sum(p.numel() for p in net.parameters())


def test_build_only_chosen_ops(space):
    import torch

    empty = space.build("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert not any(isinstance(m, torch.nn.Conv2d) for c in empty.cells for m in c.modules()
                   if type(c).__name__ == "NB201Cell")
    out = space.build(BEST_C10, num_classes=7)(torch.zeros(2, 3, 32, 32))
    assert out.shape == (2, 7)


def _count_by_op_pairs(space, strings):
    """Built parameter count (millions) of each string. The count depends only on how many 3x3 and
    1x1 convolutions a cell has, so one network per such pair is built."""
    built: dict[tuple[int, int], float] = {}
    out = []
    for s in strings:
        a = space.parse(s)
        key = (a.spec.count("nor_conv_3x3"), a.spec.count("nor_conv_1x1"))
        if key not in built:
            built[key] = _built_params(space, a) / 1e6
        out.append(built[key])
    return np.array(out)


@pytest.mark.benchdata
def test_param_counts_equal_published_for_every_architecture(space, bench_root):
    """Built counts equal the published ones. The NASWOT table's ``params`` holds, for a few
    architectures, a value that is no whole number of parameters (an average over networks);
    there the NB201 cost count published by NAS-Bench-Suite-Zero must match instead."""
    m = pd.read_csv(bench_root / "nb201/nb201-merged-derived/nb201_all15625_merged.csv",
                    usecols=["arch_str", "params_M__naswot", "zc_cifar10_params"])
    ours = _count_by_op_pairs(space, m["arch_str"])
    naswot = m["params_M__naswot"].to_numpy()
    suite = m["zc_cifar10_params"].to_numpy()
    has_suite = ~np.isnan(suite)
    assert has_suite.sum() == 9445
    np.testing.assert_allclose(ours[has_suite], suite[has_suite], rtol=0, atol=1e-9)
    differs = np.abs(ours - naswot) > 1e-9
    whole = np.abs(naswot * 1e6 - np.round(naswot * 1e6)) < 1e-3
    explained = ~whole | has_suite  # not a count at all, or the other published count agrees
    assert differs.sum() < 0.015 * len(m), f"{differs.sum()} differ from the NASWOT table"
    # a whole-number NASWOT value that differs where no second source exists (2 cells, both with
    # a dead branch) cannot be checked either way; keep it a tiny, visible remainder
    unexplained = m.loc[differs & ~explained, "arch_str"].tolist()
    assert len(unexplained) <= 0.0005 * len(m), unexplained
    # the grouping argument holds: strings with the same op counts build to equal sizes
    rng = np.random.default_rng(0)
    for i in rng.choice(len(m), 30, replace=False):
        assert _built_params(space, m["arch_str"][i]) / 1e6 == pytest.approx(ours[i], abs=1e-12)


@pytest.mark.slow
@pytest.mark.benchdata
def test_param_counts_built_for_all(space, bench_root):
    """Every one of the 15,625 networks built, matched against NAS-Bench-Suite-Zero's count."""
    m = pd.read_csv(bench_root / "nb201/nb201-merged-derived/nb201_all15625_merged.csv",
                    usecols=["arch_str", "zc_cifar10_params"])
    grouped = _count_by_op_pairs(space, m["arch_str"])
    for s, g, published in zip(m["arch_str"], grouped, m["zc_cifar10_params"]):
        n = _built_params(space, s) / 1e6
        assert n == pytest.approx(g, abs=1e-12), s
        if published == published:
            assert n == pytest.approx(published, abs=1e-9), s


def test_architecture_value_semantics(space):
    a = space.parse(BEST_C10)
    assert isinstance(a, Architecture) and hash(a) == hash(space.parse(BEST_C10))
    assert str(a) == BEST_C10
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        a.spec = ()  # type: ignore[misc]
    assert len(list(itertools.islice(space.enumerate(), 3))) == 3
