"""Hardware budgets, Pareto fronts and hypervolume (no torch).

Budgets
-------
A budget caps (``max``) or floors (``min``) one *cost* of an architecture. It is written
``COST=VALUE[UNIT]``, e.g. ``latency:pixel3=5ms``, ``params=0.5M``, ``flops=80M``,
``energy:edgegpu=20mJ``; :func:`parse_budget` turns the text into a :class:`Budget`.

Cost names and the columns they resolve to (first one present in the cost table wins):

=====================  ============================================  =========
cost                   columns                                        base unit
=====================  ============================================  =========
``params``             ``params`` (proxy, millions), ``params_M``      M
``flops``              ``flops`` (proxy, millions of FLOPs)           M
``latency:<device>``   ``hw_<device>_latency`` (HW-NAS-Bench), then    ms
                       ``latency_<device>_ms`` (measured, see
                       :mod:`zcnas.hardware`)
``energy:<device>``    ``hw_<device>_energy`` (HW-NAS-Bench)           mJ
any other name         that column itself (``hw_fpga_latency``, ...)  from the
                                                                      metric
=====================  ============================================  =========

HW-NAS-Bench devices: edgegpu, raspi4, edgetpu, pixel3, eyeriss, fpga (energy: edgegpu, eyeriss,
fpga). Units: time ``us``, ``ms``, ``s``; counts ``K``, ``M``, ``G``; energy ``uJ``, ``mJ``, ``J``.
A bare number is in the cost's base unit. A cost value that is missing (NaN; e.g. HW-NAS-Bench's
edgetpu latency is missing for 4,699 NB201 archs) cannot be checked and counts as infeasible.

:func:`apply_budgets` keeps the rows within every budget; when none is left it raises
:class:`InfeasibleBudgetError` naming the budget, the cheapest candidate's value and how many
candidates were checked.

Pareto fronts and hypervolume
-----------------------------
:func:`pareto_front` returns the non-dominated rows of a frame for objectives given as
``{column: "max" | "min"}``. :func:`hypervolume` is exact in two dimensions. Objectives are first
normalised to ``[0, 1]`` per objective as "lower is better": 0 = the best value and 1 = the worst
value over ``bounds`` (by default the points themselves; pass the full candidate table so that two
fronts are measured on the same scale). The reference point is ``ref = (1.1, 1.1)`` in that
normalised space (10 % beyond the worst value of each objective, so the extreme points of a front
still add volume); the hypervolume of a front is the area it dominates inside the box
``[0, ref]``, at most ``1.1 ** 2 = 1.21``. :func:`hypervolume_fraction` compares a predicted front
with the true one in the *true* objective space.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zcnas.errors import DataError, InputError
from zcnas.tables import read_csv_table

#: HW-NAS-Bench devices with a latency column / with an energy column
HW_LATENCY_DEVICES = ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga")
HW_ENERGY_DEVICES = ("edgegpu", "eyeriss", "fpga")

#: unit -> (kind, factor to the kind's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "us": ("time", 1e-3), "ms": ("time", 1.0), "s": ("time", 1e3),
    "K": ("count", 1e-3), "M": ("count", 1.0), "G": ("count", 1e3),
    "uJ": ("energy", 1e-3), "mJ": ("energy", 1.0), "J": ("energy", 1e3),
}
BASE_UNITS = {"time": "ms", "count": "M", "energy": "mJ"}
_UNIT_ALIASES = {"µs": "us", "k": "K", "mj": "mJ", "uj": "uJ", "sec": "s"}
_KIND_OF_METRIC_UNIT = {"ms": "time", "mJ": "energy", "M": "count"}

_BUDGET_RE = re.compile(r"^\s*(?P<cost>[A-Za-z_][\w\-.:\[\]@]*)\s*(?P<op><=|>=|=|<|>)\s*"
                        r"(?P<num>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*(?P<unit>[A-Za-zµ]*)\s*$")
SENSES = ("max", "min")


class InfeasibleBudgetError(InputError):
    """No candidate meets the budgets. ``budget`` is the first budget no candidate meets (None when
    each budget alone is met but not all together), ``n_checked`` the number of candidates."""

    def __init__(self, message: str, budget: Budget | None, n_checked: int):
        super().__init__(message)
        self.budget, self.n_checked = budget, n_checked


@dataclass(frozen=True)
class CostSpec:
    """What a cost name means: the columns it may be found in (first present wins) and its unit kind
    (``time``, ``count``, ``energy`` or ``None`` when unknown: then only bare numbers are allowed)."""

    name: str
    columns: tuple[str, ...]
    kind: str | None

    @property
    def base_unit(self) -> str:
        return BASE_UNITS.get(self.kind, "") if self.kind else ""

    def find_column(self, columns: Iterable[str]) -> str | None:
        cols = list(columns)
        return next((c for c in self.columns if c in cols), None)


def resolve_cost(name: str) -> CostSpec:
    """The :class:`CostSpec` of a cost name (see the module docstring's table)."""
    name = str(name).strip()
    if not name:
        raise InputError("A cost name is empty; use e.g. params, flops, latency:pixel3 or energy:edgegpu.")
    base, sep, device = name.partition(":")
    if sep:
        if not device:
            raise InputError(f"Cost {name!r} names no device; write e.g. {base}:pixel3.")
        if base == "latency":
            cols = (f"hw_{device}_latency", f"latency_{device}_ms") if device in HW_LATENCY_DEVICES \
                else (f"latency_{device}_ms",)
            return CostSpec(name, cols, "time")
        if base == "energy":
            if device not in HW_ENERGY_DEVICES:
                raise InputError(f"No energy metric for device {device!r}; HW-NAS-Bench has energy for "
                                 f"{', '.join(HW_ENERGY_DEVICES)}.")
            return CostSpec(name, (f"hw_{device}_energy",), "energy")
        raise InputError(f"Unknown cost kind {base!r} in {name!r}; use latency:<device> or energy:<device> "
                         f"(devices: {', '.join(HW_LATENCY_DEVICES)}, or a measured device label).")
    if name == "params":
        return CostSpec(name, ("params", "params_M"), "count")
    if name == "flops":
        return CostSpec(name, ("flops",), "count")
    kind = None
    m = re.fullmatch(r"hw_(\w+?)_(latency|energy)", name)
    if m:
        kind = "time" if m.group(2) == "latency" else "energy"
    elif re.fullmatch(r"latency_\w+_ms", name):
        kind = "time"
    return CostSpec(name, (name,), kind)


@dataclass(frozen=True)
class Budget:
    """``cost <= limit`` (``sense="max"``) or ``cost >= limit`` (``"min"``), ``limit`` in the cost's
    base unit (ms, M or mJ; see :data:`BASE_UNITS`)."""

    cost: str
    limit: float
    sense: str = "max"
    text: str = ""

    def __post_init__(self) -> None:
        if self.sense not in SENSES:
            raise InputError(f"The 'sense' parameter of Budget must be one of {SENSES}. Got {self.sense!r} instead.")
        if not math.isfinite(self.limit):
            raise InputError(f"Budget limit of {self.cost!r} must be a finite number. Got {self.limit!r} instead.")

    @property
    def spec(self) -> CostSpec:
        return resolve_cost(self.cost)

    def describe(self) -> str:
        unit = self.spec.base_unit
        return f"{self.cost} {'<=' if self.sense == 'max' else '>='} {self.limit:g}{(' ' + unit) if unit else ''}"

    def __str__(self) -> str:
        return self.describe()


def _unit(raw: str, text: str) -> tuple[str, float] | None:
    if not raw:
        return None
    u = raw if raw in UNITS else _UNIT_ALIASES.get(raw)
    if u is None:
        raise InputError(f"Unknown unit {raw!r} in budget {text!r}; use one of {', '.join(UNITS)}.")
    return UNITS[u]


def parse_budget(text: str | Budget, sense: str = "max") -> Budget:
    """``"latency:pixel3=5ms"`` -> ``Budget("latency:pixel3", 5.0, "max")``.

    ``COST=VALUE[UNIT]`` takes ``sense`` (``max`` by default, as ``--max``); ``COST<=VALUE`` and
    ``COST>=VALUE`` say it themselves. The value is converted to the cost's base unit (ms, M, mJ);
    a unit of the wrong kind (``latency:pixel3=5M``) is an error."""
    if isinstance(text, Budget):
        return text
    if not isinstance(text, str):
        raise InputError(f"A budget must be text like 'latency:pixel3=5ms'. Got {type(text).__name__} {text!r}.")
    m = _BUDGET_RE.match(text)
    if not m:
        raise InputError(f"Cannot read budget {text!r}; write COST=VALUE[UNIT], e.g. latency:pixel3=5ms, "
                         f"params=0.5M, flops=100M, energy:edgegpu=20mJ (units: {', '.join(UNITS)}).")
    op = m.group("op")
    if op in ("<", "<="):
        sense = "max"
    elif op in (">", ">="):
        sense = "min"
    spec = resolve_cost(m.group("cost"))
    value = float(m.group("num"))
    unit = _unit(m.group("unit"), text)
    if unit is not None:
        kind, factor = unit
        if spec.kind is None:
            raise InputError(f"Budget {text!r}: the unit of cost {spec.name!r} is not known, so give a bare "
                             f"number in the column's own unit.")
        if kind != spec.kind:
            raise InputError(f"Budget {text!r}: {m.group('unit')!r} is a {kind} unit but {spec.name!r} is a "
                             f"{spec.kind} cost (use {', '.join(u for u, (k, _) in UNITS.items() if k == spec.kind)}).")
        value *= factor
    return Budget(spec.name, value, sense, text.strip())


def parse_budgets(items: Iterable[str | Budget] | str | Budget | None, sense: str = "max") -> list[Budget]:
    """A list of budgets from text (each item may hold several, comma-separated) or Budgets."""
    if items is None:
        return []
    if isinstance(items, (str, Budget)):
        items = [items]
    out = []
    for item in items:
        if isinstance(item, Budget):
            out.append(item)
            continue
        for part in str(item).split(","):
            if part.strip():
                out.append(parse_budget(part, sense))
    return out


def cost_columns(df: pd.DataFrame, costs: Iterable[str | Budget]) -> dict[str, str]:
    """Cost name -> column of ``df`` that holds it; an error lists the columns that were looked for."""
    out = {}
    for c in costs:
        spec = c.spec if isinstance(c, Budget) else resolve_cost(c)
        col = spec.find_column(df.columns)
        if col is None:
            raise InputError(f"No column for cost {spec.name!r} among the candidates' columns "
                             f"{list(map(str, df.columns))}; looked for {list(spec.columns)}. Give the cost "
                             f"table (e.g. import HW-NAS-Bench with `zcnas importer hw-nas-bench`).")
        out[spec.name] = col
    return out


def _fmt_arch(df: pd.DataFrame, i) -> str:
    if "arch" in df.columns:
        return str(df.loc[i, "arch"])
    return str(i)


def feasible_mask(df: pd.DataFrame, budgets: Iterable[str | Budget] | str | Budget) -> pd.Series:
    """Boolean Series (``df``'s index): True where every budget is met (NaN costs are not met)."""
    bs = parse_budgets(budgets)
    cols = cost_columns(df, bs)
    mask = pd.Series(True, index=df.index)
    for b in bs:
        v = pd.to_numeric(df[cols[b.cost]], errors="coerce")
        mask &= (v <= b.limit) if b.sense == "max" else (v >= b.limit)
    return mask


def apply_budgets(df: pd.DataFrame, budgets: Iterable[str | Budget] | str | Budget) -> pd.DataFrame:
    """The rows of ``df`` within every budget, in their order.

    ``df`` has one row per candidate and the cost columns (see :func:`resolve_cost`); ``budgets``
    are :class:`Budget` objects or text (``"latency:pixel3=5ms"``). When no row is left, raises
    :class:`InfeasibleBudgetError`: the budget no candidate meets, the cheapest candidate's value
    and how many candidates were checked (with several budgets each met alone, the count meeting
    each one)."""
    bs = parse_budgets(budgets)
    if not bs:
        return df
    n = len(df)
    if n == 0:
        raise InfeasibleBudgetError("No candidates to check against the budget(s) "
                                    f"{', '.join(map(str, bs))}.", bs[0], 0)
    cols = cost_columns(df, bs)
    mask = pd.Series(True, index=df.index)
    counts = []
    for b in bs:
        v = pd.to_numeric(df[cols[b.cost]], errors="coerce")
        ok = (v <= b.limit) if b.sense == "max" else (v >= b.limit)
        counts.append(int(ok.sum()))
        if not ok.any():
            unit = b.spec.base_unit
            known = v.dropna()
            n_missing = n - len(known)
            if len(known):
                best = known.idxmin() if b.sense == "max" else known.idxmax()
                word = "cheapest" if b.sense == "max" else "largest"
                val = f"the {word} has {cols[b.cost]} = {known[best]:.6g}{(' ' + unit) if unit else ''} " \
                      f"({_fmt_arch(df, best)})"
            else:
                val = f"none has a value for {cols[b.cost]}"
            miss = f"; {n_missing} had no value" if n_missing else ""
            raise InfeasibleBudgetError(
                f"No architecture meets the budget {b.describe()} (from {b.text or b.describe()!r}): "
                f"{n} candidate(s) checked, {val}{miss}. Relax the budget or add candidates.", b, n)
        mask &= ok
    if not mask.any():
        each = ", ".join(f"{b.describe()}: {c}" for b, c in zip(bs, counts))
        raise InfeasibleBudgetError(f"No architecture meets all budgets together ({n} candidate(s) checked; "
                                    f"meeting each alone: {each}). Relax one of them.", None, n)
    return df[mask]


# ---- Pareto fronts ---------------------------------------------------------------------------------

def _check_senses(objectives: Mapping[str, str]) -> dict[str, str]:
    if len(objectives) < 1:
        raise InputError("Give at least one objective as {column: 'max' | 'min'}.")
    out = {}
    for k, s in objectives.items():
        if s not in SENSES:
            raise InputError(f"Objective {k!r} must be 'max' or 'min'. Got {s!r} instead.")
        out[k] = s
    return out


def _as_min(values: np.ndarray, senses: Sequence[str]) -> np.ndarray:
    """Points as minimisation objectives (maximised columns negated)."""
    sign = np.array([-1.0 if s == "max" else 1.0 for s in senses])
    return np.asarray(values, dtype=float) * sign


def pareto_mask(points: np.ndarray, senses: Sequence[str] | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``points`` (n x d; every column minimised unless
    ``senses`` says ``"max"``). Rows with a NaN are never on the front; of identical points all
    are kept."""
    p = np.asarray(points, dtype=float)
    if p.ndim != 2:
        raise InputError(f"points must be a 2-D array (n x objectives). Got shape {p.shape}.")
    senses = list(senses) if senses is not None else ["min"] * p.shape[1]
    if len(senses) != p.shape[1]:
        raise InputError(f"{len(senses)} senses for {p.shape[1]} objectives.")
    q = _as_min(p, senses)
    ok = np.isfinite(q).all(axis=1)
    mask = np.zeros(len(q), dtype=bool)
    idx = np.flatnonzero(ok)
    if not len(idx):
        return mask
    q = q[idx]
    if q.shape[1] == 2:  # sort by the first objective, keep strict improvements of the second
        order = np.lexsort((q[:, 1], q[:, 0]))
        best = np.inf
        keep = np.zeros(len(q), dtype=bool)
        i = 0
        while i < len(order):  # handle runs of equal first objective together
            j = i
            while j + 1 < len(order) and q[order[j + 1], 0] == q[order[i], 0]:
                j += 1
            run = order[i:j + 1]
            m = q[run, 1].min()
            if m < best:
                keep[run[q[run, 1] == m]] = True
                best = m
            i = j + 1
        mask[idx[keep]] = True
        return mask
    for a in range(len(q)):  # general d: O(n^2)
        dominated = np.all(q <= q[a], axis=1) & np.any(q < q[a], axis=1)
        mask[idx[a]] = not dominated.any()
    return mask


def pareto_front(df: pd.DataFrame, objectives: Mapping[str, str]) -> pd.DataFrame:
    """The non-dominated rows of ``df`` for ``objectives`` (``{column: "max" | "min"}``), sorted by
    the first objective from best to worst. Rows with a missing objective are left out."""
    obj = _check_senses(objectives)
    missing = [c for c in obj if c not in df.columns]
    if missing:
        raise InputError(f"No column(s) {missing} for the Pareto objectives; columns: {list(df.columns)}.")
    mask = pareto_mask(df[list(obj)].to_numpy(float), list(obj.values()))
    first, s = next(iter(obj.items()))
    front = df[mask]
    return front.sort_values(first, ascending=(s == "min"), kind="mergesort")


def normalise(points: np.ndarray, senses: Sequence[str], bounds: np.ndarray | None = None) -> np.ndarray:
    """Points mapped to ``[0, 1]`` per objective as "lower is better": 0 = the best and 1 = the worst
    value among ``bounds`` (rows of the same objectives; default: ``points``). A constant objective
    maps to 0."""
    q = _as_min(points, senses)
    b = _as_min(points if bounds is None else bounds, senses)
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b):
        raise InputError("No finite points to normalise the objectives with.")
    lo, hi = b.min(axis=0), b.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (q - lo) / span


DEFAULT_REF = (1.1, 1.1)


def hypervolume(points: np.ndarray | pd.DataFrame, senses: Sequence[str] | None = None, *,
                bounds: np.ndarray | pd.DataFrame | None = None,
                ref: Sequence[float] = DEFAULT_REF, normalize: bool = True) -> float:
    """Exact 2-D hypervolume (area) dominated by ``points`` up to the reference point ``ref``.

    ``points`` is n x 2 (a frame: its two columns in order), ``senses`` the direction of each
    column (``"max"``/``"min"``; default both ``"min"``). With ``normalize=True`` (default) the
    objectives are first mapped by :func:`normalise` using ``bounds`` (default: the points), and
    ``ref`` is in that normalised space (default ``(1.1, 1.1)``); with ``normalize=False`` the
    points are used as they are (maximised columns negated) and ``ref`` must be in the same
    orientation (minimisation). Points not strictly better than ``ref`` in both objectives add
    nothing; an empty set has volume 0."""
    p = points.to_numpy(float) if isinstance(points, pd.DataFrame) else np.asarray(points, dtype=float)
    if p.size == 0:
        return 0.0
    if p.ndim != 2 or p.shape[1] != 2:
        raise InputError(f"hypervolume is exact for 2 objectives; got points of shape {p.shape}.")
    senses = list(senses) if senses is not None else ["min", "min"]
    if len(senses) != 2 or any(s not in SENSES for s in senses):
        raise InputError(f"senses must be two of {SENSES}. Got {senses!r} instead.")
    r = np.asarray(ref, dtype=float)
    if r.shape != (2,):
        raise InputError(f"ref must be two numbers. Got {ref!r} instead.")
    if normalize:
        b = bounds.to_numpy(float) if isinstance(bounds, pd.DataFrame) else bounds
        q = normalise(p, senses, b)
    else:
        q = _as_min(p, senses)
    q = q[np.isfinite(q).all(axis=1)]
    q = q[(q[:, 0] < r[0]) & (q[:, 1] < r[1])]
    if not len(q):
        return 0.0
    q = q[pareto_mask(q)]
    q = q[np.argsort(q[:, 0], kind="mergesort")]  # x ascending -> y descending on a front
    xs = np.append(q[1:, 0], r[0])
    return float(np.sum((xs - q[:, 0]) * (r[1] - q[:, 1])))


@dataclass
class FrontComparison:
    """A predicted front measured in the true objective space against the true front."""

    predicted: pd.DataFrame
    true: pd.DataFrame
    hv_predicted: float
    hv_true: float

    @property
    def fraction(self) -> float:
        return self.hv_predicted / self.hv_true if self.hv_true > 0 else math.nan


def hypervolume_fraction(df: pd.DataFrame, predicted: str, truth: str, cost: str, *,
                         ref: Sequence[float] = DEFAULT_REF) -> FrontComparison:
    """Hypervolume of the predicted front as a fraction of the true front's.

    The predicted front is the Pareto front of (``predicted`` max, ``cost`` min); its members are
    then placed at their *true* quality (``truth``, max) and their cost, and the area they dominate
    is divided by that of the true front of (``truth`` max, ``cost`` min). Both are normalised with
    the bounds of all rows of ``df`` (rows with a missing truth or cost excluded) and use the same
    reference point ``ref`` (default (1.1, 1.1), see the module docstring)."""
    for c in (predicted, truth, cost):
        if c not in df.columns:
            raise InputError(f"No column {c!r}; columns: {list(df.columns)}.")
    d = df[np.isfinite(df[truth].to_numpy(float)) & np.isfinite(df[cost].to_numpy(float))]
    bounds = d[[truth, cost]].to_numpy(float)
    pred = pareto_front(d, {predicted: "max", cost: "min"})
    true = pareto_front(d, {truth: "max", cost: "min"})
    hv_p = hypervolume(pred[[truth, cost]], ["max", "min"], bounds=bounds, ref=ref)
    hv_t = hypervolume(true[[truth, cost]], ["max", "min"], bounds=bounds, ref=ref)
    return FrontComparison(pred, true, hv_p, hv_t)


def pareto_plot(df: pd.DataFrame, predicted: str, truth: str, cost: str, path, *,
                title: str = "", ref: Sequence[float] = DEFAULT_REF) -> FrontComparison:
    """PNG of every candidate (grey), the true front and the predicted front placed at their true
    quality, in (cost, truth) axes; returns the :class:`FrontComparison` it drew."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cmp = hypervolume_fraction(df, predicted, truth, cost, ref=ref)
    fig = Figure(figsize=(6.0, 4.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.scatter(df[cost], df[truth], s=4, color="0.75", label=f"candidates (n={len(df)})", rasterized=True)
    t = cmp.true.sort_values(cost)
    p = cmp.predicted.sort_values(cost)
    ax.step(t[cost], t[truth], where="post", color="black", lw=1.2)
    ax.scatter(t[cost], t[truth], s=14, color="black", label=f"true front ({len(t)})")
    ax.step(p[cost], p[truth], where="post", color="tab:red", lw=1.0, ls="--")
    ax.scatter(p[cost], p[truth], s=14, color="tab:red", marker="x",
               label=f"predicted front by {predicted} ({len(p)})")
    ax.set_xlabel(cost)
    ax.set_ylabel(truth)
    ax.set_title(title or f"{predicted}: hypervolume {cmp.fraction:.3f} of the true front", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, alpha=0.3)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.92)
    fig.savefig(path)
    return cmp


# ---- where costs come from -------------------------------------------------------------------------

#: costs that a zero-cost proxy computes (no data needed); :func:`zcnas.ranking.rank` scores them
PROXY_COSTS = ("params", "flops")


def _costs_from_table(table: pd.DataFrame, specs: Sequence[CostSpec]) -> pd.DataFrame:
    cols = {}
    for s in specs:
        c = s.find_column(table.columns)
        if c is not None:
            cols[c] = table[c]
    return pd.DataFrame(cols, index=table.index)


def load_costs(archs: Sequence[str] | pd.Index, costs: Iterable[str | Budget], *,
               source: str | pd.DataFrame | None = None, dataset: str = "cifar10",
               data_root: str | None = None) -> pd.DataFrame:
    """Cost columns for ``archs`` (a frame indexed by arch, one column per cost, NaN where missing).

    ``source``: a frame indexed by arch; a record store (``.h5``: its ``truth`` rows of ``dataset``,
    e.g. ``hw_pixel3_latency`` imported by ``zcnas importer hw-nas-bench``, and its measured
    ``latency`` table); or a CSV with an arch column. Costs still missing after that which are
    HW-NAS-Bench metrics (``latency:<device>``, ``energy:<device>``) are read from the HW-NAS-Bench
    file of ``dataset`` under ``data_root`` (default ``$ZCNAS_DATA``). A cost found nowhere is an
    :class:`InputError` that says where it was looked for."""
    from pathlib import Path

    specs = [(c.spec if isinstance(c, Budget) else resolve_cost(c)) for c in costs]
    idx = pd.Index(list(dict.fromkeys(map(str, archs))), name="arch")
    out = pd.DataFrame(index=idx)
    looked = []
    frames: list[pd.DataFrame] = []
    if isinstance(source, pd.DataFrame):
        frames.append(source)
        looked.append("the given table")
    elif source is not None:
        p = Path(source)
        if p.suffix.lower() in (".h5", ".hdf5"):
            from zcnas.records import RecordStore

            with RecordStore(p, "r") as st:
                truth = st.frame("truth")
                if len(truth):
                    truth = truth[(truth["dataset"] == dataset) & truth["arch"].isin(idx)]
                    frames.append(truth.drop_duplicates(["arch", "metric"], keep="last")
                                  .pivot(index="arch", columns="metric", values="value"))
                if "latency" in st.tables():
                    from zcnas.hardware import latency_wide

                    frames.append(latency_wide(st.frame("latency")))
            looked.append(f"record store {p.name} (truth of {dataset!r}, latency)")
        else:
            frames.append(read_csv_table(p))
            looked.append(f"CSV {p.name}")
    for f in frames:
        got = _costs_from_table(f, specs)
        for c in got.columns:
            if c not in out.columns:
                out[c] = got[c].reindex(idx)
    need_hw = [s for s in specs if s.find_column(out.columns) is None
               and any(c.startswith("hw_") for c in s.columns)]
    if need_hw:
        from zcnas.records.importers import run_importer

        try:
            rows = run_importer("hw-nas-bench", None, data_root=data_root, dataset=dataset)["truth"]
        except DataError as exc:  # no data folder
            raise DataError(f"Cost(s) {[s.name for s in need_hw]} need HW-NAS-Bench data: {exc}") from None
        hw = rows[rows["arch"].isin(idx)].pivot(index="arch", columns="metric", values="value")
        for s in need_hw:
            c = s.find_column(hw.columns)
            if c is not None:
                out[c] = hw[c].reindex(idx)
        looked.append(f"HW-NAS-Bench ({dataset})")
    missing = [s for s in specs if s.find_column(out.columns) is None]
    if missing:
        raise InputError(f"No values for cost(s) {[s.name for s in missing]} (looked for columns "
                         f"{sorted({c for s in missing for c in s.columns})} in "
                         f"{', '.join(looked) or 'no source'}). Give a cost table, or for params/flops "
                         f"score those proxies.")
    return out
