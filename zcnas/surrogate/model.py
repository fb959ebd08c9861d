"""XGBoost surrogate that predicts a benchmark metric (e.g. validation accuracy) from architecture
features, following the scikit-learn estimator contract.

``X`` is either a sequence of architecture strings or a DataFrame with an ``arch`` column plus the
proxy columns named in the feature specification; so the estimator works inside ``clone``,
``cross_val_score`` and ``GridSearchCV``.

Tuning (``tune="cv"``) is a small random search scored by the Spearman correlation of pooled
out-of-fold predictions in a K-fold split *of the training architectures given to fit*; the chosen
hyperparameters are then refitted on all of them. Nothing outside the training set is ever seen, so
the same estimator can be evaluated on held-out architectures (or inside an outer CV) without leak.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from zcnas._version import __version__
from zcnas.errors import DataError, InputError, ZcnasError, check_int
from zcnas.metrics import kendall, spearman
from zcnas.surrogate.features import FeatureSpec

FORMAT = "zcnas-surrogate"
FORMAT_VERSION = 1
OBJECTIVES = ("reg:squarederror", "rank:pairwise", "rank:ndcg")
TARGET_TRANSFORMS = (None, "log_gap")
UNCERTAINTY = (None, "ensemble", "quantile")
TUNE = ("none", "cv")
#: quantiles of a normal distribution one standard deviation either side of the median
_Q_LO, _Q_HI = 0.158655, 0.841345

#: search space of ``tune="cv"``: values drawn independently per candidate
TUNE_GRID: dict[str, tuple] = {
    "max_depth": (3, 4, 5, 6, 8),
    "learning_rate": (0.01, 0.02, 0.03, 0.05, 0.1),
    "n_estimators": (300, 600, 1000, 1500),
    "min_child_weight": (1.0, 2.0, 3.0, 5.0),
    "subsample": (0.6, 0.7, 0.8, 1.0),
    "colsample_bytree": (0.3, 0.5, 0.7, 1.0),
}


def _xgb():
    try:
        import xgboost
    except ModuleNotFoundError as exc:  # pragma: no cover - xgboost is a core dependency
        raise ImportError("The surrogate needs xgboost: pip install 'xgboost>=2.0'.") from exc
    return xgboost


def _spearman(a: np.ndarray, b: np.ndarray) -> float:

    r = spearman(a, b)
    return float(r) if np.isfinite(r) else 0.0  # constant predictions rank nothing


def split_X(X: Any) -> tuple[list[str], pd.DataFrame | None]:
    """Architecture strings and the proxy frame (row-aligned) from ``X``."""
    if isinstance(X, pd.DataFrame):
        if "arch" in X.columns:
            return [str(a) for a in X["arch"]], X.reset_index(drop=True)
        if X.index.dtype == object:  # a store's wide frame, indexed by arch string
            return [str(a) for a in X.index], X.reset_index(drop=True)
        raise InputError(f"X must have an 'arch' column of architecture strings; it has {list(X.columns)}.")
    if isinstance(X, str):
        raise InputError("X must be a sequence of architecture strings, not a single string.")
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"X must be a sequence of architecture strings or a DataFrame with an 'arch' "
                         f"column; got an array of shape {arr.shape}.")
    return [str(a) for a in arr], None


class XGBSurrogate(RegressorMixin, BaseEstimator):
    """Gradient-boosted trees on a :class:`FeatureSpec` of architecture features.

    Parameters (keyword-only, stored as given; validated in ``fit``)
    ----------
    features : FeatureSpec, dict or str (``"onehot,graf,proxies:jacov,nwot"``).
    space : search space of the strings when ``features`` is a string.
    target : name of the predicted metric (saved, checked on load); default: ``y.name`` if any.
    objective : ``reg:squarederror`` or a ranking objective (``rank:pairwise``, ``rank:ndcg``;
        then predictions are scores, not metric values, and ``min_child_weight`` is not used).
    target_transform : ``None`` or ``"log_gap"``: regress ``-log(top - y)`` with ``top`` a little
        above the best training value, which spreads out the crowded top of an accuracy
        distribution; predictions are mapped back to the metric's units.
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree,
    reg_lambda : XGBoost hyperparameters; the defaults suit 10 to 1,000 training architectures.
    n_members : number of boosters trained with different seeds (row and column subsampling);
        predictions are their mean.
    uncertainty : ``None``; ``"ensemble"`` (std across the ``n_members >= 2`` boosters) or
        ``"quantile"`` (an extra booster fits the 15.9% and 84.1% quantiles; std is half their gap).
    tune : ``"none"`` or ``"cv"`` (random search of ``tune_iter`` candidates from :data:`TUNE_GRID`,
        including the given values, scored by ``tune_cv``-fold Spearman on the training set only).
    group_weights : sample columns (``colsample_bytree``) so that each feature group (every
        encoding, the graph features, the proxies) is drawn equally often in total, however many
        columns it has; keeps a handful of proxies from being drowned by 200 graph columns.
    random_state : seed of every random choice; n_jobs : XGBoost threads.
    """

    def __init__(self, *, features: FeatureSpec | dict | str = "onehot,graf", space: str | None = None,
                 target: str | None = None, objective: str = "reg:squarederror",
                 target_transform: str | None = "log_gap", n_estimators: int = 1000,
                 learning_rate: float = 0.03, max_depth: int = 5, min_child_weight: float = 2.0,
                 subsample: float = 0.7, colsample_bytree: float = 0.4, reg_lambda: float = 1.0,
                 n_members: int = 1, uncertainty: str | None = None, tune: str = "none",
                 tune_iter: int = 12, tune_cv: int = 3, group_weights: bool = False, random_state: int = 0,
                 n_jobs: int = 1):
        self.features = features
        self.space = space
        self.target = target
        self.objective = objective
        self.target_transform = target_transform
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.n_members = n_members
        self.uncertainty = uncertainty
        self.tune = tune
        self.tune_iter = tune_iter
        self.tune_cv = tune_cv
        self.group_weights = group_weights
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ---- validation ------------------------------------------------------------------------------
    def _spec(self) -> FeatureSpec:
        f = self.features
        if isinstance(f, FeatureSpec):
            return f
        if isinstance(f, dict):
            return FeatureSpec.from_dict(f)
        if isinstance(f, str):
            if self.space is None:
                raise InputError(f"The 'space' parameter of XGBSurrogate is needed when 'features' is a string "
                                 f"({f!r}); pass space='nb201' (or another space of zcnas.list_spaces()).")
            return FeatureSpec.parse(f, space=self.space)
        raise InputError(f"The 'features' parameter of XGBSurrogate must be a FeatureSpec, dict or str. "
                         f"Got {f!r} instead.")

    def _validate(self) -> None:
        own = "XGBSurrogate"
        for name, allowed in (("objective", OBJECTIVES), ("target_transform", TARGET_TRANSFORMS),
                              ("uncertainty", UNCERTAINTY), ("tune", TUNE)):
            v = getattr(self, name)
            if v not in allowed:
                raise InputError(f"The {name!r} parameter of {own} must be one of {allowed}. "
                                 f"Got {v!r} instead.")
        check_int("n_estimators", self.n_estimators, own, minimum=1)
        check_int("max_depth", self.max_depth, own, minimum=1)
        check_int("n_members", self.n_members, own, minimum=1)
        check_int("tune_iter", self.tune_iter, own, minimum=1)
        check_int("tune_cv", self.tune_cv, own, minimum=2)
        check_int("n_jobs", self.n_jobs, own, minimum=1)
        check_int("random_state", self.random_state, own, minimum=0)
        for name in ("subsample", "colsample_bytree"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 < v <= 1):
                raise InputError(f"The {name!r} parameter of {own} must be a float in (0, 1]. "
                                 f"Got {v!r} instead.")
        for name in ("learning_rate", "min_child_weight", "reg_lambda"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v >= 0):
                raise InputError(f"The {name!r} parameter of {own} must be a float >= 0. Got {v!r} instead.")
        if self.uncertainty == "ensemble" and self.n_members < 2:
            raise InputError(f"uncertainty='ensemble' needs n_members >= 2. Got n_members={self.n_members}.")
        if self.uncertainty is not None and self.objective != "reg:squarederror":
            raise InputError(f"uncertainty={self.uncertainty!r} needs objective='reg:squarederror', "
                             f"not {self.objective!r} (ranking scores have no units).")

    # ---- fitting ---------------------------------------------------------------------------------
    def _hyper(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in TUNE_GRID}

    def _booster_params(self, hyper: dict[str, Any], seed: int) -> dict[str, Any]:
        params = {
            "objective": self.objective, "eta": hyper["learning_rate"], "max_depth": hyper["max_depth"],
            "min_child_weight": hyper["min_child_weight"], "subsample": hyper["subsample"],
            "colsample_bytree": hyper["colsample_bytree"], "lambda": self.reg_lambda,
            "nthread": self.n_jobs, "seed": seed, "tree_method": "hist", "verbosity": 0,
        }
        if self.objective.startswith("rank:"):
            # lambda-gradient hessians are tiny, so a hessian-sum floor would block every split
            params["min_child_weight"] = 0.0
            if self.objective == "rank:pairwise":  # pairs over the whole list, not only the top
                params.update(lambdarank_pair_method="mean", lambdarank_num_pair_per_sample=8)
        return params

    def _encode_y(self, y: np.ndarray) -> np.ndarray:
        if self.objective == "rank:ndcg":  # ndcg needs integer relevance grades (0..30)
            ranks = pd.Series(y).rank(method="average", pct=True).to_numpy()
            return np.floor(ranks * 30.999).astype(np.float64)
        if self.target_transform == "log_gap" and self.objective == "reg:squarederror":
            return -np.log(self.top_ - y)
        return y

    def _decode(self, z: np.ndarray) -> np.ndarray:
        if self.target_transform == "log_gap" and self.objective == "reg:squarederror":
            return self.top_ - np.exp(-z)
        return z

    def _train(self, X: np.ndarray, z: np.ndarray, hyper: dict[str, Any], seed: int,
               quantile: bool = False):
        xgb = _xgb()
        params = self._booster_params(hyper, seed)
        dm = xgb.DMatrix(X, label=z, missing=np.nan)
        if self.group_weights:
            dm.set_info(feature_weights=self._feature_weights())
        if self.objective.startswith("rank:"):
            dm.set_group([len(z)])
        if quantile:
            params.update(objective="reg:quantileerror", quantile_alpha=np.array([_Q_LO, _Q_HI]))
        return xgb.train(params, dm, num_boost_round=int(hyper["n_estimators"]))

    def _feature_weights(self) -> np.ndarray:
        groups = pd.Series(self.spec_.feature_groups)
        return (1.0 / groups.map(groups.value_counts())).to_numpy(np.float64)

    def _fit_members(self, X: np.ndarray, z: np.ndarray, hyper: dict[str, Any]) -> list:
        return [self._train(X, z, hyper, self.random_state * 1000 + m) for m in range(self.n_members)]

    def _tune(self, X: np.ndarray, z: np.ndarray) -> tuple[dict[str, Any], float]:
        from sklearn.model_selection import KFold

        rng = np.random.default_rng(self.random_state)
        candidates = [self._hyper()]
        seen = {tuple(candidates[0].values())}
        tries = 0
        while len(candidates) < self.tune_iter and tries < 100 * self.tune_iter:
            tries += 1
            c = {k: v[rng.integers(len(v))] for k, v in TUNE_GRID.items()}
            key = tuple(c.values())
            if key not in seen:
                seen.add(key)
                candidates.append(c)
        n_splits = min(self.tune_cv, len(z))
        folds = list(KFold(n_splits, shuffle=True, random_state=self.random_state).split(X))
        best, best_score = candidates[0], -np.inf
        for c in candidates:
            oof = np.empty(len(z))
            for tr, te in folds:
                b = self._train(X[tr], z[tr], c, self.random_state)
                oof[te] = b.predict(_xgb().DMatrix(X[te], missing=np.nan))
            score = _spearman(oof, z)
            if score > best_score:
                best, best_score = c, score
        return best, float(best_score)

    def fit(self, X: Any, y: Any) -> XGBSurrogate:
        """Fit on architectures ``X`` (strings, or a DataFrame with ``arch`` + proxy columns) and
        targets ``y``; tuning, if asked, uses only these architectures. Returns ``self``."""
        self._validate()
        spec = self._spec()
        archs, frame = split_X(X)
        y_arr = np.asarray(y, dtype=np.float64).ravel()
        if len(y_arr) != len(archs):
            raise InputError(f"X has {len(archs)} architectures but y has {len(y_arr)} values.")
        if len(archs) < 2:
            raise InputError(f"XGBSurrogate.fit needs at least 2 architectures, got {len(archs)}.")
        if not np.all(np.isfinite(y_arr)):
            raise InputError(f"y has {int((~np.isfinite(y_arr)).sum())} missing or infinite values; "
                             f"drop those architectures before fit.")
        spec = spec.resolved(archs, frame)  # "auto" proxy transform decided on the training data
        Xf = spec.transform(archs, frame)
        self.spec_ = spec
        self.target_ = self.target if self.target is not None else getattr(y, "name", None)
        self.feature_names_ = list(spec.feature_names)
        self.n_features_ = Xf.shape[1]
        lo, hi = float(y_arr.min()), float(y_arr.max())
        # a little above the best seen; further above for few samples (their max is a weaker bound)
        self.top_ = hi + max((0.1 + 1.0 / len(y_arr)) * (hi - lo), 1e-3)
        z = self._encode_y(y_arr)
        if self.tune == "cv":
            self.best_params_, self.tune_score_ = self._tune(Xf, z)
        else:
            self.best_params_, self.tune_score_ = self._hyper(), None
        self.boosters_ = self._fit_members(Xf, z, self.best_params_)
        self.quantile_booster_ = (self._train(Xf, z, self.best_params_, self.random_state, quantile=True)
                                  if self.uncertainty == "quantile" else None)
        self.n_train_ = len(archs)
        return self

    # ---- prediction ------------------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """The feature matrix the fitted model sees for ``X``."""
        check_is_fitted(self, "boosters_")
        archs, frame = split_X(X)
        if frame is not None and self.spec_.proxies:
            self.spec_.resolve_proxy_columns(frame.columns)
        return self.spec_.transform(archs, frame)

    def _member_predictions(self, Xf: np.ndarray) -> np.ndarray:
        dm = _xgb().DMatrix(Xf, missing=np.nan)
        return np.vstack([b.predict(dm) for b in self.boosters_]).astype(np.float64)

    def predict(self, X: Any, return_std: bool = False):
        """Predicted target (metric units for regression; a score for ranking objectives).

        With ``return_std=True`` also returns a non-negative standard deviation per architecture
        (needs ``uncertainty`` set at construction)."""
        check_is_fitted(self, "boosters_")
        Xf = self.transform(X)
        members = self._decode(self._member_predictions(Xf))
        mean = members.mean(axis=0)
        if not return_std:
            return mean
        if self.uncertainty is None:
            raise InputError("predict(return_std=True) needs a model fitted with uncertainty='ensemble' "
                             "or 'quantile'.")
        if self.uncertainty == "ensemble":
            std = members.std(axis=0, ddof=1)
        else:
            q = self.quantile_booster_.predict(_xgb().DMatrix(Xf, missing=np.nan))
            q = self._decode(np.asarray(q, dtype=np.float64).reshape(len(Xf), 2))
            std = np.abs(q[:, 1] - q[:, 0]) / 2.0
        return mean, np.maximum(std, 0.0)

    def score(self, X: Any, y: Any, sample_weight=None) -> float:
        """Spearman rank correlation between predictions and ``y`` (what NAS ranking needs)."""
        return _spearman(self.predict(X), np.asarray(y, dtype=np.float64))

    # ---- persistence -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model with its feature specification, space, target and versions."""
        check_is_fitted(self, "boosters_")

        params = self.get_params(deep=False)
        params["features"] = self.spec_.to_dict()
        doc = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "versions": {"zcnas": __version__, "xgboost": _xgb().__version__},
            "space": self.spec_.space, "target": self.target_, "feature_spec": self.spec_.to_dict(),
            "feature_names": self.feature_names_, "params": params,
            "fitted": {"best_params": {k: (v.item() if hasattr(v, "item") else v)
                                       for k, v in self.best_params_.items()},
                       "tune_score": self.tune_score_, "top": self.top_, "n_train": self.n_train_},
            "boosters": [_booster_to_text(b) for b in self.boosters_],
            "quantile_booster": (_booster_to_text(self.quantile_booster_)
                                 if self.quantile_booster_ is not None else None),
        }
        doc["sha256"] = _digest(doc)
        path = Path(path)
        path.write_text(json.dumps(doc))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, target: str | None = None, space: str | None = None,
             features: FeatureSpec | str | None = None, columns: Sequence[str] | None = None) -> XGBSurrogate:
        """Read a model written by :meth:`save`, refusing one that does not match what is given:
        ``target`` (metric name), ``space``, ``features`` (spec) or the data's ``columns`` (the
        model's proxy columns must be among them). Mismatches raise a one-line :class:`DataError`."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            why = type(exc).__name__ if not isinstance(exc, OSError) else exc.strerror
            raise DataError(f"Cannot read surrogate model {str(path)!r} ({why}): give a file written by "
                            f"`zcnas surrogate fit --out`.") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise DataError(f"{str(path)!r} is not a zcnas surrogate model (no format {FORMAT!r}).")
        if "sha256" in doc and doc["sha256"] != _digest({k: v for k, v in doc.items() if k != "sha256"}):
            raise DataError(f"Surrogate model {str(path)!r} was changed after it was saved (checksum mismatch); "
                            f"refit it with `zcnas surrogate fit`.")
        try:
            return cls._from_doc(doc, path, target=target, space=space, features=features, columns=columns)
        except ZcnasError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
            raise DataError(f"Surrogate model {str(path)!r} is damaged ({type(exc).__name__}: "
                            f"{str(exc)[:80]}); refit it with `zcnas surrogate fit`.") from None

    @classmethod
    def _from_doc(cls, doc: dict, path: Path, *, target, space, features, columns) -> XGBSurrogate:
        if doc.get("format_version") != FORMAT_VERSION:
            raise DataError(f"Surrogate model {str(path)!r} has format version "
                            f"{doc.get('format_version')}; this zcnas reads version {FORMAT_VERSION}: "
                            f"refit it with `zcnas surrogate fit`.")
        spec = FeatureSpec.from_dict(doc["feature_spec"])
        if target is not None and target != doc["target"]:
            raise DataError(f"model predicts target {doc['target']!r} but {target!r} was asked for.")
        if space is not None:
            from zcnas.spaces import SPACES

            if SPACES.resolve(space) != spec.space:
                raise DataError(f"model is for space {spec.space!r} but the data is in space {space!r}.")
        if features is not None:
            want = features if isinstance(features, FeatureSpec) else FeatureSpec.parse(features, spec.space)
            if want != spec:
                raise DataError(f"model uses features {spec.describe()!r} but {want.describe()!r} "
                                f"was asked for.")
        if columns is not None and spec.proxies:
            spec.resolve_proxy_columns(columns)
        params = dict(doc["params"])
        params["features"] = spec
        model = cls(**params)
        model._validate()  # a tampered parameter is refused, not used
        xgb = _xgb()
        model.spec_ = spec
        model.target_ = doc["target"]
        model.feature_names_ = list(doc["feature_names"])
        model.n_features_ = len(model.feature_names_)
        fitted = doc["fitted"]
        model.best_params_, model.tune_score_ = fitted["best_params"], fitted["tune_score"]
        model.top_, model.n_train_ = float(fitted["top"]), int(fitted["n_train"])
        model.boosters_ = [_booster_from_text(xgb, t) for t in doc["boosters"]]
        qb = doc.get("quantile_booster")
        model.quantile_booster_ = _booster_from_text(xgb, qb) if qb else None
        model.versions_ = doc["versions"]
        if spec.n_features != model.n_features_ or list(spec.feature_names) != model.feature_names_:
            raise DataError(f"Surrogate model {str(path)!r} was saved with {model.n_features_} features "
                            f"but its feature specification now gives {spec.n_features}: refit the model.")
        return model


def _digest(doc: dict) -> str:
    """Checksum of a saved model's content (every field but the checksum itself)."""
    import hashlib

    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _booster_to_text(booster) -> str:
    return base64.b64encode(bytes(booster.save_raw("ubj"))).decode("ascii")


