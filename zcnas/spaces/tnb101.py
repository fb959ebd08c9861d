"""TransNAS-Bench-101 (Duan et al., CVPR 2021): a micro (cell) and a macro (skeleton) space, seven
Taskonomy tasks.

**Micro** (``tnb101_micro``, 4,096 cells): an NB201-like cell of 4 nodes and 6 edges, one of
four operations per edge, stacked in the fixed skeleton ``41414`` (5 modules of 2 cells; modules
coded 4 double the channels and halve the resolution in their first cell). TNB101's string is
``64-41414-{e1}_{e2}{e3}_{e4}{e5}{e6}`` with edge digits 0 = ``none`` (zero), 1 = ``skip_connect``,
2 = ``nor_conv_1x1``, 3 = ``nor_conv_3x3`` (ReLU-Conv-BN); the edges are in NB201's order
(node 1 <- 0 | node 2 <- 0, 1 | node 3 <- 0, 1, 2). ``Architecture.spec`` holds the six
operation names. NASLib's op-index tuple ``(1, 0, 2, 3, 3, 3)`` lists the same digits.

**Macro** (``tnb101_macro``, 3,256 skeletons): 4 to 6 modules of 2 ResNet basic blocks; a module
code is 1 (plain), 2 (channels x2), 3 (stride 2) or 4 (channels x2 and stride 2); a skeleton has
1 to 4 stride-2 modules and 1 to 3 channel-doubling modules. TNB101's string is
``64-{codes}-basic``; NASLib's tuple lists the codes (zero-padded to six in some files).
``Architecture.spec`` holds the codes as a tuple of ints.

Tasks (``datasets``), their network outputs and inputs (NASLib's ``tnb101/model_builder.py``,
which NAS-Bench-Suite-Zero scored):

==================  =====================================  ======================================
task                output                                 input (C, H, W)
==================  =====================================  ======================================
class_scene         63 logits (NASLib; TNB101's config 47)  (3, 256, 256)
class_object        100 logits (NASLib; TNB101's config 75) (3, 256, 256)
jigsaw              1000 permutation logits                 (27, 64, 64): 9 tiles of 3 x 64 x 64
room_layout         9 regression outputs                    (3, 256, 256)
segmentsemantic     17 class maps, 256 x 256                (3, 256, 256)
normal              3 x 256 x 256 image (tanh)              (3, 256, 256)
autoencoder         3 x 256 x 256 image (tanh)              (3, 256, 256)
==================  =====================================  ======================================

Indices are zcnas's own: micro = ``itertools.product`` over the digits (NASLib's
``get_arch_iterator`` order); macro = the sorted code tuples. Records are keyed by TNB101's string.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import numpy as np

from zcnas.arch import Architecture
from zcnas.errors import InputError, UnknownNameError, check_int
from zcnas.graph import CellGraph, path_encoding
from zcnas.spaces import register_space
from zcnas.spaces.base import EnumerableSpace, echo, ranker_set_name, task_rankers
from zcnas.spaces.tnb101_defs import EDGES, JIGSAW_TILES, TASK_OUTPUTS, TASKS

#: micro operations; the position is TNB101's digit
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
SHORT: tuple[str, ...] = ("none", "skip", "c1", "c3")
CONVS = frozenset({"nor_conv_1x1", "nor_conv_3x3"})
#: the fixed skeleton of the micro space and the base channels of both spaces
MICRO_SKELETON: tuple[int, ...] = (4, 1, 4, 1, 4)
BASE_CHANNELS = 64

#: macro module codes -> names (graph labels)
BLOCKS: dict[int, str] = {1: "basic", 2: "basic_c2", 3: "basic_s2", 4: "basic_c2s2"}
BLOCK_SHORT: tuple[str, ...] = ("b", "c2", "s2", "c2s2")
MACRO_LENGTHS = (4, 5, 6)

#: network input (C, H, W) of each task; jigsaw takes its 9 tiles stacked along the channels
TASK_INPUT_SHAPES: dict[str, tuple[int, int, int]] = {
    t: ((3 * JIGSAW_TILES, 64, 64) if t == "jigsaw" else (3, 256, 256)) for t in TASKS}

_TUPLE_RE = re.compile(r"^[\(\[]\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*[\)\]]$")


def _tuple_digits(text: str, what: str) -> tuple[int, ...] | None:
    s = text.strip()
    if not s or s[0] not in "([":
        return None
    m = _TUPLE_RE.match(s)
    if not m:
        raise InputError(f"Malformed NASLib {what} op-index tuple {echo(text)}: expected integers like "
                         f"'(1, 0, 2, 3, 3, 3)'.")
    return tuple(int(v) for v in m.group(1).split(","))


class _TNB101Space(EnumerableSpace):
    """What both TNB101 spaces share: tasks, input shapes, network building."""

    default_dataset = "class_scene"
    datasets = TASKS
    tasks = TASKS
    default_proxies = "@core"
    default_aggregate = "mean_log_rank"
    default_ranker_note = ("per task, @zcnas_<space>_<task>_graph with mean_log_rank (structural: graph features "
                           "chosen on half of that task's architectures, no network, no images): held-out Spearman "
                           "0.73-0.92 (experiments/results/structural_rankers); no one proxy holds on every task (the "
                           "best one and even its sign change with the task). For your own task, give 10-20 labelled "
                           "architectures with `zcnas rank --labelled FILE` (experiments/results/transfer)")
    #: None: TNB101 trains per task with different recipes (SGD 0.1 Nesterov, wd 5e-4, batch 128,
    #: warm-up cosine, 10-30 epochs; Adam + a GAN loss for autoencoder and normal; flip + colour
    #: jitter, no crop) on Taskonomy images, which zcnas has neither a recipe form nor data for.
    training_recipe = None
    network_protocols = ("thin_copy", "block_trunk", "feature_tap")

    def check_task(self, task: str) -> str:
        if task not in TASKS:
            raise UnknownNameError(f"{self.name} task", str(task), TASKS)
        return task

    def default_ranker(self, task: str | None = None) -> str:
        """The task's structural ranker ``@zcnas_<space>_<task>_graph`` (graph features chosen on half
        of the task's architectures, experiments/results/structural_rankers), else ``default_proxies``."""
        key = f"{self.name}/{self.check_task(task or self.default_dataset)}"
        return f"@{ranker_set_name(key)}" if key in task_rankers() else self.default_proxies

    def input_shape(self, dataset: str | None = None) -> tuple[int, int, int]:
        """Network input (C, H, W) for a task (jigsaw: 9 RGB tiles of 64 x 64 stacked on channels)."""
        return TASK_INPUT_SHAPES[self.check_task(dataset or self.default_dataset)]

    def task_outputs(self, task: str) -> int:
        return TASK_OUTPUTS[self.check_task(task)]

    def network_key(self, task: str) -> tuple[str, int, tuple[int, int, int]]:
        """What fixes a task's network beside the architecture: (head family, outputs, input shape).
        Tasks with the same key build the same network (the same modules, the same seeded
        initialisation): ``normal`` and ``autoencoder``, both the pix2pix decoder to 3 tanh
        channels at 256 x 256. Their data-free proxy values are equal, bit for bit."""
        from zcnas.spaces.tnb101_defs import TASK_HEADS

        task = self.check_task(task)
        return TASK_HEADS[task], TASK_OUTPUTS[task], TASK_INPUT_SHAPES[task]

    def same_network_tasks(self, task: str) -> list[str]:
        """The other tasks whose network equals ``task``'s (:meth:`network_key`), in task order."""
        key = self.network_key(task)
        return [t for t in TASKS if t != task and self.network_key(t) == key]

    def build(self, arch: Architecture | str, *, num_classes: int | None = None,
              input_shape: tuple[int, ...] | None = None, task: str | None = None,
              with_discriminator: bool = False, **options: Any):
        """TNB101's network for ``arch`` and ``task`` (default :attr:`default_dataset`), built as
        NASLib's ``create_model`` builds it: the encoder (stem + modules) and the task's head.

        ``num_classes`` must be None or the task's output count (the heads are fixed by the
        benchmark). ``input_shape`` defaults to the task's; the dense decoders are sized for
        256 x 256 inputs as in NASLib, so other sizes give outputs scaled alike.
        ``with_discriminator`` adds the (never called) pix2pix discriminator that NASLib's GAN
        model holds for autoencoder and normal; it is off by default because NAS-Bench-Suite-Zero's
        counts (tensorwatch hooks, executed layers only) leave it out."""
        from zcnas.spaces.tnb101_net import TNB101Network

        if options:
            raise InputError(f"{type(self).__name__}.build got unknown option(s) {sorted(options)}; "
                             f"it takes task=, num_classes=, input_shape=, with_discriminator=.")
        task = self.check_task(task or self.default_dataset)
        want = TASK_OUTPUTS[task]
        if num_classes is not None and num_classes != want:
            raise InputError(f"TNB101 task {echo(task, 40)} has {want} outputs; got num_classes={num_classes!r}. "
                             f"Pass num_classes=None (or {want}).")
        shape = tuple(input_shape) if input_shape is not None else TASK_INPUT_SHAPES[task]
        _check_shape(shape, task, f"{type(self).__name__}.build")
        return TNB101Network(self._encoder_code(self.coerce(arch)), task, with_discriminator=with_discriminator)

    def _encoder_code(self, arch: Architecture) -> tuple[tuple[int, ...], tuple[str, ...] | None]:
        raise NotImplementedError


