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


def rank(space: str = "nb201", *, proxies: Sequence[str] | str = ("synflow", "jacob_cov", "naswot"),
         sample: int | None = None, all: bool = False, archs=None, archs_file: str | Path | None = None,
         dataset: str = "digits", data_dir: str | None = None, batch_size: int = 64, seed: int = 0,
         sampling: str = "random", store: str | Path | None = None, aggregate: str | None = None,
         dedupe: bool = False, device: str = "cpu", progress: bool = True,
         raise_errors: bool = False, backend: str = "local", workers: int | None = None,
         ray_address: str | None = None) -> RankResult:
    """Score candidate architectures with zero-cost proxies and rank them.

    Candidates: ``sample=N`` (seeded), ``all=True``, ``archs=[...]`` or ``archs_file``. With a
    ``store`` path, results are saved as they are computed, and running the same call again
    resumes. ``dedupe=True`` scores one architecture per function class and copies its scores.
    ``backend`` is ``local`` (this process), ``process`` (``workers`` processes) or ``ray``.
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
    cands = make_candidates(space, sample=sample, all=all, archs=archs, archs_file=archs_file, seed=seed)
    config = ScoringConfig(space=space, dataset=dataset, data_dir=str(data_dir) if data_dir else None,
                           batch_size=batch_size, seed=seed, sampling=sampling, dedupe=dedupe, device=device)
    runner = make_backend(backend, workers=workers, address=ray_address)
    if store is not None:
        from zcnas.records import RecordStore

        with RecordStore(store, mode="a") as st:
            long = score_architectures(cands, names, config, store=st, progress=progress,
                                       raise_errors=raise_errors, backend=runner)
    else:
        long = score_architectures(cands, names, config, progress=progress, raise_errors=raise_errors,
                                   backend=runner)
    run_key = long["run_key"].iloc[0]
    table = order_by(wide_scores(long, names), names, aggregate)
    return RankResult(table=table, scores=long, run_key=run_key, config=config)
