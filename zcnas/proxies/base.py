"""Proxy registry, the per-model context that shares passes between proxies, and results.

A proxy is a function ``fn(ctx: ProxyContext, **options) -> float`` registered with
:func:`proxy`. Its options travel with the registration (foresight style), so one function can be
registered twice with different options. The context works on private copies of the caller's
model; the caller's parameters, buffers, mode and hooks are never touched.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from zcnas.errors import InputError, ProxyError, UnknownNameError
from zcnas.registry import Registry
from zcnas.spaces.base import ranker_set_name, task_rankers


@dataclass(frozen=True)
class ProxySpec:
    """A registered proxy and what a ranker needs to know about it."""

    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    needs_data: bool
    needs_labels: bool
    options: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    reference: str = ""
    #: number of batches the proxy consumes (>1 for proxies that compare batches)
    n_batches: int = 1
    #: shared passes of :class:`ProxyContext` the proxy reads (lets one forward serve several)
    uses: tuple[str, ...] = ()
    #: False for structural costs (params, flops) that differ between functionally identical cells
    #: (a branch cut off by ``none`` still has parameters): never copied within a function class
    per_function: bool = True
    #: structural proxies: ``arch_fn(space, arch, **arch_options)`` computes the value from the
    #: architecture alone (no network is built, no data read); ``fn`` then refuses a bare network
    arch_fn: Callable[..., float] | None = None
    arch_options: dict[str, Any] = field(default_factory=dict)
    #: "params" or "flops": a scorer that knows the architecture may take the count from the
    #: space's analytic table (:mod:`zcnas.spaces.analytic`, checked exact) instead of the network
    analytic: str | None = None

    @property
    def structural(self) -> bool:
        return self.arch_fn is not None

    @property
    def description(self) -> str:
        doc = (self.fn.__doc__ or "").strip().splitlines()
        return doc[0] if doc else ""

    def __call__(self, ctx: ProxyContext) -> float:
        return self.fn(ctx, **self.options)


PROXIES: Registry[ProxySpec] = Registry("proxy")


def proxy(name: str, *, higher_is_better: bool = True, needs_data: bool = True,
          needs_labels: bool = False, aliases: Sequence[str] = (), reference: str = "",
          n_batches: int = 1, uses: Sequence[str] = (), per_function: bool = True, analytic: str | None = None,
          **options: Any):
    """Register ``fn`` as proxy ``name``. Stack the decorator to register variants.

    ``uses`` names the shared passes of :class:`ProxyContext` the proxy reads, e.g.
    ``("loss_gradients",)``, so the engine can serve several proxies from one forward pass."""

    def deco(fn: Callable[..., float]) -> Callable[..., float]:
        unknown = set(uses) - set(ProxyContext.PASSES)
        if unknown:
            raise InputError(f"Proxy {name!r} uses unknown shared passes {sorted(unknown)}; "
                             f"known: {ProxyContext.PASSES}.")
        spec = ProxySpec(name, fn, higher_is_better, needs_data, needs_labels, dict(options),
                         tuple(aliases), reference, n_batches, tuple(uses), per_function, analytic=analytic)
        PROXIES.add(name, spec, tuple(aliases))
        return fn

    return deco


def get_proxy(name: str) -> ProxySpec:
    """The proxy called ``name`` (aliases accepted); unknown names get "did you mean"."""
    return PROXIES.get(name)


def list_proxies(pattern: str = "*") -> list[str]:
    """Canonical names of registered proxies matching a glob pattern."""
    return PROXIES.names(pattern)


#: named proxy sets, used as ``@name`` wherever proxies are given (``--proxies @zcnas_nb201``)
PROXY_SETS: dict[str, tuple[str, ...]] = {
    # the five proxies of the foundation engine
    "core": ("synflow", "jacob_cov", "grad_norm", "snip", "naswot"),
    # AZ-NAS (Lee & Ham, CVPR 2024): its three components and FLOPs; use with mean_log_rank
    "az_nas": ("az_expressivity", "az_progressivity", "az_trainability", "flops"),
    # zcnas's best NB201 ranker with mean_log_rank: chosen on half of NB201 (CIFAR-10), Spearman
    # 0.957 / 0.949 on all 15,625; 0.940 / 0.926 on held-out function classes (experiments/results/proxy_family)
    "zcnas_nb201": ("az_expressivity", "az_progressivity", "az_trainability", "flops", "jacob_cov", "meco",
                    "meco_opt", "synflow", "te_lr"),
    # the cheap NB201 ranker: chosen by experiments/cost_quality.py on half of NB201 under a cap of 0.5 s per
    # architecture (data-free proxies and graph features; no images read); Spearman 0.951 with CIFAR-10
    # 200-epoch test accuracy on the other half (experiments/results/cost_quality)
    "zcnas_nb201_fast": ("meco_opt", "meco", "te_lr", "graph:maxon[c3]", "graph:-paths[skip+pool]", "synflow",
                         "graph:-minlen[skip+c1+c3]"),
    # structural rankers (graph:<feature> proxies: no network, microseconds per architecture), chosen
    # with mean_log_rank on half of the space (split seed 0) by experiments/structural_rankers.py;
    # held-out Spearman in experiments/results/structural_rankers/summary.md
    # NB101, CIFAR-10 validation accuracy after 108 epochs: 0.873 on the other half, 0.869 +- 0.002 over 5 splits
    # (published single proxies 0.2-0.45)
    "zcnas_nb101_graph": ("graph:-minlen[c3+c1]", "graph:count_c3", "graph:-out_indeg[mp]", "graph:maxon[c3]",
                          "graph:-maxon[mp]", "graph:-minlen[c3+c1+mp]", "graph:-maxlen[c1+mp]", "graph:outdeg_0",
                          "graph:-minlen[c1]"),
    # NB101 for pools of mixed cell sizes: chosen (experiments/nb101_suitezero.py --choose, seed 0) to hold on
    # both the 30,001 table (85 % full 7-vertex cells) and NAS-Bench-Suite-Zero's 500 cells (NASLib's sampler:
    # mostly 2-5 vertices, 55 copies of the empty cell), where zcnas_nb101_graph ranks small cells badly.
    # Held-out Spearman over 5 splits: 0.809 on the table (zcnas_nb101_graph 0.872), 0.780 on Suite-Zero's
    # cells (zcnas_nb101_graph 0.720); experiments/results/nb101/suitezero/summary.md
    "zcnas_nb101_robust_graph": ("graph:-maxon[c1+mp]", "graph:-out_indeg[mp]", "graph:paths[c3+c1]",
                                 "graph:eff_count_c3", "graph:in_outdeg[c3+c1+mp]", "graph:paths[c3]"),
    # NB201, CIFAR-10 test accuracy after 200 epochs: 0.915 +- 0.032 over 5 splits (structure alone)
    "zcnas_nb201_graph": ("graph:eff_count_c3", "graph:paths[skip+c1+c3]", "graph:maxon[c1+c3]",
                          "graph:-paths[skip+pool]", "graph:paths[skip+c3]"),
    # DARTS, NB301's surrogate-predicted CIFAR-10 accuracy of the 725 Suite-Zero genotypes: 0.823 on the other half,
    # 0.795 +- 0.026 over 5 splits
    "zcnas_darts_graph": ("graph:-normal:maxon[max+avg]", "graph:normal:in_outdeg[skip+s3]",
                          "graph:normal:paths[s3+s5]", "graph:normal:indeg_2[skip]",
                          "graph:-normal:paths[max+avg+skip+s3+s5+d3+d5]", "graph:normal:indeg_2[skip+s5]",
                          "graph:-normal:maxon[max]", "graph:-normal:eff_count_avg"),
}


PROXY_SETS.update({ranker_set_name(key): proxies for key, proxies in task_rankers().items()})


def resolve_proxies(names: Iterable[str] | str) -> list[str]:
    """Canonical names for a comma-separated string or a list; duplicates removed. ``@name``
    stands for the proxies of the named set :data:`PROXY_SETS` (e.g. ``@zcnas_nb201``)."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out: list[str] = []
    expanded: list[str] = []
    for n in names:
        if n.startswith("@"):
            if n[1:] not in PROXY_SETS:
                raise UnknownNameError("proxy set", n[1:], list(PROXY_SETS))
            expanded.extend(PROXY_SETS[n[1:]])
        else:
            expanded.append(n)
    for n in expanded:
        c = PROXIES.resolve(n)
        if c not in out:
            out.append(c)
    if not out:
        raise InputError(f"No proxies given. Known proxies: {', '.join(list_proxies())}.")
    return out


