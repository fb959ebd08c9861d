"""Choosing a training-free ranker from labelled architectures, honestly (no torch).

- :func:`split_by_class`: fit / test masks that never put two functionally identical
  architectures (the space's ``canonical``) on both sides;
- :func:`greedy_select`: the proxy set whose aggregate ranks the fit architectures best (the better
  of a forward selection by singles and pairs and a backward elimination);
- :func:`rank_correlation`: Spearman with its count, NaN-safe.

Bootstrap intervals are :func:`zcnas.metrics.bootstrap_ci`; wide score tables come from the record
store's views (``RecordStore.scores_wide``) or :func:`zcnas.ranking.scoring.wide_scores`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from zcnas.aggregate import aggregate
from zcnas.errors import InputError, check_int


def split_by_class(archs: Sequence[str], canonical: Callable[[str], str] | str, *, frac: float = 0.5,
                   seed: int = 0, method: str = "hash") -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks ``(fit, test)`` over ``archs`` that keep every function class on one side.

    ``method="hash"`` (default): a class is in the fit part when a seeded hash of its key falls
    below ``frac``; the side of a class does not depend on which other architectures are given,
    so splits of different subsets (e.g. the archs complete on CIFAR-10 and on CIFAR-100) agree.
    ``method="permutation"``: the distinct classes of ``archs`` are shuffled with a seeded
    generator and the first ``frac`` of them (rounded down) form the fit part (an exact share).
    ``canonical`` is a space name (its ``canonical``) or a function arch -> class key.
    """
    if not 0 < frac < 1:
        raise InputError(f"The 'frac' parameter of split_by_class must be in (0, 1). Got {frac!r} instead.")
    check_int("seed", seed, "split_by_class", minimum=0)
    if isinstance(canonical, str):
        from zcnas.spaces import get_space

        canonical = get_space(canonical).canonical
    cls = np.array([canonical(a) for a in archs])
    if method == "hash":
        fit = np.array([_unit_hash(f"{seed}:{c}") < frac for c in cls], dtype=bool)
        return fit, ~fit
    if method != "permutation":
        raise InputError(f"The 'method' parameter of split_by_class must be 'hash' or 'permutation'. "
                         f"Got {method!r} instead.")
    uniq = np.unique(cls)
    rng = np.random.default_rng(seed)
    fit_classes = set(rng.permutation(uniq)[: int(len(uniq) * frac)])
    fit = np.array([c in fit_classes for c in cls], dtype=bool)
    return fit, ~fit


def _unit_hash(text: str) -> float:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") / 2.0**64


def rank_correlation(x: pd.Series, y: pd.Series) -> tuple[float, int]:
    """Spearman's rho of the pairs where both are known, and their number (NaN below 3 pairs)."""
    ok = x.notna() & y.notna()
    if ok.sum() < 3:
        return float("nan"), int(ok.sum())
    return float(stats.spearmanr(x[ok], y[ok]).statistic), int(ok.sum())


def greedy_select(wide: pd.DataFrame, truth: pd.Series, candidates: Sequence[str],
                  directions: Mapping[str, bool], *, max_size: int = 10,
                  method: str = "mean_log_rank") -> list[str]:
    """Proxies whose ``method`` aggregate has the highest Spearman with ``truth`` on ``wide``'s rows.

    The better of a forward selection (each step adds the single proxy or the pair that raises
    the Spearman most; stops when nothing raises it by 1e-4) and a backward elimination from all
    ``candidates`` (each step drops the proxy whose removal raises it most). ``directions`` maps
    every candidate to ``higher_is_better``. Fit it on one part of a :func:`split_by_class` and
    report it on the other.
    """
    check_int("max_size", max_size, "greedy_select", minimum=1)
    missing = [c for c in candidates if c not in wide.columns or c not in directions]
    if missing:
        raise InputError(f"greedy_select: candidates {missing} have no score column or no direction.")
    truth = truth.reindex(wide.index)

    def score(cols: list[str]) -> float:
        agg = aggregate(wide, cols, {c: directions[c] for c in cols}, method=method)
        return rank_correlation(agg, truth)[0]

    chosen: list[str] = []
    best = -np.inf
    while len(chosen) < max_size:
        rest = [c for c in candidates if c not in chosen]
        steps: list[tuple[str, ...]] = [(c,) for c in rest]
        if len(chosen) + 2 <= max_size:
            steps += list(itertools.combinations(rest, 2))
        trials = {step: score(chosen + list(step)) for step in steps}
        if not trials:
            break
        step, v = max(trials.items(), key=lambda kv: (kv[1], -len(kv[0]), kv[0]))
        if not v > best + 1e-4:
            break
        chosen.extend(step)
        best = v
    kept = list(candidates)
    kept_v = score(kept)
    while len(kept) > 1:
        trials = {c: score([k for k in kept if k != c]) for c in kept}
        c, v = max(trials.items(), key=lambda kv: (kv[1], kv[0]))
        if not v > kept_v + 1e-4:
            break
        kept.remove(c)
        kept_v = v
    return kept if kept_v > best else chosen


__all__ = ["greedy_select", "rank_correlation", "split_by_class"]
