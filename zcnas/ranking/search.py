"""Search: candidates -> zero-cost scores -> a training-free ranking (plus a surrogate) -> top k ->
confirmation by short training -> the final ranking, all saved to a record store.

The pipeline is made of small stages that users pass as objects: a ``Scorer`` and a
``Selector`` (:mod:`zcnas.ranking.stages`) and a ``Confirmer`` (:mod:`zcnas.ranking.confirm`: real
short training with the space's recipe, or a benchmark's short-schedule accuracy).

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zcnas.arch import Architecture
from zcnas.errors import InputError, check_int
from zcnas.ranking.confirm import BenchmarkConfirmer, Confirmation, Confirmer, confirm_many
from zcnas.ranking.scoring import ScoringConfig
from zcnas.ranking.stages import AggregateSelector, Candidates, ProxyScorer, Scorer, Selector
from zcnas.spaces import get_space
from zcnas.surrogate import FeatureSpec, XGBSurrogate

log = logging.getLogger("zcnas")


def _hash(doc: Any) -> str:
    return hashlib.sha1(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


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

        if len(confs) < 2:  # too few to fit: fall back to the training-free criterion
            return self.selector.predict(scores).iloc[:, 0].reindex(rest)
        params = {"n_estimators": 200, "learning_rate": 0.05, "max_depth": 4, "colsample_bytree": 0.7,
                  "subsample": 0.9, "min_child_weight": 1.0, **self.surrogate_params}
        spec = FeatureSpec(space=self.space, encodings=get_space(self.space).encodings[:1], graph=True,
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
def search(candidates: Candidates | Sequence, scorer: Scorer | None = None, selector: Selector | None = None,
           confirmer: Confirmer | None = None, *, k: int = 10, active: bool = False, batch: int | None = None,
           budget_trainings: int | None = None, budget_seconds: float | None = None,
           surrogate_params: dict[str, Any] | None = None, store: str | Path | None = None) -> SearchResult:
    """Run a :class:`SearchPipeline` of the given stages on ``candidates`` (what ``zcnas search``
    calls). ``scorer`` defaults to the space's best measured ranker, ``selector`` to its
    aggregate; without a ``confirmer`` the search is training-free (``k`` is ignored)."""
    cands = Candidates.of(candidates)
    if scorer is None:
        scorer = ProxyScorer(config=ScoringConfig(space=cands.space))
    if selector is None:
        selector = AggregateSelector(get_space(cands.space).default_aggregate or "mean_log_rank")
    pipe = SearchPipeline(scorer, selector, confirmer, k=k if confirmer is not None else 0, active=active,
                          batch=batch, budget_trainings=budget_trainings, budget_seconds=budget_seconds,
                          surrogate_params=surrogate_params, space=cands.space)
    return pipe.run(cands.resolve(), store=store)


__all__ = ["SearchPipeline", "SearchResult", "search"]
