"""Cost and quality of rankers per space: the table behind ``--budget SECONDS_PER_ARCH``.

For each space with own scores and ground truth here (NB201: CIFAR-10 test accuracy after 200
epochs, NATS-Bench seed mean; NB101: CIFAR-10 validation accuracy after 108 epochs, one run;
DARTS: NB301's *surrogate-predicted* CIFAR-10 accuracy), this script

1. reads zcnas's own scores (``benchmarks_data/<space>_zcnas_scores.h5``) and the graph features
   of the same architectures (``graph:<feature>`` proxies);
2. measures cost per architecture, one torch thread, this CPU: the median ``seconds`` the store
   recorded per proxy (rows computed, not copied within a function class), with proxies that share
   a pass grouped (the pass time is recorded on one member, so a ranker using any member of a
   group is charged the whole group: grad_norm/snip/jacob_cov/naswot/plain/epe_nas share one
   forward-backward; the three AZ-NAS components share one pass), plus the median time to build
   a network of the space (measured here on ``--build-samples`` architectures) whenever a ranker
   needs a network; structural proxies cost their measured time and build nothing, and so do
   ``params``/``flops`` where the space has an analytic table (:mod:`zcnas.spaces.analytic`);
3. splits the architectures in halves by the space's canonical form (seed 0) and, for every
   budget cap, chooses a ranker on the fit half (:func:`zcnas.selection.greedy_select`, mean of
   log-ranks, over the proxies the cap affords and the 24 graph features of largest absolute
   Spearman on the fit half, signed by it), then measures its Spearman on the held-out half;
   singles and the named sets are measured the same way;
4. keeps the Pareto front (no cheaper ranker is as good) and writes it to ``zcnas/budget_table.csv``,
   the table ``--budget`` reads (:mod:`zcnas.budget`).

Caveats, stated in the outputs: the store's seconds were recorded on a shared 2-core machine
(upper bounds of a quiet machine's); NB101 and DARTS quality is measured on the scored sample's
held-out half (n given); DARTS truth is a surrogate's prediction.

TNB101 (``--spaces tnb101_micro,tnb101_macro``): one row set per task (the network and the truth
change with it), on the architectures where every own proxy is present (the scoring run covers a
uniform random prefix of each pair; ``--min-rich``), the quality against that task's validation
metric; ``--budget`` with ``--task`` reads them.

Run:  ZCNAS_DATA=../shared/benchmarks nice python experiments/cost_quality.py
Writes experiments/results/cost_quality/{<space>.csv, summary.md} and zcnas/budget_table.csv.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.aggregate import aggregate
from zcnas.graph import graph_feature_names, graph_features
from zcnas.metrics import spearman
from zcnas.paths import benchmark_root
from zcnas.proxies import PROXY_SETS, get_proxy, resolve_proxies
from zcnas.records import RecordStore
from zcnas.records.importers import run_importer
from zcnas.selection import greedy_select, split_by_class
from zcnas.spaces import get_space

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "results" / "cost_quality"
TABLE = ROOT / "zcnas" / "budget_table.csv"
#: space -> (importer, truth metric, dataset of the scores, what the truth is)
SPACES = {
    "nb201": ("nats-csv", "c10_test_200ep", "cifar10", "CIFAR-10 test accuracy, 200 epochs (NATS-Bench seed mean)"),
    "nb101": ("nb101-csv", "nb101_c10_valid_108ep", "cifar10", "CIFAR-10 validation accuracy, 108 epochs (one run)"),
    "darts": ("nb301-suitezero-json", "nb301_c10_val_pred", "cifar10",
              "NB301's surrogate-predicted CIFAR-10 validation accuracy (a prediction)"),
}
PASS_GROUP = {"grad_norm", "snip", "jacob_cov", "naswot", "plain", "epe_nas"}
AZ_GROUP = {"az_expressivity", "az_progressivity", "az_trainability"}
#: meco and meco_opt read one cached pass (the pass time is recorded on whichever ran first)
MECO_GROUP = {"meco", "meco_opt"}
GROUPS = (PASS_GROUP, AZ_GROUP, MECO_GROUP)
TNB101_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")


def pairs_of(names: str) -> list[tuple[str, str]]:
    """``--spaces`` items as (space, task) pairs: ``nb201`` -> (nb201, ""); ``tnb101_micro`` -> its
    seven tasks; ``tnb101_macro/jigsaw`` -> that one."""
    out = []
    for item in (x.strip() for x in names.split(",") if x.strip()):
        space, _, task = item.partition("/")
        if space.startswith("tnb101"):
            out += [(space, t) for t in ((task,) if task else TNB101_TASKS)]
        else:
            out.append((space, ""))
    return out


def spec_of(space: str, task: str) -> tuple[str, str, str, str]:
    """(importer, truth metric, dataset of the scores, what the truth is) of a pair."""
    if not task:
        return SPACES[space]
    from zcnas.records.importers_tnb101 import _METRIC_DOC

    importer = "tnb101-tables" if space == "tnb101_micro" else "tnb101-macro-tables"
    return importer, f"tnb101_{task}_valid", task, f"TNB101 {task}: {_METRIC_DOC[task][0]}"


def pair_file(space: str, task: str) -> str:
    return f"{space}-{task}.csv" if task else f"{space}.csv"


def _group(p: str) -> set[str]:
    return next((g for g in GROUPS if p in g), {p})
CAPS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, math.inf)


def own_scores(space: str, dataset: str) -> tuple[pd.DataFrame, pd.Series]:
    """Wide own scores (arch x proxy; data-free rows serve every dataset) and median seconds per proxy."""
    store = "tnb101" if space.startswith("tnb101") else space  # one store holds both TNB101 spaces
    with RecordStore(ROOT / "benchmarks_data" / f"{store}_zcnas_scores.h5", mode="r") as st:
        long = st.frame("scores")
    long = long[long["dataset"].isin([dataset, ""]) & (long["space"].isin([space, ""]) if "space" in long else True)]
    ok = long[long["status"] == "ok"]
    wide = ok.pivot_table(index="arch", columns="proxy", values="value", aggfunc="last")
    computed = long[(long["seconds"] > 0) & ~long["reason"].astype(str).str.contains("copied")]
    return wide, computed.groupby("proxy")["seconds"].median()


def group_costs(secs: pd.Series) -> dict[str, float]:
    """Cost of using a proxy: its group's total (shared passes) or its own median."""
    return {p: float(sum(secs.get(q, 0.0) for q in _group(p))) for p in secs.index}


