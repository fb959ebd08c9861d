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


# ---- one run key, one set of values (issue 16.3) --------------------------------------------------
def test_local_default_threads_and_process_backend_bitwise_equal():
    """The local backend under the caller's thread count (torch's default is the core count; the
    suite's conftest pins 1, so set 2 here) and the process backend give bitwise-equal values."""
    import torch

    archs6 = get_space("nb201").sample(6, seed=1)
    cfg = ScoringConfig(batch_size=8)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        local = score_architectures(archs6, ["jacob_cov", "naswot"], cfg, progress=False, backend=LocalBackend())
        assert torch.get_num_threads() == 2  # the caller's setting is restored
    finally:
        torch.set_num_threads(before)
    proc = score_architectures(archs6, ["jacob_cov", "naswot"], cfg, progress=False,
                               backend=ProcessBackend(workers=1))
    a, b = _values(local), _values(proc)
    assert a.notna().all() and (a.to_numpy() == b.to_numpy()).all(), (a - b).abs().max()


def test_thread_count_other_than_one_is_refused():
    from zcnas.errors import InputError

    for cls in (LocalBackend, ProcessBackend, RayBackend):
        with pytest.raises(InputError, match="'threads' parameter .* must be None or 1"):
            cls(threads=4)


# ---- workers never outlive their parent (issue 16.4) ----------------------------------------------
def _tagged(token: str) -> list[int]:
    """Live processes (not zombies) whose environment holds ``token``."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if token.encode() in (d / "environ").read_bytes() and _alive(int(d.name)):
                out.append(int(d.name))
        except OSError:
            continue
    return out


_SCORING_SCRIPT = ("if __name__ == '__main__':  # imports here, as the CLI imports lazily\n"
                   "    from zcnas import get_space\n"
                   "    from zcnas.ranking import ScoringConfig, score_architectures\n"
                   "    from zcnas.ranking.backends import ProcessBackend\n"
                   "    archs = get_space('nb201').sample(400, seed=3)  # long enough to be alive when killed\n"
                   "    score_architectures(archs, ['synflow', 'params'], ScoringConfig(batch_size=8),\n"
                   "                        progress=False, backend=ProcessBackend(workers=2))\n")


def kill_during_startup(delay_s: float, token: str, script: Path, env: dict, grace_s: float = 20.0) -> dict:
    """Start a process-backend scoring, SIGKILL it ``delay_s`` after its first worker appears, and
    return how many of its descendants (workers, resource tracker) are alive ``grace_s`` later."""
    proc = subprocess.Popen([sys.executable, str(script)], env={**env, "ZCNAS_ORPHAN_TOKEN": token},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    first: list[int] = []
    while time.time() < deadline and not first:
        first = [p for p in _tagged(token) if p != proc.pid]
        time.sleep(0.01)
    time.sleep(delay_s)
    # a descendant seen at first sight counts even if a busy machine let it exit before the kill
    seen = set(first) | {p for p in _tagged(token) if p != proc.pid}
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    t0 = time.time()
    while time.time() - t0 < grace_s and _tagged(token):
        time.sleep(0.05)
    left = _tagged(token)
    gone_s = time.time() - t0
    for p in left:  # clean up after a failing trial
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return {"delay_s": delay_s, "children_seen": len(seen), "orphans": len(left), "gone_after_s": gone_s}


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc to find the workers")
@pytest.mark.parametrize("delay_s", [0.0, 0.2, 0.6, 1.0, 1.5])
def test_no_orphans_when_killed_during_worker_startup(delay_s, tmp_path):
    script = tmp_path / "score.py"
    script.write_text(_SCORING_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = kill_during_startup(delay_s, f"zcnas-orphan-test-{os.getpid()}-{delay_s}", script, env)
    assert out["children_seen"] >= 1
    assert out["orphans"] == 0, out
