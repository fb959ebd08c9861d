"""Agreement of zcnas's own TNB101 scores with NAS-Bench-Suite-Zero's published ones, per task.

For each of the fourteen (space, task) pairs: the architectures zcnas has scored so far (a uniform
random prefix of the space, ``benchmarks_data/tnb101_zcnas_scores.h5``; the scoring run goes on),
and for every proxy both have (synflow and zen are the data-free ones of the four published;
zcnas's zen run covers a prefix of class_scene on both spaces; epe_nas and fisher need images), the
Spearman between zcnas's and the published score of the same architecture, and each one's
Spearman with the task's validation metric on those architectures (so the two are compared on the
same set). Where a proxy is constant on a pair (e.g.
synflow on the tanh-headed normal/autoencoder networks, whose outputs saturate) the row says so.

Run:  ZCNAS_DATA=../shared/benchmarks python experiments/tnb101_agreement.py
Writes experiments/results/tnb101/agreement.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zcnas.metrics import spearman
from zcnas.suite import load_pair, suite_pairs

ROOT = Path(__file__).resolve().parents[1]


def _rho(a, b) -> str:
    if len(a) < 3 or np.nanstd(a) == 0 or np.nanstd(b) == 0:
        return "constant"
    return f"{spearman(np.asarray(a), np.asarray(b)):.3f}"


def published_name(own: str, published: set[str]) -> str | None:
    """The published proxy an own proxy is compared with: the same name, else the proxy registered
    on the same function with the same options but the batch size (``zen_b4`` -> ``zen``)."""
    from zcnas.errors import UnknownNameError
    from zcnas.proxies import get_proxy

    if own in published:
        return own
    spec = get_proxy(own)
    rest = {k: v for k, v in spec.options.items() if k != "batch_size"}
    for p in sorted(published):
        try:
            ps = get_proxy(p)
        except UnknownNameError:
            continue
        if ps.fn is spec.fn and {k: v for k, v in ps.options.items() if k != "batch_size"} == rest:
            return p
    return None


def main() -> int:
    lines = ["# TNB101: zcnas's own scores vs NAS-Bench-Suite-Zero's published ones, per task", "",
             "Produced by `experiments/tnb101_agreement.py` (protocol in its docstring). `n`: architectures with "
             "both scores; ρ(own, published): Spearman of the two scores; the last two columns: each one's "
             "Spearman with the task's validation metric on the same architectures.", "",
             "| space | task | proxy | n | ρ(own, published) | own vs truth | published vs truth |",
             "|---|---|---|---|---|---|---|"]
    for pair in suite_pairs("tnb101*"):
        data = load_pair(pair)
        own = {c.split(":", 1)[1] for c in data.origin("own")}
        pub = {c.split(":", 1)[1] for c in data.origin("published")}
        for proxy in sorted(own):
            pname = published_name(proxy, pub)
            if pname is None:
                continue
            both = data.scores[[f"own:{proxy}", f"published:{pname}"]].join(data.truth.rename("truth"),
                                                                            how="inner").dropna()
            o, p, t = (both[c].to_numpy() for c in (f"own:{proxy}", f"published:{pname}", "truth"))
            label = proxy if pname == proxy else f"{proxy} vs published {pname}"
            lines.append(f"| {pair.space} | {pair.task} | {label} | {len(both)} | {_rho(o, p)} | {_rho(o, t)} | "
                         f"{_rho(p, t)} |")
    lines += ["", "## Own scores per pair: coverage and Spearman with the task's validation metric", "",
              "`scored`: architectures with a finite own score / the space's architectures (the run covers a "
              "uniform random prefix of each pair); the Spearman is over those architectures. `best published` "
              "is the best published single proxy (by absolute Spearman, sign kept) on the same architectures.",
              "", "| space | task | proxy | scored | Spearman with truth | best published on the same archs |",
              "|---|---|---|---|---|---|"]
    for pair in suite_pairs("tnb101*"):
        data = load_pair(pair)
        pub_cols = sorted(data.origin("published"))
        for col in sorted(data.origin("own")):
            both = data.scores[[col]].join(data.truth.rename("truth"), how="inner")
            both = both[np.isfinite(both[col])].dropna()
            if len(both) < 3:
                continue
            best = ""
            cand = []
            for pc in pub_cols:
                j = both.join(data.scores[[pc]], how="inner").dropna()
                if len(j) >= 3 and np.nanstd(j[pc]) > 0:
                    cand.append((abs(spearman(j[pc].to_numpy(), j["truth"].to_numpy())), pc, len(j),
                                 spearman(j[pc].to_numpy(), j["truth"].to_numpy())))
            if cand:
                _, pc, nj, r = max(cand)
                best = f"{pc.split(':', 1)[1]} {r:.3f} (n={nj})"
            lines.append(f"| {pair.space} | {pair.task} | {col.split(':', 1)[1]} | {len(both)} / "
                         f"{len(data.truth)} | {_rho(both[col].to_numpy(), both['truth'].to_numpy())} | {best} |")
    lines += _zen_across_tasks()
    out = ROOT / "experiments" / "results" / "tnb101" / "agreement.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def _zen_across_tasks() -> list[str]:
    """Spearman of the *published* zen of one task's network with another's, per space: how much of
    zen the head changes (zen reads the encoder's pre-pooling features on the classification heads)."""
    import pandas as pd

    lines = ["", "## Published zen across tasks: the head barely changes it", "",
             "Spearman between NAS-Bench-Suite-Zero's zen on class_scene's network and on each other task's "
             "network, over the architectures that have both. Where it is 1.000 (class_object and room_layout, "
             "whose heads also pool the encoder's output) zen ranks by the encoder alone, so a zen scored on "
             "class_scene's network ranks those tasks' architectures the same.", "",
             "| space | n | " + " | ".join(t for t in _TASKS if t != "class_scene") + " |",
             "|---|---|" + "---|" * (len(_TASKS) - 1)]
    for space in ("tnb101_micro", "tnb101_macro"):
        cols = {}
        for pair in suite_pairs(space):
            data = load_pair(pair)
            if "published:zen" in data.scores:
                cols[pair.task] = data.scores["published:zen"]
        df = pd.DataFrame(cols).dropna()
        if "class_scene" not in df or len(df) < 3:
            continue
        cells = [f"{spearman(df['class_scene'].to_numpy(), df[t].to_numpy()):.3f}" if t in df else "-"
                 for t in _TASKS if t != "class_scene"]
        lines.append(f"| {space} | {len(df)} | " + " | ".join(cells) + " |")
    return lines


_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")


if __name__ == "__main__":
    raise SystemExit(main())
