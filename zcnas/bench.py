"""Benchmark proxy scores against tabular ground truth (the library behind ``zcnas bench``).

Scores and truth come from a record store (``.h5``/``.hdf5``, :class:`zcnas.records.RecordStore`)
or from a CSV file with an arch column (``arch``, ``arch_str`` or ``net_str``, or the one named by
``arch_column``) and one numeric column per proxy or truth metric. Archs are matched by their exact
string; only archs present in both are evaluated.

Directions: an explicit override wins, then the proxy registry (:func:`zcnas.proxies.get_proxy`;
needs torch), then :data:`PUBLISHED_DIRECTIONS` for names of published score tables the registry
does not know (NAS-Bench-Suite-Zero's ``jacov``, ``nwot``, ``epe_nas``, ``zen``, ...). A name in
none of them is an error that asks for ``--direction NAME=+1`` or ``=-1``.

A failure is never a number: values listed in ``missing`` (``--missing``) become NaN, and a score
column that still holds failure-marker-like values (+-inf, +-1e8, +-1e9, ...) is a one-line
:class:`~zcnas.errors.DataError` naming the column and the count (:mod:`zcnas.tables`). Imports flow
``tables -> constraints -> bench``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from zcnas.constraints import load_costs, pareto_plot, resolve_cost
from zcnas.errors import DataError, InputError, UnknownNameError
from zcnas.metrics import align, direction_sign, evaluate
from zcnas.report import safe_name
from zcnas.tables import check_file, check_no_sentinels, mask_missing, read_csv_table

log = logging.getLogger("zcnas")

#: directions of scores in published tables, for names the proxy registry does not know.
#: NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 D&B) stores every score oriented so that
#: higher predicts better (``jacov`` is already the negated log-determinant form, ``grasp`` the
#: negated Hessian-gradient product); ``plain`` anti-correlates with accuracy in that benchmark but
#: is still published as higher-is-better, and we keep the published orientation.
PUBLISHED_DIRECTIONS: dict[str, bool] = {
    "epe_nas": True, "fisher": True, "flops": True, "grad_norm": True, "grasp": True, "jacov": True,
    "jacob_cov": True, "l2_norm": True, "nwot": True, "naswot": True, "params": True, "plain": True,
    "snip": True, "synflow": True, "zen": True,
}
STORE_SUFFIXES = (".h5", ".hdf5")


# ---- directions -----------------------------------------------------------------------------------
def parse_direction_overrides(items: Iterable[str] | None) -> dict[str, int]:
    """``["synflow=+1", "latency=-1,zen=+1"]`` -> ``{"synflow": 1, "latency": -1, "zen": 1}``."""
    out: dict[str, int] = {}
    for item in items or ():
        for part in str(item).split(","):
            if not part.strip():
                continue
            name, sep, val = part.partition("=")
            if not sep or not name.strip():
                raise InputError(f"A direction must look like NAME=+1 or NAME=-1. Got {part!r} instead.")
            out[name.strip()] = direction_sign(val.strip())
    return out


def proxy_direction(name: str) -> bool:
    """``higher_is_better`` of a proxy: the registry first, then :data:`PUBLISHED_DIRECTIONS`."""
    base = name.split("[")[0]
    try:
        from zcnas.proxies import get_proxy
    except ImportError:  # the proxy registry needs torch; fall back to the published table
        get_proxy = None
    if get_proxy is not None:
        try:
            return bool(get_proxy(base).higher_is_better)
        except UnknownNameError:
            pass
    if base in PUBLISHED_DIRECTIONS:
        return PUBLISHED_DIRECTIONS[base]
    raise InputError(f"No known direction for proxy {name!r}; pass --direction {name}=+1 "
                     f"(higher is better) or --direction {name}=-1.")


def resolve_directions(proxies: Iterable[str], overrides: Mapping[str, Any] | None = None) -> dict[str, bool]:
    """Direction (``higher_is_better``) of each proxy column: overrides, registry, published table."""
    overrides = dict(overrides or {})
    out = {}
    for p in proxies:
        out[p] = direction_sign(overrides[p]) > 0 if p in overrides else proxy_direction(p)
    unused = sorted(set(overrides) - set(out))
    if unused:
        raise InputError(f"--direction given for {unused}, which are not among the proxies {sorted(out)}.")
    return out


# ---- loading --------------------------------------------------------------------------------------
def _is_store(path: Path) -> bool:
    return path.suffix.lower() in STORE_SUFFIXES


def _select(df: pd.DataFrame, names: Sequence[str] | None, what: str, source: str) -> pd.DataFrame:
    if not names:
        return df
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise InputError(f"No {what} {', '.join(map(repr, missing))} in {source}; "
                         f"available: {', '.join(map(str, df.columns)) or 'none'}.")
    return df[list(names)]


def load_scores(path: str | Path, *, run_key: str | None = None, dataset: str | None = None,
                proxies: Sequence[str] | None = None, arch_column: str | None = None,
                missing: Sequence[float] = ()) -> pd.DataFrame:
    """Scores indexed by arch, one column per proxy, from a record store or a CSV file.

    ``missing``: values that mark a failed score (e.g. ``[-1e8]``), read as NaN. A score column
    that still holds failure-marker-like values (+-inf, +-1e8, +-1e9, ...; see
    :func:`zcnas.tables.sentinel_mask`) is a :class:`DataError` asking for ``missing``."""
    p = check_file(path, "Scores")
    if _is_store(p):
        from zcnas.records import RecordStore

        with RecordStore(p, "r") as s:
            if len(s.frame("scores")) == 0:
                raise DataError(f"The record store {p.name} has no scores; fill it with `zcnas rank "
                                f"--store {p}` or `zcnas importer`.")
            if run_key is not None and run_key not in set(s.frame("scores")["run_key"]):
                runs = sorted(set(s.frame("scores")["run_key"]))
                raise InputError(f"No scores of run {run_key!r} in {p.name}; its runs: {runs}.")
            df = s.scores_wide(run_key=run_key, dataset=dataset)
        if df.empty:
            raise DataError(f"No scores in {p.name} for run_key={run_key!r}, dataset={dataset!r}.")
        df = mask_missing(df, missing)
    else:
        if run_key is not None or dataset is not None:
            raise InputError("--run-key and --dataset select rows of a record store; "
                             f"{p.name} is a CSV file.")
        df = read_csv_table(p, arch_column=arch_column, missing=missing)
        if df.shape[1] == 0:
            raise DataError(f"{p.name} has no numeric score columns.")
    df = _select(df, proxies, "proxy", p.name)
    check_no_sentinels(df, p.name)
    return df


def load_truth(path: str | Path, metrics: Sequence[str], *, dataset: str | None = None,
               arch_column: str | None = None) -> pd.DataFrame:
    """Truth indexed by arch, one column per metric, from a record store or a CSV file."""
    p = check_file(path, "Truth")
    if not metrics:
        raise InputError("Name the truth metric(s) to benchmark against (--truth-metric).")
    if _is_store(p):
        from zcnas.records import RecordStore

        with RecordStore(p, "r") as s:
            if len(s.frame("truth")) == 0:
                raise DataError(f"The record store {p.name} has no truth rows; import some with "
                                f"`zcnas importer ... --store {p}`.")
            df = s.truth_wide(metrics=list(metrics), dataset=dataset)
        return df
    return _select(read_csv_table(p, arch_column=arch_column), metrics, "truth metric", p.name)


# ---- benchmark ------------------------------------------------------------------------------------
@dataclass
class BenchResult:
    """What :func:`bench` computed: the tidy metric table and the aligned inputs."""

    results: pd.DataFrame
    scores: pd.DataFrame
    truth: pd.DataFrame
    directions: dict[str, bool]
    report_files: dict[str, Path] = field(default_factory=dict)


def bench(scores: pd.DataFrame, truth: pd.Series | pd.DataFrame, *,
          directions: Mapping[str, Any] | None = None,
          metrics: Sequence[str] = ("spearman", "kendall", "precision", "ndcg"),
          topk: Sequence[float] = (1, 5, 10), bootstrap: int = 1000, seed: int = 0,
          aggregate: str | Sequence[str] | None = None, aggregate_nan_policy: str = "worst",
          by_class: Any = None, report: str | Path | None = None,
          pareto_cost: pd.Series | None = None, missing: Sequence[float] = ()) -> BenchResult:
    """Evaluate each proxy (and optional aggregates of all of them) against each truth column.

    ``directions`` are overrides; the rest come from :func:`resolve_directions`. ``aggregate`` names
    one or more :mod:`zcnas.aggregate` methods, added as columns ``agg:<method>`` computed over the
    archs shared with the truth. ``by_class`` gives one vote per function class (see
    :func:`zcnas.metrics.evaluate`); ``report`` is a folder for :func:`zcnas.report.write_report`.
    ``pareto_cost`` (a cost per arch, lower is better, e.g. HW-NAS-Bench latency) adds to the report
    one figure per proxy and truth of the predicted front against the true front, and
    ``pareto.csv`` with the hypervolume fractions (see :func:`zcnas.constraints.pareto_plot`).
    ``missing`` lists values that mark a failed score (e.g. ``[-1e8]``; CLI ``--missing``): they
    become NaN. Scores that still look like failure markers (+-inf, +-1e8, +-1e9, ...) are a
    :class:`DataError` naming the column and the count, never ranked as numbers.
    """
    if scores.shape[1] == 0:
        raise DataError("No proxy columns to benchmark.")
    scores = mask_missing(scores, missing)
    check_no_sentinels(scores, "the scores")
    dirs = resolve_directions(scores.columns, directions)
    s, t = align(scores, truth)
    if len(s) < len(scores) or len(t) < len(truth if isinstance(truth, pd.DataFrame) else truth.to_frame()):
        log.info("evaluating the %d archs that have both scores (%d) and truth (%d)",
                 len(s), len(scores), len(truth))
    if aggregate:
        from zcnas.aggregate import aggregate as agg

        proxies = list(s.columns)
        for method in [aggregate] if isinstance(aggregate, str) else aggregate:
            col = agg(s[proxies], proxies, dirs, method, nan_policy=aggregate_nan_policy)
            s = s.assign(**{f"agg:{col.name}": col.to_numpy()})
            dirs[f"agg:{col.name}"] = True
    results = evaluate(s, t, dirs, metrics=metrics, topk=topk, bootstrap=bootstrap, seed=seed,
                       by_class=by_class)
    out = BenchResult(results, s, t, dirs)
    if report is not None:
        from zcnas.report import write_report

        out.report_files = write_report(results, s, t, report, directions=dirs)
        if pareto_cost is not None:
            out.report_files.update(_pareto_report(s, t, dirs, pareto_cost, Path(report)))
    return out


def _pareto_report(scores: pd.DataFrame, truth: pd.DataFrame, dirs: Mapping[str, bool], cost: pd.Series,
                   out: Path) -> dict[str, Path]:
    """``pareto_<proxy>__<truth>.png`` per pair and ``pareto.csv`` (hypervolume fractions)."""

    name = str(cost.name or "cost")
    files, rows = {}, []
    for t in truth.columns:
        for p in scores.columns:
            frame = pd.DataFrame({"predicted": scores[p] * (1 if dirs[p] else -1), t: truth[t]})
            frame = frame.join(cost.rename(name), how="inner").dropna(subset=[t, name])
            if len(frame) < 2:
                raise DataError(f"Fewer than 2 archs have both {t!r} and the cost {name!r}; check --pareto-cost.")
            f = out / f"pareto_{safe_name(p)}__{safe_name(t)}.png"
            cmp = pareto_plot(frame, "predicted", t, name, f, title=f"{p}: predicted vs true front ({t} vs {name})")
            files[f.stem] = f
            rows.append({"proxy": p, "truth": t, "cost": name, "n": len(frame), "front_size_true": len(cmp.true),
                         "front_size_predicted": len(cmp.predicted), "hv_true": cmp.hv_true,
                         "hv_predicted": cmp.hv_predicted, "hv_fraction": cmp.fraction})
    pd.DataFrame(rows).to_csv(out / "pareto.csv", index=False)
    files["pareto"] = out / "pareto.csv"
    return files


def bench_files(scores_path: str | Path, truth_path: str | Path, truth_metrics: Sequence[str], *,
                run_key: str | None = None, dataset: str | None = None,
                truth_dataset: str | None = None, proxies: Sequence[str] | None = None,
                arch_column: str | None = None, missing: Sequence[float] = (),
                pareto_cost: str | None = None, cost_dataset: str = "cifar10", **kwargs: Any) -> BenchResult:
    """:func:`bench` on scores and truth read from files (record stores or CSV). ``pareto_cost`` is a
    cost name (:func:`zcnas.constraints.resolve_cost`: ``latency:edgegpu``, ``params``, a column)
    looked up in the scores, then the truth file, then HW-NAS-Bench for ``cost_dataset``."""
    scores = load_scores(scores_path, run_key=run_key, dataset=dataset, proxies=proxies,
                         arch_column=arch_column, missing=missing)
    truth = load_truth(truth_path, truth_metrics, dataset=truth_dataset, arch_column=arch_column)
    if pareto_cost is not None:
        spec = resolve_cost(pareto_cost)
        col = spec.find_column(scores.columns)
        if col is not None:
            kwargs["pareto_cost"] = scores[col].rename(col)
        else:
            c = load_costs(truth.index, [spec.name], source=truth_path, dataset=cost_dataset)
            kwargs["pareto_cost"] = c.iloc[:, 0]
    return bench(scores, truth, **kwargs)