def free(proxy: str, analytic: bool) -> bool:
    """Needs no network: a structural proxy, or params/flops from the space's analytic table."""
    spec = get_proxy(proxy)
    return spec.structural or (analytic and spec.analytic is not None)


def ranker_cost(proxies: list[str], secs: pd.Series, build_s: float, graph_s: float, analytic: bool = False) -> float:
    network = [p for p in proxies if not free(p, analytic)]
    groups: dict[str, float] = {}
    for p in network:
        grp = _group(p)
        groups[min(grp)] = float(sum(secs.get(q, 0.0) for q in grp))
    # structural proxies share one graph-feature pass; analytic params/flops cost a table lookup (< 0.1 ms)
    return (build_s if network else 0.0) + sum(groups.values()) + (graph_s if len(network) < len(proxies) else 0.0)


def measure_build(space_name: str, n: int, task: str = "") -> float:
    import torch

    from zcnas.spaces.seeding import build_seeded

    torch.set_num_threads(1)
    space = get_space(space_name)
    times = []
    for a in space.sample(n, seed=123):
        t0 = time.perf_counter()
        if task:  # TNB101: the task fixes the heads (no num_classes)
            build_seeded(space_name, a, None, 0, input_shape=space.input_shape(task), task=task)
        else:
            build_seeded(space_name, a, 10, 0)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run_space(space_name: str, args, task: str = "") -> pd.DataFrame:
    importer, metric, dataset, what = spec_of(space_name, task)
    space = get_space(space_name)
    st = RecordStore.memory()
    run_importer(importer, st, data_root=args.data_root)
    truth = st.truth_wide(metrics=[metric], space=space_name)[metric].dropna()
    truth.index = [space.format(space.parse(a)) for a in truth.index]
    wide, secs = own_scores(space_name, dataset)
    wide = wide[[c for c in wide.columns if c in secs.index]]
    archs = [a for a in wide.index if a in truth.index]
    if task:
        # TNB101: the network proxies cover a uniform random prefix of the space (the run goes on),
        # params/flops all of it; use the prefix where every own proxy is present, when large enough
        # (a proxy run on a much shorter prefix, e.g. zen next to the cheap set, is left out rather
        # than shrinking the set every ranker is judged on)
        counts = wide.loc[archs].notna().sum()
        partial = counts[counts < len(archs)]
        longest = int(partial.max()) if len(partial) else len(archs)
        short = [c for c in wide.columns if counts[c] < 0.5 * longest]
        if short:
            print(f"{space_name}/{task}: left out {short} (on {int(counts[short].max())} architectures, "
                  f"the other network proxies on {longest})")
            wide = wide.drop(columns=short)
        rich = [a for a in archs if wide.loc[a].notna().all()]
        if len(rich) >= args.min_rich:
            archs = rich
    # the own proxies present on (almost) every scored architecture
    cover = wide.loc[archs].notna().mean()
    proxies = [p for p in wide.columns if cover[p] >= 0.9]
    archs = [a for a in archs if wide.loc[a, proxies].notna().sum() > 0]
    t0 = time.perf_counter()
    graphs = [space.cell_graph(space.parse(a)) for a in archs]
    F = pd.DataFrame(np.vstack([graph_features(g) for g in graphs]), index=archs,
                     columns=list(graph_feature_names(graphs[0])))
    graph_s = (time.perf_counter() - t0) / len(archs)
    F = F.loc[:, F.std() > 0]
    build_s = measure_build(space_name, args.build_samples, task)
    from zcnas.spaces.analytic import cost_table

    table = cost_table(space_name, {"input_shape": space.input_shape(dataset), "task": task} if task else
                       {"num_classes": 10, "input_shape": space.input_shape(dataset)})
    analytic = table is not None and table.additive
    y = truth.reindex(archs)
    fit_m, test_m = split_by_class(archs, space_name, seed=0)
    fit = [a for a, m in zip(archs, fit_m) if m]
    test = [a for a, m in zip(archs, test_m) if m]
    rho = {c: spearman(F.loc[fit, c].to_numpy(), y[fit].to_numpy()) for c in F.columns}
    rho = {c: v for c, v in rho.items() if np.isfinite(v) and v != 0}
    top = sorted(rho, key=lambda c: -abs(rho[c]))[:24]
    signed = {("graph:" if rho[c] > 0 else "graph:-") + c: F[c] * (1.0 if rho[c] > 0 else -1.0) for c in top}
    W = pd.concat([wide.loc[archs, proxies], pd.DataFrame(signed)], axis=1)
    directions = {c: get_proxy(c).higher_is_better for c in W.columns}
    label = f"{space_name}/{task}" if task else space_name
    print(f"{label}: {len(archs)} architectures with own scores and truth ({len(fit)} fit / {len(test)} "
          f"held out), own proxies {proxies}, build {build_s:.3f} s, graph features {graph_s * 1e3:.2f} ms/arch",
          flush=True)

    def evaluate(name: str, chosen: list[str], how: str) -> dict:
        agg = aggregate(W.loc[test], chosen, {c: directions[c] for c in chosen})
        return {"space": space_name, "task": task, "truth": what, "ranker": name, "proxies": ",".join(chosen),
                "aggregate": "mean_log_rank" if len(chosen) > 1 else "", "how": how,
                "seconds_per_arch": ranker_cost(chosen, secs, build_s, graph_s, analytic),
                "spearman_heldout": spearman(agg.to_numpy(), y[test].to_numpy()), "n_heldout": len(test),
                "n_fit": len(fit)}

    rows = [evaluate(p, [p], "single proxy") for p in proxies]
    for set_name, members in PROXY_SETS.items():
        try:
            members = resolve_proxies(members)
        except Exception:  # noqa: BLE001
            continue
        if all(m in W.columns or get_proxy(m).structural for m in members):
            missing = [m for m in members if m not in W.columns]
            if missing and any(not get_proxy(m).structural for m in missing):
                continue
            for m in missing:
                feat, sign = (m[7:], -1.0) if m.startswith("graph:-") else (m[6:], 1.0)
                if feat not in F.columns:
                    break
                W[m] = F[feat] * sign
                directions[m] = True
            else:
                rows.append(evaluate("@" + set_name, list(members), "named set"))
    sub = list(np.random.default_rng(0).choice(fit, size=min(len(fit), args.fit_max), replace=False))
    costs = group_costs(secs)
    for cap in CAPS:
        cands = [c for c in W.columns if (free(c, analytic) and graph_s <= cap)
                 or (not free(c, analytic) and costs.get(c, math.inf) + build_s <= cap)]
        if not cands:
            continue
        chosen = greedy_select(W.loc[sub], y[sub], cands, directions, max_size=args.max_size)
        while len(chosen) > 1 and ranker_cost(chosen, secs, build_s, graph_s, analytic) > cap:
            chosen.remove(max((c for c in chosen if not free(c, analytic)),
                              key=lambda c: costs.get(c, 0.0), default=chosen[-1]))
        label = "structural only" if cap == 0 else ("no cap" if cap == math.inf else f"<= {cap:g} s/arch")
        rows.append(evaluate(f"budget {label}", chosen, f"greedy on the fit half, cap {label}"))
    return _pareto(pd.DataFrame(rows).drop_duplicates("proxies"))


