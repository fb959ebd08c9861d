"""Feature specifications for the surrogate: space encodings, GRAF-style graph features, proxies.

A :class:`FeatureSpec` is a frozen value saved with every model, so a model always rebuilds exactly
the features it was trained on. ``FeatureSpec.parse("onehot,graf,proxies:jacov,nwot")`` reads the
command-line form; :meth:`FeatureSpec.transform` turns architecture strings (and an optional frame of
proxy columns) into a float matrix in which missing proxy values are ``NaN`` (XGBoost learns a
default direction for them).

The graph features are GRAF-style counts (Kadlecova et al., ICML 2024: "Surprisingly strong
performance prediction with neural graph features") read from the space's ``cell_graph``: the same
definition for every space (:func:`zcnas.graph.graph_features`); NB201's values are those of the
first release.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from zcnas.errors import DataError, InputError, UnknownNameError
from zcnas.spaces import get_space

#: missing-value sentinel used by NAS-Bench-Suite-Zero and older tools
MISSING_SENTINEL = -1e8
PROXY_TRANSFORMS = (None, "log", "auto")
#: ``proxy_transform="auto"`` takes the signed log when a proxy column reaches this magnitude
#: (synflow in float64 reaches 1e40 on large NB201 networks; XGBoost works in float32)
AUTO_LOG_ABOVE = 1e30
#: names other tools use for the same proxy; matched in both directions when looking up columns
PROXY_ALIASES = {"jacov": "jacob_cov", "nwot": "naswot"}

def _proxy_alternatives(name: str) -> list[str]:
    alts = [name]
    for a, b in PROXY_ALIASES.items():
        if name == a:
            alts.append(b)
        elif name == b:
            alts.append(a)
    return alts


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a surrogate uses. Frozen; round-trips through :meth:`to_dict`/:meth:`from_dict`.

    ``encodings`` are names accepted by the space's ``encode`` (its ``encodings``); ``graph``
    adds the GRAF-style graph features of the space's ``cell_graph``; ``proxies`` are column names looked up in the
    proxy frame (aliases such as ``jacov``/``jacob_cov`` are matched both ways);
    ``proxy_transform`` is ``"auto"`` (default: the signed ``log1p`` when a proxy's values reach
    1e30, which float32 cannot hold with precision; a model resolves it once, on its training
    data, and keeps the choice), ``"log"`` (always) or ``None`` (never). The log keeps the order,
    so trees split the same way.
    """

    space: str
    encodings: tuple[str, ...] = ("onehot",)
    graph: bool = True
    proxies: tuple[str, ...] = ()
    proxy_transform: str | None = "auto"
    # cached names, not part of the value
    _names: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "encodings", tuple(self.encodings))
        object.__setattr__(self, "proxies", tuple(self.proxies))
        space = get_space(self.space)  # raises UnknownNameError for an unknown space
        object.__setattr__(self, "space", space.name)
        for e in self.encodings:
            if e not in space.encodings:
                raise UnknownNameError(f"{space.name} encoding", e, space.encodings)
        if self.proxy_transform not in PROXY_TRANSFORMS:
            raise InputError(f"The 'proxy_transform' parameter of FeatureSpec must be one of "
                             f"{PROXY_TRANSFORMS}. Got {self.proxy_transform!r} instead.")
        if len(set(self.proxies)) != len(self.proxies):
            raise InputError(f"FeatureSpec proxies must be unique, got {list(self.proxies)}.")
        if not (self.encodings or self.graph or self.proxies):
            raise InputError("A FeatureSpec needs at least one of encodings, graph or proxies.")

    # ---- construction ----------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, space: str, proxy_transform: str | None = "auto") -> FeatureSpec:
        """Read ``"onehot,graf,proxies:jacov,nwot"``: encoding names, ``graf`` (or ``graph``) and
        ``proxies:`` followed by proxy names (everything after ``proxies:`` is a proxy name)."""
        encodings: list[str] = []
        proxies: list[str] = []
        graph = False
        in_proxies = False
        for raw in (t.strip() for t in text.split(",")):
            if not raw:
                continue
            if raw.startswith("proxies:"):
                in_proxies = True
                raw = raw[len("proxies:"):].strip()
                if not raw:
                    continue
            if in_proxies:
                proxies.append(raw)
            elif raw in ("graf", "graph"):
                graph = True
            else:
                encodings.append(raw)
        return cls(space=space, encodings=tuple(encodings), graph=graph, proxies=tuple(proxies),
                   proxy_transform=proxy_transform)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureSpec:
        known = {"space", "encodings", "graph", "proxies", "proxy_transform"}
        extra = set(d) - known
        if extra:
            raise DataError(f"Unknown feature specification keys {sorted(extra)}; expected {sorted(known)}.")
        return cls(**{k: (tuple(v) if k in ("encodings", "proxies") else v) for k, v in d.items()})

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("_names")
        d["encodings"], d["proxies"] = list(self.encodings), list(self.proxies)
        return d

    def describe(self) -> str:
        """The command-line form, e.g. ``onehot,graf,proxies:jacov,nwot``."""
        parts = list(self.encodings) + (["graf"] if self.graph else [])
        if self.proxies:
            parts.append("proxies:" + ",".join(self.proxies))
        return ",".join(parts)

    # ---- features --------------------------------------------------------------------------------
    @property
    def feature_names(self) -> tuple[str, ...]:
        if not self._names:
            names: list[str] = []
            for e in self.encodings:
                n = len(get_space(self.space).encode(get_space(self.space).example(), e))
                names += [f"{e}_{i}" for i in range(n)]
            if self.graph:
                names += list(get_space(self.space).graph_feature_names())
            names += [f"proxy_{p}" for p in self.proxies]
            object.__setattr__(self, "_names", tuple(names))
        return self._names

    @property
    def feature_groups(self) -> tuple[str, ...]:
        """Group of each feature column: the encoding name, ``graph`` or ``proxies``."""
        sp = get_space(self.space)
        groups: list[str] = []
        for e in self.encodings:
            groups += [e] * len(sp.encode(sp.example(), e))
        if self.graph:
            groups += ["graph"] * len(sp.graph_feature_names())
        groups += ["proxies"] * len(self.proxies)
        return tuple(groups)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def resolve_proxy_columns(self, columns: Iterable[str]) -> dict[str, str]:
        """Map each proxy of the spec to a column of ``columns``; raise a one-line DataError if any
        is missing."""
        cols = list(columns)
        found: dict[str, str] = {}
        for p in self.proxies:
            match = next((c for c in _proxy_alternatives(p) if c in cols), None)
            if match is not None:
                found[p] = match
        missing = [p for p in self.proxies if p not in found]
        if missing:
            have = [c for c in cols if c != "arch"]
            raise DataError(f"model expects proxy columns {list(self.proxies)} but the data has {have} "
                            f"(missing {missing}).")
        return found

    def _log(self, vals: np.ndarray) -> bool:
        if self.proxy_transform == "auto":
            return bool(np.nanmax(np.abs(vals), initial=0.0) >= AUTO_LOG_ABOVE)
        return self.proxy_transform == "log"

    def resolved(self, archs: Sequence[str], proxy_frame: pd.DataFrame | None) -> FeatureSpec:
        """This spec with ``proxy_transform="auto"`` decided on ``proxy_frame`` (what a model keeps)."""
        if self.proxy_transform != "auto":
            return self
        use_log = False
        if self.proxies and proxy_frame is not None:
            frame = _align(proxy_frame, list(archs), get_space(self.space))
            mapping = self.resolve_proxy_columns(frame.columns)
            vals = np.column_stack([pd.to_numeric(frame[mapping[p]], errors="coerce").to_numpy(np.float64)
                                    for p in self.proxies])
            vals[~np.isfinite(vals) | (vals <= MISSING_SENTINEL)] = np.nan
            use_log = self._log(vals)
        return FeatureSpec(self.space, self.encodings, self.graph, self.proxies, "log" if use_log else None)

    def transform(self, archs: Sequence[str], proxy_frame: pd.DataFrame | None = None) -> np.ndarray:
        """Feature matrix (n_archs x n_features, float64) for ``archs``.

        ``proxy_frame`` holds the proxy columns, row-aligned with ``archs`` (or indexed by the arch
        strings). Values of ``-1e8``, ``inf`` and ``NaN`` are missing and become ``NaN``.
        """
        archs = list(archs)
        space = get_space(self.space)
        blocks: list[np.ndarray] = []
        if self.encodings or self.graph:
            rows = []
            for a in archs:
                rows.append(_arch_features(self.space, space.coerce(a), self.encodings, self.graph))
            blocks.append(np.asarray(rows, dtype=np.float64).reshape(len(archs), -1))
        if self.proxies:
            if proxy_frame is None:
                raise DataError(f"model expects proxy columns {list(self.proxies)} but no proxy data was "
                                f"given.")
            mapping = self.resolve_proxy_columns(proxy_frame.columns)
            frame = _align(proxy_frame, archs, space)
            vals = np.column_stack([pd.to_numeric(frame[mapping[p]], errors="coerce").to_numpy(np.float64)
                                    for p in self.proxies])
            vals[~np.isfinite(vals) | (vals <= MISSING_SENTINEL)] = np.nan
            if self._log(vals):
                vals = np.sign(vals) * np.log1p(np.abs(vals))
            else:
                big = np.nanmax(np.abs(vals), axis=0, initial=0.0) > np.finfo(np.float32).max
                if big.any():  # XGBoost works in float32: these would overflow to inf
                    cols = [p for p, b in zip(self.proxies, big, strict=True) if b]
                    raise InputError(f"Proxy column(s) {cols} hold values beyond float32 range (up to "
                                     f"{np.nanmax(np.abs(vals)):.3g}), which the model cannot represent; use "
                                     f"FeatureSpec(..., proxy_transform='log') (signed log1p; the same "
                                     f"trees, as it keeps the order).")
            blocks.append(vals)
        X = np.hstack(blocks) if blocks else np.zeros((len(archs), 0))
        return X


def _align(frame: pd.DataFrame, archs: list, space) -> pd.DataFrame:
    """Rows of ``frame`` for ``archs``: by the architecture strings when the frame is indexed by
    them (or has an ``arch`` column), by position only when its index is a plain range."""
    keys = [space.key(a) for a in archs]
    if "arch" in frame.columns:
        frame = frame.set_index("arch")
    idx = frame.index
    if isinstance(idx, pd.RangeIndex) or (idx.dtype.kind in "iu" and not any(isinstance(k, str) for k in idx[:1])):
        if len(frame) != len(archs):
            raise DataError(f"proxy data has {len(frame)} rows for {len(archs)} architectures and is not indexed "
                            f"by architecture string; index it by the strings or pass one row per architecture.")
        return frame
    if idx.has_duplicates:
        raise DataError("proxy data lists an architecture twice; give one row per architecture.")
    return frame.reindex(keys)


@lru_cache(maxsize=65536)
def _arch_features(space: str, arch, encodings: tuple[str, ...], graph: bool) -> tuple:
    sp = get_space(space)
    parts = [sp.encode(arch, e) for e in encodings]
    if graph:
        parts.append(sp.graph_features(arch))
    return tuple(np.concatenate(parts).tolist()) if parts else ()
