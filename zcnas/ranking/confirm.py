"""Confirmers: the stage of a search that checks the short list with (short) training.

A :class:`Confirmer` turns an architecture into a :class:`Confirmation`: the accuracy that plays
the short training (the criterion of the final ranking), its cost in seconds, optionally a final
outcome (e.g. a benchmark's 200-epoch accuracy), and a row for the record store's ``trainings``
table. Two are built in:

``TrainingConfirmer``   real short training with :func:`zcnas.ranking.train.train_architecture`
                        (the space's registered recipe; CUDA when present, the CPU otherwise).
``BenchmarkConfirmer``  a tabular benchmark's short-schedule metric plays the short training and
                        another metric is the outcome; both are named explicitly, and a space
                        declares its usual pair (``space.confirm_metrics``, e.g. NB201's 12-epoch
                        and 200-epoch CIFAR-10 test accuracy) for :meth:`BenchmarkConfirmer.from_benchmark`.

:func:`confirm_many` runs a confirmer over a list with a store: a confirmation already in the store
under the confirmer's run key (same configuration) is read back instead of being redone.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from zcnas.errors import DataError, InputError, check_int
from zcnas.records.importers import has_metric, metric_info, run_importer
from zcnas.spaces import get_space


@dataclass
class Confirmation:
    """One confirmed architecture. ``acc`` (percent) is the short-training result that ranks it;
    ``outcome`` the final metric when the confirmer knows it (NaN otherwise); ``cached`` says it was
    read from the store rather than computed."""

    arch: str
    acc: float
    seconds: float
    outcome: float = math.nan
    record: dict[str, Any] = field(default_factory=dict)
    cached: bool = False


def _hash(doc: dict) -> str:
    return hashlib.sha1(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Confirmer(ABC):
    """Confirms one architecture at a time. Subclasses implement :meth:`describe` (the
    configuration, which names the run in the ``trainings`` table) and :meth:`confirm`."""

    space: str = ""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Everything that determines the result besides the architecture (JSON-serialisable)."""

    @abstractmethod
    def confirm(self, arch: str) -> Confirmation:
        """Confirm ``arch`` (an official architecture string of :attr:`space`)."""

    def run_key(self) -> str:
        return f"confirm:{self.describe().get('kind', type(self).__name__)}:{_hash(self.describe())}"

    def from_record(self, row: dict[str, Any]) -> Confirmation:
        """A confirmation read back from a ``trainings`` row written by this confirmer."""
        return Confirmation(arch=row["arch"], acc=float(row["final_acc"]), seconds=float(row["seconds"]),
                            outcome=self.outcome(row["arch"]), record=dict(row), cached=True)

    def outcome(self, arch: str) -> float:
        """The final metric of ``arch`` when known (NaN by default)."""
        return math.nan


class TrainingConfirmer(Confirmer):
    """Real short training (the space's recipe) of each architecture; see
    :func:`zcnas.ranking.train.train_architecture` for the parameters. ``device=None`` picks CUDA
    when present, else the CPU."""

    def __init__(self, *, space: str, dataset: str = "cifar10", data_dir: str | None = None,
                 epochs: int = 12, batch_size: int = 256, lr: float = 0.1, seed: int = 0,
                 device: str | None = None, max_train_images: int | None = None,
                 max_test_images: int | None = None, progress: bool = False):
        self.space = get_space(space).name
        self.dataset = dataset
        self.data_dir = data_dir
        self.epochs = check_int("epochs", epochs, "TrainingConfirmer", minimum=1)
        self.batch_size = check_int("batch_size", batch_size, "TrainingConfirmer", minimum=2)
        self.lr = lr
        self.seed = check_int("seed", seed, "TrainingConfirmer", minimum=0)
        self.device = device
        self.max_train_images = max_train_images
        self.max_test_images = max_test_images
        self.progress = progress

    def describe(self) -> dict[str, Any]:
        return {"kind": "train", "space": self.space, "dataset": self.dataset,
                "data_dir": str(Path(self.data_dir).resolve()) if self.data_dir else None,
                "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "seed": self.seed,
                "max_train_images": self.max_train_images, "max_test_images": self.max_test_images}

    def confirm(self, arch: str) -> Confirmation:
        from zcnas.ranking.train import train_architecture

        res = train_architecture(self.space, arch, dataset=self.dataset, data_dir=self.data_dir,
                                 epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.seed,
                                 device=self.device, max_train_images=self.max_train_images,
                                 max_test_images=self.max_test_images, progress=self.progress)
        return Confirmation(arch=res.arch, acc=res.final_acc, seconds=res.seconds,
                            record=res.to_record(self.run_key(), self.space))


