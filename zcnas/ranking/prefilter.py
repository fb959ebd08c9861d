"""A zero-cost pre-filter for other searchers: give it candidates, get back the best ``k``.

Any search loop (evolution, Bayesian optimisation, an Optuna study, a script in another language
through ``zcnas prefilter``) can ask which of its candidates are worth a real evaluation::

    from zcnas.ranking import Prefilter
    pf = Prefilter(proxies=("naswot", "synflow"), dataset="cifar10", data_dir=...)
    for generation in range(G):
        offspring = [mutate(p) for p in parents]
        for arch, score, per_proxy in pf(offspring, k=4):
            evaluate(arch)

A :class:`Prefilter` loads its image batch once and keeps every score it computed in a cache, so a
candidate proposed again in a later call is not scored again. The cache can be seeded with scores
computed elsewhere (``cache=`` a wide frame, e.g. a record store's ``scores_wide``); those must come
from the same configuration if they are to be compared with newly computed ones.

The ranking criterion is the one of :func:`zcnas.ranking.order_by`: one proxy in its own direction,
or an aggregate of several (default ``mean_log_rank``) taken over the candidates of the call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from zcnas.arch import Architecture
from zcnas.errors import InputError, check_int
from zcnas.proxies import PROXIES, get_proxy
from zcnas.ranking.backends import make_backend
from zcnas.ranking.scoring import ScoringConfig, load_batch, score_architectures
from zcnas.records import RecordStore
from zcnas.spaces import get_space

log = logging.getLogger("zcnas")


class Pick(NamedTuple):
    """One selected candidate: the architecture string, its criterion (higher is better) and
    ``{proxy: value}`` (NaN where the proxy failed)."""

    arch: str
    score: float
    proxies: dict[str, float]


@dataclass
class PrefilterResult(Sequence):
    """The top ``k`` candidates, best first. Iterating yields :class:`Pick` tuples;
    ``table`` has arch, rank, score and one column per proxy; ``note`` says when fewer than ``k``
    candidates were given; ``n_candidates`` is the number of distinct candidates ranked;
    ``n_computed`` how many (arch, proxy) scores this call computed (the rest came from the cache)."""

    table: pd.DataFrame
    proxies: list[str]
    n_candidates: int
    n_computed: int = 0
    note: str = ""
    _picks: list[Pick] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self._picks:
            cols = [self.table[p].to_numpy(dtype=float) for p in self.proxies]
            self._picks = [Pick(a, float(sc), {p: float(c[i]) for p, c in zip(self.proxies, cols, strict=True)})
                           for i, (a, sc) in enumerate(zip(self.table["arch"], self.table["score"], strict=True))]

    def __getitem__(self, i):
        return self._picks[i]

    def __len__(self) -> int:
        return len(self._picks)

    def __iter__(self) -> Iterator[Pick]:
        return iter(self._picks)

    @property
    def archs(self) -> list[str]:
        return [p.arch for p in self._picks]


class Prefilter:
    """Reusable zero-cost pre-filter: scores candidates with ``proxies`` and keeps the top ``k``.

    Parameters (keyword-only, stored as given; checked on first use)
    ----------
    proxies : names or a comma-separated string (see ``zcnas list proxies``); default the space's best
        measured ranker (``space.default_proxies``).
    aggregate : how several proxies combine (default ``mean_log_rank``); ``None`` with one proxy
        ranks by that proxy in its direction.
    space, dataset, data_dir, batch_size, seed, sampling, device : as for :func:`zcnas.ranking.rank`.
        ``seed`` fixes the image batch and each network's initialisation (per architecture string).
    cache : optional wide frame (index arch strings, one column per proxy) of scores already known.
    store : optional record store path: scores of the same configuration found there are reused,
        new ones are saved there as they are computed (shared across calls, processes and runs).
    dedupe : score one network per function class (the store then serves every string of a class).
    backend, workers : where the networks are scored (``local``, ``process``, ``ray``; see
        :func:`zcnas.ranking.rank`).
    raise_errors : raise on a failing proxy instead of ranking that candidate last.
    """

    def __init__(self, *, proxies: Sequence[str] | str | None = None, aggregate: str | None = None,
                 space: str | None = None, dataset: str = "digits", data_dir: str | None = None,
                 batch_size: int = 64, seed: int = 0, sampling: str = "random", device: str = "cpu",
                 cache: pd.DataFrame | None = None, store: str | None = None, dedupe: bool = False,
                 backend: str = "local", workers: int | None = None, raise_errors: bool = False,
                 progress: bool = False, download: bool = False):
        self.proxies = proxies
        self.download = download
        self.progress = progress
        self.aggregate = aggregate
        self.space = space
        self.dataset = dataset
        self.data_dir = data_dir
        self.batch_size = batch_size
        self.seed = seed
        self.sampling = sampling
        self.device = device
        self.raise_errors = raise_errors
        self.store = store
        self.dedupe = dedupe
        self.backend = backend
        self.workers = workers
        self._names: list[str] | None = None
        self._batch = None
        self._config = None
        self._cache: dict[str, dict[str, float]] = {}
        if cache is not None:
            self.add_to_cache(cache)

    # ---- set-up ----------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Canonical proxy names (validated on first access)."""
        if self._names is None:
            from zcnas.proxies import resolve_proxies

            names = resolve_proxies(self.proxies if self.proxies is not None
                                    else get_space(self.space).default_proxies)
            if self.aggregate not in (None, "none"):
                from zcnas.aggregate import AGGREGATES

                AGGREGATES.resolve(self.aggregate)
            elif len(names) > 1 and self.aggregate == "none":
                raise InputError("aggregate='none' needs exactly one proxy; give one proxy or an aggregate name.")
            check_int("batch_size", self.batch_size, "Prefilter", minimum=1)
            check_int("seed", self.seed, "Prefilter", minimum=0)
            get_space(self.space)
            self._names = names
        return self._names

    def _ensure_batch(self) -> None:
        """Load the image batch once (only when a data-dependent proxy needs it)."""
        if self._config is not None:
            return

        config = ScoringConfig(space=self.space, dataset=self.dataset, data_dir=self.data_dir,
                               batch_size=self.batch_size, seed=self.seed, sampling=self.sampling,
                               device=self.device, dedupe=self.dedupe, download=self.download)
        if any(get_proxy(n).needs_data for n in self.names):
            self._batch, config = load_batch(config)
        self._config = config

    def add_to_cache(self, scores: pd.DataFrame) -> int:
        """Add known scores (index: arch strings, columns: proxy names; NaN = failed). Returns the
        number of architectures added or updated."""

        space = get_space(self.space)
        cols = {c: PROXIES.resolve(c) for c in scores.columns if c in PROXIES}
        values = scores[list(cols)].to_numpy(dtype=float)
        canon = list(cols.values())
        for arch, row in zip(scores.index, values, strict=True):
            entry = self._cache.setdefault(space.format(space.coerce(str(arch))), {})
            entry.update(zip(canon, row.tolist(), strict=True))
        return len(values)

    @property
    def cache_size(self) -> int:
        """Number of architectures with at least one cached score."""
        return len(self._cache)

    # ---- scoring ---------------------------------------------------------------------------------
    def score(self, candidates: Iterable[Architecture | str]) -> pd.DataFrame:
        """Wide scores of ``candidates`` (distinct, in the order given): index arch, one column per
        proxy. Only (arch, proxy) pairs missing from the cache are computed."""
        names = self.names
        space = get_space(self.space)
        strings = list(dict.fromkeys(space.format(space.coerce(a)) for a in candidates))
        if not strings:
            raise InputError("No candidates given to the pre-filter.")
        self._last_computed = 0
        todo = [s for s in strings if any(n not in self._cache.get(s, {}) for n in names)]
        if todo:
            self._ensure_batch()
            need = [n for n in names if any(n not in self._cache.get(s, {}) for s in todo)]
            long = self._score_with_backend(todo, need)
            n_stored = long.attrs.get("n_from_store", 0)
            for i, row in enumerate(long.itertuples(index=False)):
                if (row.proxy not in self._cache.get(row.arch, {})):
                    self._cache.setdefault(row.arch, {})[row.proxy] = (
                        float(row.value) if row.status == "ok" else float("nan"))
                    self._last_computed += i >= n_stored
        return pd.DataFrame([[self._cache[s][n] for n in names] for s in strings],
                            index=pd.Index(strings, name="arch"), columns=names)

    def _score_with_backend(self, todo: list[str], need: list[str]) -> pd.DataFrame:
        from contextlib import nullcontext


        backend = make_backend(self.backend, workers=self.workers)
        try:
            with RecordStore(self.store, mode="a") if self.store else nullcontext() as st:
                return score_architectures(todo, need, self._config, batch=self._batch, progress=self.progress,
                                           raise_errors=self.raise_errors, store=st, backend=backend)
        finally:
            backend.close()

    def __call__(self, candidates: Iterable[Architecture | str], k: int) -> PrefilterResult:
        """The top ``k`` of ``candidates``; all of them (best first, with a note) when fewer than
        ``k`` are given."""
        return self.select(candidates, k)

    def select(self, candidates: Iterable[Architecture | str], k: int) -> PrefilterResult:
        """Same as calling the pre-filter. The criterion is that of
        :func:`zcnas.ranking.order_by` (one proxy in its direction, or the aggregate over the
        candidates, failed scores ranked last, ties broken by the architecture string)."""
        import numpy as np


        check_int("k", k, "Prefilter", minimum=1)
        wide = self.score(candidates)
        names = self.names
        if len(names) == 1 and self.aggregate in (None, "none"):
            score = wide[names[0]].to_numpy(dtype=float) * (1.0 if get_proxy(names[0]).higher_is_better else -1.0)
        else:
            from zcnas.aggregate import aggregate as combine

            directions = {p: get_proxy(p).higher_is_better for p in names}
            score = combine(wide, names, directions, method=self.aggregate or "mean_log_rank").to_numpy(dtype=float)
        archs = wide.index.to_numpy(dtype=str)
        order = np.lexsort((archs, np.where(np.isnan(score), np.inf, -score)))[:k]
        table = wide.iloc[order].reset_index()
        table.insert(1, "score", score[order])
        table.insert(1, "rank", np.arange(1, len(order) + 1))
        note = ""
        if k > len(wide):
            note = f"k={k} but only {len(wide)} distinct candidates were given; returning all of them."
            log.info(note)
        return PrefilterResult(table, list(names), len(wide), self._last_computed, note)


def prefilter(candidates: Iterable[Architecture | str], k: int, *,
              proxies: Sequence[str] | str | None = None, aggregate: str | None = None,
              **options: Any) -> PrefilterResult:
    """One-shot pre-filter: the top ``k`` of ``candidates`` by zero-cost ``proxies`` (default: the
    space's best measured ranker, ``zcnas list spaces``).

    ``options`` are the other :class:`Prefilter` parameters (space, dataset, data_dir, batch_size,
    seed, device, cache, ...). In a loop, build one :class:`Prefilter` and call it instead, so the
    batch is loaded once and scores are cached.
    """
    return Prefilter(proxies=proxies, aggregate=aggregate, **options)(candidates, k)


__all__ = ["Pick", "Prefilter", "PrefilterResult", "prefilter"]
