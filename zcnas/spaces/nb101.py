"""NAS-Bench-101 (Ying et al., ICML 2019): a cell is a DAG of at most 7 vertices and 9 edges, the
first vertex the input, the last the output, each vertex between them one of three operations;
423,624 unique cells (one per graph-isomorphism class).

String form (``format``, the record-store key): compact JSON of the pruned cell,
``{"matrix":[[0,1,...],...],"ops":["input","conv3x3-bn-relu",...,"output"]}``. ``parse`` also reads
the same JSON with any spacing and a 32-hex NB101 hash (resolved through the index to NB101's own
matrix of that class). ``Architecture.spec`` is ``(matrix_rows, ops)``: the pruned upper-triangular
0/1 matrix as a tuple of tuples and the vertex labels including ``"input"`` and ``"output"``.

Rules (nasbench's ``ModelSpec`` and ``NASBench._check_spec``): a square upper-triangular 0/1
matrix with one label per vertex; vertices not on an input->output path are pruned away, and the
pruned cell must connect the input to the output, have at most 7 vertices and at most 9 edges.

Canonical key: the NB101 graph hash (an iterated MD5 colour refinement over in/out-degrees and
labels, written here from the description in nasbench's ``graph_util``); it reproduces the
``hash`` column of the public NB101 table.

Index: the 423,624 classes in NB101's generation order (vertices 2..7, then the adjacency bit mask
ascending, then the labelling in ``itertools.product`` order); each class is represented by the
first cell of that order, which is the matrix NB101 itself trained and stores. The classes are
found with numpy (canonical forms under every permutation of the interior vertices; about 2 s) and
cached under ``$XDG_CACHE_HOME/zcnas`` (default ``~/.cache/zcnas``) with a version stamp. Looking up
a cell uses its class key; looking up an NB101 *hash* needs the hash of every class, an iterated
MD5 per class (about 1-3 minutes of one CPU, once), computed on first use and cached beside it.

Isomorphic cells share the hash but not always the network: NB101 splits the output channels
between the vertices feeding the output in vertex order, so two orderings of one class can differ
by a channel here and there. ``representative`` gives NB101's own matrix of a cell's class (the
one its accuracy and ``params`` belong to).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from zcnas.arch import Architecture
from zcnas.errors import DataError, InputError, UnknownNameError, check_int
from zcnas.graph import CellGraph, path_encoding
from zcnas.paths import cache_dir
from zcnas.spaces import register_space
from zcnas.spaces.base import EnumerableSpace, TrainingRecipe, dumps, echo
from zcnas.spaces.nb101_defs import CELLS_PER_STACK, NUM_STACKS, STEM_CHANNELS, stack_plan, vertex_channels

INPUT, OUTPUT = "input", "output"
#: the operations, in NB101's ``available_ops`` order (their index is the hash label)
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
SHORT: tuple[str, ...] = ("c3", "c1", "mp")
CONVS = frozenset({"conv3x3-bn-relu", "conv1x1-bn-relu"})
MAX_VERTICES = 7
MAX_EDGES = 9
#: number of unique cells (NB101's published size; the enumeration checks it)
N_CELLS = 423_624
#: bump when the cached index format or order changes
INDEX_VERSION = 1


#: NB101's training recipe (nasbench/lib/config.py and model_builder.py, paper Sec. 2.3)
RECIPE = TrainingRecipe(
    optimizer="rmsprop", eps=1.0, lr=0.2, momentum=0.9, nesterov=False, weight_decay=1e-4, batch_size=256,
    epochs=108, schedule="cosine",
    augment="crop_flip", crop_padding=4, label_smoothing=0.0,
    source="NAS-Bench-101 (Ying et al., ICML 2019; google-research/nasbench config.py, model_builder.py, "
           "cifar.py): RMSProp (momentum 0.9, epsilon 1.0), base lr 0.1 x 2 TPU shards = 0.2, cosine decay "
           "per step to 0 (lr 0 at step 0), L2 1e-4 on every trainable variable (weight_decay * sum(v^2)/2), "
           "batch 256, 4/12/36/108 epochs (separate runs), pad-4 random crop + horizontal flip, per-channel "
           "mean/std normalisation, no label smoothing; trained on 40k CIFAR-10 images, validated on 10k. "
           "zcnas's L2 is torch's weight_decay (weight_decay * v per step, the same gradient).")

#: label of each vertex kind in the NB101 hash (nasbench ``hash_spec``: input -1, output -2, op index)
_LABEL = {INPUT: -1, OUTPUT: -2, **{op: i for i, op in enumerate(OPS)}}

Spec = tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]


# ---- hashing, pruning, channels (plain Python, shared with the network module) ----------------------


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def graph_hash(matrix: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """NB101's isomorphism-invariant graph hash of an upper-triangular 0/1 ``matrix`` with integer
    vertex ``labels`` (-1 input, -2 output, else the op index in :data:`OPS`).

    Every vertex starts from the MD5 of its ``(out-degree, in-degree, label)``; then, as many times
    as there are vertices, each vertex becomes the MD5 of its in-neighbours' hashes (sorted,
    concatenated), ``|``, its out-neighbours' hashes (likewise), ``|``, its own hash; the cell's
    hash is the MD5 of the sorted list of vertex hashes. The strings hashed are exactly NB101's,
    so the value equals the ``hash`` of the NB101 table."""
    n = len(matrix)
    ins = [[w for w in range(n) if matrix[w][v]] for v in range(n)]
    outs = [[w for w in range(n) if matrix[v][w]] for v in range(n)]
    hashes = [_init_hash(len(outs[v]), len(ins[v]), int(labels[v])) for v in range(n)]
    for _ in range(n):
        hashes = [_md5("".join(sorted(hashes[w] for w in ins[v])) + "|"
                       + "".join(sorted(hashes[w] for w in outs[v])) + "|" + hashes[v]) for v in range(n)]
    return _md5(str(sorted(hashes)))


@cache
def _init_hash(out_deg: int, in_deg: int, label: int) -> str:
    return _md5(str((out_deg, in_deg, label)))


def prune(matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> Spec | None:
    """Drop the vertices that are not on an input->output path (nasbench ``ModelSpec._prune``);
    None when the input does not reach the output."""
    n = len(matrix)
    fwd, stack = {0}, [0]
    while stack:
        top = stack.pop()
        for v in range(top + 1, n):
            if matrix[top][v] and v not in fwd:
                fwd.add(v)
                stack.append(v)
    bwd, stack = {n - 1}, [n - 1]
    while stack:
        top = stack.pop()
        for v in range(top):
            if matrix[v][top] and v not in bwd:
                bwd.add(v)
                stack.append(v)
    keep = sorted(fwd & bwd)
    if len(keep) < 2 or keep[0] != 0 or keep[-1] != n - 1:
        return None
    rows = tuple(tuple(int(matrix[i][j]) for j in keep) for i in keep)
    return rows, tuple(ops[i] for i in keep)


def cell_params(matrix: Sequence[Sequence[int]], ops: Sequence[str], c_in: int, c_out: int) -> int:
    """Trainable parameters of one cell (convolutions without bias, batch norm with scale and shift)."""
    n = len(matrix)
    ch = vertex_channels(c_in, c_out, matrix)
    total = 0
    for t in range(1, n - 1):
        if matrix[0][t]:  # 1x1 projection of the cell input to the vertex width
            total += c_in * ch[t] + 2 * ch[t]
        k = {"conv3x3-bn-relu": 9, "conv1x1-bn-relu": 1}.get(ops[t], 0)
        if k:
            total += k * ch[t] * ch[t] + 2 * ch[t]
    if matrix[0][n - 1]:
        total += c_in * c_out + 2 * c_out
    return total


def count_params(spec: Spec, *, num_classes: int = 10, in_channels: int = 3, stem_channels: int = STEM_CHANNELS,
                 num_stacks: int = NUM_STACKS, cells_per_stack: int = CELLS_PER_STACK) -> int:
    """Trainable parameters of NB101's network for a pruned cell, without building it: the stem
    3x3 conv-BN-ReLU, the cells, the linear head (weights and bias)."""
    matrix, ops = spec
    total = 9 * in_channels * stem_channels + 2 * stem_channels
    plan = stack_plan(stem_channels, num_stacks, cells_per_stack)
    for c_in, c_out, _ in plan:
        total += cell_params(matrix, ops, c_in, c_out)
    return total + plan[-1][1] * num_classes + num_classes


# ---- enumeration (numpy) -----------------------------------------------------------------------------


def _bit_pairs(v: int) -> list[tuple[int, int]]:
    """(src, dst) of each bit of NB101's adjacency bit mask: bit ``src + dst (dst - 1) / 2``."""
    return [(x, y) for y in range(1, v) for x in range(y)]


