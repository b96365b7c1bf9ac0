"""Running nodes over the DAG on a thread pool.

A node starts as soon as every selected node it waits for has finished; when a node fails,
everything selected downstream of it is skipped. `--fail-fast` stops the run at the first
failure. Ctrl-C cancels running queries; results of finished nodes are kept.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from kiln.execute.result import NodeResult

# A partly built microbatch model counts as failed too: dbt skips what is downstream of
# it, stops on it under --fail-fast and exits non-zero.
FAILED_STATUSES = frozenset({"error", "fail", "partial success"})


def selected_dependencies(
    parents: dict[str, tuple[str, ...]], selected: Iterable[str]
) -> dict[str, set[str]]:
    """For each selected node, the selected nodes it must wait for.

    Order is kept through unselected nodes: if a -> b -> c and only a and c are selected,
    c still waits for a.
    """
    chosen = set(selected)
    memo: dict[str, set[str]] = {}

    def nearest(uid: str) -> set[str]:
        found = memo.get(uid)
        if found is not None:
            return found
        memo[uid] = set()
        out: set[str] = set()
        for parent in parents.get(uid, ()):
            out |= {parent} if parent in chosen else nearest(parent)
        memo[uid] = out
        return out

    return {
        uid: {
            p
            for parent in parents.get(uid, ())
            for p in ({parent} if parent in chosen else nearest(parent))
        }
        for uid in chosen
    }


class Scheduler:
    """Runs `run_node` for every node id respecting `waits_for`.

    Args:
        waits_for: node id -> the node ids it must wait for (all among the run's nodes).
        run_node: runs one node and returns its result (must not raise).
        skip_node: builds the result of a node skipped because `cause` failed.
        threads: worker threads.
        fail_fast: stop scheduling after the first failure.
        order: tie-break order of ready nodes (topological order of the graph).
    """

    def __init__(
        self,
        waits_for: dict[str, set[str]],
        run_node: Callable[[str], NodeResult],
        skip_node: Callable[[str, str], NodeResult],
        threads: int,
        fail_fast: bool,
        order: list[str],
        on_cancel: Callable[[], None] | None = None,
    ) -> None:
        self.waits_for = waits_for
        self.run_node = run_node
        self.skip_node = skip_node
        self.threads = max(1, threads)
        self.fail_fast = fail_fast
        self.rank = {uid: i for i, uid in enumerate(order)}
        self.on_cancel = on_cancel
        self.results: list[NodeResult] = []
        self.interrupted = False
        self.failed_fast = False
        self._lock = threading.Lock()
        self._ready: list[tuple[int, str]] = []

    def run(self) -> list[NodeResult]:
        """Run everything; returns results in completion order."""
        remaining = {uid: set(deps) for uid, deps in self.waits_for.items()}
        dependents: dict[str, list[str]] = {}
        for uid, deps in self.waits_for.items():
            for dep in deps:
                dependents.setdefault(dep, []).append(uid)
        # a heap of ready nodes keeps each scheduling step O(log n) on large projects
        self._ready = [(self.rank.get(u, 0), u) for u, d in remaining.items() if not d]
        heapq.heapify(self._ready)
        pool = ThreadPoolExecutor(max_workers=self.threads, initializer=dbt_thread_names())
        running: dict[Future[NodeResult], str] = {}
        try:
            while remaining or running:
                while self._ready and len(running) < self.threads and not self.failed_fast:
                    _, uid = heapq.heappop(self._ready)
                    if uid in remaining:
                        del remaining[uid]
                        running[pool.submit(self.run_node, uid)] = uid
                if not running:
                    break
                # a timeout keeps the main thread in Python so a Ctrl-C is raised promptly
                finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    uid = running.pop(future)
                    self._record(future.result(), uid, remaining, dependents)
        except KeyboardInterrupt:
            self.interrupted = True
            if self.on_cancel is not None:
                self.on_cancel()
            for future in running:
                future.cancel()
            raise
        finally:
            pool.shutdown(wait=not self.interrupted, cancel_futures=True)
        return self.results

    def _record(
        self,
        result: NodeResult,
        uid: str,
        remaining: dict[str, set[str]],
        dependents: dict[str, list[str]],
    ) -> None:
        with self._lock:
            self.results.append(result)
        if result.status in FAILED_STATUSES:
            if self.fail_fast:
                self.failed_fast = True
            self._skip_downstream(uid, remaining, dependents)
            return
        for child in dependents.get(uid, ()):
            deps = remaining.get(child)
            if deps is not None:
                deps.discard(uid)
                if not deps:
                    heapq.heappush(self._ready, (self.rank.get(child, 0), child))

    def _skip_downstream(
        self,
        cause: str,
        remaining: dict[str, set[str]],
        dependents: dict[str, list[str]],
    ) -> None:
        stack = list(dependents.get(cause, ()))
        while stack:
            uid = stack.pop()
            if uid not in remaining:
                continue
            del remaining[uid]
            self.results.append(self.skip_node(uid, cause))
            stack.extend(dependents.get(uid, ()))


def dbt_thread_names() -> Callable[[], None]:
    """A pool initializer naming workers as dbt's artifacts do: `Thread-1 (worker)`, ..."""
    numbers = itertools.count(1)
    lock = threading.Lock()

    def name() -> None:
        with lock:
            threading.current_thread().name = f"Thread-{next(numbers)} (worker)"

    return name
