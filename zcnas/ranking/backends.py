"""Execution backends for scoring: in-process, a local process pool, or a Ray cluster.

A backend maps a picklable task function over work items and yields ``(item, result)`` pairs as
they finish; the caller (the only writer of the record store) saves each result as it arrives.
A worker that dies loses only its item in flight, which is retried.

**One run key, one set of values.** Every backend runs each task with torch's intra-op thread
count fixed at :data:`SCORING_THREADS` (1) and restores the caller's count afterwards: float sums
split over several threads round differently (jacob_cov and naswot moved by up to 2e-3 relative
between the local backend's default thread count and the process backend's one), so without this
a run resumed with another backend, or on a machine with another core count, would mix values
under one run key. Speed comes from workers (``--backend process``), not from threads.

**Workers never outlive their parent.** A process worker arms its guards while it unpickles its
start-up arguments: first, on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` as a pickled stdlib call
before any zcnas module is imported (the kernel kills it when the parent dies); then, before the
payload imports torch, a check of the parent's pid (in case the parent died before the signal was
set) and, everywhere, a thread that waits on a pipe only the parent holds open and exits the worker
at end-of-file. (The death signal follows the thread that started the worker: iterate ``map`` in
the thread that called it.) The multiprocessing resource tracker exits by itself once the parent
and the workers are gone (it holds only their pipe ends).
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from zcnas.errors import InputError, ZcnasError, check_int
from zcnas.registry import Registry

log = logging.getLogger("zcnas")

BACKENDS: Registry[type[Backend]] = Registry("backend")

_WORKER_PAYLOAD: Any = None


def tune_malloc() -> bool:
    """Keep freed memory in this worker process instead of returning it to the OS after every
    network (glibc ``mallopt``): scoring allocates and frees the same few-MB activations for every
    architecture, and with glibc's defaults each round trip costs page faults. Measured on NB201 at
    batch 64: system time 0.41 s -> 0.04 s per 8 networks, about 4% of the CPU time. Peak memory is
    unchanged (the same buffers are reused). No-op off glibc; returns whether it applied."""
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    # 32 MiB is glibc's largest mmap threshold on 64-bit; larger blocks are rare at these sizes
    return all(mallopt(opt, val) == 1 for opt, val in ((m_mmap_threshold, 32 << 20),
                                                       (m_trim_threshold, 1 << 30),
                                                       (m_top_pad, 64 << 20)))


#: torch intra-op threads while a task runs, in every backend (module notes)
SCORING_THREADS = 1


@contextmanager
def fixed_threads(n: int = SCORING_THREADS) -> Iterator[None]:
    """Run the body with ``torch.set_num_threads(n)``; the previous count is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _check_threads(threads: int | None, owner: str) -> None:
    if threads not in (None, SCORING_THREADS):
        raise InputError(f"The 'threads' parameter of {owner} must be None or {SCORING_THREADS}: scoring always "
                         f"runs with {SCORING_THREADS} torch thread so that values do not depend on the backend "
                         f"or the machine. Got {threads!r} instead; use more workers for speed.")


def _set_parent_death_signal() -> bool:
    """Linux: ask the kernel to SIGKILL this process when its parent dies. Returns whether it applied."""
    import ctypes
    import ctypes.util
    import platform
    import signal

    if platform.system() != "Linux":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        return libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_pipe(reader: Any) -> None:
    """Block until the parent's end of the pipe closes (the parent is gone), then exit now."""
    try:
        while True:
            reader.recv_bytes()  # the parent never writes; only EOF or an error ends this
    except BaseException:  # noqa: BLE001 - EOFError/OSError: the parent is gone
        os._exit(1)


def _arm_parent_guard(parent_pid: int, reader: Any) -> int:
    """Worker side, called while the worker unpickles its start-up arguments (see
    :class:`_ParentGuard`): exit at once if the parent is already gone, else make sure this worker
    dies with it (death signal and pipe watchdog)."""
    import threading

    _set_parent_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the death signal was set
        os._exit(1)
    threading.Thread(target=_watch_pipe, args=(reader,), name="zcnas-parent-watch", daemon=True).start()
    return parent_pid


