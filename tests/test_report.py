"""zcnas.report: the HTML page builder, the bench report (one page, figures/ folder) and its figures."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from zcnas.cli import main
from zcnas.report import HtmlReport, find_chromium, qualitative_colors, topk_curves, topk_figure, wrap, write_report

N_LINES = 16  # more than the 15 colours of the palette and the 10 of matplotlib's default cycle
N_PROXIES = 6  # in the reports: enough to show one figure per kind, not one per proxy
N = 150
EVIL = "<b>evil</b>&co"


@pytest.fixture(scope="module")
def synthetic():
    """16 proxies of decreasing quality, one named with markup, a truth and a cost, on 150 archs."""
    rng = np.random.default_rng(0)
    archs = [f"a{i}" for i in range(N)]
    acc = rng.uniform(80, 94, N)
    cols = {f"p{j:02d}": acc + rng.normal(0, 1 + j, N) for j in range(N_LINES - 1)}
    cols[EVIL] = -acc + rng.normal(0, 3, N)  # lower is better
    scores = pd.DataFrame(cols, index=pd.Index(archs, name="arch"))
    scores.iloc[4, 2] = np.nan
    truth = pd.DataFrame({"acc": acc}, index=scores.index)
    cost = pd.Series(rng.uniform(1, 10, N) + (acc - 80) / 3, index=scores.index, name="lat_ms")
    return scores, truth, cost


@pytest.fixture(scope="module")
def few(synthetic):
    """The report's inputs: 6 proxies (the markup-named one among them)."""
    scores, truth, cost = synthetic
    return scores[[*scores.columns[:N_PROXIES - 1], EVIL]], truth, cost


def _dirs(scores: pd.DataFrame) -> dict[str, bool]:
    return {p: p != EVIL for p in scores.columns}


@pytest.fixture(scope="module")
def report(few, tmp_path_factory):
    from zcnas.metrics import evaluate

    scores, truth, cost = few
    res = evaluate(scores, truth, _dirs(scores), metrics=("spearman", "precision"), topk=(10,), bootstrap=20)
    out = tmp_path_factory.mktemp("report") / "rep"
    files = write_report(res, scores, truth, out, directions=_dirs(scores), pareto_cost=cost,
                         meta={"scores": "synthetic <scores>.csv"})
    return files, res


def _images(page: str) -> list[str]:
    return re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", page)


def _check_self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"\b(src|href)=\"(?!data:|#)", page), "a reference to another file or URL"
    assert "url(" not in page  # no external CSS resources either
    for src in _images(page):
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