def _pareto(df: pd.DataFrame) -> pd.DataFrame:
    df = df.sort_values(["seconds_per_arch", "spearman_heldout"], ascending=[True, False]).reset_index(drop=True)
    best, flags = -np.inf, []
    for v in df["spearman_heldout"]:
        flags.append(bool(v > best + 1e-9))
        best = max(best, v)
    return df.assign(pareto=flags)


def recost(args, out: Path) -> int:
    """Costs of already-chosen rankers under the current grouping: the difference between the group
    sums now and as first charged (build and graph terms are unchanged); rows keep their selection."""
    old_groups = (PASS_GROUP, AZ_GROUP)
    frames = []
    for sp in args.spaces.split(","):
        df = pd.read_csv(out / f"{sp}.csv")
        _w, secs = own_scores(sp, SPACES[sp][2])
        from zcnas.spaces.analytic import cost_table

        table = cost_table(sp, {"num_classes": 10, "input_shape": get_space(sp).input_shape(SPACES[sp][2])})
        analytic = table is not None and table.additive

        def charged(proxies: list[str], groups, secs=secs, analytic=analytic) -> float:
            seen: dict[str, float] = {}
            for p in proxies:
                if free(p, analytic):
                    continue
                grp = next((g for g in groups if p in g), {p})
                seen[min(grp)] = float(sum(secs.get(q, 0.0) for q in grp))
            return sum(seen.values())

        fix = [charged(str(p).split(","), GROUPS) - charged(str(p).split(","), old_groups) for p in df["proxies"]]
        df["seconds_per_arch"] = df["seconds_per_arch"] + np.asarray(fix)
        df = _pareto(df.drop(columns=["pareto"]))
        df.to_csv(out / f"{sp}.csv", index=False)
        frames.append(df)
    write_outputs(frames, out, args, note="Costs recomputed with meco/meco_opt charged as one pass (`--recost`); "
                  "the `budget <= X` rows were chosen under the cap X with the earlier charging, so a few now "
                  "cost more than their label.")
    return 0


