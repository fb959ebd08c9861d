"""The pre-filter for DARTS searchers: every genotype form, fields kept, errors with line and fix,
``zcnas prefilter --space darts`` and ``zcnas.prefilter`` / ``Prefilter`` in Python, and the
DARTS guide's code blocks (docs/darts.md)."""

from __future__ import annotations

import io
import json
import os
import sys
from collections import namedtuple
from pathlib import Path

import pandas as pd
import pytest

import zcnas
from zcnas import get_space
from zcnas.cli import main
from zcnas.errors import InputError
from zcnas.ranking import Prefilter
from zcnas.ranking.prefilter import read_candidate_lines, split_candidate, to_architecture

SPACE = get_space("darts")
REPO = Path(__file__).resolve().parents[1]
#: the DARTS repository's Genotype, as genotypes.py defines it
Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
#: DARTS_V2 exactly as the DARTS repository's genotypes.py writes it (range concat)
DARTS_V2_TEXT = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
    "reduce_concat=range(2, 6))")


def _archs(n: int, seed: int = 0) -> list[str]:
    return [SPACE.format(a) for a in SPACE.sample(n, seed=seed)]


def _forms(arch: str) -> dict[str, str]:
    """One input line per accepted form, all of the same genotype."""
    a = SPACE.parse(arch)
    naslib = SPACE.format_naslib(a)
    as_lists = json.loads(naslib.replace("(", "[").replace(")", "]"))
    return {
        "genotype, list concat": arch,
        "genotype, range concat (as DARTS prints it)": arch.replace("[2, 3, 4, 5]", "range(2, 6)"),
        "genotype with a module prefix": "genotypes." + arch,
        "log line of DARTS' train_search.py": "05/19 10:33:01 AM genotype = " + arch.replace("[2, 3, 4, 5]",
                                                                                             "range(2, 6)"),
        "JSON string": json.dumps(arch),
        "JSON arch string": json.dumps({"arch": arch}),
        "JSON genotype string": json.dumps({"genotype": arch}),
        "JSON arch, the space's JSON form": json.dumps({"arch": SPACE.to_json(a)}),
        "the space's JSON form": json.dumps(SPACE.to_json(a)),
        "NASLib tuples, bare": naslib,
        "NASLib tuples, JSON string": json.dumps(naslib),
        "NASLib cells as JSON lists": json.dumps(as_lists),
        "JSON arch, NASLib lists": json.dumps({"arch": as_lists}),
    }


def test_every_form_reads_to_the_same_genotype():
    arch = _archs(1, seed=5)[0]
    forms = _forms(arch)
    got = read_candidate_lines(io.StringIO("\n".join(forms.values()) + "\n"), "darts")
    assert got.errors == []
    assert got.archs == [arch] * len(forms), [n for n, a in zip(forms, got.archs) if a != arch]
    assert got.line_numbers == list(range(1, len(forms) + 1))


def test_darts_repository_genotype_with_range_concat():
    got = read_candidate_lines([DARTS_V2_TEXT, "", "# DARTS V2", "  " + DARTS_V2_TEXT + "\r\n"], "darts")
    assert got.errors == [] and len(got.archs) == 2 and got.archs[0] == got.archs[1]
    assert got.line_numbers == [1, 4]
    assert SPACE.parse(got.archs[0]).spec[0][7] == ("dil_conv_3x3", 2)


def test_json_fields_are_kept_and_genotype_field_stays_as_given():
    arch = _archs(1, seed=6)[0]
    got = read_candidate_lines([json.dumps({"id": 7, "genotype": arch, "generation": 3}),
                                json.dumps({"arch": arch.replace("[2, 3, 4, 5]", "range(2, 6)"), "id": 8})],
                               "darts")
    assert got.extras == [{"id": 7, "genotype": arch, "generation": 3}, {"id": 8}]
    assert got.archs == [arch, arch]