class BenchmarkConfirmer(Confirmer):
    """A tabular benchmark plays the short training, for fast studies.

    ``truth``: a wide frame (index arch strings, one column per metric), a record store path or an
    open :class:`~zcnas.records.RecordStore` holding imported truth (``zcnas import <importer>
    --store PATH``). ``metric`` is what a confirmation returns (a short-schedule accuracy),
    ``outcome`` what the search is judged by (``None`` for none); both are metric names of
    ``zcnas.records.importers.METRICS``. ``seconds_per_training`` is the nominal cost charged per
    confirmation (the tables used here hold no training times), for budgets in seconds.
    """

    def __init__(self, truth: pd.DataFrame | str | Path | Any, *, metric: str, outcome: str | None,
                 space: str, seconds_per_training: float = 0.0):
        self.space = get_space(space).name
        self.metric = metric
        self.outcome_metric = outcome
        self.seconds_per_training = float(seconds_per_training)
        wanted = [metric] + ([outcome] if outcome else [])
        if isinstance(truth, pd.DataFrame):
            frame = truth
        else:
            from zcnas.records import RecordStore

            if isinstance(truth, str | Path):
                with RecordStore(truth, "r") as st:
                    frame = st.truth_wide(metrics=wanted, space=self.space)
            else:
                frame = truth.truth_wide(metrics=wanted, space=self.space)
        missing = [m for m in wanted if m not in frame.columns]
        if missing:
            raise DataError(f"No truth column(s) {missing} for the benchmark confirmer; columns are "
                            f"{list(frame.columns)[:20]}. Import them first (zcnas import --help lists the "
                            f"importers).")
        self._truth = frame[wanted].astype(float)
        self._source = getattr(truth, "path", truth if isinstance(truth, str | Path) else "frame")

    @classmethod
    def from_benchmark(cls, space: str, data_root: str | Path | None = None, *, metric: str | None = None,
                       outcome: str | None = "", **options: Any) -> BenchmarkConfirmer:
        """The space's benchmark table (its ``truth_importer``) read from the benchmark folder
        (``data_root`` or ``ZCNAS_DATA``); ``metric``/``outcome`` default to the space's
        ``confirm_metrics``."""

        sp = get_space(space)
        if sp.truth_importer is None or sp.confirm_metrics is None:
            raise InputError(f"Space {sp.name!r} declares no benchmark table to confirm with; pass a truth "
                             f"frame or store to BenchmarkConfirmer (CLI: --truth STORE).")
        default_metric, default_outcome = sp.confirm_metrics
        metric = metric or default_metric
        outcome = default_outcome if outcome == "" else outcome
        truth = run_importer(sp.truth_importer, None, data_root=data_root,
                             **sp.truth_importer_options)["truth"]
        wide = truth.pivot_table(index="arch", columns="metric", values="value", aggfunc="last")
        wide.columns.name = None
        return cls(wide, metric=metric, outcome=outcome, space=sp.name, **options)

    @property
    def truth(self) -> pd.DataFrame:
        return self._truth

    def describe(self) -> dict[str, Any]:
        return {"kind": "benchmark", "space": self.space, "metric": self.metric, "outcome": self.outcome_metric,
                "seconds_per_training": self.seconds_per_training}

    def run_key(self) -> str:
        return f"confirm:benchmark:{self.metric}"

    def _value(self, arch: str, metric: str) -> float:
        try:
            return float(self._truth.at[arch, metric])
        except KeyError:
            raise DataError(f"The benchmark has no {metric!r} for {arch}; the candidates must come from "
                            f"the benchmark's architectures.") from None

    def outcome(self, arch: str) -> float:
        return self._value(arch, self.outcome_metric) if self.outcome_metric else math.nan

    def confirm(self, arch: str) -> Confirmation:

        acc = self._value(arch, self.metric)
        epochs = metric_info(self.metric).epochs if has_metric(self.metric) else -1
        record = {"run_key": self.run_key(), "space": self.space, "arch": arch, "dataset": self.metric,
                  "epochs": int(epochs), "seed": -1, "epoch_acc": json.dumps([round(acc, 4)]),
                  "final_acc": acc, "seconds": self.seconds_per_training, "device": "benchmark"}
        return Confirmation(arch=arch, acc=acc, seconds=self.seconds_per_training, outcome=self.outcome(arch),
                            record=record)


