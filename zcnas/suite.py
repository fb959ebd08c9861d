"""The benchmark suite: every proxy and aggregate against every space x task with ground truth here.

One public function per concept (no torch at import):

- :func:`suite_pairs` the space x task pairs (:class:`SuitePair`): where the truth, zcnas's own scores
  and the published scores of each come from;
- :func:`load_pair` one pair's truth and score columns, each column with its origin (``own`` or
  ``published``) and source (:class:`PairData`);
- :func:`evaluate_pair` Spearman and Kendall with bootstrap intervals and top-k precision of every
  column and of every registered aggregate (over the own columns, and over the published ones);
- :func:`size_biases` correlation of every column with params and FLOPs, and the partial Spearman
  with the truth once params (or FLOPs) is controlled for;
- :func:`run_suite` all of it for many pairs, resumable (one cache file per pair; a rerun skips
  the pairs whose inputs did not change), writing ``suite.csv``, ``biases.csv``, ``summary.md`` and
  ``report.html`` with the proxies x tasks heat-map and the per-task best.

Column names are ``<origin>:<proxy>`` (``own:synflow``, ``published:synflow``); a column whose own
scores were computed on another dataset's images than the pair's task says so in its source
(``zcnas, cifar10 images``). Every column is oriented by its declared direction
(:func:`zcnas.bench.resolve_directions`): published NAS-Bench-Suite-Zero tables are higher-is-better
as stored. NB301's truth is a surrogate's prediction, marked ``truth_kind = surrogate``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from zcnas.errors import DataError, InputError, UnknownNameError, check_int

log = logging.getLogger("zcnas")

TNB101_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")
#: folder of zcnas's own score stores, relative to the repository root
DEFAULT_SCORES_DIR = Path(__file__).resolve().parents[1] / "benchmarks_data"
SUITE_METRICS = ("spearman", "kendall", "precision@1%", "precision@5%", "precision@10%")
#: size columns looked for, in order, to control for params / FLOPs (own first, then published)
SIZE_PROXIES = {"params": ("own:params", "published:params"), "flops": ("own:flops", "published:flops")}


@dataclass(frozen=True)
class PublishedSource:
    """Published scores: an importer, the run key of its rows, and a short label."""

    importer: str
    run_key: str
    label: str


@dataclass(frozen=True)
class SuitePair:
    """One space x task with ground truth: where its truth and its scores come from.

    ``truth_importer``/``truth_metric``: the ground truth (``truth_kind`` ``benchmark`` or
    ``surrogate``); ``own_store``: zcnas's own score store (a file in the scores folder) and
    ``own_dataset`` the dataset (task) its rows carry; ``own_fallback``: other datasets whose
    image-based own scores stand in where the task has none (marked in the source);
    ``published``: the published score sources."""

    space: str
    task: str
    truth_importer: str
    truth_metric: str
    truth_kind: str = "benchmark"
    own_store: str | None = None
    own_dataset: str | None = None
    own_fallback: tuple[str, ...] = ()
    published: tuple[PublishedSource, ...] = ()
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.space}/{self.task}"


def suite_pairs(pattern: str | None = None) -> list[SuitePair]:
    """The suite's space x task pairs (19): NB201 on CIFAR-10, CIFAR-100 and ImageNet16-120, NB101
    CIFAR-10, NB301 CIFAR-10 (surrogate truth) and TNB101 micro and macro on 7 tasks each.

    ``pattern`` keeps the pairs whose key (``space/task``) matches a shell pattern or contains it
    (``"tnb101*"``, ``"nb201/cifar10"``)."""
    import fnmatch

    sz = "NAS-Bench-Suite-Zero"
    pairs = [
        SuitePair("nb201", "cifar10", "nb201-merged", "c10_test_200ep", own_store="nb201_zcnas_scores.h5",
                  own_dataset="cifar10",
                  published=(PublishedSource("nb201-merged", "published:suitezero:cifar10", f"{sz} (9,445 nets)"),
                             PublishedSource("nb201-merged", "published:naswot:cifar10", "NASWOT authors"))),
        SuitePair("nb201", "cifar100", "nb201-merged", "c100_test_200ep", own_store="nb201_zcnas_scores.h5",
                  own_dataset="cifar100", own_fallback=("cifar10",),
                  published=(PublishedSource("suitezero-json", "published:suitezero-json:cifar100",
                                             f"{sz} 725-arch sample"),)),
        SuitePair("nb201", "ImageNet16-120", "nb201-merged", "in16_test_200ep", own_store="nb201_zcnas_scores.h5",
                  own_dataset="ImageNet16-120", own_fallback=("cifar10",),
                  published=(PublishedSource("nb201-merged", "published:suitezero:ImageNet16-120",
                                             f"{sz} (9,445 nets)"),),
                  note="own image-based scores use CIFAR-10 images (no ImageNet16-120 images here)"),
        SuitePair("nb101", "cifar10", "nb101-csv", "nb101_c10_valid_108ep", own_store="nb101_zcnas_scores.h5",
                  own_dataset="cifar10", note="no published NB101 proxy scores here"),
        SuitePair("darts", "cifar10", "nb301-suitezero-json", "nb301_c10_val_pred", truth_kind="surrogate",
                  own_store="darts_zcnas_scores.h5", own_dataset="cifar10",
                  published=(PublishedSource("nb301-suitezero-json", "published:suitezero-json:cifar10",
                                             f"{sz} 725-arch NB301 sample"),),
                  note="truth is NB301's surrogate prediction, not a training run"),
    ]
    for which, importer in (("micro", "tnb101-tables"), ("macro", "tnb101-macro-tables")):
        for task in TNB101_TASKS:
            pairs.append(SuitePair(f"tnb101_{which}", task, importer, f"tnb101_{task}_valid",
                                   own_store="tnb101_zcnas_scores.h5", own_dataset=task,
                                   published=(PublishedSource(importer, f"published:suitezero:{task}", sz),)))
    if pattern:
        pairs = [p for p in pairs if fnmatch.fnmatch(p.key, pattern) or pattern in p.key]
        if not pairs:
            raise InputError(f"No suite pair matches {pattern!r}; pairs are space/task, e.g. nb201/cifar10, "
                             f"'tnb101_micro/*' (see zcnas suite --list).")
    return pairs


def get_pair(space: str, task: str) -> SuitePair:
    """The suite pair of ``space`` and ``task``; an unknown one names the known pairs."""
    for p in suite_pairs():
        if p.space == space and p.task == task:
            return p
    raise UnknownNameError("suite pair", f"{space}/{task}", [p.key for p in suite_pairs()])


# ---- loading -----------------------------------------------------------------------------------------
@dataclass
class PairData:
    """What :func:`load_pair` returns: the truth, the score columns and where each came from.

    ``scores``: index arch, columns ``own:<proxy>`` / ``published:<proxy>`` (NaN = failed or not
    scored); ``columns``: one row per column with ``column, proxy, origin, source, n,
    higher_is_better``."""

    pair: SuitePair
    truth: pd.Series
    scores: pd.DataFrame
    columns: pd.DataFrame
    inputs: dict[str, Any] = field(default_factory=dict)

    def origin(self, origin: str) -> list[str]:
        """The columns of one origin (``own`` or ``published``)."""
        return list(self.columns.loc[self.columns["origin"] == origin, "column"])

    @property
    def directions(self) -> dict[str, bool]:
        return dict(zip(self.columns["column"], self.columns["higher_is_better"], strict=True))


@lru_cache(maxsize=16)
def _imported(importer: str, data_root: str | None) -> dict[str, pd.DataFrame]:
    from zcnas.records.importers import run_importer

    return run_importer(importer, data_root=data_root)


def _own_scores(pair: SuitePair, scores_dir: Path) -> tuple[pd.DataFrame, dict[str, str], dict[str, Any]]:
    """Own scores of the pair (wide, ``own:`` columns), the source of each column and the store's stamp."""
    if pair.own_store is None:
        return pd.DataFrame(), {}, {}
    path = scores_dir / pair.own_store
    if not path.exists():
        log.warning("%s: own score store %s not found; own scores skipped", pair.key, path)
        return pd.DataFrame(), {}, {"own_store": str(path), "missing": True}
    from zcnas.records import RecordStore

    with RecordStore(path, "r") as st:
        long = st.frame("scores")
    stamp = {"own_store": str(path), "rows": int(len(long))}
    long = long[(long["space"] == pair.space) & ~long["run_key"].astype(str).str.startswith("published:")]
    if long.empty:
        return pd.DataFrame(), {}, stamp
    long = long.assign(value=long["value"].where(long["status"] == "ok"))
    # priority: the task's own rows, then data-free rows, then other datasets' rows (marked)
    order = [(pair.own_dataset, f"scored for {pair.own_dataset}"), ("", "data-free")]
    order += [(d, f"scored on {d} images, not this task's") for d in pair.own_fallback]
    wide: dict[str, pd.Series] = {}
    sources: dict[str, str] = {}
    for proxy, rows in long.groupby("proxy", sort=True):
        parts, used = [], []
        for ds, label in order:
            part = rows[(rows["dataset"] == ds) & rows["value"].notna()]
            if len(part):
                parts.append(part)
                used.append(f"{label}: {part['arch'].nunique()}")
        if not parts:
            continue
        merged = pd.concat(parts).drop_duplicates("arch")  # the first (highest-priority) value per arch
        wide[f"own:{proxy}"] = merged.set_index("arch")["value"]
        sources[f"own:{proxy}"] = f"zcnas ({'; '.join(used)}; {pair.own_store})"
    return pd.DataFrame(wide), sources, stamp