@pytest.mark.parametrize("line, expect", [
    ("{\"arch\": \"Genotype(normal=[", ["line 1", "not valid JSON", "{\"arch\": ..."]),
    ("{\"id\": 1}", ["line 1", "no 'arch' or 'genotype' field", "put the architecture under \"arch\""]),
    ("{\"id\": 1, \"arch\": null}", ["line 1", "'arch' field is null", "give the architecture there"]),
    ("{\"arch\": \"x\", \"genotype\": \"y\"}", ["line 1", "both 'arch' and 'genotype'", "in one of them"]),
    ("Genotype(normal=[('sep_conv_3x3', 0)], reduce=[])", ["line 1", "must list 8 (op, input) pairs"]),
    ("[[(0, 9)], [(0, 1)]]", ["line 1", "must list 8"]),
    ("42", ["line 1", "expected Genotype(normal=..., reduce=...)"]),
])
def test_bad_lines_name_the_problem_the_line_and_the_fix(line, expect):
    good = _archs(1)[0]
    got = read_candidate_lines([line, good], "darts")
    assert got.archs == [good] and len(got.errors) == 1
    for piece in expect:
        assert piece in got.errors[0], got.errors[0]


def test_bad_operation_gets_did_you_mean():
    bad = _archs(1)[0].replace("('sep_conv_3x3'", "('sep_conv_7x7'", 1).replace("('dil_conv_3x3'", "('sepconv_3x3'", 1)
    if bad == _archs(1)[0]:
        pytest.skip("sample has no sep/dil 3x3")
    got = read_candidate_lines(["", bad], "darts")
    assert got.errors and got.errors[0].startswith("line 2:") and "Did you mean" in got.errors[0]


def test_darts_genotype_in_another_space_says_pass_space_darts():
    with pytest.raises(InputError, match="--space darts"):
        to_architecture(DARTS_V2_TEXT, "nb201")
    with pytest.raises(InputError, match="space='darts'"):
        to_architecture(SPACE.parse(DARTS_V2_TEXT), "nb201")


def test_python_objects_namedtuple_dicts_lists():
    arch = _archs(1, seed=7)[0]
    spec = SPACE.parse(arch).spec
    g = Genotype(normal=list(spec[0]), normal_concat=range(2, 6), reduce=list(spec[1]), reduce_concat=range(2, 6))
    naslib_lists = json.loads(SPACE.format_naslib(arch).replace("(", "[").replace(")", "]"))
    for obj in (g, str(g), SPACE.to_json(arch), naslib_lists, [list(spec[0]), list(spec[1])], SPACE.parse(arch)):
        assert SPACE.format(to_architecture(obj, "darts")) == arch, obj
    a, extra = split_candidate({"genotype": g, "id": 3}, "darts")
    assert SPACE.format(a) == arch and extra == {"genotype": g, "id": 3}


def test_prefilter_keeps_fields_and_maps_picks_back_to_the_callers_objects():
    archs = _archs(5, seed=8)
    cache = pd.DataFrame({"params": [1.0, 5.0, 3.0, 2.0, 4.0]}, index=archs)
    spec = [SPACE.parse(a).spec for a in archs]
    cands = [{"id": 0, "genotype": archs[0]},
             Genotype(list(spec[1][0]), range(2, 6), list(spec[1][1]), range(2, 6)),
             SPACE.format_naslib(archs[2]),
             {"arch": SPACE.to_json(archs[3]), "id": 3},
             archs[4].replace("[2, 3, 4, 5]", "range(2, 6)"),
             archs[1]]  # a duplicate of candidate 1: ranked once, first occurrence kept
    res = zcnas.prefilter(cands, 3, space="darts", proxies="params", cache=cache)
    assert res.n_candidates == 5 and res.n_computed == 0
    assert res.archs == [archs[1], archs[4], archs[2]]
    assert res.positions == [1, 4, 2]
    assert [cands[j] for j in res.positions][0] is cands[1]
    recs = zcnas.prefilter(cands, 5, space="darts", proxies="params", cache=cache).records()
    assert [r["rank"] for r in recs] == [1, 2, 3, 4, 5]
    by_arch = {r["arch"]: r for r in recs}
    assert by_arch[archs[0]]["id"] == 0 and by_arch[archs[0]]["genotype"] == archs[0]
    assert by_arch[archs[3]]["id"] == 3 and "genotype" not in by_arch[archs[3]]
    assert by_arch[archs[0]]["params"] == 1.0


