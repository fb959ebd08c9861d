"""The best measured ranker within a time budget (``--budget SECONDS_PER_ARCH``).

``zcnas/budget_table.csv`` holds, per space, the Pareto front of rankers by seconds per
architecture against Spearman on held-out architectures, as measured by
``experiments/cost_quality.py`` on a 2-core CPU with one torch thread (network build included
whenever a ranker needs a network; structural ``graph:`` proxies build none). Its columns:
``space, truth, ranker, proxies, aggregate, how, seconds_per_arch, spearman_heldout, n_heldout,
n_fit`` and ``task`` (empty for spaces with one network; TNB101 has rows per task, because both the
network and the truth change with it). :func:`ranker_within` returns the ranker of highest held-out
Spearman whose cost fits.

The seconds are this machine's; a faster machine affords more. The quality was measured against
one truth per space (``truth`` column: NB201 CIFAR-10, NB101 108-epoch CIFAR-10, DARTS NB301's
surrogate prediction; TNB101 each task's validation metric); for another dataset of the space the
same ranker is used and its quality there has not been measured by this table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from zcnas.errors import DataError, InputError
from zcnas.spaces import get_space

TABLE = Path(__file__).with_name("budget_table.csv")


@dataclass(frozen=True)
class BudgetRanker:
    """One measured ranker: its proxies, aggregate, cost and held-out quality."""

    space: str
    ranker: str
    proxies: tuple[str, ...]
    aggregate: str | None
    seconds_per_arch: float
    spearman_heldout: float
    n_heldout: int
    truth: str
    task: str = ""

    def describe(self) -> str:
        where = f" on {self.task}" if self.task else ""
        return (f"{self.ranker}{where}: {','.join(self.proxies)} ({self.aggregate or 'single proxy'}), "
                f"{self.seconds_per_arch:.3g} s/arch measured, Spearman {self.spearman_heldout:.3f} on "
                f"{self.n_heldout} held-out architectures ({self.truth})")


@cache
def _read(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise DataError(f"No ranker cost table at {p}; make it with `python experiments/cost_quality.py`.")
    df = pd.read_csv(p, keep_default_na=False, na_values={"seconds_per_arch": [""], "spearman_heldout": [""]})
    if "task" not in df.columns:
        df["task"] = ""
    df["task"] = df["task"].astype(str)
    return df


def budget_table(space: str | None = None, *, task: str | None = None, path: str | Path = TABLE) -> pd.DataFrame:
    """The measured Pareto front (all spaces, or one space's rows, cheapest first). For a space
    measured per task (TNB101), ``task`` (default: the space's default task) picks its rows; an
    unmeasured task is an error that names the measured ones."""
    df = _read(str(path))
    if space is not None:
        sp = get_space(space)
        df = df[df["space"] == sp.name]
        tasks = sorted(t for t in set(df["task"]) if t)
        if tasks:
            want = task or getattr(sp, "default_dataset", None)
            if hasattr(sp, "check_task"):
                want = sp.check_task(want)
            if want not in tasks:
                raise InputError(f"No measured costs for {sp.name} task {want!r} (measured: {', '.join(tasks)}); "
                                 f"give --proxies instead of --budget, or measure it with experiments/cost_quality.py.")
            df = df[df["task"] == want]
    return df.sort_values("seconds_per_arch").reset_index(drop=True)


def ranker_within(space: str | None, seconds_per_arch: float, *, task: str | None = None,
                  path: str | Path = TABLE) -> BudgetRanker:
    """The measured ranker of ``space`` (and ``task``, for a space measured per task) with the
    highest held-out Spearman costing at most ``seconds_per_arch`` seconds per architecture on the
    reference CPU."""
    if isinstance(seconds_per_arch, bool) or not isinstance(seconds_per_arch, int | float) \
            or not math.isfinite(seconds_per_arch) or seconds_per_arch < 0:
        raise InputError(f"The budget must be a number of seconds per architecture >= 0. "
                         f"Got {seconds_per_arch!r} instead.")
    name = get_space(space).name
    rows = budget_table(name, task=task, path=path)
    if rows.empty:
        measured = sorted(set(_read(str(path))["space"]))
        raise InputError(f"No measured costs for space {name!r} (measured: {', '.join(measured)}); give "
                         f"--proxies instead of --budget, or measure it with experiments/cost_quality.py.")
    fits = rows[rows["seconds_per_arch"] <= seconds_per_arch]
    if fits.empty:
        cheapest = rows.iloc[0]
        raise InputError(f"No measured {name} ranker fits {seconds_per_arch:g} s/arch: the cheapest, "
                         f"{cheapest['ranker']}, costs {cheapest['seconds_per_arch']:.3g} s/arch. Raise --budget "
                         f"to at least that.")
    best = fits.loc[fits["spearman_heldout"].idxmax()]
    agg = best["aggregate"] if isinstance(best["aggregate"], str) and best["aggregate"] else None
    return BudgetRanker(name, str(best["ranker"]), tuple(str(best["proxies"]).split(",")), agg,
                        float(best["seconds_per_arch"]), float(best["spearman_heldout"]), int(best["n_heldout"]),
                        str(best["truth"]), str(best["task"]))


__all__ = ["BudgetRanker", "budget_table", "ranker_within"]
