"""The labelled cell DAG every space exposes (``space.cell_graph(arch)``), and the generic features
read from it: GRAF-style graph features and the BANANAS path encoding. Plain Python and numpy.

A :class:`CellGraph` carries operations on edges (NB201, DARTS, TNB101-micro: one operation per
edge, nodes sum their inputs) or on nodes (NB101: a node applies its operation to the sum of its
inputs), or both. A label in ``zero_ops`` (``"none"``) means "no connection": such an edge or
node is kept in the graph (it is part of the architecture and of its operation counts) but no path
runs through it. An edge labelled ``None`` is a plain connection (DARTS' concatenation edges,
NB101's edges).

The *operation of an edge* for degree counts is its label, else the label of the node at its far
end (the source when counting in-degrees, the destination when counting out-degrees), so node-
and edge-labelled spaces read alike: "how many 3x3 convolutions feed the output".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from zcnas.errors import InputError

#: a space with more live operations than this gets subsets of sizes 1, 2 and all (not every subset)
MAX_FULL_SUBSET_OPS = 5


@dataclass(frozen=True)
class CellGraph:
    """One cell as a labelled DAG with nodes ``0 .. n_nodes - 1`` in topological order.

    ``edges`` are ``(src, dst, label)`` in the space's fixed edge order; ``node_labels[i]`` is the
    operation at node ``i`` (``None`` for plain sum/concat nodes, inputs and the output);
    ``inputs`` and ``output`` name the cell's input nodes and its output node; ``vocab`` lists
    every operation label of the space (zero operation included) and ``short`` their short names
    for feature names; ``weighted_ops`` are the labels with parameters (convolutions);
    ``max_nodes`` is the number of nodes of the largest cell of the space (positional features
    are padded to it); ``name`` prefixes feature names when a space has several cells.
    """

    n_nodes: int
    edges: tuple[tuple[int, int, str | None], ...]
    node_labels: tuple[str | None, ...]
    inputs: tuple[int, ...]
    output: int
    vocab: tuple[str, ...]
    short: tuple[str, ...] = ()
    zero_ops: frozenset[str] = frozenset({"none"})
    weighted_ops: frozenset[str] = frozenset()
    max_nodes: int = 0
    name: str = ""
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if len(self.node_labels) != self.n_nodes:
            raise InputError(f"CellGraph: {len(self.node_labels)} node labels for {self.n_nodes} nodes.")
        for s, d, _ in self.edges:
            if not (0 <= s < d < self.n_nodes):
                raise InputError(f"CellGraph: edge {s}->{d} is not forward within {self.n_nodes} nodes.")
        labels = {lab for *_, lab in self.edges if lab is not None} | {x for x in self.node_labels if x is not None}
        unknown = labels - set(self.vocab)
        if unknown:
            raise InputError(f"CellGraph: labels {sorted(unknown)} are not in the vocabulary {list(self.vocab)}.")
        if not self.short:
            object.__setattr__(self, "short", tuple(self.vocab))
        if len(self.short) != len(self.vocab):
            raise InputError("CellGraph: 'short' must give one short name per vocabulary label.")
        object.__setattr__(self, "max_nodes", max(self.max_nodes, self.n_nodes))
        object.__setattr__(self, "zero_ops", frozenset(self.zero_ops))
        object.__setattr__(self, "weighted_ops", frozenset(self.weighted_ops))

    # ---- structure -------------------------------------------------------------------------------
    @property
    def live_vocab(self) -> tuple[str, ...]:
        return tuple(v for v in self.vocab if v not in self.zero_ops)

    def _edge_live(self, i: int) -> bool:
        s, d, lab = self.edges[i]
        return (lab not in self.zero_ops) and self._node_live(d) and self._node_live(s)

    def _node_live(self, n: int) -> bool:
        return self.node_labels[n] not in self.zero_ops

    @cached_property
    def live_paths(self) -> tuple[tuple[tuple[str, int], ...], ...]:
        """Every input->output path over live edges, as elements ``("e", edge_index)`` and
        ``("n", node_index)`` for the labelled edges and intermediate nodes it passes."""
        out_edges: dict[int, list[int]] = {}
        for i, (s, _, _) in enumerate(self.edges):
            if self._edge_live(i):
                out_edges.setdefault(s, []).append(i)
        paths: list[tuple[tuple[str, int], ...]] = []

        def walk(node: int, acc: tuple[tuple[str, int], ...]) -> None:
            if node == self.output:
                paths.append(acc)
                return
            for i in out_edges.get(node, ()):
                d = self.edges[i][1]
                step = acc + ((("e", i),) if self.edges[i][2] is not None else ())
                if d != self.output and self.node_labels[d] is not None:
                    step = step + (("n", d),)
                walk(d, step)

        for src in self.inputs:
            walk(src, ())
        return tuple(paths)

    def label_of(self, element: tuple[str, int]) -> str:
        kind, i = element
        return self.edges[i][2] if kind == "e" else self.node_labels[i]  # type: ignore[return-value]

    def path_labels(self) -> list[tuple[str, ...]]:
        """Operation sequence of every live input->output path."""
        return [tuple(self.label_of(e) for e in p) for p in self.live_paths]

    def _edge_op(self, i: int, end: str) -> str | None:
        s, d, lab = self.edges[i]
        if lab is not None:
            return lab
        return self.node_labels[s if end == "src" else d]

    @property
    def intermediates(self) -> tuple[int, ...]:
        """Positions of the intermediate nodes, padded to ``max_nodes``."""
        return tuple(range(len(self.inputs), self.max_nodes - 1))

    def _pos(self, node: int) -> int:
        """Positional index of ``node``: the output is always ``max_nodes - 1``."""
        return self.max_nodes - 1 if node == self.output else node


def as_graphs(g: CellGraph | Sequence[CellGraph]) -> tuple[CellGraph, ...]:
    """A space's ``cell_graph`` returns one graph or one per cell (DARTS: normal, reduce)."""
    return (g,) if isinstance(g, CellGraph) else tuple(g)


