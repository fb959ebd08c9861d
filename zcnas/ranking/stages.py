"""The stages users compose: candidates, a scorer, a selector and constraints (``zcnas.ranking``).

``Candidates``   which architectures: a seeded sample, the whole (enumerable) space, a list or a
                 file; ``resolve()`` gives the architectures.
``Scorer``       ``score(archs, store) -> wide frame`` (index arch, one column per proxy).
                 :class:`ProxyScorer` computes proxies with a :class:`ScoringConfig` on a backend
                 (resumable through the store's ``scores`` table); :class:`StoredScorer` reads
                 scores computed earlier.
``Selector``     ``predict(scores) -> frame`` of one or more columns, higher is better; the first is
                 the criterion. :class:`AggregateSelector` is a training-free aggregate of the
                 proxies; :class:`SurrogateSelector` an :class:`~zcnas.surrogate.XGBSurrogate`.
``Constraints``  hardware budgets and a Pareto cost (:mod:`zcnas.constraints`).

:func:`zcnas.ranking.rank`, :class:`zcnas.ranking.SearchPipeline` and
:class:`zcnas.ranking.Prefilter` take these objects; the command line builds them from one set of
shared option groups (:mod:`zcnas.cli.options`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zcnas.arch import Architecture
from zcnas.constraints import parse_budgets, resolve_cost
from zcnas.errors import DataError, InputError, check_int
from zcnas.proxies import PROXIES, get_proxy, resolve_proxies
from zcnas.ranking.backends import Backend, make_backend
from zcnas.ranking.candidates import candidates as _make_candidates
from zcnas.ranking.scoring import ScoringConfig, score_architectures, wide_scores
from zcnas.spaces import get_space
from zcnas.surrogate import XGBSurrogate
from zcnas.surrogate.model import load_records


@dataclass(frozen=True)
class Candidates:
    """Which architectures to rank: exactly one of ``sample`` (N drawn with ``seed``), ``all``
    (every architecture of an enumerable space), ``archs`` (architectures or strings) or ``file``
    (one string per line, JSON lines, or a CSV with an ``arch`` column)."""

    space: str | None = None
    sample: int | None = None
    all: bool = False
    archs: tuple | None = None
    file: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "space", get_space(self.space).name)
        if self.archs is not None:
            object.__setattr__(self, "archs", tuple(self.archs))
        if self.sample is not None:
            check_int("sample", self.sample, "Candidates", minimum=1)
        check_int("seed", self.seed, "Candidates", minimum=0)
        chosen = [self.sample is not None, bool(self.all), self.archs is not None, self.file is not None]
        if sum(chosen) != 1:
            raise InputError("Choose the candidates with exactly one of sample=N, all=True, archs=[...] or "
                             "file=PATH (CLI: --sample N | --all | --archs FILE).")

    @classmethod
    def of(cls, value: Any, space: str | None = None) -> Candidates:
        """``value`` as candidates: a :class:`Candidates`, or a sequence of architectures/strings."""
        if isinstance(value, Candidates):
            return value
        if isinstance(value, str | Architecture) or not isinstance(value, Sequence):
            raise InputError(f"candidates must be a Candidates or a list of architectures; got "
                             f"{type(value).__name__}.")
        return cls(space=space, archs=tuple(value))

    def resolve(self) -> list[Architecture]:
        return _make_candidates(self.space, sample=self.sample, all=self.all,
                                archs=list(self.archs) if self.archs is not None else None,
                                archs_file=self.file, seed=self.seed)


def _hash(doc: Any) -> str:
    import hashlib

    return hashlib.sha1(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def order_by(wide: pd.DataFrame, proxies: Sequence[str], aggregate: str | None = None) -> pd.DataFrame:
    """Rank rows of a wide score table. One proxy: its value in its direction; several: an
    aggregate from :mod:`zcnas.aggregate` (default mean of log-ranks). Higher ``score`` is better;
    architectures whose criterion is missing come last."""

    directions = {p: get_proxy(p).higher_is_better for p in proxies}
    if len(proxies) == 1 and aggregate in (None, "none"):
        p = proxies[0]
        score = wide[p] if directions[p] else -wide[p]
    else:
        from zcnas.aggregate import aggregate as combine

        score = combine(wide, list(proxies), directions, method=aggregate or "mean_log_rank")
    table = wide.copy()
    table.insert(0, "score", score)
    table = table.reset_index().rename(columns={"index": "arch"})
    table = table.sort_values(["score", "arch"], ascending=[False, True], na_position="last", kind="mergesort")
    table.insert(1, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


# ---- scorers ---------------------------------------------------------------------------------------
class Scorer(ABC):
    """Gives zero-cost scores of candidate architectures."""

    @property
    @abstractmethod
    def proxies(self) -> list[str]:
        """Canonical names of the proxies (the columns of :meth:`score`)."""

    @abstractmethod
    def score(self, archs: Sequence[str], store=None) -> pd.DataFrame:
        """Wide scores: index ``archs`` (in order), one column per proxy, NaN where failed."""

    def describe(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, "proxies": self.proxies}


class ProxyScorer(Scorer):
    """Computes proxies with :func:`zcnas.ranking.scoring.score_architectures`; with a store the
    scores are saved as they come and reused on a rerun. ``config`` is a
    :class:`~zcnas.ranking.scoring.ScoringConfig` (its space's default when omitted);
    ``proxies`` default to the space's best measured ranker (``space.default_proxies``);
    ``backend`` is a backend name (``local``, ``process``, ``ray``) or object, ``workers`` its
    process count (an error with the local backend, which has none), ``address`` a Ray address."""

    def __init__(self, proxies: Sequence[str] | str | None = None, config: ScoringConfig | None = None, *,
                 backend: Any = None, workers: int | None = None, address: str | None = None,
                 progress: bool = False, raise_errors: bool = False):

        self.config = config if config is not None else ScoringConfig()
        if not isinstance(self.config, ScoringConfig):
            raise InputError(f"The 'config' parameter of ProxyScorer must be a ScoringConfig. "
                             f"Got {type(self.config).__name__} instead.")
        self._proxies = resolve_proxies(proxies if proxies is not None else get_space(self.config.space)
                                        .default_ranker(self.config.build_options.get("task")))
        if backend is None or isinstance(backend, str):
            name = backend or "local"
            if name == "local" and workers is not None:
                raise InputError("--workers applies to --backend process or ray; the local backend scores in "
                                 "this process (drop --workers or add --backend process).")
            if workers is not None:
                check_int("workers", workers, "ProxyScorer", minimum=1)
            if address is not None and name != "ray":
                raise InputError("--ray-address applies to --backend ray only.")
            backend = make_backend(name, workers=workers, address=address)
        elif not isinstance(backend, Backend):
            raise InputError(f"The 'backend' parameter of ProxyScorer must be a name or a Backend. "
                             f"Got {type(backend).__name__} instead.")
        self.backend = backend
        self.progress = progress
        self.raise_errors = raise_errors
        self.run_key_: str | None = None
        self.long_: pd.DataFrame | None = None

    @property
    def proxies(self) -> list[str]:
        return self._proxies

    def describe(self) -> dict[str, Any]:
        cfg = json.loads(self.config.to_json())
        cfg.pop("device", None)
        return {"kind": "proxy", "proxies": self.proxies, "config": cfg}

    def score(self, archs, store=None):

        return self.score_with(archs, self.proxies, store)

    def score_with(self, archs, proxies: Sequence[str], store=None) -> pd.DataFrame:
        """:meth:`score` for ``proxies`` (e.g. the scorer's plus cost proxies); the long rows
        (status, reason, seconds) are kept in ``long_``."""

        long = score_architectures(archs, list(proxies), self.config, store=store, progress=self.progress,
                                   raise_errors=self.raise_errors, backend=self.backend)
        self.run_key_ = str(long["run_key"].iloc[0])
        self.long_ = long
        return wide_scores(long, list(proxies)).reindex(list(archs))


class StoredScorer(Scorer):
    """Scores computed earlier: a wide frame (index arch, proxy columns), or a record store
    (path or open store) read with ``scores_wide(run_key, dataset)``. Column names are resolved to
    canonical proxy names (``nwot`` -> ``naswot``); ``proxies`` picks columns (default: all known
    proxies in the frame). An architecture with no stored row is an error."""

    def __init__(self, source: pd.DataFrame | str | Path | Any, proxies: Sequence[str] | str | None = None, *,
                 run_key: str | None = None, dataset: str | None = None):

        if isinstance(source, pd.DataFrame):
            frame = source
            self.source = "frame"
        else:
            from zcnas.records import RecordStore

            if isinstance(source, str | Path):
                with RecordStore(source, "r") as st:
                    frame = st.scores_wide(run_key=run_key, dataset=dataset)
                self.source = str(source)
            else:
                frame = source.scores_wide(run_key=run_key, dataset=dataset)
                self.source = str(source.path)
        rename = {c: PROXIES.resolve(c) for c in frame.columns if c in PROXIES}
        frame = frame[list(rename)].rename(columns=rename)
        names = resolve_proxies(proxies) if proxies is not None else list(frame.columns)
        missing = [p for p in names if p not in frame.columns]
        if missing or not names:
            raise DataError(f"The stored scores have no column(s) {missing or names}; they have "
                            f"{list(frame.columns)}.")
        self._proxies = names
        self.frame = frame[names]
        self.run_key, self.dataset = run_key, dataset

    @property
    def proxies(self) -> list[str]:
        return self._proxies

    def describe(self) -> dict[str, Any]:
        return {"kind": "stored", "proxies": self.proxies, "source": self.source, "run_key": self.run_key,
                "dataset": self.dataset}

    def score(self, archs, store=None):
        missing = pd.Index(archs).difference(self.frame.index)
        if len(missing):
            raise DataError(f"{len(missing)} candidate(s) have no stored scores, e.g. {missing[0]}; score "
                            f"them first or restrict the candidates to the stored architectures.")
        return self.frame.reindex(list(archs))


# ---- selectors -------------------------------------------------------------------------------------
class Selector(ABC):
    """Ranks scored candidates without training them."""

    @abstractmethod
    def predict(self, scores: pd.DataFrame) -> pd.DataFrame:
        """One or more columns (higher is better), index = ``scores.index``; the first column is the
        ranking criterion. Column names are the model names in the ``predictions`` table."""

    def describe(self) -> dict[str, Any]:
        return {"kind": type(self).__name__}


class AggregateSelector(Selector):
    """A training-free aggregate (see :mod:`zcnas.aggregate`) of ``proxies`` (default: every
    column of the scores); one proxy with ``method=None`` ranks by that proxy in its direction.
    Ranks are taken over the candidates of the search."""

    def __init__(self, method: str | None = "mean_log_rank", proxies: Sequence[str] | None = None):
        if method not in (None, "none"):
            from zcnas.aggregate import AGGREGATES

            method = AGGREGATES.resolve(method)
        self.method = method
        self.proxies = proxies

    @property
    def name(self) -> str:
        return f"aggregate:{self.method}" if self.method not in (None, "none") else "proxy"

    def describe(self) -> dict[str, Any]:
        return {"kind": "aggregate", "method": self.method, "proxies": self.proxies}

    def predict(self, scores):

        names = resolve_proxies(self.proxies) if self.proxies is not None else list(scores.columns)
        missing = [p for p in names if p not in scores.columns]
        if missing:
            raise InputError(f"AggregateSelector needs proxy column(s) {missing}; the scorer gives "
                             f"{list(scores.columns)}.")
        if len(names) > 1 and self.method in (None, "none"):
            raise InputError("AggregateSelector(method=None) needs exactly one proxy; name an aggregate.")
        table = order_by(scores[names], names, self.method).set_index("arch")
        col = self.name if len(names) > 1 or self.method not in (None, "none") else f"proxy:{names[0]}"
        return pd.DataFrame({col: table["score"].reindex(scores.index)})


class SurrogateSelector(Selector):
    """An XGBoost surrogate's prediction is the criterion; the aggregate is kept as a second column.

    ``model``: a fitted :class:`~zcnas.surrogate.XGBSurrogate` or the path of a saved one; or
    ``records`` (a record store or CSV with ``target`` values; :func:`zcnas.surrogate.model.load_records`)
    to fit one with ``features`` (default ``onehot,graf`` plus the proxies that the records and the
    scorer share). ``records_run_key`` / ``records_dataset`` choose the records' proxy scores.
    """

    def __init__(self, model: Any = None, *, records: str | Path | None = None, target: str | None = None,
                 features: str | None = None, aggregate: str | None = "mean_log_rank",
                 records_run_key: str | None = None, records_dataset: str | None = None, random_state: int = 0):
        if (model is None) == (records is None):
            raise InputError("SurrogateSelector needs exactly one of model= (fitted or a saved path) or "
                             "records= (with target=).")
        if records is not None and not target:
            raise InputError("SurrogateSelector(records=...) needs target= (the metric to predict, e.g. "
                             "c10valid_valid_200ep).")
        self.model = model
        self.records = records
        self.target = target
        self.features = features
        self.aggregate = AggregateSelector(aggregate)
        self.records_run_key, self.records_dataset = records_run_key, records_dataset
        self.random_state = random_state
        self.model_: Any = None

    def describe(self) -> dict[str, Any]:
        return {"kind": "surrogate", "model": self.model if isinstance(self.model, str | Path) else
                type(self.model).__name__ if self.model is not None else None,
                "records": str(self.records) if self.records else None, "target": self.target,
                "features": self.features, "aggregate": self.aggregate.method}

    def _fitted(self, proxies: list[str]):
        if self.model_ is not None:
            return self.model_

        if self.model is not None:
            self.model_ = (XGBSurrogate.load(self.model, target=self.target) if isinstance(self.model, str | Path)
                           else self.model)
            return self.model_

        rec = load_records(self.records, target=self.target, run_key=self.records_run_key,
                           dataset=self.records_dataset)
        cols = {PROXIES.resolve(c): c for c in rec.columns if c in PROXIES}
        shared = [p for p in proxies if p in cols]
        feats = self.features or ("onehot,graf" + (",proxies:" + ",".join(shared) if shared else ""))
        X = rec[["arch"] + [cols[p] for p in shared]].rename(columns={cols[p]: p for p in shared})
        self.model_ = XGBSurrogate(features=feats, target=self.target,
                                   random_state=self.random_state).fit(X, rec[self.target])
        return self.model_

    def predict(self, scores):
        model = self._fitted(list(scores.columns))
        X = scores.rename_axis("arch").reset_index()
        pred = model.predict(X)
        name = f"surrogate:{model.target_ or 'target'}"
        out = pd.DataFrame({name: np.asarray(pred, dtype=float)}, index=scores.index)
        return out.join(self.aggregate.predict(scores))


@dataclass(frozen=True)
class Constraints:
    """Hardware budgets (``["latency:pixel3=5ms", "params=0.5M"]`` or parsed budgets) and an
    optional Pareto cost; ``costs`` (a frame, record store or CSV), ``cost_dataset`` and
    ``data_root`` say where non-structural costs come from (see :func:`zcnas.ranking.rank.constrain`)."""

    budgets: tuple = ()
    pareto: str | None = None
    costs: Any = None
    cost_dataset: str = "cifar10"
    data_root: str | None = None

    def __post_init__(self) -> None:

        object.__setattr__(self, "budgets", tuple(parse_budgets(list(self.budgets) if self.budgets else None)))
        if self.pareto:
            resolve_cost(self.pareto)

    def cost_names(self) -> list[str]:

        names = [b.cost for b in self.budgets] + ([resolve_cost(self.pareto).name] if self.pareto else [])
        return list(dict.fromkeys(names))

    def __bool__(self) -> bool:
        return bool(self.budgets or self.pareto)
