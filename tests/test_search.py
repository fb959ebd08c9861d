"""Search pipeline: stages, store contents, resume, benchmark and training confirmation, active loop,
errors, and ``zcnas search``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from zcnas import get_space
from zcnas.cli import main
from zcnas.cli.output import read_json_lines
from zcnas.errors import DataError, InputError
from zcnas.ranking import (
    AggregateSelector,
    BenchmarkConfirmer,
    ProxyScorer,
    ScoringConfig,
    SearchPipeline,
    StoredScorer,
    TrainingConfirmer,
)
from zcnas.records import RecordStore

BENCH = {"metric": "c10_test_12ep", "outcome": "c10_test_200ep", "space": "nb201"}
SPACE = get_space("nb201")


def _archs(n: int, seed: int = 0) -> list[str]:
    return [SPACE.format(a) for a in SPACE.sample(n, seed=seed)]


def _truth(archs: list[str], seed: int = 0) -> pd.DataFrame:
    """Made-up benchmark values: 12-epoch and 200-epoch accuracies per arch."""
    rng = np.random.default_rng(seed)
    short = rng.uniform(60, 90, len(archs))
    return pd.DataFrame({"c10_test_12ep": short, "c10_test_200ep": short / 2 + 50}, index=archs)


def _fake_scores(archs: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"params": np.linspace(1, 2, len(archs)), "synflow": np.linspace(3, 1, len(archs)) ** 2},
                        index=archs)


def test_benchmark_confirmation_picks_best_short_training_among_top_k():
    archs = _archs(20, seed=1)
    truth = _truth(archs, seed=1)
    scores = _fake_scores(archs)
    pipe = SearchPipeline(StoredScorer(scores, "params"), AggregateSelector(None, ["params"]),
                          BenchmarkConfirmer(truth, **BENCH), k=5)
    res = pipe.run(archs)
    top5 = scores["params"].sort_values(ascending=False).index[:5]  # params: higher is better
    assert set(res.confirmations["arch"]) == set(top5)
    assert res.best == truth.loc[top5, "c10_test_12ep"].idxmax()
    t = res.table
    assert t["confirmed"].tolist() == [True] * 5 + [False] * 15
    assert t["confirm_acc"].head(5).is_monotonic_decreasing
    assert np.allclose(t["outcome"].head(5), truth.loc[t["arch"].head(5), "c10_test_200ep"])
    assert list(t["rank"]) == list(range(1, 21))
    # the unconfirmed rest follows the training-free criterion
    assert t["criterion"].iloc[5:].is_monotonic_decreasing


def test_pipeline_writes_every_stage_and_resumes(tmp_path, monkeypatch):
    archs = _archs(6, seed=2)
    store = tmp_path / "search.h5"
    truth = _truth(archs, seed=2)

    def pipe():
        return SearchPipeline(ProxyScorer("params", ScoringConfig(batch_size=8)), AggregateSelector(),
                              BenchmarkConfirmer(truth, **BENCH), k=3)

    first = pipe().run(archs, store=store)
    with RecordStore(store, "r") as st:
        runs, scores = st.frame("runs"), st.frame("scores")
        trainings, preds = st.frame("trainings"), st.frame("predictions")
    search_run = runs[runs["kind"] == "search"]
    assert search_run["run_key"].tolist() == [first.run_key]
    config = json.loads(search_run["config"].iloc[0])
    assert config["k"] == 3 and config["confirmer"]["metric"] == "c10_test_12ep"
    assert len(scores) == 6 and set(scores["proxy"]) == {"params"}
    assert len(trainings) == 3 and set(trainings["arch"]) == set(first.confirmations["arch"])
    assert np.allclose(trainings.set_index("arch").loc[first.confirmations["arch"], "final_acc"],
                       first.confirmations["acc"])
    assert len(preds) == 6 and preds["run_key"].eq(first.run_key).all()

    import zcnas.ranking.scoring as scoring

    built, confirmed = [], []
    real = scoring.build_seeded
    monkeypatch.setattr(scoring, "build_seeded", lambda *a, **k: built.append(a) or real(*a, **k))
    monkeypatch.setattr(BenchmarkConfirmer, "confirm", lambda self, a: confirmed.append(a))
    again = pipe().run(archs, store=store)
    assert built == [] and confirmed == []  # nothing recomputed or reconfirmed
    assert again.run_key == first.run_key and again.confirmations["cached"].all()
    pd.testing.assert_frame_equal(first.table, again.table)


# cells that pass their input through (or cut it): the cheapest NB201 networks to train
CHEAP = ["|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|",
         "|skip_connect~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|",
         "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|",
         "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"]


def test_training_confirmation_real_short_training_and_resume(tmp_path, monkeypatch):
    archs = CHEAP
    store = tmp_path / "train.h5"
    confirmer = TrainingConfirmer(space="nb201", dataset="digits", epochs=1, batch_size=16, max_train_images=32,
                                  max_test_images=16, device="cpu")
    pipe = SearchPipeline(StoredScorer(_fake_scores(archs), ["params"]), AggregateSelector(), confirmer, k=2)
    res = pipe.run(archs, store=store)
    with RecordStore(store, "r") as st:
        tr = st.frame("trainings")
    assert len(tr) == 2 and (tr["epochs"] == 1).all() and (tr["device"] == "cpu").all()
    assert tr["run_key"].eq(confirmer.run_key()).all()
    assert ((res.confirmations["acc"] >= 0) & (res.confirmations["acc"] <= 100)).all()
    assert (res.confirmations["seconds"] > 0).all()

    import zcnas.ranking.train as train

    calls = []
    monkeypatch.setattr(train, "train_architecture", lambda *a, **k: calls.append(a))
    again = pipe.run(archs, store=store)
    assert calls == [] and again.best == res.best


def test_active_loop_respects_budget_and_records_rounds(tmp_path):
    archs = _archs(30, seed=4)
    truth = _truth(archs, seed=4)
    pipe = SearchPipeline(StoredScorer(_fake_scores(archs)), AggregateSelector(), BenchmarkConfirmer(truth, **BENCH),
                          k=3, active=True, batch=2, budget_trainings=9,
                          surrogate_params={"n_estimators": 20})
    store = tmp_path / "active.h5"
    res = pipe.run(archs, store=store)
    c = res.confirmations
    assert len(c) == 9 and c["arch"].is_unique
    assert c["round"].tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3]
    with RecordStore(store, "r") as st:
        models = set(st.frame("predictions")["model"])
    assert {"aggregate:mean_log_rank", "xgb:round1", "xgb:round3"} <= models
    assert res.table["confirmed"].sum() == 9
    # a seconds budget: each benchmark confirmation is charged 100 s, so 250 s allows 3
    secs = SearchPipeline(StoredScorer(_fake_scores(archs)), AggregateSelector(),
                          BenchmarkConfirmer(truth, seconds_per_training=100.0, **BENCH), k=1, active=True,
                          budget_seconds=250, surrogate_params={"n_estimators": 20}).run(archs)
    assert len(secs.confirmations) == 3


def test_training_free_search_and_k_larger_than_candidates():
    archs = _archs(4, seed=5)
    res = SearchPipeline(StoredScorer(_fake_scores(archs)), AggregateSelector(), None, k=0).run(archs)
    assert not res.table["confirmed"].any() and res.table["criterion"].is_monotonic_decreasing
    res = SearchPipeline(StoredScorer(_fake_scores(archs)), AggregateSelector(),
                         BenchmarkConfirmer(_truth(archs), **BENCH), k=10).run(archs)
    assert res.table["confirmed"].all()


def test_search_errors():
    archs = _archs(3, seed=6)
    scorer = StoredScorer(_fake_scores(archs))
    with pytest.raises(InputError, match="'k' parameter of SearchPipeline must be an int >= 0"):
        SearchPipeline(scorer, k=-1)
    with pytest.raises(InputError, match="need a confirmer"):
        SearchPipeline(scorer, k=2)
    with pytest.raises(InputError, match="needs a budget"):
        SearchPipeline(scorer, confirmer=BenchmarkConfirmer(_truth(archs), **BENCH), active=True)
    with pytest.raises(InputError, match="must be a Scorer"):
        SearchPipeline("synflow")
    with pytest.raises(DataError, match="no stored scores"):
        SearchPipeline(scorer, k=0).run(_archs(5, seed=7))
    with pytest.raises(DataError, match="no column"):
        StoredScorer(_fake_scores(archs), "naswot")
    with pytest.raises(DataError, match="No truth column"):
        BenchmarkConfirmer(_truth(archs), metric="c10_test_1ep", outcome=None, space="nb201")


def test_cli_search_benchmark_confirmation(tmp_path, capsys):
    archs = _archs(6, seed=8)
    truth_store = tmp_path / "truth.h5"
    truth = _truth(archs, seed=8)
    rows = [{"space": "nb201", "arch": a, "metric": m, "value": float(truth.at[a, m]), "dataset": "cifar10"}
            for a in archs for m in truth.columns]
    with RecordStore(truth_store, "w") as st:
        st.append("truth", rows)
    arch_file = tmp_path / "archs.txt"
    arch_file.write_text("\n".join(archs) + "\n")
    argv = ["-q", "search", "--archs", str(arch_file), "--proxies", "params", "--aggregate", "mean_rank",
            "--k", "2", "--truth", str(truth_store), "--store", str(tmp_path / "out.h5"), "--format", "json",
            "--top", "0"]
    assert main(argv) == 0
    table = read_json_lines(capsys.readouterr().out)
    assert len(table) == 6 and [r["confirmed"] for r in table] == [True, True] + [False] * 4
    assert table[0]["confirm_acc"] >= table[1]["confirm_acc"]
    assert table[0]["outcome"] == pytest.approx(truth.at[table[0]["arch"], "c10_test_200ep"])
    assert main(["-q", "search", "--sample", "3", "--proxies", "params", "--k", "0", "--confirm", "none",
                 "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    assert main(["-q", "search", "--sample", "3", "--proxies", "params", "--confirm", "none", "--active"]) == 1
    assert "needs a confirmer" in capsys.readouterr().err


@pytest.mark.benchdata
def test_benchmark_confirmer_on_nb201(bench_root):
    conf = BenchmarkConfirmer.from_benchmark("nb201", bench_root)
    assert len(conf.truth) == 15625
    best = conf.truth["c10_test_200ep"].idxmax()
    c = conf.confirm(best)
    assert c.outcome == pytest.approx(94.3733, abs=1e-3) and 0 < c.acc < 90
    archs = _archs(40, seed=9)
    from zcnas.records.importers import run_importer

    pub = run_importer("nb201-merged", None, data_root=bench_root, hw=False)["scores"]
    pub = pub[pub["run_key"] == "published:naswot:cifar10"].set_index("arch")["value"].rename("naswot")
    res = SearchPipeline(StoredScorer(pub.to_frame()), AggregateSelector(None), conf, k=10).run(archs)
    top10 = pub.reindex(archs).sort_values(ascending=False, na_position="last").index[:10]
    assert res.best == conf.truth.loc[top10, "c10_test_12ep"].idxmax()
    assert res.table["outcome"].iloc[0] == pytest.approx(conf.truth.at[res.best, "c10_test_200ep"])
