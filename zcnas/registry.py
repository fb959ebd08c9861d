"""A small registry of named things (proxies, spaces, datasets, aggregates).

Each entry has a canonical name, optional aliases (names used by other tools) and free metadata.
Lookups resolve aliases; unknown names get a "did you mean" answer; listing takes a glob pattern.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from zcnas.errors import InputError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    obj: T
    aliases: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """Name -> object mapping with aliases and pattern listing."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}

    def add(self, name: str, obj: T, aliases: tuple[str, ...] = (), **meta: Any) -> Entry[T]:
        for n in (name, *aliases):
            if n in self._entries or n in self._aliases:
                raise InputError(f"{self.kind} name {n!r} is already registered; choose another name.")
        entry = Entry(name, obj, tuple(aliases), dict(meta))
        self._entries[name] = entry
        for a in aliases:
            self._aliases[a] = name
        return entry

    def resolve(self, name: str) -> str:
        """Canonical name for ``name`` or one of its aliases."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise UnknownNameError(self.kind, name, list(self._entries) + list(self._aliases))

    def entry(self, name: str) -> Entry[T]:
        return self._entries[self.resolve(name)]

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def names(self, pattern: str = "*") -> list[str]:
        """Canonical names matching a glob pattern (aliases match too), in registration order."""
        out = []
        for n, e in self._entries.items():
            if any(fnmatch.fnmatchcase(x, pattern) for x in (n, *e.aliases)):
                out.append(n)
        return out

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
