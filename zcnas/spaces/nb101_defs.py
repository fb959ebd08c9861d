"""NB101's network plan as plain Python (no torch): shared by the space (analytic parameter
counts) and its network module, which imports this, never the space module."""

from __future__ import annotations

from collections.abc import Sequence

#: NB101's network (nasbench/lib/config.py defaults, the values of the exhaustive evaluation)
STEM_CHANNELS = 128
NUM_STACKS = 3
CELLS_PER_STACK = 3


def vertex_channels(c_in: int, c_out: int, matrix: Sequence[Sequence[int]]) -> list[int]:
    """Output channels of every vertex of a pruned cell (nasbench ``compute_vertex_channels``):
    the output's channels are split evenly over the vertices feeding it (the first ones in vertex
    order take one extra channel each while the division leaves a remainder); every other interior
    vertex takes the largest width among the interior vertices it feeds."""
    n = len(matrix)
    ch = [0] * n
    ch[0], ch[n - 1] = c_in, c_out
    if n == 2:
        return ch
    fan_in = sum(matrix[v][n - 1] for v in range(1, n - 1))
    width, extra = divmod(c_out, fan_in)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            ch[v] = width + (1 if extra > 0 else 0)
            extra -= 1 if extra > 0 else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v][dst]:
                    ch[v] = max(ch[v], ch[dst])
    return ch


def stack_plan(stem_channels: int = STEM_CHANNELS, num_stacks: int = NUM_STACKS,
               cells_per_stack: int = CELLS_PER_STACK) -> list[tuple[int, int, bool]]:
    """``(c_in, c_out, downsample_before)`` of every cell of NB101's network, in order."""
    plan, c = [], stem_channels
    for s in range(num_stacks):
        c_out = c * 2 if s > 0 else c
        for m in range(cells_per_stack):
            plan.append((c, c_out, s > 0 and m == 0))
            c = c_out
    return plan
