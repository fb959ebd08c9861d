"""Importers of NAS-Bench-101 ground truth (no torch): the nasbench-vis JSON files and the joined CSV
of ``nb101/nb101-nasbenchvis-30k`` (see its PROVENANCE.txt).

Every row is one NB101 training run (the numbers of NB101's ``nasbench_only108`` table, not the
3-run mean). Accuracies are stored in percent (the sources hold fractions). Architectures are stored
as the ``nb101`` space's string of NB101's own cell of each hash class (the matrix NB101 trained;
``NB101Space.representative``), so they match what the space samples and enumerates.

Metrics: ``nb101_c10_valid_{4,12,36,108}ep`` (CIFAR-10 validation accuracy, 10k images held out of
the training set, after a 4/12/36/108-epoch schedule, each a separate training), ``nb101_train_time_s``
(seconds of the 108-epoch training on a TPU), ``nb101_params`` (trainable parameters).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.errors import DataError, InputError
from zcnas.records.importers import (
    Imported,
    _finish,
    _read_csv,
    _resolve,
    _spec,
    _truth_rows,
    register_importer,
    register_metric,
)
from zcnas.spaces import get_space

FOLDER = "nb101/nb101-nasbenchvis-30k"
JOINED = f"{FOLDER}/nb101_30k_joined.csv"
VIS_20K = f"{FOLDER}/data-20k__02802542.json"
EPOCHS = (4, 12, 36, 108)

for _ep in EPOCHS:
    register_metric(f"nb101_c10_valid_{_ep}ep", "cifar10", "valid", _ep, "single",
                    f"NB101 CIFAR-10 validation accuracy (10k images held out of the 50k training set) after the "
                    f"{_ep}-epoch schedule; one training run (NB101 nasbench_only108 table)", "%",
                    higher_is_better=True, space="nb101")
register_metric("nb101_train_time_s", "cifar10", "", 108, "single",
                "NB101 training time of the 108-epoch run on a TPU v2 (seconds); one run", "s",
                higher_is_better=False, space="nb101")
register_metric("nb101_params", "cifar10", "", -1, "single",
                "trainable parameters of NB101's CIFAR-10 network (stem 128, 3 stacks x 3 cells)", "count",
                higher_is_better=False, space="nb101")

#: source column -> metric, for each source format; accuracy columns are fractions
_CSV_COLUMNS = {"val_acc_e4": "nb101_c10_valid_4ep", "val_acc_e12": "nb101_c10_valid_12ep",
                "val_acc_e36": "nb101_c10_valid_36ep", "val_acc_e108": "nb101_c10_valid_108ep",
                "train_time_s_e108": "nb101_train_time_s", "params": "nb101_params"}
_JSON_COLUMNS = {"4_final_validation_accuracy": "nb101_c10_valid_4ep",
                 "12_final_validation_accuracy": "nb101_c10_valid_12ep",
                 "36_final_validation_accuracy": "nb101_c10_valid_36ep",
                 "108_final_validation_accuracy": "nb101_c10_valid_108ep",
                 "final_training_time": "nb101_train_time_s", "trainable_parameters": "nb101_params"}
#: NB101's op indices in nasbench-vis ``operations`` (-1 input, -2 output, -3 padding)
_VIS_OPS = {-1: "input", -2: "output", 0: "conv3x3-bn-relu", 1: "conv1x1-bn-relu", 2: "maxpool3x3"}


def _specs(columns: dict[str, str], origin: str, path: Path) -> dict[str, dict]:

    return {col: _spec(metric, source=f"{origin}:{path.name}:{col}") for col, metric in columns.items()}


def _percent(df: pd.DataFrame, columns: dict[str, str], path: Path) -> pd.DataFrame:
    """Copy of ``df`` with the accuracy columns (fractions 0-1 in the source) in percent."""
    out = df.copy()
    for col, metric in columns.items():
        if not metric.startswith("nb101_c10_valid_"):
            continue
        vals = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype="float64")
        bad = np.flatnonzero(~np.isnan(vals) & ((vals < 0) | (vals > 1)))
        if len(bad):
            raise DataError(f"{path.name}: column {col!r} holds {vals[bad[0]]!r} (entry {bad[0] + 1}); NB101 "
                            f"accuracies are fractions 0-1 in this source. Is this the right file?")
        out[col] = vals * 100.0
    return out


def _unique_hashes(hashes: list[str], path: Path, what: str) -> None:
    seen: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if not (isinstance(h, str) and len(h) == 32):
            raise DataError(f"{path.name}: {what} {i + 1} has hash {h!r}; expected 32 hex characters.")
        if h in seen:
            raise DataError(f"{path.name}: hash {h!r} appears at {what}s {seen[h] + 1} and {i + 1}; each "
                            f"architecture may appear once.")
        seen[h] = i


@register_importer("nb101-csv", default=JOINED, produces="truth",
                   description="NB101 30,001 cells (hash, matrix, ops): CIFAR-10 valid acc at 4/12/36/108 epochs, "
                               "train time, params (one run; % ; the joined nasbench-vis CSV)")
def import_nb101_csv(store=None, path: str | os.PathLike | None = None, *, data_root=None) -> Imported:
    """``nb101_30k_joined.csv``: each row's cell (``adjacency``, ``ops``) must hash to its ``hash``;
    it is stored as NB101's own cell of that class."""

    sp = get_space("nb101")
    f = _resolve(path, JOINED, data_root)
    df = _read_csv(f, ["hash", "adjacency", "ops", *_CSV_COLUMNS])
    hashes = df["hash"].tolist()
    _unique_hashes(hashes, f, "row")
    archs = []
    for i, (h, adj, ops) in enumerate(zip(hashes, df["adjacency"], df["ops"], strict=True)):
        try:
            cell = sp.parse_json({"matrix": json.loads(adj), "ops": json.loads(ops)})
        except (InputError, json.JSONDecodeError, TypeError) as exc:
            raise InputError(f"{f.name}, row {i + 1} (line {i + 2}): adjacency/ops are not a valid NB101 cell: "
                             f"{exc} Fix that row.") from None
        if sp.canonical(cell) != h:
            raise DataError(f"{f.name}, row {i + 1} (line {i + 2}): the cell hashes to {sp.canonical(cell)!r}, not "
                            f"to its hash column {h!r}; the file is inconsistent.")
        archs.append(sp.format(sp.representative(cell)))
    frame = _percent(df, _CSV_COLUMNS, f)
    rows = _truth_rows(np.asarray(archs, dtype=object), frame, f, _specs(_CSV_COLUMNS, "nb101-csv", f),
                       "nb101-csv", space="nb101")
    return _finish(store, {"truth": [rows]})


