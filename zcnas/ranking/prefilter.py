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

Candidates may be given in any form the space reads (:func:`to_architecture`): an
:class:`~zcnas.arch.Architecture`, a string form, the space's JSON object, and for DARTS also a
``Genotype`` namedtuple of the DARTS repository, NASLib's compact tuples or two lists of
``(op, input)`` pairs. A candidate may also be a dict that holds the architecture under ``arch``
or ``genotype`` beside fields of the caller's own (an id, a generation): those fields come back in
:meth:`PrefilterResult.records`, exactly as ``zcnas prefilter`` writes its JSON lines
(:func:`read_candidate_lines` reads such lines).
"""

from __future__ import annotations

import json
import logging
import math
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
from zcnas.spaces.base import SearchSpace, echo

log = logging.getLogger("zcnas")

#: the fields of a candidate dict (or JSON line) that may hold its architecture; other fields are kept
ARCH_FIELDS: tuple[str, ...] = ("arch", "genotype")
#: the fields every output record has (an input field of the same name is replaced, with a warning)
OUTPUT_FIELDS: tuple[str, ...] = ("arch", "rank", "score", "reason")


def _plain(v: Any) -> Any:
    """``range`` objects (as in a DARTS ``Genotype``'s concat) as lists; containers recursively."""
    if isinstance(v, range):
        return list(v)
    if isinstance(v, tuple):
        return tuple(_plain(x) for x in v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def to_architecture(obj: Any, space: SearchSpace | str | None = None) -> Architecture:
    """``obj`` as an architecture of ``space``: an :class:`Architecture`, a string form, the space's
    JSON object, or any value its :meth:`~zcnas.spaces.base.SearchSpace.parse_json` reads (for
    DARTS: NASLib's compact tuples, two cells of ``(op, input)`` pairs); a namedtuple (the DARTS
    repository's ``Genotype``, whose concat may be a ``range``) is read as its fields. A wrong
    value raises :class:`~zcnas.errors.InputError` that says which forms are read."""
    sp = space if isinstance(space, SearchSpace) else get_space(space)
    if isinstance(obj, Architecture):
        if obj.space != sp.name:
            raise InputError(f"This architecture belongs to space {obj.space!r}, but the pre-filter ranks space "
                             f"{sp.name!r}; pass space={obj.space!r} (CLI: --space {obj.space}).")
        return obj
    if isinstance(obj, str):
        try:
            return sp.parse(obj)
        except InputError as exc:
            if sp.name != "darts" and "Genotype(" in obj:
                raise InputError(f"a DARTS genotype given to space {sp.name!r}: pass space='darts' (CLI: --space "
                                 f"darts) ({exc})") from None
            raise
    if hasattr(obj, "_asdict"):  # a namedtuple, e.g. DARTS' Genotype(normal=..., normal_concat=range(2, 6), ...)
        return sp.parse_json({k: _plain(v) for k, v in obj._asdict().items()})
    if isinstance(obj, dict | list | tuple):
        return sp.parse_json(_plain(obj))
    raise InputError(f"A {sp.name} candidate must be an Architecture, a string, or the space's JSON form; got "
                     f"{type(obj).__name__} {echo(obj, 80)}.")


def split_candidate(obj: Any, space: SearchSpace | str | None = None) -> tuple[Architecture, dict]:
    """``(architecture, other fields)`` of one candidate. A dict with an ``arch`` or ``genotype``
    field holds the architecture there and the caller's own fields beside it; ``arch`` is dropped
    from the fields (the output's ``arch`` is the space's official string), every other field,
    ``genotype`` included, is kept as given. Any other value is read by :func:`to_architecture`."""
    sp = space if isinstance(space, SearchSpace) else get_space(space)
    if isinstance(obj, dict):
        found = [f for f in ARCH_FIELDS if f in obj]
        if len(found) > 1:
            raise InputError(f"The candidate has both {found[0]!r} and {found[1]!r} fields; give the architecture "
                             f"in one of them.")
        if found:
            value = obj[found[0]]
            if value is None:
                raise InputError(f"The candidate's {found[0]!r} field is null; give the architecture there "
                                 f"(a string such as Genotype(...) or the space's JSON form).")
            return to_architecture(value, sp), {k: v for k, v in obj.items() if k != "arch"}
        try:
            return to_architecture(obj, sp), {}
        except InputError as exc:
            raise InputError(f"no 'arch' or 'genotype' field, and the object itself is not a {sp.name} "
                             f"architecture; put the architecture under \"arch\" (or \"genotype\") and other fields "
                             f"beside it ({exc})") from None
    return to_architecture(obj, sp), {}


@dataclass
class CandidateLines:
    """What :func:`read_candidate_lines` read: the valid architectures (official strings, in input
    order), each one's other fields and 1-based line number, and one message per bad line
    (``line N: <problem>; <fix>``)."""

    archs: list[str]
    extras: list[dict]
    line_numbers: list[int]
    errors: list[str]


def read_candidate_lines(lines: Iterable[str], space: SearchSpace | str | None = None) -> CandidateLines:
    """Read candidates, one per line, as ``zcnas prefilter`` does: a bare string form (a DARTS
    ``Genotype(...)`` as the DARTS repository prints it, ``range(2, 6)`` concat included; NASLib's
    compact tuples ``[[(0, 3), ...], [...]]``; an NB201 string), a JSON string, a JSON form of the
    space (DARTS: ``{"normal": [...], "reduce": [...]}`` or NASLib's cells as lists), or a JSON
    object with the architecture under ``arch`` or ``genotype`` and other fields beside it. Blank
    lines and lines starting with ``#`` are skipped; a log line such as ``... genotype = Genotype(...)``
    is read from its ``Genotype(``. A bad line is reported, not raised, and the others are kept."""
    sp = space if isinstance(space, SearchSpace) else get_space(space)
    out = CandidateLines([], [], [], [])
    for i, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        obj: Any = text
        if text[0] in "{[\"":
            try:
                obj = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                if text[0] == "[":  # not JSON: a Python literal such as NASLib's [[(0, 3), ...], [...]]
                    obj = text
                else:
                    out.errors.append(f"line {i}: not valid JSON ({why}); expected a string form, a JSON string or "
                                      f"an object {{\"arch\": ..., <your fields>}}")
                    continue
        try:
            try:
                arch, extra = split_candidate(obj, sp)
            except InputError:
                start = text.find("Genotype(")
                if not isinstance(obj, str) or start <= 0:
                    raise
                arch, extra = to_architecture(text[start:], sp), {}  # e.g. "2019-... genotype = Genotype(...)"
        except InputError as exc:
            out.errors.append(f"line {i}: {exc}")
            continue
        out.archs.append(sp.format(arch))
        out.extras.append(extra)
        out.line_numbers.append(i)
    return out


def _json_value(v: Any) -> Any:
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and not math.isfinite(v) else v


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
    ``n_computed`` how many (arch, proxy) scores this call computed (the rest came from the cache);
    ``positions[i]`` is the index, in the candidates as given, of pick ``i`` (first occurrence), so
    ``[candidates[j] for j in result.positions]`` are the caller's own objects, best first;
    ``extras[i]`` are the other fields of pick ``i``'s candidate (a dict with ``arch``/``genotype``)."""

    table: pd.DataFrame
    proxies: list[str]
    n_candidates: int
    n_computed: int = 0
    note: str = ""
    positions: list[int] = field(default_factory=list)
    extras: list[dict] = field(default_factory=list)
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

    def records(self) -> list[dict]:
        """One dict per pick, best first, as ``zcnas prefilter`` writes its JSON lines: the
        candidate's own fields, then ``arch`` (the official string), ``rank``, ``score`` (None where
        every proxy failed, with a ``reason``) and one value per proxy (None = failed)."""
        extras = self.extras or [{} for _ in self._picks]
        out = []
        for pick, rank, extra in zip(self._picks, self.table["rank"], extras, strict=True):
            rec = dict(extra)
            rec.update({"arch": pick.arch, "rank": int(rank), "score": _json_value(pick.score)})
            if rec["score"] is None:
                rec["reason"] = "every proxy of the ranker failed on this architecture (see --store's reason column)"
            rec.update({p: _json_value(v) for p, v in pick.proxies.items()})
            out.append(rec)
        return out


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
                                    else get_space(self.space).default_ranker())
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
            entry = self._cache.setdefault(space.format(to_architecture(arch, space)), {})
            entry.update(zip(canon, row.tolist(), strict=True))
        return len(values)

    @property
    def cache_size(self) -> int:
        """Number of architectures with at least one cached score."""
        return len(self._cache)

    # ---- scoring ---------------------------------------------------------------------------------
    def _key(self, candidate: Any, space: SearchSpace) -> tuple[str, dict]:
        """(official string, other fields) of a candidate. An official string already in the cache
        is its own key (no parsing: a search loop proposes the same strings again and again)."""
        if isinstance(candidate, str) and candidate in self._cache:
            return candidate, {}
        arch, extra = split_candidate(candidate, space)
        return space.format(arch), extra

    def score(self, candidates: Iterable[Any]) -> pd.DataFrame:
        """Wide scores of ``candidates`` (distinct, in the order given): index arch, one column per
        proxy. Only (arch, proxy) pairs missing from the cache are computed."""
        names = self.names
        space = get_space(self.space)
        strings = list(dict.fromkeys(self._key(a, space)[0] for a in candidates))
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

    def __call__(self, candidates: Iterable[Any], k: int) -> PrefilterResult:
        """The top ``k`` of ``candidates``; all of them (best first, with a note) when fewer than
        ``k`` are given."""
        return self.select(candidates, k)

    def select(self, candidates: Iterable[Any], k: int) -> PrefilterResult:
        """Same as calling the pre-filter. The criterion is that of
        :func:`zcnas.ranking.order_by` (one proxy in its direction, or the aggregate over the
        candidates, failed scores ranked last, ties broken by the architecture string)."""
        import numpy as np


        check_int("k", k, "Prefilter", minimum=1)
        space = get_space(self.space)
        first: dict[str, tuple[int, dict]] = {}
        for j, c in enumerate(candidates):
            key, extra = self._key(c, space)
            first.setdefault(key, (j, extra))
        wide = self.score(list(first))
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
        picked = [first[a] for a in table["arch"]]
        return PrefilterResult(table, list(names), len(wide), self._last_computed, note,
                               positions=[j for j, _ in picked], extras=[dict(e) for _, e in picked])


def prefilter(candidates: Iterable[Any], k: int, *,
              proxies: Sequence[str] | str | None = None, aggregate: str | None = None,
              **options: Any) -> PrefilterResult:
    """One-shot pre-filter: the top ``k`` of ``candidates`` by zero-cost ``proxies`` (default: the
    space's best measured ranker, ``zcnas list spaces``).

    ``options`` are the other :class:`Prefilter` parameters (space, dataset, data_dir, batch_size,
    seed, device, cache, ...). In a loop, build one :class:`Prefilter` and call it instead, so the
    batch is loaded once and scores are cached.
    """
    return Prefilter(proxies=proxies, aggregate=aggregate, **options)(candidates, k)


__all__ = ["ARCH_FIELDS", "CandidateLines", "Pick", "Prefilter", "PrefilterResult", "prefilter",
           "read_candidate_lines", "split_candidate", "to_architecture"]
