"""Exceptions raised by zcnas.

Every error a user can cause derives from :class:`ZcnasError`; the command line turns these into a
one-line message and exit code 1. Messages name the problem, what was given and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ZcnasError(Exception):
    """Base class of all errors that zcnas raises on purpose."""


class InputError(ZcnasError, ValueError):
    """A parameter, an architecture string or another input has an invalid value."""


class UnknownNameError(InputError, KeyError):
    """A name (proxy, space, dataset, ...) is not registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(set(known))
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        msg = f"Unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(known)}."
        super().__init__(msg)
        self.kind, self.name, self.known, self.suggestions = kind, name, known, close

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class DataError(ZcnasError):
    """Data on disk is missing, malformed or does not match what was asked for."""


class StoreError(DataError):
    """A record store is corrupted, locked or written by an incompatible schema version."""


class ProxyError(ZcnasError):
    """A proxy failed and the caller asked for failures to be raised."""


def check_int(name: str, value: object, owner: str, minimum: int | None = None) -> int:
    """Validate an integer parameter with a scikit-learn style message."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if ok and (minimum is None or value >= minimum):
        return value  # type: ignore[return-value]
    cond = f"an int >= {minimum}" if minimum is not None else "an int"
    raise InputError(f"The {name!r} parameter of {owner} must be {cond}. Got {value!r} instead.")
