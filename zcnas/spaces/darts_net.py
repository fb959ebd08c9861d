"""Torch modules of the DARTS evaluation network (Liu et al., ICLR 2019; ``quark0/darts`` ``cnn/model.py``
``NetworkCIFAR`` and ``cnn/operations.py``), in the two constructions that matter:

``construction="naslib"`` (default): the network as NASLib builds NAS-Bench-301's architectures
(``naslib/search_spaces/nasbench301/graph.py`` with ``naslib/search_spaces/core/primitives.py``),
the network whose parameter counts NAS-Bench-Suite-Zero publishes. Its macro structure is the DARTS
one (stem 3x3 conv to 3C + BN; cells whose inputs are preprocessed by ReLU-conv1x1-BN, or by
FactorizedReduce after a reduction cell; reduction cells at layers//3 and 2*layers//3 doubling the
channels; the concat of nodes 2..5; global average pool; linear). It differs from the DARTS
repository's network in the cell operations only:

- the batch norms inside ``sep_conv_*``, ``dil_conv_*`` and the stride-2 ``skip_connect``
  (FactorizedReduce) are ``affine=False`` (DARTS: ``affine=True``), so those operations have no
  batch-norm parameters;
- ``max_pool_3x3`` and ``avg_pool_3x3`` are followed by ``BatchNorm2d(C, affine=False)`` (NASLib's
  ``MaxPool``/``AvgPool`` with ``use_bn=True``; DARTS: the bare pool);
- the cell-input preprocessing (ReLUConvBN, FactorizedReduce), the stem and the classifier are
  as in DARTS (affine batch norms).

``construction="darts"``: the DARTS repository's operations exactly (every batch norm affine, bare
pools); with ``channels=36, layers=20`` this is the DARTS paper's CIFAR-10 network (DARTS V2: 3.35 M
parameters without the auxiliary head, as ``utils.count_parameters_in_MB`` reports it).

Both: auxiliary head (DARTS ``AuxiliaryHeadCIFAR`` after cell 2*layers//3) only when asked,
drop-path (DARTS ``drop_path``, not on identities) only in training mode with ``drop_path_prob > 0``
and drawn from the global torch RNG as in DARTS, ``none`` as the zero operation (never in NB301).
"""

from __future__ import annotations

import torch
from torch import nn

from zcnas.spaces.darts_defs import NODES

CONSTRUCTIONS: tuple[str, ...] = ("naslib", "darts")


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True):
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
                         nn.BatchNorm2d(c_out, affine=affine))


class DilConv(nn.Sequential):
    """ReLU, depthwise (dilated) conv, pointwise conv, BN."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int,
                 affine: bool = True):
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=padding, dilation=dilation,
                                   groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1, padding=0, bias=False),
                         nn.BatchNorm2d(c_out, affine=affine))


class SepConv(nn.Sequential):
    """Two stacked depthwise-separable blocks; only the first has the stride."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True):
        super().__init__(DilConv(c_in, c_in, kernel, stride, padding, 1, affine),
                         DilConv(c_in, c_out, kernel, 1, padding, 1, affine))