# ---- results -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProxyResult:
    """Value, wall time and status of one proxy on one model. ``value`` is NaN when failed."""

    proxy: str
    value: float
    seconds: float
    status: str = "ok"  # "ok" or "failed"
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# ---- batches -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProxyBatch:
    """What a proxy sees of the data: inputs (N,C,H,W), integer targets and the class count."""

    inputs: torch.Tensor
    targets: torch.Tensor | None = None
    num_classes: int | None = None

    @classmethod
    def from_any(cls, batch: Any) -> ProxyBatch:
        if batch is None or isinstance(batch, ProxyBatch):
            return batch
        if isinstance(batch, torch.Tensor):
            return cls(batch)
        if isinstance(batch, tuple | list) and len(batch) == 2:
            return cls(batch[0], batch[1])
        if hasattr(batch, "inputs"):
            return cls(batch.inputs, getattr(batch, "targets", None), getattr(batch, "num_classes", None))
        raise InputError(f"A proxy batch must be a tensor, an (inputs, targets) pair or an object with "
                         f".inputs/.targets; got {type(batch).__name__}.")

    def to(self, device: torch.device) -> ProxyBatch:
        if self.inputs.device == device:
            return self
        t = None if self.targets is None else self.targets.to(device)
        return ProxyBatch(self.inputs.to(device), t, self.num_classes)


