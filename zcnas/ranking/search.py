"""Search: candidates -> zero-cost scores -> a training-free ranking (plus a surrogate) -> top k ->
confirmation by short training -> the final ranking, all saved to a record store.

The pipeline is made of three small stages that users pass as objects:

``Scorer``     ``score(archs, store) -> wide frame`` (index arch, one column per proxy).
               :class:`ProxyScorer` computes proxies (resumable through the store's ``scores``
               table); :class:`StoredScorer` reads scores computed earlier (e.g. the full-space
               store ``benchmarks_data/nb201_zcnas_scores.h5`` or published scores).
``Selector``   ``predict(scores) -> frame`` of one or more columns, higher is better; the first
               column is the ranking criterion. :class:`AggregateSelector` is a training-free
               aggregate of the proxies; :class:`SurrogateSelector` adds an
               :class:`~zcnas.surrogate.XGBSurrogate` (a saved model, or one fitted on records).
``Confirmer``  see :mod:`zcnas.ranking.confirm` (real short training, or a benchmark's 12-epoch
               accuracy).

:class:`SearchPipeline` runs them: the top ``k`` by the criterion are confirmed and the final
ranking puts the confirmed architectures first, by their confirmation accuracy. With
``active=True`` the loop goes on: the confirmations so far are the training set of a surrogate
(XGBoost on encodings, graph features and the proxies), which picks the next ``batch``
candidates, until the budget (``budget_trainings`` confirmations in all, or ``budget_seconds`` of
confirmation time) is spent.

With a store, every stage's results are written as they are known: proxy scores to ``scores``,
aggregate and surrogate values to ``predictions`` (run key of the search), confirmations to
``trainings`` (run key of the confirmer), and the search itself to ``runs`` (kind ``search``, with
its configuration). Running the same search again skips finished scores and confirmations.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zcnas.arch import Architecture
from zcnas.errors import DataError, InputError, check_int
from zcnas.ranking.confirm import BenchmarkConfirmer, Confirmation, Confirmer, TrainingConfirmer, confirm_many
from zcnas.spaces import get_space

log = logging.getLogger("zcnas")


def _hash(doc: Any) -> str:
    return hashlib.sha1(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


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
    :class:`~zcnas.ranking.scoring.ScoringConfig`; ``backend`` a backend name or object."""

    def __init__(self, proxies: Sequence[str] | str = ("synflow", "jacob_cov", "naswot"), config=None, *,
                 backend: Any = None, progress: bool = False, raise_errors: bool = False):
        from zcnas.proxies import resolve_proxies
        from zcnas.ranking.scoring import ScoringConfig

        self._proxies = resolve_proxies(proxies)
        self.config = config if config is not None else ScoringConfig()
        self.backend = backend
        self.progress = progress
        self.raise_errors = raise_errors
        self.run_key_: str | None = None

    @property
    def proxies(self) -> list[str]:
        return self._proxies

    def describe(self) -> dict[str, Any]:
        cfg = json.loads(self.config.to_json())
        cfg.pop("device", None)
        return {"kind": "proxy", "proxies": self.proxies, "config": cfg}

    def score(self, archs, store=None):
        from zcnas.ranking.scoring import score_architectures, wide_scores

        long = score_architectures(archs, self.proxies, self.config, store=store, progress=self.progress,
                                   raise_errors=self.raise_errors, backend=self.backend)
        self.run_key_ = str(long["run_key"].iloc[0])
        return wide_scores(long, self.proxies).reindex(list(archs))


