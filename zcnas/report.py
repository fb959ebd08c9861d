"""Benchmark reports: one self-contained HTML page, its figures, and a generic page builder. No torch.

:class:`HtmlReport` builds a page from sections of text, tables and figures
(``HtmlReport(title).add_section("...").add_table(df, caption).add_figure(fig, caption).write(path)``).
Every table cell and every caption is HTML-escaped, figures are embedded as base64 PNG, and the
style sheet is inline: the page opens in a browser with no other file and no network.

:func:`write_report` is the bench report (``zcnas bench --report DIR``). It writes

- ``DIR/report.html``: the page (header saying what was compared, the metric tables, the figures);
- ``DIR/figures/``: the same figures as PNG files, one per kind, whatever the number of proxies:
  ``heatmap.png`` (proxies x truths for the main metric, or proxies x metrics with one truth),
  ``topk.png`` (top-k precision against k %, one panel per truth, one line per proxy),
  ``scatter_<truth>.png`` (a hexbin grid, one panel per proxy) and, with a cost,
  ``pareto_<truth>.png`` (each proxy's predicted Pareto front against the true one, one panel per proxy);
- ``DIR/results.csv`` (the tidy metric table), ``DIR/summary.md`` (the tables as Markdown) and, with a
  cost, ``DIR/pareto.csv`` (hypervolume fractions).

Figure functions return a :class:`matplotlib.figure.Figure` on an Agg canvas (no global pyplot
state); matplotlib is imported inside them, so importing this module does not load it. Titles are
wrapped and figures use constrained layout, so no title is cut off. Lines get colours from
:func:`qualitative_colors`, which never repeats a colour.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zcnas._version import __version__
from zcnas.constraints import hypervolume_fraction
from zcnas.metrics import compute, direction_sign, paired

DEFAULT_KS: tuple[float, ...] = tuple(float(f"{k:.3g}") for k in np.geomspace(0.1, 50, 19))
#: resolution of saved and embedded figures
DPI = 100
#: qualitative palette: tab10 without its grey (grey marks references and candidates), then navy,
#: black, teal, maroon, olive and gold, far from those nine; :func:`qualitative_colors` extends it by hue.
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
    "#000075", "#000000", "#469990", "#800000", "#6b8e23", "#e6ab02",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p")
#: paths of the chromium binary that :func:`find_chromium` looks for, in order
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


# ---- small helpers --------------------------------------------------------------------------------
def _figure(figsize=(6.0, 4.5), *, layout: str | None = "constrained"):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def safe_name(name: str) -> str:
    """A file-name-safe version of a proxy or metric name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("_") or "x"


def wrap(text: str, width: int = 60) -> str:
    """``text`` folded into lines of at most ``width`` characters (long words are kept whole)."""
    return "\n".join(textwrap.fill(part, width, break_long_words=False, break_on_hyphens=False)
                     for part in str(text).split("\n"))


def qualitative_colors(n: int) -> list[str]:
    """``n`` distinct colours (hex): :data:`PALETTE`, then evenly spaced hues for the rest."""
    if n <= len(PALETTE):
        return list(PALETTE[:n])
    from matplotlib.colors import hsv_to_rgb, to_hex

    extra = n - len(PALETTE)
    out = list(PALETTE)
    for i in range(extra):
        h = (i / extra + 0.05) % 1.0
        c = to_hex(hsv_to_rgb((h, 0.85, 0.55 if i % 2 else 0.8)))
        while c in out:  # never repeat (different value, same hue)
            c = to_hex(hsv_to_rgb((h, 0.85, 0.3 + (len(out) % 7) * 0.1)))
            h = (h + 0.003) % 1.0
        out.append(c)
    return out


def _as_frame(truth: pd.Series | pd.DataFrame) -> pd.DataFrame:
    return truth.to_frame(truth.name if truth.name is not None else "truth") if isinstance(truth, pd.Series) \
        else truth


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = max(1, min(max_cols, n))
    return math.ceil(n / cols), cols


def figure_png(fig) -> bytes:
    """The PNG bytes of a matplotlib figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


# ---- the page builder -----------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
 color:#1a1a1a;background:#fff;line-height:1.45}
main{max-width:1240px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.7em;margin:0 0 .3em}h2{font-size:1.3em;margin:1.8em 0 .5em;padding-top:.4em;
 border-top:1px solid #ddd}
.subtitle{color:#444;margin:0 0 1em}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 18px;margin:0 0 1em;
 padding:10px 14px;background:#f5f6f8;border-radius:6px;font-size:.95em}
dl.meta dt{font-weight:600;color:#333}dl.meta dd{margin:0;word-break:break-word}
nav.toc{font-size:.95em;margin:0 0 1em}nav.toc a{margin-right:14px;white-space:nowrap}
.tablewrap{overflow-x:auto;margin:.6em 0 1.2em}
table{border-collapse:collapse;font-size:.9em;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:600;padding:0 0 6px;color:#333}
th,td{border:1px solid #d4d7dc;padding:3px 9px;text-align:left;vertical-align:top}
th{background:#eef0f3}td.num{text-align:right;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
figure{margin:.8em 0 1.6em}figure img{max-width:100%;height:auto;border:1px solid #e3e3e3}
figcaption{font-size:.92em;color:#333;margin-top:4px}
p.note{font-size:.92em;color:#333}
details{margin:-.6em 0 1.2em}summary{cursor:pointer;color:#1f4f8f;font-size:.92em}
"""


