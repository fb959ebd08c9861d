"""zcnas: zero-cost proxy and surrogate ranking engine for neural architecture search."""

from zcnas.arch import Architecture
from zcnas.spaces import get_space, list_spaces

__version__ = "0.1.0"

__all__ = ["Architecture", "get_space", "list_spaces", "__version__"]