# ---- context -------------------------------------------------------------------------------------
def is_weighted_layer(m: nn.Module) -> bool:
    """Layers whose weights per-parameter proxies sum over (convolutions and linear layers)."""
    return isinstance(m, nn.Conv2d | nn.Linear | nn.Conv1d | nn.Conv3d) and m.weight is not None


class ProxyContext:
    """Lazily computed, cached quantities that several proxies share, on private model copies.

    With ``share=False`` nothing is cached (each proxy recomputes its passes on a fresh copy):
    the baseline that the shared path must reproduce.
    """

    def __init__(self, model: nn.Module, batch: ProxyBatch | None, *, seed: int = 0,
                 loss_fn: Callable | None = None, share: bool = True,
                 input_shape: tuple[int, ...] | None = None, memory_format: str | None = None):
        self.model = model
        self.memory_format = _memory_format(memory_format)
        self.batch = batch
        self.seed = seed
        self.loss_fn = loss_fn or nn.functional.cross_entropy
        self.share = share
        try:
            self.device = next(model.parameters()).device
        except StopIteration:
            self.device = torch.device("cpu")
        if batch is not None:
            self.batch = batch.to(self.device)
            if self.memory_format is not None and self.batch.inputs.dim() == 4:
                self.batch = ProxyBatch(self.batch.inputs.contiguous(memory_format=self.memory_format),
                                        self.batch.targets, self.batch.num_classes)
            self.input_shape = tuple(batch.inputs.shape[1:])
        else:
            self.input_shape = tuple(input_shape) if input_shape else (3, 32, 32)
        self._cache: dict[str, Any] = {}

    # -- helpers --
    def require_data(self, proxy_name: str, labels: bool = False) -> ProxyBatch:
        if self.batch is None:
            raise InputError(f"Proxy {proxy_name!r} needs a data batch; pass one (e.g. --dataset).")
        if labels and self.batch.targets is None:
            raise InputError(f"Proxy {proxy_name!r} needs labels; the batch has none.")
        return self.batch

    def fresh_copy(self, train: bool = True) -> nn.Module:
        """A private deep copy of the caller's model with no gradients, in train or eval mode."""
        m = copy.deepcopy(self.model)
        if self.memory_format is not None:
            m.to(memory_format=self.memory_format)
        m.zero_grad(set_to_none=True)
        m.train(train)
        return m

    def private_tensors(self, dtype: torch.dtype | None = None, grad: bool = True,
                        transform: Callable[[torch.Tensor], torch.Tensor] | None = None
                        ) -> tuple[dict[str, torch.Tensor], dict[int, torch.Tensor]]:
        """Copies of the caller's parameters and buffers, for :meth:`call` (what :meth:`fresh_copy`
        gives without copying the modules, which costs more than the tensors on small networks):
        in the context's memory format, floating tensors cast to ``dtype`` and passed through
        ``transform``; parameters that require grad in the model do so here when ``grad``.
        Returns ``({name: tensor}, {id(model tensor): tensor})``."""
        named: dict[str, torch.Tensor] = {}
        by_id: dict[int, torch.Tensor] = {}
        for kind, items in (("p", self.model.named_parameters()), ("b", self.model.named_buffers())):
            for name, t in items:
                c = t.detach()
                fmt = self.memory_format if (self.memory_format is not None and c.dim() == 4) else None
                cast = dtype if (dtype is not None and c.is_floating_point()) else c.dtype
                c = c.to(dtype=cast, memory_format=fmt, copy=True) if fmt is not None else c.to(dtype=cast, copy=True)
                if transform is not None and c.is_floating_point():
                    c = transform(c)
                if kind == "p" and grad and t.requires_grad:
                    c.requires_grad_(True)
                named[name] = by_id[id(t)] = c
        return named, by_id

    @contextlib.contextmanager
    def modes(self, train: bool, bypass: tuple[type, ...] = ()):
        """The caller's model in train or eval mode, modules of the ``bypass`` types passing their
        input through; every module's mode and ``forward`` are restored on exit. With
        :meth:`private_tensors` and :meth:`call`, the model's own tensors are never touched."""
        saved = [(mod, mod.training) for mod in self.model.modules()]
        bypassed = []
        try:
            self.model.train(train)
            for mod in self.model.modules():
                if bypass and isinstance(mod, bypass):
                    bypassed.append((mod, mod.__dict__.get("forward", _MISSING)))
                    mod.forward = _identity_forward
            yield self.model
        finally:
            for mod, before in bypassed:
                if before is _MISSING:
                    mod.__dict__.pop("forward", None)
                else:
                    mod.forward = before
            for mod, was in saved:
                mod.training = was

    def call(self, tensors: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """The caller's network on ``x`` with ``tensors`` (from :meth:`private_tensors`) in place of
        its parameters and buffers (``torch.func.functional_call``; batch norm updates the copies)."""
        return torch.func.functional_call(self.model, tensors, (x,))

    def generator(self, offset: int = 0) -> torch.Generator:
        g = torch.Generator(device=self.device)
        g.manual_seed(self.seed + offset)
        return g

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if not self.share:
            return compute()
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # -- shared passes --
    #: names of the shared passes below; proxies declare the ones they use (``uses=``)
    PASSES = ("loss_gradients", "jacobian", "relu_codes")

    def plan(self, passes: Iterable[str]) -> None:
        """Announce the shared passes the coming proxies use, so one forward can serve several."""
        self._planned = set(passes)

    def loss_gradients(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight, grad) of every conv/linear layer after one loss backward on the batch, model in
        train mode (the foresight setting for grad_norm, snip and fisher)."""
        return self._served("loss_gradients")

    def input_jacobian(self) -> torch.Tensor:
        """The Jacobian of the summed output w.r.t. the input (N, C*H*W), from one train-mode
        forward with the input requiring grad."""
        return self._served("jacobian")

    def relu_code_kernel(self) -> torch.Tensor:
        """The NASWOT binary-code kernel K (N, N) of the ReLU inputs, from one train-mode forward."""
        return self._served("relu_codes")

    def input_jacobian_and_relu_codes(self) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`input_jacobian` and :meth:`relu_code_kernel` (from one pass when both are planned)."""
        return self.input_jacobian(), self.relu_code_kernel()

    def _served(self, what: str):
        """What one of the passes gives, from the cache or from a forward that also computes what
        the planned proxies will ask for next (each is what a separate pass would give)."""
        if self.share and what in self._cache:
            return self._cache[what]
        planned = getattr(self, "_planned", set()) if self.share else set()
        labels = self.batch is not None and self.batch.targets is not None
        want = {what} | ({p for p in planned if p in self.PASSES} if self.share else set())
        if not labels and what != "loss_gradients":
            want.discard("loss_gradients")
        out = self._forward_pass(loss="loss_gradients" in want, jacobian="jacobian" in want,
                                 codes="relu_codes" in want, name=what)
        return out[what]

    def _forward_pass(self, *, loss: bool, jacobian: bool, codes: bool = False, name: str = "jacobian") -> dict:
        """One train-mode forward serving the loss gradients, the input Jacobian and the ReLU-code
        kernel together (each is what a separate pass would give), through :meth:`call` on
        private copies of the model's tensors.

        If the device runs out of memory (``torch.OutOfMemoryError``), the batch is split in
        halves, then quarters, ... (batch-norm statistics are then per chunk, as in foresight's
        ``split_data``); the loss gradient is the size-weighted sum over chunks."""
        batch = self.require_data(name, labels=loss)
        n = batch.inputs.shape[0]
        chunks = 1
        while True:
            try:
                grads, jac, kernel = self._chunked_pass(batch, loss, jacobian, codes, chunks)
                break
            except torch.OutOfMemoryError:
                if chunks >= n:
                    raise
                chunks = min(n, chunks * 2)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
        out = {}
        if loss:
            out["loss_gradients"] = grads
        if jacobian:
            out["jacobian"] = jac
        if codes:
            out["relu_codes"] = kernel
        if self.share:
            self._cache.update(out)
        return out

    def _chunked_pass(self, batch: ProxyBatch, loss: bool, jacobian: bool, codes_wanted: bool, chunks: int):
        tensors, by_id = self.private_tensors(grad=loss)
        weighted = [mod for mod in self.model.modules() if is_weighted_layer(mod)]
        leaves = [by_id[id(mod.weight)] for mod in weighted if by_id[id(mod.weight)].requires_grad]
        n = batch.inputs.shape[0]
        bounds = [(i * n // chunks, (i + 1) * n // chunks) for i in range(chunks)]
        codes: dict[int, list[torch.Tensor]] = {}
        kernel = torch.zeros(n, n, dtype=torch.float64, device=self.device) if codes_wanted else None

        def hook(mod, inp, _out):
            t = inp[0].detach()
            if t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last):
                t = t.permute(0, 2, 3, 1)  # a free view; the kernel ignores the order of features
            c = t.reshape(t.shape[0], -1) > 0
            if chunks == 1:
                _add_code_kernel(kernel, c)
            else:  # codes of every chunk are needed for the cross-chunk kernel entries
                codes.setdefault(id(mod), []).append(c.cpu())

        jacs = []
        with self.modes(train=True):
            relus = [mod for mod in self.model.modules() if isinstance(mod, nn.ReLU)]
            handles = [mod.register_forward_hook(hook) for mod in relus] if codes_wanted else []
            try:
                for lo, hi in bounds:
                    x = batch.inputs[lo:hi].detach().clone().requires_grad_(jacobian)
                    with torch.set_grad_enabled(loss or jacobian):
                        y = self.call(tensors, x)
                    if jacobian:
                        (jac,) = torch.autograd.grad(y, x, torch.ones_like(y), allow_unused=True,
                                                     retain_graph=loss)
                        # every path from the input cut: the output is constant
                        jacs.append((torch.zeros_like(x) if jac is None else jac).reshape(hi - lo, -1).detach())
                    if loss and leaves:
                        part = self.loss_fn(y, batch.targets[lo:hi])
                        (part * ((hi - lo) / n) if chunks > 1 else part).backward(inputs=leaves)
                    del y
            finally:
                for h in handles:
                    h.remove()
        grads = None
        if codes_wanted:
            for per_chunk in codes.values():
                _add_code_kernel(kernel, torch.cat(per_chunk).to(self.device))
        if loss:
            grads = []
            for mod in weighted:
                w = by_id[id(mod.weight)]
                grads.append((w.detach(), w.grad.detach() if w.grad is not None else torch.zeros_like(w)))
        return grads, (torch.cat(jacs) if jacobian else None), kernel


_MISSING = object()


def _identity_forward(x, *args, **kwargs):
    return x


def _add_code_kernel(kernel: torch.Tensor, codes: torch.Tensor) -> None:
    """Add the NASWOT Hamming-agreement kernel of binary ``codes`` (N, D) to ``kernel`` (float64):
    K_ij = c_i.c_j + (1-c_i).(1-c_j) = 2 c_i.c_j - |c_i| - |c_j| + D.

    One float32 matrix product instead of two in float64, and still exact: every partial sum is an
    integer below 2**24 (checked), which float32 holds exactly in any summation order."""
    n, d = codes.shape
    if d >= 2**24:
        c = codes.to(torch.float64)
        kernel.add_(c @ c.t()).add_((1.0 - c) @ (1.0 - c).t())
        return
    c = codes.to(torch.float32)
    ones = c.sum(1, dtype=torch.float64)
    kernel.add_((c @ c.t()).to(torch.float64), alpha=2.0).sub_(ones[:, None]).sub_(ones[None, :]).add_(float(d))


def _memory_format(name: str | torch.memory_format | None) -> torch.memory_format | None:
    """``None``/"keep" leaves tensors as given; "channels_last" (NHWC; often about twice as fast
    for convolutions on CPU with oneDNN) or "contiguous" (NCHW) converts the private copies."""
    if name is None or name == "keep":
        return None
    if isinstance(name, torch.memory_format):
        return name
    formats = {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}
    if name not in formats:
        raise InputError(f"Unknown memory format {name!r}; use one of {sorted(formats)} or 'keep'.")
    return formats[name]


def check_finite(value: Any) -> float:
    v = float(value.item() if isinstance(value, torch.Tensor) else value)
    if not math.isfinite(v):
        raise FloatingPointError(f"non-finite value {v}")
    return v


def run_proxy(spec: ProxySpec, ctx: ProxyContext, *, raise_errors: bool = False) -> ProxyResult:
    """Run one proxy; NaN, inf and exceptions become a failed result (or ProxyError if asked)."""
    t0 = time.perf_counter()
    try:
        if spec.needs_data:
            ctx.require_data(spec.name, labels=spec.needs_labels)
        value = check_finite(spec(ctx))
    except InputError:
        raise
    except Exception as exc:  # a proxy failure is data, not a crash
        seconds = time.perf_counter() - t0
        reason = f"{type(exc).__name__}: {exc}".strip()
        if raise_errors:
            raise ProxyError(f"Proxy {spec.name!r} failed: {reason}") from exc
        return ProxyResult(spec.name, float("nan"), seconds, "failed", reason[:500])
    return ProxyResult(spec.name, value, time.perf_counter() - t0)


def run_arch_proxy(spec: ProxySpec, space: Any, arch: Any, *, raise_errors: bool = False) -> ProxyResult:
    """Run a structural proxy on an architecture of ``space`` (failures as in :func:`run_proxy`)."""
    t0 = time.perf_counter()
    try:
        value = check_finite(spec.arch_fn(space, arch, **spec.arch_options))
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a proxy failure is data
        reason = f"{type(exc).__name__}: {exc}".strip()
        if raise_errors:
            raise ProxyError(f"Proxy {spec.name!r} failed: {reason}") from exc
        return ProxyResult(spec.name, float("nan"), time.perf_counter() - t0, "failed", reason[:500])
    return ProxyResult(spec.name, value, time.perf_counter() - t0)


def score_model(model: nn.Module, batch: Any = None, proxies: Iterable[str] | str = ("synflow",),
                *, seed: int = 0, loss_fn: Callable | None = None, raise_errors: bool = False,
                share: bool = True, input_shape: tuple[int, ...] | None = None,
                memory_format: str | None = None) -> dict[str, ProxyResult]:
    """Score any ``nn.Module`` on one batch with several proxies.

    ``batch`` is a tensor, an ``(inputs, targets)`` pair or an object with ``inputs``/``targets``
    (e.g. :class:`zcnas.data.Batch`). Proxies that need no data accept ``batch=None`` (give
    ``input_shape`` then). Passes shared by several proxies run once when ``share`` is true.
    ``memory_format="channels_last"`` runs the private copies in NHWC layout (faster convolutions
    on CPU; values then differ from NCHW by float32 rounding, typically 1e-4 relative and up to
    2e-2 on sensitive networks, because the NHWC batch norm accumulates its statistics less
    exactly; rank correlation with NCHW >= 0.9998 on 200 random NB201 networks). Returns
    ``{canonical proxy name: ProxyResult}`` in the order asked.
    """
    names = resolve_proxies(proxies)
    ctx = ProxyContext(model, ProxyBatch.from_any(batch), seed=seed, loss_fn=loss_fn, share=share,
                       input_shape=input_shape, memory_format=memory_format)
    ctx.plan(u for n in names for u in get_proxy(n).uses)
    return {n: run_proxy(get_proxy(n), ctx, raise_errors=raise_errors) for n in names}