@dataclass
class _Figure:
    name: str
    png: bytes
    caption: str


@dataclass
class _Section:
    heading: str
    anchor: str
    blocks: list[str] = field(default_factory=list)


class HtmlReport:
    """A self-contained HTML page made of sections of text, tables and figures.

    >>> page = HtmlReport("Proxy benchmark", meta={"scores": "run.h5"})
    >>> page.add_section("Results").add_table(df, "Spearman per proxy").add_figure(fig, "Top-k")
    >>> page.write("out/report.html", figures_dir="out/figures")

    Methods return the page, so calls chain. Text is escaped (no markup gets through); a table cell
    holding ``<b>`` shows the characters ``<b>``. Figures are matplotlib figures, PNG bytes or a PNG
    file, embedded as base64 ``data:`` URIs; :meth:`write` can also save them as files.
    """

    def __init__(self, title: str, *, subtitle: str | None = None,
                 meta: Mapping[str, Any] | None = None) -> None:
        self.title = str(title)
        self.subtitle = subtitle
        self.meta: dict[str, str] = {str(k): str(v) for k, v in (meta or {}).items()}
        self.sections: list[_Section] = []
        self.figures: list[_Figure] = []

    # -- building --
    def _current(self) -> _Section:
        if not self.sections:
            self.sections.append(_Section("", ""))
        return self.sections[-1]

    def add_section(self, heading: str, text: str | None = None) -> HtmlReport:
        """Start a section (an ``<h2>`` listed in the page's contents); later blocks go into it."""
        anchor = f"s{len(self.sections) + 1}-{safe_name(heading).lower()[:40]}"
        self.sections.append(_Section(str(heading), anchor))
        if text:
            self.add_text(text)
        return self

    def add_text(self, text: str, *, note: bool = False) -> HtmlReport:
        """A paragraph of plain text (escaped); blank lines start new paragraphs."""
        cls = ' class="note"' if note else ""
        for para in re.split(r"\n\s*\n", str(text).strip()):
            if para:
                self._current().blocks.append(f"<p{cls}>{html.escape(para)}</p>")
        return self

    def add_table(self, df: pd.DataFrame, caption: str = "", *, index: bool = False,
                  float_format: str = "{:.3f}", collapsed: bool = False) -> HtmlReport:
        """A table of ``df``: every header and cell escaped; floats formatted, NaN shown empty.
        ``collapsed``: folded under its caption until clicked (``<details>``, no script)."""
        if collapsed:
            block = (f"<details><summary>{html.escape(caption or 'Table')}</summary>"
                     f"{table_html(df, '', index=index, float_format=float_format)}</details>")
        else:
            block = table_html(df, caption, index=index, float_format=float_format)
        self._current().blocks.append(block)
        return self

    def add_figure(self, fig: Any, caption: str = "", *, name: str | None = None) -> HtmlReport:
        """A figure: a matplotlib ``Figure``, PNG ``bytes`` or the path of a PNG file. ``name`` is its
        file name (without ``.png``) when the figures are saved; default ``figure<N>``."""
        if isinstance(fig, bytes | bytearray):
            png = bytes(fig)
        elif isinstance(fig, str | Path):
            png = Path(fig).read_bytes()
        elif hasattr(fig, "savefig"):
            png = figure_png(fig)
        else:
            raise TypeError(f"add_figure takes a matplotlib Figure, PNG bytes or a PNG path. Got {type(fig).__name__}.")
        if png[:8] != b"\x89PNG\r\n\x1a\n":
            raise ValueError("add_figure: the image is not a PNG.")
        base = safe_name(name or f"figure{len(self.figures) + 1}")
        used = {f.name for f in self.figures}
        fname, i = base, 2
        while fname in used:
            fname, i = f"{base}_{i}", i + 1
        self.figures.append(_Figure(fname, png, str(caption)))
        b64 = base64.b64encode(png).decode("ascii")
        alt = html.escape(caption or fname, quote=True)
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._current().blocks.append(
            f'<figure id="fig-{fname}"><img alt="{alt}" src="data:image/png;base64,{b64}">{cap}</figure>')
        return self

    # -- output --
    def to_html(self) -> str:
        """The page as one HTML string."""
        head = [f"<h1>{html.escape(self.title)}</h1>"]
        if self.subtitle:
            head.append(f'<p class="subtitle">{html.escape(self.subtitle)}</p>')
        if self.meta:
            items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in self.meta.items())
            head.append(f'<dl class="meta">{items}</dl>')
        named = [s for s in self.sections if s.heading]
        if len(named) > 1:
            links = "".join(f'<a href="#{s.anchor}">{html.escape(s.heading)}</a>' for s in named)
            head.append(f'<nav class="toc">Contents: {links}</nav>')
        body = []
        for s in self.sections:
            if s.heading:
                body.append(f'<section id="{s.anchor}"><h2>{html.escape(s.heading)}</h2>')
            else:
                body.append("<section>")
            body.extend(s.blocks)
            body.append("</section>")
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>\n"
                "<body><main>\n" + "\n".join(head) + "\n" + "\n".join(body) + "\n</main></body></html>\n")

    def save_figures(self, folder: str | Path) -> list[Path]:
        """Write every figure as ``folder/<name>.png``; returns the paths."""
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        out = []
        for f in self.figures:
            p = d / f"{f.name}.png"
            p.write_bytes(f.png)
            out.append(p)
        return out

    def write(self, path: str | Path, *, figures_dir: str | Path | None = None) -> Path:
        """Write the page to ``path`` (and the figures as PNG files into ``figures_dir`` if given)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_html(), encoding="utf-8")
        if figures_dir is not None:
            self.save_figures(figures_dir)
        return p


def _cell(v: Any, float_format: str) -> tuple[str, bool]:
    if v is None or (isinstance(v, float) and v != v):
        return "", True
    if isinstance(v, bool | np.bool_):
        return str(bool(v)), False
    if isinstance(v, int | np.integer):
        return f"{int(v):,}" if abs(int(v)) >= 10_000 else str(int(v)), True
    if isinstance(v, float | np.floating):
        return float_format.format(float(v)), True
    return str(v), False


def table_html(df: pd.DataFrame, caption: str = "", *, index: bool = False, float_format: str = "{:.3f}") -> str:
    """An HTML ``<table>`` of ``df`` (in a scrolling wrapper); headers, cells and caption escaped."""
    d = df.reset_index() if index else df
    cols = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in d.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    for row in d.itertuples(index=False, name=None):
        cells = []
        for v in row:
            text, num = _cell(v, float_format)
            cls = ' class="num"' if num else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<div class="tablewrap"><table>{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


# ---- figures --------------------------------------------------------------------------------------
def _hexbin_on(ax, score, truth, *, proxy: str, truth_name: str, gridsize: int, title_width: int = 40,
               norm=None):
    """Draw one hexbin panel; returns (the PolyCollection or None, rho, n)."""
    x, y = paired(np.asarray(score, float), np.asarray(truth, float))
    xlabel, xscale = f"{proxy} score", "linear"
    hb = None
    if x.size:
        lo, hi = np.min(np.abs(x[x != 0])) if np.any(x != 0) else 0.0, np.max(np.abs(x))
        wide = lo > 0 and hi / lo > 1e3
        if wide and np.all(x > 0):
            xscale = "log"
            xlabel = f"{proxy} score (log)"
        elif wide:
            x = (pd.Series(x).rank(pct=True)).to_numpy()
            xlabel = f"{proxy} (rank percentile)"
        kw = {"norm": norm} if norm is not None else {"bins": "log"}
        hb = ax.hexbin(x, y, gridsize=gridsize, xscale=xscale, mincnt=1, cmap="viridis", linewidths=0.2, **kw)
    rho = compute("spearman", x, y) if x.size >= 2 else float("nan")
    ax.set_title(wrap(f"{proxy}: Spearman {rho:.3f} (n={x.size:,})", title_width), fontsize=9)
    ax.set_xlabel(wrap(xlabel, title_width), fontsize=8)
    ax.tick_params(labelsize=7)
    return hb, rho, x.size


def hexbin_plot(score: pd.Series, truth: pd.Series, path: str | Path, *, proxy: str = "",
                truth_name: str = "", gridsize: int = 50) -> Path:
    """Density scatter (hexbin) of one proxy against one truth, saved as a PNG; NaN pairs dropped.

    The x axis is the raw score, on a log axis when every score is positive and they span more than
    three decades (synflow), or the score's rank percentile when they span that much but are not all
    positive; the Spearman rho is in the title."""
    common = score.index.intersection(truth.index, sort=False)
    fig = _figure()
    ax = fig.add_subplot()
    hb, _, _ = _hexbin_on(ax, score.loc[common], truth.loc[common], proxy=proxy, truth_name=truth_name,
                          gridsize=gridsize, title_width=60)
    if hb is not None:
        fig.colorbar(hb, ax=ax, label="archs (log)")
    ax.set_ylabel(truth_name)
    fig.savefig(path)
    return Path(path)


def hexbin_grid_figure(scores: pd.DataFrame, truth: pd.Series, *, truth_name: str | None = None,
                       max_cols: int = 4, gridsize: int = 32, title: str | None = None):
    """One figure of small multiples: a hexbin of each proxy (column of ``scores``) against ``truth``,
    with one shared logarithmic colour scale (archs per hexagon)."""
    from matplotlib.colors import LogNorm

    name = str(truth_name if truth_name is not None else (truth.name or "truth"))
    common = scores.index.intersection(truth.index, sort=False)
    y = truth.loc[common].to_numpy(float)
    rows, cols = _grid(scores.shape[1], max_cols)
    fig = _figure((3.1 * cols + 1.0, 2.75 * rows + 0.9))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    norm = LogNorm(vmin=1, vmax=max(2, len(common) // 20))
    hbs = []
    for i, p in enumerate(scores.columns):
        hb, _, _ = _hexbin_on(axes[i], scores.loc[common, p].to_numpy(float), y, proxy=str(p), truth_name=name,
                              gridsize=gridsize, title_width=34, norm=norm)
        if hb is not None:
            hbs.append(hb)
        if i % cols == 0:
            axes[i].set_ylabel(wrap(name, 30), fontsize=8)
    for ax in axes[scores.shape[1]:]:
        ax.set_visible(False)
    if hbs:
        top = max(float(np.max(h.get_array())) for h in hbs)
        norm.vmax = max(2.0, top)
        for h in hbs:
            h.set_norm(norm)
        fig.colorbar(hbs[0], ax=list(axes[:scores.shape[1]]), label="archs per hexagon (log)",
                     shrink=min(0.8, 2.2 / rows + 0.1), aspect=30)
    fig.suptitle(wrap(title or f"Proxy scores against {name} (n={len(common):,} archs)", 110), fontsize=11)
    return fig


def heatmap_figure(table: pd.DataFrame, *, title: str = "", label: str = "", vmin: float | None = None,
                   vmax: float | None = None, cmap: str | None = None, fmt: str = "{:.2f}"):
    """Annotated heat-map of a numeric table (rows x columns as given; labels wrapped).

    With ``vmin``/``vmax`` symmetric about 0 (correlations: -1, 1) the colour map is diverging
    (``RdBu``), otherwise ``viridis``."""
    vals = table.to_numpy(float)
    diverging = vmin is not None and vmax is not None and math.isclose(vmin, -vmax)
    cmap = cmap or ("RdBu" if diverging else "viridis")
    row_labels = [wrap(str(r), 28) for r in table.index]
    col_labels = [wrap(str(c), 16) for c in table.columns]
    w = 2.6 + max(0.9, 0.1 * max((len(s) for s in row_labels), default=8)) + 1.05 * table.shape[1]
    h = 1.6 + 0.36 * table.shape[0] + 0.12 * max((c.count("\n") + 1 for c in col_labels), default=1)
    fig = _figure((min(max(w, 5.0), 18.0), max(3.0, h)))
    ax = fig.add_subplot()
    im = ax.imshow(vals, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    finite = vals[np.isfinite(vals)]
    lo = vmin if vmin is not None else (finite.min() if finite.size else 0.0)
    hi = vmax if vmax is not None else (finite.max() if finite.size else 1.0)
    for (i, j), v in np.ndenumerate(vals):
        if np.isfinite(v):
            if diverging:
                dark = abs(v) > 0.6 * max(abs(lo), abs(hi))
            else:
                dark = (v - lo) < 0.45 * (hi - lo) if hi > lo else False
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8.5,
                    color="white" if dark else "black")
    ax.set_xticks(range(table.shape[1]), col_labels, rotation=30 if table.shape[1] > 3 else 0,
                  ha="right" if table.shape[1] > 3 else "center", fontsize=8.5)
    ax.set_yticks(range(table.shape[0]), row_labels, fontsize=8.5)
    ax.tick_params(length=0)
    if title:
        ax.set_title(wrap(title, 70), fontsize=10.5)
    fig.colorbar(im, ax=ax, label=label, shrink=0.9)
    return fig


def _metric_limits(metric: str) -> tuple[float | None, float | None]:
    base = str(metric).split("@")[0]
    if base in ("spearman", "kendall", "pearson"):
        return -1.0, 1.0
    if base in ("precision", "ndcg"):
        return 0.0, 1.0
    return None, None


def heatmap_plot(results: pd.DataFrame, path: str | Path, *, metric: str = "spearman",
                 title: str | None = None) -> Path:
    """Proxies (rows, best first) x truths (columns) heat-map of one metric of ``results``, as a PNG."""
    table = metric_table(results, metric)
    lo, hi = _metric_limits(metric)
    fig = heatmap_figure(table, title=title or metric, label=metric, vmin=lo, vmax=hi)
    fig.savefig(path)
    return Path(path)


def metric_table(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Proxies (rows, best mean first) x truths (columns) of one metric of :func:`zcnas.metrics.evaluate` output."""
    sub = results[results["metric"] == metric]
    if sub.empty:
        from zcnas.errors import InputError

        raise InputError(f"No {metric!r} rows in the results; metrics present: {sorted(set(results['metric']))}.")
    table = sub.pivot_table(index="proxy", columns="truth", values="value", sort=False, dropna=False)
    return table.loc[table.mean(axis=1).sort_values(ascending=False).index]