def write_outputs(frames: list[pd.DataFrame], out: Path, args, note: str = "") -> None:
    lines = ["# Rankers by cost and held-out quality, per space", "",
             "Produced by `experiments/cost_quality.py` (protocol and caveats in its docstring). Seconds per "
             "architecture: this 2-core CPU, one torch thread, medians recorded while scoring on a shared machine "
             "(upper bounds), network build included when a ranker needs a network. Spearman on the held-out half "
             "(function classes not used to choose the ranker). `*` marks the Pareto front, which `--budget` uses.",
             *([ "", note] if note else []), ""]
    frames = _all_frames(out, frames)
    for df in frames:
        sp = df["space"].iloc[0]
        task = str(df["task"].iloc[0]) if "task" in df and isinstance(df["task"].iloc[0], str) else ""
        lines += [f"## {sp}{' / ' + task if task else ''}: {spec_of(sp, task)[3]}", "",
                  f"{int(df['n_fit'].iloc[0])} fit / {int(df['n_heldout'].iloc[0])} held-out architectures.", "",
                  "| | ranker | s/arch | Spearman (held-out) | proxies |", "|---|---|---|---|---|"]
        for r in df.itertuples():
            lines.append(f"| {'*' if r.pareto else ''} | {r.ranker} | {r.seconds_per_arch:.4f} | "
                         f"{r.spearman_heldout:.3f} | {r.proxies} |")
        lines.append("")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    table = pd.concat(frames)
    table = table[table["pareto"]].drop(columns=["pareto"])
    table["task"] = table["task"].fillna("") if "task" in table else ""
    table.to_csv(args.table, index=False, float_format="%.6g")
    print("\n".join(lines))


