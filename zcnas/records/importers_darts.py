"""Importers of NAS-Bench-301 (DARTS space) data: NAS-Bench-Suite-Zero's published sample (no torch).

NB301's "accuracy" is a SURROGATE PREDICTION (an ensemble trained on about 60,000 real DARTS
trainings), never a training run: the metric says so in its name (``_pred``) and its doc.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from zcnas.errors import DataError, UnknownNameError
from zcnas.records.importers import (
    Imported,
    _arch_strings,
    _finish,
    _resolve,
    _score_rows,
    _spec,
    _truth_rows,
    register_importer,
    register_metric,
)

register_metric(
    "nb301_c10_val_pred", "cifar10", "valid", 100, "surrogate",
    "NAS-Bench-301 SURROGATE PREDICTION of CIFAR-10 validation accuracy (%) after NB301's 100-epoch DARTS "
    "evaluation recipe (32 channels, 8 cells), as NAS-Bench-Suite-Zero's val_accuracy publishes it: a "
    "model's prediction, not a training run (Zela et al. 2022: it ranks real trainings about as well as a "
    "second real run does)", space="darts")

NB301_SZ_JSON = "nb301/nb301-suitezero-sample/zc_nasbench301_725archs.json"
_VAL = {"cifar10": "nb301_c10_val_pred"}


@register_importer("nb301-suitezero-json", default=NB301_SZ_JSON, produces="truth, scores",
                   aliases=("darts-suitezero-json",),
                   description="NAS-Bench-Suite-Zero zc_nasbench301.json (725 DARTS genotypes): 12 published "
                               "proxy scores + NB301's surrogate-predicted CIFAR-10 val accuracy")
def import_nb301_suitezero_json(store=None, path=None, *, data_root=None, datasets: Sequence[str] | None = None,
                                run_key: str = "published:suitezero-json:{dataset}") -> Imported:
    """NASLib's ``{dataset: {compact genotype: {"arch", proxy: {score, time}, "val_accuracy"}}}``.

    Architectures (NASLib compact tuples) are stored as the darts space's genotype string; truth is
    ``nb301_c10_val_pred`` (a surrogate's prediction); scores go to ``run_key`` (``{dataset}`` filled
    in, space ``darts``), Suite-Zero's names mapped to zcnas's (``jacov`` -> ``jacob_cov``, ``nwot``
    -> ``naswot``) and the sentinel -1e8 recorded as a failure."""
    f = _resolve(path, NB301_SZ_JSON, data_root)
    try:
        data = json.loads(f.read_text())
    except ValueError as exc:
        raise DataError(f"{str(f)!r} is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise DataError(f"{f.name}: expected a JSON object of datasets, got {type(data).__name__}.")
    chosen = list(data) if datasets is None else list(datasets)
    for ds in chosen:
        if ds not in data:
            raise UnknownNameError("dataset", ds, list(data))
        if ds not in _VAL:
            raise DataError(f"{f.name}: dataset {ds!r} has no NB301 metric (NB301 is CIFAR-10 only); "
                            f"pass datasets=['cifar10'].")
    out: dict[str, list[pd.DataFrame]] = {"truth": [], "scores": []}
    for ds in chosen:
        entries = data[ds]
        if not isinstance(entries, dict):
            raise DataError(f"{f.name}: {ds!r} must map genotypes to entries, got {type(entries).__name__}.")
        keys = list(entries)
        archs = _arch_strings(keys, f, f"{ds} key", space="darts",
                              where=lambda i, ds=ds: f"{f.name}, {ds} entry {i + 1}")
        if any("arch" in entries[k] for k in keys):
            named = _arch_strings([str(entries[k].get("arch", k)) for k in keys], f, f"{ds} arch", space="darts",
                                  where=lambda i, ds=ds: f"{f.name}, {ds} entry {i + 1}")
            bad = np.flatnonzero(named != archs)
            if len(bad):
                raise DataError(f"{f.name}: entry {ds}/{keys[int(bad[0])]} names another arch in its 'arch' field; "
                                f"key and arch must agree ({len(bad)} entries disagree).")
        proxies = sorted({p for e in entries.values() for p, v in e.items() if isinstance(v, dict)})
        val = np.array([np.nan if entries[k].get("val_accuracy") is None else float(entries[k]["val_accuracy"])
                        for k in keys])
        spec = _spec(_VAL[ds], source=f"nb301-suitezero-json:{f.name}:{ds}/val_accuracy (NB301 surrogate)")
        out["truth"].append(_truth_rows(archs, pd.DataFrame({"val": val}), f, {"val": spec}, "nb301-suitezero-json",
                                        space="darts"))
        for p in proxies:
            score = np.array([entries[k].get(p, {}).get("score", np.nan) for k in keys], dtype="float64")
            secs = np.array([entries[k].get(p, {}).get("time", np.nan) for k in keys], dtype="float64")
            out["scores"].append(_score_rows(archs, score, p, run_key.format(dataset=ds), ds, secs, space="darts"))
    return _finish(store, out)
