"""Training-free aggregates of several proxies into one score (higher is better). No torch.

Each proxy is first oriented by its direction (a lower-is-better proxy is negated) and turned into
ranks over the archs given, ascending in goodness: the worst arch has rank 1, the best rank ``n``,
ties share their average rank. Aggregates combine the rank matrix row by row:

``mean_rank``      mean of the rank percentiles ``rank / n`` (a Borda count).
``mean_log_rank``  AZ-NAS (Lee & Ham, CVPR 2024): ``sum_j log(rank_j / n)``; a low rank on any
                   proxy costs much more than a high rank gains, so an arch must do well on all.
``geo_mean_rank``  geometric mean of the rank percentiles, ``exp(mean_j log(rank_j / n))``;
                   the same order as ``mean_log_rank`` when no score is missing.
``min_rank``       the worst rank percentile over the proxies (a pessimistic vote).
``mean_zscore``    mean of the oriented scores standardised per proxy (uses magnitudes, not ranks;
                   sensitive to outliers such as synflow's heavy tail).

Missing scores (NaN or +-inf: a failed proxy) follow ``nan_policy`` when an arch has *some*
scores:

``"worst"`` (default)
    The failed archs of a proxy share the bottom ranks of that proxy (average rank of the tied
    bottom group), as if the proxy had scored them below every other arch: a failure is treated as
    evidence against the arch, and every arch is still ranked on every proxy. ``mean_zscore``
    gives a failed score the proxy's worst observed standardised score.
``"omit"``
    The aggregate uses the proxies that have a score; ``mean_log_rank`` is rescaled to the mean
    times the number of proxies so that archs with fewer scores stay comparable.

Under both policies an arch on which *every* proxy of the aggregate failed gets NaN, never a
number: it has no evidence at all, so it ranks last (``sort_values(na_position="last")``) and a
caller reports it with a null score and the proxies' failure reasons.

Register a new aggregate with :func:`register_aggregate`; it receives the ``(n_archs, n_proxies)``
matrix of rank percentiles in ``(0, 1]`` with NaN where missing (``"omit"``) and the oriented scores
(a failure filled with the proxy's worst score under ``"worst"``, NaN under ``"omit"``), and returns
``n_archs`` values, higher is better; the rows with no score at all are set to NaN afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from zcnas.errors import InputError
from zcnas.metrics import direction_sign
from zcnas.registry import Registry

AggregateFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
AGGREGATES: Registry[AggregateFn] = Registry("aggregate")
NAN_POLICIES = ("worst", "omit")


def register_aggregate(name: str, aliases: tuple[str, ...] = (), description: str = ""):
    """Decorator registering ``fn(rank_pct, oriented_scores) -> values`` under ``name``."""

    def deco(fn: AggregateFn) -> AggregateFn:
        AGGREGATES.add(name, fn, aliases, description=description)
        return fn

    return deco


def list_aggregates(pattern: str = "*") -> list[str]:
    return AGGREGATES.names(pattern)


def _nanmean(a: np.ndarray) -> np.ndarray:
    cnt = np.sum(~np.isnan(a), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, np.nansum(a, axis=1) / np.maximum(cnt, 1), np.nan)


@register_aggregate("mean_rank", aliases=("borda",), description="mean of rank percentiles")
def _mean_rank(pct: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Mean of the rank percentiles (Borda count)."""
    return _nanmean(pct)


@register_aggregate("mean_log_rank", aliases=("az_nas", "log_rank"),
                    description="AZ-NAS: sum of log(rank / n), ranks ascending in goodness")
