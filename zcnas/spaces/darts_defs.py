"""The DARTS cell's fixed shape as plain Python, shared by the space and its network module
(which imports this, never the space module)."""

from __future__ import annotations

#: intermediate nodes; pairs 2(i-2), 2(i-2)+1 of a cell feed node i
NODES: tuple[int, ...] = (2, 3, 4, 5)
