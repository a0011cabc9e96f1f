"""Dask: chunks as tasks on a ``distributed`` cluster, for more than one machine.

Options (``search(..., backend="dask", backend_options={...})``): ``scheduler``, an
address such as ``"tcp://host:8786"`` or a ``distributed.Client`` (None starts an
embedded ``LocalCluster`` of ``max_workers`` single-threaded processes on loopback,
dashboard off and its HTTP server on a free loopback port, never 8787, closed with the
run; a given cluster is left running; an address is first probed with Dask's own
handshake, bounded by ``CONNECT_TIMEOUT``, so that an unreachable address, or a port
where something other than a scheduler listens, fails at once and leaves no half-made
``Client`` behind), and
``security``, a ``distributed.Security`` (a scheduler's TCP port is unauthenticated
without TLS), and ``trust_scheduler`` (default False). Connecting to a scheduler means
trusting it: Dask's protocol unpickles what the scheduler sends, so the scheduler, or
whatever listens at its address, can run code in this process. A plain ``tcp://`` (or
``ws://``) address that is not on loopback is therefore refused with a ``ValueError``
unless ``trust_scheduler=True`` says the network and the scheduler are trusted; use
``tls://`` with ``security`` otherwise. Tasks go out without Dask's own ``retries``, so
a chunk that raised is never run again. The embedded cluster's scheduler allows no failures
(``allowed-failures`` 0): a task whose worker died comes back as ``KilledWorker`` at
once, is reported lost, and the loop reruns it only as ``retries`` allows, as on every
backend. A cluster you pass in keeps its own setting (Dask's default reruns a lost
worker's tasks up to 3 times before the loop hears of it).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ipaddress
import logging
import os
import queue
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

from perfectly.parallel import _mixing
from perfectly.parallel._executor import Executor, drain
from perfectly.parallel._task import (
    ChunkResult,
    Event,
    Failed,
    Finished,
    Lost,
    Task,
    WorkerError,
    run_pickled,
)

CONNECT_TIMEOUT = 5.0  # seconds


def _dask_task(task: Task) -> ChunkResult:
    from distributed import get_worker

    try:
        return run_pickled(task, get_worker().address)
    except Exception:
        raise
    except BaseException as exc:  # SystemExit: raised, it would take the Dask worker down
        raise WorkerError(f"{type(exc).__name__}: {exc}") from None


def _probe(distributed: Any, address: str, security: Any) -> None:
    """An error unless a Dask scheduler answers the handshake at ``address`` within
    ``CONNECT_TIMEOUT`` s. ``distributed.Client`` waits for that answer without a
    timeout: a silent port would hang it, and its ``__del__`` print a traceback later."""
    import asyncio  # here, not at the top: it takes ~25 ms of every `import perfectly`

    scheme, location = distributed.comm.parse_address(address)
    if scheme in ("tcp", "tls"):  # a refused port fails now, not after Dask's retries
        host, port = distributed.comm.parse_host_port(location)
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    args = {} if security is None else security.get_connection_args("client")

    async def handshake() -> None:
        comm = await distributed.comm.connect(address, timeout=CONNECT_TIMEOUT, **args)
        await comm.close()

    async def bounded() -> None:
        try:
            await asyncio.wait_for(handshake(), CONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no Dask handshake within {CONNECT_TIMEOUT} s") from None

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # an event loop of its own
        pool.submit(asyncio.run, bounded()).result()


def _is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is this machine's loopback only."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(ipaddress.ip_address(f[4][0]).is_loopback for f in found)


def _check_trusted(distributed: Any, address: str, trusted: bool) -> None:
    """``ValueError`` for a plain (unencrypted, unauthenticated) address off loopback,
    unless the caller said it trusts the scheduler and the network to it."""
    try:
        scheme, location = distributed.comm.parse_address(address)
        host = distributed.comm.parse_host_port(location)[0] if scheme in ("tcp", "ws") else ""
    except (ValueError, TypeError) as exc:
        raise ValueError(f"scheduler={address!r} is not a Dask address: {exc}") from None
    if scheme in ("tcp", "ws") and not trusted and not _is_loopback(host):
        raise ValueError(
            f"scheduler={address!r} is plain {scheme}:// off this machine: a Dask client runs "
            "what its scheduler sends (pickles), so anyone who can answer at that address "
            "could run code here; use tls:// with backend_options security=distributed."
            "Security(...), or say you trust the scheduler and the network with "
            "backend_options trust_scheduler=True (--trust-scheduler)"
        )


@contextlib.contextmanager
def _quiet_while(quiet: bool) -> Iterator[None]:
    """Dask's own log records held back (when ``quiet``): the embedded cluster's scheduler
    runs in this process and logs an error for each task whose worker we killed."""
    log = logging.getLogger("distributed")
    level = log.level
    if quiet:
        log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[list[object]]:
    """Ctrl-C held back (in the main thread) while the embedded cluster starts: one that
    interrupted ``LocalCluster`` half-way left it to Dask's exit hook, which failed on it
    with a traceback of ~30 lines (8 of 16 tries, 2026-12-05). The caller reads the list:
    non-empty when Ctrl-C came, and then acts on it once the cluster can be closed."""
    pending: list[object] = []
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    previous = signal.signal(signal.SIGINT, lambda *_: pending.append(True))
    try:
        yield pending
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def dask_setup(worker: Any) -> None:
    """Preload hook Dask runs in each embedded worker process: Ctrl-C is the parent's to
    handle (it closes the cluster), so a worker ignores it and prints no traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _SyncCancelRace(logging.Filter):
    """Drops the traceback that ``distributed.utils.sync`` makes Tornado log when Ctrl-C
    lands before its coroutine has started: its ``cancel`` callback reads ``future``
    before anything was assigned to it (a ``NameError``; distributed 2026.8.0). The
    interrupt itself goes on as it should; only this record is dropped, so that Ctrl-C
    still prints one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, NameError) and "'future'" in str(error))


def _drop_sync_cancel_race() -> None:
    """Install :class:`_SyncCancelRace` on Tornado's application logger (once)."""
    log = logging.getLogger("tornado.application")
    if not any(isinstance(f, _SyncCancelRace) for f in log.filters):
        log.addFilter(_SyncCancelRace())


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            'backend="dask" needs dask.distributed: pip install "dask[distributed]" (in a '
            'perfectly checkout: pip install ".[dask]")'
        ) from exc
    return distributed


