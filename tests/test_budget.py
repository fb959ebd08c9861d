"""--budget: the best measured ranker within a cost per architecture."""

from __future__ import annotations

import pandas as pd
import pytest

from zcnas.budget import TABLE, budget_table, ranker_within
from zcnas.errors import InputError
from zcnas.proxies import check_structural, resolve_proxies

ROWS = [  # a small Pareto front of NB101 rankers (made-up costs, for the selection logic)
    {"space": "nb101", "truth": "t", "ranker": "budget structural only", "proxies": "graph:count_c3,graph:-depth",
     "aggregate": "mean_log_rank", "how": "", "seconds_per_arch": 0.001, "spearman_heldout": 0.6,
     "n_heldout": 100, "n_fit": 100},
    {"space": "nb101", "truth": "t", "ranker": "synflow", "proxies": "synflow", "aggregate": "", "how": "",
     "seconds_per_arch": 1.5, "spearman_heldout": 0.7, "n_heldout": 100, "n_fit": 100},
    {"space": "nb101", "truth": "t", "ranker": "budget no cap", "proxies": "synflow,meco,graph:count_c3",
     "aggregate": "mean_log_rank", "how": "", "seconds_per_arch": 6.0, "spearman_heldout": 0.8,
     "n_heldout": 100, "n_fit": 100},
]


@pytest.fixture()
def table(tmp_path):
    path = tmp_path / "budget_table.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("budget, want", [(0.001, "budget structural only"), (1.0, "budget structural only"),
                                          (1.5, "synflow"), (5.9, "synflow"), (100.0, "budget no cap")])
def test_the_best_ranker_that_fits_is_chosen(table, budget, want):
    r = ranker_within("nb101", budget, path=table)
    assert r.ranker == want and r.seconds_per_arch <= budget
    assert r.aggregate in (None, "mean_log_rank") and (r.aggregate is None) == (len(r.proxies) == 1)


def test_a_budget_below_the_cheapest_names_the_cheapest_cost(table):
    with pytest.raises(InputError, match=r"cheapest, budget structural only, costs 0.001 s/arch"):
        ranker_within("nb101", 0.0001, path=table)


def test_a_space_without_measurements_and_a_bad_budget_are_clear_errors(table):
    with pytest.raises(InputError, match="No measured costs for space 'darts'.*give --proxies"):
        ranker_within("darts", 1.0, path=table)
    for bad in (-1.0, float("nan"), "1"):
        with pytest.raises(InputError, match="seconds per architecture"):
            ranker_within("nb101", bad, path=table)


def test_a_space_measured_per_task_picks_the_task_rows(tmp_path):
    """TNB101's network and truth change with the task: --budget reads the rows of the task asked
    for (default: the space's default task), and names the measured tasks for another."""
    def row(task, ranker, proxies, secs, rho):
        return {"space": "tnb101_micro", "task": task, "truth": task, "ranker": ranker, "proxies": proxies,
                "aggregate": "", "how": "", "seconds_per_arch": secs, "spearman_heldout": rho,
                "n_heldout": 50, "n_fit": 50}
    path = tmp_path / "t.csv"
    pd.DataFrame(ROWS + [row("class_scene", "synflow", "synflow", 1.0, 0.78),
                         row("class_scene", "params", "params", 0.0001, 0.64),
                         row("jigsaw", "flops", "flops", 0.0001, 0.5),
                         row("jigsaw", "meco", "meco", 2.0, 0.2)]).to_csv(path, index=False)
    assert ranker_within("tnb101_micro", 5.0, task="jigsaw", path=path).ranker == "flops"
    got = ranker_within("tnb101_micro", 5.0, path=path)
    assert got.ranker == "synflow" and got.task == "class_scene" and "on class_scene" in got.describe()
    with pytest.raises(InputError, match=r"task 'normal' \(measured: class_scene, jigsaw\)"):
        ranker_within("tnb101_micro", 5.0, task="normal", path=path)
    assert ranker_within("nb101", 1.5, path=path).ranker == "synflow"  # spaces without tasks as before


@pytest.mark.skipif(not TABLE.exists(), reason="experiments/cost_quality.py has not written the table")
def test_the_packaged_table_is_a_pareto_front_of_valid_rankers():
    df = budget_table()
    assert set(df["space"]) >= {"nb201"}
    for (space, task), g in df.groupby(["space", "task"]):
        g = g.sort_values("seconds_per_arch")
        assert g["spearman_heldout"].is_monotonic_increasing, (space, task)  # dearer only when better
        for proxies in g["proxies"]:
            names = resolve_proxies(proxies)
            check_structural(names, space)


@pytest.mark.skipif(not TABLE.exists() or budget_table("nb101").empty, reason="no NB101 rows measured")
def test_cli_budget_ranks_with_the_chosen_ranker_and_says_which(capsys, tmp_path):
    import json

    from zcnas.cli import main

    archs = tmp_path / "nb101.jsonl"  # matrix form: no NB101 index needed (--sample would build it)
    cells = [{"matrix": [[0, 1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0],
                         [0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
              "ops": ["input", "maxpool3x3", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3",
                      "output"]},
             {"matrix": [[0, 1, 0, 0, 1, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 1, 1],
                         [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
              "ops": ["input", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv1x1-bn-relu",
                      "output"]}]
    archs.write_text("".join(json.dumps({"arch": json.dumps(c)}) + "\n" for c in cells))
    cheapest = budget_table("nb101").iloc[0]
    rc = main(["rank", "--space", "nb101", "--archs", str(archs), "--budget", str(cheapest["seconds_per_arch"]),
               "--format", "csv", "--top", "0"])
    out, err = capsys.readouterr()
    assert rc == 0 and f"--budget {cheapest['seconds_per_arch']:g} s/arch: {cheapest['ranker']}" in err
    assert len(out.strip().splitlines()) == 3  # header + 2 ranked architectures
    assert main(["rank", "--space", "nb101", "--archs", str(archs), "--budget", "1", "--proxies", "synflow"]) == 1
    assert "Give --proxies or --budget, not both" in capsys.readouterr().err


@pytest.mark.skipif(not TABLE.exists() or "tnb101_micro" not in set(budget_table()["space"]),
                    reason="no TNB101 rows measured")
def test_cli_budget_on_tnb101_uses_the_task_rows(capsys, tmp_path):
    """``zcnas rank --space tnb101_micro --task T --budget B`` takes the ranker measured on task T."""
    from zcnas.cli import main

    archs = tmp_path / "cells.txt"
    archs.write_text("64-41414-1_02_333\n64-41414-0_10_201\n")
    cheapest = budget_table("tnb101_micro", task="jigsaw").iloc[0]
    rc = main(["rank", "--space", "tnb101_micro", "--task", "jigsaw", "--archs", str(archs),
               "--budget", str(cheapest["seconds_per_arch"]), "--format", "csv", "--top", "0"])
    out, err = capsys.readouterr()
    assert rc == 0 and f"{cheapest['ranker']} on jigsaw" in err
    assert len(out.strip().splitlines()) == 3
