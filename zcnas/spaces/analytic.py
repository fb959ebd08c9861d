"""Parameter and FLOP counts from the architecture alone, for spaces whose counts are additive.

A space whose ``cost_terms(arch)`` returns a term -> count mapping promises that its network's
parameter count and FLOPs (PyTorch's ``FlopCounterMode``, one image, eval mode: what the
``params`` and ``flops`` proxies count) are ``base + sum(count * unit[term])``. :class:`CostTable`
learns ``base`` and ``unit`` once per space and network configuration (task, classes, input
shape, build options) from networks built on PyTorch's ``meta`` device (shapes only, no memory,
no arithmetic): least squares over enough random architectures to see every term twice, then an
*exact* check, integer for integer, on fresh architectures. A configuration that fails the check
is not additive and is never used (the proxies then count on the built network, as before).

Tables are cached in memory and under :func:`zcnas.paths.cache_dir` (``costs_v1_*.json``), so the
fit (seconds to a few minutes, once) is not repeated by later runs or by worker processes; the
benchmarks' own configurations ship fitted in ``zcnas/spaces/cost_tables/``. A
lookup then costs microseconds instead of building a network (NB101, where channel counts depend
on the whole graph, and TNB101 macro have no ``cost_terms``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zcnas.paths import cache_dir
from zcnas.spaces import get_space
from zcnas.spaces.base import SearchSpace

log = logging.getLogger("zcnas")

TABLE_VERSION = 1
#: fresh architectures every fitted table must reproduce exactly
CHECK_ARCHS = 8
#: tables of the benchmarks' own configurations, fitted and checked by experiments/analytic_costs.py
#: and shipped with zcnas (no fit on first use)
PACKAGED = Path(__file__).with_name("cost_tables")


@dataclass(frozen=True)
class CostTable:
    """``params``/``flops`` = ``base + sum(count * unit[term])`` (integers: parameters and FLOPs)."""

    space: str
    config: str
    terms: tuple[Hashable, ...]
    params_unit: tuple[float, ...]
    flops_unit: tuple[float, ...]
    params_base: float
    flops_base: float
    additive: bool

    def counts(self, arch: Any) -> tuple[int, int] | None:
        """(parameters, FLOPs) of ``arch``, or None when a term was never seen while fitting."""
        space = get_space(self.space)
        index = {t: i for i, t in enumerate(self.terms)}
        p, f = self.params_base, self.flops_base
        for term, n in space.cost_terms(arch).items():
            i = index.get(_key(term))
            if i is None:
                return None
            p += n * self.params_unit[i]
            f += n * self.flops_unit[i]
        return int(round(p)), int(round(f))


def _key(term: Hashable) -> Hashable:
    """Terms as JSON gives them back (tuples of str/int)."""
    return tuple(term) if isinstance(term, tuple | list) else term


def count_network(space_name: str, arch: Any, build_kwargs: dict[str, Any]) -> tuple[int, int]:
    """(parameters, FLOPs) counted on the network built on the meta device (exact; no arithmetic)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    space = get_space(space_name)
    shape = tuple(build_kwargs["input_shape"])
    with torch.device("meta"):
        model = space.build(space.coerce(arch), **build_kwargs)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros((1, *shape), device="meta"))
    return int(params), int(counter.get_total_flops())


