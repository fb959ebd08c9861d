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


#: tests that start worker processes or Ray, or kill a run: correct but seconds each, so
#: `make test-fast` leaves them out (-m "not processes"); `make test` runs them
PROCESS_TESTS = ("test_backends.py::", "test_rank.py::test_sigkill", "test_store.py::test_resume_after_sigkill",
                 "test_store_properties.py::test_sigkill", "test_prefilter.py::test_prefilter_process_backend",
                 "test_bad_inputs.py::test_output_piped", "test_layers.py::test_analysis_layers_import")


def pytest_collection_modifyitems(config, items):
    """Mark the process tests; skip the benchmark-data tests (with the reason) when there is no data."""
    skip = None
    if _bench_root() is None:
        skip = pytest.mark.skip(reason="benchmark data not available: set ZCNAS_DATA to ../shared/benchmarks")
    for item in items:
        if any(key in item.nodeid for key in PROCESS_TESTS):
            item.add_marker(pytest.mark.processes)
        if skip is not None and "benchdata" in item.keywords:
            item.add_marker(skip)

