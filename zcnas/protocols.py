"""What a proxy may ask of a built network beyond ``nn.Module``: small, declared protocols.

Proxies take any ``torch.nn.Module``. A few published proxies are defined on a part of the
network that a generic module does not name; a space's network declares that part by
implementing one of these methods, and a proxy on a network without it fails with a recorded
reason that names the protocol (never a crash, never a guessed number).

=====================  ========================================  ==================================
protocol               method                                    used by
=====================  ========================================  ==================================
:class:`ThinCopy`      ``thin_copy() -> nn.Module``: the same     ``te_lr`` (TE-NAS counts linear
                       architecture at 1 channel and 1 cell per   regions on that network)
                       stage, freshly initialised
:class:`BlockTrunk`    ``block_trunk() -> Sequence[nn.Module]``:  ``az_*`` (AZ-NAS's layer
                       the chain of blocks whose input and        features are the chain's input
                       outputs are the network's layer features   and every block's output)
:class:`FeatureTap`    ``feature_tap() -> nn.Module``: the        ``zen`` (Zen-NAS's f is the
                       module whose input is the network's final  feature map before the head)
                       feature map (the global pool of a
                       classifier, the last layer of a dense
                       decoder)
=====================  ========================================  ==================================

``feature_tap`` is optional: without it, zen reads the input of the network's last global average
pool (``nn.AdaptiveAvgPool2d``), which every classifier here has; a network without a pool (a dense
decoder) must declare it. Implemented by: NB201, NB101, DARTS (``thin_copy``, ``block_trunk``),
TNB101 (all three). A space that implements one lists it in its ``network_protocols``.
This module imports no torch; the protocols are structural (``isinstance`` works on any object
with the method).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ThinCopy(Protocol):
    def thin_copy(self) -> Any:
        """The same architecture at 1 channel and 1 cell per stage, a new module."""


@runtime_checkable
class BlockTrunk(Protocol):
    def block_trunk(self) -> Sequence[Any]:
        """The ordered chain of blocks whose input and block outputs are the layer features."""


@runtime_checkable
class FeatureTap(Protocol):
    def feature_tap(self) -> Any:
        """The module whose input is the network's final feature map (before the head)."""


PROTOCOLS: dict[str, type] = {"thin_copy": ThinCopy, "block_trunk": BlockTrunk, "feature_tap": FeatureTap}


def require(model: Any, protocol: type, proxy: str) -> None:
    """Raise ``TypeError`` naming ``protocol`` when ``model`` does not implement it."""
    if not isinstance(model, protocol):
        method = next(n for n, p in PROTOCOLS.items() if p is protocol)
        raise TypeError(f"{proxy} needs a network implementing zcnas.protocols.{protocol.__name__} "
                        f"({method}()); {type(model).__name__} has none (see zcnas.protocols for "
                        f"which spaces implement it)")
