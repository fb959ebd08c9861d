"""Latency of a network measured on the user's own device, and its records.

:func:`measure_latency` times the forward pass of a model (or of an architecture, built with
:func:`zcnas.ranking.build_seeded`) under :func:`torch.inference_mode`: ``warmup`` untimed passes,
then ``repeats`` timed ones. On CPU each pass is timed with :func:`time.perf_counter`; on CUDA with
CUDA events around the pass and a :func:`torch.cuda.synchronize` before reading them, so queued
kernels are counted. The model is copied first (the caller's module is not moved, put in eval mode
or otherwise changed), and ``threads`` sets ``torch.set_num_threads`` for the measurement only.

Records: measured latency is kept in its own ``latency`` table of the record store (declared here
with :func:`zcnas.records.schema.register_table`), one row per (run, arch) with the median, the
inter-quartile range, the 10th/90th percentiles, the settings (batch size, input size, threads,
warm-up, repeats), the torch device, a free ``label`` naming the device (``cpu``, ``laptop``, ...)
and the host name. A table rather than ``truth`` rows because a latency is only meaningful with its
spread and settings, which the truth table has no columns for. :func:`latency_wide` turns the rows
into one column ``latency_<label>_ms`` (the median) per label, the column that the budget
``latency:<label>=...`` of :mod:`zcnas.constraints` resolves to.

Timings on a shared, busy machine are noisy: report the median and the IQR, not the mean.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import platform
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zcnas.errors import InputError, check_int
from zcnas.records.schema import Column, register_table
from zcnas.spaces import get_space
from zcnas.spaces.seeding import build_seeded

LATENCY_TABLE = register_table("latency", [
    Column("run_key", "str", doc="id of the measurement run (settings + label + host)"),
    Column("space", "str", "", "search space of the arch ('' for a plain module)"),
    Column("arch", "str", doc="architecture string (or a model name)"),
    Column("label", "str", doc="name of the measured device, used as latency:<label> in budgets"),
    Column("device", "str", doc="torch device, e.g. cpu or cuda:0"),
    Column("host", "str", "", "host name of the machine"),
    Column("batch_size", "int"),
    Column("input_size", "str", doc="JSON list [C, H, W] of one input"),
    Column("threads", "int", -1, "torch CPU threads during the measurement"),
    Column("warmup", "int"),
    Column("repeats", "int"),
    Column("median_ms", "float", math.nan),
    Column("iqr_ms", "float", math.nan, "75th minus 25th percentile"),
    Column("p10_ms", "float", math.nan),
    Column("p90_ms", "float", math.nan),
    Column("mean_ms", "float", math.nan),
    Column("min_ms", "float", math.nan),
    Column("timer", "str", "", "perf_counter (CPU) or cuda_events"),
    Column("status", "str", "ok", "'ok' or 'failed'"),
    Column("reason", "str", "", "why it failed"),
], key=["run_key", "arch"], doc="Forward-pass latency measured on the user's device (milliseconds).")


@dataclass(frozen=True)
class LatencyResult:
    """Latency of one forward pass over ``repeats`` timed runs, in milliseconds.

    ``iqr_ms`` (75th - 25th percentile) is the spread; ``samples_ms`` holds every timed run."""

    median_ms: float
    iqr_ms: float
    p10_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float
    repeats: int
    warmup: int
    batch_size: int
    input_size: tuple[int, ...]
    device: str
    threads: int
    timer: str
    samples_ms: tuple[float, ...] = field(repr=False, default=())

    @property
    def spread(self) -> float:
        """The IQR relative to the median (0.05 = the middle half of the runs lie within 5 %)."""
        return self.iqr_ms / self.median_ms if self.median_ms > 0 else math.nan

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("samples_ms")
        d["input_size"] = list(self.input_size)
        return d


@contextlib.contextmanager
def _num_threads(threads: int | None) -> Iterator[int]:
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        if threads is not None:
            torch.set_num_threads(before)


def _as_model(model_or_arch, space: str, num_classes: int, seed: int):
    from torch import nn

    if isinstance(model_or_arch, nn.Module):
        return copy.deepcopy(model_or_arch)

    return build_seeded(space, model_or_arch, num_classes, seed)


def summarize(samples_ms: Sequence[float]) -> dict[str, float]:
    """Median, IQR, 10th/90th percentile, mean and minimum of timings (ms)."""
    a = np.asarray(samples_ms, dtype=float)
    if not len(a):
        raise InputError("No timings to summarise.")
    q10, q25, q50, q75, q90 = np.percentile(a, [10, 25, 50, 75, 90])
    return {"median_ms": float(q50), "iqr_ms": float(q75 - q25), "p10_ms": float(q10), "p90_ms": float(q90),
            "mean_ms": float(a.mean()), "min_ms": float(a.min())}


def measure_latency(model_or_arch, input_shape: Sequence[int] = (1, 3, 32, 32), device: str = "cpu",
                    warmup: int = 10, repeats: int = 50, threads: int | None = None, *,
                    space: str | None = None, num_classes: int = 10, seed: int = 0) -> LatencyResult:
    """Time the forward pass of ``model_or_arch`` on ``device``.

    ``model_or_arch``: an ``nn.Module`` (copied, never changed) or an architecture of ``space``
    (string or :class:`~zcnas.arch.Architecture`, built with ``num_classes`` outputs and the
    per-architecture init of ``seed``). ``input_shape`` is (batch, C, H, W) of a zero input.
    ``threads``: torch CPU threads during the measurement (None: leave as is); restored afterwards.
    """
    import torch

    check_int("warmup", warmup, "measure_latency", minimum=0)
    check_int("repeats", repeats, "measure_latency", minimum=1)
    if threads is not None:
        check_int("threads", threads, "measure_latency", minimum=1)
    shape = tuple(int(s) for s in input_shape)
    if len(shape) < 2 or any(s < 1 for s in shape):
        raise InputError(f"The 'input_shape' parameter of measure_latency must be (batch, C, H, W) with "
                         f"positive sizes. Got {tuple(input_shape)!r} instead.")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise InputError(f"The 'device' parameter of measure_latency must be a torch device such as "
                         f"'cpu' or 'cuda:0'. Got {device!r} instead ({exc}).") from None
    cuda = dev.type == "cuda"
    if cuda and not torch.cuda.is_available():
        raise InputError(f"device={device!r} but CUDA is not available on this machine; use device='cpu'.")
    model = _as_model(model_or_arch, space, num_classes, seed).to(dev).eval()
    x = torch.zeros(shape, device=dev)
    samples: list[float] = []
    with _num_threads(threads) as n_threads, torch.inference_mode():
        for _ in range(warmup):
            model(x)
        if cuda:
            torch.cuda.synchronize(dev)
            starts = [torch.cuda.Event(enable_timing=True) for _ in range(repeats)]
            ends = [torch.cuda.Event(enable_timing=True) for _ in range(repeats)]
            for s, e in zip(starts, ends):
                s.record()
                model(x)
                e.record()
            torch.cuda.synchronize(dev)
            samples = [s.elapsed_time(e) for s, e in zip(starts, ends)]
        else:
            for _ in range(repeats):
                t0 = time.perf_counter()
                model(x)
                samples.append((time.perf_counter() - t0) * 1e3)
    return LatencyResult(**summarize(samples), repeats=repeats, warmup=warmup, batch_size=shape[0],
                         input_size=shape[1:], device=str(dev), threads=n_threads,
                         timer="cuda_events" if cuda else "perf_counter", samples_ms=tuple(samples))


def latency_run_key(label: str, result_or_settings: LatencyResult | dict, host: str | None = None) -> str:
    """Run key of a measurement: a hash of the label, host and settings (not of the timings)."""
    if isinstance(result_or_settings, LatencyResult):
        r = result_or_settings
        settings = {"batch_size": r.batch_size, "input_size": list(r.input_size), "device": r.device,
                    "threads": r.threads, "warmup": r.warmup, "repeats": r.repeats}
    else:
        settings = dict(result_or_settings)
    key = {"label": label, "host": host or platform.node(), **settings}
    return "latency:" + hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def latency_rows(results: dict[str, LatencyResult], *, label: str, space: str | None = None,
                 host: str | None = None) -> list[dict]:
    """Rows of the ``latency`` table for ``{arch: LatencyResult}``."""
    host = host or platform.node()
    rows = []
    for arch, r in results.items():
        d = r.as_dict()
        d["input_size"] = json.dumps(d["input_size"])
        rows.append({"run_key": latency_run_key(label, r, host), "space": space, "arch": arch, "label": label,
                     "host": host, **d, "status": "ok", "reason": ""})
    return rows


def measure_archs(archs: Sequence, *, space: str | None = None, label: str | None = None,
                  input_shape: Sequence[int] = (1, 3, 32, 32), device: str = "cpu", warmup: int = 10,
                  repeats: int = 50, threads: int | None = None, num_classes: int = 10, seed: int = 0,
                  store=None, progress: bool = False) -> pd.DataFrame:
    """Measure the latency of each architecture; returns the ``latency`` table rows as a frame and
    appends them to ``store`` (an open :class:`~zcnas.records.RecordStore`) as each one finishes.
    ``label`` defaults to the device type (``cpu``, ``cuda``)."""
    import sys

    from tqdm.auto import tqdm


    sp = get_space(space)
    strings = list(dict.fromkeys(sp.format(sp.coerce(a)) for a in archs))
    if not strings:
        raise InputError("No architectures to measure.")
    label = label or str(device).split(":")[0]
    if not label or any(c in label for c in " =:,"):
        raise InputError(f"The 'label' of a latency measurement must be a plain name without spaces, "
                         f"'=', ':' or ','. Got {label!r} instead.")
    import torch

    settings = {"batch_size": int(input_shape[0]), "input_size": [int(v) for v in input_shape[1:]],
                "device": str(torch.device(device)),
                "threads": int(threads if threads is not None else torch.get_num_threads()),
                "warmup": warmup, "repeats": repeats}
    run_key = latency_run_key(label, settings)
    if store is not None:
        from datetime import datetime, timezone

        from zcnas._version import __version__

        store.append("runs", [{"run_key": run_key, "kind": "latency", "zcnas_version": __version__,
                               "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "config": json.dumps({"label": label, "space": space, "seed": seed,
                                                     "num_classes": num_classes, "host": platform.node(),
                                                     **settings})}])
    rows = []
    for a in tqdm(strings, disable=None if progress is None else not progress, file=sys.stderr, unit="arch",
                  desc="latency"):
        r = measure_latency(a, input_shape, device, warmup, repeats, settings["threads"], space=space,
                            num_classes=num_classes, seed=seed)
        row = latency_rows({a: r}, label=label, space=space)
        rows.extend(row)
        if store is not None:
            store.append("latency", row)
    return LATENCY_TABLE.normalize(rows)


def latency_wide(latency: pd.DataFrame, run_key: str | None = None) -> pd.DataFrame:
    """``latency`` table rows -> frame indexed by arch with one column ``latency_<label>_ms`` (the
    median) per label; several runs with the same label need ``run_key``."""
    df = latency[latency["status"] == "ok"]
    if run_key is not None:
        df = df[df["run_key"] == run_key]
    dup = df.duplicated(["arch", "label"])
    if dup.any():
        raise InputError(f"Several latency runs measured the same arch with the same label; pass run_key= "
                         f"(one of {sorted(set(df['run_key']))}).")
    wide = df.pivot(index="arch", columns="label", values="median_ms")
    wide.columns = [f"latency_{c}_ms" for c in wide.columns]
    wide.index.name = "arch"
    return wide
