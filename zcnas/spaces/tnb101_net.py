"""Torch modules of TransNAS-Bench-101's networks, built as NASLib's ``transbench101/tnb101``
(``model_builder.create_model``; TNB101's ``lib/models``) builds them, which is what
NAS-Bench-Suite-Zero scored and counted.

Encoder (``MacroNet(code, structure='backbone')``): stem Conv3x3(3 -> 32, stride 2) - BN -
ReLU-Conv3x3(32 -> 64, stride 2)-BN, then one module per skeleton code, each two cells (micro) or
two ResNet basic blocks (macro); a module coded 2 or 4 doubles the channels, 3 or 4 halves the
resolution, both in its first cell. Convolutions of the encoder get Kaiming-normal (fan-out) init
and its batch norms (1, 0), as ``MacroNet._kaiming_init``; heads keep PyTorch's default init.

Heads: ``linear`` (global average pool, linear; class_scene 63, class_object 100, room_layout
9), ``siamese`` (jigsaw: the encoder on each of 9 tiles, features concatenated on channels, pool,
linear to 1000), ``segmentation`` (SegmentationDecoder, 17 channels) and ``generative``
(GenerativeDecoder, 3 channels, tanh; normal and autoencoder). The dense decoders' number of
upsampling layers is NASLib's: ``int(log2(256 / w))`` with ``w`` the encoder's output width
computed for a 224-pixel input (``MacroNet``'s default ``input_dim``), which gives 256 x 256 outputs
for TNB101's 256 x 256 inputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zcnas.spaces.tnb101_defs import EDGES, JIGSAW_TILES, TASK_HEADS, TASK_OUTPUTS

#: width of the encoder input that NASLib sizes the dense decoders for (MacroNet's default input_dim)
NASLIB_SIZING_INPUT = 224
DENSE_TARGET = 256


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int):
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
                         nn.BatchNorm2d(c_out, affine=True, track_running_stats=True))


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-s convolutions (the second on the input shifted by one pixel),
    concatenated, BN: TNB101's ``skip_connect`` where the resolution or the width changes."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.convs = nn.ModuleList([nn.Conv2d(c_in, c_out // 2, 1, stride=stride, bias=False),
                                    nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=stride, bias=False)])
        self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)
        self.bn = nn.BatchNorm2d(c_out, affine=True, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        y = self.pad(x)
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](y[:, :, 1:, 1:])], dim=1))


def _zero(x: torch.Tensor, c_in: int, c_out: int, stride: int) -> torch.Tensor:
    """TNB101's ``Zero`` op: the input times 0 (kept in the graph) where the width is kept, else
    a fresh zero tensor of the output shape."""
    if c_in == c_out:
        return x.mul(0.0) if stride == 1 else x[:, :, ::stride, ::stride].mul(0.0)
    b, _, h, w = x.shape
    return x.new_zeros((b, c_out, (h + 1) // stride, (w + 1) // stride))


def _micro_op(name: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if name == "skip_connect":
        return nn.Identity() if stride == 1 and c_in == c_out else FactorizedReduce(c_in, c_out, stride)
    if name == "nor_conv_1x1":
        return ReLUConvBN(c_in, c_out, 1, stride, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c_in, c_out, 3, stride, 1)
    raise ValueError(f"TNB101 micro op {name!r} has no module")  # 'none' is computed, not built


class MicroCell(nn.Module):
    """TNB101's cell: edges from the input map c_in -> c_out at ``stride``, the others c_out ->
    c_out at stride 1; a node is the sum of its incoming edges (``none`` edges add zeros)."""

    def __init__(self, ops: tuple[str, ...], c_in: int, c_out: int, stride: int):
        super().__init__()
        self.ops_desc, self.c_in, self.c_out, self.stride = tuple(ops), c_in, c_out, stride
        self.edge_ops = nn.ModuleDict()
        for e, ((src, _), op) in enumerate(zip(EDGES, ops)):
            if op != "none":
                self.edge_ops[str(e)] = (_micro_op(op, c_in, c_out, stride) if src == 0
                                         else _micro_op(op, c_out, c_out, 1))
        self._incoming = [[e for e, (_, d) in enumerate(EDGES) if d == j] for j in (1, 2, 3)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for incoming in self._incoming:
            total = None
            for e in incoming:
                src = EDGES[e][0]
                inp = nodes[src]
                if self.ops_desc[e] == "none":
                    y = (_zero(inp, self.c_in, self.c_out, self.stride) if src == 0
                         else _zero(inp, self.c_out, self.c_out, 1))
                else:
                    y = self.edge_ops[str(e)](inp)
                total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


class BasicBlock(nn.Module):
    """TNB101's ResNet basic block: ReLU-Conv3x3-BN twice, plus the input (through a 1x1
    conv-BN projection when the stride or the width changes; that BN has eps = momentum = 1, as
    in the reference)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            # TNB101 (and NASLib) write ``nn.BatchNorm2d(planes, affine, track_running_stats)``, which
            # passes True as ``eps`` and ``momentum``: this batch norm has eps = 1 and momentum = 1.
            # Kept as the reference runs it (it changes values, not parameter counts).
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(c_out, eps=1.0, momentum=1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


class TNB101Encoder(nn.Module):
    """Stem and the skeleton's modules (2 cells or basic blocks each), as one flat chain."""

    def __init__(self, skeleton: tuple[int, ...], cell_ops: tuple[str, ...] | None, base: int = 64):
        super().__init__()
        self.skeleton, self.cell_ops, self.base = tuple(skeleton), cell_ops, base
        self.stem = nn.Sequential(nn.Conv2d(3, base // 2, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(base // 2, affine=True, track_running_stats=True),
                                  ReLUConvBN(base // 2, base, 3, 2, 1))
        blocks: list[nn.Module] = []
        c = base
        width = NASLIB_SIZING_INPUT // 4
        for code in self.skeleton:
            target = c * 2 if code % 2 == 0 else c
            stride = 2 if code > 2 else 1
            width //= stride
            for i in range(2):
                c_in, s = (c, stride) if i == 0 else (target, 1)
                blocks.append(MicroCell(cell_ops, c_in, target, s) if cell_ops is not None
                              else BasicBlock(c_in, target, s))
            c = target
        self.cells = nn.Sequential(*blocks)
        self.out_channels = c
        #: the encoder's output width for a 224-pixel input (NASLib's decoder sizing)
        self.naslib_width = width
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1.0)
                nn.init.constant_(m.bias, 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cells(self.stem(x))


class ConvLayer(nn.Sequential):
    """Conv (with bias), optional BN, optional activation (TNB101's ``ConvLayer``)."""

    def __init__(self, c_in: int, c_out: int, act: nn.Module | None, norm: bool = True, transpose: bool = False):
        conv = (nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1) if transpose
                else nn.Conv2d(c_in, c_out, 3, stride=1, padding=1))
        layers: list[nn.Module] = [conv]
        if norm:
            layers.append(nn.BatchNorm2d(c_out))
        if act is not None:
            layers.append(act)
        super().__init__(*layers)


def _leaky() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=False)


def _num_upsample(width: int) -> int:
    n = int(math.log2(DENSE_TARGET / width))
    if n not in (2, 3, 4, 5, 6):  # unreachable for the benchmark's skeletons (micro 5, macro 3-6)
        raise ValueError(f"TNB101 decoder: {n} upsampling layers for an encoder width of {width}")
    return n


class SegmentationDecoder(nn.Sequential):
    """Conv 1024, (6 - n) halving convs, (n - 1) halving deconvs, one deconv, conv to classes."""

    def __init__(self, c_in: int, width: int, out_channels: int):
        n = _num_upsample(width)
        layers: list[nn.Module] = [ConvLayer(c_in, 1024, _leaky())]
        c = 1024
        for _ in range(6 - n):
            layers.append(ConvLayer(c, c // 2, _leaky()))
            c //= 2
        for _ in range(n - 1):
            layers.append(ConvLayer(c, c // 2, _leaky(), transpose=True))
            c //= 2
        layers.append(ConvLayer(c, c, _leaky(), transpose=True))
        layers.append(ConvLayer(c, out_channels, None, norm=False))
        super().__init__(*layers)


class GenerativeDecoder(nn.Sequential):
    """The 14-layer pix2pix decoder of TNB101 (normal, autoencoder): 5 fixed widths, ``n``
    upsampling layers of which the last two are always deconvolutions, tanh output."""

    def __init__(self, c_in: int, width: int, out_channels: int = 3):
        n = _num_upsample(width)
        plan = [(c_in, 1024, False), (1024, 1024, False), (1024, 512, n == 6), (512, 512, False),
                (512, 256, n >= 5), (256, 128, False), (128, 64, n >= 4), (64, 64, False), (64, 32, n >= 3),
                (32, 32, False), (32, 16, True), (16, 32, False), (32, 16, True)]
        layers: list[nn.Module] = [ConvLayer(a, b, _leaky(), transpose=t) for a, b, t in plan]
        layers.append(ConvLayer(16, out_channels, nn.Tanh(), norm=False))
        super().__init__(*layers)


class Discriminator(nn.Module):
    """TNB101's pix2pix discriminator (spectral-norm convs). NASLib's GAN model holds it for
    autoencoder/normal; it is never called in the forward pass."""

    def __init__(self):
        super().__init__()
        sn = nn.utils.spectral_norm
        spec = [(6, 64, 5, 4, 2), (64, 128, 5, 4, 2), (128, 256, 5, 4, 2), (256, 256, 3, 1, 1),
                (256, 512, 3, 1, 1), (512, 512, 3, 1, 1)]
        layers: list[nn.Module] = []
        for a, b, k, s, p in spec:
            layers += [sn(nn.Conv2d(a, b, k, stride=s, padding=p)), _leaky()]
        layers.append(nn.Conv2d(512, 1, 3, stride=1, padding=1))
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.body(x)).flatten()


class TNB101Network(nn.Module):
    """Encoder and task head. ``forward`` takes (B, 3, H, W) images, or for jigsaw (B, 27, h, w)
    (9 RGB tiles stacked on channels, tile-major) or (B, 9, 3, h, w) as NASLib's SiameseNet; each
    jigsaw tile goes through the encoder as a batch of its own, as in NASLib."""

    def __init__(self, code: tuple[tuple[int, ...], tuple[str, ...] | None], task: str, *,
                 with_discriminator: bool = False):
        super().__init__()
        skeleton, cell_ops = code
        self.code, self.task, self.head_kind = code, task, TASK_HEADS[task]
        self.with_discriminator = with_discriminator
        self.encoder = TNB101Encoder(skeleton, cell_ops)
        c, w, out = self.encoder.out_channels, self.encoder.naslib_width, TASK_OUTPUTS[task]
        if self.head_kind in ("linear", "siamese"):
            tiles = JIGSAW_TILES if self.head_kind == "siamese" else 1
            self.decoder = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1), nn.Linear(c * tiles, out))
        elif self.head_kind == "segmentation":
            self.decoder = SegmentationDecoder(c, w, out)
        else:
            self.decoder = GenerativeDecoder(c, w, out)
        self.discriminator = Discriminator() if with_discriminator else None

    # ---- zcnas.protocols -------------------------------------------------------------------------
    def block_trunk(self) -> nn.Sequential:
        """:class:`zcnas.protocols.BlockTrunk`: the encoder's cells (micro) or basic blocks (macro)."""
        return self.encoder.cells

    def feature_tap(self) -> nn.Module:
        """:class:`zcnas.protocols.FeatureTap`: the module whose input is the final feature map, as
        NASLib's ``forward_before_global_avg_pool`` reads it for TNB101 (which produced the published
        zen): the head's global pool for the classification, jigsaw and room-layout heads (for jigsaw
        its input is the nine tiles' feature maps concatenated on channels), else the decoder's
        last layer (the convolution to the task's outputs)."""
        return self.decoder[0] if self.head_kind in ("linear", "siamese") else self.decoder[-1]

    def thin_copy(self) -> TNB101Network:
        """:class:`zcnas.protocols.ThinCopy`: the same architecture and head at base width 2 (the
        thinnest that TNB101's stem, which halves the base width, and its factorized reductions
        allow) with one cell per module."""
        net = TNB101Network.__new__(TNB101Network)
        nn.Module.__init__(net)
        skeleton, cell_ops = self.code
        net.code, net.task, net.head_kind, net.with_discriminator = self.code, self.task, self.head_kind, False
        net.encoder = TNB101Encoder(skeleton, cell_ops, base=2)
        net.encoder.cells = nn.Sequential(*[blk for i, blk in enumerate(net.encoder.cells) if i % 2 == 0])
        c, w, out = net.encoder.out_channels, net.encoder.naslib_width, TASK_OUTPUTS[self.task]
        if self.head_kind in ("linear", "siamese"):
            tiles = JIGSAW_TILES if self.head_kind == "siamese" else 1
            net.decoder = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1), nn.Linear(c * tiles, out))
        elif self.head_kind == "segmentation":
            net.decoder = SegmentationDecoder(c, w, out)
        else:
            net.decoder = GenerativeDecoder(c, w, out)
        net.discriminator = None
        return net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.head_kind != "siamese":
            return self.decoder(self.encoder(x))
        if x.dim() == 4:
            b, ch, h, w = x.shape
            if ch != 3 * JIGSAW_TILES:
                raise ValueError(f"jigsaw input must have {3 * JIGSAW_TILES} channels (9 RGB tiles), got {ch}")
            x = x.reshape(b, JIGSAW_TILES, 3, h, w)
        feats = [self.encoder(x[:, i]) for i in range(x.shape[1])]
        return self.decoder(torch.cat(feats, dim=1))
