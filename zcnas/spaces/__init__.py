"""Search spaces, registered by name: ``get_space("nb201")``, ``list_spaces()``."""

from __future__ import annotations

from zcnas.arch import install_formatter
from zcnas.registry import Registry
from zcnas.spaces.base import EnumerableSpace, SearchSpace, TrainingRecipe

SPACES: Registry[type[SearchSpace]] = Registry("search space")
_instances: dict[str, SearchSpace] = {}


_default: list[str] = []


def register_space(name: str, aliases: tuple[str, ...] = (), description: str = "", *, default: bool = False):
    """Class decorator that registers a :class:`SearchSpace` subclass. ``default=True`` makes it
    the space used when none is named (one space only)."""

    def deco(cls: type[SearchSpace]) -> type[SearchSpace]:
        if default:
            if _default:
                raise ValueError(f"default space already registered: {_default[0]!r}")
            _default.append(name)
        cls.name = name
        SPACES.add(name, cls, aliases, description=description)
        install_formatter(name, lambda arch: get_space(name).format(arch))
        return cls

    return deco


def default_space() -> str:
    """The name of the space used when none is given (declared by its module)."""
    return _default[0]


def get_space(name: str | None = None) -> SearchSpace:
    """The (shared, stateless) instance of the space called ``name`` or one of its aliases
    (``None``: the default space)."""
    canonical = SPACES.resolve(name or default_space())
    if canonical not in _instances:
        _instances[canonical] = SPACES.get(canonical)()
    return _instances[canonical]


def list_spaces(pattern: str = "*") -> list[str]:
    return SPACES.names(pattern)


def _discover() -> None:
    """Import every space module of this package (each registers itself): a new space is a new
    file ``zcnas/spaces/<name>.py``; its network module is ``<name>_net.py`` (imported on build)."""
    import importlib
    import pkgutil

    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if m.name != "base" and not m.name.startswith("_") and not m.name.endswith("_net"):
            importlib.import_module(f"{__name__}.{m.name}")


_discover()

__all__ = ["EnumerableSpace", "SearchSpace", "TrainingRecipe", "default_space", "get_space", "list_spaces",
           "register_space", "SPACES"]
