"""Ranking with a few labelled architectures of the target task (``zcnas rank --labelled FILE``).

:func:`read_labelled` reads a CSV of architectures with their measured accuracy; a
:class:`LabelledSelector` fits a :class:`zcnas.transfer.FewShotRanker` on them (their proxy scores and
the space's graph features) and ranks the candidates by it. The rule it applies by default
(``method="auto"``) is :data:`zcnas.transfer.AUTO_RULE`, measured by the few-shot study
(``experiments/results/transfer/``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from zcnas.errors import DataError, InputError
from zcnas.proxies import PROXIES
from zcnas.ranking.stages import Selector
from zcnas.spaces import get_space
from zcnas.transfer import FEWSHOT_METHODS, FewShotRanker

#: accuracy column names looked for, in order, when none is named
ACCURACY_COLUMNS = ("accuracy", "acc", "val_acc", "test_acc", "val_accuracy", "test_accuracy")
MIN_LABELLED = 3


def read_labelled(path: str | os.PathLike, space: str, *, column: str | None = None) -> pd.Series:
    """Measured accuracy per architecture (the space's own string) from a CSV with an ``arch``
    column and an accuracy column (``column``, else one of :data:`ACCURACY_COLUMNS`)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--labelled file {str(p)!r} does not exist; give a CSV with an 'arch' column and an "
                         f"'accuracy' column.")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"--labelled {p.name} is not a readable CSV ({str(exc).splitlines()[0]}); give a CSV with "
                         f"a header line 'arch,accuracy'.") from None
    if "arch" not in df.columns:
        raise InputError(f"--labelled {p.name} has no 'arch' column (columns: {list(df.columns)}); add a header "
                         f"line 'arch,accuracy'.")
    if column is None:
        column = next((c for c in ACCURACY_COLUMNS if c in df.columns), None)
        if column is None:
            raise InputError(f"--labelled {p.name} has no accuracy column (columns: {list(df.columns)}); name it "
                             f"'accuracy' or pass --labelled-column NAME.")
    elif column not in df.columns:
        raise InputError(f"--labelled {p.name} has no column {column!r} (columns: {list(df.columns)}); fix "
                         f"--labelled-column.")
    if len(df) < MIN_LABELLED:
        raise InputError(f"--labelled {p.name} has {len(df)} architecture(s); at least {MIN_LABELLED} are needed "
                         f"to choose a ranker.")
    sp = get_space(space)
    archs, values = [], []
    for i, (a, v) in enumerate(zip(df["arch"], df[column], strict=True)):
        where = f"--labelled {p.name}, line {i + 2}"
        try:
            archs.append(sp.key(a))
        except InputError as exc:
            raise InputError(f"{where}: {a!r} is not a {sp.name} architecture ({exc}); fix the string or pass the "
                             f"right --space.") from None
        try:
            values.append(float(v))
        except ValueError:
            raise InputError(f"{where}: {column} {v!r} is not a number; give the measured accuracy.") from None
        if values[-1] != values[-1] or values[-1] in (float("inf"), float("-inf")):
            raise InputError(f"{where}: {column} is {v!r}; give a finite measured accuracy or drop the line.")
    y = pd.Series(values, index=pd.Index(archs, name="arch"), name=column)
    if y.index.has_duplicates:
        dup = y.index[y.index.duplicated()][0]
        raise InputError(f"--labelled {p.name}: architecture {dup!r} appears twice; give each one once "
                         f"(average repeated runs first).")
    if y.nunique() < 2:
        raise DataError(f"--labelled {p.name}: every accuracy is {y.iloc[0]}; labels that do not differ cannot "
                        f"choose a ranker.")
    return y


class LabelledSelector(Selector):
    """Ranks candidates by a :class:`~zcnas.transfer.FewShotRanker` fitted on ``labelled`` (a Series
    arch -> accuracy) and ``labelled_scores`` (their proxy scores, index arch; optional: the graph
    features are always used). Proxy directions come from the registry."""

    def __init__(self, labelled: pd.Series, *, space: str, labelled_scores: pd.DataFrame | None = None,
                 method: str = "auto", random_state: int = 0):
        if method not in FEWSHOT_METHODS:
            raise InputError(f"The 'method' parameter of LabelledSelector must be one of "
                             f"{', '.join(FEWSHOT_METHODS)}. Got {method!r} instead.")
        self.labelled = labelled
        self.space = get_space(space).name
        self.labelled_scores = labelled_scores
        self.method = method
        self.random_state = random_state
        self.ranker_: FewShotRanker | None = None

    def describe(self) -> dict[str, Any]:
        return {"kind": "labelled", "method": self.method, "n_labelled": len(self.labelled),
                "chosen": self.ranker_.describe() if self.ranker_ is not None else None}

    def _directions(self, cols: list[str]) -> Mapping[str, bool]:
        return {c: bool(PROXIES.get(c).higher_is_better) for c in cols if c in PROXIES}

    def predict(self, scores: pd.DataFrame) -> pd.DataFrame:
        cols = [c for c in scores.columns
                if self.labelled_scores is not None and c in self.labelled_scores.columns]
        X = (self.labelled_scores.reindex(list(self.labelled.index))[cols].rename_axis("arch").reset_index()
             if cols else list(self.labelled.index))
        self.ranker_ = FewShotRanker(space=self.space, method=self.method, directions=self._directions(cols),
                                     random_state=self.random_state).fit(X, self.labelled.to_numpy(float))
        Xc = scores[cols].rename_axis("arch").reset_index() if cols else list(scores.index)
        pred = self.ranker_.predict(Xc)
        return pd.DataFrame({f"labelled:{self.ranker_.method_}": pred}, index=scores.index)


__all__ = ["ACCURACY_COLUMNS", "LabelledSelector", "read_labelled"]
