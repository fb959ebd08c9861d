"""The immutable architecture value shared by every layer (plain Python: no torch, no spaces).

An :class:`Architecture` belongs to a search space (``space``, its registered name) and holds that
space's own encoding in ``spec``: any hashable value built from tuples, strings and numbers. What
``spec`` looks like is the space's business, and only the space reads it:

- NB201 / TNB101-micro: a tuple of edge operations, ``("nor_conv_3x3", "none", ...)``;
- NB101: ``(matrix_rows, ops)``, the pruned adjacency matrix as a tuple of 0/1 tuples and the
  vertex labels;
- DARTS: ``(normal, reduce)``, each a tuple of ``(op, input)`` pairs;
- TNB101-macro: a tuple of block codes.

``str(arch)`` is the space's official string (``zcnas.get_space(arch.space).format(arch)``). The
spaces layer installs the formatter when a space is registered, so this module imports nothing
above itself.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

#: space name -> its ``format`` (filled in by :func:`zcnas.spaces.register_space`)
_FORMATTERS: dict[str, Callable[[Architecture], str]] = {}


def install_formatter(space: str, formatter: Callable[[Architecture], str]) -> None:
    """Let ``str(arch)`` give ``formatter(arch)`` for architectures of ``space``."""
    _FORMATTERS[space] = formatter


@dataclass(frozen=True, order=True)
class Architecture:
    """One architecture of a search space: the space's name and its own hashable encoding."""

    space: str
    spec: Hashable

    def __post_init__(self) -> None:
        try:
            hash(self.spec)
        except TypeError:
            raise TypeError(f"Architecture.spec must be hashable (tuples, not lists); got "
                            f"{type(self.spec).__name__}.") from None

    def __str__(self) -> str:
        fmt = _FORMATTERS.get(self.space)
        return fmt(self) if fmt is not None else f"{self.space}:{self.spec!r}"