def load_pair(space: str | SuitePair, task: str | None = None, *, data_root: str | os.PathLike | None = None,
              scores_dir: str | os.PathLike | None = None) -> PairData:
    """Truth and score columns of one pair (``load_pair("nb201", "cifar10")`` or a :class:`SuitePair`).

    ``data_root``: the benchmark folder (default ``$ZCNAS_DATA``); ``scores_dir``: the folder of
    zcnas's own score stores (default the repository's ``benchmarks_data/``, read as it is now: the
    partial stores grow in the background). Scores are kept for every arch that has them; the
    truth for every arch of the benchmark table."""
    from zcnas.bench import resolve_directions
    from zcnas.paths import benchmark_root

    pair = space if isinstance(space, SuitePair) else get_pair(space, str(task))
    root = str(benchmark_root(data_root))
    sdir = Path(scores_dir) if scores_dir is not None else DEFAULT_SCORES_DIR
    imp = _imported(pair.truth_importer, root)
    tr = imp.get("truth", pd.DataFrame())
    tr = tr[(tr["metric"] == pair.truth_metric) & (tr["space"] == pair.space)]
    if tr.empty:
        raise DataError(f"{pair.key}: the importer {pair.truth_importer!r} gave no {pair.truth_metric!r} rows; "
                        f"check $ZCNAS_DATA (see `zcnas importer list`).")
    truth = tr.drop_duplicates("arch").set_index("arch")["value"].rename(pair.truth_metric).astype(float)
    own, sources, stamp = _own_scores(pair, sdir)
    cols: list[pd.Series] = [own[c] for c in own.columns] if len(own.columns) else []
    rows = [{"column": c, "proxy": c.split(":", 1)[1], "origin": "own", "source": sources[c]} for c in own.columns]
    for src in pair.published:
        sc = _imported(src.importer, root).get("scores", pd.DataFrame())
        sc = sc[(sc["run_key"] == src.run_key) & (sc["space"] == pair.space)]
        for proxy, part in sc.groupby("proxy", sort=True):
            col = f"published:{proxy}"
            if col in [r["column"] for r in rows]:
                col = f"published:{proxy}[{src.label.split()[0]}]"
            vals = part.assign(value=part["value"].where(part["status"] == "ok")).drop_duplicates("arch")
            cols.append(vals.set_index("arch")["value"].rename(col))
            rows.append({"column": col, "proxy": proxy, "origin": "published",
                         "source": f"{src.label} ({src.run_key})"})
    scores = pd.concat([c.rename(r["column"]) for c, r in zip(cols, rows, strict=True)], axis=1) if cols \
        else pd.DataFrame(index=pd.Index([], name="arch"))
    scores.index.name = "arch"
    meta = pd.DataFrame(rows, columns=["column", "proxy", "origin", "source"])
    meta["n"] = [int(scores[c].reindex(truth.index).notna().sum()) for c in meta["column"]]
    dirs = resolve_directions(list(meta["proxy"].unique())) if len(meta) else {}
    meta["higher_is_better"] = [bool(dirs[p]) for p in meta["proxy"]]
    return PairData(pair, truth, scores, meta, inputs=stamp)


