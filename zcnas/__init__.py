"""zcnas: zero-cost proxy and surrogate ranking engine for neural architecture search."""

from zcnas._version import __version__
from zcnas.arch import Architecture
from zcnas.spaces import get_space, list_spaces


def prefilter(candidates, k, **options):
    """The best ``k`` of ``candidates`` by zero-cost proxies (see :func:`zcnas.ranking.prefilter`)."""
    from zcnas.ranking import prefilter as _prefilter

    return _prefilter(candidates, k, **options)


__all__ = ["Architecture", "get_space", "list_spaces", "prefilter", "__version__"]
