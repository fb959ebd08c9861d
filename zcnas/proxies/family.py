"""The wider zero-cost proxy family: gradient saliencies, Jacobian/activation statistics,
Gaussian-input scores and the TE-NAS and AZ-NAS components.

Every proxy works on a private copy (:meth:`ProxyContext.fresh_copy`), draws randomness only from
``ctx.generator(offset)``, removes its hooks before returning, and follows its paper's public
reference code (read for the definitions; the code here is our own). Where a definition needs a
part of the network that a generic ``nn.Module`` does not name, a helper below finds it:

``_pre_gap``      the input of the last global average pool (the "pre-GAP" feature map of Zen-NAS);
Parts a space's network declares through :mod:`zcnas.protocols`: ``block_trunk()`` (the chain of
blocks whose input and block outputs are AZ-NAS's "layer features") and ``thin_copy()`` (TE-NAS's
1-channel, 1-cell network). A network without the protocol gets a recorded failure naming it.

Shared passes kept on the context (``ctx.cached``; not part of :class:`ProxyContext.PASSES`):
``family:meco`` (serves ``meco`` and ``meco_opt``), ``family:az`` (the three AZ-NAS components).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from zcnas.protocols import BlockTrunk, FeatureTap, ThinCopy, require
from zcnas.proxies.base import ProxyBatch, ProxyContext, is_weighted_layer, proxy

# ---- helpers -------------------------------------------------------------------------------------


@contextmanager
def _hooks(handles: list) -> Iterator[list]:
    """Remove every hook handle in ``handles`` on exit, even after an error."""
    try:
        yield handles
    finally:
        for h in handles:
            h.remove()


def _halves(batch: ProxyBatch) -> list[ProxyBatch]:
    """The batch split into two halves (for proxies defined over two batches)."""
    n = batch.inputs.shape[0]
    if n < 2:
        raise ValueError(f"needs a batch of at least 2 images to split into two batches; got {n}")
    k = n // 2
    t = batch.targets
    return [ProxyBatch(batch.inputs[:k], None if t is None else t[:k], batch.num_classes),
            ProxyBatch(batch.inputs[k:], None if t is None else t[k:], batch.num_classes)]


def _init_(model: nn.Module, scheme: str, gen: torch.Generator) -> None:
    """Re-initialise a private copy in place, drawing from ``gen`` only.

    ``kaiming_fanin``: conv/linear ~ N(0, 2 / fan_in), zero bias (TE-NAS, AZ-NAS);
    ``gaussian``: conv/linear ~ N(0, 1), zero bias (Zen-NAS). Batch-norm affine -> (1, 0)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                w = m.weight
                std = math.sqrt(2.0 / (w[0].numel())) if scheme == "kaiming_fanin" else 1.0
                w.copy_(torch.randn(w.shape, generator=gen, device=w.device, dtype=w.dtype) * std)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()