class StoredScorer(Scorer):
    """Scores computed earlier: a wide frame (index arch, proxy columns), or a record store
    (path or open store) read with ``scores_wide(run_key, dataset)``. Column names are resolved to
    canonical proxy names (``nwot`` -> ``naswot``); ``proxies`` picks columns (default: all known
    proxies in the frame). An architecture with no stored row is an error."""

    def __init__(self, source: pd.DataFrame | str | Path | Any, proxies: Sequence[str] | str | None = None, *,
                 run_key: str | None = None, dataset: str | None = None):
        from zcnas.proxies import PROXIES, resolve_proxies

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
        from zcnas.proxies import resolve_proxies
        from zcnas.ranking.rank import order_by

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
        from zcnas.surrogate import XGBSurrogate

        if self.model is not None:
            self.model_ = (XGBSurrogate.load(self.model, target=self.target) if isinstance(self.model, str | Path)
                           else self.model)
            return self.model_
        from zcnas.proxies import PROXIES
        from zcnas.surrogate.model import load_records

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


# ---- the pipeline ----------------------------------------------------------------------------------
@dataclass
class SearchResult:
    """``table``: the final ranking (arch, rank, confirmed, confirm_acc, outcome, criterion, the
    selectors' columns and the proxies), confirmed architectures first by their accuracy;
    ``confirmations``: one row per confirmation in the order made (round, arch, acc, outcome,
    seconds, cached); ``seconds``: wall time of each stage of this call."""

    table: pd.DataFrame
    confirmations: pd.DataFrame
    run_key: str
    config: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> str:
        return str(self.table["arch"].iloc[0])

    def top(self, k: int) -> pd.DataFrame:
        return self.table.head(k)


