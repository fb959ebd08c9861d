"""The search-space interface. A space turns strings into :class:`Architecture` values and back,
enumerates, samples, mutates, canonicalises, encodes and builds them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from zcnas.arch import Architecture
from zcnas.errors import InputError, check_int

if TYPE_CHECKING:  # pragma: no cover
    import torch.nn as nn


class SearchSpace(ABC):
    """Base class of cell search spaces. Subclasses are registered with :func:`register_space`."""

    name: str = ""
    #: encodings accepted by :meth:`encode`
    encodings: tuple[str, ...] = ()

    @abstractmethod
    def parse(self, text: str) -> Architecture:
        """Parse the space's official string form; raise :class:`InputError` naming the bad token."""

    @abstractmethod
    def format(self, arch: Architecture) -> str:
        """The official string form of ``arch``."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of architectures (strings) in the space."""

    @abstractmethod
    def enumerate(self) -> Iterator[Architecture]:
        """Every architecture, in the space's official index order."""

    @abstractmethod
    def index(self, arch: Architecture) -> int:
        """Official index of ``arch``."""

    @abstractmethod
    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """All architectures one edit away."""

    @abstractmethod
    def canonical(self, arch: Architecture) -> str:
        """A key shared by functionally identical architectures."""

    @abstractmethod
    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
        """A fixed-length float vector for learning."""

    @abstractmethod
    def build(self, arch: Architecture, num_classes: int = 10) -> nn.Module:
        """A freshly initialised torch network containing only the chosen operations."""

    # ---- generic helpers ---------------------------------------------------------------------
    def coerce(self, arch: Architecture | str) -> Architecture:
        """Accept an :class:`Architecture` of this space or its string form."""
        if isinstance(arch, Architecture):
            if arch.space != self.name:
                raise InputError(
                    f"Architecture belongs to space {arch.space!r}, not {self.name!r}; "
                    f"use zcnas.get_space({arch.space!r})."
                )
            return arch
        if isinstance(arch, str):
            return self.parse(arch)
        raise InputError(f"Expected an Architecture or a {self.name} string, got {type(arch).__name__}.")

    def at(self, index: int) -> Architecture:
        """Architecture at official index ``index``."""
        raise NotImplementedError

    def sample(self, n: int, seed: int = 0, replace: bool = False) -> list[Architecture]:
        """``n`` architectures drawn uniformly with a seeded generator (no global RNG)."""
        check_int("n", n, f"{type(self).__name__}.sample", minimum=1)
        if not replace and n > len(self):
            raise InputError(f"Cannot sample {n} distinct architectures from a space of {len(self)}; "
                             f"use n <= {len(self)} or replace=True.")
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(self), size=n, replace=replace)
        return [self.at(int(i)) for i in idx]

    def mutate(self, arch: Architecture, seed: int | np.random.Generator = 0) -> Architecture:
        """One random neighbour of ``arch``."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        nbrs = self.neighbours(self.coerce(arch))
        return nbrs[int(rng.integers(len(nbrs)))]

    def encode_many(self, archs: Sequence[Architecture | str], kind: str = "onehot") -> np.ndarray:
        return np.stack([self.encode(self.coerce(a), kind) for a in archs]) if archs else np.zeros((0, 0))
