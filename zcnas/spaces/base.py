"""The search-space contract.

A space owns the shape of its architectures. :class:`SearchSpace` is what every space gives:
strings in and out (``parse``/``format``/``validate``), seeded ``sample``, ``neighbours`` and
``mutate``, ``canonical`` (a key shared by functionally identical cells), ``encode`` (fixed-length
vectors), ``cell_graph`` (the labelled DAG that graph features and path encodings read) and
``build`` (a freshly initialised torch network). Spaces small enough to list add
:class:`EnumerableSpace` (``len``, ``enumerate``, ``index``, ``at``); nothing downstream needs it.

Besides the methods, a space declares as class attributes what the rest of zcnas needs to know
about it, so no caller ever tests a space by its name: ``default_dataset`` (and the datasets it
has ground truth for), the default ranker (``default_proxies``, ``default_aggregate``), the
``training_recipe`` of its benchmark, and the ``network_protocols`` its networks implement
(:mod:`zcnas.protocols`).

Adding a space is one module with a ``@register_space`` class (and its network module); see the
README's "Adding a search space".
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zcnas.arch import Architecture
from zcnas.errors import InputError, UnknownNameError, check_int
from zcnas.graph import CellGraph, as_graphs, graph_feature_names, graph_features

if TYPE_CHECKING:  # pragma: no cover
    import torch.nn as nn

#: longest part of a user's input echoed in an error message
ECHO_LIMIT = 120


def echo(text: object, limit: int = ECHO_LIMIT) -> str:
    """``repr`` of ``text`` cut to ``limit`` characters, for error messages."""
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 20] + f"...<{len(r)} chars>"


@dataclass(frozen=True)
class TrainingRecipe:
    """How a space's benchmark trains its networks (used by short-training confirmation).

    ``schedule`` is ``"cosine"`` (per step, to 0) or ``"constant"``; ``augment`` is
    ``"crop_flip"`` (random crop with ``crop_padding`` zero padding and a horizontal flip) or
    ``"none"``; ``grad_clip`` clips the gradient norm when set. ``optimizer`` is ``"sgd"`` or
    ``"rmsprop"`` (NB101: RMSProp with ``eps`` 1.0). ``source`` cites the recipe.
    """

    optimizer: str = "sgd"
    eps: float = 1e-8
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    batch_size: int = 256
    epochs: int = 12
    schedule: str = "cosine"
    augment: str = "crop_flip"
    crop_padding: int = 4
    grad_clip: float | None = None
    label_smoothing: float = 0.0
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: per-task structural rankers of the multi-task spaces (TNB101 micro and macro x 7 tasks), chosen with
#: mean_log_rank on half of each task's architectures by experiments/structural_rankers.py; held-out
#: Spearman 0.73-0.92 per task (experiments/results/structural_rankers/summary.md). Each is the task's
#: default ranker (``space.default_ranker(task)``) and a named proxy set ``@zcnas_tnb101_micro_jigsaw_graph``.
TASK_RANKERS = Path(__file__).with_name("task_rankers.json")


def ranker_set_name(key: str) -> str:
    """Name of the structural ranker set chosen for a space (``nb101``) or a space/task
    (``tnb101_micro/jigsaw``) by experiments/structural_rankers.py: ``zcnas_<key>_graph``."""
    return "zcnas_" + key.replace("/", "_") + "_graph"


@lru_cache(maxsize=1)
def task_rankers() -> dict[str, tuple[str, ...]]:
    """``{"space/task": (graph features...)}`` from :data:`TASK_RANKERS`."""
    return {key: tuple(proxies) for key, proxies in json.loads(TASK_RANKERS.read_text()).items()}


class SearchSpace(ABC):
    """Base class of cell search spaces. Subclasses are registered with ``@register_space``."""

    name: str = ""
    #: encodings accepted by :meth:`encode`
    encodings: tuple[str, ...] = ()
    #: the dataset (or task) a network is built for when none is given
    default_dataset: str = "cifar10"
    #: datasets / tasks with ground truth in the space's benchmark
    datasets: tuple[str, ...] = ()
    #: tasks of a multi-task space (TNB101): each builds its own head at its own input shape
    #: (``build(..., task=)``); empty for single-task spaces
    tasks: tuple[str, ...] = ()
    #: the best training-free ranker measured on this space: proxies (or a named set) and aggregate
    default_proxies: str = "@core"
    default_aggregate: str | None = "mean_log_rank"
    #: why that is the default (shown in ``--help`` and ``zcnas list spaces``)
    default_ranker_note: str = ""
    #: the benchmark's training recipe (None: the space has no recipe for short training)
    training_recipe: TrainingRecipe | None = None
    #: protocols of :mod:`zcnas.protocols` that :meth:`build`'s networks implement
    network_protocols: tuple[str, ...] = ()
    #: importer (``zcnas.records.importers``) that reads the space's benchmark table, its options,
    #: and the (short-training, outcome) metric pair a benchmark confirmation uses
    truth_importer: str | None = None
    truth_importer_options: dict[str, Any] = {}
    confirm_metrics: tuple[str, str | None] | None = None

    # ---- strings ---------------------------------------------------------------------------------
    @abstractmethod
    def parse(self, text: str) -> Architecture:
        """Parse the space's string forms; raise :class:`InputError` naming the bad part."""

    @abstractmethod
    def format(self, arch: Architecture) -> str:
        """The space's own string of ``arch`` (the key of its rows in a record store)."""

    @abstractmethod
    def validate(self, arch: Architecture) -> Architecture:
        """``arch`` checked against the space's rules (and normalised where the space prunes, as
        NB101 does); raise :class:`InputError` with one line naming the bad part."""

    def parse_json(self, obj: Any) -> Architecture:
        """An architecture from a decoded JSON value: a string form, or the space's object form."""
        if isinstance(obj, str):
            return self.parse(obj)
        raise InputError(f"A {self.name} architecture in JSON must be a string; got {type(obj).__name__} "
                         f"{echo(obj)}.")

    def to_json(self, arch: Architecture) -> Any:
        """A JSON-serialisable form that :meth:`parse_json` reads back (default: the string)."""
        return self.format(self.coerce(arch))

    def coerce(self, arch: Architecture | str) -> Architecture:
        """Accept an :class:`Architecture` of this space or one of its string forms."""
        if isinstance(arch, Architecture):
            if arch.space != self.name:
                raise InputError(
                    f"Architecture belongs to space {arch.space!r}, not {self.name!r}; "
                    f"use zcnas.get_space({arch.space!r})."
                )
            return arch
        if isinstance(arch, str):
            return self.parse(arch)
        if isinstance(arch, dict):
            return self.parse_json(arch)
        raise InputError(f"Expected an Architecture or a {self.name} string, got {type(arch).__name__}.")

    def key(self, arch: Architecture | str) -> str:
        """The record-store key of ``arch``: the space's own string."""
        return self.format(self.coerce(arch))

    # ---- search moves ----------------------------------------------------------------------------
    @abstractmethod
    def sample(self, n: int, rng: int | np.random.Generator | None = 0, *, replace: bool = False,
               seed: int | None = None) -> list[Architecture]:
        """``n`` architectures drawn with a seeded generator (an int seed or a
        ``numpy.random.Generator``; never the global RNG)."""

    @abstractmethod
    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every architecture one edit away (the space's own mutation move), in a fixed order."""

    def mutate(self, arch: Architecture | str, rng: int | np.random.Generator = 0, *,
               seed: int | None = None) -> Architecture:
        """One random neighbour of ``arch``."""
        g = _rng(rng if seed is None else seed)
        nbrs = self.neighbours(self.coerce(arch))
        if not nbrs:
            raise InputError(f"{self.format(self.coerce(arch))} has no neighbour in {self.name}.")
        return nbrs[int(g.integers(len(nbrs)))]

    # ---- function classes, features --------------------------------------------------------------
    @abstractmethod
    def canonical(self, arch: Architecture) -> str:
        """A key shared by functionally identical architectures (used by ``--dedupe``)."""

    @abstractmethod
    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
        """A fixed-length float vector for learning; ``kind`` is one of :attr:`encodings`."""

    @abstractmethod
    def cell_graph(self, arch: Architecture) -> CellGraph | tuple[CellGraph, ...]:
        """The labelled cell DAG (or one per cell, named) of ``arch``."""

    def graph_features(self, arch: Architecture | str) -> np.ndarray:
        """GRAF-style features of :meth:`cell_graph` (:func:`zcnas.graph.graph_features`)."""
        return graph_features(self.cell_graph(self.coerce(arch)))

    def graph_feature_names(self) -> tuple[str, ...]:
        return graph_feature_names(self.cell_graph(self.example()))

    def example(self) -> Architecture:
        """One fixed architecture of the space (feature sizes and names are read off it)."""
        return self.sample(1, 0)[0]

    def encode_many(self, archs: Sequence[Architecture | str], kind: str = "onehot") -> np.ndarray:
        if not archs:
            return np.zeros((0, len(self.encode(self.example(), kind))), dtype=np.float32)
        return np.stack([self.encode(self.coerce(a), kind) for a in archs])

    def check_encoding(self, kind: str) -> str:
        if kind not in self.encodings:
            raise UnknownNameError(f"{self.name} encoding", kind, self.encodings)
        return kind

    # ---- networks --------------------------------------------------------------------------------
    #: (C, H, W) of the benchmark's inputs per dataset / task; others get ``default_input_shape``
    input_shapes: dict[str, tuple[int, int, int]] = {}
    default_input_shape: tuple[int, int, int] = (3, 32, 32)

    def input_shape(self, dataset: str | None = None) -> tuple[int, int, int]:
        """The input shape the space's benchmark uses for ``dataset`` (a batch's own shape wins
        when images are loaded)."""
        return self.input_shapes.get(dataset or self.default_dataset, self.default_input_shape)

    def cost_terms(self, arch: Architecture) -> dict[Any, int] | None:
        """The network's parameter and FLOP counts as a sum over these terms, if they are one.

        Keys are hashable (e.g. ``(edge, op)``), values how often the term occurs; the counts are
        then ``base + sum(count * unit[key])``, with ``base`` and ``unit`` fitted once from a few
        networks and checked exactly on others (:mod:`zcnas.spaces.analytic`). ``None`` (the
        default): the counts are not additive and come from the built network."""
        return None

    @abstractmethod
    def build(self, arch: Architecture, *, num_classes: int = 10,
              input_shape: tuple[int, ...] = (3, 32, 32), **options: Any) -> nn.Module:
        """A freshly initialised torch network for ``arch`` (only the chosen operations built),
        for inputs of ``input_shape`` (C, H, W) and ``num_classes`` outputs."""

    def default_ranker(self, task: str | None = None) -> str:
        """Proxies (or a ``@set``) of the best measured training-free ranker of the space for
        ``task``; single-task spaces have one, ``default_proxies``."""
        return self.default_proxies

    def describe(self) -> dict[str, Any]:
        """What ``zcnas list spaces`` shows."""
        return {"space": self.name, "enumerable": isinstance(self, EnumerableSpace),
                "size": len(self) if isinstance(self, EnumerableSpace) else None,
                "encodings": ",".join(self.encodings), "default_dataset": self.default_dataset,
                "default_ranker": f"{self.default_ranker()} ({self.default_aggregate or 'single'})",
                "protocols": ",".join(self.network_protocols)}


class EnumerableSpace(SearchSpace):
    """A space small enough to list: ``len``, ``enumerate``, ``index`` and ``at``.

    Sampling defaults to uniform over the index.
    """

    @abstractmethod
    def __len__(self) -> int:
        """Number of architectures (strings) in the space."""

    @abstractmethod
    def enumerate(self) -> Iterator[Architecture]:
        """Every architecture, in index order."""

    @abstractmethod
    def index(self, arch: Architecture) -> int:
        """Index of ``arch`` (zcnas's own order; benchmark tables are keyed by string)."""

    @abstractmethod
    def at(self, index: int) -> Architecture:
        """Architecture at ``index``."""

    def sample(self, n: int, rng: int | np.random.Generator | None = 0, *, replace: bool = False,
               seed: int | None = None) -> list[Architecture]:
        check_int("n", n, f"{type(self).__name__}.sample", minimum=1)
        if not replace and n > len(self):
            raise InputError(f"Cannot sample {n} distinct architectures from a space of {len(self)}; "
                             f"use n <= {len(self)} or replace=True.")
        g = _rng(rng if seed is None else seed)
        idx = g.choice(len(self), size=n, replace=replace)
        return [self.at(int(i)) for i in idx]

    def example(self) -> Architecture:
        return self.at(0)


def _rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        rng = 0
    check_int("seed", rng, "sampling", minimum=0)
    return np.random.default_rng(rng)


def graphs_of(space: SearchSpace, arch: Architecture) -> tuple[CellGraph, ...]:
    return as_graphs(space.cell_graph(arch))


def dumps(obj: Any) -> str:
    """Compact, key-sorted JSON (the form spaces use inside strings)."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)