# ---- the page builder ---------------------------------------------------------------------------
def test_builder_sections_tables_figures_escaped(tmp_path):
    from zcnas.report import _figure

    fig = _figure((2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    df = pd.DataFrame({"name <th>": ["<script>alert(1)</script>", "a & b", 'quote "x"'],
                       "value": [0.12345, float("nan"), 3.0], "n": [1, 20000, 3]})
    png = _png(fig)
    page = HtmlReport("Title <i>", subtitle="sub & title", meta={"scores": "<run.h5>", "n": 3})
    same = (page.add_section("First <section>", "Text with <tags> & ampersands.")
            .add_table(df, "Caption <caption>")
            .add_figure(fig, "A figure <caption>", name="line plot")
            .add_section("Second")
            .add_table(df.head(1), "Folded", collapsed=True)
            .add_figure(png, "Same image as bytes", name="line plot"))
    assert same is page
    out = page.write(tmp_path / "page" / "report.html", figures_dir=tmp_path / "page" / "figures")
    html = out.read_text()
    assert sorted(p.name for p in (tmp_path / "page").iterdir()) == ["figures", "report.html"]
    assert sorted(p.name for p in (tmp_path / "page" / "figures").iterdir()) == ["line_plot.png", "line_plot_2.png"]
    _check_self_contained(html)
    assert len(_images(html)) == 2
    # every piece of text is escaped: no markup from the data reaches the page
    for raw in ("<script>alert(1)</script>", "name <th>", "<i>", "<tags>", "<caption>Caption <caption>", "<run.h5>"):
        assert raw not in html
    for escaped in ("&lt;script&gt;alert(1)&lt;/script&gt;", "name &lt;th&gt;", "a &amp; b", "quote &quot;x&quot;",
                    "Title &lt;i&gt;", "&lt;run.h5&gt;", "First &lt;section&gt;"):
        assert escaped in html
    assert "<td class=\"num\">0.123</td>" in html and "<td class=\"num\">20,000</td>" in html
    assert "<td class=\"num\"></td>" in html  # NaN is an empty cell
    assert html.count("<h2>") == 2 and 'href="#s1-' in html and "<details><summary>Folded</summary>" in html


def _png(fig) -> bytes:
    from zcnas.report import figure_png

    return figure_png(fig)


def test_builder_rejects_what_it_cannot_embed(tmp_path):
    page = HtmlReport("x")
    with pytest.raises(TypeError, match="matplotlib Figure, PNG bytes or a PNG path"):
        page.add_figure(42)
    (tmp_path / "fake.png").write_bytes(b"GIF89a")
    with pytest.raises(ValueError, match="not a PNG"):
        page.add_figure(tmp_path / "fake.png")


def test_qualitative_colors_are_distinct():
    for n in (1, 9, 15, 16, 40):
        colors = qualitative_colors(n)
        assert len(colors) == n == len(set(colors))
    assert "#7f7f7f" not in qualitative_colors(15)  # grey is kept for references and candidates


def test_wrap_keeps_lines_short():
    text = "Predicted against true Pareto front of c10_test_200ep (higher is better) and hw_edgegpu_latency"
    assert all(len(line) <= 40 for line in wrap(text, 40).split("\n"))
    assert wrap(text, 40).replace("\n", " ") == text


# ---- figures ------------------------------------------------------------------------------------
def test_topk_lines_have_distinct_colours(synthetic):
    scores, truth, _ = synthetic
    dirs = _dirs(scores)
    curves = {"acc": topk_curves(scores, truth["acc"], dirs, ks=(1, 5, 10, 50)),
              "acc again": topk_curves(scores, truth["acc"], dirs, ks=(1, 5, 10, 50))}
    fig = topk_figure(curves)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    for ax in axes:
        lines = {ln.get_label(): ln.get_color() for ln in ax.get_lines()}
        proxy_colors = [c for label, c in lines.items() if label in scores.columns]
        assert len(proxy_colors) == N_LINES == len(set(proxy_colors))
        assert lines["random order (k / 100)"] not in proxy_colors
    assert [ln.get_color() for ln in axes[0].get_lines()] == [ln.get_color() for ln in axes[1].get_lines()]


def test_titles_fit_inside_the_figures(few):
    """Long titles are wrapped and the layout is constrained: no title leaves the canvas."""
    from zcnas.report import hexbin_grid_figure, pareto_grid_figure

    scores, truth, cost = few
    scores = scores.iloc[:, -3:]
    long = "a_very_long_truth_metric_name_that_would_be_cut_off_c10_test_200ep"
    dirs = _dirs(scores)
    figs = [pareto_grid_figure(scores, truth["acc"].rename(long), cost.rename("hw_edgegpu_latency_long_name"),
                               dirs)[0],
            hexbin_grid_figure(scores, truth["acc"].rename(long))]
    for fig in figs:
        fig.canvas.draw()
        box = fig.bbox
        texts = [fig._suptitle] + [ax.title for ax in fig.axes if ax.get_visible()]
        for t in texts:
            if t is None or not t.get_text():
                continue
            ext = t.get_window_extent()
            assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y1 <= box.y1 + 1, t.get_text()


# ---- the bench report ---------------------------------------------------------------------------
def test_write_report_one_page_every_section(few, report):
    scores, truth, cost = few
    files, res = report
    rep = files["report"].parent
    assert sorted(p.name for p in rep.iterdir()) == ["figures", "pareto.csv", "report.html", "results.csv",
                                                    "summary.md"]
    pngs = sorted(p.name for p in (rep / "figures").iterdir())
    assert pngs == ["heatmap.png", "pareto_acc.png", "scatter_acc.png", "topk.png"]
    assert len(pngs) < N_PROXIES
    html = files["report"].read_text()
    _check_self_contained(html)
    assert len(_images(html)) == len(pngs)
    for heading in ("Overview", "Metrics", "Top-k precision", "Scores against truth", "Pareto fronts", "Files"):
        assert f"<h2>{heading}</h2>" in html, heading
    # the header says what was compared
    from zcnas import __version__

    for key, value in (("scores", "synthetic &lt;scores&gt;.csv"), ("truth metric", "acc"), ("archs", f"{N:,}"),
                       ("zcnas", __version__)):
        assert re.search(rf"<dt>{key}</dt><dd>[^<]*{re.escape(value)}", html), key
    assert re.search(r"<dt>date</dt><dd>\d{4}-\d\d-\d\d", html)
    # a proxy whose name is markup is shown, escaped, in the tables
    assert "&lt;b&gt;evil&lt;/b&gt;&amp;co" in html and "<b>evil</b>" not in html
    assert "95 % intervals against acc" in html
    hv = pd.read_csv(rep / "pareto.csv")
    assert len(hv) == N_PROXIES and hv["hv_fraction"].between(0, 1 + 1e-9).all()


def test_report_written_again_holds_the_new_figures_only(few, tmp_path):
    from zcnas.metrics import evaluate

    scores, truth, cost = few
    s2 = scores[["p00", "p01"]]
    res = evaluate(s2, truth, _dirs(s2), metrics=("spearman",), bootstrap=0)
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "pareto_old.png").write_bytes(b"\x89PNG old")
    write_report(res, s2, truth, tmp_path, directions=_dirs(s2), hexbins=False)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["heatmap.png", "topk.png"]


def test_cli_bench_report_page_and_figures_folder(few, tmp_path, capsys):
    scores, truth, cost = few
    s, t = tmp_path / "s.csv", tmp_path / "t.csv"
    scores.reset_index().to_csv(s, index=False)
    truth.assign(lat_ms=cost).reset_index().to_csv(t, index=False)
    rep = tmp_path / "rep"
    rc = main(["-q", "bench", "--scores", str(s), "--truth", str(t), "--truth-metric", "acc",
               "--direction", f"{EVIL}=-1", *[f"--direction=p{j:02d}=+1" for j in range(N_PROXIES - 1)],
               "--metrics", "spearman,kendall", "--topk", "10", "--bootstrap", "0", "--format", "csv",
               "--report", str(rep), "--pareto-cost", "lat_ms"])
    assert rc == 0, capsys.readouterr().err
    assert (rep / "report.html").is_file() and (rep / "pareto.csv").is_file()
    assert not list(rep.glob("*.png"))
    pngs = list((rep / "figures").glob("*.png"))
    assert 0 < len(pngs) < N_PROXIES
    html = (rep / "report.html").read_text()
    _check_self_contained(html)
    assert len(_images(html)) == len(pngs)
    assert f"<dd>{s}</dd>" in html and "<dt>Pareto cost</dt><dd>lat_ms</dd>" in html
    assert "<dt>bootstrap</dt><dd>none</dd>" in html


def test_report_module_does_not_load_matplotlib():
    code = "import sys, zcnas.report, zcnas.bench; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_page_renders_in_headless_chromium(report, tmp_path):
    """The page as a browser shows it: a screenshot that is not blank."""
    if find_chromium() is None:
        pytest.skip("chromium not installed (Debian: apt-get install -y chromium)")
    from matplotlib.image import imread

    from zcnas.report import screenshot

    files, _ = report
    shot = screenshot(files["report"], tmp_path / "shot.png", width=1000, height=1600)
    img = imread(shot)[..., :3]
    assert img.shape[:2] == (1600, 1000)
    assert img.std() > 0.05  # text, tables and figures, not a blank page
    non_white = (img < 0.9).any(axis=2)
    assert non_white[:200].mean() > 0.01 and non_white[800:].mean() > 0.01  # header and figures drawn
