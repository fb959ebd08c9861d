"""``zcnas surrogate fit|predict|eval``: XGBoost surrogates on recorded proxies and ground truth.

Records are a record store (``.h5``) or a CSV with an ``arch`` column. ``--features`` is the
feature specification, e.g. ``onehot,graf,proxies:jacov,nwot``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from zcnas.cli.output import add_format_option, emit
from zcnas.errors import DataError
from zcnas.spaces import default_space

log = logging.getLogger("zcnas")


def _model_options(p) -> None:
    p.add_argument("--features", default="onehot,graf",
                   help="feature spec: encodings (onehot, adjacency, path), graf, then "
                        "proxies:NAME,NAME,... last (default onehot,graf)")
    p.add_argument("--space", default=None, help=f"search space (default: {default_space()}; see `zcnas list spaces`)")
    p.add_argument("--tune", choices=("none", "cv"), default="none",
                   help="hyperparameter search by inner CV on the training records only")
    p.add_argument("--objective", default="reg:squarederror",
                   choices=("reg:squarederror", "rank:pairwise", "rank:ndcg"))
    p.add_argument("--n-members", type=int, default=1, help="boosters in the seed ensemble")
    p.add_argument("--uncertainty", choices=("none", "ensemble", "quantile"), default="none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-key", default=None, help="proxy scores of this run only (store records)")
    p.add_argument("--dataset", default=None, help="proxy scores of this dataset only (store records)")


def add_parser(sub) -> None:
    p = sub.add_parser("surrogate", help="fit, apply and evaluate XGBoost surrogates",
                       description="Fit XGBoost surrogates on recorded proxies and ground truth, "
                                   "predict with them, and cross-validate a configuration.")
    ss = p.add_subparsers(dest="surrogate_command", metavar="SUBCOMMAND")
    ss.required = True

    f = ss.add_parser("fit", help="fit a surrogate on records and save it")
    f.add_argument("--store", required=True, help="records: record store (.h5) or CSV with 'arch'")
    f.add_argument("--target", required=True, help="truth metric to predict")
    f.add_argument("--out", required=True, help="model file to write (JSON)")
    _model_options(f)
    add_format_option(f)
    f.set_defaults(func=run_fit)

    pr = ss.add_parser("predict", help="predict with a saved surrogate")
    pr.add_argument("--model", required=True, help="model file written by `zcnas surrogate fit`")
    g = pr.add_mutually_exclusive_group(required=True)
    g.add_argument("--store", help="records: record store (.h5) or CSV with 'arch' (+ proxy columns)")
    g.add_argument("--archs", help="file of architecture strings (one a line) or CSV with 'arch'")
    pr.add_argument("--run-key", default=None, help="proxy scores of this run only (store records)")
    pr.add_argument("--dataset", default=None, help="proxy scores of this dataset only")
    pr.add_argument("--save-run-key", default=None,
                    help="also append the predictions to --store's predictions table under this run key")
    add_format_option(pr)
    pr.set_defaults(func=run_predict)

    e = ss.add_parser("eval", help="cross-validated Spearman/Kendall of a surrogate configuration")
    e.add_argument("--store", required=True, help="records: record store (.h5) or CSV with 'arch'")
    e.add_argument("--target", required=True, help="truth metric to predict")
    e.add_argument("--cv", type=int, default=5, help="folds (default 5)")
    _model_options(e)
    add_format_option(e)
    e.set_defaults(func=run_eval)


def _model(args):
    from zcnas.surrogate import FeatureSpec, XGBSurrogate

    return XGBSurrogate(features=FeatureSpec.parse(args.features, space=args.space), target=args.target,
                        tune=args.tune, objective=args.objective, n_members=args.n_members,
                        uncertainty=None if args.uncertainty == "none" else args.uncertainty,
                        random_state=args.seed)


def run_fit(args) -> int:
    from zcnas.surrogate.model import load_records

    records = load_records(args.store, target=args.target, run_key=args.run_key, dataset=args.dataset)
    model = _model(args).fit(records.drop(columns=[args.target]), records[args.target].to_numpy())
    model.save(args.out)
    log.info("saved model to %s", args.out)
    row = {"model": str(args.out), "target": args.target, "features": model.spec_.describe(),
           "n_train": model.n_train_, "tune_spearman": model.tune_score_ if model.tune_score_ is not None
           else float("nan")}
    emit(pd.DataFrame([row]), args.format, title="surrogate fit")
    return 0


def _read_archs(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise DataError(f"Architecture file {path!r} does not exist.")
    if p.suffix.lower() == ".csv":
        df = pd.read_csv(p)
        if "arch" not in df.columns:
            raise DataError(f"{path!r} has no 'arch' column; columns are {list(df.columns)}.")
        return df
    lines = [ln.strip() for ln in p.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return pd.DataFrame({"arch": lines})


def run_predict(args) -> int:
    from zcnas.surrogate import XGBSurrogate
    from zcnas.surrogate.model import load_records

    if args.store:
        records = load_records(args.store, run_key=args.run_key, dataset=args.dataset)
    else:
        records = _read_archs(args.archs)
    model = XGBSurrogate.load(args.model, columns=list(records.columns))
    out = pd.DataFrame({"arch": records["arch"]})
    if model.uncertainty is not None:
        mean, std = model.predict(records, return_std=True)
        out["prediction"], out["std"] = mean, std
    else:
        out["prediction"] = model.predict(records)
    out = out.sort_values("prediction", ascending=False, kind="stable").reset_index(drop=True)
    if args.save_run_key:
        if not args.store or Path(args.store).suffix.lower() == ".csv":
            raise DataError("--save-run-key needs --store pointing at a record store (.h5).")
        from zcnas.records import RecordStore

        rows = pd.DataFrame({"run_key": args.save_run_key, "space": model.spec_.space, "arch": out["arch"],
                             "model": Path(args.model).name, "target": model.target_ or "",
                             "value": out["prediction"],
                             "std": out["std"] if "std" in out else np.nan})
        with RecordStore(args.store, "a") as s:
            s.append("predictions", rows)
        log.info("appended %d predictions to %s", len(rows), args.store)
    emit(out, args.format, title=f"surrogate predictions ({model.target_})")
    return 0


def run_eval(args) -> int:
    from zcnas.surrogate.model import cross_validate, load_records

    records = load_records(args.store, target=args.target, run_key=args.run_key, dataset=args.dataset)
    folds = cross_validate(_model(args), records, args.target, cv=args.cv, seed=args.seed)
    summary = pd.DataFrame([{
        "target": args.target, "features": args.features, "n_records": len(records), "cv": args.cv,
        "spearman_mean": folds["spearman"].mean(), "spearman_sd": folds["spearman"].std(),
        "kendall_mean": folds["kendall"].mean(), "kendall_sd": folds["kendall"].std(),
    }])
    emit(summary, args.format, title="cross-validated surrogate")
    return 0