def topk_curves(scores: pd.DataFrame, truth: pd.Series, directions: Mapping[str, Any],
                ks: Sequence[float] = DEFAULT_KS) -> pd.DataFrame:
    """Top-k precision of each proxy at each k %: a frame with columns proxy, k_pct, precision.

    ``directions`` must name every column of ``scores`` (True/False or +1/-1)."""
    missing = [p for p in scores.columns if p not in directions]
    if missing:
        from zcnas.errors import InputError

        raise InputError(f"No direction for proxy(s) {missing}; give each True (higher is better) or False.")
    common = scores.index.intersection(truth.index, sort=False)
    y = truth.loc[common].to_numpy(float)
    rows = []
    for p in scores.columns:
        x = direction_sign(directions[p]) * scores.loc[common, p].to_numpy(float)
        for k in ks:
            rows.append((str(p), float(k), compute(f"precision@{k:g}%", x, y)))
    return pd.DataFrame(rows, columns=["proxy", "k_pct", "precision"])


def _topk_axes(ax, curves: pd.DataFrame, colors: Mapping[str, str], markers: Mapping[str, str], title: str) -> None:
    for p, g in curves.groupby("proxy", sort=False):
        ax.plot(g["k_pct"], g["precision"], color=colors[str(p)], marker=markers[str(p)], ms=3.5, lw=1.3,
                label=str(p))
    ks = np.sort(curves["k_pct"].unique())
    ax.plot(ks, ks / 100, color="0.45", ls="--", lw=1.2, label="random order (k / 100)")
    ax.set_xscale("log")
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if ks.min() * 0.99 <= t <= ks.max() * 1.01]
    if len(ticks) >= 2:
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k (% of archs, log scale)")
    ax.set_ylabel("top-k precision")
    ax.set_title(wrap(title, 50), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)


