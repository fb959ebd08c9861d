"""Ranking metrics of proxy scores against ground truth, with bootstrap intervals. No torch.

Every metric takes a score ``x`` (higher is better; flip a lower-is-better proxy with
:func:`direction_sign` first, or let :func:`evaluate` do it) and a truth ``y`` (higher is better,
e.g. accuracy in percent). Pairs where either value is NaN or infinite are dropped; ``n`` is the
number of pairs left.

Metrics
-------
``spearman``
    Pearson correlation of average ranks (ties share their mean rank), as :func:`scipy.stats.spearmanr`.
``kendall``
    Kendall's tau-b (tie-aware), from :func:`scipy.stats.kendalltau`.
``pearson``
    Pearson correlation of the values.
``precision@k%``
    Of the ``m = max(1, ceil(n * k / 100))`` best archs by score, the fraction that is also among
    the ``m`` best by truth. Ties at the cut-off are resolved by expectation: an arch tied with
    others across the cut-off counts as the fraction of the tied group that fits in the top ``m``
    (the mean over all random tie-breaks, so the value does not depend on input order).
``ndcg@k%``
    Normalised discounted cumulative gain over the first ``m`` positions of the order by score,
    discount ``1 / log2(position + 2)``. Gain (``gain=``): ``"rank"`` (default) is the truth's rank
    percentile, ``(rank - 1) / (n - 1)`` with average ranks, 1 for the best arch and 0 for the worst;
    ``"value"`` is the truth itself (must be >= 0; with accuracies of 80-95 % every order scores
    close to 1, which is why ``"rank"`` is the default). Ties in score share the mean gain of their
    group (the tie-aware DCG of McSherry & Najork, 2008).

Bootstrap
---------
Percentile intervals over resamples of the pairs with replacement (``numpy.random.Generator`` seeded
by ``seed``). A resample is held as a count per original pair, so ranks, top-k sets and DCG of a
resample come from one sort of the original data and cumulative sums (no per-resample sort);
Kendall's tau-b is the exception and runs :func:`scipy.stats.kendalltau` on each resample
(about 2 ms per resample at n = 15,625). Gains for NDCG are fixed per arch from the full sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from zcnas.errors import InputError, check_int

BASE_METRICS = ("spearman", "kendall", "pearson", "precision", "ndcg")
GAINS = ("rank", "value")
#: columns of the tidy frame :func:`evaluate` returns
RESULT_COLUMNS = ("proxy", "truth", "metric", "value", "ci_low", "ci_high", "n")


# ---- helpers --------------------------------------------------------------------------------------
def direction_sign(direction: Any) -> int:
    """+1 for a higher-is-better score, -1 for lower-is-better.

    Accepts ``True``/``False`` (a ``higher_is_better`` flag), ``+1``/``-1`` and ``"+"``/``"-"``
    (also ``"+1"``/``"-1"``, ``"max"``/``"min"``).
    """
    if isinstance(direction, (bool, np.bool_)):
        return 1 if direction else -1
    if isinstance(direction, (int, float, np.integer, np.floating)) and direction in (1, -1):
        return int(direction)
    if isinstance(direction, str):
        d = direction.strip().lower()
        if d in ("+", "+1", "1", "max", "higher", "true"):
            return 1
        if d in ("-", "-1", "min", "lower", "false"):
            return -1
    raise InputError(f"A direction must be True/False, +1/-1 or '+'/'-'. Got {direction!r} instead.")


def paired(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` as float arrays with every pair holding a NaN or infinity dropped."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise InputError(f"Scores and truth must have the same length. Got {x.size} and {y.size}.")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def topk_size(n: int, k_pct: float) -> int:
    """Number of archs in the top ``k_pct`` percent of ``n``: ``max(1, ceil(n * k_pct / 100))``."""
    if not (isinstance(k_pct, (int, float)) and 0 < k_pct <= 100):
        raise InputError(f"The 'k' percentage must be a number in (0, 100]. Got {k_pct!r} instead.")
    return max(1, math.ceil(n * k_pct / 100 - 1e-9))


class _Order:
    """Descending sort of one variable with its runs of tied values (computed once per pair)."""

    def __init__(self, v: np.ndarray):
        self.n = v.size
        self.order = np.argsort(-v, kind="stable")
        sv = v[self.order]
        self.starts = np.r_[0, np.flatnonzero(sv[1:] != sv[:-1]) + 1]
        self.gid = np.repeat(np.arange(self.starts.size), np.diff(np.r_[self.starts, v.size]))

    def group_sums(self, Ws: np.ndarray) -> np.ndarray:
        """Sums over tie groups of rows of ``Ws`` (rows in sorted order, possibly a prefix)."""
        if self.starts.size == self.n:
            return Ws
        return np.add.reduceat(Ws, self.starts[self.starts < Ws.shape[0]], axis=0)

    def per_position(self, gvals: np.ndarray) -> np.ndarray:
        return gvals if self.starts.size == self.n else gvals[self.gid[: self.prefix_len(gvals)]]

    def prefix_len(self, gvals: np.ndarray) -> int:
        ng = gvals.shape[0]
        return self.n if ng >= self.starts.size else int(self.starts[ng])

    def prefix(self, W: np.ndarray, m: float) -> int:
        """Smallest whole-group prefix of the sorted order holding the top ``m`` copies of every
        resample (every column of W); positions after it cannot enter the top ``m``."""
        P = min(self.n, int(1.2 * m) + 64)
        while P < self.n and W[self.order[:P]].sum(axis=0).min() < m:
            P = min(self.n, 2 * P)
        if P < self.n:  # extend to the end of the tie group that holds position P - 1
            g = self.gid[P - 1]
            P = int(self.starts[g + 1]) if g + 1 < self.starts.size else self.n
        return P


def _unsort(sorted_vals: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(sorted_vals)
    out[order] = sorted_vals
    return out


# Resamples are held as a count matrix ``W`` of shape (n, B): one row per original pair, one column
# per resample. Sums and cumulative sums then run down axis 0 over contiguous rows of B values.
def _sorted_ranks(o: _Order, W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts in sorted order, average descending ranks (1 = best) per sorted position, and the
    sum of count * rank**2 per resample."""
    Ws = W[o.order]
    gsum = o.group_sums(Ws)
    grank = np.cumsum(gsum, axis=0) - gsum + (gsum + 1) / 2.0
    return Ws, o.per_position(grank), (gsum * grank * grank).sum(axis=0)