def confirm_many(confirmer: Confirmer, archs: Sequence[str], *, store=None,
                 skip: set[str] | None = None) -> list[Confirmation]:
    """Confirm ``archs`` in order; with ``store`` each result is saved as soon as it is known, and
    an architecture already confirmed under the same run key is read back (not redone)."""
    if not isinstance(confirmer, Confirmer):
        raise InputError(f"confirmer must be a Confirmer, got {type(confirmer).__name__}.")
    done: dict[str, dict] = {}
    if store is not None:
        prev = store.frame("trainings")
        prev = prev[prev["run_key"] == confirmer.run_key()]
        done = {r["arch"]: r for r in prev.to_dict(orient="records")}
    out = []
    for a in archs:
        if skip and a in skip:
            continue
        if a in done:
            out.append(confirmer.from_record(done[a]))
            continue
        c = confirmer.confirm(a)
        if store is not None and c.record:
            store.append("trainings", [c.record])
        out.append(c)
    return out


__all__ = ["BenchmarkConfirmer", "Confirmation", "Confirmer", "TrainingConfirmer", "confirm_many"]


def make_confirmer(kind: str, *, space: str, truth: str | Path | Any = None, data_root: str | None = None,
                   metric: str | None = None, outcome: str | None = "", seconds_per_training: float = 0.0,
                   train: dict[str, Any] | None = None) -> Confirmer | None:
    """The confirmer called ``kind``: ``"benchmark"`` (``metric``/``outcome``, by default the space's
    ``confirm_metrics``, from ``truth`` (a record store or frame), else the space's benchmark table
    under ``data_root`` / ``ZCNAS_DATA``), ``"train"`` (a :class:`TrainingConfirmer` with the
    ``train`` options) or ``"none"`` (None)."""
    if kind not in ("benchmark", "train", "none"):
        raise InputError(f"The confirmer must be one of ('benchmark', 'train', 'none'). Got {kind!r} instead.")
    sp = get_space(space)
    if kind == "none":
        return None
    if kind == "train":
        return TrainingConfirmer(space=sp.name, **(train or {}))
    if truth is None:
        return BenchmarkConfirmer.from_benchmark(sp.name, data_root, metric=metric, outcome=outcome,
                                                 seconds_per_training=seconds_per_training)
    pair = sp.confirm_metrics or (None, None)
    if (metric or pair[0]) is None:
        raise InputError(f"Space {sp.name!r} declares no short-training metric; pass --metric (Python: metric=).")
    return BenchmarkConfirmer(truth, metric=metric or pair[0], space=sp.name,
                              outcome=pair[1] if outcome == "" else outcome,
                              seconds_per_training=seconds_per_training)
