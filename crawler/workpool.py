"""Processes that parse, extract and judge pages and diff new texts, one per core, off the reactor
thread, each page under a time limit.

The reactor only downloads; a page's CPU work goes to a worker process through a pipe. Each call
borrows an idle worker from a thread of a small thread pool (one thread per worker, so waiting never
blocks the reactor) and waits at most `time_limit` seconds: a page that hangs the parser, or crashes
its process, is killed with its worker, a fresh worker takes the dead one's place, and the call fails
with PageTooHard. Only that page's source loses its fetch; the cycle goes on.

Workers are forked (they inherit the code and the loaded rules of the crawl) when the pool starts,
before the reactor runs threads; replacements fork later, which is safe here because a worker only
runs pure computation and is itself under the time limit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

_CONTEXT = multiprocessing.get_context("fork")


class PageTooHard(Exception):
    """The page's work did not finish in time, or killed its worker process."""


def _serve(conn: Connection, parent: int) -> None:
    """A worker's loop: run each (function, arguments) it is sent and send back the outcome.

    It never outlives its crawl: a forked worker holds copies of the crawl's pipes (its stdout too),
    so a crawl killed with SIGKILL would otherwise leave it waiting forever and whoever reads the
    crawl's output waiting with it. It checks each second that its parent is still the one it had.
    The crawl's signal handlers are not its own: SIGTERM simply ends it, Ctrl-C is the crawl's to handle."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            while not conn.poll(1.0):
                if os.getppid() != parent:
                    return
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        func, args = job
        try:
            conn.send((True, func(*args)))
        except Exception as exc:  # noqa: BLE001  (the caller decides what a failed page means)
            conn.send((False, f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self) -> None:
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_serve, args=(child, os.getpid()), daemon=True,
                                        name="noticewatch-extract")
        self.process.start()
        child.close()

    def run(self, func: Callable, args: tuple, time_limit: float) -> Any:
        self.conn.send((func, args))
        if not self.conn.poll(time_limit):
            raise TimeoutError
        ok, value = self.conn.recv()  # EOFError when the process died
        if not ok:
            raise RuntimeError(value)
        return value

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.kill()


class WorkPool:
    """`size` worker processes (default: one per core) behind a thread pool of the same size."""

    def __init__(self, size: int | None = None, time_limit: float = 20.0) -> None:
        self.size = size or os.cpu_count() or 1
        self.time_limit = time_limit
        self.idle: queue.Queue[_Worker] = queue.Queue()
        for _ in range(self.size):
            self.idle.put(_Worker())
        self.threads = ThreadPool(minthreads=0, maxthreads=self.size, name="noticewatch-extract")
        self.started = False

    def _call(self, func: Callable, args: tuple, task: str) -> Any:
        worker = self.idle.get()
        try:
            value = worker.run(func, args, self.time_limit)
        except TimeoutError:
            worker.kill()
            worker = _Worker()
            raise PageTooHard(f"page took longer than {self.time_limit:g} s to {task} (worker stopped)") from None
        except (EOFError, OSError):
            worker.kill()
            worker = _Worker()
            raise PageTooHard(f"page crashed the worker process trying to {task} it") from None
        finally:
            self.idle.put(worker)
        return value

    def submit(self, func: Callable, *args: Any, task: str = "extract") -> Deferred:
        """Run func(*args) in a worker process; the Deferred fires with its value or fails with
        PageTooHard (time limit, crash; the message names the `task`) or RuntimeError (an exception
        in func, as text)."""
        if not self.started:
            self.threads.start()
            from twisted.internet import reactor  # not at import: Scrapy installs the reactor it is configured for

            reactor.addSystemEventTrigger("during", "shutdown", self.close)
            self.started = True
        from twisted.internet import reactor

        return deferToThreadPool(reactor, self.threads, self._call, func, args, task)

    def close(self) -> None:
        if self.started:
            self.threads.stop()
            self.started = False
        while True:
            try:
                self.idle.get_nowait().stop()
            except queue.Empty:
                return