def test_prefilter_scores_darts_networks_for_real():
    """params computed on the built NB301 network equals the analytic count (published convention)."""
    from zcnas.spaces.darts import count_params

    archs = _archs(3, seed=9)
    pf = Prefilter(space="darts", proxies="params")
    res = pf([DARTS_V2_TEXT, *archs], 2)
    assert res.n_computed == 4 and len(res) == 2
    for p in res:
        assert p.proxies["params"] == pytest.approx(count_params(p.arch) / 1e6)
    again = pf(archs, 1)
    assert again.n_computed == 0  # cached between calls


def _cli(argv, stdin_text, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin_text))
    rc = main(["-q", *argv])
    out, err = capsys.readouterr()
    return rc, [json.loads(x) for x in out.splitlines() if x.strip()], err


def test_cli_reads_every_form_keeps_fields_and_names_bad_lines(monkeypatch, capsys):
    archs = _archs(3, seed=10)
    lines = [archs[0].replace("[2, 3, 4, 5]", "range(2, 6)"),
             json.dumps({"id": "b", "genotype": archs[1], "generation": 2}),
             SPACE.format_naslib(archs[2]),
             json.dumps({"id": "d", "arch": SPACE.to_json(DARTS_V2_TEXT)}),
             "",
             "{\"id\": \"e\"}"]
    rc, out, err = _cli(["prefilter", "--space", "darts", "--proxies", "params", "--k", "4"],
                        "\n".join(lines) + "\n", monkeypatch, capsys)
    assert rc == 0 and len(out) == 4
    assert [r["rank"] for r in out] == [1, 2, 3, 4]
    assert [r["params"] for r in out] == sorted((r["params"] for r in out), reverse=True)
    rows = {r["arch"]: r for r in out}
    assert rows[archs[1]]["id"] == "b" and rows[archs[1]]["generation"] == 2 and rows[archs[1]]["genotype"] == archs[1]
    assert rows[SPACE.format(SPACE.parse(DARTS_V2_TEXT))]["id"] == "d"
    assert "line 6:" in err and "no 'arch' or 'genotype' field" in err


def test_cli_warns_when_an_input_field_is_replaced(monkeypatch, capsys):
    a = _archs(1, seed=11)[0]
    rc, out, err = _cli(["prefilter", "--space", "darts", "--proxies", "params", "--k", "1"],
                        json.dumps({"arch": a, "rank": 99}) + "\n", monkeypatch, capsys)
    assert rc == 0 and out[0]["rank"] == 1 and "['rank'] are replaced" in err


def test_cli_darts_line_without_space_darts_says_so(monkeypatch, capsys):
    rc, out, err = _cli(["prefilter", "--proxies", "params"], DARTS_V2_TEXT + "\n", monkeypatch, capsys)
    assert rc == 1 and out == [] and "line 1" in err and "--space darts" in err


@pytest.mark.benchdata
def test_the_725_pool_reads_in_naslib_form(bench_root):
    data = json.loads((bench_root / "nb301/nb301-suitezero-sample/zc_nasbench301_725archs.json").read_text())
    keys = list(data["cifar10"])
    got = read_candidate_lines(keys, "darts")
    assert got.errors == [] and len(set(got.archs)) == 725
    assert got.archs == [SPACE.format(SPACE.parse(k)) for k in keys]


@pytest.mark.slow
def test_darts_guide_code_blocks_run(tmp_path, monkeypatch):
    """Every code block of docs/darts.md runs (the harness of tests/test_docs.py)."""
    sys.path.insert(0, str(REPO / "tests"))
    try:
        import test_docs
    finally:
        sys.path.pop(0)
    data = os.environ.get("ZCNAS_DATA")
    monkeypatch.chdir(tmp_path)
    for folder in ("benchmarks_data", "docs"):
        (tmp_path / folder).symlink_to(REPO / folder)
    ns: dict = {"__name__": "__darts_guide__"}
    doc = REPO / "docs" / "darts.md"
    for lang, code, line in test_docs.blocks(doc):
        where = f"{doc.name}:{line}"
        if lang == "python":
            exec(compile(test_docs._substitute(code, data), where, "exec"), ns)  # noqa: S102
        elif lang == "bash":
            test_docs.run_bash(test_docs._substitute(code, data), where)
