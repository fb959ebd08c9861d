"""The zcnas version (lowest layer: every module may import it)."""

__version__ = "0.1.0"