def _check_shape(shape: tuple, task: str, owner: str) -> None:
    ok = (len(shape) == 3 and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape))
    want_c = TASK_INPUT_SHAPES[task][0]
    if not ok or shape[0] != want_c or min(shape[1:]) < 8:
        raise InputError(f"The 'input_shape' parameter of {owner} for task {echo(task, 40)} must be ({want_c}, H, W) "
                         f"with H, W >= 8 (TNB101: {TASK_INPUT_SHAPES[task]}). Got {shape!r} instead.")


# ---- micro ---------------------------------------------------------------------------------------


@register_space("tnb101_micro", aliases=("transbench101_micro", "tnb101-micro", "transnas101_micro"),
                description="TransNAS-Bench-101 micro (cell) space: 4,096 cells in the 41414 skeleton, 7 tasks")
class TNB101MicroSpace(_TNB101Space):
    """The TransNAS-Bench-101 cell space."""

    ops = OPS
    edges = EDGES
    encodings = ("onehot", "adjacency", "path")

    # ---- strings ---------------------------------------------------------------------------------
    def parse(self, text: str) -> Architecture:
        """TNB101's string ``64-41414-1_02_333``, its cell code ``1_02_333``, NASLib's op-index
        tuple ``(1, 0, 2, 3, 3, 3)`` or an NB201-style string without ``avg_pool_3x3``."""
        if not isinstance(text, str):
            raise InputError(f"A TNB101 micro architecture must be a str, got {type(text).__name__}.")
        s = text.strip()
        digits = _tuple_digits(s, "TNB101 micro")
        if digits is not None:
            if len(digits) != 6:
                raise InputError(f"NASLib TNB101 micro tuple {echo(text)} has {len(digits)} entries; expected 6.")
            return self._from_digits(digits, text, "tuple entry")
        if s.startswith("|"):
            from zcnas.spaces import get_space

            ops = get_space("nb201").parse(s).spec
            bad = [op for op in ops if op not in OPS]
            if bad:
                raise InputError(f"TNB101 micro has no operation {bad[0]!r} (string {echo(text)}); its operations "
                                 f"are {', '.join(OPS)}.")
            return Architecture(self.name, ops)
        code = s
        if "-" in s:
            parts = s.split("-")
            if len(parts) != 3:
                raise InputError(f"Malformed TNB101 micro string {echo(text)}: expected "
                                 f"'64-41414-<e1>_<e2><e3>_<e4><e5><e6>', got {len(parts)} '-'-separated parts.")
            base, skel, code = parts
            if base != str(BASE_CHANNELS):
                raise InputError(f"TNB101 micro string {echo(text)}: base channels {echo(base, 20)} must be "
                                 f"'{BASE_CHANNELS}' (the benchmark's only width).")
            if skel != "".join(map(str, MICRO_SKELETON)):
                raise InputError(f"TNB101 micro string {echo(text)}: skeleton {echo(skel, 20)} must be '41414' "
                                 f"(other skeletons are the macro space, 'tnb101_macro').")
        if not re.fullmatch(r"\d_\d\d_\d\d\d", code):
            raise InputError(f"Malformed TNB101 micro cell code {echo(code, 40)} in {echo(text)}: expected "
                             f"'<e1>_<e2><e3>_<e4><e5><e6>' with digits 0-3, like '1_02_333'.")
        return self._from_digits(tuple(int(c) for c in code.replace("_", "")), text, "edge digit")

    def _from_digits(self, digits: tuple[int, ...], text: str, what: str) -> Architecture:
        for e, d in enumerate(digits):
            if not 0 <= d < len(OPS):
                raise InputError(f"TNB101 micro {echo(text)}: {what} {e + 1} is {d}; edge digits are 0 (none), "
                                 f"1 (skip_connect), 2 (nor_conv_1x1), 3 (nor_conv_3x3).")
        return Architecture(self.name, tuple(OPS[d] for d in digits))

    def format(self, arch: Architecture) -> str:
        d = self.digits(arch)
        return f"{BASE_CHANNELS}-41414-{d[0]}_{d[1]}{d[2]}_{d[3]}{d[4]}{d[5]}"

    def validate(self, arch: Architecture | str) -> Architecture:
        a = self.coerce(arch)
        self._ops(a)
        return a

    def _ops(self, arch: Architecture | str) -> tuple[str, ...]:
        a = self.coerce(arch)
        ops = a.spec
        if not isinstance(ops, tuple) or len(ops) != 6:
            raise InputError(f"Not a TNB101 micro architecture: spec {echo(ops)}; expected 6 operations of {OPS}.")
        for e, op in enumerate(ops):
            if op not in OPS:
                raise InputError(f"Not a TNB101 micro architecture: edge {e + 1} has operation {echo(op, 40)}; "
                                 f"expected one of {OPS}.")
        return ops

    def cost_terms(self, arch: Architecture | str) -> dict[tuple[int, str], int]:
        """Every cell of the skeleton runs each edge's operation once: the counts add up per (edge, op)."""
        return {(e, op): 1 for e, op in enumerate(self._ops(arch)) if op != "none"}

    def digits(self, arch: Architecture | str) -> tuple[int, ...]:
        """TNB101's edge digits (= NASLib's op indices)."""
        return tuple(OPS.index(op) for op in self._ops(arch))

    def naslib_tuple(self, arch: Architecture | str) -> str:
        """NASLib's op-index tuple as written in its data files: ``'(1, 0, 2, 3, 3, 3)'``."""
        return str(self.digits(arch))

    # ---- enumeration -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(OPS) ** 6

    def enumerate(self) -> Iterator[Architecture]:
        for ops in itertools.product(OPS, repeat=6):
            yield Architecture(self.name, ops)

    def at(self, index: int) -> Architecture:
        check_int("index", index, "TNB101MicroSpace.at", minimum=0)
        if index >= len(self):
            raise InputError(f"TNB101 micro index must be in [0, {len(self) - 1}], got {index}.")
        digits = []
        for _ in range(6):
            index, r = divmod(index, len(OPS))
            digits.append(r)
        return Architecture(self.name, tuple(OPS[d] for d in reversed(digits)))

    def index(self, arch: Architecture | str) -> int:
        i = 0
        for d in self.digits(arch):
            i = i * len(OPS) + d
        return i

    def neighbours(self, arch: Architecture | str) -> list[Architecture]:
        ops = self._ops(arch)
        return [Architecture(self.name, ops[:pos] + (op,) + ops[pos + 1:])
                for pos in range(6) for op in OPS if op != ops[pos]]

    # ---- function classes ------------------------------------------------------------------------
    def canonical(self, arch: Architecture | str) -> str:
        """Symbolic form of the cell's function, shared by cells that compute the same network.

        ``"<normal> | <reduction>"``: NB201's rule (NATS-Bench's unique string: nodes are sorted
        sums; ``skip_connect`` passes its input, other operations wrap it as ``(x)@op``, zero
        terms are ``#``) for the cell in its normal positions (identical to NB201's canonical of the
        same six operations) and in its reduction positions, where an edge leaving the cell input
        halves the resolution and doubles the channels, so its ``skip_connect`` is a factorized
        reduction with weights (``(0)@fr``), not the identity. The same cell sits in both kinds of
        position, so two cells are one class only when both forms agree (1,730 classes of 4,096;
        the normal form alone gives 1,236). As for NB201, equal strings mean the same network for
        any parameter values, up to the limits of NATS-Bench's string (skip-connected sums are
        spliced in without re-sorting, so some cells that are isomorphic get two strings).
        """
        return _canonical(self._ops(arch))

    # ---- encodings -------------------------------------------------------------------------------
    def cell_graph(self, arch: Architecture | str) -> CellGraph:
        """Nodes 0 (input) .. 3 (output), one operation per edge in string order."""
        return _micro_graph(self._ops(arch))

    def encode(self, arch: Architecture | str, kind: str = "onehot") -> np.ndarray:
        """``onehot``: 6 edges x 4 operations (24 values, NASLib's adjacency_one_hot);
        ``adjacency``: the operation-on-node graph (input, 6 edge nodes, output) without ``none``
        nodes, upper triangle of the 8 x 8 adjacency (28) then the 6 x 4 one-hot (52 values);
        ``path``: BANANAS path counts over the 3 live operations, lengths 1-3 (39 values)."""
        ops = self._ops(arch)
        if kind == "onehot":
            return _onehot(ops)
        if kind == "adjacency":
            return _adjacency(ops)
        if kind == "path":
            return path_encoding(_micro_graph(ops), lengths=(1, 2, 3))
        raise UnknownNameError("TNB101 micro encoding", kind, self.encodings)

    def _encoder_code(self, arch: Architecture) -> tuple[tuple[int, ...], tuple[str, ...] | None]:
        return MICRO_SKELETON, self._ops(arch)