def _wspearman(ox: _Order, oy: _Order, W: np.ndarray) -> np.ndarray:
    """Spearman per resample: Pearson of average ranks, whose weighted mean is (N + 1) / 2 exactly."""
    N = W.sum(axis=0)
    Wsx, rx, sxx = _sorted_ranks(ox, W)
    _, ry_sorted, syy = _sorted_ranks(oy, W)
    ry_in_x_order = _unsort(ry_sorted, oy.order)[ox.order]
    c = N * ((N + 1) / 2.0) ** 2
    cov = (Wsx * rx * ry_in_x_order).sum(axis=0) - c
    va, vb = sxx - c, syy - c
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(va * vb)
    r[(va <= 1e-9 * c) | (vb <= 1e-9 * c)] = np.nan  # a constant score or truth
    return np.clip(r, -1.0, 1.0)


def _wpearson(a: np.ndarray, b: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted Pearson correlation per column of W; a and b are (n,) or (n, B)."""
    a = a[:, None] if a.ndim == 1 else a
    b = b[:, None] if b.ndim == 1 else b
    N = W.sum(axis=0)
    da = a - (W * a).sum(axis=0) / N
    db = b - (W * b).sum(axis=0) / N
    Wda = W * da
    cov = (Wda * db).sum(axis=0)
    va = (Wda * da).sum(axis=0)
    vb = (W * db * db).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(va * vb)
    r[(va <= 0) | (vb <= 0)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _wtop_fraction(o: _Order, W: np.ndarray, m: float) -> tuple[np.ndarray, np.ndarray]:
    """(point indices, fraction of each point's copies inside the top ``m``) per resample."""
    P = o.prefix(W, m)
    idx = o.order[:P]
    gsum = o.group_sums(W[idx])
    before = np.cumsum(gsum, axis=0) - gsum
    frac = np.clip((m - before) / np.where(gsum > 0, gsum, 1), 0.0, 1.0)
    return idx, o.per_position(frac)


def _wprecision(ox: _Order, oy: _Order, W: np.ndarray, m: float) -> np.ndarray:
    ix, fx = _wtop_fraction(ox, W, m)
    iy, fy = _wtop_fraction(oy, W, m)
    common, px, py = np.intersect1d(ix, iy, assume_unique=True, return_indices=True)
    return (W[common] * fx[px] * fy[py]).sum(axis=0) / m


def _wdcg(o: _Order, g: np.ndarray, W: np.ndarray, m: float) -> np.ndarray:
    """Tie-aware DCG of the first ``m`` positions of the order ``o``, gains ``g`` per point."""
    P = o.prefix(W, m)
    idx = o.order[:P]
    Ws = W[idx]
    cnt = o.group_sums(Ws)
    mean_gain = o.group_sums(Ws * g[idx][:, None]) / np.where(cnt > 0, cnt, 1)
    before = np.cumsum(cnt, axis=0) - cnt
    D = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(int(m)) + 2.0))]  # D[p]: sum of the first p discounts
    lo = np.minimum(before, m).astype(np.int64)
    hi = np.minimum(before + cnt, m).astype(np.int64)
    return (mean_gain * (D[hi] - D[lo])).sum(axis=0)


