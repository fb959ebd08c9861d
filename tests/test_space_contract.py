"""The search-space contract, checked on every registered space (a new space is tested the moment
it is registered): string round trips, validation, seeded sampling, moves, function classes,
fixed-length encodings and graph features, and a network that runs."""

from __future__ import annotations

import numpy as np
import pytest

from zcnas.arch import Architecture
from zcnas.errors import InputError
from zcnas.graph import as_graphs
from zcnas.spaces import SPACES, EnumerableSpace, get_space

NAMES = [n for n in SPACES.names() if not n.endswith("_test")]


@pytest.fixture(params=NAMES)
def space(request):
    return get_space(request.param)


def test_strings_round_trip_and_validate(space):
    for a in space.sample(10, seed=1):
        assert isinstance(a, Architecture) and a.space == space.name
        s = space.format(a)
        assert space.parse(s) == a and str(a) == s
        assert space.validate(a) == a
        assert space.parse_json(space.to_json(a)) == a
    with pytest.raises(InputError):
        space.parse("certainly not an architecture")


def test_bad_input_errors_are_one_bounded_line(space):
    for bad in ("", "x" * 100_000, "|" * 5000, "{}"):
        with pytest.raises(InputError) as exc:
            space.parse(bad)
        msg = str(exc.value)
        assert "\n" not in msg and len(msg) <= 500, msg[:200]


def test_sampling_is_seeded(space):
    assert space.sample(5, seed=7) == space.sample(5, seed=7)
    assert space.sample(5, seed=7) != space.sample(5, seed=8)
    assert space.sample(3, np.random.default_rng(3)) == space.sample(3, np.random.default_rng(3))


def test_neighbours_and_mutation(space):
    for a in space.sample(5, seed=2):
        nb = space.neighbours(a)
        assert nb and a not in nb and len(set(nb)) == len(nb)
        assert all(space.validate(n) == n for n in nb[:20])
        assert space.mutate(a, seed=3) in nb


def test_canonical_is_a_function_of_the_architecture(space):
    for a in space.sample(10, seed=4):
        assert space.canonical(a) == space.canonical(space.parse(space.format(a)))


def test_encodings_and_graph_features_have_fixed_length(space):
    archs = space.sample(6, seed=5)
    for kind in space.encodings:
        lengths = {len(space.encode(a, kind)) for a in archs}
        assert len(lengths) == 1, (kind, lengths)
        assert all(np.isfinite(space.encode(a, kind)).all() for a in archs)
    names = space.graph_feature_names()
    for a in archs:
        graphs = as_graphs(space.cell_graph(a))
        assert graphs and all(g.n_nodes >= 2 for g in graphs)
        f = space.graph_features(a)
        assert len(f) == len(names) and np.isfinite(f).all()


def test_enumeration_when_offered(space):
    if not isinstance(space, EnumerableSpace):
        pytest.skip(f"{space.name} is not enumerable (sampling only)")
    for a in space.sample(10, seed=6):
        assert space.at(space.index(a)) == a


def test_build_gives_a_network_that_runs(space):
    import torch

    a = space.sample(1, seed=0)[0]
    shape = space.input_shape(space.default_dataset)
    with torch.no_grad():
        net = space.build(a, input_shape=shape).eval()  # the space's own outputs for its default dataset
        out = net(torch.zeros(1, *shape))
    assert out.shape[0] == 1 and torch.isfinite(out).all()
    for proto in space.network_protocols:
        assert callable(getattr(net, proto)), f"{space.name} declares {proto} but its network lacks it"
