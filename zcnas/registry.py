"""A small registry of named things (proxies, spaces, datasets, aggregates).

Each entry has a canonical name, optional aliases (names used by other tools) and free metadata.
Lookups resolve aliases; unknown names get a "did you mean" answer; listing takes a glob pattern.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
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
    """Name -> object mapping with aliases and pattern listing.

    A *family* (:meth:`add_family`) stands for every name that starts with its prefix: the first
    lookup of such a name asks the family's factory for the object and registers it."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}
        self._families: dict[str, tuple[Callable[[str], T], str]] = {}
        self._made: set[str] = set()  # names a family made on lookup (not listed)

    def add_family(self, prefix: str, factory: Callable[[str], T], description: str = "") -> None:
        """Names ``prefix + anything`` resolve through ``factory(name)`` (which raises for a bad name)."""
        if not prefix or prefix in self._families:
            raise InputError(f"{self.kind} family prefix {prefix!r} is empty or already registered.")
        self._families[prefix] = (factory, description)

    def families(self) -> dict[str, str]:
        """Registered family prefixes and their descriptions."""
        return {p: d for p, (_f, d) in self._families.items()}

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
        for prefix, (factory, _d) in self._families.items():
            if isinstance(name, str) and name.startswith(prefix):
                self.add(name, factory(name))
                self._made.add(name)
                return name
        known = [n for n in self._entries if n not in self._made] + list(self._aliases)
        known += [f"{p}<...>" for p in self._families]
        raise UnknownNameError(self.kind, name, known)

    def entry(self, name: str) -> Entry[T]:
        return self._entries[self.resolve(name)]

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def names(self, pattern: str = "*") -> list[str]:
        """Canonical names matching a glob pattern (aliases match too), in registration order;
        family members made on lookup are not listed (:meth:`families` describes them)."""
        out = []
        for n, e in self._entries.items():
            if n in self._made:
                continue
            if any(fnmatch.fnmatchcase(x, pattern) for x in (n, *e.aliases)):
                out.append(n)
        return out

    def __contains__(self, name: object) -> bool:
        """Registered names and aliases; a family name counts once it has been looked up."""
        return name in self._entries or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
