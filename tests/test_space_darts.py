"""DARTS / NAS-Bench-301 space: string forms, rules, sampling, moves, canonical keys, encodings, cell
graphs, networks (parameter and FLOP parity with NAS-Bench-Suite-Zero) and the NB301 importer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from zcnas import Architecture, get_space
from zcnas.errors import InputError, UnknownNameError
from zcnas.graph import CellGraph, graph_feature_names
from zcnas.protocols import BlockTrunk, ThinCopy
from zcnas.spaces.darts import LIVE_OPS, OPS, count_flops, count_params

DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
            "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
            "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
            "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
            "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
# first entry of the Suite-Zero sample: NASLib compact (input, op_index); 0.856298 M params, 153.499136 MFLOPs
NASLIB_534 = ("[[(0, 0), (1, 5), (1, 1), (0, 1), (1, 3), (0, 3), (1, 3), (3, 2)], "
              "[(1, 0), (0, 2), (1, 3), (0, 3), (3, 0), (0, 1), (2, 0), (3, 6)]]")
SZ_FILE = "nb301/nb301-suitezero-sample/zc_nasbench301_725archs.json"


@pytest.fixture(scope="module")
def space():
    return get_space("darts")


def test_registered_with_aliases(space):
    for alias in ("nb301", "nasbench301", "nas-bench-301"):
        assert get_space(alias) is space
    assert space.name == "darts" and "thin_copy" in space.network_protocols
    assert str(space.parse(DARTS_V2)) == DARTS_V2


def test_three_forms_round_trip(space):
    for a in [space.parse(DARTS_V2), space.parse(NASLIB_534), *space.sample(30, seed=2)]:
        s = space.format(a)
        assert space.parse(s) == a
        assert space.parse(space.format_naslib(a)) == a
        j = space.to_json(a)
        assert space.parse_json(json.loads(json.dumps(j))) == a
        assert space.parse(json.dumps(j)) == a
    a = space.parse(DARTS_V2)
    assert space.format(a) == DARTS_V2
    # DARTS' own spellings: range concat, module-qualified Genotype, keyword form, tuples, spaces
    assert space.parse(DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)")) == a
    assert space.parse("genotypes." + DARTS_V2) == a
    assert space.parse(DARTS_V2[len("Genotype("):-1]) == a
    assert space.parse(DARTS_V2.replace("[(", "((").replace(")]", "))").replace(" ", "")) == a
    cells = [[[op, i] for op, i in c] for c in a.spec]
    assert space.parse_json(cells) == a
    assert space.parse(NASLIB_534).spec[0][:2] == (("max_pool_3x3", 0), ("dil_conv_3x3", 1))


@pytest.mark.parametrize("bad, fragment", [
    ("Genotype(normal=[], reduce=[])", "must list 8 (op, input) pairs"),
    (DARTS_V2.replace("('sep_conv_3x3', 1)", "('sep_conv_3x3', 0)", 1), "normal node 2 takes input 0 twice"),
    (DARTS_V2.replace("dil_conv_3x3", "dil_conv_7x7"), "normal node 5: Unknown DARTS operation 'dil_conv_7x7'"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "node 5 takes input 5"),
    (DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3, 4]"), "normal_concat=[2, 3, 4]"),
    (DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 5)"), "range(2, 5)"),
    ("__import__('os')", "unknown name '__import__'"),
    ("os.system('true')", "unknown name 'os.system'"),
    (DARTS_V2.replace("Genotype(", "Genotype(foo=1, "), "unknown field(s) ['foo']"),
    ("[[(0, 9)] * 8]", "unexpected character '*'"),
    (NASLIB_534.replace("(3, 6)", "(3, 7)"), "NASLib op index 7"),
    ("{\"normal\": [1, 2]", "Malformed DARTS JSON"),
    ("Genotype(normal=[('sep_conv_3x3', 0)", "expected"),
])
def test_validate_errors_name_the_bad_part(space, bad, fragment):
    with pytest.raises(InputError) as info:
        space.parse(bad)
    msg = str(info.value)
    assert fragment in msg and "\n" not in msg and len(msg) < 400


def test_validate_specs_and_none(space):
    a = space.parse(DARTS_V2)
    assert space.validate(a) is a
    with pytest.raises(InputError, match="not \\('op', input\\)"):
        space.validate(Architecture("darts", (a.spec[0][:7] + (("sep_conv_3x3",),), a.spec[1])))
    with pytest.raises(InputError, match="belongs to space 'nb201'"):
        space.validate(get_space("nb201").example())
    import torch

    z = space.parse(DARTS_V2.replace("('dil_conv_3x3', 2)", "('none', 2)"))  # DARTS' zero op parses and builds
    assert space.build(z)(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    with pytest.raises(InputError, match="cannot write"):
        space.format_naslib(z)


def test_sampling_is_seeded_and_follows_nb301(space):
    assert space.sample(10, seed=3) == space.sample(10, seed=3)
    assert space.sample(10, seed=3) != space.sample(10, seed=4)
    g = np.random.default_rng(0)
    assert space.sample(4, g) + space.sample(4, g) != space.sample(8, 0)[::-1]
    archs = space.sample(400, seed=0)
    assert len(set(archs)) == 400
    ops = [op for a in archs for c in a.spec for op, _ in c]
    assert set(ops) == set(LIVE_OPS)  # 'none' never sampled, every other op is
    counts = np.array([ops.count(o) for o in LIVE_OPS])
    assert counts.min() > 0.8 * counts.mean()  # uniform ops
    node5 = [i for a in archs for c in a.spec for _, i in c[6:]]
    assert set(node5) == {0, 1, 2, 3, 4}
    with pytest.raises(InputError, match="'n' parameter"):
        space.sample(0)


def test_neighbours_and_mutate(space):
    a = space.parse(DARTS_V2)
    nb = space.neighbours(a)
    assert len(nb) == 2 * (8 * 6 + 2 * (0 + 1 + 2 + 3)) == len(set(nb)) and a not in nb
    for b in nb:
        space.validate(b)
        diff = [(x, y) for c in range(2) for x, y in zip(a.spec[c], b.spec[c], strict=True) if x != y]
        assert len(diff) == 1 and (diff[0][0][0] == diff[0][1][0]) != (diff[0][0][1] == diff[0][1][1])
    assert space.mutate(a, seed=1) in nb and space.mutate(a, seed=1) == space.mutate(a, seed=1)


def test_canonical(space):
    a = space.parse(DARTS_V2)
    swapped = tuple(tuple(p for k in range(0, 8, 2) for p in (c[k + 1], c[k])) for c in a.spec)
    b = Architecture("darts", swapped)
    assert b != a and space.canonical(b) == space.canonical(a)
    assert space.parse(space.canonical(a)) is not None
    # renumbering: nodes 2 and 3 both read only the inputs, so exchanging them is the same cell
    n = (("sep_conv_3x3", 0), ("skip_connect", 1), ("max_pool_3x3", 0), ("dil_conv_5x5", 1),
         ("avg_pool_3x3", 2), ("sep_conv_5x5", 3), ("skip_connect", 4), ("sep_conv_3x3", 0))
    m = (("max_pool_3x3", 0), ("dil_conv_5x5", 1), ("sep_conv_3x3", 0), ("skip_connect", 1),
         ("avg_pool_3x3", 3), ("sep_conv_5x5", 2), ("skip_connect", 4), ("sep_conv_3x3", 0))
    key = space.canonical
    assert key(Architecture("darts", (n, a.spec[1]))) == key(Architecture("darts", (m, a.spec[1])))
    # an operation change alters the cell's multiset of operations: never the same class
    ca = space.canonical(a)
    op_changes = [x for x in space.neighbours(a)
                  if [i for c in x.spec for _, i in c] == [i for c in a.spec for _, i in c]]
    assert len(op_changes) == 96 and all(space.canonical(x) != ca for x in op_changes)
    # DARTS V2's nodes 2 and 3 are the same (sep 0 + sep 1): node 5 reading 3 instead of 2 is the same cell
    same = Architecture("darts", (a.spec[0][:7] + (("dil_conv_3x3", 3),), a.spec[1]))
    assert same in space.neighbours(a) and space.canonical(same) == ca
    archs = space.sample(200, seed=5)
    assert len({space.canonical(x) for x in archs}) == 200


def test_encodings_and_cell_graph(space):
    a = space.parse(DARTS_V2)
    sizes = {"onehot": 224, "adjacency": 238, "path": 798}
    for kind, size in sizes.items():
        v = space.encode(a, kind)
        assert v.shape == (size,) and np.isfinite(v).all()
    assert space.encode(a, "onehot").sum() == 16
    assert space.encode_many([a, DARTS_V2], "path").shape == (2, 798)
    b = Architecture("darts", tuple(tuple(p for k in range(0, 8, 2) for p in (c[k + 1], c[k])) for c in a.spec))
    for kind in sizes:  # independent of the order of a node's pairs
        assert np.array_equal(space.encode(a, kind), space.encode(b, kind))
    with pytest.raises(UnknownNameError, match="Did you mean 'path'"):
        space.encode(a, "paths")
    g = space.cell_graph(a)
    assert [c.name for c in g] == ["normal", "reduce"] and all(isinstance(c, CellGraph) for c in g)
    normal = g[0]
    assert normal.n_nodes == 7 and normal.inputs == (0, 1) and normal.output == 6 and normal.vocab == OPS
    assert len(normal.edges) == 12 and sum(e[2] is None for e in normal.edges) == 4
    # DARTS V2 normal cell: paths 0->2, 1->2, 0->3, 1->3, 1->4, 0->4, 0->5 and 0->2->5 and 1->2->5
    assert len(normal.live_paths) == 9
    assert np.array_equal(space.encode(a, "path"), space.encode(b, "path"))
    f = space.graph_features(a)
    assert f.shape == (len(space.graph_feature_names()),) and np.isfinite(f).all()
    names = space.graph_feature_names()
    assert names[0].startswith("normal:") and graph_feature_names(g) == names


def test_build_forward_protocols(space):
    import torch

    a = space.parse(DARTS_V2)
    m = space.build(a)
    x = torch.randn(2, 3, 32, 32)
    assert m(x).shape == (2, 10)
    assert isinstance(m, BlockTrunk) and isinstance(m, ThinCopy)
    assert len(m.block_trunk()) == 8 and [c.reduction for c in m.block_trunk()].count(True) == 2
    thin = m.thin_copy()
    assert thin(torch.randn(3, 3, 3, 3)).shape == (3, 10)  # TE-NAS' 3 x 3 inputs (odd sizes)
    assert count_flops(a, input_shape=(3, 3, 3), channels=1, layers=5) == _torchstat_flops(thin, (1, 3, 3, 3))
    assert [c.reduction for c in thin.block_trunk()] == [False, True, False, True, False]
    aux = space.build(a, auxiliary=True, drop_path_prob=0.2, num_classes=7).train()
    out, out_aux = aux(x)
    assert out.shape == out_aux.shape == (2, 7)
    aux.eval()
    y1, y2 = aux(x), aux(x)
    assert torch.equal(y1, y2)  # no drop-path, no aux logits in eval mode
    assert space.build(a, input_shape=(1, 28, 28))(torch.randn(1, 1, 28, 28)).shape == (1, 10)
    with pytest.raises(UnknownNameError, match="construction"):
        space.build(a, construction="nasbench")
    with pytest.raises(InputError, match="'drop_path_prob'"):
        space.build(a, drop_path_prob=1.0)


def test_param_counts_analytic_equals_torch(space):
    # DARTS V2 in the DARTS paper network (36 channels, 20 cells): 3.349342 M without the auxiliary head
    assert count_params(DARTS_V2, channels=36, layers=20, construction="darts") == 3_349_342
    assert count_params(NASLIB_534) == 856_298
    for a in [space.parse(DARTS_V2), *space.sample(2, seed=9)]:
        for kw in ({}, {"construction": "darts", "auxiliary": True}, {"channels": 8, "layers": 5, "num_classes": 3}):
            m = space.build(a, **kw)
            assert sum(p.numel() for p in m.parameters()) == count_params(a, **kw), kw


def _torchstat_flops(model, shape=(1, 3, 32, 32)) -> int:
    """tensorwatch / torchstat's FLOP rules, with forward hooks on the leaf modules."""
    import torch
    from torch import nn

    total = [0]

    def hook(mod, inp, out):
        x = inp[0]
        if isinstance(mod, nn.Conv2d):
            total[0] += mod.kernel_size[0] * mod.kernel_size[1] * x.shape[1] * (out.shape[1] // mod.groups) \
                * out.shape[2] * out.shape[3]
        elif isinstance(mod, nn.BatchNorm2d):
            total[0] += x.numel() * (2 if mod.affine else 1)
        elif isinstance(mod, nn.MaxPool2d | nn.AvgPool2d):
            k, s, p = mod.kernel_size, mod.stride, mod.padding
            total[0] += x.shape[0] * x.shape[1] * k * k * math.floor((x.shape[2] + 2 * p - k) / s + 1) \
                * math.floor((x.shape[3] + 2 * p - k) / s + 1)
        elif isinstance(mod, nn.AdaptiveAvgPool2d):
            total[0] += x.shape[1] * (x.shape[2] + 1) * (x.shape[3] + 1)
        elif isinstance(mod, nn.ReLU):
            total[0] += x.numel()
        elif isinstance(mod, nn.Linear):
            total[0] += x.shape[1] * out.shape[1]

    hooks = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    with torch.no_grad():
        model.eval()(torch.rand(shape))
    for h in hooks:
        h.remove()
    return total[0]


def test_flops_analytic_equals_torchstat_rules(space):
    assert count_flops(NASLIB_534) == 153_499_136
    for a in [space.parse(NASLIB_534), *space.sample(2, seed=11)]:
        assert count_flops(a) == _torchstat_flops(space.build(a))
        assert count_flops(a, construction="darts") == _torchstat_flops(space.build(a, construction="darts"))


@pytest.mark.benchdata
def test_parity_with_suitezero_on_all_725(space, bench_root):
    """NASLib's construction gives NAS-Bench-Suite-Zero's published params and flops exactly."""
    data = json.loads((bench_root / SZ_FILE).read_text())["cifar10"]
    assert len(data) == 725
    p_ok = sum(count_params(e["arch"]) == round(e["params"]["score"] * 1e6) for e in data.values())
    f_ok = sum(abs(count_flops(e["arch"]) / 1e6 - e["flops"]["score"]) < 1e-9 for e in data.values())
    assert (p_ok, f_ok) == (725, 725)
    archs = [space.parse(k) for k in list(data)[::145]]  # five networks built with torch
    for a, k in zip(archs, list(data)[::145], strict=True):
        assert sum(p.numel() for p in space.build(a).parameters()) == round(data[k]["params"]["score"] * 1e6)


@pytest.mark.slow
@pytest.mark.benchdata
def test_torch_parity_on_all_725(space, bench_root):
    data = json.loads((bench_root / SZ_FILE).read_text())["cifar10"]
    ok = sum(sum(p.numel() for p in space.build(space.parse(k)).parameters()) == round(e["params"]["score"] * 1e6)
             for k, e in data.items())
    assert ok == 725


@pytest.mark.benchdata
def test_nb301_importer(bench_root, tmp_path):
    from zcnas.records import importers as imp

    out = imp.run_importer("nb301-suitezero-json", data_root=bench_root)
    truth, scores = out["truth"], out["scores"]
    assert len(truth) == 725 and set(truth["metric"]) == {"nb301_c10_val_pred"} and set(truth["space"]) == {"darts"}
    assert truth["value"].between(80, 100).all() and "SURROGATE" in imp.metric_info("nb301_c10_val_pred").doc
    assert len(scores) == 12 * 725 and set(scores["run_key"]) == {"published:suitezero-json:cifar10"}
    assert {"jacob_cov", "naswot", "synflow", "params", "flops"} <= set(scores["proxy"])
    sp = get_space("darts")
    first = truth.iloc[0]
    assert first["arch"] == sp.format(sp.parse(NASLIB_534)) and math.isclose(first["value"], 93.32119084207302)
    par = scores[scores["proxy"] == "params"].set_index("arch")["value"]
    assert all(count_params(a) == round(v * 1e6) for a, v in par.items())


def test_nb301_importer_small_file(tmp_path):
    from zcnas.errors import DataError
    from zcnas.records import importers as imp

    entry = {"arch": NASLIB_534, "val_accuracy": 93.3, "synflow": {"score": 52.8, "time": 1.1},
             "jacov": {"score": -1e8, "time": 0.2}}
    f = tmp_path / "zc.json"
    f.write_text(json.dumps({"cifar10": {NASLIB_534: entry}}))
    out = imp.run_importer("nb301-suitezero-json", path=f, run_key="pub:{dataset}")
    sc = out["scores"].set_index("proxy")
    assert sc.loc["jacob_cov", "status"] == "failed" and math.isnan(sc.loc["jacob_cov", "value"])
    assert sc.loc["synflow", "status"] == "ok" and set(out["scores"]["run_key"]) == {"pub:cifar10"}
    bad = dict(entry, arch=NASLIB_534.replace("(3, 6)", "(3, 5)"))
    f.write_text(json.dumps({"cifar10": {NASLIB_534: bad}}))
    with pytest.raises(DataError, match="key and arch must agree"):
        imp.run_importer("nb301-suitezero-json", path=f)
    f.write_text(json.dumps({"cifar10": {NASLIB_534.replace("(3, 6)", "(3, 9)"): entry}}))
    with pytest.raises(InputError, match="entry 1.*NASLib op index 9"):
        imp.run_importer("nb301-suitezero-json", path=f)
    f.write_text(json.dumps({"cifar100": {}}))
    with pytest.raises(DataError, match="CIFAR-10 only"):
        imp.run_importer("nb301-suitezero-json", path=f)