def _line_styles(proxies: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    colors = dict(zip(proxies, qualitative_colors(len(proxies)), strict=True))
    markers = {p: MARKERS[i % len(MARKERS)] for i, p in enumerate(proxies)}
    return colors, markers


def topk_figure(curves: Mapping[str, pd.DataFrame], *, max_cols: int = 3, title: str | None = None):
    """Top-k precision against k % on a log axis: one panel per truth (``curves`` maps a truth name
    to :func:`topk_curves` output), one line per proxy in a distinct colour and marker, the
    expected precision of a random order dashed, and one legend for all panels."""
    proxies = list(dict.fromkeys(str(p) for c in curves.values() for p in c["proxy"]))
    colors, markers = _line_styles(proxies)
    rows, cols = _grid(len(curves), max_cols)
    fig = _figure((4.6 * cols + 2.4, 3.9 * rows + 0.5))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (t, c) in zip(axes, curves.items(), strict=False):
        _topk_axes(ax, c, colors, markers, f"vs {t}")
    for ax in axes[len(curves):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)
    if title:
        fig.suptitle(wrap(title, 100), fontsize=11)
    return fig


def topk_plot(curves: pd.DataFrame, path: str | Path, *, truth_name: str = "") -> Path:
    """Line plot of :func:`topk_curves` output on a log k axis, saved as a PNG."""
    fig = topk_figure({truth_name: curves}, title=f"Top-k precision vs {truth_name}")
    fig.savefig(path)
    return Path(path)


def pareto_grid_figure(scores: pd.DataFrame, truth: pd.Series, cost: pd.Series,
                       directions: Mapping[str, Any], *, max_cols: int = 4, title: str | None = None,
                       zoom_pct: float = 5.0):
    """Small multiples, one panel per proxy: every candidate (grey) in (cost, truth) axes, the true
    Pareto front (black) and the proxy's predicted front of (score max, cost min) placed at its true
    quality (red). Returns ``(figure, table)``; the table has the hypervolume fraction of each
    proxy's front (see :func:`zcnas.constraints.hypervolume_fraction`), computed over all archs.
    The truth axis starts at the ``zoom_pct`` percentile of the truth (0: show every arch), so a few
    failed trainings (10 % accuracy) do not squash the fronts into a line."""

    tname, cname = str(truth.name or "truth"), str(cost.name or "cost")
    base = pd.DataFrame({tname: truth}).join(cost.rename(cname), how="inner").dropna()
    if len(base) < 2:
        from zcnas.errors import DataError

        raise DataError(f"Fewer than 2 archs have both {tname!r} and the cost {cname!r}; check --pareto-cost.")
    rows_, cols = _grid(scores.shape[1], max_cols)
    fig = _figure((3.1 * cols + 0.4, 2.8 * rows_ + 1.2))
    axes = np.atleast_1d(fig.subplots(rows_, cols, squeeze=False)).ravel()
    t_all, c_all = base[tname].to_numpy(float), base[cname].to_numpy(float)
    span_t, span_c = np.ptp(t_all) or 1.0, np.ptp(c_all) or 1.0
    ylo = np.percentile(t_all, zoom_pct) if zoom_pct > 0 else t_all.min()
    ylim = (ylo - 0.03 * (t_all.max() - ylo or 1.0), t_all.max() + 0.03 * (t_all.max() - ylo or span_t))
    xlim = (c_all.min() - 0.03 * span_c, c_all.max() + 0.03 * span_c)
    n = scores.shape[1]
    rows = []
    for i, p in enumerate(scores.columns):
        frame = base.assign(predicted=direction_sign(directions[p]) * scores[p].reindex(base.index))
        frame = frame.dropna(subset=["predicted"])
        ax = axes[i]
        cmp = hypervolume_fraction(frame, "predicted", tname, cname)
        ax.scatter(base[cname], base[tname], s=2, color="0.78", rasterized=True, label="candidates")
        t, q = cmp.true.sort_values(cname), cmp.predicted.sort_values(cname)
        ax.step(t[cname], t[tname], where="post", color="black", lw=1.1)
        ax.scatter(t[cname], t[tname], s=10, color="black", label="true front")
        ax.step(q[cname], q[tname], where="post", color="#d62728", lw=1.0, ls="--")
        ax.scatter(q[cname], q[tname], s=16, color="#d62728", marker="x", label="predicted front (at true accuracy)")
        ax.set_title(wrap(f"{p}: hypervolume {cmp.fraction:.3f}", 34), fontsize=9)
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        if i % cols == 0:
            ax.set_ylabel(wrap(tname, 30), fontsize=8)
        if i + cols >= n:  # the lowest panel of its column
            ax.set_xlabel(wrap(cname, 30), fontsize=8)
        rows.append({"proxy": str(p), "truth": tname, "cost": cname, "n": len(frame),
                     "front_size_true": len(cmp.true), "front_size_predicted": len(cmp.predicted),
                     "hv_true": cmp.hv_true, "hv_predicted": cmp.hv_predicted, "hv_fraction": cmp.fraction})
    for ax in axes[scores.shape[1]:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8, frameon=False, markerscale=1.5)
    zoom = f" (truth axis cut at its {zoom_pct:g} % quantile)" if zoom_pct > 0 else ""
    fig.suptitle(wrap(title or f"Predicted against true Pareto front of {tname} (higher is better) and "
                      f"{cname} (lower is better); hypervolume as a fraction of the true front's{zoom}", 120),
                 fontsize=11)
    return fig, pd.DataFrame(rows)


# ---- tables ---------------------------------------------------------------------------------------
def _fmt(v: float, lo: float, hi: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"
    return f"{v:.3f}"


def value_tables(results: pd.DataFrame, truth: str, order: Sequence[str] | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two tables of one truth, proxies as rows (in ``order``, else best first by the first metric):
    the metric values (floats, with n) and their intervals (``"[lo, hi]"`` strings)."""
    sub = results[results["truth"] == truth]
    metrics = list(dict.fromkeys(sub["metric"]))
    if order is None:
        order = list(sub[sub["metric"] == metrics[0]].sort_values("value", ascending=False)["proxy"]) \
            if metrics else []
    order = [p for p in order if p in set(sub["proxy"])]
    val = sub.pivot_table(index="proxy", columns="metric", values="value", sort=False, dropna=False)
    n = sub.groupby("proxy", sort=False)["n"].max()
    vals = pd.DataFrame({"proxy": order, "n": [int(n[p]) for p in order]})
    ints = pd.DataFrame({"proxy": order})
    for m in metrics:
        vals[m] = [float(val.loc[p, m]) for p in order]
        lo = sub[sub["metric"] == m].set_index("proxy")
        ints[m] = [_fmt_ci(lo.loc[p, "ci_low"], lo.loc[p, "ci_high"]) if p in lo.index else "" for p in order]
    return vals, ints


def _fmt_ci(lo: float, hi: float) -> str:
    return f"[{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) and np.isfinite(hi) else ""


def summary_table(results: pd.DataFrame, truth: str) -> pd.DataFrame:
    """Proxies (best first by the first metric) x metrics of one truth, cells ``"value [lo, hi]"``."""
    sub = results[results["truth"] == truth]
    metrics = list(dict.fromkeys(sub["metric"]))
    if not metrics:
        return pd.DataFrame(columns=["proxy", "n"])
    order = sub[sub["metric"] == metrics[0]].sort_values("value", ascending=False)["proxy"]
    rows = []
    for p in order:
        ps = sub[sub["proxy"] == p].set_index("metric")
        row = {"proxy": str(p), "n": int(ps["n"].max())}
        for m in metrics:
            row[m] = _fmt(*ps.loc[m, ["value", "ci_low", "ci_high"]]) if m in ps.index else ""
        rows.append(row)
    return pd.DataFrame(rows)


def summary_markdown(results: pd.DataFrame, *, title: str = "Proxy benchmark",
                     figures: Sequence[Path] = (), base: str | Path | None = None) -> str:
    """Markdown: per truth, a table of proxies x metrics ("value [ci_low, ci_high]") and n; figure
    links relative to ``base`` (default: the figure's file name)."""
    lines = [f"# {title}", ""]
    for t in dict.fromkeys(results["truth"]):
        lines += [f"## Truth: `{t}`", "", frame_to_markdown(summary_table(results, t))]
    if any(np.isfinite(results["ci_low"])):
        lines += ["Intervals: 95 % percentile bootstrap over archs.", ""]
    if figures:
        def rel(f: Path) -> str:
            return Path(f).relative_to(base).as_posix() if base is not None else Path(f).name

        lines += ["## Figures", ""] + [f"![{Path(f).stem}]({rel(f)})" for f in figures] + [""]
    return "\n".join(lines)


def frame_to_markdown(df: pd.DataFrame, float_format: str = "{:.3f}") -> str:
    """A pipe table of ``df`` (no index) without needing the optional ``tabulate`` package."""

    def cell(v) -> str:
        if isinstance(v, float):
            return "" if v != v else float_format.format(v)
        return str(v).replace("|", "\\|")

    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body]) + "\n"


# ---- the bench report -----------------------------------------------------------------------------
def report_meta(results: pd.DataFrame, scores: pd.DataFrame, truth: pd.DataFrame,
                meta: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The header of a bench report: what was compared (``meta`` first), n archs, date, version."""

    out = {str(k): str(v) for k, v in (meta or {}).items() if v is not None and str(v) != ""}
    out.setdefault("truth metric", ", ".join(map(str, truth.columns)))
    n = int(results["n"].max()) if len(results) else 0
    out.setdefault("archs", f"{len(scores):,} with scores and truth (up to {n:,} per proxy after missing values)")
    out.setdefault("proxies", f"{scores.shape[1]}: {', '.join(map(str, scores.columns))}")
    if len(results) and np.isfinite(results["ci_low"]).any():
        out.setdefault("intervals", "95 % percentile bootstrap over archs")
    out.setdefault("date", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    out.setdefault("zcnas", __version__)
    return out


def write_report(results: pd.DataFrame, scores: pd.DataFrame, truth: pd.Series | pd.DataFrame,
                 out_dir: str | Path, *, directions: Mapping[str, Any] | None = None,
                 metric: str = "spearman", hexbins: bool = True, title: str = "Proxy benchmark",
                 ks: Sequence[float] = DEFAULT_KS, pareto_cost: pd.Series | None = None,
                 meta: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Write the bench report into ``out_dir``; returns its files by name (``report``, ``results``,
    ``summary``, ``pareto`` and one entry per figure).

    ``results`` is :func:`zcnas.metrics.evaluate` output; ``scores``/``truth`` the frames it was
    computed from; ``directions`` orient the top-k curves and Pareto fronts (None: every score is
    higher-is-better; hexbins always show raw scores). The heat-map shows ``metric`` (falls back to
    the first metric present) for every truth, or every metric when there is one truth.
    ``pareto_cost`` (a cost per arch, lower is better) adds the Pareto figures and ``pareto.csv``.
    ``meta`` goes first in the page's header (e.g. ``{"scores": "run.h5 (run r1)"}``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig_dir = out / "figures"
    directions = dict.fromkeys(scores.columns, True) if directions is None else dict(directions)
    truth = _as_frame(truth)
    files: dict[str, Path] = {}
    results.to_csv(out / "results.csv", index=False)
    files["results"] = out / "results.csv"

    present = list(dict.fromkeys(results["metric"]))
    hm = metric if metric in present else present[0]
    order = [p for p in metric_table(results, hm).index if p in scores.columns]
    scores = scores[order + [c for c in scores.columns if c not in order]]  # best first in every figure

    page = HtmlReport(title, subtitle="Zero-cost proxy scores ranked against measured accuracy: rank "
                                      "correlations, top-k precision and NDCG, with the figures below.",
                      meta=report_meta(results, scores, truth, meta))
    # overview heat-map
    if truth.shape[1] == 1:
        t0 = truth.columns[0]
        table = results[results["truth"] == t0].pivot_table(index="proxy", columns="metric", values="value",
                                                            sort=False, dropna=False)
        table = table.loc[[p for p in order if p in table.index]]
        fig = heatmap_figure(table, title=f"Each metric (columns) of each proxy (rows, best first by {hm}) "
                                          f"against {t0}", label="value", vmin=-1, vmax=1)
        cap = f"Every metric of each proxy against {t0}; blue is better, 0 is white."
    else:
        lo, hi = _metric_limits(hm)
        fig = heatmap_figure(metric_table(results, hm), title=f"{hm} of each proxy (rows, best mean first) "
                             f"against each truth metric (columns)", label=hm, vmin=lo, vmax=hi)
        cap = f"{hm} of each proxy against each truth metric."
    page.add_section("Overview").add_figure(fig, cap, name="heatmap")
    # tables
    ci = bool(len(results)) and bool(np.isfinite(results["ci_low"]).any())
    page.add_section("Metrics", f"One table per truth metric; proxies best first by {hm}. n is the number of "
                                "archs with both a score and the truth (fewer where a proxy failed)."
                     + (" The 95 % bootstrap intervals are folded under each table." if ci else ""))
    for t in truth.columns:
        vals, ints = value_tables(results, str(t), order)
        page.add_table(vals, f"Truth: {t}")
        if ci:
            page.add_table(ints, f"95 % intervals against {t}", collapsed=True)
    # top-k
    curves = {str(t): topk_curves(scores, truth[t], directions, ks) for t in truth.columns}
    page.add_section("Top-k precision").add_figure(
        topk_figure(curves), "Of the k % best archs by each proxy, the fraction that is among the k % best by "
                             "the truth; the dashed line is the expectation of a random order.", name="topk")
    # scatter grids
    if hexbins:
        page.add_section("Scores against truth",
                         "Hexbin density of each proxy's raw score against the truth (one panel per proxy, "
                         "one colour scale). Scores spanning more than three decades are drawn on a log axis "
                         "when all positive, else as rank percentiles.")
        for t in truth.columns:
            page.add_figure(hexbin_grid_figure(scores, truth[t]), f"Each proxy against {t}.",
                            name=f"scatter_{safe_name(t)}")
    # Pareto
    if pareto_cost is not None:
        cname = str(pareto_cost.name or "cost")
        page.add_section("Pareto fronts",
                         f"For each proxy, the archs that are Pareto-optimal in (proxy score, {cname}) placed "
                         f"at their true accuracy (red), against the true front (black). Hypervolume: the "
                         f"area the proxy's front dominates as a fraction of the true front's (1 = the true front).")
        hv = []
        for t in truth.columns:
            fig, tab = pareto_grid_figure(scores, truth[t], pareto_cost.rename(cname), directions)
            page.add_figure(fig, f"Predicted and true fronts of {t} against {cname}.", name=f"pareto_{safe_name(t)}")
            hv.append(tab)
        hv_all = pd.concat(hv, ignore_index=True)
        hv_all.to_csv(out / "pareto.csv", index=False)
        files["pareto"] = out / "pareto.csv"
        wide = hv_all.pivot_table(index="proxy", columns="truth", values="hv_fraction", sort=False)
        wide = wide.loc[wide.mean(axis=1).sort_values(ascending=False).index].reset_index()
        wide.columns = ["proxy", *[f"hypervolume fraction vs {c}" for c in wide.columns[1:]]]
        page.add_table(wide, f"Hypervolume fraction of each proxy's predicted front (cost {cname}; "
                             "front sizes in pareto.csv)")
    page.add_section("Files", "Next to this page: results.csv (every metric, tidy), summary.md (these tables "
                              "in Markdown), figures/ (the figures as PNG files)"
                     + (", pareto.csv (hypervolume fractions)." if pareto_cost is not None else "."))
    if fig_dir.is_dir():  # a report written again replaces its figures
        for old in fig_dir.glob("*.png"):
            old.unlink()
    for f in page.save_figures(fig_dir):
        files[f.stem] = f
    files["report"] = page.write(out / "report.html")
    md = out / "summary.md"
    md.write_text(summary_markdown(results, title=title, figures=[fig_dir / f"{f.name}.png" for f in page.figures],
                                   base=out))
    files["summary"] = md
    return files


# ---- a headless browser, to look at a page -------------------------------------------------------
def find_chromium() -> str | None:
    """The path of a chromium (or chrome) binary on PATH, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html_path: str | Path, png_path: str | Path, *, width: int = 1280, height: int = 2400,
               chromium: str | None = None, timeout_s: float = 120) -> Path:
    """Render ``html_path`` with headless chromium (no network, no sandbox, a throw-away profile) and
    save a ``width`` x ``height`` screenshot to ``png_path``. Raises ``FileNotFoundError`` when no
    chromium is installed (``apt-get install chromium`` on Debian)."""
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("No chromium on PATH; install it (Debian: apt-get install -y chromium) to "
                                "take screenshots.")
    src = Path(html_path).resolve()
    dst = Path(png_path).resolve()
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="zcnas-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={dst}",
               f"--window-size={width},{height}", src.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0 or not dst.is_file():
        raise RuntimeError(f"chromium failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return dst
