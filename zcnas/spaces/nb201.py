"""NAS-Bench-201 (Dong & Yang, ICLR 2020): a 4-node cell, 6 edges, 5 operations, 15,625 strings.

String form: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``; group ``j`` (1..3) lists the edges into node
``j`` from nodes ``0..j-1``. ``Architecture.ops`` holds the six operations in that order.

Indices are zcnas's own: the position in ``itertools.product(OPS, repeat=6)`` over the string
order. Benchmark tables use their own index; records are keyed by the string, never by an index.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache

import numpy as np

from zcnas.arch import Architecture
from zcnas.errors import InputError, UnknownNameError, check_int
from zcnas.spaces import register_space
from zcnas.spaces.base import SearchSpace

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (from_node, to_node) of each position of ``Architecture.ops``
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
#: the four input->output paths, as tuples of edge positions
PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
_PARAM_OPS = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")  # non-zero ops
_PATH_INDEX = {
    seq: i
    for i, seq in enumerate(
        s for n in (1, 2, 3) for s in itertools.product(_PARAM_OPS, repeat=n)
    )
}


@register_space("nb201", aliases=("nasbench201", "nas-bench-201", "nats-tss"),
                description="NAS-Bench-201 / NATS-Bench topology space: 15,625 cells")
class NB201Space(SearchSpace):
    """The NAS-Bench-201 cell search space."""

    ops = OPS
    edges = EDGES
    encodings = ("onehot", "adjacency", "path")
    n_edges = 6

    # ---- strings ---------------------------------------------------------------------------------
    def parse(self, text: str) -> Architecture:
        if not isinstance(text, str):
            raise InputError(f"An NB201 architecture string must be a str, got {type(text).__name__}.")
        s = text.strip()
        groups = s.split("+")
        if len(groups) != 3:
            raise InputError(
                f"Malformed NB201 string {text!r}: expected 3 groups joined by '+' "
                f"like '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|...|...|', got {len(groups)}."
            )
        ops: list[str] = []
        for node, group in enumerate(groups, start=1):
            if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
                raise InputError(f"Malformed NB201 string {text!r}: group {node} {group!r} must start and "
                                 f"end with '|'.")
            tokens = group[1:-1].split("|")
            if len(tokens) != node:
                raise InputError(
                    f"Malformed NB201 string {text!r}: group {node} {group!r} must have {node} edge(s), "
                    f"got {len(tokens)}."
                )
            for src, tok in enumerate(tokens):
                op, sep, inp = tok.partition("~")
                if not sep or inp != str(src):
                    raise InputError(
                        f"Malformed NB201 string {text!r}: bad token {tok!r} in group {node}; "
                        f"expected '<op>~{src}'."
                    )
                if op not in OPS:
                    err = UnknownNameError("NB201 operation", op, OPS)
                    raise InputError(f"Malformed NB201 string {text!r}: bad token {tok!r}. {err}")
                ops.append(op)
        return Architecture(self.name, tuple(ops))

    def format(self, arch: Architecture) -> str:
        o = self._ops(arch)
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

    def _ops(self, arch: Architecture | str) -> tuple[str, ...]:
        a = self.coerce(arch)
        if len(a.ops) != 6 or any(op not in OPS for op in a.ops):
            raise InputError(f"Not an NB201 architecture: ops {a.ops!r}; expected 6 of {OPS}.")
        return a.ops

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
            v = np.zeros(len(_PATH_INDEX), dtype=np.float32)
            for path in PATHS:
                seq = tuple(ops[e] for e in path)
                if "none" not in seq:
                    v[_PATH_INDEX[seq]] += 1.0
            return v
        raise UnknownNameError("NB201 encoding", kind, self.encodings)

    # ---- networks --------------------------------------------------------------------------------
    def build(self, arch: Architecture | str, num_classes: int = 10, *, channels: int = 16,
              cells_per_stage: int = 5):
        """The standard NB201 network for ``arch``: stem, 3 stages of ``cells_per_stage`` cells
        (``channels``, x2, x4) joined by residual reduction blocks, BN-ReLU, pooling, classifier.
        Only the chosen operations are built (``none`` edges have no module)."""
        from zcnas.spaces.nb201_net import NB201Network

        check_int("num_classes", num_classes, "NB201Space.build", minimum=1)
        return NB201Network(self._ops(arch), num_classes=num_classes, channels=channels,
                            cells_per_stage=cells_per_stage)


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