def _gains(y: np.ndarray, gain: str) -> np.ndarray:
    if gain == "rank":
        if y.size < 2:
            return np.ones_like(y)
        return (stats.rankdata(y) - 1.0) / (y.size - 1.0)
    if gain == "value":
        if np.any(y < 0):
            raise InputError("NDCG with gain='value' needs a truth >= 0 (e.g. accuracy in percent); "
                             "use gain='rank' for other truths.")
        return y.astype(float)
    raise InputError(f"The 'gain' parameter of ndcg must be one of {', '.join(GAINS)}. Got {gain!r} instead.")


def _parse_metric(name: str) -> tuple[str, float | None]:
    base, _, k = name.partition("@")
    if base not in BASE_METRICS:
        raise InputError(f"Unknown metric {name!r}. Known metrics: {', '.join(BASE_METRICS)} "
                         f"(precision and ndcg take '@<k>%', e.g. 'precision@5%').")
    if base in ("precision", "ndcg"):
        if not k:
            raise InputError(f"Metric {name!r} needs a percentage, e.g. '{base}@5%'.")
        try:
            kv = float(k.rstrip("%"))
        except ValueError:
            raise InputError(f"Metric {name!r}: cannot read the percentage {k!r}.") from None
        topk_size(1, kv)  # validates the range
        return base, kv
    if k:
        raise InputError(f"Metric {base!r} takes no '@k'. Got {name!r}.")
    return base, None


def metric_names(metrics: Sequence[str] = BASE_METRICS, topk: Sequence[float] = (1, 5, 10)) -> list[str]:
    """Expand ``precision``/``ndcg`` into ``precision@k%``/``ndcg@k%`` for each k in ``topk``."""
    out: list[str] = []
    for m in metrics:
        if m in ("precision", "ndcg"):
            out.extend(f"{m}@{float(k):g}%" for k in topk)
        else:
            _parse_metric(m)
            out.append(m)
    return out


class _Pair:
    """One NaN-free (score, truth) pair of arrays with the sorts every metric shares."""

    def __init__(self, x: np.ndarray, y: np.ndarray, gain: str):
        self.x, self.y, self.gain = x, y, gain
        self.ox, self.oy = _Order(x), _Order(y)
        self._g: np.ndarray | None = None

    @property
    def g(self) -> np.ndarray:
        if self._g is None:
            self._g = _gains(self.y, self.gain)
        return self._g

    def batch(self, base: str, k: float | None, W: np.ndarray) -> np.ndarray:
        """Metric per weighted resample (columns of W, shape (n, B); every column sums to n)."""
        if base == "spearman":
            return _wspearman(self.ox, self.oy, W)
        if base == "pearson":
            return _wpearson(self.x, self.y, W)
        m = float(topk_size(self.x.size, k))
        if base == "precision":
            return _wprecision(self.ox, self.oy, W, m)
        if base == "ndcg":
            ideal = _wdcg(self.oy, self.g, W, m)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(ideal > 0, _wdcg(self.ox, self.g, W, m) / ideal, np.nan)
        raise AssertionError(base)  # pragma: no cover  (kendall is handled by the callers)