# ---- evaluation ---------------------------------------------------------------------------------------
def _aligned(data: PairData, col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    s = col.reindex(data.truth.index)
    ok = s.notna().to_numpy() & np.isfinite(data.truth.to_numpy())
    return s.to_numpy(float)[ok], data.truth.to_numpy(float)[ok]


def _aggregate_columns(cols: list[str], n: pd.Series) -> list[str]:
    """The columns an aggregate combines: all but those scored on fewer than half as many
    architectures as the origin's median column. Aggregates need every column, so one proxy run on
    a short prefix (e.g. an expensive one next to the cheap set) would otherwise shrink the
    aggregate's set to that prefix."""
    if len(cols) < 3:
        return cols
    median = float(np.median([int(n[c]) for c in cols]))
    return [c for c in cols if int(n[c]) >= 0.5 * median]


def evaluate_pair(data: PairData, *, bootstrap: int = 100, seed: int = 0,
                  metrics: Sequence[str] = SUITE_METRICS, aggregates: Sequence[str] | None = None,
                  min_archs: int = 10) -> pd.DataFrame:
    """Every metric of every score column of ``data`` and of every aggregate (registered ones by
    default) over the own columns and over the published columns, against the pair's truth.

    An aggregate is taken over the archs where every column of its origin is scored (its ``n``);
    a column with fewer than ``min_archs`` scored archs is left out. Returns one row per column x
    metric: ``space, task, truth_metric, truth_kind, column, proxy, kind, origin, source, metric,
    value, ci_low, ci_high, n``."""
    from zcnas.aggregate import aggregate, list_aggregates
    from zcnas.metrics import evaluate

    check_int("bootstrap", bootstrap, "evaluate_pair", minimum=0)
    dirs = data.directions
    frames = []
    meta = data.columns.set_index("column")
    usable = [c for c in data.scores.columns if meta.loc[c, "n"] >= min_archs]
    if usable:
        res = evaluate(data.scores[usable].reindex(data.truth.index), data.truth, dirs, metrics=list(metrics),
                       topk=(), bootstrap=bootstrap, seed=seed)
        res = res.rename(columns={"proxy": "column"})
        res["kind"] = "proxy"
        res["proxy"] = res["column"].map(meta["proxy"])
        res["origin"] = res["column"].map(meta["origin"])
        res["source"] = res["column"].map(meta["source"])
        frames.append(res)
    for origin in ("own", "published"):
        cols = _aggregate_columns([c for c in usable if meta.loc[c, "origin"] == origin], meta["n"])
        if len(cols) < 2:
            continue
        sub = data.scores[cols].reindex(data.truth.index).dropna(how="any")
        if len(sub) < min_archs:
            continue
        for method in aggregates if aggregates is not None else list_aggregates():
            agg = aggregate(sub, cols, {c: dirs[c] for c in cols}, method=method).rename(f"{origin}:agg:{method}")
            res = evaluate(agg.to_frame(), data.truth, {agg.name: True}, metrics=list(metrics), topk=(),
                           bootstrap=bootstrap, seed=seed).rename(columns={"proxy": "column"})
            res["kind"] = "aggregate"
            res["proxy"] = f"agg:{method}"
            res["origin"] = origin
            res["source"] = f"{method} of {len(cols)} {origin} columns ({', '.join(c.split(':', 1)[1] for c in cols)})"
            frames.append(res)
    if not frames:
        return pd.DataFrame(columns=SUITE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["space"], out["task"] = data.pair.space, data.pair.task
    out["truth_metric"], out["truth_kind"] = data.pair.truth_metric, data.pair.truth_kind
    return out[list(SUITE_COLUMNS)]


SUITE_COLUMNS = ("space", "task", "truth_metric", "truth_kind", "column", "proxy", "kind", "origin", "source",
                 "metric", "value", "ci_low", "ci_high", "n")


def partial_spearman(x: Sequence[float], y: Sequence[float], z: Sequence[float]) -> tuple[float, int]:
    """Spearman of ``x`` and ``y`` once ``z`` is controlled for (the partial correlation of their
    ranks), and the number of complete triples; NaN below 5 triples or when ``z`` explains ``x``
    or ``y`` entirely."""
    x, y, z = (np.asarray(a, dtype=float) for a in (x, y, z))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
    n = int(ok.sum())
    if n < 5:
        return float("nan"), n
    rx, ry, rz = (stats.rankdata(a[ok]) for a in (x, y, z))
    rxy = np.corrcoef(rx, ry)[0, 1]
    rxz = np.corrcoef(rx, rz)[0, 1]
    ryz = np.corrcoef(ry, rz)[0, 1]
    den = math.sqrt(max((1 - rxz**2) * (1 - ryz**2), 0.0))
    if not den > 1e-12:
        return float("nan"), n
    return float((rxy - rxz * ryz) / den), n


def _fisher_ci(r: float, n: int, k: int = 1, level: float = 0.95) -> tuple[float, float]:
    if not np.isfinite(r) or n - k - 3 <= 0:
        return float("nan"), float("nan")
    zc = stats.norm.ppf(0.5 + level / 2) / math.sqrt(n - k - 3)
    f = math.atanh(max(min(r, 0.999999), -0.999999))
    return math.tanh(f - zc), math.tanh(f + zc)


def _bias_row(data: PairData, c: str, dirs: dict[str, bool], size: dict[str, str | None],
              min_archs: int) -> dict[str, Any] | None:
    truth = data.truth
    s = data.scores[c].reindex(truth.index).to_numpy(float) * (1 if dirs[c] else -1)
    if np.isfinite(s).sum() < min_archs:
        return None
    row: dict[str, Any] = {"space": data.pair.space, "task": data.pair.task, "column": c}
    xs, ys = _aligned(data, data.scores[c])
    row["spearman"] = float(stats.spearmanr(xs, ys).statistic) * (1 if dirs[c] else -1) if len(xs) >= 3 else np.nan
    row["n"] = int(len(xs))
    notes, beyond = [], []
    for name, scol in size.items():
        if scol is None:
            row[f"spearman_{name}"] = row[f"partial_{name}"] = np.nan
            row[f"partial_{name}_lo"] = row[f"partial_{name}_hi"] = np.nan
            notes.append(f"no {name} column")
            continue
        z = data.scores[scol].reindex(truth.index).to_numpy(float)
        ok = np.isfinite(s) & np.isfinite(z)
        row[f"spearman_{name}"] = float(stats.spearmanr(s[ok], z[ok]).statistic) if ok.sum() >= 3 else np.nan
        r, n = partial_spearman(s, truth.to_numpy(float), z)
        lo, hi = _fisher_ci(r, n)
        row[f"partial_{name}"], row[f"partial_{name}_lo"], row[f"partial_{name}_hi"] = r, lo, hi
        row[f"size_source_{name}"] = scol
        if np.isfinite(lo):
            beyond.append(lo > 0)
    row["beyond_size"] = bool(beyond) and all(beyond)
    row["note"] = "; ".join(notes)
    return row


def size_biases(data: PairData, *, min_archs: int = 10) -> pd.DataFrame:
    """For every score column: Spearman with params and with FLOPs, and the partial Spearman with
    the truth once params (or FLOPs) is controlled for, with 95% Fisher-z intervals.

    Params and FLOPs are the pair's own ``params``/``flops`` columns, else the published ones;
    a pair with neither gets NaN with the reason in ``note``. ``beyond_size`` is True when both
    partial intervals that exist lie above 0 (the column ranks accuracy beyond what size explains)."""
    dirs = data.directions
    size = {}
    for name, candidates in SIZE_PROXIES.items():
        col = next((c for c in candidates if c in data.scores.columns
                    and data.columns.set_index("column").loc[c, "n"] >= min_archs), None)
        size[name] = col
    rows = []
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        for c in data.scores.columns:
            row = _bias_row(data, c, dirs, size, min_archs)
            if row is not None:
                rows.append(row)
    cols = ["space", "task", "column", "n", "spearman", "spearman_params", "spearman_flops", "partial_params",
            "partial_params_lo", "partial_params_hi", "partial_flops", "partial_flops_lo", "partial_flops_hi",
            "size_source_params", "size_source_flops", "beyond_size", "note"]
    return pd.DataFrame(rows).reindex(columns=cols)


# ---- the whole suite ----------------------------------------------------------------------------------
@dataclass
class SuiteResult:
    """What :func:`run_suite` made: the tidy results, the biases, the coverage and the files."""

    results: pd.DataFrame
    biases: pd.DataFrame
    coverage: pd.DataFrame
    files: dict[str, Path]
    computed: list[str]
    cached: list[str]
    seconds: float


def _stamp(pair: SuitePair, params: dict[str, Any], scores_dir: Path) -> str:
    doc: dict[str, Any] = {"pair": pair.key, "params": params, "version": 1}
    if pair.own_store:
        p = scores_dir / pair.own_store
        j = p.with_name(p.name + ".journal")
        doc["own"] = [(str(f.name), f.stat().st_size, int(f.stat().st_mtime)) for f in (p, j) if f.exists()]
    return hashlib.sha1(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def _coverage(data: PairData) -> dict[str, Any]:
    meta = data.columns
    own, pub = meta[meta["origin"] == "own"], meta[meta["origin"] == "published"]
    return {"space": data.pair.space, "task": data.pair.task, "truth_metric": data.pair.truth_metric,
            "truth_kind": data.pair.truth_kind, "n_truth": int(data.truth.notna().sum()),
            "own_columns": len(own), "own_n_max": int(own["n"].max()) if len(own) else 0,
            "own_proxies": ",".join(own["proxy"]),
            "published_columns": len(pub), "published_n_max": int(pub["n"].max()) if len(pub) else 0,
            "published_proxies": ",".join(pub["proxy"]),
            "note": data.pair.note or ("" if len(own) else "no own scores for this task yet")}


def run_suite(out: str | os.PathLike, *, pairs: Sequence[SuitePair] | str | None = None,
              data_root: str | os.PathLike | None = None, scores_dir: str | os.PathLike | None = None,
              bootstrap: int = 100, seed: int = 0, force: bool = False, report: bool = True,
              progress: Callable[[str], None] | None = None) -> SuiteResult:
    """Benchmark every pair (default :func:`suite_pairs`) and write the suite's files into ``out``.

    Each pair's results go to ``out/pairs/<space>__<task>.csv`` (with its biases and coverage) under
    a stamp of the parameters and of the own score store's size and time; a rerun reuses a pair whose
    stamp matches (``force=True`` recomputes), so an interrupted suite resumes and a grown score store
    is benchmarked again. Writes ``suite.csv`` (one row per column x space x task x metric),
    ``biases.csv``, ``coverage.csv``, ``summary.md`` and, with ``report``, ``report.html`` and
    ``heatmap_spearman.png``."""
    t0 = time.perf_counter()
    check_int("bootstrap", bootstrap, "run_suite", minimum=0)
    chosen = suite_pairs(pairs) if isinstance(pairs, str) or pairs is None else list(pairs)
    outdir = Path(out)
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"--out {str(outdir)!r} is a file; give a folder for the suite's results.")
    cache = outdir / "pairs"
    cache.mkdir(parents=True, exist_ok=True)
    sdir = Path(scores_dir) if scores_dir is not None else DEFAULT_SCORES_DIR
    params = {"bootstrap": bootstrap, "seed": seed, "metrics": list(SUITE_METRICS)}
    results, biases, coverage, computed, cached = [], [], [], [], []
    for pair in chosen:
        stem = f"{pair.space}__{pair.task}"
        stamp = _stamp(pair, params, sdir)
        files = {k: cache / f"{stem}.{k}.csv" for k in ("results", "biases", "coverage")}
        stamp_file = cache / f"{stem}.stamp"
        if (not force and stamp_file.exists() and stamp_file.read_text().strip() == stamp
                and all(f.exists() for f in files.values())):
            parts = {k: pd.read_csv(f) for k, f in files.items()}
            cached.append(pair.key)
            if progress:
                progress(f"{pair.key}: cached")
        else:
            t = time.perf_counter()
            data = load_pair(pair, data_root=data_root, scores_dir=sdir)
            parts = {"results": evaluate_pair(data, bootstrap=bootstrap, seed=seed),
                     "biases": size_biases(data), "coverage": pd.DataFrame([_coverage(data)])}
            for k, f in files.items():
                parts[k].to_csv(f, index=False)
            stamp_file.write_text(stamp + "\n")
            computed.append(pair.key)
            if progress:
                progress(f"{pair.key}: {len(parts['results'])} rows in {time.perf_counter() - t:.1f} s")
        results.append(parts["results"])
        biases.append(parts["biases"])
        coverage.append(parts["coverage"])
    res = pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=SUITE_COLUMNS)
    bia = pd.concat(biases, ignore_index=True) if biases else pd.DataFrame()
    cov = pd.concat(coverage, ignore_index=True) if coverage else pd.DataFrame()
    files = {"suite": outdir / "suite.csv", "biases": outdir / "biases.csv", "coverage": outdir / "coverage.csv",
             "summary": outdir / "summary.md"}
    res.to_csv(files["suite"], index=False)
    bia.to_csv(files["biases"], index=False)
    cov.to_csv(files["coverage"], index=False)
    files["summary"].write_text(summary_markdown(res, bia, cov))
    if report and len(res):
        files.update(write_suite_report(res, bia, cov, outdir))
    return SuiteResult(res, bia, cov, files, computed, cached, time.perf_counter() - t0)


def pair_label(space: str, task: str) -> str:
    return f"{space}/{task}"


def spearman_table(results: pd.DataFrame, *, metric: str = "spearman") -> pd.DataFrame:
    """Columns (rows) x pairs (columns) of one metric: the suite's heat-map table."""
    sub = results[results["metric"] == metric].copy()
    sub["pair"] = sub["space"] + "/" + sub["task"]
    order = list(dict.fromkeys(sub["pair"]))
    table = sub.pivot_table(index="column", columns="pair", values="value", aggfunc="first")
    table = table.reindex(columns=order)
    return table.loc[table.notna().sum(axis=1).sort_values(ascending=False, kind="mergesort").index]


def best_per_pair(results: pd.DataFrame, *, metric: str = "spearman", min_coverage: float = 0.5) -> pd.DataFrame:
    """Per pair: the best own column, the best published column and the best aggregate, by ``metric``.

    Only columns scored on at least ``min_coverage`` of the most-covered column of their kind in
    that pair compete: a proxy run on 26 of 1,000 architectures (a wide interval on a different
    subset) is not the pair's best because its point estimate happens to be high.
    """
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage must lie in [0, 1], got {min_coverage}")
    sub = results[results["metric"] == metric]
    rows = []
    for (space, task), g in sub.groupby(["space", "task"], sort=False):
        row: dict[str, Any] = {"space": space, "task": task, "truth_kind": g["truth_kind"].iloc[0]}
        for label, mask in (("own", (g["origin"] == "own") & (g["kind"] == "proxy")),
                            ("published", (g["origin"] == "published") & (g["kind"] == "proxy")),
                            ("aggregate", g["kind"] == "aggregate")):
            part = g[mask].dropna(subset=["value"])
            part = part[part["n"] >= min_coverage * part["n"].max()] if not part.empty else part
            if part.empty:
                row.update({f"best_{label}": "", f"{label}_{metric}": np.nan, f"{label}_ci": "", f"{label}_n": 0})
                continue
            b = part.loc[part["value"].idxmax()]
            row.update({f"best_{label}": b["column"], f"{label}_{metric}": b["value"],
                        f"{label}_ci": f"[{b['ci_low']:.3f}, {b['ci_high']:.3f}]", f"{label}_n": int(b["n"])})
        rows.append(row)
    return pd.DataFrame(rows)


def summary_markdown(results: pd.DataFrame, biases: pd.DataFrame, coverage: pd.DataFrame) -> str:
    """The suite's summary as Markdown: coverage, the per-pair best and the proxies beyond size."""
    from zcnas.report import frame_to_markdown

    lines = ["# zcnas benchmark suite", "",
             f"{len(coverage)} space x task pairs; Spearman/Kendall with 95% bootstrap intervals and top-k "
             "precision per column in suite.csv. `own:` columns are zcnas's scores, `published:` the published "
             "tables; truth_kind `surrogate` marks NB301 (a surrogate's prediction).", "",
             "## Coverage", "", frame_to_markdown(coverage.drop(columns=["own_proxies", "published_proxies"],
                                                                  errors="ignore")), ""]
    if len(results):
        lines += ["## Best per pair (Spearman)", "", frame_to_markdown(best_per_pair(results)), ""]
    if len(biases):
        b = biases.groupby("column").agg(pairs=("task", "size"), beyond_size=("beyond_size", "sum"),
                                         mean_partial_params=("partial_params", "mean"),
                                         mean_partial_flops=("partial_flops", "mean"),
                                         mean_spearman_params=("spearman_params", "mean"))
        b = b.sort_values("mean_partial_params", ascending=False).reset_index()
        lines += ["## Information beyond size", "",
                  "Per column: pairs evaluated, pairs where the partial Spearman with the truth given params and "
                  "given FLOPs both lie above 0 (95% Fisher-z interval), and the mean partial and size "
                  "correlations (biases.csv has every pair).", "", frame_to_markdown(b), ""]
    return "\n".join(lines)


def write_suite_report(results: pd.DataFrame, biases: pd.DataFrame, coverage: pd.DataFrame,
                       out: str | os.PathLike) -> dict[str, Path]:
    """``report.html`` (coverage, the proxies x tasks Spearman heat-map, the per-task best and the
    size biases) and ``heatmap_spearman.png`` in ``out``."""
    from zcnas.report import HtmlReport, heatmap_figure

    outdir = Path(out)
    table = spearman_table(results)
    fig = heatmap_figure(table, title="Spearman of each column with the truth, per space/task", label="Spearman",
                         vmin=-1.0, vmax=1.0)
    png = outdir / "heatmap_spearman.png"
    fig.savefig(png)
    page = HtmlReport("zcnas benchmark suite", meta={"pairs": len(coverage), "rows": len(results)})
    page.add_section("Coverage", "own = zcnas's scores (n = archs scored so far), published = the published "
                                 "tables; NB301's truth is a surrogate's prediction.")
    page.add_table(coverage, "score coverage per pair")
    page.add_section("Heat-map").add_figure(png, "Spearman, columns x pairs (empty: not available)",
                                            name="heatmap_spearman")
    page.add_section("Best per task").add_table(best_per_pair(results), "best own, published and aggregate column")
    if len(biases):
        page.add_section("Size biases", "Spearman with params / FLOPs and partial Spearman with the truth given "
                                        "params / FLOPs; beyond_size: both partial intervals above 0.")
        page.add_table(biases.drop(columns=["note"], errors="ignore"), "biases per column and pair", collapsed=True)
    html = outdir / "report.html"
    page.write(html)
    return {"report": html, "heatmap": png}


__all__ = ["PairData", "PublishedSource", "SuitePair", "SuiteResult", "best_per_pair", "evaluate_pair",
           "get_pair", "load_pair", "partial_spearman", "run_suite", "size_biases", "spearman_table",
           "suite_pairs", "summary_markdown", "write_suite_report"]
