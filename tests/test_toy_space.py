"""A search space defined entirely in this file gets every downstream feature of zcnas: ranking,
dedupe, graph features, a surrogate fit and ``zcnas bench``, with no other file touched.

The toy cell: nodes 0 (input), 1, 2 (output); edges 0->1, 0->2, 1->2, each one of
``none`` / ``skip`` / ``conv`` (27 cells). Two cells are the same function when they agree on the
edges that reach the output (a cell whose 0->1 edge feeds nothing is canonicalised to ``none``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from zcnas.arch import Architecture
from zcnas.cli import main
from zcnas.errors import InputError
from zcnas.graph import CellGraph, path_encoding
from zcnas.ranking import AggregateSelector, Candidates, ProxyScorer, rank
from zcnas.ranking.scoring import ScoringConfig, score_architectures
from zcnas.spaces import SPACES, EnumerableSpace, get_space, register_space
from zcnas.surrogate import FeatureSpec, XGBSurrogate

OPS = ("none", "skip", "conv")
EDGES = ((0, 1), (0, 2), (1, 2))


class ToyNet(nn.Module):
    def __init__(self, ops, num_classes, c_in, width=4):
        super().__init__()
        self.ops = ops
        self.stem = nn.Conv2d(c_in, width, 3, padding=1)
        self.edge = nn.ModuleDict({str(i): nn.Conv2d(width, width, 3, padding=1)
                                   for i, op in enumerate(ops) if op == "conv"})
        self.head = nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))

    def _e(self, i, x):
        op = self.ops[i]
        return torch.zeros_like(x) if op == "none" else (x if op == "skip" else self.edge[str(i)](x).relu())

    def forward(self, x):
        x0 = self.stem(x)
        x1 = self._e(0, x0)
        return self.head(self._e(1, x0) + self._e(2, x1))


def _register():
    if "toy_test" in SPACES:
        return get_space("toy_test")

    @register_space("toy_test", description="test-only 3-node cell")
    class ToySpace(EnumerableSpace):
        encodings = ("onehot", "path")
        default_dataset = "digits"

        def parse(self, text):
            parts = text.split("-")
            if len(parts) != 3 or any(p not in OPS for p in parts):
                raise InputError(f"bad toy string {text!r}: expected three of {OPS} joined by '-'")
            return Architecture(self.name, tuple(parts))

        def format(self, arch):
            return "-".join(arch.spec)

        def validate(self, arch):
            return self.parse(self.format(arch))

        def __len__(self):
            return 27

        def enumerate(self):
            for ops in itertools.product(OPS, repeat=3):
                yield Architecture(self.name, ops)

        def index(self, arch):
            return list(itertools.product(OPS, repeat=3)).index(self.coerce(arch).spec)

        def at(self, index):
            return Architecture(self.name, list(itertools.product(OPS, repeat=3))[index])

        def neighbours(self, arch):
            a = self.coerce(arch).spec
            return [Architecture(self.name, a[:i] + (o,) + a[i + 1:]) for i in range(3) for o in OPS if o != a[i]]

        def canonical(self, arch):
            a = self.coerce(arch).spec
            return "-".join(a if a[2] != "none" else ("none", a[1], "none"))

        def cell_graph(self, arch):
            a = self.coerce(arch).spec
            return CellGraph(n_nodes=3, edges=tuple((s, d, op) for (s, d), op in zip(EDGES, a)),
                             node_labels=(None,) * 3, inputs=(0,), output=2, vocab=OPS,
                             weighted_ops=frozenset({"conv"}))

        def encode(self, arch, kind="onehot"):
            a = self.coerce(arch).spec
            if kind == "onehot":
                return np.eye(3, dtype=np.float32)[[OPS.index(o) for o in a]].ravel()
            self.check_encoding(kind)
            return path_encoding(self.cell_graph(arch), lengths=(1, 2))

        def build(self, arch, *, num_classes=10, input_shape=(3, 32, 32), **options):
            return ToyNet(self.coerce(arch).spec, num_classes, input_shape[0])

    return get_space("toy_test")


@pytest.fixture(scope="module")
def toy():
    return _register()


def _truth(space) -> pd.DataFrame:
    """A made-up accuracy that grows with the convolutions on the input->output path."""
    rows = []
    for a in space.enumerate():
        g = space.graph_features(a)
        names = space.graph_feature_names()
        rows.append({"arch": space.format(a), "acc": 50 + 10 * g[names.index("conv_depth")]
                     + 5 * g[names.index("n_live_paths")]})
    return pd.DataFrame(rows)


def test_toy_space_ranks_and_dedupes(toy, tmp_path):
    scorer = ProxyScorer("params,synflow", ScoringConfig("toy_test", dataset="digits", batch_size=8))
    res = rank(Candidates("toy_test", all=True), scorer, selector=AggregateSelector("mean_rank"),
               store=tmp_path / "toy.h5")
    assert len(res.table) == 27 and res.table["rank"].tolist() == list(range(1, 28))
    cfg = ScoringConfig(space="toy_test", batch_size=8, dedupe=True)
    long = score_architectures([toy.format(a) for a in toy.enumerate()], ["synflow"], cfg, progress=False)
    copied = long[long["reason"].str.contains("same function class")]
    n_classes = len({toy.canonical(a) for a in toy.enumerate()})
    assert len(long) == 27 and len(copied) == 27 - n_classes  # one network per class was scored


def test_toy_space_graph_features_and_surrogate(toy):
    names = toy.graph_feature_names()
    g = toy.graph_features("conv-none-conv")
    assert dict(zip(names, g))["conv_depth"] == 2 and dict(zip(names, g))["n_live_paths"] == 1
    truth = _truth(toy)
    spec = FeatureSpec("toy_test", encodings=("onehot", "path"), graph=True)
    model = XGBSurrogate(features=spec, n_estimators=50, max_depth=2).fit(truth[["arch"]], truth["acc"])
    pred = model.predict(truth[["arch"]])
    assert np.corrcoef(pred, truth["acc"])[0, 1] > 0.9


def test_toy_space_zcnas_bench(toy, tmp_path, capsys):
    truth = _truth(toy)
    scores = truth[["arch"]].assign(depth=[toy.graph_features(a)[toy.graph_feature_names().index("depth")]
                                           for a in truth["arch"]])
    scores.to_csv(tmp_path / "scores.csv", index=False)
    truth.to_csv(tmp_path / "truth.csv", index=False)
    rc = main(["bench", "--scores", str(tmp_path / "scores.csv"), "--truth", str(tmp_path / "truth.csv"),
               "--truth-metric", "acc", "--direction", "depth=+1", "--bootstrap", "50", "--format", "csv"])
    out = capsys.readouterr().out
    assert rc == 0 and "depth" in out
