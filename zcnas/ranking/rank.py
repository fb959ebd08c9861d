"""``rank``: score candidates with zero-cost proxies and order them by one proxy or an aggregate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from zcnas.errors import InputError, check_int
from zcnas.ranking.candidates import candidates as make_candidates
from zcnas.ranking.scoring import ScoringConfig, score_architectures, wide_scores


@dataclass
class RankResult:
    """Ranked candidates: ``table`` has arch, rank (1 = best), score (the ranking criterion) and one
    column per proxy; ``scores`` holds the long per-proxy rows with status and seconds."""

    table: pd.DataFrame
    scores: pd.DataFrame
    run_key: str
    config: ScoringConfig
    #: with budgets: the candidates scored (``table`` then holds only the feasible ones)
    n_candidates: int | None = None
    budgets: tuple = ()
    #: with ``pareto=COST``: the Pareto front of (score max, cost min) among the feasible candidates
    #: and its normalised hypervolume (see :mod:`zcnas.constraints`)
    front: pd.DataFrame | None = None
    hypervolume: float | None = None

    def top(self, k: int) -> pd.DataFrame:
        return self.table.head(k)


def order_by(wide: pd.DataFrame, proxies: Sequence[str], aggregate: str | None = None) -> pd.DataFrame:
    """Rank rows of a wide score table. One proxy: its value in its direction; several: an
    aggregate from :mod:`zcnas.aggregate` (default mean of log-ranks). Higher ``score`` is better;
    architectures whose criterion is missing come last."""
    from zcnas.proxies import get_proxy

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


def rank(space: str | None = None, *, proxies: Sequence[str] | str = ("synflow", "jacob_cov", "naswot"),
         sample: int | None = None, all: bool = False, archs=None, archs_file: str | Path | None = None,
         dataset: str = "digits", data_dir: str | None = None, batch_size: int = 64, seed: int = 0,
         sampling: str = "random", store: str | Path | None = None, aggregate: str | None = None,
         dedupe: bool = False, device: str = "cpu", memory_format: str = "channels_last",
         progress: bool = True,
         raise_errors: bool = False, backend: str = "local", workers: int | None = None,
         ray_address: str | None = None, budgets=None, pareto: str | None = None, costs=None,
         cost_dataset: str = "cifar10", data_root: str | None = None) -> RankResult:
    """Score candidate architectures with zero-cost proxies and rank them.

    Candidates: ``sample=N`` (seeded), ``all=True``, ``archs=[...]`` or ``archs_file``. With a
    ``store`` path, results are saved as they are computed, and running the same call again
    resumes. ``dedupe=True`` scores one architecture per function class and copies its scores.
    ``backend`` is ``local`` (this process), ``process`` (``workers`` processes) or ``ray``.
    ``memory_format="contiguous"`` scores in the reference NCHW layout (slower on CPU; the default
    channels_last gives the same values up to float32 rounding, under its own run key).

    Hardware-aware ranking (:mod:`zcnas.constraints`): ``budgets`` (``["latency:pixel3=5ms",
    "params=0.5M"]``) keep only the candidates within every budget, re-ranked 1..k, and raise
    :class:`~zcnas.constraints.InfeasibleBudgetError` when none is left; ``pareto="latency:pixel3"``
    also returns the Pareto front of (score, cost) and its hypervolume. params/flops costs are
    scored as extra proxies when not ranked by; other costs come from ``costs`` (a frame, record
    store or CSV, see :func:`~zcnas.constraints.load_costs`), else the store's truth rows, else
    HW-NAS-Bench for ``cost_dataset`` under ``data_root`` / ``$ZCNAS_DATA``.
    """
    from zcnas.proxies import resolve_proxies
    from zcnas.ranking.backends import make_backend

    names = resolve_proxies(proxies)
    check_int("batch_size", batch_size, "rank", minimum=1)
    if aggregate not in (None, "none"):
        from zcnas.aggregate import AGGREGATES

        AGGREGATES.resolve(aggregate)
    elif len(names) > 1 and aggregate == "none":
        raise InputError("aggregate='none' needs exactly one proxy; give one proxy or an aggregate name.")
    from zcnas.constraints import PROXY_COSTS, parse_budgets, resolve_cost

    bs = parse_budgets(budgets)
    cost_names = list(dict.fromkeys([b.cost for b in bs] + ([resolve_cost(pareto).name] if pareto else [])))
    extra = [c for c in cost_names if c in PROXY_COSTS and c not in names]
    cands = make_candidates(space, sample=sample, all=all, archs=archs, archs_file=archs_file, seed=seed)
    config = ScoringConfig(space=space, dataset=dataset, data_dir=str(data_dir) if data_dir else None,
                           batch_size=batch_size, seed=seed, sampling=sampling, dedupe=dedupe, device=device,
                           memory_format=memory_format)
    runner = make_backend(backend, workers=workers, address=ray_address)
    if store is not None:
        from zcnas.records import RecordStore

        with RecordStore(store, mode="a") as st:
            long = score_architectures(cands, names + extra, config, store=st, progress=progress,
                                       raise_errors=raise_errors, backend=runner)
    else:
        long = score_architectures(cands, names + extra, config, progress=progress, raise_errors=raise_errors,
                                   backend=runner)
    run_key = long["run_key"].iloc[0]
    table = order_by(wide_scores(long, names + extra), names, aggregate)
    if not cost_names:
        return RankResult(table=table, scores=long, run_key=run_key, config=config)
    return constrain(RankResult(table=table, scores=long, run_key=run_key, config=config), bs, pareto,
                     costs=costs if costs is not None else store, cost_dataset=cost_dataset, data_root=data_root)


def constrain(result: RankResult, budgets=None, pareto: str | None = None, *, costs=None,
              cost_dataset: str = "cifar10", data_root: str | None = None) -> RankResult:
    """``result`` with cost columns joined, only the candidates within ``budgets`` (re-ranked), and
    with ``pareto`` the front of (score, that cost) and its hypervolume (normalised over the
    feasible candidates, reference point (1.1, 1.1); see :mod:`zcnas.constraints`)."""
    import dataclasses

    from zcnas.constraints import apply_budgets, hypervolume, load_costs, pareto_front, parse_budgets, resolve_cost

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
