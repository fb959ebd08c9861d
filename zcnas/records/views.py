"""Query views over a record store's tables: wide score and truth tables and a per-run summary.

The functions take plain frames (``store.frame("scores")``), so they work on any store backend and
on frames from elsewhere; :class:`~zcnas.records.RecordStore` exposes them as methods.

**Data-free proxies are served to every dataset here, and only here.** A proxy that needs no images
(synflow on ones, meco and AZ-NAS on random inputs, ...) gives the same value whatever the dataset, so
scoring records its rows with ``dataset`` :data:`DATA_FREE` (the empty string). ``scores_wide(dataset=D)``
returns the rows of ``D`` plus the data-free rows; where an (arch, proxy) pair has both, the row of
``D`` wins. The view decides "data-free" by that marker alone, never by importing the proxies.
No torch here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from zcnas.errors import InputError

#: the ``dataset`` of score rows of proxies that need no data: served to every dataset
DATA_FREE = ""

_MAX_LISTED = 6


def _listing(values: Sequence[str]) -> str:
    values = sorted(values)
    shown = ", ".join(map(repr, values[:_MAX_LISTED]))
    return shown + (f", ... ({len(values)} in all)" if len(values) > _MAX_LISTED else "")


def pivot(index: pd.Series, columns: pd.Series, values: pd.Series) -> pd.DataFrame:
    """Long -> wide for unique (index, column) pairs; rows and columns sorted (much faster than pivot)."""
    i_codes, i_uni = pd.factorize(index.to_numpy(dtype=object), sort=True)
    c_codes, c_uni = pd.factorize(columns.to_numpy(dtype=object), sort=True)
    m = np.full((len(i_uni), len(c_uni)), np.nan)
    m[i_codes, c_codes] = values.to_numpy(dtype="float64")
    return pd.DataFrame(m, index=pd.Index(i_uni, name="arch"), columns=list(c_uni))


def scores_wide(scores: pd.DataFrame, run_key: str | Sequence[str] | None = None, dataset: str | None = None,
                space: str | None = None) -> pd.DataFrame:
    """Scores indexed by arch with one column per proxy (NaN where the status is not ``ok``).

    ``run_key``: one run key or several; ``dataset``: the rows of that dataset plus the data-free rows
    (see the module docstring); ``space``: rows of that search space. An (arch, proxy) pair that
    still has several rows (several runs) is an :class:`InputError` that names the runs."""
    df = scores
    if space is not None:
        df = df[df["space"] == space]
    if run_key is not None:
        keys = [run_key] if isinstance(run_key, str) else list(run_key)
        df = df[df["run_key"].isin(keys)]
    if dataset is not None:
        own = df["dataset"] == dataset
        free = df["dataset"] == DATA_FREE
        if dataset != DATA_FREE and free.any() and own.any():
            pairs = pd.MultiIndex.from_frame(df.loc[own, ["arch", "proxy"]])
            shadowed = pd.MultiIndex.from_frame(df[["arch", "proxy"]]).isin(pairs)
            free &= ~shadowed
        df = df[own | free]
    dup = df.duplicated(["arch", "proxy"], keep=False)
    if dup.any():
        clash = df[dup]
        first = tuple(clash[["arch", "proxy"]].iloc[0])
        hints = [f"choose one with --run-key (Python: run_key=): {_listing(set(clash['run_key']))}"]
        if clash["dataset"].nunique() > 1 and dataset is None:
            hints.append(f"or a dataset with --dataset (Python: dataset=): {_listing(set(clash['dataset']))}")
        if clash["space"].nunique() > 1 and space is None:
            hints.append(f"or a space with --space (Python: space=): {_listing(set(clash['space']))}")
        raise InputError(f"Scores of several runs for the same (arch, proxy), e.g. {first}; " + " ".join(hints) + ".")
    values = df["value"].where(df["status"] == "ok")
    return pivot(df["arch"], df["proxy"], values)


def truth_wide(truth: pd.DataFrame, metrics: Sequence[str] | None = None, dataset: str | None = None,
               space: str | None = None, *, where: str = "the store") -> pd.DataFrame:
    """Ground truth indexed by arch, one column per metric.

    A metric present for several datasets or aggregations gets one column each, named
    ``metric[dataset]``, ``metric@aggregation`` or ``metric[dataset]@aggregation``."""
    df = truth
    if metrics is not None:
        unknown = sorted(set(metrics) - set(df["metric"]))
        if unknown:
            raise InputError(f"No truth rows for metric(s) {unknown} in {where}; its metrics: "
                             f"{_listing(set(df['metric'])) or 'none'}.")
        df = df[df["metric"].isin(list(metrics))]
    if dataset is not None:
        df = df[df["dataset"] == dataset]
    if space is not None:
        df = df[df["space"] == space]
    if df.duplicated(["arch", "metric", "dataset", "aggregation"]).any():
        raise InputError(f"Truth rows of several search spaces share an arch string; choose one with --space "
                         f"(Python: space=): {_listing(set(df['space']))}.")
    n_ds = df.groupby("metric")["dataset"].nunique()
    n_ag = df.groupby("metric")["aggregation"].nunique()
    label = df["metric"].copy()
    multi_ds = df["metric"].map(n_ds) > 1
    multi_ag = df["metric"].map(n_ag) > 1
    label[multi_ds] = label[multi_ds] + "[" + df.loc[multi_ds, "dataset"] + "]"
    label[multi_ag] = label[multi_ag] + "@" + df.loc[multi_ag, "aggregation"]
    wide = pivot(df["arch"], label, df["value"])
    if metrics is not None:  # keep the caller's order
        order = {m: i for i, m in enumerate(metrics)}
        wide = wide[sorted(wide.columns, key=lambda c: (order.get(c.split("[")[0].split("@")[0], 0), c))]
    return wide


#: configuration entries shown per run by :func:`runs_summary`
SUMMARY_FIELDS = ("space", "dataset", "batch_size", "seed")


def runs_summary(runs: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per run key: ``run_key``, ``kind``, the configuration's space, dataset, batch size and
    seed, and the number of rows the run holds in each of ``tables`` that has a ``run_key`` column
    (one column per table). Runs without a row in ``runs`` (e.g. imported scores) are listed too,
    their configuration taken from their score rows where it is the same for all of them."""
    counted = {n: df for n, df in tables.items() if "run_key" in df.columns and n != "runs" and len(df)}
    keys: list[str] = list(dict.fromkeys(list(runs["run_key"]) + [k for df in counted.values()
                                                                   for k in pd.unique(df["run_key"])]))
    info = {r.run_key: r for r in runs.itertuples(index=False)}
    rows = []
    for key in keys:
        row: dict = {"run_key": key, "kind": "", **{f: "" for f in SUMMARY_FIELDS}}
        if key in info:
            row["kind"] = info[key].kind
            try:
                config = json.loads(info[key].config or "{}")
            except ValueError:
                config = {}
            if isinstance(config, dict):
                row.update({f: config.get(f, "") for f in SUMMARY_FIELDS})
                task = (config.get("build_options") or {}).get("task")
                if task:  # a multi-task space's network is the task's (TNB101): its rows are stored under it
                    row["dataset"] = task
        for f in SUMMARY_FIELDS:
            if row[f] in ("", None, -1) and "scores" in counted:
                vals = pd.unique(counted["scores"].loc[counted["scores"]["run_key"] == key, f])
                if len(vals) == 1 and vals[0] not in ("", -1):
                    row[f] = vals[0].item() if hasattr(vals[0], "item") else vals[0]
        row.update({f: ("" if row[f] is None else str(row[f])) for f in SUMMARY_FIELDS})
        for name, df in counted.items():
            row[name] = int((df["run_key"] == key).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=["run_key", "kind", *SUMMARY_FIELDS, *counted])
