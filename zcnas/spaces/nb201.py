"""NAS-Bench-201 (Dong & Yang, ICLR 2020): a 4-node cell, 6 edges, 5 operations, 15,625 strings.

String form: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``; group ``j`` (1..3) lists the edges into node
``j`` from nodes ``0..j-1``. ``Architecture.spec`` holds the six operations in that order.

Indices are zcnas's own: the position in ``itertools.product(OPS, repeat=6)`` over the string
order. Benchmark tables use their own index; records are keyed by the string, never by an index.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import cache

import numpy as np

from zcnas.arch import Architecture
from zcnas.errors import InputError, UnknownNameError, check_int
from zcnas.graph import CellGraph, path_encoding
from zcnas.spaces import register_space
from zcnas.spaces.base import EnumerableSpace, TrainingRecipe, echo

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (from_node, to_node) of each position of ``Architecture.ops``
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
#: the four input->output paths, as tuples of edge positions
PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
#: NASLib's numbering of the NB201 operations (its op-index tuples, as in NAS-Bench-Suite-Zero)
NASLIB_OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
_TUPLE_RE = re.compile(r"^\s*[\(\[]\s*(\d)\s*,\s*(\d)\s*,\s*(\d)\s*,\s*(\d)\s*,\s*(\d)\s*,\s*(\d)\s*[\)\]]\s*$")
#: short names of the operations (graph feature names)
SHORT: tuple[str, ...] = ("none", "skip", "c1", "c3", "pool")
CONVS = frozenset({"nor_conv_1x1", "nor_conv_3x3"})

#: NB201's training recipe (Dong & Yang, ICLR 2020, Table/Sec. 2.3; xautodl's config)
RECIPE = TrainingRecipe(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4, batch_size=256, epochs=12,
                        schedule="cosine", augment="crop_flip", crop_padding=4,
                        source="NAS-Bench-201 (Dong & Yang, ICLR 2020): SGD Nesterov 0.9, lr 0.1 cosine to 0, "
                               "wd 5e-4, batch 256, crop+flip; 12 or 200 epochs")


@register_space("nb201", aliases=("nasbench201", "nas-bench-201", "nats-tss"),
                description="NAS-Bench-201 / NATS-Bench topology space: 15,625 cells", default=True)
class NB201Space(EnumerableSpace):
    """The NAS-Bench-201 cell search space."""

    ops = OPS
    edges = EDGES
    encodings = ("onehot", "adjacency", "path")
    n_edges = 6
    default_dataset = "cifar10"
    datasets = ("cifar10", "cifar100", "imagenet16-120")
    default_proxies = "@zcnas_nb201"
    default_aggregate = "mean_log_rank"
    default_ranker_note = ("@zcnas_nb201 with mean_log_rank: Spearman 0.957 (C10) / 0.949 (C100) with 200-epoch "
                           "accuracy over all 15,625; 0.940 / 0.926 on held-out function classes "
                           "(experiments/results/proxy_family/)")
    training_recipe = RECIPE
    network_protocols = ("thin_copy", "block_trunk")
    truth_importer = "nb201-merged"
    truth_importer_options = {"scores": False, "hw": False}
    confirm_metrics = ("c10_test_12ep", "c10_test_200ep")
    input_shapes = {"imagenet16-120": (3, 16, 16), "ImageNet16-120": (3, 16, 16)}

    # ---- strings ---------------------------------------------------------------------------------
    def parse(self, text: str) -> Architecture:
        """The official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``, or NASLib's op-index tuple
        ``(e12, e13, e14, e23, e24, e34)`` (:meth:`parse_naslib`)."""
        if not isinstance(text, str):
            raise InputError(f"An NB201 architecture string must be a str, got {type(text).__name__}.")
        s = text.strip()
        if s[:1] in "([" and _TUPLE_RE.match(s):
            return self.parse_naslib(s)
        groups = s.split("+")
        if len(groups) != 3:
            raise InputError(
                f"Malformed NB201 string {echo(text)}: expected 3 groups joined by '+' "
                f"like '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|...|...|', got {len(groups)}."
            )
        ops: list[str] = []
        for node, group in enumerate(groups, start=1):
            if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
                raise InputError(f"Malformed NB201 string {echo(text)}: group {node} {echo(group, 60)} must start and "
                                 f"end with '|'.")
            tokens = group[1:-1].split("|")
            if len(tokens) != node:
                raise InputError(
                    f"Malformed NB201 string {echo(text)}: group {node} {echo(group, 60)} must have {node} edge(s), "
                    f"got {len(tokens)}."
                )
            for src, tok in enumerate(tokens):
                op, sep, inp = tok.partition("~")
                if not sep or inp != str(src):
                    raise InputError(
                        f"Malformed NB201 string {echo(text)}: bad token {echo(tok, 60)} in group {node}; "
                        f"expected '<op>~{src}'."
                    )
                if op not in OPS:
                    err = UnknownNameError("NB201 operation", op, OPS)
                    raise InputError(f"Malformed NB201 string {echo(text)}: bad token {echo(tok, 60)}. {err}")
                ops.append(op)
        return Architecture(self.name, tuple(ops))

    def parse_naslib(self, text: str | tuple[int, ...] | list[int]) -> Architecture:
        """NASLib's op tuple ``(e12, e13, e14, e23, e24, e34)``: ops numbered 0=skip_connect 1=none
        2=nor_conv_3x3 3=nor_conv_1x1 4=avg_pool_3x3, edges listed by source node, so the string
        order is ``(e12 | e13 e23 | e14 e24 e34)``."""
        if isinstance(text, str):
            m = _TUPLE_RE.match(text)
            if not m:
                raise InputError(f"Malformed NASLib NB201 op tuple {echo(text)}: expected six op indices like "
                                 f"'(4, 3, 3, 0, 0, 0)'.")
            t = [int(g) for g in m.groups()]
        else:
            t = [int(v) for v in text]
            if len(t) != 6:
                raise InputError(f"A NASLib NB201 op tuple has 6 entries, got {len(t)}: {echo(text)}.")
        if any(not 0 <= v < len(NASLIB_OPS) for v in t):
            raise InputError(f"NASLib NB201 op tuple {echo(text)} has an op index outside 0..4.")
        order = (0, 1, 3, 2, 4, 5)
        return Architecture(self.name, tuple(NASLIB_OPS[t[i]] for i in order))

    def format(self, arch: Architecture) -> str:
        o = self._ops(arch)
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

    def validate(self, arch: Architecture | str) -> Architecture:
        a = self.coerce(arch)
        self._ops(a)
        return a

    def _ops(self, arch: Architecture | str) -> tuple[str, ...]:
        a = self.coerce(arch)
        ops = a.spec
        if not isinstance(ops, tuple) or len(ops) != 6 or any(op not in OPS for op in ops):
            raise InputError(f"Not an NB201 architecture: ops {echo(ops)}; expected 6 of {OPS}.")
        return ops

    # ---- enumeration -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(OPS) ** 6

    def enumerate(self) -> Iterator[Architecture]:
        for ops in itertools.product(OPS, repeat=6):
            yield Architecture(self.name, ops)

    def at(self, index: int) -> Architecture:
        check_int("index", index, "NB201Space.at", minimum=0)
        if index >= len(self):
            raise InputError(f"NB201 index must be in [0, {len(self) - 1}], got {index}.")
        ops = []
        for _ in range(6):
            index, r = divmod(index, len(OPS))
            ops.append(OPS[r])
        return Architecture(self.name, tuple(reversed(ops)))

    def index(self, arch: Architecture | str) -> int:
        i = 0
        for op in self._ops(arch):
            i = i * len(OPS) + OPS.index(op)
        return i

    def neighbours(self, arch: Architecture | str) -> list[Architecture]:
        ops = self._ops(arch)
        out = []
        for pos in range(6):
            for op in OPS:
                if op != ops[pos]:
                    out.append(Architecture(self.name, ops[:pos] + (op,) + ops[pos + 1:]))
        return out

    # ---- function classes ------------------------------------------------------------------------
    def canonical(self, arch: Architecture | str) -> str:
        """Symbolic form of the cell's function, shared by functionally identical cells.

        Each node is the sorted sum of its inputs; ``skip_connect`` passes its input through,
        other operations wrap it as ``(x)@op``, and ``none`` (or an input cut off by ``none``)
        is a zero term ``#``. Equal strings mean the same function for any parameter values
        (isomorphic cells, and cells whose branches are cut off by ``none``). This is exactly the
        NATS-Bench "unique string" and gives its 6,466 classes over the 15,625 strings.
        """
        return _canonical(self._ops(arch))

    # ---- encodings -------------------------------------------------------------------------------
    def cell_graph(self, arch: Architecture | str) -> CellGraph:
        """Nodes 0 (input) .. 3 (output), one operation per edge in string order."""
        ops = self._ops(arch)
        return _graph(ops)

    def encode(self, arch: Architecture | str, kind: str = "onehot") -> np.ndarray:
        """Encodings for learning.

        - ``onehot``: 6 edges x 5 operations (30 values).
        - ``adjacency``: the operation-on-node graph (input, 6 operation nodes, output) with ``none``
          nodes removed; upper triangle of the 8x8 adjacency (28) followed by the operation one-hot
          of the 6 operation nodes (6 x 5), 58 values.
        - ``path``: counts of input-to-output paths per operation sequence (BANANAS, White et al.
          2021), paths through ``none`` dropped; 4 + 16 + 64 = 84 values.
        """
        ops = self._ops(arch)
        if kind == "onehot":
            v = np.zeros((6, len(OPS)), dtype=np.float32)
            for e, op in enumerate(ops):
                v[e, OPS.index(op)] = 1.0
            return v.ravel()
        if kind == "adjacency":
            return _adjacency(ops)
        if kind == "path":
            return path_encoding(_graph(ops), lengths=(1, 2, 3))
        raise UnknownNameError("NB201 encoding", kind, self.encodings)

    # ---- networks --------------------------------------------------------------------------------
    def cost_terms(self, arch: Architecture | str) -> dict[tuple[int, str], int]:
        """Every cell runs each non-``none`` edge's operation once: the counts add up per (edge, op)."""
        return {(e, op): 1 for e, op in enumerate(self._ops(arch)) if op != "none"}

    def build(self, arch: Architecture | str, *, num_classes: int = 10,
              input_shape: tuple[int, ...] = (3, 32, 32), channels: int = 16, cells_per_stage: int = 5):
        """The standard NB201 network for ``arch``: stem, 3 stages of ``cells_per_stage`` cells
        (``channels``, x2, x4) joined by residual reduction blocks, BN-ReLU, pooling, classifier.
        Only the chosen operations are built (``none`` edges have no module). The network is
        fully convolutional up to a global pool, so any ``input_shape`` (C, H, W) with H, W >= 4
        works (32x32 for CIFAR, 16x16 for ImageNet16-120)."""
        from zcnas.spaces.nb201_net import NB201Network

        check_int("num_classes", num_classes, "NB201Space.build", minimum=1)
        _check_shape(input_shape, "NB201Space.build")
        return NB201Network(self._ops(arch), EDGES, num_classes=num_classes, channels=channels,
                            cells_per_stage=cells_per_stage, in_channels=int(input_shape[0]))