def _onehot(ops: tuple[str, ...]) -> np.ndarray:
    v = np.zeros((6, len(OPS)), dtype=np.float32)
    for e, op in enumerate(ops):
        v[e, OPS.index(op)] = 1.0
    return v.ravel()


def _adjacency(ops: tuple[str, ...]) -> np.ndarray:
    n = 8  # 0 = input, 1..6 = edge-operation nodes, 7 = output
    adj = np.zeros((n, n), dtype=np.float32)
    alive = [op != "none" for op in ops]
    for e, (src, dst) in enumerate(EDGES):
        if not alive[e]:
            continue
        if src == 0:
            adj[0, e + 1] = 1
        else:
            for f, (_, d2) in enumerate(EDGES):
                if d2 == src and alive[f]:
                    adj[f + 1, e + 1] = 1
        if dst == 3:
            adj[e + 1, 7] = 1
    return np.concatenate([adj[np.triu_indices(n, 1)], _onehot(ops)])


@cache
def _micro_graph(ops: tuple[str, ...]) -> CellGraph:
    return CellGraph(n_nodes=4, edges=tuple((s, d, op) for (s, d), op in zip(EDGES, ops)),
                     node_labels=(None,) * 4, inputs=(0,), output=3, vocab=OPS, short=SHORT,
                     zero_ops=frozenset({"none"}), weighted_ops=CONVS, max_nodes=4)


