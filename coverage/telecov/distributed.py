"""Where a run measures: in this process, on a local dask cluster, or on an existing one.

The engine's partitions (:mod:`telecov.engine.tasks`) are pure tasks; this module only makes
the ``distributed.Client`` that runs them: ``workers=N`` starts a
``distributed.LocalCluster`` of N worker processes on 127.0.0.1 (one task at a time each,
the machine's cores shared out among their kernels),
``scheduler=ADDRESS`` connects to a running scheduler within ``scheduler_timeout`` seconds.
dask is an optional extra: ``pip install "telecom-coverage[dask]"``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from typing import Any

from .errors import InputError

__all__ = ["DASK_EXTRA", "connect", "scheduler_address"]

log = logging.getLogger(__name__)

DASK_EXTRA = 'pip install "telecom-coverage[dask]"'
"""What to install for ``workers`` / ``scheduler``."""
DEFAULT_SCHEDULER_TIMEOUT_S = 10.0
"""Seconds to wait for a scheduler to answer."""


def scheduler_address(address: str) -> str:
    """Return ``tcp://host:port`` for ``host:port`` (an address with a scheme is kept).

    Raises
    ------
    InputError
        Not ``host:port`` nor ``scheme://host:port``.

    """
    text = address.strip()
    rest = text.split("://", 1)[1] if "://" in text else text
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(
            f"`scheduler` {address!r}: expected tcp://HOST:PORT or HOST:PORT, e.g. 127.0.0.1:8786"
        )
    return text if "://" in text else f"tcp://{text}"


def _import_distributed(option: str) -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise InputError(f"`{option}` needs dask.distributed, which is not installed: {DASK_EXTRA}") from exc
    return distributed


def _local_client(distributed: Any, workers: int) -> tuple[Any, Any]:
    # the cores shared out: each worker process's kernels run on its share of threads
    threads = max(1, (os.cpu_count() or 1) // workers)
    cluster = distributed.LocalCluster(
        env={"NUMBA_NUM_THREADS": str(threads)},
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=":0", silence_logs=logging.ERROR,
    )  # fmt: skip
    try:
        return cluster, distributed.Client(cluster)
    except BaseException:
        cluster.close()
        raise


def _remote_client(distributed: Any, address: str, timeout: float) -> Any:
    url = scheduler_address(address)
    try:
        client = distributed.Client(url, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        why = " ".join(str(exc).split())[:200]
        raise InputError(
            f"`scheduler` {address}: no dask scheduler answered at {url} within {timeout:g} s ({why})"
        ) from exc
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise InputError(
            f"`scheduler` {address}: the scheduler at {url} has no worker after {timeout:g} s"
        ) from exc
    return client


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Keep dask's own INFO/WARNING lines (cluster start, workers closing) out of a run's output."""
    logger = logging.getLogger("distributed")
    level = logger.level
    if not log.isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def connect(
    *, workers: int | None = None, scheduler: str | None = None, scheduler_timeout: float = 10.0
) -> Iterator[Any]:
    """Yield the ``distributed.Client`` a run measures on, or None to measure in this process.

    Parameters
    ----------
    workers
        Start a local cluster of this many worker processes on 127.0.0.1 (one task at a time
        each, the cores shared out among their kernels), closed on exit.
    scheduler
        Address of a running scheduler (``tcp://host:port`` or ``host:port``); its workers must
        reach the input files by the same paths (or URLs).
    scheduler_timeout
        Seconds to wait for the scheduler to answer.

    Raises
    ------
    InputError
        Both ``workers`` and ``scheduler``; ``workers`` below 1; dask not installed; the
        scheduler did not answer in time (exit 2 in the CLI).

    """
    if workers is not None and scheduler is not None:
        raise InputError(
            "`workers` and `scheduler`: give one or the other (a local cluster or an existing one)"
        )
    if workers is None and scheduler is None:
        yield None
        return
    if not math.isfinite(scheduler_timeout) or scheduler_timeout <= 0:
        raise InputError(f"`scheduler_timeout` {scheduler_timeout}: must be a positive number of seconds")
    if workers is not None:
        if workers < 1:
            raise InputError(f"`workers` {workers}: must be at least 1")
        distributed = _import_distributed("workers")
        with _quiet_dask():
            cluster, client = _local_client(distributed, workers)
            log.info("measuring on a local cluster of %d worker processes", workers)
            with cluster, client:
                yield client
        return
    distributed = _import_distributed("scheduler")
    with _quiet_dask():
        client = _remote_client(distributed, str(scheduler), scheduler_timeout)
        log.info("measuring on the dask cluster at %s", client.scheduler.address)
        with client:
            yield client
