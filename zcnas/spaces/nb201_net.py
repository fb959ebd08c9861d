"""Torch modules of the standard NB201 network (Dong & Yang, ICLR 2020, xautodl ``TinyNetwork``).

The cell's edge list comes from the space (``zcnas.spaces.nb201.EDGES``); this module imports no
other zcnas module, so the space can import it lazily without a cycle."""

from __future__ import annotations

import torch
from torch import nn


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


def make_op(name: str, c: int) -> nn.Module:
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"NB201 op {name!r} has no module")  # 'none' is never built


class NB201Cell(nn.Module):
    """A normal cell with only its non-``none`` edges built."""

    def __init__(self, ops: tuple[str, ...], c: int, edges: tuple[tuple[int, int], ...]):
        super().__init__()
        self.ops_desc = tuple(ops)
        self.edges = tuple(edges)
        self.edge_ops = nn.ModuleDict(
            {str(e): make_op(op, c) for e, op in enumerate(ops) if op != "none"}
        )
        # incoming live edges per node 1..3
        self._incoming = [[e for e, (_, d) in enumerate(self.edges) if d == j and ops[e] != "none"]
                          for j in (1, 2, 3)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for incoming in self._incoming:
            if not incoming:
                nodes.append(torch.zeros_like(x))
                continue
            total = None
            for e in incoming:
                y = self.edge_ops[str(e)](nodes[self.edges[e][0]])
                total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


class ResidualReduction(nn.Module):
    """NB201's reduction block: a stride-2 basic residual block with an average-pool shortcut."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2, 0),
                                        nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """Stem, 3 stages of cells joined by residual reductions, BN-ReLU, global pooling, linear."""

    def __init__(self, ops: tuple[str, ...], edges: tuple[tuple[int, int], ...], num_classes: int = 10,
                 channels: int = 16, cells_per_stage: int = 5, in_channels: int = 3):
        super().__init__()
        self.arch_ops = tuple(ops)
        self.edges = tuple(edges)
        self.in_channels = in_channels
        c = channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layers: list[nn.Module] = []
        c_prev = c
        for stage, c_cur in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                layers.append(ResidualReduction(c_prev, c_cur))
            layers.extend(NB201Cell(ops, c_cur, edges) for _ in range(cells_per_stage))
            c_prev = c_cur
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    # ---- zcnas.protocols ---------------------------------------------------------------------------
    def thin_copy(self, channels: int = 1, cells_per_stage: int = 1) -> NB201Network:
        """:class:`zcnas.protocols.ThinCopy`: a new network of the same cell with ``channels``
        channels and ``cells_per_stage`` cells per stage (TE-NAS counts linear regions on the
        1-channel, 1-cell network)."""
        return NB201Network(self.arch_ops, self.edges, num_classes=self.classifier.out_features, channels=channels,
                            cells_per_stage=cells_per_stage, in_channels=self.in_channels)

    def block_trunk(self) -> nn.Sequential:
        """:class:`zcnas.protocols.BlockTrunk`: the cells and reduction blocks, in order."""
        return self.cells

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))