class SearchPipeline:
    """Scorer -> selector -> confirmer, with an optional active loop.

    ``k``: how many top candidates are confirmed first (``0`` confirms none: a training-free search);
    ``active``: go on choosing candidates with a surrogate fitted on the confirmations, ``batch`` at a
    time (default ``k``), while ``budget_trainings`` (total confirmations) and ``budget_seconds``
    (total confirmation time) allow; at least one budget is needed. ``surrogate_params`` are passed
    to the loop's :class:`~zcnas.surrogate.XGBSurrogate`.
    """

    def __init__(self, scorer: Scorer, selector: Selector | None = None, confirmer: Confirmer | None = None, *,
                 k: int = 10, active: bool = False, batch: int | None = None, budget_trainings: int | None = None,
                 budget_seconds: float | None = None, surrogate_params: dict[str, Any] | None = None,
                 space: str | None = None):
        owner = "SearchPipeline"
        if not isinstance(scorer, Scorer):
            raise InputError(f"The 'scorer' parameter of {owner} must be a Scorer. Got {type(scorer).__name__}.")
        selector = selector if selector is not None else AggregateSelector()
        if not isinstance(selector, Selector):
            raise InputError(f"The 'selector' parameter of {owner} must be a Selector. "
                             f"Got {type(selector).__name__}.")
        if confirmer is not None and not isinstance(confirmer, Confirmer):
            raise InputError(f"The 'confirmer' parameter of {owner} must be a Confirmer or None. "
                             f"Got {type(confirmer).__name__}.")
        check_int("k", k, owner, minimum=0)
        if k > 0 and confirmer is None:
            raise InputError(f"k={k} confirmations need a confirmer; pass confirmer= or k=0.")
        if active:
            if confirmer is None:
                raise InputError("active=True needs a confirmer.")
            if budget_trainings is None and budget_seconds is None:
                raise InputError("active=True needs a budget: budget_trainings=N and/or budget_seconds=S.")
            if budget_trainings is not None:
                check_int("budget_trainings", budget_trainings, owner, minimum=1)
            if budget_seconds is not None and not (isinstance(budget_seconds, int | float) and budget_seconds > 0):
                raise InputError(f"The 'budget_seconds' parameter of {owner} must be a number > 0. "
                                 f"Got {budget_seconds!r} instead.")
        if batch is not None:
            check_int("batch", batch, owner, minimum=1)
        self.scorer, self.selector, self.confirmer = scorer, selector, confirmer
        self.k, self.active, self.batch = k, active, batch
        self.budget_trainings, self.budget_seconds = budget_trainings, budget_seconds
        self.surrogate_params = dict(surrogate_params or {})
        self.space = get_space(space).name

    def describe(self, archs: Sequence[str]) -> dict[str, Any]:
        return {"space": self.space, "scorer": self.scorer.describe(), "selector": self.selector.describe(),
                "confirmer": self.confirmer.describe() if self.confirmer else None, "k": self.k,
                "active": self.active, "batch": self.batch, "budget_trainings": self.budget_trainings,
                "budget_seconds": self.budget_seconds, "surrogate_params": self.surrogate_params,
                "n_candidates": len(archs), "candidates_sha1": _hash(list(archs))}

    def run(self, candidates: Sequence[Architecture | str], store=None) -> SearchResult:
        """Run the search over ``candidates``; ``store`` is a path or an open RecordStore."""
        if store is not None and not hasattr(store, "append"):
            from zcnas.records import RecordStore

            with RecordStore(store, mode="a") as st:
                return self._run(candidates, st)
        return self._run(candidates, store)

    def _budget_left(self, confs: list[Confirmation]) -> bool:
        if self.budget_trainings is not None and len(confs) >= self.budget_trainings:
            return False
        return not (self.budget_seconds is not None and sum(c.seconds for c in confs) >= self.budget_seconds)

    def _run(self, candidates, store) -> SearchResult:
        space = get_space(self.space)
        archs = list(dict.fromkeys(space.format(space.coerce(a)) for a in candidates))
        if not archs:
            raise InputError("No candidates to search.")
        config = self.describe(archs)
        run_key = "search:" + _hash(config)
        seconds: dict[str, float] = {}
        if store is not None:
            from zcnas.ranking.scoring import _now, _version

            store.append("runs", [{"run_key": run_key, "kind": "search", "config": json.dumps(config, default=str),
                                   "zcnas_version": _version(), "created": _now()}])
        t0 = time.perf_counter()
        scores = self.scorer.score(archs, store=store)
        seconds["score"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        preds = self.selector.predict(scores)
        criterion = preds.iloc[:, 0]
        seconds["select"] = time.perf_counter() - t0
        if store is not None:
            self._save_predictions(store, run_key, preds, target="score")

        order = _order(criterion)
        confs: list[Confirmation] = []
        rounds: list[int] = []
        t0 = time.perf_counter()
        if self.confirmer is not None and self.k > 0:
            first = order[:self.k]
            if self.active and self.budget_trainings is not None:
                first = first[:self.budget_trainings]
            confs = confirm_many(self.confirmer, first, store=store)
            rounds = [0] * len(confs)
            if len(first) < self.k:
                log.info("k=%d but only %d candidates; confirming all of them.", self.k, len(first))
        rnd = 0
        while self.active and self._budget_left(confs) and len(confs) < len(archs):
            rnd += 1
            done = {c.arch for c in confs}
            rest = [a for a in archs if a not in done]
            pred = self._surrogate_round(confs, scores, rest, rnd, store, run_key)
            step = self.batch or self.k or 1
            if self.budget_trainings is not None:
                step = min(step, self.budget_trainings - len(confs))
            nxt = _order(pred)[:step]
            new = confirm_many(self.confirmer, nxt, store=store)
            confs += new
            rounds += [rnd] * len(new)
        seconds["confirm"] = time.perf_counter() - t0

        table = self._final_table(archs, scores, preds, criterion, confs)
        conf_df = pd.DataFrame([{"round": r, "arch": c.arch, "acc": c.acc, "outcome": c.outcome,
                                 "seconds": c.seconds, "cached": c.cached} for r, c in zip(rounds, confs, strict=True)],
                               columns=["round", "arch", "acc", "outcome", "seconds", "cached"])
        return SearchResult(table, conf_df, run_key, config, seconds)

    def _surrogate_round(self, confs, scores, rest, rnd, store, run_key) -> pd.Series:
        """Fit the loop's surrogate on the confirmations so far and predict the rest."""
        from zcnas.surrogate import FeatureSpec, XGBSurrogate

        if len(confs) < 2:  # too few to fit: fall back to the training-free criterion
            return self.selector.predict(scores).iloc[:, 0].reindex(rest)
        params = {"n_estimators": 200, "learning_rate": 0.05, "max_depth": 4, "colsample_bytree": 0.7,
                  "subsample": 0.9, "min_child_weight": 1.0, **self.surrogate_params}
        spec = FeatureSpec(space=self.space, encodings=("onehot",), graph=True,
                           proxies=tuple(scores.columns))
        X = scores.loc[[c.arch for c in confs]].rename_axis("arch").reset_index()
        y = np.array([c.acc for c in confs], dtype=float)
        model = XGBSurrogate(features=spec, target="confirm_acc", **params).fit(X, y)
        pred = pd.Series(model.predict(scores.loc[rest].rename_axis("arch").reset_index()), index=rest,
                         name=f"xgb:round{rnd}")
        if store is not None:
            self._save_predictions(store, run_key, pred.to_frame(), target="confirm_acc")
        return pred

    def _save_predictions(self, store, run_key: str, preds: pd.DataFrame, target: str) -> None:
        rows = []
        for col in preds.columns:
            vals = preds[col]
            rows.append(pd.DataFrame({"run_key": run_key, "space": self.space, "arch": vals.index.astype(str),
                                      "model": col, "target": target, "value": vals.to_numpy(dtype=float)}))
        if rows:
            store.append("predictions", pd.concat(rows, ignore_index=True))

    def _final_table(self, archs, scores, preds, criterion, confs) -> pd.DataFrame:
        acc = {c.arch: c.acc for c in confs}
        outcome = {c.arch: c.outcome for c in confs}
        t = pd.DataFrame({"arch": archs})
        t["confirmed"] = t["arch"].isin(acc)
        t["confirm_acc"] = t["arch"].map(acc).astype(float)
        if isinstance(self.confirmer, BenchmarkConfirmer) and self.confirmer.outcome_metric:
            t["outcome"] = [outcome.get(a, math.nan) for a in archs]
        t["criterion"] = criterion.reindex(archs).to_numpy(dtype=float)
        for col in preds.columns[1:]:
            t[col] = preds[col].reindex(archs).to_numpy(dtype=float)
        for p in scores.columns:
            t[p] = scores[p].reindex(archs).to_numpy(dtype=float)
        t = t.sort_values(["confirmed", "confirm_acc", "criterion", "arch"], ascending=[False, False, False, True],
                          na_position="last", kind="mergesort").reset_index(drop=True)
        t.insert(1, "rank", range(1, len(t) + 1))
        return t


def _order(values: pd.Series) -> list[str]:
    """Index labels by value, best first; NaN last; ties by arch string."""
    df = pd.DataFrame({"v": values.to_numpy(dtype=float), "a": values.index.astype(str)})
    df = df.sort_values(["v", "a"], ascending=[False, True], na_position="last", kind="mergesort")
    return df["a"].tolist()


# ---- the library form of ``zcnas search`` ----------------------------------------------------------
def search(space: str | None = None, *, sample: int | None = None, all: bool = False, archs=None,
           archs_file: str | Path | None = None, seed: int = 0,
           proxies: Sequence[str] | str = ("synflow", "jacob_cov", "naswot"), aggregate: str | None = "mean_log_rank",
           dataset: str = "digits", data_dir: str | None = None, batch_size: int = 64, device: str = "cpu",
           backend: str = "local", workers: int | None = None,
           scores_store: str | Path | None = None, scores_run_key: str | None = None,
           scores_dataset: str | None = None,
           surrogate: str | Path | None = None, records: str | Path | None = None, target: str | None = None,
           k: int = 10, confirm: str = "benchmark", truth: str | Path | None = None, data_root: str | None = None,
           metric: str | None = None, outcome: str | None = "",
           seconds_per_training: float = 0.0, epochs: int = 12, train_dataset: str = "cifar10",
           train_data_dir: str | None = None, train_device: str | None = None,
           max_train_images: int | None = None, max_test_images: int | None = None,
           active: bool = False, batch: int | None = None, budget_trainings: int | None = None,
           budget_seconds: float | None = None, store: str | Path | None = None,
           progress: bool = True) -> SearchResult:
    """Build a :class:`SearchPipeline` from plain values and run it (what ``zcnas search`` calls).

    Candidates: one of ``sample``, ``all``, ``archs``, ``archs_file``. Scores: computed with
    ``proxies`` on ``dataset`` (``scores_store`` reads precomputed ones instead). Selector: the
    ``aggregate`` of the proxies, or a surrogate (``surrogate`` = saved model path, or ``records`` +
    ``target``). Confirmation (``confirm``): ``"benchmark"`` (``metric``/``outcome``, by default the
    space's ``confirm_metrics``, from ``truth``, a record store, else the space's benchmark table
    under ``data_root`` / ``ZCNAS_DATA``), ``"train"``
    (real short training of ``epochs`` on ``train_dataset``) or ``"none"``.
    """
    from zcnas.ranking.candidates import candidates as make_candidates
    from zcnas.ranking.scoring import ScoringConfig

    space = get_space(space).name
    if confirm not in ("benchmark", "train", "none"):
        raise InputError(f"The 'confirm' parameter of search must be one of ('benchmark', 'train', 'none'). "
                         f"Got {confirm!r} instead.")
    cands = make_candidates(space, sample=sample, all=all, archs=archs, archs_file=archs_file, seed=seed)
    if scores_store is not None:
        scorer: Scorer = StoredScorer(scores_store, proxies, run_key=scores_run_key, dataset=scores_dataset)
    else:
        config = ScoringConfig(space=space, dataset=dataset, data_dir=str(data_dir) if data_dir else None,
                               batch_size=batch_size, seed=seed, device=device)
        from zcnas.ranking.backends import make_backend

        scorer = ProxyScorer(proxies, config, backend=make_backend(backend, workers=workers), progress=progress)
    if surrogate is not None or records is not None:
        selector: Selector = SurrogateSelector(surrogate, records=records, target=target, aggregate=aggregate)
    else:
        selector = AggregateSelector(aggregate)
    confirmer: Confirmer | None
    if confirm == "benchmark":
        if truth is not None:
            pair = get_space(space).confirm_metrics or (None, None)
            if (metric or pair[0]) is None:
                raise InputError(f"Space {space!r} declares no short-training metric; pass metric= (CLI: --metric).")
            confirmer = BenchmarkConfirmer(truth, metric=metric or pair[0], space=space,
                                           outcome=pair[1] if outcome == "" else outcome,
                                           seconds_per_training=seconds_per_training)
        else:
            confirmer = BenchmarkConfirmer.from_benchmark(space, data_root, metric=metric, outcome=outcome,
                                                          seconds_per_training=seconds_per_training)
    elif confirm == "train":
        confirmer = TrainingConfirmer(space=space, dataset=train_dataset, data_dir=train_data_dir, epochs=epochs,
                                      seed=seed, device=train_device, max_train_images=max_train_images,
                                      max_test_images=max_test_images, progress=progress)
    else:
        confirmer = None
    pipe = SearchPipeline(scorer, selector, confirmer, k=k if confirmer is not None else 0, active=active,
                          batch=batch, budget_trainings=budget_trainings, budget_seconds=budget_seconds, space=space)
    return pipe.run(cands, store=store)


__all__ = ["AggregateSelector", "ProxyScorer", "Scorer", "SearchPipeline", "SearchResult", "Selector",
           "StoredScorer", "SurrogateSelector", "search"]
