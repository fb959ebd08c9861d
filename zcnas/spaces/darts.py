"""The DARTS cell space (Liu et al., ICLR 2019) as benchmarked by NAS-Bench-301 (Siems et al. 2020).

A DARTS architecture is two cells, ``normal`` and ``reduce``. Each cell has two input nodes
(0 = the output of cell k-2, 1 = the output of cell k-1), four intermediate nodes 2..5 and an
output that concatenates nodes 2, 3, 4 and 5. Every intermediate node sums two operations, each
applied to one earlier node. ``Architecture.spec`` is ``(normal, reduce)``, each a tuple of eight
``(op, input)`` pairs: pairs ``2(i-2)`` and ``2(i-2)+1`` feed node ``i``. About 10^18 cells pairs;
no enumeration.

String forms read by :meth:`DartsSpace.parse` (without ``eval``: a small literal parser):

- the DARTS repository's genotype: ``Genotype(normal=[('sep_conv_3x3', 0), ...],
  normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])`` (concat may be written
  ``range(2, 6)``; the ``Genotype`` prefix may be left out as ``normal=..., reduce=...``);
- NASLib's compact tuples as in NAS-Bench-Suite-Zero: ``[[(input, op_index) x 8], [... x 8]]``
  (lists or tuples), with ``op_index`` into :data:`NASLIB_OPS`;
- a pair of genotype cells ``[[('sep_conv_3x3', 0), ...], [...]]``;
- JSON ``{"normal": [["sep_conv_3x3", 0], ...], "reduce": [...]}`` (the form of :meth:`to_json`).

The official string (:meth:`DartsSpace.format`, the record-store key) is the DARTS genotype with
list concat, exactly as the DARTS repository prints a ``Genotype`` of lists. It keeps the pair order
as given; :meth:`DartsSpace.canonical` is the order-free key.

Rules (:meth:`DartsSpace.validate`), those of NAS-Bench-301's configuration space and of DARTS'
derivation (``genotype()`` keeps the two strongest *distinct* predecessors): node ``i`` has two
inputs from ``0 .. i-1`` and they differ; operations are the eight DARTS primitives. ``none``
(the zero operation) is accepted so that any DARTS-family genotype parses, but DARTS never
derives it, NB301 never samples it, and NASLib's compact form cannot write it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from zcnas.arch import Architecture
from zcnas.errors import InputError, UnknownNameError, check_int
from zcnas.graph import CellGraph, path_encoding
from zcnas.spaces import register_space
from zcnas.spaces.base import SearchSpace, TrainingRecipe, _rng, echo
from zcnas.spaces.darts_defs import NODES

#: the DARTS primitives, in the DARTS repository's ``PRIMITIVES`` order
OPS: tuple[str, ...] = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
                        "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
#: the operations an NB301 architecture uses (everything but ``none``)
LIVE_OPS: tuple[str, ...] = OPS[1:]
#: NASLib's compact op indices (``naslib/search_spaces/nasbench301/conversions.py``)
NASLIB_OPS: tuple[str, ...] = LIVE_OPS
SHORT: tuple[str, ...] = ("none", "max", "avg", "skip", "s3", "s5", "d3", "d5")
CONVS = frozenset({"sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"})
CELLS: tuple[str, ...] = ("normal", "reduce")
CONCAT: tuple[int, ...] = (2, 3, 4, 5)
#: the 14 possible edges (src, dst) of a cell, by destination then source (DARTS' edge order)
EDGES: tuple[tuple[int, int], ...] = tuple((s, d) for d in NODES for s in range(d))
#: path lengths counted by the "path" encoding (length-4 paths 0/1->2->3->4->5 are dropped)
PATH_LENGTHS: tuple[int, ...] = (1, 2, 3)

#: NB301's training recipe: the DARTS evaluation recipe with 100 epochs and 32 channels / 8 cells
RECIPE = TrainingRecipe(
    lr=0.025, momentum=0.9, nesterov=False, weight_decay=3e-4, batch_size=96, epochs=100, schedule="cosine",
    augment="crop_flip", crop_padding=4, grad_clip=5.0,
    source="NAS-Bench-301 (Siems et al. 2020, Sec. 3 / App.): the DARTS evaluation recipe (Liu et al., ICLR "
           "2019, Sec. A.2: SGD momentum 0.9, lr 0.025 cosine to 0, wd 3e-4, batch 96, crop+flip, cutout 16, "
           "drop-path 0.2, auxiliary weight 0.4, grad-norm clip 5) for 100 epochs at 32 channels and 8 cells "
           "(DARTS: 600 epochs, 36 channels, 20 cells). 100 epochs / 32 channels / 8 cells also in NASLib's "
           "nasbench301/graph.py (max_epoch=100, channels [32, 64, 128]); the other values are DARTS' and were "
           "not re-checked against NB301's appendix table here. Cutout, drop-path and the auxiliary head are not "
           "expressed by TrainingRecipe: short training here uses crop+flip only.")

Spec = tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]


# ---- a literal parser (no eval) ----------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<num>-?\d+)|(?P<str>'[^'\\]*'|\"[^\"\\]*\")|(?P<name>[A-Za-z_][A-Za-z_0-9.]*)"
                    r"|(?P<punct>[()\[\],=]))")
_CALLS = ("Genotype", "range")


class _Call:
    def __init__(self, name: str, args: list, kwargs: dict):
        self.name, self.args, self.kwargs = name, args, kwargs


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    s = text.rstrip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise InputError(f"Malformed DARTS genotype {echo(text)}: unexpected character {s[pos:].lstrip()[:1]!r} "
                             f"at position {pos}; expected Genotype(normal=[('op', input), ...], ...), NASLib "
                             f"tuples [[(input, op_index), ...], [...]] or JSON.")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _literal(text: str) -> Any:
    """Python literal of ints, quoted strings, lists, tuples and the calls ``Genotype(...)`` and
    ``range(a, b)``; anything else is an error (never ``eval``)."""
    toks = _tokens(text)
    i = 0

    def fail(what: str) -> InputError:
        got = toks[i][1] if i < len(toks) else "end of text"
        return InputError(f"Malformed DARTS genotype {echo(text)}: expected {what}, got {echo(got, 40)}.")

    def peek() -> str | None:
        return toks[i][1] if i < len(toks) else None

    def expect(p: str) -> None:
        nonlocal i
        if peek() != p:
            raise fail(repr(p))
        i += 1

    def value() -> Any:
        nonlocal i
        if i >= len(toks):
            raise fail("a value")
        kind, tok = toks[i]
        if kind == "num":
            i += 1
            return int(tok)
        if kind == "str":
            i += 1
            return tok[1:-1]
        if tok in "([":
            close = ")" if tok == "(" else "]"
            i += 1
            items = []
            while peek() != close:
                items.append(value())
                if peek() == ",":
                    i += 1
                elif peek() != close:
                    raise fail(f"',' or {close!r}")
            i += 1
            return tuple(items) if close == ")" else items
        if kind == "name":
            name = tok.rsplit(".", 1)[-1]
            if name not in _CALLS:
                raise InputError(f"Malformed DARTS genotype {echo(text)}: unknown name {echo(tok, 40)}; only "
                                 f"Genotype(...) and range(...) are read.")
            i += 1
            return call(name)
        raise fail("a value")

    def call(name: str) -> _Call:
        nonlocal i
        expect("(")
        args, kwargs = [], {}
        while peek() != ")":
            if i + 1 < len(toks) and toks[i][0] == "name" and toks[i + 1][1] == "=":
                key = toks[i][1]
                i += 2
                kwargs[key] = value()
            else:
                args.append(value())
            if peek() == ",":
                i += 1
            elif peek() != ")":
                raise fail("',' or ')'")
        i += 1
        return _Call(name, args, kwargs)

    # keyword arguments without the Genotype( ... ) wrapper
    if len(toks) > 1 and toks[0][0] == "name" and toks[1][1] == "=":
        toks = [("name", "Genotype"), ("punct", "("), *toks, ("punct", ")")]
    v = value()
    if i != len(toks):
        raise fail("the end of the genotype")
    return v


def _concat(v: Any, field: str, text: object) -> None:
    shown = f"{v.name}({', '.join(map(repr, v.args))})" if isinstance(v, _Call) else repr(v)
    if isinstance(v, _Call) and v.name == "range" and not v.kwargs and all(isinstance(a, int) for a in v.args):
        v = list(range(*v.args))
    if not isinstance(v, list | tuple) or list(v) != list(CONCAT):
        raise InputError(f"Bad DARTS genotype {echo(text)}: {field}={shown}; the DARTS space concatenates "
                         f"nodes [2, 3, 4, 5] in every cell.")


def _cell(v: Any, field: str, text: object) -> tuple[tuple[str, int], ...]:
    """One cell as (op, input) pairs, from genotype pairs (op, input) or NASLib pairs (input, op_index)."""
    if not isinstance(v, list | tuple) or len(v) != 8:
        n = len(v) if isinstance(v, list | tuple) else type(v).__name__
        raise InputError(f"Bad DARTS genotype {echo(text)}: the {field} cell must list 8 (op, input) pairs "
                         f"(2 per node 2..5), got {n}.")
    out = []
    for k, p in enumerate(v):
        ok = isinstance(p, list | tuple) and len(p) == 2
        if ok and isinstance(p[0], str) and _is_int(p[1]):
            out.append((p[0], int(p[1])))
        elif ok and _is_int(p[0]) and _is_int(p[1]):
            if not 0 <= p[1] < len(NASLIB_OPS):
                raise InputError(f"Bad DARTS genotype {echo(text)}: {field} pair {k} {tuple(p)!r} has NASLib op "
                                 f"index {p[1]}, outside 0..{len(NASLIB_OPS) - 1} ({', '.join(NASLIB_OPS)}).")
            out.append((NASLIB_OPS[p[1]], int(p[0])))
        else:
            raise InputError(f"Bad DARTS genotype {echo(text)}: {field} pair {k} is {echo(p, 40)}; expected "
                             f"('op', input) or NASLib's (input, op_index).")
    return tuple(out)


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


def _from_value(v: Any, text: object) -> Spec:
    """A spec from a parsed literal or decoded JSON value."""
    if isinstance(v, _Call):
        if v.name != "Genotype":
            raise InputError(f"Bad DARTS genotype {echo(text)}: expected Genotype(...), got {v.name}(...).")
        fields = ("normal", "normal_concat", "reduce", "reduce_concat")
        kw = dict(zip(fields, v.args))
        dup = set(kw) & set(v.kwargs)
        if dup or len(v.args) > 4:
            raise InputError(f"Bad DARTS genotype {echo(text)}: Genotype takes normal, normal_concat, reduce, "
                             f"reduce_concat once each.")
        kw.update(v.kwargs)
        v = kw
    if isinstance(v, dict):
        unknown = set(v) - {"normal", "normal_concat", "reduce", "reduce_concat"}
        if unknown:
            raise InputError(f"Bad DARTS genotype {echo(text)}: unknown field(s) {sorted(unknown)}; expected "
                             f"normal, reduce and optionally normal_concat, reduce_concat.")
        for f in ("normal", "reduce"):
            if f not in v:
                raise InputError(f"Bad DARTS genotype {echo(text)}: the {f!r} cell is missing.")
        for f in ("normal_concat", "reduce_concat"):
            if f in v:
                _concat(v[f], f, text)
        return (_cell(v["normal"], "normal", text), _cell(v["reduce"], "reduce", text))
    if isinstance(v, list | tuple) and len(v) == 2:
        return (_cell(v[0], "normal", text), _cell(v[1], "reduce", text))
    raise InputError(f"Bad DARTS genotype {echo(text)}: expected Genotype(normal=..., reduce=...), two cells "
                     f"[[...], [...]] or JSON {{\"normal\": ..., \"reduce\": ...}}.")


def _check(spec: Any, shown: object) -> Spec:
    """``spec`` checked against the DARTS rules (returns it as nested tuples)."""
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise InputError(f"Not a DARTS architecture: spec {echo(shown)}; expected (normal, reduce), each 8 "
                         f"(op, input) pairs.")
    for name, cell in zip(CELLS, spec):
        if not isinstance(cell, tuple) or len(cell) != 8:
            raise InputError(f"Not a DARTS architecture {echo(shown)}: the {name} cell must have 8 (op, input) "
                             f"pairs.")
        for k, pair in enumerate(cell):
            node = NODES[k // 2]
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) and _is_int(pair[1])):
                raise InputError(f"Not a DARTS architecture {echo(shown)}: {name} pair {k} is {echo(pair, 40)}, "
                                 f"not ('op', input).")
            op, inp = pair
            if op not in OPS:
                err = UnknownNameError("DARTS operation", op, OPS)
                raise InputError(f"Bad DARTS genotype {echo(shown)}: {name} node {node}: {err}")
            if not 0 <= inp < node:
                raise InputError(f"Bad DARTS genotype {echo(shown)}: {name} node {node} takes input {inp}; a node "
                                 f"{node} input must be one of 0..{node - 1} (0, 1 = the two previous cells).")
        for node in NODES:
            a, b = cell[2 * (node - 2)][1], cell[2 * (node - 2) + 1][1]
            if a == b:
                raise InputError(f"Bad DARTS genotype {echo(shown)}: {name} node {node} takes input {a} twice; "
                                 f"DARTS and NB301 give each node two distinct predecessors.")
    return spec


def _spec_str(spec: Spec) -> str:
    def cell(c):
        return "[" + ", ".join(f"('{op}', {i})" for op, i in c) + "]"

    return (f"Genotype(normal={cell(spec[0])}, normal_concat=[2, 3, 4, 5], reduce={cell(spec[1])}, "
            f"reduce_concat=[2, 3, 4, 5])")


# ---- the space ----------------------------------------------------------------------------------------


@register_space("darts", aliases=("nb301", "nasbench301", "nas-bench-301"),
                description="DARTS cell space (NAS-Bench-301): normal + reduction cell, 4 nodes x 2 inputs, "
                            "7 operations, ~10^18 architectures")
class DartsSpace(SearchSpace):
    """The DARTS / NAS-Bench-301 cell search space (not enumerable)."""

    ops = OPS
    encodings = ("onehot", "adjacency", "path")
    default_dataset = "cifar10"
    datasets = ("cifar10",)
    default_proxies = "@zcnas_darts_graph"
    default_aggregate = "mean_log_rank"
    default_ranker_note = ("@zcnas_darts_graph with mean_log_rank (structural: no network, no data): Spearman "
                           "0.795 +- 0.026 with NB301's SURROGATE-predicted accuracy on held-out halves of the 725 "
                           "(experiments/results/structural_rankers)")
    training_recipe = RECIPE
    network_protocols = ("thin_copy", "block_trunk")

    # ---- strings ---------------------------------------------------------------------------------
    def parse(self, text: str) -> Architecture:
        if not isinstance(text, str):
            raise InputError(f"A DARTS genotype must be a str, got {type(text).__name__}.")
        s = text.strip()
        if s.startswith("{"):
            try:
                obj = json.loads(s)
            except json.JSONDecodeError as exc:
                raise InputError(f"Malformed DARTS JSON genotype {echo(text)}: {exc.msg} at position {exc.pos}."
                                 ) from None
            return self.parse_json(obj)
        return Architecture(self.name, _check(_from_value(_literal(s), text), text))

    def parse_json(self, obj: Any) -> Architecture:
        """A string form, ``{"normal": [[op, input] x 8], "reduce": [...]}`` or the two NASLib cells."""
        if isinstance(obj, str):
            return self.parse(obj)
        if isinstance(obj, dict | list | tuple):
            return Architecture(self.name, _check(_from_value(obj, obj), obj))
        raise InputError(f"A DARTS architecture in JSON must be a string or an object {{\"normal\": ..., "
                         f"\"reduce\": ...}}; got {type(obj).__name__} {echo(obj)}.")

    def to_json(self, arch: Architecture | str) -> dict[str, list[list]]:
        n, r = self._spec(arch)
        return {"normal": [[op, i] for op, i in n], "reduce": [[op, i] for op, i in r]}

    def format(self, arch: Architecture | str) -> str:
        return _spec_str(self._spec(arch))

    def format_naslib(self, arch: Architecture | str) -> str:
        """NASLib's compact form ``[[(input, op_index) x 8], [...]]`` (as in NAS-Bench-Suite-Zero)."""
        spec = self._spec(arch)
        if any(op == "none" for c in spec for op, _ in c):
            raise InputError(f"{_spec_str(spec)[:80]}... uses 'none', which NASLib's compact form cannot write.")
        return "[" + ", ".join("[" + ", ".join(f"({i}, {NASLIB_OPS.index(op)})" for op, i in c) + "]"
                               for c in spec) + "]"

    def validate(self, arch: Architecture | str) -> Architecture:
        a = self.coerce(arch)
        self._spec(a)
        return a

    def _spec(self, arch: Architecture | str) -> Spec:
        a = self.coerce(arch)
        return _check(a.spec, a.spec)

    # ---- search moves ----------------------------------------------------------------------------
    def sample(self, n: int, rng: int | np.random.Generator | None = 0, *, replace: bool = False,
               seed: int | None = None) -> list[Architecture]:
        """As NASLib's ``sample_random_architecture`` for NB301: for each cell and node, two distinct
        inputs uniform among the earlier nodes, and each operation uniform over the seven operations
        (``none`` excluded), all draws independent. ``replace=False`` redraws duplicates."""
        check_int("n", n, "DartsSpace.sample", minimum=1)
        g = _rng(rng if seed is None else seed)
        out: list[Architecture] = []
        seen: set = set()
        while len(out) < n:
            spec = tuple(self._sample_cell(g) for _ in CELLS)
            if not replace and spec in seen:
                continue
            seen.add(spec)
            out.append(Architecture(self.name, spec))
        return out

    @staticmethod
    def _sample_cell(g: np.random.Generator) -> tuple[tuple[str, int], ...]:
        pairs = []
        for node in NODES:
            inputs = g.choice(node, size=2, replace=False)
            ops = g.integers(len(LIVE_OPS), size=2)
            pairs += [(LIVE_OPS[int(o)], int(i)) for o, i in zip(ops, inputs)]
        return tuple(pairs)

    def neighbours(self, arch: Architecture | str) -> list[Architecture]:
        """Every architecture that differs in one operation (to another of the seven) or in one input
        (to another earlier node not already feeding that node): 96 operation changes and 24 input
        changes. Pair order is kept."""
        spec = self._spec(arch)
        out = []
        for c, cell in enumerate(spec):
            for k, (op, inp) in enumerate(cell):
                for new in LIVE_OPS:
                    if new != op:
                        out.append(_replace(spec, c, k, (new, inp)))
            for k, (op, inp) in enumerate(cell):
                node, other = NODES[k // 2], cell[k ^ 1][1]
                for new in range(node):
                    if new not in (inp, other):
                        out.append(_replace(spec, c, k, (op, new)))
        return [Architecture(self.name, s) for s in out]

    # ---- function classes ------------------------------------------------------------------------
    def canonical(self, arch: Architecture | str) -> str:
        """The genotype string of the smallest equivalent spec, shared by cells that compute the same
        function class. Two equalities, both exact for any weights:

        1. the order of a node's two (op, input) pairs: the node sums them;
        2. renumbering the intermediate nodes (a permutation of 2..5 under which every node still
           takes inputs from earlier nodes): it only permutes the channel blocks of the cell's
           concatenated output, and every consumer of a cell output (the next cells' 1x1
           ReLU-conv-BN or FactorizedReduce preprocessing, the global pool and linear classifier,
           the auxiliary head) applies per-channel-independent weights whose rows can be permuted
           the same way; with i.i.d. initialisation the initial distributions coincide too.

        Each cell is canonicalised on its own. Cells with ``none`` are not merged further."""
        return _spec_str(_canonical(self._spec(arch)))

    # ---- encodings -------------------------------------------------------------------------------
    def cell_graph(self, arch: Architecture | str) -> tuple[CellGraph, CellGraph]:
        """Two graphs named ``normal`` and ``reduce``: nodes 0, 1 (inputs c_{k-2}, c_{k-1}), 2..5
        (intermediate), 6 (output, the concat; its edges from 2..5 carry no label); one operation
        per (op, input) pair, edges ordered by destination then source."""
        spec = self._spec(arch)
        return _graph(spec[0], "normal"), _graph(spec[1], "reduce")

    def encode(self, arch: Architecture | str, kind: str = "onehot") -> np.ndarray:
        """Encodings for learning (all independent of a node's pair order).

        - ``onehot``: per cell, the 14 possible edges (by destination, then source) x the 8
          primitives, one-hot where the edge is used, zero where it is not: 2 x 112 = 224 values.
        - ``adjacency``: per cell, the operation-on-node DAG (inputs 0, 1; the 8 operations with each
          node's pairs sorted; output): upper triangle of its 11 x 11 adjacency (55) and the
          operations' one-hot (8 x 8), 119 values; 238 for both cells.
        - ``path``: BANANAS path encoding of both cell graphs over the 7 live operations, paths of 1,
          2 and 3 operations (7 + 49 + 343 = 399 per cell, 798 in all). The only longer paths,
          0/1 -> 2 -> 3 -> 4 -> 5, are not counted (BANANAS truncates the same way).
        """
        spec = self._spec(arch)
        if kind == "onehot":
            return np.concatenate([_onehot(c) for c in spec])
        if kind == "adjacency":
            return np.concatenate([_adjacency(c) for c in spec])
        if kind == "path":
            return path_encoding(self.cell_graph(arch), lengths=PATH_LENGTHS)
        raise UnknownNameError("DARTS encoding", kind, self.encodings)

    # ---- networks --------------------------------------------------------------------------------
    def cost_terms(self, arch: Architecture | str) -> dict[tuple[str, int, int, str], int]:
        """Each of a cell's eight (op, input) pairs runs once per cell of its type; its cost depends on
        the cell type, the node, the input (stride 2 from a reduction cell's inputs) and the op."""
        terms: dict[tuple[str, int, int, str], int] = {}
        for cell, pairs in zip(CELLS, self.coerce(arch).spec):
            for i, (op, inp) in enumerate(pairs):
                key = (cell, 2 + i // 2, int(inp), op)
                terms[key] = terms.get(key, 0) + 1
        return terms

    def build(self, arch: Architecture | str, *, num_classes: int = 10, input_shape: tuple[int, ...] = (3, 32, 32),
              channels: int = 32, layers: int = 8, construction: str = "naslib", auxiliary: bool = False,
              drop_path_prob: float = 0.0):
        """The DARTS evaluation network for ``arch`` (:mod:`zcnas.spaces.darts_net`).

        Defaults give the network NB301 trained, as NASLib builds it (its parameter counts are the
        published ``params`` of NAS-Bench-Suite-Zero): 32 initial channels, 8 cells, reduction cells
        at 1/3 and 2/3 of the depth. ``channels=36, layers=20, construction="darts"`` is the DARTS
        paper's CIFAR-10 network (``construction="darts"``: the DARTS repository's operations, affine
        batch norms everywhere, no batch norm after pooling). ``auxiliary=True`` adds the auxiliary
        head (its logits are returned in training mode as ``(logits, aux_logits)``);
        ``drop_path_prob`` applies drop-path in training mode only."""
        from zcnas.spaces.darts_net import CONSTRUCTIONS, DartsNetwork

        check_int("num_classes", num_classes, "DartsSpace.build", minimum=1)
        check_int("channels", channels, "DartsSpace.build", minimum=1)
        check_int("layers", layers, "DartsSpace.build", minimum=3)
        ok = (isinstance(input_shape, tuple | list) and len(input_shape) == 3
              and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape))
        if not ok:
            raise InputError(f"The 'input_shape' parameter of DartsSpace.build must be (channels, height, width) "
                             f"of positive ints. Got {input_shape!r} instead.")
        if construction not in CONSTRUCTIONS:
            raise UnknownNameError("DARTS network construction", construction, CONSTRUCTIONS)
        if not 0.0 <= float(drop_path_prob) < 1.0:
            raise InputError(f"The 'drop_path_prob' parameter of DartsSpace.build must be in [0, 1). "
                             f"Got {drop_path_prob!r} instead.")
        return DartsNetwork(self._spec(arch), num_classes=num_classes, channels=channels, layers=layers,
                            in_channels=int(input_shape[0]), construction=construction, auxiliary=auxiliary,
                            drop_path_prob=float(drop_path_prob))


def _replace(spec: Spec, c: int, k: int, pair: tuple[str, int]) -> Spec:
    cell = spec[c][:k] + (pair,) + spec[c][k + 1:]
    return (cell, spec[1]) if c == 0 else (spec[0], cell)


def _sorted_pairs(cell: Sequence[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    out: list[tuple[str, int]] = []
    for k in range(0, 8, 2):
        out += sorted(cell[k:k + 2], key=lambda p: (p[1], OPS.index(p[0])))
    return tuple(out)


@cache
def _canonical_cell(cell: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    best = None
    for perm in itertools.permutations(NODES):
        new_of = {0: 0, 1: 1, **dict(zip(NODES, perm))}
        nodes: dict[int, list[tuple[str, int]]] = {}
        for k, (op, inp) in enumerate(cell):
            nodes.setdefault(new_of[NODES[k // 2]], []).append((op, new_of[inp]))
        if any(inp >= n for n, ps in nodes.items() for _, inp in ps):
            continue  # not a valid (topologically ordered) numbering
        cand = _sorted_pairs([p for n in NODES for p in nodes[n]])
        key = tuple((i, OPS.index(op)) for op, i in cand)
        if best is None or key < best[0]:
            best = (key, cand)
    assert best is not None  # the identity permutation is always valid
    return best[1]


def _canonical(spec: Spec) -> Spec:
    return (_canonical_cell(spec[0]), _canonical_cell(spec[1]))


@cache
def _graph(cell: tuple[tuple[str, int], ...], name: str) -> CellGraph:
    pairs = sorted(((inp, NODES[k // 2], op) for k, (op, inp) in enumerate(cell)), key=lambda e: (e[1], e[0]))
    edges = tuple(pairs) + tuple((n, 6, None) for n in CONCAT)
    return CellGraph(n_nodes=7, edges=edges, node_labels=(None,) * 7, inputs=(0, 1), output=6, vocab=OPS,
                     short=SHORT, zero_ops=frozenset({"none"}), weighted_ops=CONVS, max_nodes=7, name=name)


def _onehot(cell: Sequence[tuple[str, int]]) -> np.ndarray:
    v = np.zeros((len(EDGES), len(OPS)), dtype=np.float32)
    for k, (op, inp) in enumerate(cell):
        v[EDGES.index((inp, NODES[k // 2])), OPS.index(op)] = 1.0
    return v.ravel()


def _adjacency(cell: Sequence[tuple[str, int]]) -> np.ndarray:
    cell = _sorted_pairs(cell)
    n = 11  # 0, 1 = inputs; 2..9 = the 8 operations; 10 = output
    adj = np.zeros((n, n), dtype=np.float32)
    for k, (_, inp) in enumerate(cell):
        if inp < 2:
            adj[inp, 2 + k] = 1
        else:  # fed by both operations of node ``inp``
            adj[2 + 2 * (inp - 2), 2 + k] = adj[3 + 2 * (inp - 2), 2 + k] = 1
        adj[2 + k, 10] = 1  # every node is concatenated into the output
    onehot = np.zeros((8, len(OPS)), dtype=np.float32)
    for k, (op, _) in enumerate(cell):
        onehot[k, OPS.index(op)] = 1.0
    return np.concatenate([adj[np.triu_indices(n, 1)], onehot.ravel()])


# ---- analytic network counts (no torch) ------------------------------------------------------------


def _cells_layout(layers: int, channels: int):
    """(c_prev_prev, c_prev, c, reduction, reduction_prev) of every cell of the DARTS network."""
    red = (layers // 3, 2 * layers // 3)
    c_pp = c_p = 3 * channels
    c = channels
    out, red_prev = [], False
    for i in range(layers):
        r = i in red
        if r:
            c *= 2
        out.append((c_pp, c_p, c, r, red_prev))
        red_prev = r
        c_pp, c_p = c_p, len(CONCAT) * c
    return out, c_p


def count_params(arch: Architecture | str, *, num_classes: int = 10, in_channels: int = 3, channels: int = 32,
                 layers: int = 8, construction: str = "naslib", auxiliary: bool = False) -> int:
    """Trainable parameters of ``DartsSpace.build(arch, ...)`` computed without torch (equal to the
    built network's count; NAS-Bench-Suite-Zero's ``params`` is this / 1e6 at the defaults)."""
    from zcnas.spaces import get_space

    spec = get_space("darts")._spec(arch)
    b = 2 if construction == "darts" else 0  # affine batch norms inside the cell operations

    def op(name: str, c: int, stride: int) -> int:
        if name in ("none", "max_pool_3x3", "avg_pool_3x3") or (name == "skip_connect" and stride == 1):
            return 0
        if name == "skip_connect":
            return 2 * c * (c // 2) + b * c
        k = int(name[-1])
        one = c * k * k + c * c + b * c
        return 2 * one if name.startswith("sep") else one

    cells, c_last = _cells_layout(layers, channels)
    n = in_channels * 3 * channels * 9 + 2 * 3 * channels
    for c_pp, c_p, c, red, red_prev in cells:
        n += (2 * c_pp * (c // 2) if red_prev else c_pp * c) + 2 * c + c_p * c + 2 * c
        n += sum(op(o, c, 2 if red and i < 2 else 1) for o, i in spec[1 if red else 0])
    n += c_last * num_classes + num_classes
    if auxiliary:
        c_aux = len(CONCAT) * cells[max(layers // 3, 2 * layers // 3)][2]
        n += c_aux * 128 + 2 * 128 + 128 * 768 * 4 + 2 * 768 + 768 * num_classes + num_classes
    return n


def count_flops(arch: Architecture | str, *, num_classes: int = 10, input_shape: tuple[int, int, int] = (3, 32, 32),
                channels: int = 32, layers: int = 8, construction: str = "naslib") -> int:
    """FLOPs of one image through ``DartsSpace.build(arch, ...)`` in eval mode, in the convention of
    NAS-Bench-Suite-Zero's ``flops`` (tensorwatch/torchstat ``ModelStats.Flops``, divided by 1e6
    there): a convolution counts k*k*C_in*C_out/groups per output pixel (a multiply-add is 1), a
    batch norm 1 per element (2 if affine), a ReLU 1 per input element, a k x k pool k*k per
    output element, the global pool C*(H+1)*(W+1), the linear layer C_in*C_out; additions of a
    node's inputs, concatenations and identities count 0. Computed without torch; equal to the
    published value on all 725 architectures of the NAS-Bench-Suite-Zero sample."""
    from zcnas.spaces import get_space

    spec = get_space("darts")._spec(arch)
    bn = 2 if construction == "darts" else 1  # batch norms inside the cell operations
    in_c, h, w = input_shape

    def size(x: int, k: int, s: int, p: int, d: int = 1) -> int:
        return (x + 2 * p - d * (k - 1) - 1) // s + 1

    def relu_conv_bn(cin: int, cout: int, h: int, w: int) -> int:
        return cin * h * w + cin * cout * h * w + 2 * cout * h * w

    def fact_reduce(cin: int, cout: int, h: int, w: int, affine_bn: int) -> int:
        oh, ow = size(h, 1, 2, 0), size(w, 1, 2, 0)
        o2h, o2w = size(h - 1 + h % 2, 1, 2, 0), size(w - 1 + w % 2, 1, 2, 0)  # odd sizes are padded
        return cin * h * w + cin * (cout // 2) * (oh * ow + o2h * o2w) + affine_bn * cout * oh * ow

    def dil(c: int, k: int, s: int, p: int, d: int, h: int, w: int) -> tuple[int, int, int]:
        oh, ow = size(h, k, s, p, d), size(w, k, s, p, d)
        return c * h * w + k * k * c * oh * ow + c * c * oh * ow + bn * c * oh * ow, oh, ow

    def op(name: str, c: int, s: int, h: int, w: int) -> int:
        if name == "none" or (name == "skip_connect" and s == 1):
            return 0
        if name == "skip_connect":
            return fact_reduce(c, c, h, w, bn)
        if name in ("max_pool_3x3", "avg_pool_3x3"):
            oh, ow = size(h, 3, s, 1), size(w, 3, s, 1)
            return 9 * c * oh * ow + (c * oh * ow if construction == "naslib" else 0)
        k = int(name[-1])
        if name.startswith("sep"):
            f1, oh, ow = dil(c, k, s, k // 2, 1, h, w)
            return f1 + dil(c, k, 1, k // 2, 1, oh, ow)[0]
        return dil(c, k, s, 2 * (k // 2), 2, h, w)[0]

    cells, c_last = _cells_layout(layers, channels)
    total = 9 * in_c * 3 * channels * h * w + 2 * 3 * channels * h * w
    h_pp, w_pp = h, w  # spatial size of c_{k-2}
    for c_pp, c_p, c, red, red_prev in cells:
        total += fact_reduce(c_pp, c, h_pp, w_pp, 2) if red_prev else relu_conv_bn(c_pp, c, h_pp, w_pp)
        total += relu_conv_bn(c_p, c, h, w)
        for name, i in spec[1 if red else 0]:
            s = 2 if red and i < 2 else 1
            if i < 2:
                total += op(name, c, s, h, w)
            else:  # an intermediate node: at the cell's output size
                total += op(name, c, 1, size(h, 3, 2, 1) if red else h, size(w, 3, 2, 1) if red else w)
        h_pp, w_pp = h, w
        if red:
            h, w = size(h, 3, 2, 1), size(w, 3, 2, 1)
    return total + c_last * (h + 1) * (w + 1) + c_last * num_classes