def _subsets(live: Sequence[str]) -> list[tuple[str, ...]]:
    n = len(live)
    sizes: Iterable[int] = range(1, n + 1) if n <= MAX_FULL_SUBSET_OPS else sorted({1, 2, n})
    return [s for k in sizes for s in itertools.combinations(live, k)]


def graph_feature_names(g: CellGraph | Sequence[CellGraph]) -> tuple[str, ...]:
    """Names of :func:`graph_features`, in the same order (fixed for a space)."""
    out: list[str] = []
    for cell in as_graphs(g):
        pre = f"{cell.name}:" if cell.name else ""
        short = dict(zip(cell.vocab, cell.short))
        live = cell.live_vocab
        names = [f"count_{short[o]}" for o in cell.vocab]
        names += [f"eff_count_{short[o]}" for o in live]
        for s in _subsets(live):
            tag = "+".join(short[o] for o in s)
            names += [f"paths[{tag}]", f"minlen[{tag}]", f"maxlen[{tag}]", f"maxon[{tag}]",
                      f"out_indeg[{tag}]", f"in_outdeg[{tag}]"]
            names += [f"{d}_{n}[{tag}]" for n in cell.intermediates for d in ("indeg", "outdeg")]
        names += [f"indeg_{n}" for n in (*cell.intermediates, cell.max_nodes - 1)]
        names += [f"outdeg_{n}" for n in (*range(len(cell.inputs)), *cell.intermediates)]
        names += ["reachable", "depth", "conv_depth", "n_live_paths"]
        out += [pre + n for n in names]
    return tuple(out)


