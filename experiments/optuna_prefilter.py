"""An Optuna study whose trials draw NAS-Bench-201 architectures through a zero-cost pre-filter.

A worked example of :class:`zcnas.ranking.Prefilter` inside Optuna. The six NB201 edges are six
categorical parameters. :class:`PrefilterSampler` wraps any Optuna sampler (TPE, random): for each
trial it draws ``n_candidates`` architectures from the wrapped sampler (independent draws of the six
parameters), asks the pre-filter for the best one by zero-cost proxies, and hands that one to the
trial; so only the pre-filtered architecture costs an evaluation. Used as
``optuna.create_study(sampler=PrefilterSampler(TPESampler(seed=s), prefilter, n_candidates=10))``.

Objective: a benchmark metric (``--fitness``, default the 12-epoch NB201 accuracy
``c10_test_12ep``, standing for a short training). The study's best trial is the answer; reported:
its ``c10_test_200ep`` (CIFAR-10 test after 200 epochs, NATS-Bench seed mean), mean +- sd over seeds,
after 25/50/100 trials, for TPE and random sampling with and without the pre-filter.

Pre-filter scores come from a seeded cache (as in ``evolution_prefilter.py``): the published NASWOT
score + parameter count, aggregated with mean_log_rank (or zcnas's own full-space store).

Run (from the repository root): ZCNAS_DATA=../shared/benchmarks nice -n 15 python -m experiments.optuna_prefilter
Writes experiments/results/optuna_prefilter/{curves.csv, summary.md}.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results" / "optuna_prefilter"
CHECKPOINTS = (25, 50, 100)
EDGES = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")  # NB201 string order
log = logging.getLogger("optuna_prefilter")


def arch_of(params: dict, ops) -> str:
    e = [params[f"edge {x}"] for x in EDGES]
    return f"|{e[0]}~0|+|{e[1]}~0|{e[2]}~1|+|{e[3]}~0|{e[4]}~1|{e[5]}~2|"


def make_sampler_class():
    import optuna
    from optuna.distributions import CategoricalDistribution

    class PrefilterSampler(optuna.samplers.BaseSampler):
        """Draws ``n_candidates`` architectures from ``base`` and lets ``prefilter`` pick one."""

        def __init__(self, base, prefilter, ops, n_candidates: int = 10):
            self.base = base
            self.prefilter = prefilter
            self.ops = tuple(ops)
            self.n_candidates = n_candidates
            self.space = {f"edge {x}": CategoricalDistribution(self.ops) for x in EDGES}

        def infer_relative_search_space(self, study, trial):
            return dict(self.space)

        def sample_relative(self, study, trial, search_space):
            cands = []
            for _ in range(self.n_candidates):
                params = {n: self.base.sample_independent(study, trial, n, d) for n, d in self.space.items()}
                cands.append(arch_of(params, self.ops))
            best = self.prefilter(cands, 1).archs[0]
            ops = [tok.split("~")[0] for tok in best.strip("|").replace("|+|", "|").split("|")]
            return dict(zip(self.space, ops, strict=True))

        def sample_independent(self, study, trial, param_name, param_distribution):
            return self.base.sample_independent(study, trial, param_name, param_distribution)

        def reseed_rng(self):
            self.base.reseed_rng()

    return PrefilterSampler


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--work-dir", default="/tmp/zcnas_evolution")
    p.add_argument("--fitness", default="c10_test_12ep")
    p.add_argument("--outcome", default="c10_test_200ep")
    p.add_argument("--scores", choices=("published", "zcnas"), default="published")
    p.add_argument("--zcnas-store", default=str(Path(__file__).resolve().parents[1] / "benchmarks_data"
                                                 / "nb201_zcnas_scores.h5"))
    p.add_argument("--aggregate", default="mean_log_rank")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--candidates", type=int, default=10)
    p.add_argument("--out", default=str(RESULTS))
    return p.parse_args(argv)


def main(argv=None) -> int:
    import optuna
    import torch

    from experiments.evolution_prefilter import seeded_cache, truth_from_store
    from zcnas.ranking import Prefilter
    from zcnas.spaces.nb201 import OPS

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    truth = truth_from_store(args.work_dir, args.data_root, [args.fitness, args.outcome])
    fitness, outcome = truth[args.fitness].to_dict(), truth[args.outcome].to_dict()
    cache, names = seeded_cache(args.scores, args.data_root, args.zcnas_store, None)
    pf = Prefilter(proxies=names, aggregate=args.aggregate, cache=cache)
    PrefilterSampler = make_sampler_class()
    ops = tuple(OPS)

    def objective(trial):
        params = {f"edge {x}": trial.suggest_categorical(f"edge {x}", ops) for x in EDGES}
        return fitness[arch_of(params, ops)]

    variants = {
        "random": lambda s: optuna.samplers.RandomSampler(seed=s),
        "random+prefilter": lambda s: PrefilterSampler(optuna.samplers.RandomSampler(seed=s), pf, ops,
                                                       args.candidates),
        "tpe": lambda s: optuna.samplers.TPESampler(seed=s),
        "tpe+prefilter": lambda s: PrefilterSampler(optuna.samplers.TPESampler(seed=s), pf, ops, args.candidates),
    }
    rows = []
    for name, make in variants.items():
        tv = time.time()
        for seed in range(args.seeds):
            study = optuna.create_study(direction="maximize", sampler=make(seed))
            study.optimize(objective, n_trials=args.trials)
            best_v, best_a = -np.inf, None
            for t in study.trials:
                a = arch_of(t.params, ops)
                if t.value > best_v:
                    best_v, best_a = t.value, a
                if t.number + 1 in CHECKPOINTS or t.number + 1 == args.trials:  # the last trial, always
                    rows.append({"variant": name, "seed": seed, "trials": t.number + 1, "best_fitness": best_v,
                                 "outcome": outcome[best_a]})
        log.info("%s: %d seeds in %.0f s", name, args.seeds, time.time() - tv)
    df = pd.DataFrame(rows)
    curves = df.groupby(["variant", "trials"], sort=False).agg(
        outcome_mean=("outcome", "mean"), outcome_sd=("outcome", "std"), fitness_mean=("best_fitness", "mean"),
        seeds=("seed", "nunique")).reset_index()
    curves.to_csv(out / "curves.csv", index=False, float_format="%.4f")
    lines = ["# Optuna with a zero-cost pre-filter (NB201, CIFAR-10)", "",
             f"Objective `{args.fitness}`; outcome `{args.outcome}` of the best trial (CIFAR-10 test, 200 epochs, "
             f"NATS-Bench seed mean). {args.seeds} seeds; pre-filter picks 1 of {args.candidates} draws of the "
             f"wrapped sampler by `{args.aggregate}` of {names} ({args.scores} scores). "
             f"{(time.time() - t0) / 60:.1f} min (`experiments/optuna_prefilter.py`, optuna {optuna.__version__}).",
             "", "| sampler | " + " | ".join(f"{t} trials" for t in CHECKPOINTS) + " |",
             "|---|" + "---|" * len(CHECKPOINTS)]
    for v in variants:
        g = curves[curves["variant"] == v].set_index("trials")
        lines.append(f"| {v} | " + " | ".join(f"{g.at[t, 'outcome_mean']:.2f} +- {g.at[t, 'outcome_sd']:.2f}"
                                            for t in CHECKPOINTS) + " |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
