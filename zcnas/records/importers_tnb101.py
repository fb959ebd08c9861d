"""Importers of TransNAS-Bench-101 data (the ``transnas101/`` benchmark folder; see its PROVENANCE):
the seven tasks' ground truth and NAS-Bench-Suite-Zero's published zen, epe_nas, synflow and fisher
scores, from the merged CSV tables or from the original zips. No torch.

Ground truth (``tnb101_<task>_valid``): the "val_accuracy" that NASLib queries from TNB101's final
epoch; every column is stored so that higher is better:

=====================  ======================================================  =========  ======
metric                 what it is (TNB101 key NASLib reads)                     unit       epochs
=====================  ======================================================  =========  ======
tnb101_class_scene_..  top-1 accuracy, scene classification (valid_top1)        %          25
tnb101_class_object_.  top-1 accuracy, object classification (valid_top1)       %          25
tnb101_jigsaw_valid    top-1 accuracy over 1000 tile permutations (valid_top1)  %          10
tnb101_room_layout_..  negative MSE of the 9 layout parameters (valid_neg_loss)  -MSE       25
tnb101_segmentsema..   pixel accuracy over 17 classes (valid_acc; not mIoU)     %          30
tnb101_normal_valid    SSIM of the predicted surface normals (valid_ssim)       SSIM       30
tnb101_autoencoder_..  SSIM of the reconstructed image (valid_ssim)             SSIM       30
=====================  ======================================================  =========  ======

Published scores go to ``published:suitezero:<task>`` (the NB201 importers' key pattern, the task
as dataset; the ``space`` column tells micro from macro); the -1e8 sentinel becomes a failure.
Architectures are stored as TNB101's strings (``64-41414-1_02_333``, ``64-1234-basic``).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.errors import DataError, InputError, UnknownNameError
from zcnas.records.importers import (
    Imported,
    _finish,
    _read_csv,
    _resolve,
    _score_rows,
    _truth_rows,
    register_importer,
    register_metric,
)
from zcnas.spaces import get_space

TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")
SPACES = {"micro": "tnb101_micro", "macro": "tnb101_macro"}
_METRIC_DOC = {
    "class_scene": ("top-1 accuracy of scene classification (TNB101 valid_top1, final epoch)", "%", 25),
    "class_object": ("top-1 accuracy of object classification (TNB101 valid_top1, final epoch)", "%", 25),
    "jigsaw": ("top-1 accuracy over 1000 jigsaw tile permutations (TNB101 valid_top1, final epoch)", "%", 10),
    "room_layout": ("negative MSE loss of the 9 room-layout parameters (TNB101 valid_neg_loss, final epoch; "
                    "higher is better)", "-MSE", 25),
    "segmentsemantic": ("pixel accuracy of 17-class semantic segmentation (TNB101 valid_acc, final epoch; "
                        "not mIoU)", "%", 30),
    "normal": ("SSIM of the predicted surface-normal image (TNB101 valid_ssim, final epoch)", "SSIM", 30),
    "autoencoder": ("SSIM of the reconstructed image (TNB101 valid_ssim, final epoch)", "SSIM", 30),
}


def metric_name(task: str) -> str:
    """Ground-truth metric of a TNB101 task: ``tnb101_<task>_valid``."""
    if task not in TASKS:
        raise UnknownNameError("TNB101 task", task, TASKS)
    return f"tnb101_{task}_valid"


for _task, (_doc, _unit, _epochs) in _METRIC_DOC.items():
    register_metric(metric_name(_task), _task, "valid", _epochs, "single",
                    f"TransNAS-Bench-101 {_doc}, as NASLib / NAS-Bench-Suite-Zero query it; micro and macro "
                    f"rows carry their space", _unit, higher_is_better=True, space=None)

TABLES = "transnas101/tnb101-naslib-tables"
ZIPS = "transnas101/tnb101-naslib-zips"
RUN_KEY = "published:suitezero:{task}"


def _space(which: str):

    if which not in SPACES:
        raise UnknownNameError("TNB101 space", which, SPACES)
    return get_space(SPACES[which])


def _archs(values, sp, where) -> np.ndarray:
    """TNB101 strings of NASLib op-index tuples; errors name the file and the row."""
    out = []
    for i, v in enumerate(values):
        try:
            if not isinstance(v, str):
                raise InputError(f"expected text, got {v!r}")
            out.append(sp.format(sp.parse(v)))
        except InputError as exc:
            raise InputError(f"{where(i)}: not a {sp.name} architecture: {exc} Fix that row.") from None
    arr = np.asarray(out, dtype=object)
    dup = pd.Series(arr).duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{where(i)}: architecture {arr[i]!r} appears twice; each may appear once.")
    return arr


@register_importer("tnb101-tables", default=f"{TABLES}/transbench101_micro_val_metrics.csv",
                   produces="truth, scores", aliases=("tnb101-micro-tables",),
                   description="TransNAS-Bench-101 micro tables (4,096 cells): 7 tasks' ground truth and "
                               "NAS-Bench-Suite-Zero's published zen/epe_nas/synflow/fisher (space='macro': macro)")
def import_tnb101_tables(store=None, path=None, *, data_root=None, space: str = "micro", scores: bool = True,
                         proxies_path=None) -> Imported:
    """``transbench101_<space>_val_metrics.csv`` (truth, one metric per task column) and, with
    ``scores=True``, ``transbench101_<space>_proxies.csv`` (``<task>:<proxy>`` columns; empty =
    not published, -1e8 = failed) beside it or at ``proxies_path``. ``space``: "micro" or
    "macro" (or the space's registered name)."""
    space = space.removeprefix("tnb101_")
    sp = _space(space)
    f = _resolve(path, f"{TABLES}/transbench101_{space}_val_metrics.csv", data_root)
    df = _read_csv(f, ["arch", *TASKS])
    archs = _archs(df["arch"].tolist(), sp, lambda i: f"{f.name}, row {i + 1} (line {i + 2})")
    specs = {t: {"metric": metric_name(t), "dataset": t, "split": "valid", "epochs": _METRIC_DOC[t][2],
                 "source": f"tnb101-tables:{f.name}:{t}"} for t in TASKS}
    out: dict[str, list[pd.DataFrame]] = {"truth": [_truth_rows(archs, df, f, specs, "tnb101-tables", space=sp.name)],
                                          "scores": []}
    if scores:
        pf = (Path(proxies_path) if proxies_path is not None
              else f.with_name(f"transbench101_{space}_proxies.csv"))
        if not pf.exists():
            raise DataError(f"Proxy table {str(pf)!r} not found; pass proxies_path= or scores=False.")
        pdf = _read_csv(pf, ["arch"])
        parchs = _archs(pdf["arch"].tolist(), sp, lambda i: f"{pf.name}, row {i + 1} (line {i + 2})")
        for col in pdf.columns[1:]:
            task, sep, proxy = col.partition(":")
            if not sep or task not in TASKS or not proxy:
                raise DataError(f"{pf.name}: column {col!r} is not '<task>:<proxy>' with a task of {TASKS}.")
            vals = pd.to_numeric(pdf[col], errors="coerce").to_numpy(dtype="float64")
            if (np.isnan(vals) & pdf[col].notna().to_numpy()).any():
                raise DataError(f"{pf.name}: column {col!r} holds a value that is not a number.")
            out["scores"].append(_score_rows(parchs, vals, proxy, RUN_KEY.format(task=task), task, space=sp.name))
    return _finish(store, out)


@register_importer("tnb101-macro-tables", default=f"{TABLES}/transbench101_macro_val_metrics.csv",
                   produces="truth, scores",
                   description="TransNAS-Bench-101 macro tables (3,256 skeletons): 7 tasks' ground truth and "
                               "NAS-Bench-Suite-Zero's published zen/epe_nas/synflow/fisher")
def import_tnb101_macro_tables(store=None, path=None, *, data_root=None, scores: bool = True,
                               proxies_path=None) -> Imported:
    """:func:`import_tnb101_tables` with ``space="macro"`` (one importer name per space, so the
    command line needs no option)."""
    return import_tnb101_tables(store, path, data_root=data_root, space="macro", scores=scores,
                                proxies_path=proxies_path)


_MEMBER = re.compile(r"benchmark--transbench101_(micro|macro)--([a-z_]+)--(\d+)\.json$")


def _zip_files(path) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        # re-runs that fill in and replace earlier runs ("*missing*") come first and win, as in the
        # merged tables (see import_tnb101_zips)
        files = sorted(p.glob("*.zip"), key=lambda f: ("missing" not in f.name, f.name))
        if not files:
            raise DataError(f"No .zip files in {str(p)!r}; pass a NAS-Bench-Suite-Zero zip or its folder.")
        return files
    return [p]


@register_importer("tnb101-zips", default=ZIPS, produces="truth, scores",
                   description="NAS-Bench-Suite-Zero's TNB101 zips (JSON lists per space/task/offset): published "
                               "zen/epe_nas/synflow/fisher scores with seconds, and val_accuracy")
def import_tnb101_zips(store=None, path=None, *, data_root=None, space: str | None = None) -> Imported:
    """Every ``benchmark--transbench101_<space>--<task>--<offset>.json`` in the zip(s) at ``path``
    (a zip or a folder of zips; default: the benchmark folder's). JSON is read with ``json``, never
    pickle. Each (space, task, proxy, arch) score and (space, task, arch) truth is kept once. Truth
    repeated across members must agree (else :class:`DataError`). Scores may not: fisher on micro
    class_object (721 archs) and jigsaw (44) was run twice, and the values differ (a stochastic
    proxy); the re-run zip (``*missing*``) wins, as in the merged tables, and the earlier values
    are dropped. ``space`` ("micro" or "macro") limits the import to one space."""
    if space is not None:
        space = space.removeprefix("tnb101_")
        _space(space)
    root = _resolve(path, ZIPS, data_root)
    scores: dict[tuple, tuple[float, float, str]] = {}
    truth: dict[tuple, tuple[float, str]] = {}
    for zf_path in _zip_files(root):
        try:
            zf = zipfile.ZipFile(zf_path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"Cannot open {str(zf_path)!r} as a zip: {exc}.") from None
        with zf:
            for member in zf.namelist():
                m = _MEMBER.search(member)
                if m is None:
                    continue
                which, task, _ = m.groups()
                if space is not None and which != space:
                    continue
                if task not in TASKS:
                    raise DataError(f"{zf_path.name}:{member}: unknown TNB101 task {task!r}; tasks are {TASKS}.")
                sp = _space(which)
                try:
                    entries = json.loads(zf.read(member))
                except ValueError as exc:
                    raise DataError(f"{zf_path.name}:{member} is not valid JSON: {exc}.") from None
                if not isinstance(entries, list):
                    raise DataError(f"{zf_path.name}:{member}: expected a JSON list of entries.")
                where = f"{zf_path.name}:{member}"
                for k, e in enumerate(entries):
                    if not isinstance(e, dict) or "arch" not in e:
                        raise DataError(f"{where}, entry {k + 1}: expected an object with 'arch'.")
                    try:
                        arch = sp.format(sp.parse(str(e["arch"])))
                    except InputError as exc:
                        raise InputError(f"{where}, entry {k + 1}: {exc}") from None
                    for proxy, v in e.items():
                        if not isinstance(v, dict):
                            continue
                        score = float(v["score"]) if v.get("score") is not None else np.nan
                        secs = float(v["time"]) if v.get("time") is not None else np.nan
                        scores.setdefault((sp.name, task, proxy, arch), (score, secs, where))
                    if e.get("val_accuracy") is not None:
                        _keep(truth, (sp.name, task, arch), (float(e["val_accuracy"]), where), "val_accuracy")
    if not scores and not truth:
        raise DataError(f"No TNB101 benchmark member found under {str(root)!r}"
                        f"{'' if space is None else f' for space {space!r}'}.")
    out: dict[str, list[pd.DataFrame]] = {"truth": [], "scores": []}
    for (spn, task), grp in _groups(truth, 2).items():
        archs = np.asarray([k[-1] for k in grp], dtype=object)
        frame = pd.DataFrame({"v": [truth[k][0] for k in grp]})
        spec = {"metric": metric_name(task), "dataset": task, "split": "valid", "epochs": _METRIC_DOC[task][2],
                "source": f"tnb101-zips:{task}/val_accuracy"}
        out["truth"].append(_truth_rows(archs, frame, root, {"v": spec}, "tnb101-zips", space=spn))
    for (spn, task, proxy), grp in _groups(scores, 3).items():
        archs = np.asarray([k[-1] for k in grp], dtype=object)
        vals = np.asarray([scores[k][0] for k in grp], dtype="float64")
        secs = np.asarray([scores[k][1] for k in grp], dtype="float64")
        out["scores"].append(_score_rows(archs, vals, proxy, RUN_KEY.format(task=task), task, secs,
                                         nan="failed", space=spn))
    return _finish(store, out)


def _keep(seen: dict, key: tuple, value: tuple, what: str) -> None:
    old = seen.get(key)
    if old is None:
        seen[key] = value
        return
    a, b = old[0], value[0]
    if not (a == b or (np.isnan(a) and np.isnan(b))):
        raise DataError(f"{value[-1]} gives {what} {b!r} for {key}, but {old[-1]} gave {a!r}; the sources "
                        f"disagree. Import one of them (path=).")


def _groups(d: dict, n: int) -> dict[tuple, list[tuple]]:
    out: dict[tuple, list[tuple]] = {}
    for k in sorted(d):
        out.setdefault(k[:n], []).append(k)
    return out
