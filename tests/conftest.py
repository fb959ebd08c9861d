"""Shared fixtures. Tests that need the benchmark data find it through ZCNAS_DATA (CI sets it to
../shared/benchmarks) and skip with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _bench_root() -> Path | None:
    raw = os.environ.get("ZCNAS_DATA")
    if raw and Path(raw).is_dir():
        return Path(raw)
    return None


@pytest.fixture(scope="session")
def bench_root() -> Path:
    root = _bench_root()
    if root is None:
        pytest.skip("benchmark data not available: set ZCNAS_DATA to the shared benchmarks folder")
    return root


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """One torch thread per test process, for the whole session: with pytest-xdist workers on a
    small shared machine, several OpenMP threads each are many times slower than one. Session scope
    matters: module fixtures are set up before function fixtures, and a value computed with 8
    threads differs in the last bits from the same value computed with 1 (summation order)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_collection_modifyitems(config, items):
    if _bench_root() is not None:
        return
    skip = pytest.mark.skip(reason="benchmark data not available: set ZCNAS_DATA to ../shared/benchmarks")
    for item in items:
        if "benchdata" in item.keywords:
            item.add_marker(skip)