@cache
def _canonical(ops: tuple[str, ...]) -> str:
    return f"{_nats_string(ops, reduction=False)} | {_nats_string(ops, reduction=True)}"


def _nats_string(ops: tuple[str, ...], reduction: bool) -> str:
    # NB201's rule (NATS-Bench's unique string, zero inputs kept as '#'); in the reduction position a
    # skip leaving the input is the factorized reduction '(0)@fr'
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
                terms.append("(0)@fr" if reduction and src == 0 else x)
            else:
                terms.append(f"({x})@{op}")
        nodes[j] = "+".join(sorted(terms))
    return nodes[3]


# ---- macro ---------------------------------------------------------------------------------------


def macro_code_problem(codes: tuple[int, ...]) -> str | None:
    """Why ``codes`` is not a TNB101 macro skeleton (None when it is one)."""
    if not MACRO_LENGTHS[0] <= len(codes) <= MACRO_LENGTHS[-1]:
        return f"it has {len(codes)} modules; a skeleton has 4 to 6"
    for i, c in enumerate(codes):
        if c not in BLOCKS:
            return f"module {i + 1} has code {c}; codes are 1 (plain), 2 (channels x2), 3 (stride 2), 4 (both)"
    n_down = sum(c in (3, 4) for c in codes)
    n_wide = sum(c in (2, 4) for c in codes)
    if not 1 <= n_down <= 4:
        return f"it has {n_down} stride-2 modules (codes 3, 4); a skeleton has 1 to 4"
    if not 1 <= n_wide <= 3:
        return f"it has {n_wide} channel-doubling modules (codes 2, 4); a skeleton has 1 to 3"
    return None


