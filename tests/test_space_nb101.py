"""NB101 space: strings, validation and pruning, hashing, enumeration, sampling, neighbours,
encodings, networks (parameter parity with the analytic count), importers."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from zcnas import Architecture, get_space
from zcnas.errors import InputError
from zcnas.spaces import nb101
from zcnas.spaces.nb101 import N_CELLS, OPS, graph_hash, vertex_channels

C3, C1, MP = OPS
# the example cell of the nasbench README
README_CELL = {"matrix": [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
                          [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
                          [0, 0, 0, 0, 0, 0, 0]],
               "ops": ["input", C1, C3, C3, C3, MP, "output"]}
# first row of the NB101 table (nb101_30k_joined.csv / data-1k): hash and trainable parameters
GOLDEN = ({"matrix": [[0, 1, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 1, 0],
                      [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
           "ops": ["input", C3, MP, C3, C3, C1, "output"]}, "00005c142e6f48ac74fdcf73e3439874", 8_555_530)
CSV = "nb101/nb101-nasbenchvis-30k/nb101_30k_joined.csv"


@pytest.fixture(scope="module")
def space():
    return get_space("nb101")


def cell(matrix, ops):
    return json.dumps({"matrix": matrix, "ops": ops})


# ---- strings, validation ---------------------------------------------------------------------------


def test_registered_with_aliases(space):
    assert get_space("nasbench101") is space and get_space("nas-bench-101") is space
    assert len(space) == N_CELLS == 423_624


def test_parse_format_round_trip(space):
    a = space.parse(json.dumps(README_CELL))
    s = space.format(a)
    assert " " not in s and s.startswith('{"matrix":[[0,1,1,1,0,1,0]')
    assert space.parse(s) == a and str(a) == s
    assert space.parse_json(README_CELL) == a and space.to_json(a) == README_CELL


def test_hash_and_params_golden(space):
    a = space.parse_json(GOLDEN[0])
    assert space.canonical(a) == GOLDEN[1] == graph_hash(GOLDEN[0]["matrix"], [-1, 0, 2, 0, 0, 1, -2])
    assert space.count_params(a) == GOLDEN[2] and space.representative(a) == a


def test_pruning_as_model_spec(space):
    # vertex 2 has no path to the output, vertex 3 none from the input: both pruned
    m = [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    a = space.parse(cell(m, ["input", C3, MP, C1, "output"]))
    assert a.spec == (((0, 1, 0), (0, 0, 1), (0, 0, 0)), ("input", C3, "output"))
    # 10 edges before pruning, 3 after: valid (NB101 counts the pruned cell)
    m = [[0, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1, 0],
         [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]]
    assert len(space.parse(cell(m, ["input", C3, C3, C3, C3, C3, "output"])).spec[0]) == 3


@pytest.mark.parametrize("text, fragment", [
    ("not json", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"matrix": [[0,1],[0,0]]}', "missing key(s) ['ops']"),
    ('{"matrix": [[0,1],[0,0]], "ops": ["input","output"], "x": 1}', "unknown key(s) ['x']"),
    (cell([[0, 2], [0, 0]], ["input", "output"]), "matrix[0][1] is 2"),
    (cell([[0, 1, 0], [0, 0, 1]], ["input", C3, "output"]), "must be square"),
    (cell([[0, 1], [1, 0]], ["input", "output"]), "upper triangular"),
    (cell([[0, 1], [0, 0]], ["input"]), "2 matrix rows but 1 ops"),
    (cell([[0, 1], [0, 0]], ["output", "input"]), "must start with 'input'"),
    (cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3", "output"]), "Did you mean 'conv3x3-bn-relu'"),
    (cell([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"]), "does not connect the input"),
    ("0" * 31 + "g", "not JSON"),
])
def test_errors_name_the_bad_part(space, text, fragment):
    with pytest.raises(InputError, match=re.escape(fragment)) as exc:
        space.parse(text)
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 600


def test_too_many_edges_and_vertices(space):
    full7 = [[1 if j > i else 0 for j in range(7)] for i in range(7)]
    with pytest.raises(InputError, match="21 edges after pruning; at most 9"):
        space.parse(cell(full7, ["input"] + [C3] * 5 + ["output"]))
    chain8 = [[1 if j == i + 1 else 0 for j in range(8)] for i in range(8)]
    with pytest.raises(InputError, match="8 vertices on input->output paths; at most 7"):
        space.parse(cell(chain8, ["input"] + [C3] * 6 + ["output"]))


def test_long_input_is_cut_in_errors(space):
    with pytest.raises(InputError) as exc:
        space.parse("x" * 5000)
    assert len(str(exc.value)) < 400


# ---- hashing, classes, enumeration -----------------------------------------------------------------


def test_isomorphic_cells_share_hash_and_index(space):
    # swap the two parallel branches: same function, same hash, same class
    a = space.parse(cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, MP, "output"]))
    b = space.parse(cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", MP, C3, "output"]))
    c = space.parse(cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, C1, "output"]))
    assert a != b and space.canonical(a) == space.canonical(b) != space.canonical(c)
    assert space.index(a) == space.index(b) != space.index(c)
    assert space.representative(b) == space.representative(a) == space.at(space.index(a))


def test_index_is_nb101_generation_order(space):
    # vertices 2, then 3 (three labellings), then 4 ...
    assert space.format(space.at(0)) == '{"matrix":[[0,1],[0,0]],"ops":["input","output"]}'
    assert [len(space.at(i).spec[0]) for i in range(8)] == [2, 3, 3, 3, 3, 3, 3, 4]
    assert space.at(1).spec[1] == ("input", C3, "output")
    assert space.at(N_CELLS - 1).spec[0][0][1] == 1
    with pytest.raises(InputError, match=r"in \[0, 423623\]"):
        space.at(N_CELLS)


def test_enumeration_counts():
    idx = nb101.cell_index()
    assert len(idx) == N_CELLS
    # classes per vertex count (measured; cumulative 1, 7, 91, 2,532, 64,542, 423,624)
    assert np.bincount(idx.n_vertices, minlength=8).tolist() == [0, 0, 1, 6, 84, 2441, 62010, 359082]
    assert len(np.unique(idx.keys)) == N_CELLS


def test_hash_lookup_round_trip(space):
    if not (nb101.cache_dir() / f"nb101_hashes_v{nb101.INDEX_VERSION}.npz").exists():
        pytest.skip("the NB101 hash table is not cached yet (built on first hash lookup; ~1-3 min): see "
                    "test_hash_table_build (slow)")
    for a in space.sample(30, seed=5):
        assert space.parse(space.canonical(a)) == a
    # hashes ending in zero bytes (numpy's S16 strips them): every such class round-trips
    hashes = nb101.cell_index().hashes()
    tail0 = np.flatnonzero(np.char.str_len(hashes) < 16)[:200]
    assert len(tail0) == 200
    for i in tail0:
        h = space.canonical(space.at(int(i)))
        assert h.endswith("00") and space.index(space.parse(h)) == i
    with pytest.raises(InputError, match="is not the hash of an NB101 cell"):
        space.parse("0" * 32)


@pytest.mark.slow
def test_hash_table_build(space):
    idx = nb101.cell_index()
    hashes = idx.hashes()
    assert len(np.unique(hashes)) == N_CELLS
    a = space.sample(1, seed=9)[0]
    assert space.parse(space.canonical(a)) == a


def test_cached_index_equals_fresh_enumeration(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(nb101, "_INDEX", [])
    fresh = nb101.cell_index()
    assert (tmp_path / "zcnas" / f"nb101_index_v{nb101.INDEX_VERSION}.npz").exists()
    monkeypatch.setattr(nb101, "_INDEX", [])
    again = nb101.cell_index()
    assert np.array_equal(fresh.masks, again.masks) and np.array_equal(fresh.keys, again.keys)
    # a corrupt cache file is rebuilt, not trusted
    (tmp_path / "zcnas" / f"nb101_index_v{nb101.INDEX_VERSION}.npz").write_bytes(b"junk")
    monkeypatch.setattr(nb101, "_INDEX", [])
    assert np.array_equal(nb101.cell_index().labels, fresh.labels)


# ---- sampling, neighbours ----------------------------------------------------------------------------


def test_sampling_seeded_uniform_over_classes(space):
    a, b = space.sample(200, seed=0), space.sample(200, seed=0)
    assert a == b and len({space.canonical(x) for x in a}) == 200
    assert space.sample(200, seed=1) != a
    # uniform over classes: the share of 7-vertex cells is close to 359,082 / 423,624 = 0.848
    share = np.mean([len(x.spec[0]) == 7 for x in space.sample(2000, seed=2)])
    assert abs(share - 359_082 / N_CELLS) < 0.03
    with pytest.raises(InputError, match="must be an int >= 1"):
        space.sample(0)


def test_neighbours_are_valid_one_edit_classes(space):
    for a in space.sample(5, seed=11):
        nbrs = space.neighbours(a)
        assert nbrs and a not in nbrs and len(set(nbrs)) == len(nbrs)
        hashes = {space.canonical(x) for x in nbrs}
        assert space.canonical(a) not in hashes and len(hashes) == len(nbrs)
        for x in nbrs:
            assert space.validate(x) == x and space.representative(x) == x
        assert space.mutate(a, seed=3) in nbrs
    # the input->output cell: its neighbours add one interior vertex? no: one edit cannot (needs 2 edges);
    # removing its only edge disconnects it, so it has no neighbour
    lone = space.at(0)
    assert space.neighbours(lone) == []


def test_neighbour_op_changes(space):
    a = space.parse(cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"]))
    ops = {x.spec[1] for x in space.neighbours(a) if len(x.spec[0]) == 3}
    assert {("input", C1, "output"), ("input", MP, "output")} <= ops


# ---- encodings, graph ------------------------------------------------------------------------------


def test_encodings(space):
    a = space.parse(json.dumps(README_CELL))
    adj = space.encode(a, "adjacency")
    assert adj.shape == (36,) and adj[:21].sum() == 9 and adj[21:].sum() == 5
    assert np.array_equal(space.encode(a, "onehot"), adj)
    path = space.encode(a, "path")
    assert path.shape == (364,)
    # paths: in->c3(1)->out, in->c1(2)->out, in->c3(3)->c3(4)->out, in->mp(5)->out
    assert path.sum() == 4 and path[1 + 0] == 1 and path[1 + 1] == 1 and path[1 + 2] == 1
    assert path[1 + 3 + 0 * 3 + 0] == 1
    direct = space.parse(cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", MP, "output"]))
    assert space.encode(direct, "path")[0] == 1  # the input->output edge is the length-0 path
    small = space.encode(direct, "adjacency")
    # 3-vertex cell padded: the output sits at position 6
    assert small[5] == 1 and small[0] == 1 and small[21 + 2] == 1 and small[24:].sum() == 0
    with pytest.raises(InputError, match="Unknown NB101 encoding"):
        space.encode(a, "bogus")


def test_cell_graph(space):
    g = space.cell_graph(space.parse(json.dumps(README_CELL)))
    assert g.n_nodes == 7 and g.output == 6 and g.inputs == (0,) and len(g.edges) == 9
    assert g.node_labels[1] == C1 and g.node_labels[0] is None and g.node_labels[6] is None
    assert all(lab is None for *_, lab in g.edges) and len(g.live_paths) == 4
    f = space.graph_features(space.sample(1, seed=0)[0])
    assert f.shape == (len(space.graph_feature_names()),) and np.isfinite(f).all()


# ---- networks --------------------------------------------------------------------------------------


def test_vertex_channels_split():
    # three vertices feed the output: 128 = 43 + 43 + 42; vertex 1 feeds vertex 2 only: its width
    m = [[0, 1, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1],
         [0, 0, 0, 0, 0, 0]]
    assert vertex_channels(64, 128, m) == [64, 43, 43, 43, 42, 128]


def test_build_forward_and_param_parity(space):
    import torch

    archs = space.sample(3, seed=4) + [space.at(0), space.parse(json.dumps(README_CELL))]
    for a in archs:
        net = space.build(a)
        assert sum(p.numel() for p in net.parameters()) == space.count_params(a)
    net = space.build(archs[-1])
    with torch.no_grad():
        assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    bn = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert bn.momentum == pytest.approx(0.003) and bn.eps == 1e-5
    assert len(net.block_trunk()) == 9
    thin = net.thin_copy()
    with torch.no_grad():
        assert thin(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    assert len(thin.block_trunk()) == 3


def test_build_options_checked(space):
    a = space.parse(json.dumps(README_CELL))
    with pytest.raises(InputError, match="'input_shape' parameter"):
        space.build(a, input_shape=(3, 32))
    with pytest.raises(InputError, match="'stem_channels' parameter of NB101Space.build must be >= 4"):
        space.build(a, stem_channels=3)
    net = space.build(a, num_classes=100, input_shape=(1, 28, 28), stem_channels=16)
    assert space.build(a, stem_channels=4) is not None
    assert sum(p.numel() for p in net.parameters()) == space.count_params(a, num_classes=100, in_channels=1,
                                                                           stem_channels=16)


# ---- benchmark parity (needs ZCNAS_DATA) -------------------------------------------------------------


@pytest.fixture(scope="module")
def joined(bench_root):
    import pandas as pd

    return pd.read_csv(bench_root / CSV)


def _parity(space, rows) -> tuple[int, int, int]:
    """(hash matches, parameter matches of NB101's own cell of the class, rows)."""
    hash_ok = params_ok = 0
    for h, adj, ops, params in rows:
        a = space.parse_json({"matrix": json.loads(adj), "ops": json.loads(ops)})
        hash_ok += space.canonical(a) == h
        params_ok += space.count_params(space.representative(a)) == params
    return hash_ok, params_ok, len(rows)


@pytest.mark.benchdata
def test_hash_and_param_parity_sample(space, joined):
    """Every 15th row of the table (2,001 rows): hash and parameter count reproduced exactly."""
    rows = list(zip(joined.hash, joined.adjacency, joined.ops, joined.params, strict=True))[::15]
    assert _parity(space, rows) == (len(rows), len(rows), 2001)


@pytest.mark.benchdata
@pytest.mark.slow
def test_hash_and_param_parity_all_rows(space, joined):
    """All 30,001 rows (about 15 s on a quiet CPU; experiments/nb101_parity.py reports the same)."""
    rows = list(zip(joined.hash, joined.adjacency, joined.ops, joined.params, strict=True))
    assert _parity(space, rows) == (30_001, 30_001, 30_001)


@pytest.mark.benchdata
def test_import_csv(bench_root, space, tmp_path):
    from zcnas.records.importers import get_importer, metric_info

    sub = tmp_path / "part.csv"
    import pandas as pd

    df = pd.read_csv(bench_root / CSV).iloc[:40]
    df.to_csv(sub, index=False)
    out = get_importer("nb101-csv")(None, sub)["truth"]
    assert len(out) == 40 * 6 and set(out["space"]) == {"nb101"}
    acc = out[out.metric == "nb101_c10_valid_108ep"].set_index("arch")["value"]
    first = space.representative(space.parse_json({"matrix": json.loads(df.adjacency[0]),
                                                   "ops": json.loads(df.ops[0])}))
    assert acc[space.format(first)] == pytest.approx(df.val_acc_e108[0] * 100)
    assert 0 < acc.min() and acc.max() <= 100
    params = out[out.metric == "nb101_params"].set_index("arch")["value"]
    assert all(space.count_params(space.parse(a)) == p for a, p in params.items())
    assert metric_info("nb101_c10_valid_108ep").unit == "%" and metric_info("nb101_c10_valid_108ep").space == "nb101"
    # a row whose cell does not hash to its hash column is refused
    df.loc[3, "hash"] = df.hash[4][::-1]
    df.to_csv(sub, index=False)
    with pytest.raises(Exception, match="row 4 .*hashes to"):
        get_importer("nb101-csv")(None, sub)


@pytest.mark.benchdata
@pytest.mark.slow
def test_import_vis_json_agrees_with_csv(bench_root, tmp_path):
    from zcnas.records.importers import get_importer

    src = json.loads((bench_root / "nb101/nb101-nasbenchvis-30k/data-1k__dc77b8f5.json").read_text())
    part = {k: v[:25] for k, v in src.items()}
    f = tmp_path / "part.json"
    f.write_text(json.dumps(part))
    js = get_importer("nb101-vis-json")(None, f)["truth"]
    csv = get_importer("nb101-csv")(None, bench_root / CSV)["truth"]
    merged = js.merge(csv, on=["arch", "metric"], suffixes=("_json", "_csv"))
    assert len(merged) == 25 * 6
    assert np.allclose(merged.value_json, merged.value_csv)


def test_architecture_value_is_hashable_spec(space):
    a = space.sample(1, seed=0)[0]
    assert isinstance(a, Architecture) and hash(a) == hash(Architecture("nb101", a.spec))


def test_naslib_tuples_decode_to_the_published_cell():
    """NAS-Bench-Suite-Zero keys NB101 cells by NASLib's flattened (adjacency, op codes) tuple;
    experiments/nb101_suitezero.py reads them as zcnas strings. This tuple's published params
    (4.095778 M, naslib/data/zc_nasbench101.json) must be the parameter count of the cell it decodes to."""
    from experiments.nb101_suitezero import naslib_tuple_to_arch

    key = ("(0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, "
           "1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 4, 4, 4, 1)")
    arch = naslib_tuple_to_arch(key)
    space = get_space("nb101")
    cell = json.loads(arch)
    assert cell["ops"][0] == "input" and cell["ops"][-1] == "output"
    net = space.build(space.parse(arch))
    assert sum(p.numel() for p in net.parameters()) == 4_095_778