def _config_key(space_name: str, build_kwargs: dict[str, Any]) -> str:
    text = json.dumps({"space": space_name, "v": TABLE_VERSION, **build_kwargs}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


_TABLES: dict[str, CostTable] = {}


def cost_table(space_name: str, build_kwargs: dict[str, Any], *, seed: int = 0) -> CostTable | None:
    """The fitted table of ``space_name`` for networks built with ``build_kwargs`` (which must hold
    ``input_shape``; ``num_classes``, a task and other build options as the scorer passes them),
    or None when the space has no ``cost_terms``."""
    space = get_space(space_name)
    key = _config_key(space.name, build_kwargs)
    if key in _TABLES:
        return _TABLES[key]
    if type(space).cost_terms is SearchSpace.cost_terms:  # not overridden: counts are not additive
        return None
    name = f"costs_v{TABLE_VERSION}_{space.name}_{key}.json"
    path = cache_dir() / name
    table = _load(PACKAGED / name) or _load(path)
    if table is None:
        try:
            table = _fit(space.name, key, build_kwargs, seed)
        except Exception as exc:  # noqa: BLE001 - e.g. a network that cannot run on the meta device
            log.info("%s: no analytic parameter/FLOP table (%s: %s); counting on the network instead",
                     space.name, type(exc).__name__, exc)
            table = CostTable(space.name, key, (), (), (), 0.0, 0.0, False)
        _save(path, table)
    _TABLES[key] = table
    return table


def _fit(space_name: str, key: str, build_kwargs: dict[str, Any], seed: int) -> CostTable:
    space = get_space(space_name)
    rng = np.random.default_rng(seed)
    seen: dict[Hashable, int] = {}
    archs: list[Any] = []
    # sample until every term has been seen at least twice (and a margin of extra rows)
    while True:
        batch = space.sample(8, seed=int(rng.integers(2**31)))
        for a in batch:
            archs.append(a)
            for t in space.cost_terms(a):
                seen[_key(t)] = seen.get(_key(t), 0) + 1
        if min(seen.values()) >= 2 and len(archs) >= len(seen) + 4:
            break
        if len(archs) > 40 * (len(seen) + 4):
            break
    terms = tuple(sorted(seen, key=repr))
    index = {t: i for i, t in enumerate(terms)}
    X = np.zeros((len(archs), len(terms) + 1))
    X[:, -1] = 1.0
    y = np.zeros((len(archs), 2))
    log.info("fitting the analytic parameter/FLOP table of %s (%d terms, %d networks on the meta device; once)",
             space_name, len(terms), len(archs))
    for r, a in enumerate(archs):
        for t, n in space.cost_terms(a).items():
            X[r, index[_key(t)]] += n
        y[r] = count_network(space_name, a, build_kwargs)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    table = CostTable(space_name, key, terms, tuple(coef[:-1, 0]), tuple(coef[:-1, 1]), float(coef[-1, 0]),
                      float(coef[-1, 1]), True)
    for a in space.sample(CHECK_ARCHS, seed=seed + 10_007):
        want = count_network(space_name, a, build_kwargs)
        if table.counts(a) != want:
            log.info("%s: parameter/FLOP counts are not additive for %s; counting on the network instead",
                     space_name, build_kwargs)
            return CostTable(space_name, key, (), (), (), 0.0, 0.0, False)
    return table


def _load(path) -> CostTable | None:
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if d.get("version") != TABLE_VERSION:
        return None
    return CostTable(d["space"], d["config"], tuple(_key(t) for t in d["terms"]), tuple(d["params_unit"]),
                     tuple(d["flops_unit"]), d["params_base"], d["flops_base"], d["additive"])


def _save(path, table: CostTable) -> None:
    d = {"version": TABLE_VERSION, "space": table.space, "config": table.config, "terms": list(table.terms),
         "params_unit": list(table.params_unit), "flops_unit": list(table.flops_unit),
         "params_base": table.params_base, "flops_base": table.flops_base, "additive": table.additive}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(d, fh)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache only costs a refit next time
        log.debug("could not cache %s: %s", path, exc)


def analytic_counts(space_name: str, arch: Any, build_kwargs: dict[str, Any]) -> tuple[int, int] | None:
    """(parameters, FLOPs) of ``arch`` from the fitted table, or None (not additive / unseen term)."""
    table = cost_table(space_name, build_kwargs)
    if table is None or not table.additive:
        return None
    return table.counts(arch)


__all__ = ["CostTable", "analytic_counts", "cost_table", "count_network"]
