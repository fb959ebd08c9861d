"""Scoring many architectures of a space with zero-cost proxies, resumably, into a record store."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from zcnas._version import __version__
from zcnas.arch import Architecture
from zcnas.data import announce_builtin, get_batch
from zcnas.errors import InputError, check_int
from zcnas.proxies import ProxyResult, check_structural, get_proxy, resolve_proxies, run_arch_proxy, score_model
from zcnas.proxies.base import _memory_format
from zcnas.ranking.backends import Backend, make_backend
from zcnas.spaces import get_space
from zcnas.spaces.seeding import arch_seed, build_seeded  # noqa: F401  (re-exported: zcnas.ranking API)

log = logging.getLogger("zcnas")

#: bump when a change makes scores of the same configuration differ (init scheme, batch order, ...)
SCORING_VERSION = 1


@dataclass(frozen=True)
class ScoringConfig:
    """Everything that determines a score besides the architecture and the proxy."""

    #: search space name ("" = the default space)
    space: str = ""
    dataset: str = "digits"
    data_dir: str | None = None
    batch_size: int = 64
    seed: int = 0
    sampling: str = "random"
    dedupe: bool = False
    device: str = "cpu"
    #: fingerprint of the image batch (set by :func:`load_batch`), so a store never mixes data
    batch_sha1: str = ""
    #: outputs of the network: the batch's classes, else the space's for the dataset (None)
    num_classes: int | None = None
    #: tensor layout of the scored copies: "channels_last" (NHWC, about twice as fast on CPU with
    #: oneDNN) or "contiguous" (NCHW, the reference layout); ranks agree (Spearman >= 0.9998 on 200 nets)
    memory_format: str = "channels_last"
    extra: dict[str, Any] = field(default_factory=dict)
    #: (C, H, W) of the network input: the batch's shape, else the space's shape for the dataset
    input_shape: tuple[int, ...] | None = None
    #: options of the space's ``build`` (e.g. TNB101's task); part of the run key when given
    build_options: dict[str, Any] = field(default_factory=dict)
    #: fetch the dataset (CIFAR-10/100) into ``data_dir`` (or the cache) when it is missing;
    #: not part of the run key (the images are the same)
    download: bool = False

    def __post_init__(self):

        _memory_format(self.memory_format)  # a bad name fails here, naming the choices
        check_int("batch_size", self.batch_size, "ScoringConfig", minimum=1)
        check_int("seed", self.seed, "ScoringConfig", minimum=0)
        object.__setattr__(self, "space", get_space(self.space or None).name)
        if self.input_shape is not None:
            object.__setattr__(self, "input_shape", tuple(int(v) for v in self.input_shape))

    def resolved_input_shape(self) -> tuple[int, ...]:
        return self.input_shape or get_space(self.space).input_shape(self.dataset)
    def run_key(self) -> str:
        key = {"v": SCORING_VERSION, "space": self.space, "dataset": self.dataset,
               "batch_size": self.batch_size, "seed": self.seed, "sampling": self.sampling,
               "dedupe": self.dedupe, "batch": self.batch_sha1, **self.extra}
        if self.build_options:
            key["build"] = self.build_options
        if self.memory_format not in ("contiguous", "keep"):  # NCHW keys predate the option
            key["memory_format"] = self.memory_format
        return "score:" + hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def load_batch(config: ScoringConfig):
    """The image batch for ``config`` and the config completed with its fingerprint."""
    announce_builtin(config.dataset, "scoring")
    batch = get_batch(config.dataset, data_dir=config.data_dir, batch_size=config.batch_size,
                      seed=config.seed, sampling=config.sampling, download=config.download)
    h = hashlib.sha1(batch.inputs.numpy().tobytes())
    if batch.targets is not None:
        h.update(batch.targets.numpy().tobytes())
    cfg = dataclasses.replace(config, batch_sha1=h.hexdigest()[:16], num_classes=batch.num_classes,
                              input_shape=tuple(batch.inputs.shape[1:]))
    return batch, cfg


def group_by_class(space_name: str, strings: Sequence[str], prefer: Iterable[str] = ()) -> dict[str, list[str]]:
    """Candidates grouped by function class (the space's ``canonical``): representative -> members.

    The representative is a member in ``prefer`` (already scored) when there is one, else the
    smallest string of the class among the candidates. The space is never enumerated."""
    space = get_space(space_name)
    preferred = set(prefer)
    classes: dict[str, list[str]] = {}
    for s in strings:
        classes.setdefault(space.canonical(s), []).append(s)
    groups: dict[str, list[str]] = {}
    for members in classes.values():
        done = sorted(m for m in members if m in preferred)
        groups[done[0] if done else min(members)] = members
    return groups


def _progress(total: int, enabled: bool | None, desc: str):
    from tqdm.auto import tqdm

    # enabled: True (always), False (never), None (only when stderr is a terminal: no carriage-return
    # garbage in log files)
    return tqdm(total=total, disable=None if enabled is None else not enabled, file=sys.stderr, unit="arch",
                desc=desc,
                dynamic_ncols=True, smoothing=0.05)


def _score_task(item: tuple[str, list[str]], payload: tuple) -> dict:
    """Worker side: build one seeded network and score it (module level, so it pickles)."""
    import torch


    rep, compute = item
    config, batch, share, raise_errors = payload
    structural = [n for n in compute if get_proxy(n).structural]
    on_network = [n for n in compute if n not in structural]
    counted = [n for n in on_network if get_proxy(n).analytic]
    results = _analytic(config, rep, counted, meta=len(counted) == len(on_network))
    on_network = [n for n in on_network if n not in results]
    if on_network:  # structural proxies alone never build a network
        device = torch.device(config.device)
        shape = config.resolved_input_shape()
        model = build_seeded(config.space, rep, config.num_classes, config.seed, device, input_shape=shape,
                             **config.build_options)
        results.update(score_model(model, batch, on_network, seed=config.seed, raise_errors=raise_errors,
                                   share=share, input_shape=shape, memory_format=config.memory_format))
    space = get_space(config.space)
    for n in structural:
        results[n] = run_arch_proxy(get_proxy(n), space, rep, raise_errors=raise_errors)
    return {n: results[n] for n in compute}


def _analytic(config: ScoringConfig, rep: str, names: list[str], *, meta: bool = False) -> dict:
    """params/flops from the space's analytic table (exact, no network), when it has one; else, with
    ``meta`` (no other proxy needs the network), counted on the network built on PyTorch's meta
    device (shapes only: exact, without weights, memory or arithmetic)."""
    if not names:
        return {}
    import time

    from zcnas.spaces.analytic import cost_table, count_network

    kwargs = {"input_shape": config.resolved_input_shape(), **config.build_options}
    if config.num_classes is not None:
        kwargs["num_classes"] = config.num_classes
    table = cost_table(config.space, kwargs)  # fitted once per configuration (cached), not timed
    t0 = time.perf_counter()
    counts = table.counts(rep) if table is not None and table.additive else None
    if counts is None and meta:
        try:
            counts = count_network(config.space, rep, kwargs)
        except Exception as exc:  # noqa: BLE001 - a network that cannot run on meta: count on the real one
            log.debug("meta-device count of %s failed (%s); counting on the built network", rep, exc)
    if counts is None:
        return {}
    seconds = (time.perf_counter() - t0) / len(names)
    value = {"params": counts[0] / 1e6, "flops": counts[1] / 1e6}
    return {n: ProxyResult(n, value[get_proxy(n).analytic], seconds) for n in names}


def score_architectures(archs: Sequence[Architecture | str], proxies: Sequence[str],
                        config: ScoringConfig, *, store=None, batch=None, progress: bool = True,
                        raise_errors: bool = False, share: bool = True, backend=None,
                        run_key: str | None = None) -> pd.DataFrame:
    """Score ``archs`` with ``proxies``; returns long rows (one per architecture and proxy).

    With a ``store`` (an open :class:`zcnas.records.RecordStore`), finished (arch, proxy) pairs
    of the same configuration are skipped, and each architecture's rows are written as soon as it
    is done, so an interrupted run resumes where it stopped. With ``config.dedupe`` one
    representative per function class is scored and its scores are copied to every member.
    ``backend`` (a :class:`zcnas.ranking.backends.Backend` or a name) runs the work: in this
    process by default, or in worker processes / on a Ray cluster; the store is written here only.
    """

    space = get_space(config.space)
    names = resolve_proxies(proxies)
    check_structural(names, space.name)
    specs = [get_proxy(n) for n in names]
    per_string_names = {n for n in names if not get_proxy(n).per_function}
    strings = list(dict.fromkeys(space.format(space.coerce(a)) for a in archs))
    if not strings:
        raise InputError("No architectures to score.")
    if batch is None and any(s.needs_data for s in specs):
        batch, config = load_batch(config)
    run_key = run_key or config.run_key()

    done: dict[tuple[str, str], dict] = {}
    if store is not None:
        if run_key == config.run_key():  # a sub-run of another configuration keeps that one's record
            store.append("runs", [{"run_key": run_key, "kind": "score", "config": config.to_json(),
                                   "zcnas_version": _version(), "created": _now()}])
        prev = store.frame("scores")
        if len(prev):
            prev = prev[prev["run_key"] == run_key]
            for row in prev.to_dict(orient="records"):
                if row["proxy"] in per_string_names and "same function class" in str(row["reason"]):
                    continue  # written by an older zcnas that copied structural costs: recompute
                done[(row["arch"], row["proxy"])] = row

    # which architecture is computed for which target strings; structural proxies (params,
    # flops) differ within a function class and are scored for every string
    per_string = [n for n in names if n in per_string_names]
    if config.dedupe and len(per_string) < len(names):
        shared_names = [n for n in names if n not in per_string_names]
        scored = {a for a in strings if all((a, n) in done for n in shared_names)}
        groups = group_by_class(config.space, strings, prefer=scored)
        if per_string:
            shared = [n for n in names if n not in per_string]
            first = score_architectures(strings, shared, config, store=store, batch=batch, progress=progress,
                                        raise_errors=raise_errors, share=share, backend=backend)
            rest = score_architectures(strings, per_string, dataclasses.replace(config, dedupe=False),
                                       store=store, batch=batch, progress=progress, raise_errors=raise_errors,
                                       share=share, backend=backend, run_key=run_key)
            n1, n2 = first.attrs.get("n_from_store", 0), rest.attrs.get("n_from_store", 0)
            both = pd.concat([first.iloc[:n1], rest.iloc[:n2], first.iloc[n1:], rest.iloc[n2:]],
                             ignore_index=True)
            both.attrs["n_from_store"] = n1 + n2
            return both
    else:
        groups = {s: [s] for s in strings}

    todo = [(rep, members) for rep, members in groups.items()
            if any((m, n) not in done for m in members for n in names)]
    n_done = len(strings) - sum(len(m) for _, m in todo)
    if n_done:
        log.info("resuming: %d of %d architectures already scored in the store", n_done, len(strings))

    if backend is None or isinstance(backend, str):
        backend = make_backend(backend or "local")
    elif not isinstance(backend, Backend):
        raise InputError(f"backend must be a name or a Backend, got {type(backend).__name__}.")
    wanted = set(strings)
    rows_out: list[dict] = [r for r in done.values() if r["arch"] in wanted and r["proxy"] in names]
    n_from_store = len(rows_out)
    members_of = dict(todo)
    items = []
    for rep, members in todo:
        need = [n for n in names if any((m, n) not in done for m in members)]
        items.append((rep, [n for n in need if (rep, n) not in done]))
    bar = _progress(len(items), progress, "scoring")
    try:
        for (rep, _compute), results in backend.map(_score_task, [it for it in items if it[1]],
                                                    (config, batch, share, raise_errors)):
            rows_out.extend(_record(rep, members_of[rep], names, results, done, config, run_key, store,
                                    batch is not None))
            bar.update(1)
        for rep, compute in items:  # only copies of stored representative rows were missing
            if not compute:
                rows_out.extend(_record(rep, members_of[rep], names, {}, done, config, run_key, store,
                                        batch is not None))
                bar.update(1)
    finally:
        bar.close()
    df = pd.DataFrame(rows_out)
    df.attrs["n_from_store"] = n_from_store  # the first rows: found in the store, not computed
    return df


def _record(rep: str, members: list[str], names: list[str], results: dict, done: dict,
            config: ScoringConfig, run_key: str, store, has_batch: bool) -> list[dict]:
    """Rows for every member of ``rep``'s class still missing, saved to the store at once."""
    # the dataset a row is read back under: a multi-task space's task names the network (its head),
    # so even data-free rows of TNB101 belong to their task; otherwise the images' dataset, or "";
    # structural proxies build no network and serve every task and dataset ("")
    on_network = config.build_options.get("task") or (config.dataset if has_batch else "")
    new_rows = []
    for m in members:
        for n in names:
            if (m, n) in done:
                continue
            if n in results:
                r = results[n]
                value, status, reason, secs = r.value, r.status, r.reason, r.seconds
            else:
                h = done[(rep, n)]
                value, status, reason, secs = h["value"], h["status"], h["reason"], h["seconds"]
            if m != rep:
                reason = (reason + "; " if reason else "") + f"copied from {rep} (same function class)"
                secs = 0.0
            row = {"run_key": run_key, "space": config.space, "arch": m, "proxy": n,
                   "dataset": "" if get_proxy(n).structural else on_network, "batch_size": config.batch_size,
                   "seed": config.seed, "value": float(value), "status": status, "reason": reason,
                   "seconds": float(secs)}
            new_rows.append(row)
            done[(m, n)] = row
    if store is not None and new_rows:
        store.append("scores", new_rows)
    return new_rows


def wide_scores(long: pd.DataFrame, proxies: Iterable[str]) -> pd.DataFrame:
    """Long score rows -> one row per architecture, one column per proxy (NaN where failed)."""
    ok = long[long["status"] == "ok"]
    wide = ok.pivot_table(index="arch", columns="proxy", values="value", aggfunc="last")
    wide = wide.reindex(index=pd.Index(long["arch"].unique(), name="arch"), columns=list(proxies))
    wide.columns.name = None
    return wide


def _version() -> str:

    return __version__


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_positive(name: str, value: int, owner: str) -> int:
    return check_int(name, value, owner, minimum=1)
