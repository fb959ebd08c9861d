"""Rankers that transfer across spaces and tasks, and rankers chosen from a few labelled architectures.

No torch. Building blocks:

- :class:`FewShotRanker` (scikit-learn contract): ``fit(X, y)`` on a few labelled architectures of
  the target task (``X`` arch strings, or a frame with ``arch`` and proxy score columns) chooses how
  to rank the others; ``predict(X)`` scores unlabelled candidates, higher is better. Candidate
  signals are the proxy columns given and the space's GRAF graph features
  (:class:`zcnas.surrogate.FeatureSpec`, free for every architecture). Methods
  (:data:`FEWSHOT_METHODS`):

  ``declared``     no labels: mean log-rank of the proxy columns in their declared directions;
  ``best_single``  the one proxy with the highest absolute Spearman on the labelled archs, signed;
  ``top3``         mean log-rank of the three best proxies, each with its labelled sign;
  ``greedy``       :func:`zcnas.selection.greedy_select` over the 12 best proxies, signed;
  ``greedy_graf``  the same over proxies and graph features together (hundreds of candidates: with
                   few labels the selection itself overfits);
  (the three proxy methods fall back to the graph features when fewer than 2 proxy columns are
  given, e.g. NB101 here);
  ``surrogate``    an :class:`~zcnas.surrogate.XGBSurrogate` on one-hot, graph and proxy features;
  ``cv``           the method above with the best held-out Spearman in repeated half splits of
                   the labelled archs;
  ``auto``         the rule :data:`AUTO_RULE` (a method per number of labelled archs, measured by
                   the few-shot study).

- :func:`choose_ranker` the one-call form: ``choose_ranker(labelled, signals, space=...)``.
- :func:`few_shot_study` the few-shot protocol: per pair and n, seeded repetitions of "label n
  architectures of the target task, fit each method, report Spearman on the rest", beside the best
  single published proxy of the pair chosen in hindsight on the same rest.
- :func:`transfer_matrix` and :func:`leave_one_space_out`: a signed proxy ranker chosen on one
  pair (or on every pair of the other spaces) and evaluated on every other pair.

Pairs and their columns come from :mod:`zcnas.suite` (:class:`~zcnas.suite.PairData`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from zcnas.aggregate import aggregate
from zcnas.errors import DataError, InputError, check_int
from zcnas.selection import greedy_select
from zcnas.surrogate import FeatureSpec, XGBSurrogate
from zcnas.surrogate.model import split_X

log = logging.getLogger("zcnas")

FEWSHOT_METHODS = ("declared", "best_single", "top3", "greedy", "greedy_graf", "surrogate", "cv", "auto")
#: the rule ``auto`` applies: the method for at least ``n`` labelled architectures (the largest ``n``
#: not above the count wins); chosen by the few-shot study over the suite's pairs
#: (``python -m experiments.suite_transfer``, experiments/results/transfer/best_per_n.csv)
AUTO_RULE: tuple[tuple[int, str], ...] = ((0, "declared"), (5, "top3"), (10, "surrogate"))
#: the methods ``auto`` chooses among
AUTO_CANDIDATES = ("best_single", "top3", "greedy", "greedy_graf", "surrogate")
GRAF_PREFIX = "graf:"
#: the surrogate's settings for a few labelled architectures (small trees, few rounds)
FEWSHOT_XGB = {"n_estimators": 200, "max_depth": 3, "learning_rate": 0.05, "min_child_weight": 1.0,
               "subsample": 0.8, "colsample_bytree": 0.5, "group_weights": True}


# ---- signals --------------------------------------------------------------------------------------------
def graph_signals(archs: Sequence[str], space: str) -> pd.DataFrame:
    """GRAF graph features of ``archs`` (index), one column ``graf:<feature>`` each, through the
    surrogate's :class:`FeatureSpec` (cached per architecture)."""
    spec = FeatureSpec(space, encodings=(), graph=True)
    X = spec.transform(list(archs))
    return pd.DataFrame(X, index=pd.Index(list(archs), name="arch"),
                        columns=[GRAF_PREFIX + n for n in spec.feature_names])


