"""Ctrl-C handling that works while a warehouse driver runs a query.

DuckDB's driver swallows SIGINT while it executes, so Python never sees the Ctrl-C. Kiln
blocks SIGINT in every thread before any driver starts its own threads, and a watcher
thread takes the signal with `sigwait`: it cancels running queries, then raises
KeyboardInterrupt in the main thread, which unwinds and writes what finished.
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_cancel_callbacks: list[Callable[[], None]] = []
_requested = threading.Event()


def on_interrupt(callback: Callable[[], None]) -> Callable[[], None]:
    """Register a function to call on Ctrl-C (e.g. cancel open queries); returns an undo."""
    _cancel_callbacks.append(callback)
    return lambda: _cancel_callbacks.remove(callback) if callback in _cancel_callbacks else None


def interrupt_requested() -> bool:
    """Whether Ctrl-C was pressed during this invocation."""
    return _requested.is_set()


def _usable() -> bool:
    return (
        sys.platform != "win32"
        and hasattr(signal, "pthread_sigmask")
        and threading.current_thread() is threading.main_thread()
    )


@contextmanager
def interrupt_guard() -> Iterator[None]:
    """Route SIGINT to a watcher thread for the duration of a command."""
    _requested.clear()
    if not _usable():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    done = threading.Event()

    def watch() -> None:
        while True:
            signal.sigwait({signal.SIGINT})
            if done.is_set():
                return
            _requested.set()
            for callback in list(_cancel_callbacks):
                with contextlib.suppress(Exception):  # cancelling is best effort
                    callback()
            _thread.interrupt_main()

    watcher = threading.Thread(target=watch, name="kiln-interrupt", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        signal.pthread_kill(watcher.ident or 0, signal.SIGINT)
        watcher.join(1)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