def _all_frames(out: Path, fresh: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """This run's frames plus the per-pair CSVs already in ``out`` from earlier runs (so that
    measuring one space keeps the others' rows in the summary and the table), in a fixed order."""
    have = {(df["space"].iloc[0], _task_of(df)) for df in fresh}
    frames = list(fresh)
    for f in sorted(out.glob("*.csv")):
        df = pd.read_csv(f, keep_default_na=False, na_values={"spearman_heldout": [""], "seconds_per_arch": [""]})
        if df.empty or "space" not in df or "pareto" not in df:
            continue
        if "task" not in df:
            df["task"] = ""
        if (df["space"].iloc[0], _task_of(df)) not in have:
            frames.append(df)
    order = {p: i for i, p in enumerate(pairs_of("nb201,nb101,darts,tnb101_micro,tnb101_macro"))}
    return sorted(frames, key=lambda df: order.get((df["space"].iloc[0], _task_of(df)), len(order)))


def _task_of(df: pd.DataFrame) -> str:
    t = df["task"].iloc[0] if "task" in df else ""
    return t if isinstance(t, str) else ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", default="nb201,nb101,darts",
                    help="comma-separated: nb201, nb101, darts, tnb101_micro / tnb101_macro (all seven tasks) "
                         "or tnb101_micro/TASK; rows of spaces not named stay in the table")
    ap.add_argument("--min-rich", type=int, default=100,
                    help="TNB101: use the architectures with every own proxy when at least this many")
    ap.add_argument("--fit-max", type=int, default=3000)
    ap.add_argument("--max-size", type=int, default=8)
    ap.add_argument("--build-samples", type=int, default=10)
    ap.add_argument("--data-root", default=str(benchmark_root()))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--table", default=str(TABLE))
    ap.add_argument("--recost", action="store_true",
                    help="recompute the costs of the rankers in --out/<space>.csv with the current pass groups "
                         "(no new selection), then rewrite the summary and the table")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.recost:
        return recost(args, out)
    out.mkdir(parents=True, exist_ok=True)
    frames = []
    for sp, task in pairs_of(args.spaces):
        df = run_space(sp, args, task)
        df.to_csv(out / pair_file(sp, task), index=False)
        frames.append(df)
    write_outputs(frames, out, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
