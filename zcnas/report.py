"""Benchmark reports: a Markdown summary and PNG figures (matplotlib, Agg canvas). No torch.

Figures:

- ``hexbin_<proxy>__<truth>.png``: density of proxy score against the truth (one per pair). The x
  axis is the raw score, on a log axis when every score is positive and they span more than three
  decades (synflow), or the score's rank percentile when they span that much but are not all
  positive; the Spearman rho is in the title.
- ``heatmap_<metric>.png``: proxies x truths, cells annotated with the metric (like
  NAS-Bench-Suite-Zero's Figure 2).
- ``topk_<truth>.png``: top-k precision against k % from 0.1 to 50 on a log axis, one line per
  proxy, with the expected precision of a random order (k / 100) for reference.

Figures use :class:`matplotlib.figure.Figure` directly, so no global pyplot state is touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zcnas.metrics import compute, direction_sign, paired

DEFAULT_KS: tuple[float, ...] = tuple(float(f"{k:.3g}") for k in np.geomspace(0.1, 50, 19))


def _figure(figsize=(6.0, 4.5)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=110)
    FigureCanvasAgg(fig)
    return fig


def safe_name(name: str) -> str:
    """A file-name-safe version of a proxy or metric name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("_") or "x"


def _as_frame(truth: pd.Series | pd.DataFrame) -> pd.DataFrame:
    return truth.to_frame(truth.name if truth.name is not None else "truth") if isinstance(truth, pd.Series) \
        else truth


def hexbin_plot(score: pd.Series, truth: pd.Series, path: str | Path, *, proxy: str = "",
                truth_name: str = "", gridsize: int = 50) -> Path:
    """Density scatter (hexbin) of one proxy against one truth; NaN pairs dropped."""
    common = score.index.intersection(truth.index, sort=False)
    x, y = paired(score.loc[common].to_numpy(float), truth.loc[common].to_numpy(float))
    fig = _figure()
    ax = fig.add_subplot()
    xlabel, xscale = f"{proxy} score", "linear"
    if x.size:
        lo, hi = np.min(np.abs(x[x != 0])) if np.any(x != 0) else 0.0, np.max(np.abs(x))
        wide = lo > 0 and hi / lo > 1e3
        if wide and np.all(x > 0):
            xscale = "log"
        elif wide:
            x = (pd.Series(x).rank(pct=True)).to_numpy()
            xlabel = f"{proxy} score (rank percentile)"
        hb = ax.hexbin(x, y, gridsize=gridsize, xscale=xscale, bins="log", mincnt=1, cmap="viridis")
        fig.colorbar(hb, ax=ax, label="archs (log)")
    rho = compute("spearman", x, y) if x.size >= 2 else float("nan")
    ax.set_title(f"{proxy} vs {truth_name}: Spearman {rho:.3f} (n={x.size})", fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(truth_name)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.92)  # fixed: tight_layout is slow
    fig.savefig(path)
    return Path(path)


def heatmap_plot(results: pd.DataFrame, path: str | Path, *, metric: str = "spearman",
                 title: str | None = None) -> Path:
    """Proxies (rows, best first) x truths (columns) heat-map of one metric, annotated."""
    sub = results[results["metric"] == metric]
    if sub.empty:
        from zcnas.errors import InputError

        raise InputError(f"No {metric!r} rows in the results; metrics present: {sorted(set(results['metric']))}.")
    table = sub.pivot_table(index="proxy", columns="truth", values="value", sort=False)
    table = table.loc[table.mean(axis=1).sort_values(ascending=False).index]
    h = 1.0 + 0.38 * len(table)
    fig = _figure((2.6 + 1.5 * table.shape[1], max(2.5, h)))
    ax = fig.add_subplot()
    vals = table.to_numpy(float)
    lim = 1.0 if metric in ("spearman", "kendall", "pearson") else None
    im = ax.imshow(vals, cmap="RdBu" if lim else "viridis", vmin=-lim if lim else None,
                   vmax=lim, aspect="auto")
    for (i, j), v in np.ndenumerate(vals):
        if np.isfinite(v):
            dark = abs(v) > 0.6 if lim else False
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=20, ha="right")
    ax.set_yticks(range(table.shape[0]), [str(r) for r in table.index])
    ax.set_title(title or metric)
    fig.colorbar(im, ax=ax, label=metric)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


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


