"""Torch modules of NAS-Bench-101's network (Ying et al., ICML 2019; google-research/nasbench
``model_builder.py`` and ``base_ops.py``), written for PyTorch.

Semantics kept from nasbench: a vertex sums its inputs (other vertices' outputs truncated to its
width, and a 1x1 conv-BN-ReLU projection of the cell input when the input feeds it), then applies
its operation; the output concatenates the vertices feeding it, in vertex order, and adds a
projection of the cell input when the input feeds the output directly; widths come from
:func:`zcnas.spaces.nb101_defs.vertex_channels`. Convolutions have no bias and TF's variance-scaling
initialisation (truncated normal, fan-in, scale 1); batch norm has TF's momentum 0.997 (torch
``momentum=0.003``) and epsilon 1e-5; the head is a dense layer with Glorot-uniform weights and a
zero bias. Max-pooling uses TF's "same" padding.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zcnas.spaces.nb101_defs import CELLS_PER_STACK, NUM_STACKS, STEM_CHANNELS, stack_plan, vertex_channels

BN_MOMENTUM = 1.0 - 0.997  # TF's moving-average decay 0.997 as torch's update weight
BN_EPS = 1e-5


class ConvBNReLU(nn.Sequential):
    """Conv (no bias, 'same' padding, stride 1) -> batch norm -> ReLU (nasbench ``conv_bn_relu``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def _op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return ConvBNReLU(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBNReLU(channels, channels, 1)
    if name == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"NB101 op {name!r} has no module")


class NB101Cell(nn.Module):
    """One NB101 module (cell) from ``c_in`` to ``c_out`` channels."""

    def __init__(self, matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...], c_in: int, c_out: int):
        super().__init__()
        n = len(matrix)
        self.matrix, self.n = matrix, n
        self.channels = vertex_channels(c_in, c_out, matrix)
        self.proj = nn.ModuleDict({str(t): ConvBNReLU(c_in, self.channels[t], 1)
                                   for t in range(1, n - 1) if matrix[0][t]})
        self.ops = nn.ModuleList([nn.Identity()] + [_op(ops[t], self.channels[t]) for t in range(1, n - 1)])
        self.out_proj = ConvBNReLU(c_in, c_out, 1) if matrix[0][n - 1] else None
        self._inputs = [[s for s in range(1, t) if matrix[s][t]] for t in range(n)]
        self._to_out = [t for t in range(1, n - 1) if matrix[t][n - 1]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors = [x]
        for t in range(1, self.n - 1):
            c = self.channels[t]
            terms = [tensors[s][:, :c] for s in self._inputs[t]]  # truncation: at most one extra channel
            if str(t) in self.proj:
                terms.append(self.proj[str(t)](x))
            total = terms[0]
            for y in terms[1:]:
                total = total + y
            tensors.append(self.ops[t](total))
        if not self._to_out:
            assert self.out_proj is not None  # a pruned cell without interior vertices is input->output
            return self.out_proj(x)
        out = torch.cat([tensors[t] for t in self._to_out], 1) if len(self._to_out) > 1 else tensors[self._to_out[0]]
        if self.out_proj is not None:
            out = out + self.out_proj(x)
        return out


@torch.no_grad()
def _truncated_normal_(w: torch.Tensor, std: float) -> None:
    """N(0, std^2) truncated to two standard deviations, by redrawing the values outside (as TF's
    ``truncated_normal``; ``nn.init.trunc_normal_``'s inverse-CDF method is ~10x slower on CPU)."""
    w.normal_(0.0, std)
    if w.is_meta:  # shapes only (parameter and FLOP counts): no values to redraw
        return
    out = w.abs() > 2 * std
    while bool(out.any()):
        w[out] = torch.randn(int(out.sum()), dtype=w.dtype, device=w.device) * std
        out = w.abs() > 2 * std


class NB101Network(nn.Module):
    """Stem, stacks of cells with 2x2 max-pool down-sampling (and doubled width) between them,
    global average pool, linear head."""

    def __init__(self, matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...], num_classes: int = 10,
                 in_channels: int = 3, stem_channels: int = STEM_CHANNELS, num_stacks: int = NUM_STACKS,
                 cells_per_stack: int = CELLS_PER_STACK):
        super().__init__()
        self.matrix, self.cell_ops = matrix, ops
        self.in_channels, self.num_classes = in_channels, num_classes
        self.stem = ConvBNReLU(in_channels, stem_channels, 3)
        blocks: list[nn.Module] = []
        plan = stack_plan(stem_channels, num_stacks, cells_per_stack)
        for c_in, c_out, down in plan:
            cell = NB101Cell(matrix, ops, c_in, c_out)
            # the down-sampling pool travels with the first cell of its stack, so every block of the
            # trunk (zcnas.protocols.BlockTrunk) holds parameters
            blocks.append(nn.Sequential(nn.MaxPool2d(2, stride=2, ceil_mode=True), cell) if down else cell)
        self.cells = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(plan[-1][1], num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # TF variance_scaling_initializer(): truncated normal, fan-in, scale 1
                _truncated_normal_(m.weight, math.sqrt(1.0 / m.weight[0].numel()) / 0.87962566103423978)
        nn.init.xavier_uniform_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    # ---- zcnas.protocols ---------------------------------------------------------------------------
    def thin_copy(self) -> NB101Network:
        """:class:`zcnas.protocols.ThinCopy`: the same cell, one cell per stack, at the narrowest
        stem width NB101's channel split allows (one channel per vertex feeding the output: the
        split gives a vertex zero channels below that). TE-NAS's 1-channel network is not defined
        for NB101 cells whose output concatenates several vertices."""
        n = len(self.matrix)
        fan_in = max(1, sum(self.matrix[v][n - 1] for v in range(1, n - 1)))
        return NB101Network(self.matrix, self.cell_ops, num_classes=self.num_classes, in_channels=self.in_channels,
                            stem_channels=fan_in, num_stacks=NUM_STACKS, cells_per_stack=1)

    def block_trunk(self) -> nn.Sequential:
        """:class:`zcnas.protocols.BlockTrunk`: the cells in order (the first cell of the second and
        third stack with its down-sampling pool)."""
        return self.cells

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem(x))
        return self.classifier(torch.flatten(self.pool(x), 1))