@cache
def _interior_perms(v: int) -> np.ndarray:
    """Every permutation of the interior vertices (input and output stay put), shape (P, v)."""
    return np.array([(0, *p, v - 1) for p in itertools.permutations(range(1, v - 1))], dtype=np.int64)


def _iso_keys(v: int, mats: np.ndarray, labellings: np.ndarray) -> np.ndarray:
    """Isomorphism-class keys, shape (K, L), of every matrix in ``mats`` (K, v, v) with every
    labelling in ``labellings`` (L, v - 2; op indices of the interior vertices).

    Two labelled cells are isomorphic iff their matrices have the same canonical form (the smallest
    code over every permutation of the interior vertices) and their labellings, carried into that
    form, agree up to one of its automorphisms: the key packs the vertex count, the canonical
    matrix code and the smallest labelling code over the permutations that reach the canonical form."""
    perms = _interior_perms(v)
    weights = (np.int64(1) << np.arange(v * v, dtype=np.int64)).reshape(v, v)
    mcode = (mats[:, perms[:, :, None], perms[:, None, :]] * weights).sum(axis=(2, 3))  # (K, P)
    canon = mcode.min(axis=1)
    auto = mcode == canon[:, None]
    pow3 = len(OPS) ** np.arange(v - 3, -1, -1, dtype=np.int64)
    lcode = (labellings[:, perms[:, 1:-1] - 1] * pow3).sum(axis=2)  # (L, P)
    big = np.int64(len(OPS) ** (v - 2))
    klab = np.empty((len(mats), len(labellings)), dtype=np.int64)
    for s in range(0, len(mats), 256):
        klab[s: s + 256] = np.where(auto[s: s + 256, None, :], lcode[None, :, :], big).min(axis=2)
    return ((np.int64(v) << 52) + (canon[:, None] << 8)) + klab