def topk_plot(curves: pd.DataFrame, path: str | Path, *, truth_name: str = "") -> Path:
    """Line plot of :func:`topk_curves` output on a log k axis."""
    fig = _figure((6.5, 4.5))
    ax = fig.add_subplot()
    for p, g in curves.groupby("proxy", sort=False):
        ax.plot(g["k_pct"], g["precision"], marker=".", label=str(p))
    ks = np.sort(curves["k_pct"].unique())
    ax.plot(ks, ks / 100, color="grey", ls="--", label="random")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k (% of archs)")
    ax.set_ylabel("top-k precision")
    ax.set_title(f"Top-k precision vs {truth_name}", fontsize=10)
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.grid(True, which="both", alpha=0.3)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.92)
    fig.savefig(path)
    return Path(path)


def _fmt(v: float, lo: float, hi: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"
    return f"{v:.3f}"


def summary_markdown(results: pd.DataFrame, *, title: str = "Proxy benchmark",
                     figures: Sequence[Path] = ()) -> str:
    """Markdown: per truth, a table of proxies x metrics ("value [ci_low, ci_high]") and n."""
    lines = [f"# {title}", ""]
    for t, sub in results.groupby("truth", sort=False):
        metrics = list(dict.fromkeys(sub["metric"]))
        lines += [f"## Truth: `{t}`", "", "| proxy | n | " + " | ".join(metrics) + " |",
                  "|---|---:|" + "---:|" * len(metrics)]
        first = metrics[0]
        order = sub[sub["metric"] == first].sort_values("value", ascending=False)["proxy"]
        for p in order:
            ps = sub[sub["proxy"] == p].set_index("metric")
            cells = [_fmt(*ps.loc[m, ["value", "ci_low", "ci_high"]]) if m in ps.index else "" for m in metrics]
            lines.append(f"| {p} | {int(ps['n'].iloc[0])} | " + " | ".join(cells) + " |")
        lines.append("")
    if any(np.isfinite(results["ci_low"])):
        lines += ["Intervals: 95 % percentile bootstrap over archs.", ""]
    if figures:
        lines += ["## Figures", ""] + [f"![{f.stem}]({f.name})" for f in figures] + [""]
    return "\n".join(lines)


def write_report(results: pd.DataFrame, scores: pd.DataFrame, truth: pd.Series | pd.DataFrame,
                 out_dir: str | Path, *, directions: Mapping[str, Any] | None = None,
                 metric: str = "spearman", hexbins: bool = True, title: str = "Proxy benchmark",
                 ks: Sequence[float] = DEFAULT_KS) -> dict[str, Path]:
    """Write ``results.csv``, ``summary.md`` and the figures into ``out_dir``; returns their paths.

    ``results`` is :func:`zcnas.metrics.evaluate` output; ``scores``/``truth`` the frames it was
    computed from; ``directions`` orient the top-k curves (None: every score is higher-is-better;
    hexbins always show raw scores). The heat-map
    shows ``metric`` (falls back to the first metric present)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    directions = dict.fromkeys(scores.columns, True) if directions is None else directions
    truth = _as_frame(truth)
    files: dict[str, Path] = {}
    results.to_csv(out / "results.csv", index=False)
    files["results"] = out / "results.csv"
    figs: list[Path] = []
    present = list(dict.fromkeys(results["metric"]))
    hm = metric if metric in present else present[0]
    figs.append(heatmap_plot(results, out / f"heatmap_{safe_name(hm)}.png", metric=hm,
                             title=f"{hm} of each proxy"))
    for t in truth.columns:
        curves = topk_curves(scores, truth[t], directions, ks)
        figs.append(topk_plot(curves, out / f"topk_{safe_name(t)}.png", truth_name=str(t)))
        if hexbins:
            for p in scores.columns:
                figs.append(hexbin_plot(scores[p], truth[t], out / f"hexbin_{safe_name(p)}__{safe_name(t)}.png",
                                        proxy=str(p), truth_name=str(t)))
    for f in figs:
        files[f.stem] = f
    md = out / "summary.md"
    md.write_text(summary_markdown(results, title=title, figures=figs))
    files["summary"] = md
    return files


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
