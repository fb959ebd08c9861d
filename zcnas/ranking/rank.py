"""``rank``: score candidates with zero-cost proxies and order them by one proxy or an aggregate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from zcnas.constraints import (
    PROXY_COSTS,
    apply_budgets,
    hypervolume,
    load_costs,
    pareto_front,
    parse_budgets,
    resolve_cost,
)
from zcnas.errors import InputError
from zcnas.ranking.scoring import ScoringConfig
from zcnas.ranking.stages import (
    AggregateSelector,
    Candidates,
    Constraints,
    ProxyScorer,
    Scorer,
    Selector,
    order_by,
)
from zcnas.spaces import get_space


@dataclass
class RankResult:
    """Ranked candidates: ``table`` has arch, rank (1 = best), score (the ranking criterion) and one
    column per proxy; ``scores`` holds the long per-proxy rows with status and seconds."""

    table: pd.DataFrame
    scores: pd.DataFrame
    run_key: str
    config: ScoringConfig | None
    #: with budgets: the candidates scored (``table`` then holds only the feasible ones)
    n_candidates: int | None = None
    budgets: tuple = ()
    #: with ``pareto=COST``: the Pareto front of (score max, cost min) among the feasible candidates
    #: and its normalised hypervolume (see :mod:`zcnas.constraints`)
    front: pd.DataFrame | None = None
    hypervolume: float | None = None

    def top(self, k: int) -> pd.DataFrame:
        return self.table.head(k)


def rank(candidates: Candidates | Sequence, scorer: Scorer | None = None, *, selector: Selector | None = None,
         constraints: Constraints | None = None, store: str | Path | Any = None) -> RankResult:
    """Score ``candidates`` with ``scorer`` and rank them by ``selector``.

    ``candidates``: a :class:`~zcnas.ranking.stages.Candidates` (seeded sample, whole space, list
    or file) or a list of architectures. ``scorer``: a :class:`~zcnas.ranking.stages.ProxyScorer`
    (proxies, :class:`ScoringConfig`, backend) or a
    :class:`~zcnas.ranking.stages.StoredScorer`; default: the space's best measured ranker on its
    default dataset. ``selector``: default the space's default aggregate
    (:class:`~zcnas.ranking.stages.AggregateSelector`) for several proxies, the proxy itself for
    one. ``constraints``: hardware budgets and a Pareto cost
    (:class:`~zcnas.ranking.stages.Constraints`); params/flops costs are scored as extra proxies
    when not ranked by. ``store``: a record-store path (or open store) to save to and resume
    from: running the same call again resumes.

    >>> from zcnas.ranking import Candidates, ProxyScorer, ScoringConfig, rank
    >>> res = rank(Candidates("nb201", sample=20, seed=0),
    ...            ProxyScorer("params,synflow", ScoringConfig("nb201", dataset="digits", batch_size=8)))
    >>> list(res.top(3).columns[:3])
    ['arch', 'rank', 'score']
    """

    cands = Candidates.of(candidates)
    scorer = scorer if scorer is not None else ProxyScorer(config=ScoringConfig(space=cands.space))
    if not isinstance(scorer, Scorer):
        raise InputError(f"The 'scorer' parameter of rank must be a Scorer. Got {type(scorer).__name__} instead.")
    config = getattr(scorer, "config", None)
    if config is not None and config.space != cands.space:
        raise InputError(f"The candidates are in space {cands.space!r} but the scorer's config is for "
                         f"{config.space!r}; give ScoringConfig(space={cands.space!r}).")
    names = list(scorer.proxies)
    constraints = constraints if constraints is not None else Constraints()
    extra = [c for c in constraints.cost_names() if c in PROXY_COSTS and c not in names]
    if selector is None:
        method = get_space(cands.space).default_aggregate if len(names) > 1 else None
        selector = AggregateSelector(method or ("mean_log_rank" if len(names) > 1 else None))
    if not isinstance(selector, Selector):
        raise InputError(f"The 'selector' parameter of rank must be a Selector. Got {type(selector).__name__}.")
    if isinstance(selector, AggregateSelector) and selector.method in (None, "none") and len(names) > 1:
        raise InputError("aggregate='none' needs exactly one proxy; give one proxy or an aggregate name.")
    archs = [get_space(cands.space).format(a) for a in cands.resolve()]
    archs = list(dict.fromkeys(archs))
    if store is not None and isinstance(store, str | Path):
        from zcnas.records import RecordStore

        with RecordStore(store, mode="a") as st:
            wide = _score(scorer, archs, names + extra, st)
    else:
        wide = _score(scorer, archs, names + extra, store)
    long = getattr(scorer, "long_", None)
    run_key = getattr(scorer, "run_key_", None) or ""
    if isinstance(selector, AggregateSelector):
        table = order_by(wide, selector.proxies or names, selector.method)
    else:
        crit = selector.predict(wide[names]).iloc[:, 0]
        table = wide.copy()
        table.insert(0, "score", crit.reindex(wide.index))
        table = table.reset_index().rename(columns={"index": "arch"})
        table = table.sort_values(["score", "arch"], ascending=[False, True], na_position="last", kind="mergesort")
        table.insert(1, "rank", range(1, len(table) + 1))
        table = table.reset_index(drop=True)
    result = RankResult(table=table, scores=long if long is not None else pd.DataFrame(), run_key=run_key,
                        config=config)
    if not constraints:
        return result
    return constrain(result, constraints.budgets, constraints.pareto,
                     costs=constraints.costs if constraints.costs is not None else store,
                     cost_dataset=constraints.cost_dataset, data_root=constraints.data_root)


def _score(scorer: Scorer, archs: list[str], names: list[str], store) -> pd.DataFrame:
    if isinstance(scorer, ProxyScorer):
        wide = scorer.score_with(archs, names, store)
    else:
        wide = scorer.score(archs, store)
    wide.index.name = None
    return wide


def constrain(result: RankResult, budgets=None, pareto: str | None = None, *, costs=None,
              cost_dataset: str = "cifar10", data_root: str | None = None) -> RankResult:
    """``result`` with cost columns joined, only the candidates within ``budgets`` (re-ranked), and
    with ``pareto`` the front of (score, that cost) and its hypervolume (normalised over the
    feasible candidates, reference point (1.1, 1.1); see :mod:`zcnas.constraints`)."""
    import dataclasses


    bs = parse_budgets(budgets)
    wanted = [b.cost for b in bs] + ([resolve_cost(pareto).name] if pareto else [])
    table = result.table
    have = [n for n in wanted if resolve_cost(n).find_column(table.columns) is not None]
    todo = [n for n in wanted if n not in have]
    if todo:
        c = load_costs(table["arch"], todo, source=costs, dataset=cost_dataset, data_root=data_root)
        table = table.join(c, on="arch")
    n = len(table)
    table = apply_budgets(table, bs).copy()
    table["rank"] = range(1, len(table) + 1)
    table = table.reset_index(drop=True)
    front = hv = None
    if pareto:
        col = resolve_cost(pareto).find_column(table.columns)
        front = pareto_front(table, {"score": "max", col: "min"}).reset_index(drop=True)
        hv = hypervolume(front[["score", col]], ["max", "min"], bounds=table[["score", col]].to_numpy(float))
    return dataclasses.replace(result, table=table, n_candidates=n, budgets=tuple(bs), front=front,
                               hypervolume=hv)