def _labellings(v: int) -> np.ndarray:
    products = list(itertools.product(range(len(OPS)), repeat=v - 2))
    return np.array(products, dtype=np.int64).reshape(len(products), v - 2)


def _enumerate_classes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first cell of every isomorphism class in NB101's generation order, as arrays
    ``(n_vertices, adjacency bit mask, labelling code, class key)``; the labelling code is the
    position of the labelling in ``itertools.product(range(3), repeat=n_vertices - 2)``."""
    keys, verts, masks, labs = [], [], [], []
    for v in range(2, MAX_VERTICES + 1):
        pairs = _bit_pairs(v)
        bits = np.arange(2 ** len(pairs), dtype=np.int64)
        bits = bits[np.bitwise_count(bits) <= MAX_EDGES]
        mats = np.zeros((len(bits), v, v), dtype=bool)
        for i, (x, y) in enumerate(pairs):
            mats[:, x, y] = (bits >> i) & 1
        # every vertex on an input->output path: a row for every vertex but the output, a column
        # for every vertex but the input (nasbench ``is_full_dag``)
        full = mats[:, : v - 1, :].any(axis=2).all(axis=1) & mats[:, :, 1:].any(axis=1).all(axis=1)
        bits, mats = bits[full], mats[full]
        labellings = _labellings(v)
        key = _iso_keys(v, mats, labellings)
        keys.append(key.ravel())
        verts.append(np.full(key.size, v, dtype=np.int8))
        masks.append(np.repeat(bits, len(labellings)))
        labs.append(np.tile(np.arange(len(labellings), dtype=np.int64), len(bits)))
    key = np.concatenate(keys)
    _, first = np.unique(key, return_index=True)
    first.sort()
    return (np.concatenate(verts)[first], np.concatenate(masks)[first].astype(np.int32),
            np.concatenate(labs)[first].astype(np.int16), key[first])


@cache
def iso_key(matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...]) -> int:
    """The isomorphism-class key of one pruned cell (the index's lookup key)."""
    v = len(matrix)
    mats = np.array(matrix, dtype=bool)[None]
    lab = np.array([[OPS.index(o) for o in ops[1:-1]]], dtype=np.int64).reshape(1, v - 2)
    return int(_iso_keys(v, mats, lab)[0, 0])


@cache
def _decode_matrix(v: int, mask: int) -> tuple[tuple[int, ...], ...]:
    m = [[0] * v for _ in range(v)]
    for i, (x, y) in enumerate(_bit_pairs(v)):
        if (mask >> i) & 1:
            m[x][y] = 1
    return tuple(tuple(r) for r in m)


@cache
def _decode_ops(v: int, code: int) -> tuple[str, ...]:
    ops = []
    for _ in range(v - 2):
        code, r = divmod(code, len(OPS))
        ops.append(OPS[r])
    return (INPUT, *reversed(ops), OUTPUT)


def _encode_mask(matrix: Sequence[Sequence[int]]) -> int:
    return sum(1 << i for i, (x, y) in enumerate(_bit_pairs(len(matrix))) if matrix[x][y])




def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, version=np.int64(INDEX_VERSION), **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_npz(path: Path, names: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when the file is missing, unreadable, of another version or size."""
    try:
        with np.load(path) as z:
            if int(z["version"]) != INDEX_VERSION:
                return None
            out = {n: z[n] for n in names}
    except (OSError, ValueError, KeyError, EOFError):
        return None
    return out if all(len(a) == N_CELLS for a in out.values()) else None


class CellIndex:
    """The 423,624 NB101 classes in NB101's generation order: the representative cell of each
    (vertices, adjacency mask, labelling), its class key (lookup of any cell), and, built on first
    use, its NB101 hash (lookup of a hash)."""

    def __init__(self, n_vertices: np.ndarray, masks: np.ndarray, labels: np.ndarray, keys: np.ndarray):
        self.n_vertices, self.masks, self.labels, self.keys = n_vertices, masks, labels, keys
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]
        self._hashes: np.ndarray | None = None
        self._horder: np.ndarray | None = None
        self._hsorted: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.masks)

    def spec(self, i: int) -> Spec:
        v = int(self.n_vertices[i])
        return _decode_matrix(v, int(self.masks[i])), _decode_ops(v, int(self.labels[i]))

    def find_key(self, key: int) -> int | None:
        j = int(np.searchsorted(self._sorted, key))
        if j < len(self._sorted) and int(self._sorted[j]) == key:
            return int(self._order[j])
        return None

    # ---- NB101 hashes (slow to build: one iterated-MD5 hash per class, then cached) -------------
    def hashes(self) -> np.ndarray:
        """NB101 hash of every class (``S16`` digests), loaded from the cache or computed."""
        if self._hashes is None:
            path = cache_dir() / f"nb101_hashes_v{INDEX_VERSION}.npz"
            got = _load_npz(path, ["hashes"])
            hashes = got["hashes"] if got is not None else None
            if hashes is None:
                hashes = np.empty(len(self), dtype="S16")
                for i in range(len(self)):
                    matrix, ops = self.spec(i)
                    hashes[i] = bytes.fromhex(graph_hash(matrix, [_LABEL[o] for o in ops]))
                if len(np.unique(hashes)) != len(hashes):
                    raise DataError("Two NB101 classes share a hash; the enumeration code is wrong.")
                try:
                    _save_npz(path, hashes=hashes)
                except OSError:
                    pass  # a read-only cache folder only costs the rebuild next time
            self._horder = np.argsort(hashes, kind="stable")
            self._hsorted = hashes[self._horder]
            self._hashes = hashes
        return self._hashes

    def find_hash(self, hexhash: str) -> int | None:
        self.hashes()
        srt, order = self._hsorted, self._horder
        assert srt is not None and order is not None
        key = bytes.fromhex(hexhash)
        j = int(np.searchsorted(srt, key))
        # numpy's S16 drops trailing zero bytes (a hash ending in "00"): pad before comparing
        if j < len(srt) and bytes(srt[j]).ljust(16, b"\0") == key:
            return int(order[j])
        return None

    @classmethod
    def build(cls) -> CellIndex:
        verts, masks, labs, keys = _enumerate_classes()
        if len(masks) != N_CELLS:
            raise DataError(f"NB101 enumeration found {len(masks)} classes, expected {N_CELLS}; the "
                            f"enumeration code is wrong.")
        return cls(verts, masks, labs, keys)


_INDEX: list[CellIndex] = []


def cell_index() -> CellIndex:
    """The NB101 index, loaded from the cache, else built (and cached when the folder is writable)."""
    if not _INDEX:
        path = cache_dir() / f"nb101_index_v{INDEX_VERSION}.npz"
        names = ("n_vertices", "masks", "labels", "keys")
        got = _load_npz(path, names)
        if got is not None:
            idx = CellIndex(*(got[n] for n in names))
        else:
            idx = CellIndex.build()
            try:
                _save_npz(path, n_vertices=idx.n_vertices, masks=idx.masks, labels=idx.labels, keys=idx.keys)
            except OSError:
                pass  # a read-only cache folder only costs the rebuild next time
        _INDEX.append(idx)
    return _INDEX[0]


# ---- the space -------------------------------------------------------------------------------------

_EXAMPLE = '{"matrix":[[0,1,1],[0,0,1],[0,0,0]],"ops":["input","conv3x3-bn-relu","output"]}'


@register_space("nb101", aliases=("nasbench101", "nas-bench-101"),
                description="NAS-Bench-101 cells: <= 7 vertices, <= 9 edges, 3 ops; 423,624 unique cells")
class NB101Space(EnumerableSpace):
    """The NAS-Bench-101 cell search space."""

    ops = OPS
    encodings = ("onehot", "adjacency", "path")
    default_dataset = "cifar10"
    datasets = ("cifar10",)
    default_proxies = "@zcnas_nb101_graph"
    default_aggregate = "mean_log_rank"
    default_ranker_note = ("@zcnas_nb101_graph with mean_log_rank (structural: no network, no data): Spearman 0.869 "
                           "+- 0.002 with 108-epoch accuracy on held-out halves of the 30,001 "
                           "(experiments/results/structural_rankers)")
    training_recipe = RECIPE
    network_protocols = ("thin_copy", "block_trunk")

    # ---- strings ---------------------------------------------------------------------------------
    def parse(self, text: str) -> Architecture:
        if not isinstance(text, str):
            raise InputError(f"An NB101 architecture string must be a str, got {type(text).__name__}.")
        s = text.strip()
        if len(s) == 32 and all(c in "0123456789abcdefABCDEF" for c in s):
            return self._from_hash(s.lower())
        try:
            obj = json.loads(s)
        except json.JSONDecodeError as exc:
            raise InputError(f"Malformed NB101 string {echo(text)}: not JSON ({exc.msg} at character {exc.pos}) "
                             f"and not a 32-hex NB101 hash; expected e.g. {_EXAMPLE}.") from None
        if not isinstance(obj, dict):
            raise InputError(f"Malformed NB101 string {echo(text)}: expected a JSON object with 'matrix' and "
                             f"'ops', e.g. {_EXAMPLE}.")
        return self.parse_json(obj, _text=text)

    def parse_json(self, obj: Any, _text: str | None = None) -> Architecture:
        if isinstance(obj, str):
            return self.parse(obj)
        where = echo(_text if _text is not None else obj)
        if not isinstance(obj, dict):
            raise InputError(f"An NB101 architecture in JSON must be a string or an object with 'matrix' and "
                             f"'ops'; got {type(obj).__name__} {where}.")
        extra = sorted(set(obj) - {"matrix", "ops"})
        missing = [k for k in ("matrix", "ops") if k not in obj]
        if missing or extra:
            raise InputError(f"Malformed NB101 cell {where}: "
                             + (f"missing key(s) {missing}" if missing else f"unknown key(s) {extra}")
                             + "; an NB101 cell has exactly 'matrix' and 'ops'.")
        matrix, ops = obj["matrix"], obj["ops"]
        if not isinstance(matrix, list) or not all(isinstance(r, list) for r in matrix):
            raise InputError(f"Malformed NB101 cell {where}: 'matrix' must be a list of rows (lists of 0/1).")
        if not isinstance(ops, list):
            raise InputError(f"Malformed NB101 cell {where}: 'ops' must be a list of vertex labels.")
        rows = []
        for i, r in enumerate(matrix):
            for j, x in enumerate(r):
                if isinstance(x, bool) or x not in (0, 1):
                    raise InputError(f"Malformed NB101 cell {where}: matrix[{i}][{j}] is {echo(x, 40)}; entries "
                                     f"must be 0 or 1.")
            rows.append(tuple(int(x) for x in r))
        return self.validate(Architecture(self.name, (tuple(rows), tuple(ops))))

    def format(self, arch: Architecture) -> str:
        matrix, ops = self._spec(arch)
        return dumps({"matrix": [list(r) for r in matrix], "ops": list(ops)})

    def to_json(self, arch: Architecture) -> Any:
        matrix, ops = self._spec(self.coerce(arch))
        return {"matrix": [list(r) for r in matrix], "ops": list(ops)}

    def validate(self, arch: Architecture | str) -> Architecture:
        """Check NB101's rules and prune the vertices that are not on an input->output path."""
        a = self.coerce(arch)
        spec = a.spec
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise InputError(f"Not an NB101 architecture: spec {echo(spec)}; expected (matrix_rows, ops).")
        matrix, ops = spec
        n = len(matrix) if isinstance(matrix, tuple | list) else -1
        if n < 2 or any(not isinstance(r, tuple | list) or len(r) != n for r in matrix):
            raise InputError(f"NB101 matrix {echo(matrix)} must be square with at least 2 rows (input and output).")
        if n > 2 * MAX_VERTICES:
            raise InputError(f"NB101 matrix has {n} vertices; a cell has at most {MAX_VERTICES} (after pruning).")
        if any(x not in (0, 1) or isinstance(x, bool) for r in matrix for x in r):
            raise InputError(f"NB101 matrix {echo(matrix)} must hold only 0 and 1.")
        if not isinstance(ops, tuple | list) or len(ops) != n:
            raise InputError(f"NB101 cell has {n} matrix rows but {len(ops) if isinstance(ops, tuple | list) else 0} "
                             f"ops; give one label per vertex.")
        for i in range(n):
            for j in range(i + 1):
                if matrix[i][j]:
                    raise InputError(f"NB101 matrix must be upper triangular (edges go from a vertex to a later "
                                     f"one); matrix[{i}][{j}] is 1.")
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise InputError(f"NB101 ops {echo(list(ops))} must start with 'input' and end with 'output'.")
        for i, op in enumerate(ops[1:-1], start=1):
            if op not in OPS:
                err = UnknownNameError("NB101 operation", str(op), OPS)
                raise InputError(f"NB101 ops[{i}]: {err}")
        pruned = prune(matrix, ops)
        if pruned is None:
            raise InputError("NB101 cell does not connect the input to the output (no input->output path); "
                             "add an edge on such a path.")
        m, o = pruned
        if len(m) > MAX_VERTICES:
            raise InputError(f"NB101 cell has {len(m)} vertices on input->output paths; at most {MAX_VERTICES} "
                             f"(input and output included).")
        edges = sum(map(sum, m))
        if edges > MAX_EDGES:
            raise InputError(f"NB101 cell has {edges} edges after pruning; at most {MAX_EDGES}.")
        return Architecture(self.name, (m, o))

    def _spec(self, arch: Architecture | str) -> Spec:
        a = self.coerce(arch)
        spec = a.spec
        if not _is_pruned_spec(spec):
            spec = self.validate(a).spec
        return spec

    def _from_hash(self, h: str) -> Architecture:
        i = cell_index().find_hash(h)
        if i is None:
            raise InputError(f"{echo(h, 60)} is not the hash of an NB101 cell (none of the {N_CELLS:,} cells has it); "
                             f"check the hash or give the cell as JSON.")
        return self.at(i)

    # ---- enumeration -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return N_CELLS

    def enumerate(self) -> Iterator[Architecture]:
        idx = cell_index()
        for i in range(len(idx)):
            yield Architecture(self.name, idx.spec(i))

    def at(self, index: int) -> Architecture:
        check_int("index", index, "NB101Space.at", minimum=0)
        if index >= N_CELLS:
            raise InputError(f"NB101 index must be in [0, {N_CELLS - 1}], got {index}.")
        return Architecture(self.name, cell_index().spec(index))

    def index(self, arch: Architecture | str) -> int:
        """Position of ``arch``'s class in NB101's generation order (isomorphic cells share it)."""
        i = cell_index().find_key(iso_key(*self._spec(arch)))
        if i is None:  # every valid cell is in one of the classes
            raise DataError(f"{self.format(arch)} is not in the NB101 index; the cached index under "
                            f"{cache_dir()} is corrupt: delete it.")
        return i

    def representative(self, arch: Architecture | str) -> Architecture:
        """NB101's own cell of ``arch``'s isomorphism class (the matrix the benchmark trained)."""
        return self.at(self.index(arch))

    def neighbours(self, arch: Architecture | str) -> list[Architecture]:
        """NB101's one-edit moves (nasbench / NASLib ``get_nbhd``): change the operation of one vertex,
        or flip one edge of the cell padded to 7 vertices; invalid results dropped, isomorphic
        results merged, each given as NB101's own cell of its class (so benchmark rows match)."""
        matrix, ops = self._spec(arch)
        idx = cell_index()
        own = idx.find_key(iso_key(matrix, ops))
        n = len(matrix)
        pad = MAX_VERTICES - n
        # padded cell: the extra vertices (dangling, so pruned) sit just before the output
        order = list(range(n - 1)) + [n - 1 + pad]
        big = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
        for i in range(n):
            for j in range(n):
                big[order[i]][order[j]] = matrix[i][j]
        bops = list(ops[:-1]) + [OPS[0]] * pad + [OUTPUT]
        candidates: list[tuple[list[list[int]], list[str]]] = []
        for v in range(1, n - 1):
            for op in OPS:
                if op != ops[v]:
                    new = list(bops)
                    new[order[v]] = op
                    candidates.append((big, new))
        for x, y in _bit_pairs(MAX_VERTICES):
            m2 = [list(r) for r in big]
            m2[x][y] = 1 - m2[x][y]
            candidates.append((m2, bops))
        seen, out = {own}, []
        for m2, o2 in candidates:
            try:
                a2 = self.validate(Architecture(self.name, (tuple(map(tuple, m2)), tuple(o2))))
            except InputError:
                continue
            i = idx.find_key(iso_key(*a2.spec))
            if i is not None and i not in seen:
                seen.add(i)
                out.append(self.at(i))
        return out

    # ---- function classes ------------------------------------------------------------------------
    def canonical(self, arch: Architecture | str) -> str:
        """The NB101 graph hash (32 hex characters): equal for isomorphic cells, and the key of the
        public NB101 tables."""
        matrix, ops = self._spec(arch)
        return _hash_of(matrix, ops)

    # ---- encodings -------------------------------------------------------------------------------
    def cell_graph(self, arch: Architecture | str) -> CellGraph:
        """Operations on the vertices, plain edges; the output is the last vertex."""
        return _graph(*self._spec(arch))

    def encode(self, arch: Architecture | str, kind: str = "adjacency") -> np.ndarray:
        """Encodings for learning.

        - ``adjacency`` (alias ``onehot``, NB101's categorical variables are its edges and ops):
          the cell padded to 7 vertices (extra vertices just before the output, as NASLib pads),
          the 21 upper-triangle entries then a one-hot of the op of each of the 5 interior
          vertices (all zero for a padding vertex), 36 values.
        - ``path``: BANANAS' path encoding, the number of input->output paths per operation
          sequence of length 0..5 (the direct input->output edge is the length-0 path),
          1 + 3 + 9 + 27 + 81 + 243 = 364 values.
        """
        matrix, ops = self._spec(arch)
        if kind in ("adjacency", "onehot"):
            return _adjacency(matrix, ops).copy()
        if kind == "path":
            return path_encoding(_graph(matrix, ops), lengths=range(0, MAX_VERTICES - 1))
        raise UnknownNameError("NB101 encoding", kind, self.encodings)

    def count_params(self, arch: Architecture | str, *, num_classes: int = 10, in_channels: int = 3,
                     stem_channels: int = STEM_CHANNELS) -> int:
        """Trainable parameters of :meth:`build`'s network, computed without torch."""
        return count_params(self._spec(arch), num_classes=num_classes, in_channels=in_channels,
                            stem_channels=stem_channels)

    # ---- networks --------------------------------------------------------------------------------
    def build(self, arch: Architecture | str, *, num_classes: int = 10,
              input_shape: tuple[int, ...] = (3, 32, 32), stem_channels: int = STEM_CHANNELS,
              num_stacks: int = NUM_STACKS, cells_per_stack: int = CELLS_PER_STACK):
        """NB101's network for ``arch`` (nasbench ``model_builder``): stem 3x3 conv-BN-ReLU to
        ``stem_channels``, ``num_stacks`` stacks of ``cells_per_stack`` cells, a 2x2 max-pool and
        channel doubling before every stack but the first, global average pool, linear head.
        Fully convolutional, so any ``input_shape`` (C, H, W) works."""
        from zcnas.spaces.nb101_net import NB101Network

        check_int("num_classes", num_classes, "NB101Space.build", minimum=1)
        check_int("stem_channels", stem_channels, "NB101Space.build", minimum=1)
        check_int("num_stacks", num_stacks, "NB101Space.build", minimum=1)
        check_int("cells_per_stack", cells_per_stack, "NB101Space.build", minimum=1)
        ok = (isinstance(input_shape, tuple | list) and len(input_shape) == 3
              and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape))
        if not ok:
            raise InputError(f"The 'input_shape' parameter of NB101Space.build must be (channels, height, width) "
                             f"of positive ints. Got {input_shape!r} instead.")
        matrix, ops = self._spec(arch)
        fan_in = sum(matrix[v][-1] for v in range(1, len(matrix) - 1))
        if stem_channels < fan_in:
            raise InputError(f"The 'stem_channels' parameter of NB101Space.build must be >= {fan_in} for this cell "
                             f"(its output concatenates {fan_in} vertices). Got {stem_channels} instead.")
        return NB101Network(matrix, ops, num_classes=num_classes, in_channels=int(input_shape[0]),
                            stem_channels=stem_channels, num_stacks=num_stacks, cells_per_stack=cells_per_stack)


def _is_pruned_spec(spec: object) -> bool:
    """Cheap check that ``spec`` is what :meth:`NB101Space.validate` returns (specs built by the
    space itself skip re-validation)."""
    return isinstance(spec, tuple) and len(spec) == 2 and _valid_cached(spec)


@cache
def _valid_cached(spec: Spec) -> bool:
    try:
        return NB101Space().validate(Architecture("nb101", spec)).spec == spec
    except (InputError, TypeError):
        return False


@cache
def _hash_of(matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...]) -> str:
    return graph_hash(matrix, [_LABEL[o] for o in ops])


@cache
def _graph(matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...]) -> CellGraph:
    n = len(matrix)
    edges = tuple((i, j, None) for i in range(n) for j in range(i + 1, n) if matrix[i][j])
    labels = (None, *ops[1:-1], None)
    return CellGraph(n_nodes=n, edges=edges, node_labels=labels, inputs=(0,), output=n - 1, vocab=OPS,
                     short=SHORT, zero_ops=frozenset(), weighted_ops=CONVS, max_nodes=MAX_VERTICES)


@cache
def _adjacency(matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...]) -> np.ndarray:
    n = len(matrix)
    order = list(range(n - 1)) + [MAX_VERTICES - 1]
    big = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.float32)
    for i in range(n):
        for j in range(n):
            big[order[i], order[j]] = matrix[i][j]
    onehot = np.zeros((MAX_VERTICES - 2, len(OPS)), dtype=np.float32)
    for v in range(1, n - 1):
        onehot[v - 1, OPS.index(ops[v])] = 1.0
    out = np.concatenate([big[np.triu_indices(MAX_VERTICES, 1)], onehot.ravel()])
    out.flags.writeable = False
    return out