def _mean_log_rank(pct: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """AZ-NAS: sum over proxies of log(rank / n), ranks ascending in goodness."""
    return _nanmean(np.log(pct)) * pct.shape[1]


@register_aggregate("geo_mean_rank", description="geometric mean of rank percentiles")
def _geo_mean_rank(pct: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Geometric mean of the rank percentiles."""
    return np.exp(_nanmean(np.log(pct)))


@register_aggregate("min_rank", description="worst rank percentile over the proxies")
def _min_rank(pct: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Worst rank percentile over the proxies (pessimistic vote)."""
    out = np.full(pct.shape[0], np.nan)
    ok = ~np.all(np.isnan(pct), axis=1)
    out[ok] = np.nanmin(pct[ok], axis=1)
    return out


@register_aggregate("mean_zscore", description="mean of per-proxy standardised oriented scores")
def _mean_zscore(pct: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Mean of the per-proxy standardised oriented scores (magnitudes, not ranks)."""
    mu = np.nanmean(scores, axis=0)
    sd = np.nanstd(scores, axis=0)
    z = (scores - mu) / np.where(sd > 0, sd, 1.0)
    return _nanmean(z)


def rank_percentiles(oriented: np.ndarray, nan_policy: str = "worst") -> np.ndarray:
    """Rank / n per column (ascending in goodness, average ranks for ties).

    ``"worst"``: NaNs take the bottom ranks (tied); ``"omit"``: NaNs stay NaN and n counts only
    the scored archs."""
    if nan_policy not in NAN_POLICIES:
        raise InputError(f"The 'nan_policy' parameter must be one of {', '.join(NAN_POLICIES)}. "
                         f"Got {nan_policy!r} instead.")
    out = np.full(oriented.shape, np.nan)
    for j in range(oriented.shape[1]):
        col = oriented[:, j]
        ok = np.isfinite(col)
        if nan_policy == "worst":
            filled = np.where(ok, col, -np.inf)
            out[:, j] = stats.rankdata(filled) / col.size
        elif ok.any():
            out[ok, j] = stats.rankdata(col[ok]) / ok.sum()
    return out


def aggregate(scores: pd.DataFrame, proxies: Sequence[str] | None, directions: Mapping[str, Any],
              method: str = "mean_log_rank", nan_policy: str = "worst") -> pd.Series:
    """One aggregate score per arch (row of ``scores``), higher is better.

    ``proxies``: the columns to combine (all columns when None); ``directions`` maps each one to
    True/False or +1/-1 (see :func:`zcnas.metrics.direction_sign`); ``method`` names a registered
    aggregate; ``nan_policy`` is ``"worst"`` or ``"omit"`` (module notes). Ranks are taken over the
    rows of ``scores``, so aggregate the archs you want to compare together.

    Returns NaN for an arch whose every proxy failed (NaN or infinite), under either policy; an arch
    with some failures is scored by ``nan_policy`` (module notes).
    """
    fn = AGGREGATES.get(method)
    name = AGGREGATES.resolve(method)
    cols = list(scores.columns) if proxies is None else list(proxies)
    if not cols:
        raise InputError("aggregate needs at least one proxy column.")
    missing = [c for c in cols if c not in scores.columns]
    if missing:
        raise InputError(f"No score column(s) {missing}; available: {list(scores.columns)}.")
    no_dir = [c for c in cols if c not in directions]
    if no_dir:
        raise InputError(f"No direction for proxy(s) {no_dir}; give each True (higher is better) or False.")
    signs = np.array([direction_sign(directions[c]) for c in cols], dtype=float)
    oriented = scores[cols].to_numpy(dtype=float) * signs
    oriented[~np.isfinite(oriented)] = np.nan
    none = np.isnan(oriented).all(axis=1)
    pct = rank_percentiles(oriented, nan_policy)
    if nan_policy == "worst":  # magnitude-based aggregates: a failure scores as the worst observed
        oriented = _fill_worst(oriented)
    values = np.asarray(fn(pct, oriented), dtype=float).copy()
    values[none] = np.nan  # every proxy failed: no number, ranks last
    return pd.Series(values, index=scores.index, name=name)


def _fill_worst(oriented: np.ndarray) -> np.ndarray:
    """Each column's NaNs replaced by its lowest (worst) finite value; all-NaN columns stay NaN."""
    out = oriented.copy()
    for j in range(out.shape[1]):
        col = out[:, j]
        ok = ~np.isnan(col)
        if ok.any() and not ok.all():
            col[~ok] = col[ok].min()
    return out