def _pre_gap(model: nn.Module) -> nn.Module:
    """The module whose input is the final feature map: the network's :class:`zcnas.protocols.FeatureTap`,
    else its last global average pool."""
    if isinstance(model, FeatureTap):
        return model.feature_tap()
    pools = [m for m in model.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        raise ValueError(f"{type(model).__name__} has no global average pool (nn.AdaptiveAvgPool2d) to take "
                         f"the pre-GAP features from and implements no zcnas.protocols.FeatureTap "
                         f"(feature_tap()) naming the module whose input is its final feature map")
    return pools[-1]


def _forward_pre_gap(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The input of the network's last global average pool for input ``x``."""
    feats: list[torch.Tensor] = []
    with _hooks([_pre_gap(model).register_forward_pre_hook(lambda _m, inp: feats.append(inp[0]))]):
        model(x)
    return feats[-1]


def _trunk(model: nn.Module, proxy_name: str) -> list[nn.Module]:
    """The network's declared chain of blocks (:class:`zcnas.protocols.BlockTrunk`)."""
    require(model, BlockTrunk, proxy_name)
    trunk = list(model.block_trunk())
    if len(trunk) < 2:
        raise ValueError(f"block_trunk() of {type(model).__name__} has {len(trunk)} block(s); needs >= 2")
    return trunk


# ---- gradient saliencies (foresight definitions) -------------------------------------------------


@proxy("grasp", needs_labels=True,
       reference="Wang et al., Picking Winning Tickets Before Training by Preserving Gradient Flow, "
                 "ICLR 2020; foresight (Abdelfattah et al., ICLR 2021) definition")
def grasp(ctx: ProxyContext, temperature: float = 1.0) -> float:
    """GraSP: sum over conv/linear weights of -w * (H g), with g the loss gradient and H the Hessian.

    As foresight: train mode, g from one backward, then the Hessian-gradient product as the gradient
    of g_detached . grad(L) (double backward); the score is sum(-w * Hg) (higher is better)."""
    batch = ctx.require_data("grasp", labels=True)
    m = ctx.fresh_copy(train=True)
    weights = [mod.weight for mod in m.modules() if is_weighted_layer(mod)]
    x, y = batch.inputs, batch.targets
    g1 = torch.autograd.grad(ctx.loss_fn(m(x) / temperature, y), weights, allow_unused=True)
    g1 = [torch.zeros_like(w) if g is None else g.detach() for w, g in zip(weights, g1, strict=True)]
    g2 = torch.autograd.grad(ctx.loss_fn(m(x) / temperature, y), weights, create_graph=True,
                             allow_unused=True)
    z = sum((a * b).sum() for a, b in zip(g1, g2, strict=True) if b is not None)
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        raise FloatingPointError("the loss does not depend on any conv/linear weight")
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return float(sum((-w.detach() * h).sum() for w, h in zip(weights, hg, strict=True) if h is not None))


@proxy("fisher", needs_labels=True,
       reference="Turner et al., BlockSwap: Fisher-guided Block Substitution for Network Compression on "
                 "a Budget, ICLR 2020; Theis et al., Faster gaze prediction with dense networks and "
                 "Fisher pruning, 2018; foresight definition")
def fisher(ctx: ProxyContext) -> float:
    """Fisher: sum over conv/linear output channels of 0.5 * mean_n (sum_hw a * dL/da)^2.

    a is the layer's output activation and dL/da its cross-entropy gradient, network in train mode
    (foresight's ``fisher``: the same product taken on an identity placed after each layer)."""
    batch = ctx.require_data("fisher", labels=True)
    m = ctx.fresh_copy(train=True)
    total: list[torch.Tensor] = []

    def fwd(_mod, _inp, out):
        act = out.detach()

        def bwd(grad):
            g = act * grad
            g_nk = g.sum(dim=tuple(range(2, g.dim()))) if g.dim() > 2 else g
            total.append(g_nk.pow(2).mean(0).mul(0.5).sum().to(torch.float64))

        if out.requires_grad:
            out.register_hook(bwd)

    with _hooks([mod.register_forward_hook(fwd) for mod in m.modules() if is_weighted_layer(mod)]):
        ctx.loss_fn(m(batch.inputs), batch.targets).backward()
    return float(sum(total)) if total else 0.0


@proxy("plain", needs_labels=True, uses=("loss_gradients",),
       reference="Mozer & Smolensky 1989 via foresight (Abdelfattah et al., Zero-Cost Proxies for "
                 "Lightweight NAS, ICLR 2021)")
def plain(ctx: ProxyContext) -> float:
    """Plain saliency: sum over conv/linear weights of w * dL/dw (signed; foresight ``plain``)."""
    return float(sum((w * g).sum() for w, g in ctx.loss_gradients()))


@proxy("l2_norm", needs_data=False,
       reference="foresight / NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 D&B) 'l2_norm'")
def l2_norm(ctx: ProxyContext) -> float:
    """Sum over conv/linear layers of the L2 (Frobenius) norm of the layer's weight at init."""
    with torch.no_grad():
        return float(sum(m.weight.detach().norm().to(torch.float64)
                         for m in ctx.model.modules() if is_weighted_layer(m)))


@proxy("zico", needs_labels=True, n_batches=2,
       reference="Li et al., ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on Gradients, "
                 "ICLR 2023")
def zico(ctx: ProxyContext) -> float:
    """ZiCo: sum over conv/linear layers of log(sum_w mean_b|g_w| / std_b(g_w)), over the weights w
    whose gradient varies between batches (std > 0).

    Two batches are the two halves of the given batch (first half, second half); each gets its own
    train-mode forward and cross-entropy backward, as in the authors' code (``log`` of the layer's
    sum, population std across the batches). Layers whose sum is 0 are skipped."""
    batch = ctx.require_data("zico", labels=True)
    m = ctx.fresh_copy(train=True)
    layers = [mod for mod in m.modules() if is_weighted_layer(mod)]
    grads: list[list[torch.Tensor]] = [[] for _ in layers]
    for half in _halves(batch):
        m.zero_grad(set_to_none=True)
        ctx.loss_fn(m(half.inputs), half.targets).backward()
        for i, mod in enumerate(layers):
            g = mod.weight.grad
            grads[i].append(torch.zeros(mod.weight.numel(), dtype=torch.float64, device=ctx.device)
                            if g is None else g.detach().reshape(-1).to(torch.float64))
    total = 0.0
    for gl in grads:
        g = torch.stack(gl)
        std = g.std(0, unbiased=False)
        nz = std != 0
        ratio = float((g.abs().mean(0)[nz] / std[nz]).sum())
        if ratio > 0:
            total += math.log(ratio)
    return total


# ---- Jacobian / activation statistics -----------------------------------------------------------


@proxy("epe_nas", needs_labels=True, uses=("jacobian",), aliases=("epe",),
       reference="Lopes et al., EPE-NAS: Efficient Performance Estimation Without Training for Neural "
                 "Architecture Search, ICANN 2021 (NASLib implementation)")
def epe_nas(ctx: ProxyContext, k: float = 1e-5) -> float:
    """EPE-NAS: class-wise correlation of input Jacobians.

    For each class c in the batch, s_c = sum log(|corr(J_c)| + k) over the correlation matrix of
    that class's per-image Jacobians of the summed output (a single image gives corr = 1; with more
    than 100 classes s_c is divided by the class size); the score is
    sum_{c, c'} |s_c - s_c'| / (number of classes present) (higher is better)."""
    jac = ctx.input_jacobian()
    targets = ctx.batch.targets.detach().cpu().numpy()
    jac = jac.detach().to(torch.float64).cpu().numpy()
    n_classes = ctx.batch.num_classes or int(targets.max()) + 1
    scores = []
    for c in np.unique(targets):
        rows = jac[targets == c]
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.atleast_2d(np.corrcoef(rows)) if len(rows) > 1 else np.ones((1, 1))
        s = float(np.sum(np.log(np.abs(corr) + k)))
        if n_classes > 100:
            s /= len(corr)
        scores.append(s)
    s = np.asarray(scores)
    if not np.all(np.isfinite(s)):
        raise FloatingPointError("a class's Jacobian correlation is undefined (a constant Jacobian row)")
    return float(np.abs(s[:, None] - s[None, :]).sum() / len(s))


def _meco_pass(ctx: ProxyContext, resolution: int = 64) -> tuple[float, float]:
    tensors, _ = ctx.private_tensors(grad=False)  # the caller's modules on copies of its tensors
    x = torch.randn((1, ctx.input_shape[0], resolution, resolution), generator=ctx.generator(505),
                    device=ctx.device)
    mins: list[float] = []
    opts: list[float] = []
    # a container (Sequential, a cell, a stage) returns its last child's output tensor itself, and
    # its hook fires right after that child's: the same tensor, unchanged since (same version
    # counter, so no in-place op such as ReLU(inplace=True) touched it), gives the same
    # eigenvalues, so they are counted again without recomputing (a quarter of the hooks on
    # TNB101's and NB201's networks)
    last: list = [None, -1, 0.0, 0.0]  # tensor, its version, min eigenvalue, meco_opt term

    def hook(_mod, _inp, out):
        if not isinstance(out, torch.Tensor) or out.dim() < 2:
            return
        if out is last[0] and out._version == last[1]:
            mins.append(last[2])
            opts.append(last[3])
            return
        fea = out[0].detach().reshape(out.shape[1], -1).to(torch.float64)
        if fea.shape[1] < 2:  # one value per channel: corrcoef is all-NaN -> zero matrix -> 0
            lo = opt = 0.0
        else:
            corr = torch.corrcoef(fea)
            corr = torch.where(torch.isfinite(corr), corr, torch.zeros_like(corr))
            eig = torch.linalg.eigvalsh(corr)
            lo, opt = float(eig.min()), float((eig * (eig > 0).sum()).min())
        mins.append(lo)
        opts.append(opt)
        last[:] = [out, out._version, lo, opt]

    with ctx.modes(train=True) as m, _hooks([mod.register_forward_hook(hook) for mod in m.modules()]), \
            torch.no_grad():
        ctx.call(tensors, x)
    last[0] = None
    return float(sum(mins)), float(sum(opts))


@proxy("meco", uses=(), variant="meco", needs_data=False,
       reference="Jiang et al., MeCo: Zero-Shot NAS with One Data and Single Forward Pass via Minimum "
                 "Eigenvalue of Correlation, NeurIPS 2023")
@proxy("meco_opt", variant="meco_opt", needs_data=False,
       reference="Jiang et al., NeurIPS 2023, MeCo_opt (min eigenvalue scaled by the number of "
                 "positive eigenvalues, as in the authors' code)")
def meco(ctx: ProxyContext, variant: str = "meco") -> float:
    """MeCo: sum over every module of the minimum eigenvalue of the channel correlation matrix
    of its output (C x HW features; NaN/inf correlations set to 0).

    As the authors' code: one train-mode forward of ONE Gaussian image of 64 x 64 pixels (batch
    of 1, so batch norm normalises over that image's pixels; the paper's "one data"), the
    network's own initialisation. ``meco_opt`` multiplies each layer's eigenvalues by its number
    of positive eigenvalues before taking the minimum. Float64 eigh. Needs no data: fed the
    CIFAR batch instead, the Spearman with NB201 accuracy falls from 0.88 to 0.32 (150 nets)."""
    mins, opts = ctx.cached("family:meco", lambda: _meco_pass(ctx))
    return mins if variant == "meco" else opts


def _relu_codes(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Binary activation codes (output > 0) of every ReLU with a 4-D input, (N, units) each."""
    codes: list[torch.Tensor] = []

    def hook(_mod, inp, out):
        if isinstance(inp, tuple) and inp[0].dim() == 4:
            codes.append((out.detach() > 0).reshape(out.shape[0], -1))

    with _hooks([mod.register_forward_hook(hook) for mod in model.modules() if isinstance(mod, nn.ReLU)]), \
            torch.no_grad():
        model(x)
    return codes


def _pack_columns(bits: torch.Tensor) -> torch.Tensor:
    """(N, P) booleans -> (P, ceil(N/63)) int64 words, one row per unit (its pattern over samples)."""
    n = bits.shape[0]
    words = []
    for s in range(0, n, 63):
        chunk = bits[s:s + 63].to(torch.int64)
        w = torch.ones(chunk.shape[0], dtype=torch.int64, device=bits.device) << torch.arange(
            chunk.shape[0], device=bits.device)
        words.append((chunk * w[:, None]).sum(0))
    return torch.stack(words, 1)


@proxy("swap", reg=False,
       reference="Peng et al., SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS, ICLR 2024")
@proxy("reg_swap", reg=True, mu=1.5, sigma=1.5,
       reference="Peng et al., ICLR 2024: SWAP times exp(-(params_M - mu)^2 / sigma) (regularised SWAP)")
def swap(ctx: ProxyContext, reg: bool = False, mu: float = 1.5, sigma: float = 1.5) -> float:
    """SWAP: the number of distinct sample-wise activation patterns, i.e. of distinct rows of the
    (units x samples) binary matrix of ReLU outputs (> 0) over the batch, ReLUs with 4-D input.

    One train-mode forward of the batch. ``reg_swap`` multiplies by exp(-(P - mu)^2 / sigma) with P
    the parameter count in millions (mu = sigma = 1.5 M: a public implementation's default; the
    paper tunes them per space, not reproduced here)."""
    batch = ctx.require_data("swap")
    m = ctx.fresh_copy(train=True)
    codes = _relu_codes(m, batch.inputs)
    if not codes:
        raise ValueError("no ReLU with a 4-D input: no activation pattern to count")
    packed = torch.cat([_pack_columns(c) for c in codes], 0)
    value = float(torch.unique(packed, dim=0).shape[0])
    if reg:
        p = sum(q.numel() for q in ctx.model.parameters()) / 1e6
        value *= math.exp(-((p - mu) ** 2) / sigma)
    return value


# ---- Gaussian-input proxies ----------------------------------------------------------------------


_ZEN_REF = "Lin et al., Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition, ICCV 2021"


@proxy("zen", needs_data=False, aliases=("zen_score",), reference=_ZEN_REF)
@proxy("zen_b4", needs_data=False, batch_size=4,
       reference=_ZEN_REF + " - on 4 Gaussian images instead of 64 (same ranking, 4-18x cheaper: "
                            "experiments/results/gaussian_batch_size)")
def zen(ctx: ProxyContext, batch_size: int = 64, mixup_gamma: float = 1e-2) -> float:
    """Zen-score: log E_x ||f(x) - f(x + gamma * eps)||_1 + sum over BN layers of
    log sqrt(mean running_var), with f the pre-GAP feature map.

    Private copy with N(0, 1) conv/linear weights, train mode, x and eps ~ N(0, 1) of
    ``batch_size`` images of the input shape (repeat = 1, gamma = 1e-2), all from the seeded
    generator; the BN variances are read after the two forwards, as the authors' code does.
    ``zen_b4`` is the same on 4 images: its Spearman with the 64-image zen is 1.000 on NB201 (200
    networks) and TNB101 (experiments/results/gaussian_batch_size), at 1/4 to 1/18 of the cost."""
    m = ctx.fresh_copy(train=True)
    gen = ctx.generator(101)
    _init_(m, "gaussian", gen)
    shape = (batch_size, *ctx.input_shape)
    x = torch.randn(shape, generator=gen, device=ctx.device)
    eps = torch.randn(shape, generator=gen, device=ctx.device)
    with torch.no_grad():
        f1 = _forward_pre_gap(m, x).clone()
        f2 = _forward_pre_gap(m, x + mixup_gamma * eps)
        diff = (f1 - f2).abs().sum(dim=tuple(range(1, f1.dim()))).mean()
        log_bn = sum(torch.log(torch.sqrt(b.running_var.mean())) for b in m.modules()
                     if isinstance(b, nn.BatchNorm2d) and b.running_var is not None)
    return float(torch.log(diff) + log_bn)


@proxy("te_lr", needs_data=False, aliases=("linear_regions",),
       reference="Chen et al., TE-NAS, ICLR 2021 - number of linear regions of the thin network")
def te_lr(ctx: ProxyContext, n_samples: int = 1000, n_batches: int = 3, resolution: int = 3) -> float:
    """TE-NAS linear regions: the number of distinct ReLU activation patterns over ``n_batches`` x
    ``n_samples`` Gaussian inputs of ``resolution`` x ``resolution`` pixels, counted on the *thin*
    network of the architecture (TE-NAS: 1 channel, 1 cell per stage; 3 x 1000 inputs of 3 x 3).

    As TE-NAS: Kaiming-normal fan-in init, train mode, the activation pattern of a sample is the
    sign of every ReLU output with a 4-D input, and the score is the number of distinct patterns.
    The thin copy comes from the model's ``thin_copy()`` (:class:`zcnas.protocols.ThinCopy`): counted on the
    full-width network every sample falls in a region of its own and the count carries no signal.
    Differs from TE-NAS in the inputs: Gaussian noise here, CIFAR images resized to 3 x 3 there."""
    require(ctx.model, ThinCopy, "te_lr (linear regions of the thin network)")
    m = ctx.model.thin_copy().to(ctx.device).train()
    gen = ctx.generator(202)
    _init_(m, "kaiming_fanin", gen)
    rows = []
    for _ in range(n_batches):
        x = torch.randn((n_samples, ctx.input_shape[0], resolution, resolution), generator=gen,
                        device=ctx.device)
        codes = _relu_codes(m, x)
        if not codes:
            raise ValueError("no ReLU with a 4-D input: no activation pattern to count")
        rows.append(_pack_columns(torch.cat(codes, 1).t()))  # one row per sample
    return float(torch.unique(torch.cat(rows, 0), dim=0).shape[0])


@proxy("te_ntk", higher_is_better=False, aliases=("ntk_cond",),
       reference="Chen et al., TE-NAS, ICLR 2021 - condition number of the NTK (lower is better)")
def te_ntk(ctx: ProxyContext, n_samples: int = 64) -> float:
    """Condition number lambda_max / lambda_min of the empirical NTK Theta = J J^T, with J the
    per-image gradient of the image's summed logits w.r.t. every ``weight`` parameter (conv,
    batch-norm and linear weights), on the first ``n_samples`` images of the batch.

    As TE-NAS: Kaiming-normal fan-in init, train mode, one forward of the batch, one backward per
    image (batched here with ``is_grads_batched``); eigenvalues in float64. Lower is better."""
    batch = ctx.require_data("te_ntk")
    m = ctx.fresh_copy(train=True)
    _init_(m, "kaiming_fanin", ctx.generator(303))
    weights = [p for name, p in m.named_parameters() if "weight" in name]
    x = batch.inputs[:n_samples]
    n = x.shape[0]
    s = m(x).sum(1)
    eye = torch.eye(n, device=ctx.device, dtype=s.dtype)
    try:
        grads = torch.autograd.grad(s, weights, grad_outputs=eye, is_grads_batched=True,
                                    allow_unused=True, retain_graph=True)
        j = torch.cat([g.reshape(n, -1) for g in grads if g is not None], 1)
    except RuntimeError:  # an op without a batched backward rule: one backward per image
        rows = []
        for i in range(n):
            gi = torch.autograd.grad(s[i], weights, allow_unused=True, retain_graph=True)
            rows.append(torch.cat([g.reshape(-1) for g in gi if g is not None]))
        j = torch.stack(rows)
    j = j.detach().to(torch.float64)
    eig = torch.linalg.eigvalsh(j @ j.t())
    if not eig[0] > 0:
        raise FloatingPointError(f"NTK is singular (smallest eigenvalue {float(eig[0]):.3g})")
    return float(eig[-1] / eig[0])


# ---- AZ-NAS ---------------------------------------------------------------------------------------


def _az_pass(ctx: ProxyContext, batch_size: int = 64) -> dict[str, float]:
    m = ctx.fresh_copy(train=True)
    gen = ctx.generator(404)
    _init_(m, "kaiming_fanin", gen)
    x = torch.randn((batch_size, *ctx.input_shape), generator=gen, device=ctx.device)
    if ctx.memory_format is not None and x.dim() == 4:
        x = x.contiguous(memory_format=ctx.memory_format)
    trunk = _trunk(m, "AZ-NAS (layer features)")
    # calls[k]: the tensors of layer feature k (0: the trunk's input, k: block k's output), one per
    # call; a trunk run several times in one forward (TNB101 jigsaw: once per tile) gives each
    # feature all its calls, which count as one batch (their rows stacked)
    calls: list[list[torch.Tensor]] = [[] for _ in range(len(trunk) + 1)]
    handles = [trunk[0].register_forward_pre_hook(lambda _m, inp: calls[0].append(inp[0]))]
    handles += [blk.register_forward_hook(lambda _m, _i, out, k=k: calls[k].append(out))
                for k, blk in enumerate(trunk, start=1)]
    with _hooks(handles):
        m(x)
    if len({len(c) for c in calls}) != 1:
        raise ValueError(f"AZ-NAS: the trunk's blocks ran unequal numbers of times {[len(c) for c in calls]}")

    def rows(ts: list[torch.Tensor]) -> torch.Tensor:  # (calls x batch x H x W, C), float64
        return torch.cat([t.permute(0, 2, 3, 1).reshape(-1, t.shape[1]) for t in ts]).to(torch.float64)

    # expressivity: entropy of the normalised eigenvalues of each feature's channel covariance
    expr = []
    for fs in calls:
        z = rows([f.detach() for f in fs])
        z = z - z.mean(0, keepdim=True)
        s = torch.linalg.eigvalsh(z.t() @ z / z.shape[0]).clamp_min(0)
        p = s / s.sum()
        expr.append(float((-p * torch.log(p + 1e-8)).sum()))
    expr_a = np.asarray(expr)
    # trainability: spectral norm of each block's Jacobian, estimated with Rademacher vectors
    scores = []
    for i in range(len(calls) - 1, 0, -1):
        outs, ins = calls[i], calls[i - 1]
        g_outs = [(torch.bernoulli(torch.full(f.shape, 0.5, device=ctx.device), generator=gen) - 0.5) * 2
                  for f in outs]
        g_ins = list(torch.autograd.grad(outs, ins, g_outs, retain_graph=True, allow_unused=True))
        g_ins = [torch.zeros_like(f) if g is None else g for f, g in zip(ins, g_ins)]
        if all(gi.shape == go.shape and torch.equal(gi, go) for gi, go in zip(g_ins, g_outs)):
            scores.append(-math.inf)  # an identity block
            continue
        if g_ins[0].shape[2:] != g_outs[0].shape[2:]:
            g_ins = [nn.functional.pixel_unshuffle(g, g.shape[2] // go.shape[2]) for g, go in zip(g_ins, g_outs)]
        go, gi = rows(g_outs), rows(g_ins)
        smax = float(torch.linalg.svdvals(gi.t() @ go / go.shape[0]).max())
        scores.append(-smax - 1.0 / (smax + 1e-6) + 2.0)
    return {"expressivity": float(expr_a.sum()),
            "progressivity": float(np.min(expr_a[1:] - expr_a[:-1])),
            "trainability": float(np.mean(scores))}


_AZ_REF = ("Lee & Ham, AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture Search, CVPR 2024")


@proxy("az_expressivity", component="expressivity", needs_data=False, reference=_AZ_REF + " - expressivity")
@proxy("az_progressivity", component="progressivity", needs_data=False, reference=_AZ_REF + " - progressivity")
@proxy("az_trainability", component="trainability", needs_data=False, reference=_AZ_REF + " - trainability")
def az_component(ctx: ProxyContext, component: str = "expressivity") -> float:
    """AZ-NAS components on the layer features (trunk input and every block output):
    expressivity = sum of eigen-entropies of the channel covariances, progressivity = the smallest
    increase of that entropy from one feature to the next, trainability = mean over blocks of
    2 - s - 1/s with s the spectral norm of the block Jacobian (Rademacher estimate).

    As the authors' NB201 code: one train-mode forward of a batch of 64 Gaussian N(0, 1) inputs
    of the input shape (AZ-NAS feeds random inputs, not images) on a Kaiming-normal fan-in copy.
    Needs no data: fed real CIFAR images instead, progressivity loses its signal (Spearman with
    NB201 accuracy 0.11 instead of 0.63 on 150 nets).
    The AZ-NAS score is the ``az_nas`` aggregate (sum of log-ranks) of these three and ``flops``."""
    return ctx.cached("family:az", lambda: _az_pass(ctx))[component]
