"""--archs files: the space's own JSON form per line is read as it is written."""

from __future__ import annotations

import json

import pytest

from zcnas.errors import InputError
from zcnas.ranking.candidates import read_arch_file
from zcnas.spaces import get_space

CELL = {"matrix": [[0, 1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0],
                   [0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
        "ops": ["input", "maxpool3x3", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"]}


def test_nb101_matrix_objects_per_line_equal_the_arch_form(tmp_path):
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps(CELL) + "\n")
    wrapped = tmp_path / "wrapped.jsonl"
    wrapped.write_text(json.dumps({"arch": json.dumps(CELL)}) + "\n")
    space = get_space("nb101")
    assert [space.format(a) for a in read_arch_file(plain, "nb101")] == \
           [space.format(a) for a in read_arch_file(wrapped, "nb101")]


def test_an_object_that_is_neither_names_the_line_and_both_forms(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(CELL) + "\n" + json.dumps({"foo": 1}) + "\n")
    with pytest.raises(InputError, match=r"bad.jsonl:2: a JSON object needs an 'arch' key or must be a nb101 "
                                         r"architecture in JSON \(.*'matrix', 'ops'"):
        read_arch_file(bad, "nb101")
