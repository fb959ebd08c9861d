"""Structural proxies: zero-cost signals read from the architecture itself, with no network.

``graph:<feature>`` is one GRAF graph feature (Kadlecova et al., ICML 2024, "Surprisingly strong
performance prediction with neural graph features") of the space's ``cell_graph``: operation
counts, the number, shortest and longest length of input-to-output paths through a set of
operations, node degrees, depth (:func:`zcnas.graph.graph_features` defines them, the same way
for every space). ``graph:-<feature>`` is the same feature negated, so that a ranker can say
"fewer is better" with the registry's one convention: **higher is better for every proxy**.

They cost microseconds per architecture (no network is built, no data read), which is what makes
them worth having: on NB101, where the published single proxies reach Spearman 0.2-0.45 with
accuracy, a signed aggregate of a few graph features chosen on half of the 30,001 reaches about
0.87 on the other half (``experiments/structural_rankers.py``). They are training-free but not
label-free in the way they are combined: which features and which signs come from labelled
architectures, as for every zcnas ranker chosen on data; say so when you report one.

The names of a space's features: :func:`graph_proxy_names` (``zcnas list proxies --space S``).
A feature the space does not have fails at set-up with the list of those it has.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from zcnas.errors import InputError, UnknownNameError
from zcnas.graph import graph_feature_names, graph_features
from zcnas.proxies.base import PROXIES, ProxyContext, ProxySpec
from zcnas.spaces import get_space

GRAPH_PREFIX = "graph:"


@cache
def _feature_index(space_name: str) -> dict[str, int]:
    space = get_space(space_name)
    (sample,) = space.sample(1, seed=0)
    return {n: i for i, n in enumerate(graph_feature_names(space.cell_graph(sample)))}


def graph_proxy_names(space: str | None = None, *, signed: bool = False) -> list[str]:
    """``graph:<feature>`` for every graph feature of ``space`` (with ``signed``, also the
    negated ``graph:-<feature>``)."""
    feats = list(_feature_index(get_space(space).name))
    out = [GRAPH_PREFIX + f for f in feats]
    return out + [GRAPH_PREFIX + "-" + f for f in feats] if signed else out


def _parse(name: str) -> tuple[str, float]:
    feature = name[len(GRAPH_PREFIX):]
    sign = 1.0
    if feature.startswith("-"):
        feature, sign = feature[1:], -1.0
    if not feature:
        raise InputError(f"Proxy {name!r} names no graph feature: write graph:<feature> or graph:-<feature> "
                         f"(`zcnas list proxies --space S` lists a space's features).")
    return feature, sign


def check_structural(names: list[str], space: str) -> None:
    """Raise (naming the space's features) when a structural proxy in ``names`` does not exist in ``space``."""
    index = _feature_index(get_space(space).name)
    for n in names:
        if n.startswith(GRAPH_PREFIX):
            feature, _ = _parse(n)
            if feature not in index:
                raise UnknownNameError(f"{space} graph feature", feature, list(index))


@lru_cache(maxsize=4096)
def _features(space_name: str, arch: str):
    """All graph features of one architecture (several graph proxies of one architecture share them)."""
    space = get_space(space_name)
    return graph_features(space.cell_graph(space.coerce(arch)))


def _graph_value(space: Any, arch: Any, *, feature: str, sign: float) -> float:
    index = _feature_index(space.name)
    if feature not in index:
        raise UnknownNameError(f"{space.name} graph feature", feature, list(index))
    text = arch if isinstance(arch, str) else space.format(space.coerce(arch))
    return sign * float(_features(space.name, text)[index[feature]]) + 0.0


def _no_network(ctx: ProxyContext, **_: Any) -> float:
    raise InputError("graph proxies read the architecture, not a network: score them through a space "
                     "(zcnas rank, zcnas.ranking.score_architectures), which passes the architecture.")


def _graph_spec(name: str) -> ProxySpec:
    feature, sign = _parse(name)
    return ProxySpec(name, _no_network, True, False, False, {}, (), "GRAF graph feature (Kadlecova et al., "
                     "ICML 2024)" + (", negated" if sign < 0 else ""), per_function=False,
                     arch_fn=_graph_value, arch_options={"feature": feature, "sign": sign})


PROXIES.add_family(GRAPH_PREFIX, _graph_spec, "graph:<feature> / graph:-<feature>: a GRAF feature of the "
                   "space's cell graph (negated with '-'); no network, microseconds per architecture")

__all__ = ["GRAPH_PREFIX", "check_structural", "graph_proxy_names"]