@cache
def _macro_all() -> tuple[tuple[int, ...], ...]:
    out = [c for n in MACRO_LENGTHS for c in itertools.product(sorted(BLOCKS), repeat=n)
           if macro_code_problem(c) is None]
    return tuple(sorted(out))


@cache
def _macro_index() -> dict[tuple[int, ...], int]:
    return {c: i for i, c in enumerate(_macro_all())}


@register_space("tnb101_macro", aliases=("transbench101_macro", "tnb101-macro", "transnas101_macro"),
                description="TransNAS-Bench-101 macro (skeleton) space: 3,256 residual skeletons, 7 tasks")
class TNB101MacroSpace(_TNB101Space):
    """The TransNAS-Bench-101 skeleton space (modules of two ResNet basic blocks)."""

    blocks = BLOCKS
    encodings = ("onehot", "adjacency")

    # ---- strings ---------------------------------------------------------------------------------
    def parse(self, text: str) -> Architecture:
        """TNB101's string ``64-1234-basic``, the bare codes ``1234`` or NASLib's tuple
        ``(1, 2, 3, 4)`` (trailing zeros, NASLib's padding to six, are dropped)."""
        if not isinstance(text, str):
            raise InputError(f"A TNB101 macro architecture must be a str, got {type(text).__name__}.")
        s = text.strip()
        digits = _tuple_digits(s, "TNB101 macro")
        if digits is not None:
            trimmed = list(digits)
            while trimmed and trimmed[-1] == 0:
                trimmed.pop()
            if 0 in trimmed:
                raise InputError(f"NASLib TNB101 macro tuple {echo(text)} has a 0 before a module code; zeros "
                                 f"may only pad the end.")
            return self._checked(tuple(trimmed), text)
        code = s
        if "-" in s:
            parts = s.split("-")
            if len(parts) != 3:
                raise InputError(f"Malformed TNB101 macro string {echo(text)}: expected '64-<codes>-basic', got "
                                 f"{len(parts)} '-'-separated parts.")
            base, code, cell = parts
            if base != str(BASE_CHANNELS):
                raise InputError(f"TNB101 macro string {echo(text)}: base channels {echo(base, 20)} must be "
                                 f"'{BASE_CHANNELS}' (the benchmark's only width).")
            if cell != "basic":
                raise InputError(f"TNB101 macro string {echo(text)}: cell {echo(cell, 40)} must be 'basic' "
                                 f"(cells like '1_02_333' are the micro space, 'tnb101_micro').")
        if not re.fullmatch(r"\d+", code):
            raise InputError(f"Malformed TNB101 macro codes {echo(code, 40)} in {echo(text)}: expected 4 to 6 "
                             f"digits 1-4, like '1234'.")
        return self._checked(tuple(int(c) for c in code), text)

    def _checked(self, codes: tuple[int, ...], text: str) -> Architecture:
        why = macro_code_problem(codes)
        if why:
            raise InputError(f"Not a TNB101 macro skeleton {echo(text)}: {why}.")
        return Architecture(self.name, codes)

    def format(self, arch: Architecture) -> str:
        return f"{BASE_CHANNELS}-{''.join(map(str, self.codes(arch)))}-basic"

    def validate(self, arch: Architecture | str) -> Architecture:
        a = self.coerce(arch)
        self.codes(a)
        return a

    def codes(self, arch: Architecture | str) -> tuple[int, ...]:
        a = self.coerce(arch)
        c = a.spec
        if not isinstance(c, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in c):
            raise InputError(f"Not a TNB101 macro architecture: spec {echo(c)}; expected a tuple of module codes.")
        why = macro_code_problem(c)
        if why:
            raise InputError(f"Not a TNB101 macro architecture {echo(c)}: {why}.")
        return c

    def naslib_tuple(self, arch: Architecture | str) -> str:
        """NASLib's op-index tuple as written in its data files (unpadded): ``'(1, 2, 3, 4)'``."""
        return str(self.codes(arch))

    # ---- enumeration -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(_macro_all())

    def enumerate(self) -> Iterator[Architecture]:
        for c in _macro_all():
            yield Architecture(self.name, c)

    def at(self, index: int) -> Architecture:
        check_int("index", index, "TNB101MacroSpace.at", minimum=0)
        if index >= len(self):
            raise InputError(f"TNB101 macro index must be in [0, {len(self) - 1}], got {index}.")
        return Architecture(self.name, _macro_all()[index])

    def index(self, arch: Architecture | str) -> int:
        return _macro_index()[self.codes(arch)]

    def neighbours(self, arch: Architecture | str) -> list[Architecture]:
        """Every valid skeleton one edit away: one module's code changed, one module inserted
        (up to 6) or one removed (down to 4); in that order, without repeats."""
        c = self.codes(arch)
        cands: list[tuple[int, ...]] = []
        for i in range(len(c)):
            cands += [c[:i] + (v,) + c[i + 1:] for v in BLOCKS if v != c[i]]
        if len(c) < MACRO_LENGTHS[-1]:
            cands += [c[:i] + (v,) + c[i:] for i in range(len(c) + 1) for v in BLOCKS]
        if len(c) > MACRO_LENGTHS[0]:
            cands += [c[:i] + c[i + 1:] for i in range(len(c))]
        seen: dict[tuple[int, ...], None] = {}
        for x in cands:
            if x != c and x not in seen and macro_code_problem(x) is None:
                seen[x] = None
        return [Architecture(self.name, x) for x in seen]

    # ---- function classes, encodings -------------------------------------------------------------
    def canonical(self, arch: Architecture | str) -> str:
        """The skeleton's own string: distinct skeletons are distinct networks (their blocks'
        resolutions, widths or depth differ), so every class has one member."""
        return self.format(self.coerce(arch))

    def cell_graph(self, arch: Architecture | str) -> CellGraph:
        """A chain: node 0 is the stem's output, edge i (i -> i+1) is module i+1 labelled with its
        block name (``basic``, ``basic_c2``, ``basic_s2``, ``basic_c2s2``)."""
        return _macro_graph(self.codes(arch))

    def encode(self, arch: Architecture | str, kind: str = "onehot") -> np.ndarray:
        """``onehot``: 6 positions x 5 (0 = no module, codes 1-4; NASLib's adjacency_one_hot,
        30 values); ``adjacency``: the chain stem -> modules -> head as an 8-node graph (upper
        triangle of the 8 x 8 adjacency, 28) then the 6 x 4 one-hot of the module codes (52 values)."""
        c = self.codes(arch)
        if kind == "onehot":
            v = np.zeros((6, 5), dtype=np.float32)
            for i in range(6):
                v[i, c[i] if i < len(c) else 0] = 1.0
            return v.ravel()
        if kind == "adjacency":
            n = 8
            adj = np.zeros((n, n), dtype=np.float32)
            chain = [0, *range(1, len(c) + 1), 7]
            for a, b in zip(chain[:-1], chain[1:]):
                adj[a, b] = 1.0
            ops = np.zeros((6, 4), dtype=np.float32)
            for i, v in enumerate(c):
                ops[i, v - 1] = 1.0
            return np.concatenate([adj[np.triu_indices(n, 1)], ops.ravel()])
        raise UnknownNameError("TNB101 macro encoding", kind, self.encodings)

    def _encoder_code(self, arch: Architecture) -> tuple[tuple[int, ...], tuple[str, ...] | None]:
        return self.codes(arch), None


@cache
def _macro_graph(codes: tuple[int, ...]) -> CellGraph:
    names = tuple(BLOCKS[k] for k in sorted(BLOCKS))
    return CellGraph(n_nodes=len(codes) + 1, edges=tuple((i, i + 1, BLOCKS[c]) for i, c in enumerate(codes)),
                     node_labels=(None,) * (len(codes) + 1), inputs=(0,), output=len(codes), vocab=names,
                     short=BLOCK_SHORT, zero_ops=frozenset(), weighted_ops=frozenset(names),
                     max_nodes=MACRO_LENGTHS[-1] + 1)