def _kendall(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 2:
        return float("nan")
    if np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(stats.kendalltau(x, y).statistic)


def compute(metric: str, score: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray,
            *, gain: str = "rank") -> float:
    """One metric (e.g. ``"spearman"``, ``"precision@5%"``) on the NaN-free pairs; NaN if undefined."""
    base, k = _parse_metric(metric)
    x, y = paired(score, truth)
    if x.size < 2:
        return float("nan")
    if base == "kendall":
        return _kendall(x, y)
    return float(_Pair(x, y, gain).batch(base, k, np.ones((x.size, 1)))[0])


def spearman(x, y) -> float:
    """Spearman rank correlation of the NaN-free pairs (average ranks for ties)."""
    return compute("spearman", x, y)


def kendall(x, y) -> float:
    """Kendall's tau-b of the NaN-free pairs."""
    return compute("kendall", x, y)


def pearson(x, y) -> float:
    """Pearson correlation of the NaN-free pairs."""
    return compute("pearson", x, y)


def topk_precision(score, truth, k_pct: float) -> float:
    """Fraction of the score's top ``k_pct`` % that is in the truth's top ``k_pct`` % (tie-aware)."""
    return compute(f"precision@{k_pct:g}%", score, truth)


def ndcg(score, truth, k_pct: float = 100.0, gain: str = "rank") -> float:
    """NDCG over the score's top ``k_pct`` % (see the module notes for the gain)."""
    return compute(f"ndcg@{k_pct:g}%", score, truth, gain=gain)


def _resample_chunks(n: int, n_resamples: int, seed: int, chunk: int | None = None):
    """Yield (idx (b, n), counts (n, b)) for chunks of bootstrap resamples; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    chunk = chunk or max(1, min(256, 2_000_000 // max(n, 1)))
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        idx = rng.integers(0, n, size=(b, n))
        counts = np.bincount((idx + (np.arange(b) * n)[:, None]).ravel(), minlength=b * n)
        yield idx, np.ascontiguousarray(counts.reshape(b, n).T, dtype=float)
        done += b


def bootstrap_samples(metrics: Sequence[str], score, truth, *, n_resamples: int = 1000, seed: int = 0,
              gain: str = "rank") -> dict[str, np.ndarray]:
    """Bootstrap distribution (``n_resamples`` values) of each metric on the NaN-free pairs.

    All metrics use the same resamples, so their distributions are paired.
    """
    check_int("n_resamples", n_resamples, "bootstrap_samples", minimum=1)
    parsed = [(m, *_parse_metric(m)) for m in metrics]
    x, y = paired(score, truth)
    out: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    if x.size < 2:
        return {m: np.full(n_resamples, np.nan) for m in metrics}
    pair = _Pair(x, y, gain)
    for idx, W in _resample_chunks(x.size, n_resamples, seed):
        for name, base, k in parsed:
            if base == "kendall":
                out[name].append(np.array([_kendall(x[i], y[i]) for i in idx]))
            else:
                out[name].append(pair.batch(base, k, W))
    return {m: np.concatenate(v) for m, v in out.items()}


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap samples (NaN samples ignored; NaN if none is finite)."""
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if s.size == 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2 * 100
    lo, hi = np.percentile(s, [a, 100 - a])
    return float(lo), float(hi)


def bootstrap_ci(metric: str, score, truth, *, n_resamples: int = 1000, seed: int = 0,
                 level: float = 0.95, gain: str = "rank") -> tuple[float, float]:
    """Percentile bootstrap interval of one metric."""
    return percentile_ci(bootstrap_samples([metric], score, truth, n_resamples=n_resamples, seed=seed,
                                   gain=gain)[metric], level)


# ---- one vote per function class ---------------------------------------------------------------------
ClassKey = str | Mapping[str, Any] | pd.Series | Callable[[str], Any]


def class_keys(archs: pd.Index, by_class: ClassKey) -> pd.Series:
    """The class key of each arch: ``by_class`` is a space name (its ``canonical()``), a mapping
    arch -> key, or a function of the arch string."""
    if isinstance(by_class, str):
        from zcnas.spaces import get_space

        space = get_space(by_class)
        fn: Callable[[str], Any] = space.canonical
        return pd.Series([fn(a) for a in archs], index=archs)
    if isinstance(by_class, (Mapping, pd.Series)):
        keys = pd.Series(archs, index=archs).map(by_class)
        if keys.isna().any():
            missing = list(archs[keys.isna().to_numpy()][:3])
            raise InputError(f"by_class has no class for {int(keys.isna().sum())} arch(s), e.g. {missing}.")
        return keys
    if callable(by_class):
        return pd.Series([by_class(a) for a in archs], index=archs)
    raise InputError("by_class must be a space name, a mapping arch -> class, or a function. "
                     f"Got {type(by_class).__name__}.")


def class_vote(scores: pd.DataFrame, truth: pd.DataFrame, by_class: ClassKey,
               score_agg: str = "first") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Collapse archs to one row per function class.

    Truth is the class mean; each proxy takes the class's first non-missing score in ``scores``
    order (``score_agg="first"``) or the mean of its scores (``"mean"``). Both frames must share
    their index.
    """
    if score_agg not in ("first", "mean"):
        raise InputError(f"The 'score_agg' parameter must be 'first' or 'mean'. Got {score_agg!r} instead.")
    keys = class_keys(scores.index, by_class)
    s = scores.groupby(keys.to_numpy(), sort=False).agg(score_agg)
    t = truth.loc[scores.index].groupby(keys.to_numpy(), sort=False).mean()
    return s, t.loc[s.index]


# ---- the whole table ----------------------------------------------------------------------------------
def align(scores: pd.DataFrame, truth: pd.Series | pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and truth restricted to their shared archs (in scores order); errors name the overlap."""
    if isinstance(truth, pd.Series):
        truth = truth.to_frame(truth.name if truth.name is not None else "truth")
    for what, df in (("scores", scores), ("truth", truth)):
        if df.index.has_duplicates:
            dup = df.index[df.index.duplicated()][:3].tolist()
            raise InputError(f"The {what} have duplicate archs, e.g. {dup}; give one row per arch.")
    common = scores.index.intersection(truth.index, sort=False)
    if len(common) < 2:
        raise InputError(f"Scores ({len(scores)} archs) and truth ({len(truth)} archs) share {len(common)} "
                         f"arch(s); at least 2 are needed. Are both keyed by the same arch strings?")
    return scores.loc[common], truth.loc[common]


def evaluate(scores: pd.DataFrame, truth: pd.Series | pd.DataFrame, directions: Mapping[str, Any],
             metrics: Sequence[str] = ("spearman", "kendall", "precision", "ndcg"),
             topk: Sequence[float] = (1, 5, 10), bootstrap: int = 1000, seed: int = 0,
             by_class: ClassKey | None = None, *, score_agg: str = "first", gain: str = "rank",
             level: float = 0.95) -> pd.DataFrame:
    """Every metric of every proxy column of ``scores`` against every truth column.

    ``directions`` maps each proxy to its direction (see :func:`direction_sign`); a lower-is-better
    proxy is negated before scoring. ``metrics`` may name ``precision`` and ``ndcg`` bare (expanded
    over ``topk`` percentages) or with their k (``"precision@2.5%"``). ``bootstrap`` is the number of
    resamples (0 for none: ``ci_low``/``ci_high`` are NaN). ``by_class`` (a space name such as
    ``"nb201"``, a mapping or a function) gives one vote per function class; see :func:`class_vote`.

    Returns a tidy frame with columns ``proxy, truth, metric, value, ci_low, ci_high, n``.
    """
    names = metric_names(metrics, topk)
    check_int("bootstrap", bootstrap, "evaluate", minimum=0)
    if not 0 < level < 1:
        raise InputError(f"The 'level' parameter of evaluate must be in (0, 1). Got {level!r} instead.")
    s, t = align(scores, truth)
    missing = [p for p in s.columns if p not in directions]
    if missing:
        raise InputError(f"No direction for proxy(s) {', '.join(map(str, missing))}; "
                         f"give each proxy True (higher is better) or False.")
    if by_class is not None:
        s, t = class_vote(s, t, by_class, score_agg)
    rows = []
    for tcol in t.columns:
        y = t[tcol].to_numpy(dtype=float)
        for p in s.columns:
            x = direction_sign(directions[p]) * s[p].to_numpy(dtype=float)
            xp, yp = paired(x, y)
            point = {m: compute(m, xp, yp, gain=gain) for m in names}
            boot = (bootstrap_samples(names, xp, yp, n_resamples=bootstrap, seed=seed, gain=gain)
                    if bootstrap > 0 and xp.size >= 2 else None)
            for m in names:
                lo, hi = percentile_ci(boot[m], level) if boot is not None else (np.nan, np.nan)
                rows.append((str(p), str(tcol), m, point[m], lo, hi, int(xp.size)))
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