@cache
def _graph(ops: tuple[str, ...]) -> CellGraph:
    return CellGraph(n_nodes=4, edges=tuple((s, d, op) for (s, d), op in zip(EDGES, ops)),
                     node_labels=(None,) * 4, inputs=(0,), output=3, vocab=OPS, short=SHORT,
                     zero_ops=frozenset({"none"}), weighted_ops=CONVS, max_nodes=4)


def _check_shape(shape: tuple[int, ...], owner: str) -> None:
    ok = (isinstance(shape, tuple | list) and len(shape) == 3
          and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape))
    if not ok:
        raise InputError(f"The 'input_shape' parameter of {owner} must be (channels, height, width) of "
                         f"positive ints. Got {shape!r} instead.")


@cache
def _canonical(ops: tuple[str, ...]) -> str:
    # NATS-Bench's ``CellStructure.to_unique_str(consider_zero=True)``: zero inputs are kept as
    # '#' terms, because an operation applied to a zero input is not zero after training (a
    # convolution's batch-norm bias), so only provably identical cells share a string.
    nodes = {0: "0"}
    for j in (1, 2, 3):
        terms = []
        for e, (src, dst) in enumerate(EDGES):
            if dst != j:
                continue
            x, op = nodes[src], ops[e]
            if op == "none" or x == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(x)
            else:
                terms.append(f"({x})@{op}")
        nodes[j] = "+".join(sorted(terms))
    return nodes[3]


def _adjacency(ops: tuple[str, ...]) -> np.ndarray:
    n = 8  # 0 = input, 1..6 = edge-operation nodes, 7 = output
    adj = np.zeros((n, n), dtype=np.float32)
    alive = [op != "none" for op in ops]
    for e, (src, dst) in enumerate(EDGES):
        if not alive[e]:
            continue
        if src == 0:
            adj[0, e + 1] = 1
        else:  # fed by every live operation entering node ``src``
            for f, (_, d2) in enumerate(EDGES):
                if d2 == src and alive[f]:
                    adj[f + 1, e + 1] = 1
        if dst == 3:
            adj[e + 1, 7] = 1
    onehot = np.zeros((6, len(OPS)), dtype=np.float32)
    for e, op in enumerate(ops):
        onehot[e, OPS.index(op)] = 1.0
    return np.concatenate([adj[np.triu_indices(n, 1)], onehot.ravel()])