class _PickleCall:
    """Parent side only: pickles as ``func(*args)``, evaluated by the unpickler in the worker. Used to
    run stdlib calls (ctypes) at the very start of a worker's arguments, before any zcnas module
    is imported; never called in the parent."""

    def __init__(self, func: Any, *args: Any):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)

    def __call__(self, *args: Any) -> Any:  # pickle requires a callable; the worker gets the real one
        raise TypeError("_PickleCall is only evaluated when unpickled")


def _early_death_signal() -> Any:
    """``prctl(PR_SET_PDEATHSIG, SIGKILL)`` as a pickle of stdlib calls (Linux; elsewhere ``int(0)``):
    ``ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)``."""
    import platform
    import signal

    if platform.system() != "Linux":
        return _PickleCall(int, 0)
    import ctypes

    prctl = _PickleCall(getattr, _PickleCall(ctypes.CDLL, None), "prctl")
    return _PickleCall(prctl, 1, int(signal.SIGKILL), 0, 0, 0)


def _worker_initializer() -> Any:
    """``_init_worker`` as the pool's initializer, pickled so that the worker first sets the parent
    death signal (stdlib only), and only then imports zcnas to resolve ``_init_worker``."""
    import operator

    return _PickleCall(operator.itemgetter(1), (_early_death_signal(), _init_worker))


class _ParentGuard:
    """Parent side: a pipe whose write end only this process holds. Pickled into a worker's
    start-up arguments, it unpickles as a call to :func:`_arm_parent_guard` with the read end."""

    def __init__(self, context: Any):
        self.pid = os.getpid()
        self.reader, self.writer = context.Pipe(duplex=False)

    def __reduce__(self):
        return (_arm_parent_guard, (self.pid, self.reader))

    def close(self) -> None:
        self.writer.close()
        self.reader.close()


def _init_worker(guard: int, payload: Any, threads: int | None) -> None:
    global _WORKER_PAYLOAD
    _WORKER_PAYLOAD = payload
    tune_malloc()
    import torch

    torch.set_num_threads(SCORING_THREADS)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass


def _call_with_payload(fn: Callable[[Any, Any], Any], item: Any) -> Any:
    with fixed_threads():
        return fn(item, _WORKER_PAYLOAD)


class Backend(ABC):
    """Runs ``fn(item, payload)`` for every item; ``payload`` is shipped to each worker once."""

    @abstractmethod
    def map(self, fn: Callable[[Any, Any], Any], items: Iterable[Any], payload: Any) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, fn(item, payload))`` as items finish (any order)."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        pass


class LocalBackend(Backend):
    """Everything in the calling process, one item after another, each with
    :data:`SCORING_THREADS` torch threads (the caller's count is restored between items)."""

    def __init__(self, threads: int | None = None):
        _check_threads(threads, "LocalBackend")
        self.threads = threads

    def map(self, fn, items, payload):
        for item in items:
            with fixed_threads():
                result = fn(item, payload)
            yield item, result


