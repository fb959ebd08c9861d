"""The immutable architecture value shared by every layer (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Architecture:
    """One cell architecture of a search space.

    ``ops`` is the space's own tuple of operation names in its canonical edge order; for NB201 that
    is the order of the official string ``|e(0->1)|+|e(0->2)|e(1->2)|+|e(0->3)|e(1->3)|e(2->3)|``.
    Use ``zcnas.get_space(arch.space)`` to format, encode or build it.
    """

    space: str
    ops: tuple[str, ...]

    def __str__(self) -> str:
        from zcnas.spaces import get_space

        return get_space(self.space).format(self)