def graph_features(g: CellGraph | Sequence[CellGraph]) -> np.ndarray:
    """GRAF-style features (Kadlecova et al., ICML 2024) of a cell graph (or several), float64.

    Per cell: operation counts (all elements, and those on some live input->output path); for
    every subset S of the live operations (every subset up to five operations, else sizes 1, 2
    and all): the number of input->output paths using only S, their shortest (``max_nodes`` when
    there is none) and longest length, the most S operations on one live path, the S operations
    feeding the output and fed by the inputs, and per intermediate node the S operations in and
    out; the live in- and out-degree of each node; reachability, depth, the most weighted
    operations on one path, and the number of live paths.
    """
    parts = [_cell_features(c) for c in as_graphs(g)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _cell_features(c: CellGraph) -> np.ndarray:
    key = "graf"
    if key in c._cache:
        return c._cache[key]
    elements = [("e", i) for i, e in enumerate(c.edges) if e[2] is not None]
    elements += [("n", i) for i, lab in enumerate(c.node_labels) if lab is not None]
    labels = [c.label_of(e) for e in elements]
    f: list[float] = [float(labels.count(o)) for o in c.vocab]
    paths = c.live_paths
    seqs = c.path_labels()
    on_path = {e for p in paths for e in p}
    f += [float(sum(1 for e in on_path if c.label_of(e) == o)) for o in c.live_vocab]
    no_path = float(c.max_nodes)
    n_edges = len(c.edges)
    in_op = [c._edge_op(i, "src") for i in range(n_edges)]
    out_op = [c._edge_op(i, "dst") for i in range(n_edges)]
    dst_pos = [c._pos(c.edges[i][1]) for i in range(n_edges)]
    src_pos = [c._pos(c.edges[i][0]) for i in range(n_edges)]
    out_pos = c.max_nodes - 1
    for s in _subsets(c.live_vocab):
        ss = set(s)
        lens = [len(q) for q in seqs if all(x in ss for x in q)]
        f += [float(len(lens)), float(min(lens)) if lens else no_path, float(max(lens)) if lens else 0.0,
              float(max((sum(x in ss for x in q) for q in seqs), default=0)),
              float(sum(in_op[i] in ss for i in range(n_edges) if dst_pos[i] == out_pos)),
              float(sum(out_op[i] in ss for i in range(n_edges) if c.edges[i][0] in c.inputs))]
        for n in c.intermediates:
            f += [float(sum(in_op[i] in ss for i in range(n_edges) if dst_pos[i] == n)),
                  float(sum(out_op[i] in ss for i in range(n_edges) if src_pos[i] == n))]
    live = [c._edge_live(i) for i in range(n_edges)]
    f += [float(sum(live[i] for i in range(n_edges) if dst_pos[i] == n)) for n in (*c.intermediates, out_pos)]
    f += [float(sum(live[i] for i in range(n_edges) if src_pos[i] == n))
          for n in (*range(len(c.inputs)), *c.intermediates)]
    depth = max((len(q) for q in seqs), default=0)
    conv_depth = max((sum(x in c.weighted_ops for x in q) for q in seqs), default=0)
    f += [float(bool(paths)), float(depth), float(conv_depth), float(len(paths))]
    out = np.asarray(f, dtype=np.float64)
    c._cache[key] = out
    return out


def path_encoding_size(live_ops: int, lengths: Iterable[int]) -> int:
    return sum(live_ops ** n for n in lengths)


def path_encoding(g: CellGraph | Sequence[CellGraph], lengths: Iterable[int] | None = None) -> np.ndarray:
    """BANANAS path encoding (White et al., AAAI 2021): for every operation sequence of a length in
    ``lengths`` (default 1 .. ``max_nodes - 1``), the number of live input->output paths with that
    sequence; sequences ordered by length, then as ``itertools.product`` over the live vocabulary.
    Paths longer than the largest length are not counted (BANANAS' truncation)."""
    parts = []
    for c in as_graphs(g):
        lens = tuple(lengths) if lengths is not None else tuple(range(1, c.max_nodes))
        live = c.live_vocab
        idx = {o: i for i, o in enumerate(live)}
        offsets, off = {}, 0
        for n in lens:
            offsets[n] = off
            off += len(live) ** n
        v = np.zeros(off, dtype=np.float32)
        for q in c.path_labels():
            if len(q) not in offsets:
                continue
            k = 0
            for x in q:
                k = k * len(live) + idx[x]
            v[offsets[len(q)] + k] += 1.0
        parts.append(v)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