class ProcessBackend(Backend):
    """A pool of worker processes on this machine (``spawn``), one torch thread each. Workers exit
    within about a second of the parent's death, at any moment of their start-up (module notes)."""

    def __init__(self, workers: int | None = None, threads: int | None = 1, max_retries: int = 2):
        self.workers = check_int("workers", workers or (os.cpu_count() or 1), "ProcessBackend", minimum=1)
        _check_threads(threads, "ProcessBackend")
        self.threads = threads
        self.max_retries = max_retries
        self._guards: list[_ParentGuard] = []

    def _pool(self, payload):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("spawn")
        guard = _ParentGuard(ctx)
        self._guards.append(guard)
        # the guard comes first: it is unpickled (and armed) before the payload imports torch
        return ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_worker_initializer(),
                                   initargs=(guard, payload, self.threads))

    def _release(self, pool) -> None:
        pool.shutdown(wait=False, cancel_futures=True)
        while self._guards:  # no worker of a shut-down pool has anything left to do
            self._guards.pop().close()

    def map(self, fn, items, payload):
        """Items run ``4 * workers`` at a time. When a worker dies, the pool is rebuilt and the
        items that were in flight are retried one at a time, so only an item that kills a worker
        on its own is blamed; it is given up after ``max_retries`` deaths."""
        from collections import deque
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        items = list(items)
        queue = deque(range(len(items)))
        suspects: deque[int] = deque()
        deaths = [0] * len(items)
        window = 4 * self.workers
        pool = self._pool(payload)
        try:
            futures: dict[Any, int] = {}
            while queue or suspects or futures:
                if suspects:  # isolate: one suspect alone in the pool
                    if not futures:
                        i = suspects.popleft()
                        futures[pool.submit(_call_with_payload, fn, items[i])] = i
                else:
                    while queue and len(futures) < window:
                        i = queue.popleft()
                        futures[pool.submit(_call_with_payload, fn, items[i])] = i
                alone = len(futures) == 1
                done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                broken = False
                for f in done:
                    i = futures.pop(f)
                    try:
                        result = f.result()
                    except BrokenProcessPool:
                        broken = True
                        if alone:
                            deaths[i] += 1
                            if deaths[i] > self.max_retries:
                                raise ZcnasError(f"A worker process died {deaths[i]} times while scoring "
                                                 f"{items[i]!r}; finished results are saved.") from None
                        suspects.append(i)
                        continue
                    yield items[i], result
                if broken:  # a worker died: every future of this pool is lost; redo them
                    suspects.extend(futures.values())
                    futures.clear()
                    log.warning("a worker process died; restarting the pool and retrying %d item(s)",
                                len(suspects))
                    self._release(pool)
                    pool = self._pool(payload)
        finally:
            self._release(pool)


class RayBackend(Backend):
    """Tasks on a Ray cluster (``address`` or ``RAY_ADDRESS``; a local one when neither is set).
    Each task asks for one CPU; a task whose worker dies is retried by Ray (``max_retries``)."""

    def __init__(self, address: str | None = None, workers: int | None = None, threads: int | None = 1,
                 max_retries: int = 3):
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.workers = workers
        _check_threads(threads, "RayBackend")
        self.threads = threads
        self.max_retries = max_retries

    def map(self, fn, items, payload):
        try:
            import ray
        except ModuleNotFoundError:
            raise InputError("The Ray backend needs Ray: pip install 'zcnas[ray]'.") from None
        started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False,
                                      "include_dashboard": False}
            if self.address:
                kwargs["address"] = self.address
            elif self.workers:
                kwargs["num_cpus"] = self.workers
            ray.init(**kwargs)
            started = True
        try:
            @ray.remote(num_cpus=1, max_retries=self.max_retries, retry_exceptions=False)
            def task(item, payload_):
                tune_malloc()  # idempotent; the worker process is ours while it runs the task
                with fixed_threads():
                    return fn(item, payload_)

            ref = ray.put(payload)
            items = list(items)
            window = max(4, 4 * int(ray.available_resources().get("CPU", 1)))
            inflight: dict[Any, Any] = {}
            nxt = 0
            while nxt < len(items) or inflight:
                while nxt < len(items) and len(inflight) < window:
                    inflight[task.remote(items[nxt], ref)] = items[nxt]
                    nxt += 1
                ready, _ = ray.wait(list(inflight), num_returns=1)
                for r in ready:
                    yield inflight.pop(r), ray.get(r)
        finally:
            if started and not self.address:
                ray.shutdown()


BACKENDS.add("local", LocalBackend, description="in this process")
BACKENDS.add("process", ProcessBackend, aliases=("processes", "mp"), description="local worker processes")
BACKENDS.add("ray", RayBackend, description="Ray cluster (--ray-address or RAY_ADDRESS)")


def make_backend(name: str = "local", **options: Any) -> Backend:
    """Backend by name; options it does not take are dropped (e.g. ``address`` for local)."""
    import inspect

    cls = BACKENDS.get(name)
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in options.items() if k in accepted and v is not None})