def signal_frame(archs: Sequence[str], proxies: pd.DataFrame | None, space: str, *, graph: bool = True) -> pd.DataFrame:
    """Proxy columns of ``proxies`` (reindexed to ``archs``) beside the graph features."""
    parts = []
    if proxies is not None and proxies.shape[1]:
        parts.append(proxies.reindex(list(archs)).astype(float))
    if graph:
        parts.append(graph_signals(archs, space))
    if not parts:
        raise InputError("No signals: give proxy score columns or keep graph=True.")
    out = pd.concat(parts, axis=1)
    out.index.name = "arch"
    return out


def _rank_cols(a: np.ndarray) -> np.ndarray:
    out = np.full(a.shape, np.nan)
    for j in range(a.shape[1]):
        col = a[:, j]
        ok = np.isfinite(col)
        if ok.sum() >= 2:
            out[ok, j] = stats.rankdata(col[ok])
    return out


def signal_spearman(frame: pd.DataFrame, y: pd.Series) -> pd.Series:
    """Spearman of every column of ``frame`` with ``y`` (rows where both are known; NaN when a
    column is constant or has fewer than 3 values). Vectorised: one rank per column."""
    yv = y.reindex(frame.index).to_numpy(float)
    X = frame.to_numpy(float)
    out = np.full(X.shape[1], np.nan)
    full = np.isfinite(X).all(axis=0) & np.isfinite(yv).all()
    if full.any():
        R = _rank_cols(X[:, full])
        ry = stats.rankdata(yv)
        R = R - R.mean(axis=0)
        ry = ry - ry.mean()
        den = np.sqrt((R ** 2).sum(axis=0) * (ry ** 2).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            out[full] = np.where(den > 0, (R * ry[:, None]).sum(axis=0) / den, np.nan)
    for j in np.flatnonzero(~full):
        ok = np.isfinite(X[:, j]) & np.isfinite(yv)
        if ok.sum() >= 3 and np.ptp(X[ok, j]) > 0 and np.ptp(yv[ok]) > 0:
            out[j] = stats.spearmanr(X[ok, j], yv[ok]).statistic
    return pd.Series(out, index=frame.columns)


# ---- fitted rankers -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignedRanker:
    """A training-free ranker: ``signals`` with ``signs`` (+1 higher is better), combined by
    ``method`` (a :mod:`zcnas.aggregate` name; one signal ranks by its signed value)."""

    signals: tuple[str, ...]
    signs: tuple[int, ...]
    method: str = "mean_log_rank"

    def score(self, frame: pd.DataFrame) -> pd.Series:
        missing = [s for s in self.signals if s not in frame.columns]
        if missing:
            raise DataError(f"The ranker needs signal column(s) {missing}; the candidates have "
                            f"{list(frame.columns)[:8]}... Score the candidates with the same proxies.")
        if len(self.signals) == 1:
            return frame[self.signals[0]].astype(float) * self.signs[0]
        dirs = {s: sg > 0 for s, sg in zip(self.signals, self.signs, strict=True)}
        return aggregate(frame, list(self.signals), dirs, method=self.method)

    def describe(self) -> str:
        return " ".join(("+" if g > 0 else "-") + s for s, g in zip(self.signals, self.signs, strict=True))


def _usable(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """Columns with at least 80% of the rows known and more than one distinct value."""
    known = frame.notna().sum(axis=0)
    varied = frame.nunique(dropna=True) > 1
    return frame.loc[:, (known >= max(3, int(np.ceil(0.8 * n)))) & varied]


def _fit_signed(method: str, frame: pd.DataFrame, y: pd.Series, declared: Mapping[str, bool]) -> SignedRanker:
    if method == "declared":
        cols = [c for c in frame.columns if c in declared]
        if not cols:
            raise DataError("The 'declared' ranker needs proxy columns with known directions; none were given.")
        return SignedRanker(tuple(cols), tuple(1 if declared[c] else -1 for c in cols))
    proxies = [c for c in frame.columns if not c.startswith(GRAF_PREFIX)]
    graf = [c for c in frame.columns if c.startswith(GRAF_PREFIX)]
    pool = proxies if (len(proxies) >= 2 and method != "greedy_graf") else proxies + graf
    f = _usable(frame[pool], len(y))
    rho = signal_spearman(f, y).dropna()
    if rho.empty and method != "greedy_graf" and graf:  # no usable proxy: fall back to the graph features
        f = _usable(frame[graf], len(y))
        rho = signal_spearman(f, y).dropna()
    if rho.empty:
        raise DataError("No signal varies over the labelled architectures; label more (or more varied) ones.")
    order = rho.abs().sort_values(ascending=False, kind="mergesort").index
    sign = np.sign(rho).replace(0, 1).astype(int)
    if method == "best_single":
        c = order[0]
        return SignedRanker((c,), (int(sign[c]),))
    if method == "top3":
        top = list(order[:3])
        return SignedRanker(tuple(top), tuple(int(sign[c]) for c in top))
    if method in ("greedy", "greedy_graf"):
        top = list(order[:12])
        dirs = {c: bool(sign[c] > 0) for c in top}
        chosen = greedy_select(f[top], y, top, dirs, max_size=4)
        return SignedRanker(tuple(chosen), tuple(int(sign[c]) for c in chosen))
    raise InputError(f"Unknown signed method {method!r}.")


class FewShotRanker(BaseEstimator):
    """Chooses how to rank a task's architectures from a few labelled ones of that task.

    Parameters (keyword-only, stored as given; validated in ``fit``)
    ----------
    space : search space of the architecture strings.
    method : one of :data:`FEWSHOT_METHODS` (default ``"auto"``).
    graph : include the space's GRAF graph features among the signals (default True).
    directions : ``higher_is_better`` of each proxy column (needed by ``declared``; others learn
        the sign from the labels).
    random_state : seed of the surrogate and of ``auto``'s splits.

    ``fit(X, y)``: ``X`` is a list of architecture strings or a frame with ``arch`` and proxy score
    columns; ``y`` their measured accuracy (higher is better). Learned: ``method_`` (the method
    used), ``ranker_`` (a :class:`SignedRanker` or a fitted :class:`XGBSurrogate`),
    ``proxy_columns_``, ``cv_scores_`` (``auto``'s held-out Spearman per method), ``n_labelled_``.
    ``predict(X)``: a score per architecture, higher is better (needs the same proxy columns).
    """

    def __init__(self, *, space: str | None = None, method: str = "auto", graph: bool = True,
                 directions: Mapping[str, bool] | None = None, random_state: int = 0):
        self.space = space
        self.method = method
        self.graph = graph
        self.directions = directions
        self.random_state = random_state

    def _validate(self) -> None:
        if self.method not in FEWSHOT_METHODS:
            raise InputError(f"The 'method' parameter of FewShotRanker must be one of {', '.join(FEWSHOT_METHODS)}. "
                             f"Got {self.method!r} instead.")
        if not self.space:
            raise InputError("The 'space' parameter of FewShotRanker is needed (e.g. space='nb201').")
        check_int("random_state", self.random_state, "FewShotRanker", minimum=0)

    def _frame(self, X: Any) -> tuple[list[str], pd.DataFrame | None]:
        archs, proxies = split_X(X)
        if proxies is not None:
            proxies = proxies.drop(columns=["arch"], errors="ignore").set_axis(archs, axis=0)
            if proxies.shape[1] == 0:
                return archs, None
            proxies.index.name = "arch"
            proxies = proxies.apply(pd.to_numeric, errors="coerce")
        return archs, proxies

    def fit(self, X: Any, y: Any) -> FewShotRanker:
        self._validate()
        archs, proxies = self._frame(X)
        yv = pd.Series(np.asarray(y, dtype=float).ravel(), index=pd.Index(archs, name="arch"))
        if len(yv) != len(archs):
            raise InputError(f"X has {len(archs)} architectures but y has {len(yv)} values.")
        if not np.isfinite(yv.to_numpy()).all():
            raise InputError(f"y has {int((~np.isfinite(yv.to_numpy())).sum())} missing or infinite values; "
                             f"drop those architectures before fit.")
        if yv.index.has_duplicates:
            raise InputError(f"An architecture is labelled twice, e.g. {yv.index[yv.index.duplicated()][0]!r}; "
                             f"give each one once.")
        self.proxy_columns_ = list(proxies.columns) if proxies is not None else []
        declared = dict(self.directions or {})
        method = self.method
        if method == "auto":
            method = [m for k, m in AUTO_RULE if len(yv) >= k][-1]
        if method == "declared" and not any(c in declared for c in self.proxy_columns_):
            if len(yv) < 3:
                raise InputError(f"With {len(yv)} labelled architectures and no proxy directions there is "
                                 f"nothing to rank by; label at least 3 or give proxy columns with directions.")
            method = "best_single"
        frame = signal_frame(archs, proxies, self.space, graph=self.graph) if (self.graph or proxies is not None) \
            else None
        if frame is None:
            raise InputError("No signals: give proxy score columns or keep graph=True.")
        self.cv_scores_: dict[str, float] = {}
        if method == "cv":
            method = self._choose(archs, frame, yv, proxies, declared)
        self.method_ = method
        self.ranker_ = self._fit_one(method, archs, frame, yv, proxies, declared)
        self.n_labelled_ = len(yv)
        return self

    def _fit_one(self, method: str, archs: list[str], frame: pd.DataFrame, y: pd.Series,
                 proxies: pd.DataFrame | None, declared: Mapping[str, bool]):
        if method != "surrogate":
            return _fit_signed(method, frame, y, declared)
        spec = FeatureSpec(self.space, encodings=("onehot",) if "onehot" in _encodings(self.space) else (),
                           graph=self.graph, proxies=tuple(self.proxy_columns_))
        model = XGBSurrogate(features=spec, random_state=self.random_state, **FEWSHOT_XGB)
        X = pd.DataFrame({"arch": archs})
        if proxies is not None:
            X = pd.concat([X, proxies.reset_index(drop=True)], axis=1)
        return model.fit(X, y.to_numpy())

    def _choose(self, archs, frame, y, proxies, declared) -> str:
        rng = np.random.default_rng(self.random_state)
        n = len(y)
        scores: dict[str, list[float]] = {m: [] for m in AUTO_CANDIDATES}
        for _ in range(3):
            perm = rng.permutation(n)
            halves = (perm[: n // 2], perm[n // 2:])
            for a, b in (halves, halves[::-1]):
                if len(a) < 3 or len(b) < 3:
                    continue
                ia, ib = [archs[i] for i in a], [archs[i] for i in b]
                for m in AUTO_CANDIDATES:
                    try:
                        r = self._fit_one(m, ia, frame.loc[ia], y.loc[ia],
                                          proxies.loc[ia] if proxies is not None else None, declared)
                        pred = _score_with(r, ib, frame.loc[ib], proxies.loc[ib] if proxies is not None else None)
                        scores[m].append(_spearman(pred.to_numpy(), y.loc[ib].to_numpy()))
                    except DataError:
                        scores[m].append(np.nan)
        self.cv_scores_ = {m: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
                           for m, v in scores.items()}
        finite = {m: v for m, v in self.cv_scores_.items() if np.isfinite(v)}
        return max(finite, key=lambda m: (finite[m], -AUTO_CANDIDATES.index(m))) if finite else "best_single"

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "ranker_")
        archs, proxies = self._frame(X)
        missing = [c for c in self.proxy_columns_ if proxies is None or c not in proxies.columns]
        needed = self._needed()
        if missing and any(c in needed for c in missing):
            raise DataError(f"The candidates lack proxy column(s) {missing} that the ranker was fitted on; "
                            f"score them with the same proxies.")
        frame = signal_frame(archs, proxies, self.space, graph=self.graph)
        return _score_with(self.ranker_, archs, frame, proxies).to_numpy(float)

    def predict_frame(self, frame: pd.DataFrame) -> pd.Series:
        """:meth:`predict` on a precomputed :func:`signal_frame` (index arch)."""
        check_is_fitted(self, "ranker_")
        proxies = frame[self.proxy_columns_] if self.proxy_columns_ else None
        return _score_with(self.ranker_, list(frame.index), frame, proxies)

    def _needed(self) -> list[str]:
        r = self.ranker_
        return list(r.signals) if isinstance(r, SignedRanker) else list(self.proxy_columns_)

    def describe(self) -> str:
        """The chosen method and what it ranks by, in one line."""
        check_is_fitted(self, "ranker_")
        r = self.ranker_
        what = r.describe() if isinstance(r, SignedRanker) else f"XGBoost on {r.spec_.describe() or 'graph features'}"
        cv = (" (held-out Spearman per method: " + ", ".join(f"{m} {v:.3f}" for m, v in self.cv_scores_.items())
              + ")") if self.cv_scores_ else ""
        return f"{self.method_} from {self.n_labelled_} labelled: {what}{cv}"


def _encodings(space: str) -> tuple[str, ...]:
    from zcnas.spaces import get_space

    return tuple(get_space(space).encodings)


def _score_with(ranker, archs: list[str], frame: pd.DataFrame, proxies: pd.DataFrame | None) -> pd.Series:
    if isinstance(ranker, SignedRanker):
        return ranker.score(frame).reindex(archs)
    X = pd.DataFrame({"arch": archs})
    if proxies is not None:
        X = pd.concat([X, proxies.reindex(archs).reset_index(drop=True)], axis=1)
    return pd.Series(ranker.predict(X), index=pd.Index(archs, name="arch"))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return float("nan")
    return float(stats.spearmanr(a[ok], b[ok]).statistic)


def choose_ranker(labelled: pd.Series | pd.DataFrame, signals: pd.DataFrame | None = None, *, space: str,
                  method: str = "auto", directions: Mapping[str, bool] | None = None, graph: bool = True,
                  accuracy: str | None = None, random_state: int = 0) -> FewShotRanker:
    """A :class:`FewShotRanker` fitted on ``labelled`` (a Series arch -> accuracy, or a frame with
    an ``arch`` column and the ``accuracy`` column) and the proxy ``signals`` of those archs (a
    frame indexed by arch; optional: graph features are always available)."""
    if isinstance(labelled, pd.DataFrame):
        if accuracy is None or accuracy not in labelled.columns:
            raise InputError(f"choose_ranker: name the accuracy column of the labelled frame with accuracy=; "
                             f"its columns: {list(labelled.columns)}.")
        y = labelled.set_index("arch")[accuracy] if "arch" in labelled.columns else labelled[accuracy]
    else:
        y = labelled
    archs = [str(a) for a in y.index]
    X: Any = archs
    if signals is not None and signals.shape[1]:
        missing = pd.Index(archs).difference(signals.index)
        if len(missing):
            raise DataError(f"{len(missing)} labelled architecture(s) have no proxy scores, e.g. {missing[0]!r}; "
                            f"score them first.")
        X = signals.reindex(archs).rename_axis("arch").reset_index()
    return FewShotRanker(space=space, method=method, graph=graph, directions=directions,
                         random_state=random_state).fit(X, y.to_numpy(float))


# ---- the few-shot protocol -------------------------------------------------------------------------------
def evaluation_pool(data, *, min_own: int = 500, max_archs: int | None = 3000, seed: int = 0) -> pd.Index:
    """The archs of a :class:`~zcnas.suite.PairData` that the few-shot study ranks: those with truth
    and (when the pair has any) published scores; restricted to the own-scored ones when at least
    ``min_own`` of them are; then a seeded sample of ``max_archs`` (None: all)."""
    idx = data.truth.dropna().index
    pub = data.origin("published")
    if pub:
        idx = idx.intersection(data.scores.index[data.scores[pub].notna().any(axis=1)], sort=False)
    own = data.origin("own")
    if own:
        scored = idx.intersection(data.scores.index[data.scores[own].notna().any(axis=1)], sort=False)
        if len(scored) >= min_own:
            idx = scored
    idx = pd.Index(sorted(idx), name="arch")
    if max_archs is not None and len(idx) > max_archs:
        rng = np.random.default_rng(seed)
        idx = pd.Index(sorted(rng.choice(idx.to_numpy(), max_archs, replace=False)), name="arch")
    return idx


def pool_signals(data, pool: pd.Index, *, graph: bool = True, min_coverage: float = 0.95) -> pd.DataFrame:
    """Signal frame of the pool: the pair's score columns known on ``min_coverage`` of it, and the
    graph features."""
    sc = data.scores.reindex(pool)
    keep = [c for c in sc.columns if sc[c].notna().mean() >= min_coverage]
    return signal_frame(list(pool), sc[keep], data.pair.space, graph=graph)


def few_shot_study(datas: Sequence[Any], *, ns: Sequence[int] = (0, 5, 10, 20, 50), repetitions: int = 20,
                   methods: Sequence[str] = ("declared", "best_single", "top3", "greedy", "greedy_graf", "surrogate"),
                   seed: int = 0, max_archs: int | None = 3000,
                   priors: Mapping[str, SignedRanker] | None = None,
                   progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """The few-shot protocol on every pair of ``datas`` (:class:`~zcnas.suite.PairData`).

    Per pair, n and repetition (seeded): n archs of the pool are labelled, each method is fitted on
    them and ranks the rest of the pool; the row holds its Spearman on the rest, and
    ``best_published`` the Spearman of the best single published column chosen in hindsight on
    that same rest (declared direction). n = 0 runs ``declared`` and the ``priors`` (a ranker per
    pair key chosen elsewhere, e.g. by :func:`leave_one_space_out`). Returns one row per pair x n x
    repetition x method: ``space, task, n, rep, method, spearman, chosen, best_published,
    best_published_column, pool``."""
    check_int("repetitions", repetitions, "few_shot_study", minimum=1)
    unknown = [m for m in methods if m not in FEWSHOT_METHODS]
    if unknown:
        raise InputError(f"Unknown few-shot method(s) {unknown}; known: {', '.join(FEWSHOT_METHODS)}.")
    rows = []
    for data in datas:
        pool = evaluation_pool(data, max_archs=max_archs, seed=seed)
        frame = pool_signals(data, pool)
        proxy_cols = [c for c in frame.columns if not c.startswith(GRAF_PREFIX)]
        pub = [c for c in data.origin("published") if c in proxy_cols]
        dirs = data.directions
        truth = data.truth.reindex(pool)
        oriented = {c: frame[c] * (1 if dirs[c] else -1) for c in pub}
        for n in ns:
            if n >= len(pool) - 10:
                continue
            for rep in range(repetitions if n > 0 else 1):
                rng = np.random.default_rng([seed, n, rep])
                lab = pool[np.sort(rng.choice(len(pool), n, replace=False))] if n else pool[:0]
                rest = pool.difference(lab, sort=False)
                yr = truth.reindex(rest).to_numpy(float)
                best_pub, best_col = np.nan, ""
                for c in pub:
                    r = _spearman(oriented[c].reindex(rest).to_numpy(float), yr)
                    if np.isfinite(r) and not (r <= best_pub):
                        best_pub, best_col = r, c
                base = {"space": data.pair.space, "task": data.pair.task, "n": n, "rep": rep,
                        "best_published": best_pub, "best_published_column": best_col, "pool": len(pool)}
                todo = [m for m in methods if (m == "declared") == (n == 0)] if n else ["declared"]
                for m in todo:
                    row = dict(base, method=m)
                    try:
                        X = frame.loc[lab, proxy_cols].reset_index() if n else None
                        if n == 0:
                            r = _fit_signed("declared", frame, truth, {c: dirs[c] for c in proxy_cols if c in dirs})
                            pred, chosen = r.score(frame.loc[rest]), r.describe()
                        else:
                            fr = FewShotRanker(space=data.pair.space, method=m, random_state=rep,
                                               directions={c: dirs[c] for c in proxy_cols if c in dirs})
                            fr.fit(X, truth.reindex(lab).to_numpy(float))
                            pred = fr.predict_frame(frame.loc[rest])
                            chosen = fr.method_ + ": " + (fr.ranker_.describe() if isinstance(fr.ranker_, SignedRanker)
                                                          else "xgboost")
                        row.update(spearman=_spearman(pred.reindex(rest).to_numpy(float), yr), chosen=chosen)
                    except (DataError, InputError) as exc:
                        row.update(spearman=np.nan, chosen=f"failed: {exc}")
                    rows.append(row)
                if n == 0 and priors and data.pair.key in priors:
                    r = priors[data.pair.key]
                    have = [s for s in r.signals if s in frame.columns]
                    row = dict(base, method="transfer_prior")
                    if have:
                        rr = SignedRanker(tuple(have), tuple(g for s, g in zip(r.signals, r.signs, strict=True)
                                                             if s in frame.columns))
                        row.update(spearman=_spearman(rr.score(frame.loc[rest]).to_numpy(float), yr),
                                   chosen=rr.describe())
                    else:
                        row.update(spearman=np.nan, chosen="no shared signal")
                    rows.append(row)
        if progress:
            progress(f"{data.pair.key}: pool {len(pool)}, {len(proxy_cols)} proxy columns, "
                     f"{frame.shape[1] - len(proxy_cols)} graph features")
    return pd.DataFrame(rows)


def few_shot_summary(study: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread of each method's Spearman per pair and n, beside the best published proxy in
    hindsight (mean over the same repetitions), with ``margin`` = method - best published."""
    g = study.groupby(["space", "task", "n", "method"], sort=False)
    out = g.agg(spearman=("spearman", "mean"), spearman_sd=("spearman", "std"), reps=("rep", "nunique"),
                best_published=("best_published", "mean"),
                best_published_column=("best_published_column", lambda s: s.mode().iat[0] if len(s.mode()) else ""),
                wins=("spearman", "size")).reset_index()
    wins = study.assign(win=study["spearman"] > study["best_published"]).groupby(
        ["space", "task", "n", "method"], sort=False)["win"].mean().rename("win_rate").reset_index()
    out = out.drop(columns="wins").merge(wins, on=["space", "task", "n", "method"])
    out["margin"] = out["spearman"] - out["best_published"]
    return out


def best_method_per_n(summary: pd.DataFrame) -> pd.DataFrame:
    """Per n: each method's mean Spearman over the pairs, the pairs it beats the best published
    proxy on, and its rank (1 = best mean)."""
    rows = []
    for (n, m), g in summary.groupby(["n", "method"]):
        has_pub = g["best_published"].notna()
        rows.append({"n": n, "method": m, "mean_spearman": g["spearman"].mean(), "pairs": len(g),
                     "beats_published": int((g.loc[has_pub, "margin"] > 0).sum()),
                     "pairs_with_published": int(has_pub.sum()),
                     "mean_margin": g.loc[has_pub, "margin"].mean()})
    out = pd.DataFrame(rows)
    out["rank"] = out.groupby("n")["mean_spearman"].rank(ascending=False, method="min").astype(int)
    return out.sort_values(["n", "rank"]).reset_index(drop=True)


# ---- transfer across spaces and tasks -------------------------------------------------------------------
def proxy_view(data, pool: pd.Index) -> pd.DataFrame:
    """The pair's scores on ``pool`` by proxy name (own column preferred to the published one when it
    covers at least as many archs); the names are what transfers between spaces."""
    sc = data.scores.reindex(pool)
    meta = data.columns
    out: dict[str, pd.Series] = {}
    for proxy, g in meta.groupby("proxy", sort=True):
        cols = sorted(g["column"], key=lambda c: (-sc[c].notna().sum(), not c.startswith("own:")))
        best = sc[cols[0]]
        if best.notna().mean() >= 0.95:
            out[proxy] = best * (1 if bool(g.set_index("column").loc[cols[0], "higher_is_better"]) else -1)
    return pd.DataFrame(out, index=pool)


def _choose_on(views: Sequence[pd.DataFrame], truths: Sequence[pd.Series], *, max_size: int = 4) -> SignedRanker:
    """A signed proxy ranker that maximises the mean Spearman of its mean log-rank over pairs (one
    pair or several): signs from the mean Spearman of each proxy, then forward selection."""
    names = sorted(set().union(*[set(v.columns) for v in views]))
    if not names or not any(len(v.columns) for v in views):
        raise DataError("No proxy shared by the training pairs; nothing to transfer.")
    rho = {p: np.nanmean([_spearman(v[p].to_numpy(float), t.to_numpy(float)) if p in v.columns else np.nan
                          for v, t in zip(views, truths, strict=True)]) for p in names}
    sign = {p: 1 if not (rho[p] < 0) else -1 for p in names}
    names = [p for p in names if np.isfinite(rho[p])]

    def objective(chosen: list[str]) -> float:
        vals = []
        for v, t in zip(views, truths, strict=True):
            have = [p for p in chosen if p in v.columns]
            if not have:
                vals.append(0.0)
                continue
            s = aggregate(v, have, {p: sign[p] > 0 for p in have}) if len(have) > 1 else v[have[0]] * sign[have[0]]
            r = _spearman(s.to_numpy(float), t.to_numpy(float))
            vals.append(r if np.isfinite(r) else 0.0)
        return float(np.mean(vals))

    chosen: list[str] = []
    best = -np.inf
    while len(chosen) < max_size:
        trials = {p: objective(chosen + [p]) for p in names if p not in chosen}
        if not trials:
            break
        p, v = max(trials.items(), key=lambda kv: (kv[1], kv[0]))
        if not v > best + 1e-4:
            break
        chosen.append(p)
        best = v
    return SignedRanker(tuple(chosen), tuple(sign[p] for p in chosen))


def _views(datas: Sequence[Any], max_archs: int | None, seed: int) -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    out = {}
    for d in datas:
        pool = evaluation_pool(d, max_archs=max_archs, seed=seed)
        out[d.pair.key] = (proxy_view(d, pool), d.truth.reindex(pool))
    return out


def _apply(r: SignedRanker, view: pd.DataFrame, truth: pd.Series) -> tuple[float, str]:
    have = [(s, g) for s, g in zip(r.signals, r.signs, strict=True) if s in view.columns]
    if not have:
        return float("nan"), "no shared proxy"
    rr = SignedRanker(tuple(s for s, _ in have), tuple(g for _, g in have))
    return _spearman(rr.score(view).to_numpy(float), truth.to_numpy(float)), rr.describe()


def transfer_matrix(datas: Sequence[Any], *, max_archs: int | None = 3000, seed: int = 0) -> pd.DataFrame:
    """Choose a signed proxy ranker on each pair (all its pool labelled) and evaluate it on every pair;
    rows ``source, target, spearman, ranker`` (the diagonal is in-sample)."""
    views = _views(datas, max_archs, seed)
    rows = []
    for src, (v, t) in views.items():
        try:
            r = _choose_on([v], [t])
        except DataError:
            continue
        for tgt, (v2, t2) in views.items():
            rho, used = _apply(r, v2, t2)
            rows.append({"source": src, "target": tgt, "spearman": rho, "ranker": used, "in_sample": src == tgt})
    return pd.DataFrame(rows)


def leave_one_space_out(datas: Sequence[Any], *, max_archs: int | None = 3000,
                        seed: int = 0) -> tuple[pd.DataFrame, dict[str, SignedRanker]]:
    """For every pair of every space: choose a signed proxy ranker on the pairs of all other benchmarks
    (maximising their mean Spearman; candidates: the proxies the held-out pair has), evaluate it on
    the held-out pair. Returns the table
    (``held_out_space, space, task, spearman, ranker``) and the ranker per held-out pair key (the
    n = 0 prior of :func:`few_shot_study`)."""
    views = _views(datas, max_archs, seed)
    space_of = {d.pair.key: d.pair.space for d in datas}
    family = {k: s.split("_")[0] for k, s in space_of.items()}  # tnb101_micro and _macro share a benchmark
    rows, priors = [], {}
    for held in sorted(set(space_of.values())):
        fam = held.split("_")[0]
        train = [k for k in views if family[k] != fam]
        if not train:
            continue
        for k in [k for k in views if space_of[k] == held]:
            # candidates: the proxies the held-out pair has (known without its labels)
            have = list(views[k][0].columns)
            try:
                r = _choose_on([views[j][0][[c for c in have if c in views[j][0].columns]] for j in train],
                               [views[j][1] for j in train])
            except DataError:
                rows.append({"held_out_space": held, "space": held, "task": k.split("/", 1)[1],
                             "spearman": np.nan, "ranker": "no proxy shared with the training pairs",
                             "trained_on": len(train)})
                continue
            rho, used = _apply(r, *views[k])
            rows.append({"held_out_space": held, "space": held, "task": k.split("/", 1)[1], "spearman": rho,
                         "ranker": used, "trained_on": len(train)})
            priors[k] = r
    return pd.DataFrame(rows), priors


__all__ = ["FEWSHOT_METHODS", "FewShotRanker", "SignedRanker", "best_method_per_n", "choose_ranker",
           "evaluation_pool", "few_shot_study", "few_shot_summary", "graph_signals", "leave_one_space_out",
           "pool_signals", "proxy_view", "signal_frame", "signal_spearman", "transfer_matrix"]
