"""The foundation proxies: synflow, jacob_cov, grad_norm, snip, naswot, params, flops.

Definitions follow the papers and the reference code of Abdelfattah et al. (foresight), which
Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021 evaluated on NB201.
"""

from __future__ import annotations

import torch
from torch import nn

from zcnas.proxies.base import ProxyContext, is_weighted_layer, proxy


@proxy("grad_norm", needs_labels=True, uses=("loss_gradients",),
       reference="Abdelfattah et al., Zero-Cost Proxies for Lightweight NAS, ICLR 2021")
def grad_norm(ctx: ProxyContext) -> float:
    """Sum over conv/linear layers of the L2 norm of the loss gradient w.r.t. the layer's weight.

    One cross-entropy backward on the batch with the network in train mode (foresight
    ``grad_norm``)."""
    return float(sum(g.norm() for _, g in ctx.loss_gradients()))


@proxy("snip", needs_labels=True, uses=("loss_gradients",),
       reference="Lee et al., SNIP: Single-shot Network Pruning based on Connection Sensitivity, ICLR 2019")
def snip(ctx: ProxyContext) -> float:
    """Sum of connection sensitivities |w * dL/dw| over conv/linear weights (SNIP saliency).

    Equivalent to the gradient w.r.t. a multiplicative weight mask at 1, as in foresight."""
    return float(sum((w * g).abs().sum() for w, g in ctx.loss_gradients()))


@proxy("synflow", needs_data=False, bn=False,
       reference="Tanaka et al., Pruning neural networks without any data by iteratively conserving "
                 "synaptic flow, NeurIPS 2020")
@proxy("synflow_bn", needs_data=False, bn=True,
       reference="Tanaka et al., NeurIPS 2020 (variant with batch-norm kept, as foresight's synflow_bn)")
def synflow(ctx: ProxyContext, bn: bool = False) -> float:
    """Synaptic flow: sum of |w * dR/dw| with R the summed output of the network whose parameters are
    replaced by their absolute values, for an all-ones input of one image.

    Computed in float64 on private copies of the parameters, with batch-norm layers bypassed (``synflow``) or kept
    in eval mode (``synflow_bn``); no data is needed, only the input shape."""
    tensors, by_id = ctx.private_tensors(dtype=torch.float64, transform=torch.abs)
    bypass = () if bn else (nn.modules.batchnorm._BatchNorm,)
    x = torch.ones((1, *ctx.input_shape), dtype=torch.float64, device=ctx.device)
    with ctx.modes(train=False, bypass=bypass) as m:
        ctx.call(tensors, x).sum().backward()
    total = torch.zeros((), dtype=torch.float64, device=ctx.device)
    for mod in m.modules():
        w = by_id.get(id(mod.weight)) if is_weighted_layer(mod) else None
        if w is not None and w.grad is not None:
            total += (w * w.grad).abs().sum()
    return float(total.detach())


@proxy("jacob_cov", aliases=("jacov", "jacobian_cov"), uses=("jacobian",),
       reference="Mellor et al., Neural Architecture Search without Training, arXiv:2006.04647v1 (2020)")
def jacob_cov(ctx: ProxyContext) -> float:
    """Correlation of input Jacobians across the batch: with Sigma the correlation matrix of the
    per-image Jacobians of the summed output and lambda its eigenvalues,
    ``-sum(log(lambda + k) + 1 / (lambda + k))`` with k = 1e-5 (higher is better)."""
    jac = ctx.input_jacobian()
    if not bool(jac.abs().sum()):
        raise FloatingPointError("the input Jacobian is zero: the output does not depend on the input")
    corr = torch.corrcoef(jac.to(torch.float64))
    eig = torch.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-torch.sum(torch.log(eig + k) + 1.0 / (eig + k)))


@proxy("naswot", aliases=("nwot", "hook_logdet"), uses=("relu_codes",),
       reference="Mellor et al., Neural Architecture Search without Training, ICML 2021")
def naswot(ctx: ProxyContext) -> float:
    """log|K_H|: log-determinant of the kernel of binary ReLU activation codes, where
    K_H[i, j] = number of ReLU units on which images i and j agree (both active or both inactive)."""
    kernel = ctx.relu_code_kernel()
    sign, logdet = torch.linalg.slogdet(kernel)
    if sign <= 0:
        raise FloatingPointError("activation kernel is singular (determinant 0)")
    return float(logdet)


@proxy("params", needs_data=False, per_function=False, analytic="params", reference="parameter count (in millions)")
def params(ctx: ProxyContext) -> float:
    """Number of trainable parameters, in millions."""
    return sum(p.numel() for p in ctx.model.parameters() if p.requires_grad) / 1e6


@proxy("flops", needs_data=False, per_function=False, analytic="flops",
       reference="torch.utils.flop_counter.FlopCounterMode")
def flops(ctx: ProxyContext) -> float:
    """FLOPs of one forward pass for one image, in millions, counted by PyTorch's FlopCounterMode
    (a multiply-add counts as 2 FLOPs, so this is twice NB201's MAC-based "flops")."""
    from torch.utils.flop_counter import FlopCounterMode

    m = ctx.fresh_copy(train=False)
    x = torch.zeros((1, *ctx.input_shape), device=ctx.device)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        m(x)
    return counter.get_total_flops() / 1e6
