"""Seeded network construction: the same architecture and seed give the same initial weights in
any process, order or sample, without touching the caller's global RNG (no torch at import)."""

from __future__ import annotations

import hashlib
from typing import Any

from zcnas.arch import Architecture
from zcnas.spaces import get_space


def arch_seed(seed: int, arch: str) -> int:
    """Stable per-architecture seed: the init does not depend on order, sample or process."""
    digest = hashlib.blake2b(f"{seed}:{arch}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def build_seeded(space_name: str, arch: Architecture | str, num_classes: int | None, seed: int, device=None, *,
                 input_shape: tuple[int, ...] | None = None, **build_options: Any):
    """Build ``arch`` with PyTorch's default init drawn from a per-architecture seed, without
    touching the caller's global RNG state. ``input_shape`` defaults to the space's shape for
    its default dataset; ``build_options`` go to the space's ``build`` (e.g. a task)."""
    import torch

    space = get_space(space_name or None)
    a = space.coerce(arch)
    shape = tuple(input_shape) if input_shape else space.input_shape(space.default_dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(arch_seed(seed, space.format(a)))
        sized = {} if num_classes is None else {"num_classes": num_classes}
        model = space.build(a, input_shape=shape, **sized, **build_options)
    return model.to(device) if device is not None else model
