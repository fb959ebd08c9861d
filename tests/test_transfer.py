"""zcnas.transfer (few-shot rankers, the few-shot and transfer protocols) and ``zcnas rank --labelled``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.exceptions import NotFittedError

from zcnas import get_space
from zcnas.cli import main
from zcnas.errors import DataError, InputError
from zcnas.suite import PairData, SuitePair
from zcnas.transfer import (
    AUTO_RULE,
    FewShotRanker,
    choose_ranker,
    few_shot_study,
    few_shot_summary,
    graph_signals,
    leave_one_space_out,
    transfer_matrix,
)

SPACE = "nb201"


def _archs(n: int, seed: int = 0) -> list[str]:
    sp = get_space(SPACE)
    return [sp.format(a) for a in sp.sample(n, seed)]


def _task(n: int = 400, seed: int = 0):
    """Accuracy = -good (a lower-is-better proxy) + noise; 'noise' is useless."""
    archs = _archs(n, seed)
    rng = np.random.default_rng(seed)
    good = rng.normal(size=n)
    y = pd.Series(-good + 0.2 * rng.normal(size=n), index=archs)
    proxies = pd.DataFrame({"good": good, "noise": rng.normal(size=n)}, index=pd.Index(archs, name="arch"))
    return proxies, y


def test_best_single_finds_the_signal_and_its_sign():
    proxies, y = _task()
    lab = y.index[:20]
    r = choose_ranker(y[lab], proxies, space=SPACE, method="best_single")
    assert r.ranker_.signals == ("good",) and r.ranker_.signs == (-1,)
    rest = y.index[20:]
    pred = r.predict(proxies.loc[rest].reset_index())
    assert stats.spearmanr(pred, y[rest]).statistic > 0.9


@pytest.mark.parametrize("method", ["top3", "greedy", "greedy_graf", "surrogate", "cv"])
def test_every_method_fits_and_ranks_held_out_archs(method):
    proxies, y = _task(200)
    r = FewShotRanker(space=SPACE, method=method).fit(proxies.iloc[:30].reset_index(), y.iloc[:30])
    pred = r.predict(proxies.iloc[30:].reset_index())
    assert pred.shape == (170,) and np.isfinite(pred).all()
    assert stats.spearmanr(pred, y.iloc[30:]).statistic > 0.5
    assert r.method_ != "cv" and r.describe()


def test_graph_features_alone_when_no_proxies():
    archs = _archs(300, 1)
    g = graph_signals(archs, SPACE)
    feat = g.loc[:, g.nunique() > 5].columns[0]
    y = g[feat] + 0.01 * np.random.default_rng(0).normal(size=len(g))
    r = FewShotRanker(space=SPACE, method="best_single").fit(archs[:25], y.iloc[:25])
    assert r.ranker_.signals[0].startswith("graf:")
    assert stats.spearmanr(r.predict(archs[25:]), y.iloc[25:]).statistic > 0.8


def test_auto_follows_the_rule():
    proxies, y = _task(200)
    for n in (5, 20, 50):
        r = FewShotRanker(space=SPACE, directions={"good": False, "noise": True}).fit(
            proxies.iloc[:n].reset_index(), y.iloc[:n])
        assert r.method_ == [m for k, m in AUTO_RULE if n >= k][-1]


def test_bad_inputs_name_the_problem():
    proxies, y = _task(50)
    with pytest.raises(InputError, match="'method' parameter of FewShotRanker must be one of"):
        FewShotRanker(space=SPACE, method="magic").fit(proxies.reset_index(), y)
    with pytest.raises(InputError, match="missing or infinite"):
        FewShotRanker(space=SPACE).fit(proxies.reset_index(), y.where(y > 0))
    with pytest.raises(NotFittedError):
        FewShotRanker(space=SPACE).predict(proxies.reset_index())
    r = FewShotRanker(space=SPACE, method="best_single").fit(proxies.reset_index(), y)
    with pytest.raises(DataError, match="lack proxy column"):
        r.predict(list(proxies.index))
    with pytest.raises(DataError, match="no proxy scores"):
        choose_ranker(y, proxies.iloc[:10], space=SPACE)


def _pair(space: str, task: str, seed: int, with_published: bool = True) -> PairData:
    proxies, y = _task(300, seed)
    rng = np.random.default_rng(seed + 100)
    cols = {"own:good": proxies["good"], "own:noise": proxies["noise"]}
    if with_published:
        cols["published:weak"] = -(proxies["good"] + 2 * rng.normal(size=len(y)))
    scores = pd.DataFrame(cols)
    meta = pd.DataFrame({"column": list(cols), "proxy": [c.split(":")[1] for c in cols],
                         "origin": [c.split(":")[0] for c in cols], "source": "test", "n": len(y),
                         "higher_is_better": True})
    return PairData(SuitePair(space, task, "x", "acc"), y, scores, meta)


def test_few_shot_study_beats_a_weak_published_proxy_and_reports_it():
    data = _pair(SPACE, "cifar10", 0)
    st = few_shot_study([data], ns=(0, 20), repetitions=3, methods=("declared", "best_single"), max_archs=None)
    assert set(st["method"]) == {"declared", "best_single"}
    assert len(st[st["n"] == 20]) == 3 and len(st[st["n"] == 0]) == 1
    assert (st["best_published_column"] == "published:weak").all()
    summ = few_shot_summary(st).set_index(["n", "method"])
    assert summ.loc[(20, "best_single"), "margin"] > 0.2
    assert summ.loc[(20, "best_single"), "win_rate"] == 1.0
    # declared directions are all 'higher is better' here, and 'good' is lower-is-better: n = 0 is poor
    assert summ.loc[(0, "declared"), "spearman"] < summ.loc[(20, "best_single"), "spearman"]


def test_transfer_matrix_and_leave_one_space_out():
    datas = [_pair(SPACE, "cifar10", 0), _pair("tnb101_micro", "jigsaw", 1, with_published=False)]
    # a second space: the proxy columns are what transfers; tnb101 archs are its own strings
    sp = get_space("tnb101_micro")
    archs = [sp.format(a) for a in sp.sample(300, 0)]
    d = datas[1]
    datas[1] = PairData(d.pair, d.truth.set_axis(archs), d.scores.set_axis(archs), d.columns)
    tm = transfer_matrix(datas, max_archs=None)
    assert len(tm) == 4
    cross = tm[(tm["source"] == "nb201/cifar10") & (tm["target"] == "tnb101_micro/jigsaw")].iloc[0]
    assert cross["ranker"] == "-good" and cross["spearman"] > 0.9
    loso, priors = leave_one_space_out(datas, max_archs=None)
    assert set(loso["space"]) == {SPACE, "tnb101_micro"}
    assert priors["tnb101_micro/jigsaw"].signals == ("good",)


def test_cli_rank_labelled(tmp_path, capsys):
    sp = get_space(SPACE)
    archs = [sp.format(a) for a in sp.sample(8, 3)]
    f = tmp_path / "lab.csv"
    f.write_text("arch,accuracy\n" + "".join(f"{a},{70 + i}\n" for i, a in enumerate(archs)))
    code = main(["-q", "rank", "--space", SPACE, "--sample", "4", "--proxies", "params", "--labelled", str(f),
                 "--labelled-method", "best_single", "--format", "csv", "--top", "0"])
    assert code == 0
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert len(out) == 4 and list(out["rank"]) == [1, 2, 3, 4]


@pytest.mark.parametrize("content, message", [
    ("arch,foo\n{a},1\n{b},2\n{c},3\n", "no accuracy column"),
    ("arch,accuracy\nnot-an-arch,1\n{b},2\n{c},3\n", "line 2: 'not-an-arch' is not a nb201 architecture"),
    ("arch,accuracy\n{a},1\n{a},2\n{c},3\n", "appears twice"),
    ("arch,accuracy\n{a},high\n{b},2\n{c},3\n", "is not a number"),
    ("arch,accuracy\n{a},1\n", "at least 3"),
])
def test_cli_rank_labelled_bad_files(tmp_path, capsys, content, message):
    sp = get_space(SPACE)
    a, b, c = (sp.format(x) for x in sp.sample(3, 5))
    f = tmp_path / "lab.csv"
    f.write_text(content.format(a=a, b=b, c=c))
    code = main(["rank", "--space", SPACE, "--sample", "2", "--proxies", "params", "--labelled", str(f)])
    assert code == 1
    assert message in capsys.readouterr().err