class FactorizedReduce(nn.Module):
    """ReLU, two stride-2 1x1 convs on the input and on the input shifted by one pixel, concat, BN.

    As DARTS on even sizes. On an odd size DARTS' version fails (its two halves differ in size);
    here the shifted input is zero-padded by one row/column at the end so both halves have
    ceil(H/2) rows (the thin copy sees 3 x 3 inputs)."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True):
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = x[:, :, 1:, 1:]
        if x.shape[2] % 2 or x.shape[3] % 2:  # odd sizes (never in DARTS on CIFAR): pad to match conv_1
            shifted = nn.functional.pad(shifted, (0, x.shape[3] % 2, 0, x.shape[2] % 2))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


class Zero(nn.Module):
    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


def make_op(name: str, c: int, stride: int, construction: str) -> nn.Module:
    """One DARTS operation on ``c`` channels (``construction``: see the module docstring)."""
    affine = construction == "darts"
    pool_bn = construction == "naslib"
    if name == "none":
        return Zero(stride)
    if name in ("max_pool_3x3", "avg_pool_3x3"):
        pool = (nn.MaxPool2d(3, stride=stride, padding=1) if name == "max_pool_3x3"
                else nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False))
        return nn.Sequential(pool, nn.BatchNorm2d(c, affine=False)) if pool_bn else pool
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine=affine)
    if name == "sep_conv_3x3":
        return SepConv(c, c, 3, stride, 1, affine)
    if name == "sep_conv_5x5":
        return SepConv(c, c, 5, stride, 2, affine)
    if name == "dil_conv_3x3":
        return DilConv(c, c, 3, stride, 2, 2, affine)
    if name == "dil_conv_5x5":
        return DilConv(c, c, 5, stride, 4, 2, affine)
    raise ValueError(f"unknown DARTS operation {name!r}")


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """DARTS' drop-path: zero whole samples with probability ``drop_prob``, rescale the rest."""
    keep = 1.0 - drop_prob
    mask = torch.empty((x.shape[0], 1, 1, 1), device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class DartsCell(nn.Module):
    """One DARTS cell: preprocess both inputs to ``c`` channels, four nodes summing two operations
    each, concat of nodes 2..5 (4c channels)."""

    def __init__(self, cell: tuple[tuple[str, int], ...], c_prev_prev: int, c_prev: int, c: int,
                 reduction: bool, reduction_prev: bool, construction: str):
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(c_prev_prev, c) if reduction_prev
                            else ReLUConvBN(c_prev_prev, c, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0)
        self.ops = nn.ModuleList(make_op(op, c, 2 if reduction and inp < 2 else 1, construction)
                                 for op, inp in cell)
        self.indices = tuple(inp for _, inp in cell)
        self.multiplier = len(NODES)
        self.drop_prob = 0.0

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        drop = self.training and self.drop_prob > 0.0
        for k in range(len(NODES)):
            total = None
            for j in (2 * k, 2 * k + 1):
                op = self.ops[j]
                h = op(states[self.indices[j]])
                if drop and not isinstance(op, nn.Identity):
                    h = drop_path(h, self.drop_prob)
                total = h if total is None else total + h
            states.append(total)
        return torch.cat(states[2:], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    """DARTS' auxiliary classifier (for 8x8 inputs)."""

    def __init__(self, c: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True), nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class DartsNetwork(nn.Module):
    """DARTS' ``NetworkCIFAR``: stem, ``layers`` cells, global pool, linear (see the module docstring)."""

    def __init__(self, spec, num_classes: int = 10, channels: int = 32, layers: int = 8, in_channels: int = 3,
                 construction: str = "naslib", auxiliary: bool = False, drop_path_prob: float = 0.0,
                 reductions: tuple[int, ...] | None = None):
        super().__init__()
        self.spec = spec
        self.config = dict(num_classes=num_classes, channels=channels, layers=layers, in_channels=in_channels,
                           construction=construction, auxiliary=auxiliary, drop_path_prob=drop_path_prob,
                           reductions=reductions)
        self.reductions = tuple(reductions) if reductions is not None else (layers // 3, 2 * layers // 3)
        c_curr = 3 * channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, channels
        cells: list[nn.Module] = []
        reduction_prev = False
        self.aux_index = max(self.reductions, default=layers - 1)
        c_aux = c_p
        for i in range(layers):
            reduction = i in self.reductions
            if reduction:
                c_curr *= 2
            cell = DartsCell(spec[1] if reduction else spec[0], c_pp, c_p, c_curr, reduction, reduction_prev,
                             construction)
            cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, cell.multiplier * c_curr
            if i == self.aux_index:
                c_aux = c_p
        self.cells = nn.ModuleList(cells)
        self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux, num_classes) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)
        self.drop_path_prob = drop_path_prob

    @property
    def drop_path_prob(self) -> float:
        return self._drop_path_prob

    @drop_path_prob.setter
    def drop_path_prob(self, p: float) -> None:
        """DARTS raises it linearly over training (``model.drop_path_prob = 0.2 * epoch / epochs``)."""
        self._drop_path_prob = float(p)
        for cell in self.cells:
            cell.drop_prob = float(p)

    # ---- zcnas.protocols ---------------------------------------------------------------------------
    def thin_copy(self, channels: int = 1) -> DartsNetwork:
        """:class:`zcnas.protocols.ThinCopy`: the same cells at ``channels`` initial channels (stem 3C)
        with one cell per stage, ``normal, reduce, normal, reduce, normal`` (five cells; the
        reductions double the channels, so FactorizedReduce's even channel count holds at C = 1).
        TE-NAS counts linear regions on its 1-channel search network; the DARTS network has no
        "1 cell per stage" form with fewer than 5 cells and both cell types."""
        cfg = dict(self.config, channels=channels, layers=5, reductions=(1, 3), auxiliary=False)
        return DartsNetwork(self.spec, **cfg)

    def block_trunk(self) -> nn.ModuleList:
        """:class:`zcnas.protocols.BlockTrunk`: the cells in order. A DARTS cell takes two inputs
        (c_{k-2}, c_{k-1}); the first positional input of the first cell is the stem output (both of
        its inputs are), and every cell returns one tensor, its output. So the layer features are the
        stem output and every cell's output, and a block's Jacobian w.r.t. the previous feature is the
        partial derivative w.r.t. c_{k-1} with c_{k-2} held fixed."""
        return self.cells

    def forward(self, x: torch.Tensor):
        s0 = s1 = self.stem(x)
        aux = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i == self.aux_index and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(s1)
        logits = self.classifier(torch.flatten(self.global_pooling(s1), 1))
        return (logits, aux) if aux is not None else logits