@register_importer("nb101-vis-json", default=VIS_20K, produces="truth",
                   description="NB101 nasbench-vis columnar JSON (data-20k / data-10k / data-1k): CIFAR-10 valid acc "
                               "at 4/12/36/108 epochs, train time, params, by NB101 hash (one run; %)")
def import_nb101_vis_json(store=None, path: str | os.PathLike | None = None, *, data_root=None) -> Imported:
    """A nasbench-vis ``data-*.json`` file: columns keyed by the NB101 hash (``key``), resolved
    through the ``nb101`` index (the first use builds its hash table: about 1-3 minutes, cached).
    Where the file also has ``adjacency``/``operations`` (the 1k file), each cell must hash to its key."""

    sp = get_space("nb101")
    f = _resolve(path, VIS_20K, data_root)
    try:
        with open(f, encoding="utf-8") as fh:
            data = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read {str(f)!r} as JSON: {exc}.") from None
    missing = [k for k in ("key", *_JSON_COLUMNS) if not isinstance(data, dict) or k not in data]
    if missing:
        raise InputError(f"{f.name} has no key(s) {missing}; a nasbench-vis data file has 'key' and "
                         f"{list(_JSON_COLUMNS)}.")
    keys = data["key"]
    n = len(keys)
    bad = [k for k in _JSON_COLUMNS if len(data[k]) != n]
    if bad:
        raise DataError(f"{f.name}: column(s) {bad} do not have one value per key ({n}); the file is truncated.")
    _unique_hashes(keys, f, "entry")
    archs = []
    explicit = "adjacency" in data and "operations" in data
    for i, h in enumerate(keys):
        try:
            a = sp.parse(h)
        except InputError as exc:
            raise DataError(f"{f.name}, entry {i + 1}: {exc}") from None
        if explicit:
            ops = [o for o in data["operations"][i] if o != -3]
            matrix = [[int(x) for x in row[: len(ops)]] for row in data["adjacency"][i][: len(ops)]]
            try:
                cell = sp.parse_json({"matrix": matrix, "ops": [_VIS_OPS[o] for o in ops]})
            except (InputError, KeyError) as exc:
                raise DataError(f"{f.name}, entry {i + 1}: adjacency/operations are not a valid NB101 cell "
                                f"({exc}).") from None
            if sp.canonical(cell) != h:
                raise DataError(f"{f.name}, entry {i + 1}: adjacency/operations hash to {sp.canonical(cell)!r}, not "
                                f"to the key {h!r}; the file is inconsistent.")
        archs.append(sp.format(a))
    frame = _percent(pd.DataFrame({k: data[k] for k in _JSON_COLUMNS}), _JSON_COLUMNS, f)
    rows = _truth_rows(np.asarray(archs, dtype=object), frame, f, _specs(_JSON_COLUMNS, "nb101-vis-json", f),
                       "nb101-vis-json", space="nb101")
    return _finish(store, {"truth": [rows]})
