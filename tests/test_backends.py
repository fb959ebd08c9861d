"""Execution backends: the process pool and Ray give the local results; dead workers are retried."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zcnas import get_space
from zcnas.errors import UnknownNameError, ZcnasError
from zcnas.ranking import ScoringConfig, score_architectures
from zcnas.ranking.backends import LocalBackend, ProcessBackend, RayBackend, make_backend
from zcnas.records import RecordStore

PROXIES = ["synflow", "naswot", "params"]
REPO = Path(__file__).resolve().parents[1]


def _values(long: pd.DataFrame) -> pd.Series:
    return long.set_index(["arch", "proxy"])["value"].sort_index()


@pytest.fixture(scope="module")
def archs():
    return get_space("nb201").sample(6, seed=21)


@pytest.fixture(scope="module")
def local_scores(archs):
    return score_architectures(archs, PROXIES, ScoringConfig(batch_size=8), progress=False,
                               backend=LocalBackend(threads=1))


def test_make_backend():
    assert isinstance(make_backend("local"), LocalBackend)
    assert make_backend("process", workers=3, address="ignored").workers == 3
    with pytest.raises(UnknownNameError, match="Did you mean 'ray'"):
        make_backend("rya")


def test_process_backend_equals_local(archs, local_scores, tmp_path):
    with RecordStore(tmp_path / "p.h5") as st:
        proc = score_architectures(archs, PROXIES, ScoringConfig(batch_size=8), progress=False,
                                   backend=ProcessBackend(workers=2), store=st)
    pd.testing.assert_series_equal(_values(proc), _values(local_scores))  # bitwise: 1 thread each


def _die_once(item, payload):
    """Task that kills its worker process the first time it sees an item (marker file)."""
    import hashlib

    from zcnas.ranking.scoring import _score_task

    marker = os.path.join(payload[-1], "died-" + hashlib.sha1(item[0].encode()).hexdigest()[:12])
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return _score_task(item, payload[:-1])


def _always_die(item, payload):
    os._exit(1)


def test_process_backend_gives_up_on_a_poison_item(archs):
    items = [(get_space("nb201").format(archs[0]), ["params"])]
    with pytest.raises(ZcnasError, match="died 3 times"):
        list(ProcessBackend(workers=1, max_retries=2).map(_always_die, items, None))


def test_process_backend_retries_a_dead_worker(archs, tmp_path):
    items = [(get_space("nb201").format(a), ["params"]) for a in archs[:3]]
    cfg = ScoringConfig(batch_size=8)
    out = {k[0]: v for k, v in ProcessBackend(workers=2).map(_die_once, items, (cfg, None, True, False, str(tmp_path)))}
    assert set(out) == {i[0] for i in items} and all(r["params"].ok for r in out.values())


ray = pytest.importorskip("ray", reason="Ray not installed: pip install 'zcnas[ray]'")


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


@pytest.mark.ray
def test_ray_backend_equals_local_and_store_single_writer(archs, local_scores, ray_cluster, tmp_path):
    store = tmp_path / "ray.h5"
    with RecordStore(store) as st:
        res = score_architectures(archs, PROXIES, ScoringConfig(batch_size=8), progress=False,
                                  backend=RayBackend(), store=st)
    pd.testing.assert_series_equal(_values(res), _values(local_scores))
    with RecordStore(store, "r") as st:
        assert len(st.frame("scores")) == len(archs) * len(PROXIES)


@pytest.mark.ray
def test_ray_retries_a_killed_worker(archs, ray_cluster, tmp_path):
    """Each task's worker process dies once mid-run; Ray retries it and nothing is lost."""
    import sys

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers can't import tests
    items = [(get_space("nb201").format(a), ["params", "synflow"]) for a in archs[:4]]
    cfg = ScoringConfig(batch_size=8)
    out = {k[0]: v for k, v in RayBackend(max_retries=2).map(_die_once, items, (cfg, None, True, False, str(tmp_path)))}
    assert set(out) == {i[0] for i in items}
    assert all(r["synflow"].ok for r in out.values())
    assert len([f for f in os.listdir(tmp_path) if f.startswith("died-")]) == 4


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return not any(line.startswith("State:") and "Z" in line for line in fh)
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc to see the workers")
def test_process_workers_exit_when_the_parent_is_killed(tmp_path):
    """SIGKILL of a run (no clean-up runs) leaves no worker process computing for nobody."""
    (tmp_path / "slowmod.py").write_text(
        "import os, time\n"
        "def work(item, folder):\n"
        "    open(os.path.join(folder, str(os.getpid())), 'w').close()\n"
        "    time.sleep(120)\n")
    script = ("import sys\nfrom zcnas.ranking.backends import ProcessBackend\nimport slowmod\n"
              "for _ in ProcessBackend(workers=2, threads=None).map(slowmod.work, range(8), sys.argv[1]):\n"
              "    pass\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)])}
    pids = tmp_path / "pids"
    pids.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", script, str(pids)], env=env)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(pids.iterdir())) < 2:
        time.sleep(0.1)
    workers = [int(p.name) for p in pids.iterdir()]
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)