def _booster_from_text(xgb, text: str):
    b = xgb.Booster()
    b.load_model(bytearray(base64.b64decode(text)))
    return b


# ---- records and evaluation (what the command line calls) ------------------------------------------
def load_records(path: str | os.PathLike, *, target: str | None = None, run_key: str | None = None,
                 dataset: str | None = None) -> pd.DataFrame:
    """Records as a frame with an ``arch`` column, proxy columns and (if ``target``) that column.

    ``path`` is a record store (``.h5``: proxies from ``scores_wide(run_key, dataset)``, the target
    from ``truth_wide``) or a CSV with an ``arch`` column. Rows without the target are dropped."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"Records file {str(path)!r} does not exist.")
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path)
        if "arch" not in df.columns:
            raise DataError(f"{str(path)!r} has no 'arch' column; columns are {list(df.columns)}.")
    else:
        from zcnas.records import RecordStore

        with RecordStore(path, "r") as s:
            tables = s.tables()
            scores = s.scores_wide(run_key=run_key, dataset=dataset) if "scores" in tables else pd.DataFrame()
            truth = s.truth_wide(metrics=[target]) if target is not None else pd.DataFrame()
        df = scores.join(truth, how="outer") if len(scores.columns) else truth
        df = df.rename_axis("arch").reset_index()
    if target is not None:
        if target not in df.columns:
            raise DataError(f"No target column {target!r} in {str(path)!r}; columns are "
                            f"{[c for c in df.columns if c != 'arch']}.")
        df = df[np.isfinite(pd.to_numeric(df[target], errors="coerce"))].reset_index(drop=True)
        if df.empty:
            raise DataError(f"No architecture in {str(path)!r} has a value for target {target!r}.")
    return df


def cross_validate(model: XGBSurrogate, records: pd.DataFrame, target: str, cv: int = 5,
                   seed: int = 0) -> pd.DataFrame:
    """K-fold cross-validated Spearman and Kendall of ``model`` on ``records`` (one row per fold).
    Any tuning the model does happens inside each training fold."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold


    check_int("cv", cv, "cross_validate", minimum=2)
    if len(records) < cv:
        raise InputError(f"cross_validate needs at least cv={cv} records, got {len(records)}.")
    y = records[target].to_numpy(np.float64)
    X = records.drop(columns=[target])
    rows = []
    for fold, (tr, te) in enumerate(KFold(cv, shuffle=True, random_state=seed).split(X)):
        m = clone(model).fit(X.iloc[tr], y[tr])
        pred = m.predict(X.iloc[te])
        rows.append({"fold": fold, "n_train": len(tr), "n_test": len(te),
                     "spearman": spearman(pred, y[te]), "kendall": kendall(pred, y[te])})
    return pd.DataFrame(rows)