class DaskExecutor(Executor):
    """Chunks as tasks on a Dask cluster, for more than one machine.

    Without a ``scheduler``, :meth:`~Executor.start` starts an embedded ``LocalCluster``
    of ``max_workers`` single-threaded processes on loopback (no dashboard), closed at
    shutdown; a given cluster is left running. Connecting to a scheduler means trusting
    it: Dask's protocol unpickles what the scheduler sends, so the scheduler, or whatever
    answers at its address, can run code in this process. Tasks go out without Dask's
    own ``retries``: a chunk that raised is never run again, and one whose worker died
    is rerun only as the loop's ``retries`` allows (on the embedded cluster; a cluster
    you pass in keeps its own setting). Needs ``dask[distributed]``.

    Parameters
    ----------
    max_workers : int or None, default None
        Worker count: 1 to 4096, or None or -1 for every CPU this process may use (the
        embedded cluster's processes; with a ``scheduler``, the slots that pace the
        tasks).
    scheduler : str, distributed.Client or None, default None
        A scheduler's address (``"tls://host:8786"``, say; probed with Dask's handshake,
        with a 5 s timeout), or a ``Client`` to use as it is; None: the embedded cluster.
    security : distributed.Security or None, default None
        TLS settings for the scheduler, and for the embedded cluster.
    trust_scheduler : bool, default False
        Allow a plain ``tcp://`` or ``ws://`` address off loopback (unencrypted and
        unauthenticated): say so only where the network and the scheduler are trusted.

    Raises
    ------
    TypeError
        ``trust_scheduler`` is not True or False, or ``max_workers`` not an integer.
    ValueError
        ``max_workers`` is out of range; from :meth:`~Executor.start`: ``scheduler``
        is not a Dask address, or is plain ``tcp://``/``ws://`` off loopback without
        ``trust_scheduler``.
    ImportError
        From :meth:`~Executor.start`: ``distributed`` is not installed.
    ConnectionError
        From :meth:`~Executor.start`: no Dask scheduler answers at ``scheduler``.
    RuntimeError
        From :meth:`~Executor.start`, before Python 3.14: worker interpreters run in
        this process (the two together crashed CPython 3.13).

    Examples
    --------
    >>> from perfectly.parallel import DaskExecutor, Job, Run
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> with Run(DaskExecutor(1), job, [Chunk(0, 1, 10_000)]) as run:  # embedded cluster
    ...     [result.census.perfect for result in run]
    [(6, 28, 496, 8128)]
    >>> DaskExecutor(2, scheduler="tcp://192.0.2.1:8786").start()
    Traceback (most recent call last):
        ...
    ValueError: scheduler='tcp://192.0.2.1:8786' is plain tcp:// off this machine: ...
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        scheduler: Any = None,
        security: Any = None,
        trust_scheduler: bool = False,
    ) -> None:
        super().__init__(max_workers)
        if not isinstance(trust_scheduler, bool):
            raise TypeError(
                f"backend_options 'trust_scheduler' must be True or False, not {trust_scheduler!r}"
            )
        self.scheduler, self.security = scheduler, security
        self.trust_scheduler = trust_scheduler
        self._distributed: Any = None
        self._client: Any = None
        self._cluster: Any = None  # one this executor started, and closes
        self._futures: dict[Any, tuple[int, int]] = {}
        self._done: queue.Queue[Any] = queue.Queue()  # futures, as they finish
        self._counted = False  # whether this executor counts as running in _mixing

    def _start(self) -> None:
        _mixing.dask_starting()  # refused beside worker interpreters on 3.13
        try:
            self._connect()
        except BaseException:
            _mixing.dask_stopped()
            raise
        self._counted = True

    def _connect(self) -> None:
        distributed = self._distributed = _import_distributed()
        _drop_sync_cancel_race()
        if isinstance(self.scheduler, distributed.Client):
            self._client = self.scheduler
        elif self.scheduler is not None:
            _check_trusted(distributed, self.scheduler, self.trust_scheduler)
            try:
                _probe(distributed, self.scheduler, self.security)
                self._client = distributed.Client(
                    self.scheduler,
                    timeout=CONNECT_TIMEOUT,
                    security=self.security,
                    set_as_default=False,
                )
            except Exception as exc:  # whatever the handshake met: no scheduler there
                raise ConnectionError(
                    f"cannot reach the Dask scheduler at scheduler={self.scheduler!r}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        else:
            with _ctrl_c_deferred() as pending:
                self._cluster = self._local_cluster(distributed)
                self._client = distributed.Client(self._cluster, set_as_default=False)
            if pending:  # Ctrl-C came while they started: close them whole, then act on it
                self._client.close()
                self._cluster.close()
                self._client = self._cluster = None
                raise KeyboardInterrupt

    def _kill_embedded_workers(self) -> None:
        """Stop the embedded cluster's worker processes at once: a Dask task cannot be
        interrupted, and a graceful close waits for the running chunk (a timeout
        overshot by 3-6 s with long chunks). Processes, as the process backends do."""
        for nanny in list(getattr(self._cluster, "workers", {}).values()):
            pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))

    def _local_cluster(self, distributed: Any) -> Any:
        """The embedded cluster: loopback, no dashboard, no reruns of its own."""
        import dask  # type: ignore[import-not-found,unused-ignore]

        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            return distributed.LocalCluster(
                n_workers=self.max_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": False},
                preload=[__name__],  # runs dask_setup in each worker
                silence_logs=logging.ERROR,  # not a warning per task a shutdown cancels
                security=self.security,
            )

    def _submit(self, slot: int, task: Task) -> None:
        future = self._client.submit(_dask_task, task, pure=False)
        self._futures[future] = (slot, task.chunk.index)
        future.add_done_callback(self._done.put)

    def wait(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        for future in drain(self._done, timeout):
            if future not in self._futures:
                continue  # cancelled by a shutdown
            slot, index = self._futures.pop(future)
            if future.status == "finished":
                events.append(Finished(slot, future.result()))
                continue
            error = future.exception() if future.status == "error" else None
            if error is None or isinstance(error, self._distributed.KilledWorker):
                events.append(Lost(slot, index))
            else:
                events.append(Failed(slot, index, error))
        return events

    def _stop(self, cancel: bool) -> None:
        for future in self._futures:
            future.cancel()
        self._futures.clear()
        with _quiet_while(cancel and self._cluster is not None):
            if cancel and self._cluster is not None:
                self._kill_embedded_workers()
            if self._client is not None and self._client is not self.scheduler:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        if self._counted:
            self._counted = False
            _mixing.dask_stopped()
