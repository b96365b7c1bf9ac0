"""The commands that run nodes: run, build, seed, test, snapshot, compile."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiln.events.bus import Level, emit, info
from kiln.events.format import plural
from kiln.execute.journal import Journal
from kiln.execute.result import NodeResult
from kiln.execute.scheduler import FAILED_STATUSES, Scheduler, selected_dependencies

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.parse.load import Workspace

# Resource types each command executes.
COMMAND_TYPES = {
    "run": ("model",),
    "seed": ("seed",),
    "test": ("test", "unit_test"),
    "snapshot": ("snapshot",),
    "build": ("model", "seed", "snapshot", "test", "unit_test"),
    "compile": ("model", "test", "analysis", "snapshot", "operation"),
}


@dataclass
class RunOutcome:
    """What a run produced, and the exit code it implies."""

    results: list[NodeResult]
    elapsed: float
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if any(r.status in FAILED_STATUSES for r in self.results) else 0


def runnable_ids(ws: Workspace, selected: frozenset[str], command: str) -> list[str]:
    """Selected node ids this command executes, in DAG order (ephemeral models excluded)."""
    types = COMMAND_TYPES[command]
    out = [
        uid
        for uid in selected
        if uid in ws.manifest.nodes
        and ws.manifest.nodes[uid].resource_type in types
        and not ws.manifest.nodes[uid].is_ephemeral
    ]
    if "unit_test" in types:
        out += [uid for uid in selected if uid in ws.manifest.unit_tests]
    order = {uid: i for i, uid in enumerate(ws.graph.topological_order())}
    units = ws.manifest.unit_tests

    def rank(uid: str) -> tuple[int, int, str]:
        # a unit test comes just before the model it tests, a data test right after the
        # last node it tests, so a single thread checks each node before moving on
        unit = units.get(uid)
        if unit is not None:
            return order.get(unit.depends_on_nodes[0], 0), 0, uid
        node = ws.manifest.nodes[uid]
        if node.resource_type == "test" and node.depends_on_nodes:
            return max(order.get(dep, 0) for dep in node.depends_on_nodes), 2, uid
        return order.get(uid, 0), 1, uid

    return sorted(out, key=rank)


def build_waits(ws: Workspace, ids: list[str], command: str) -> dict[str, set[str]]:
    """Dependencies among the run's nodes; `build` also makes children wait for tests.

    A unit test runs before the model it tests (once whatever the model waits for is done),
    so a failing unit test skips the model and everything below it.
    """
    waits = selected_dependencies(ws.graph.parents, ids)
    if command == "build":
        _wait_for_tests(ws, ids, waits)
    _order_unit_tests(ws, ids, waits)
    _wait_for_source_builders(ws, ids, waits)
    return waits


def _wait_for_source_builders(ws: Workspace, ids: list[str], waits: dict[str, set[str]]) -> None:
    """A node reading a source that a node of this run builds (a seed loaded as a source's
    table, say) waits for that node, so it never reads a relation half loaded.

    dbt draws no edge here and leaves the race to thread timing. The wait only orders the
    run: it does not appear in the manifest, selection or skips, and is left out where it
    would close a cycle.
    """
    nodes = ws.manifest.nodes
    builders: dict[tuple[str, str, str], str] = {}
    for uid in ids:
        node = nodes.get(uid)
        if node is not None and node.is_relational:
            builders[_relation_key(node.database, node.schema, node.alias)] = uid
    if not builders:
        return
    sources = ws.manifest.sources
    for uid in ids:
        for parent in ws.graph.parents.get(uid, ()):
            source = sources.get(parent)
            if source is None:
                continue
            key = _relation_key(source.database, source.schema, source.identifier)
            builder = builders.get(key)
            if builder is None or builder == uid or builder in waits[uid]:
                continue
            if uid not in ws.graph.ancestors([builder]):
                waits[uid].add(builder)


def _relation_key(database: str | None, schema: str, name: str) -> tuple[str, str, str]:
    # unquoted names fold case on every supported warehouse; a false match only orders
    return (database or "").lower(), schema.lower(), name.lower()


def _wait_for_tests(ws: Workspace, ids: list[str], waits: dict[str, set[str]]) -> None:
    """dbt's rule: a node waits for each test whose parents are all among its ancestors."""
    chosen = set(ids)
    for uid in ids:
        node = ws.manifest.nodes.get(uid)
        if node is None or node.resource_type != "test" or not node.depends_on_nodes:
            continue
        common: set[str] | None = None
        for dep in node.depends_on_nodes:
            below = ws.graph.descendants([dep])
            common = below if common is None else common & below
        for child in common or set():
            child_node = ws.manifest.nodes.get(child)
            if child in chosen and child_node is not None and child_node.resource_type != "test":
                waits[child].add(uid)


def _order_unit_tests(ws: Workspace, ids: list[str], waits: dict[str, set[str]]) -> None:
    """Unit tests wait for their model's parents instead of the model; the model waits for them."""
    for uid in ids:
        unit = ws.manifest.unit_tests.get(uid)
        if unit is None:
            continue
        model = unit.depends_on_nodes[0]
        # An unselected model: the unit test already waits for the model's nearest parents.
        if model in waits:
            units = ws.manifest.unit_tests
            waits[uid] = {dep for dep in waits[model] if dep not in units}
            waits[model].add(uid)


def execute_nodes(ws: Workspace, adapter: Adapter, ids: list[str], command: str) -> RunOutcome:
    """Run nodes on the scheduler, journaling each result."""
    from kiln.execute.runners import NodeRunner

    numbering = {uid: i + 1 for i, uid in enumerate(ids)}
    runner = NodeRunner(
        ws, adapter, numbering, len(ids), store_failures=ws.invocation.store_failures
    )
    journal = Journal(ws.target_dir, ws.invocation_id, command)

    def run_one(uid: str) -> NodeResult:
        result = runner.run(uid)
        journal.record(result)
        return result

    def skip_one(uid: str, cause: str) -> NodeResult:
        result = runner.skip(uid, cause)
        journal.record(result)
        return result

    from kiln.execute.interrupt import on_interrupt

    undo = on_interrupt(lambda: None if adapter.cancel_open() else None)
    scheduler = Scheduler(
        build_waits(ws, ids, command),
        run_one,
        skip_one,
        ws.target.threads,
        ws.invocation.fail_fast,
        ids,
        on_cancel=lambda: None if adapter.cancel_open() else None,
    )
    t0 = time.perf_counter()
    interrupted = False
    try:
        scheduler.run()
    except KeyboardInterrupt:
        interrupted = True
        emit("CancelLine", Level.ERROR, "Cancelling running queries (Ctrl-C)")
    finally:
        undo()
        journal.close(completed=not interrupted)
    return RunOutcome(scheduler.results, time.perf_counter() - t0, interrupted)


def skip_nodes(ws: Workspace, adapter: Adapter, ids: list[str]) -> RunOutcome:
    """Every node skipped: an on-run-start hook failed and the project's
    `skip_nodes_if_on_run_start_fails` flag asks for it (dbt writes no message for them)."""
    from kiln.execute.runners import NodeRunner

    numbering = {uid: i + 1 for i, uid in enumerate(ids)}
    runner = NodeRunner(ws, adapter, numbering, len(ids))
    results = []
    for uid in ids:
        result = runner.skip(uid, "an on-run-start hook failed")
        result.message, result.thread_id = None, "MainThread"
        results.append(result)
    return RunOutcome(results, 0.0)


def concurrency_banner(ws: Workspace) -> None:
    info("")
    info(f"Concurrency: {ws.target.threads} threads (target='{ws.target.name}')")
    info("")


def finished_summary(ws: Workspace, ids: list[str], outcome: RunOutcome) -> None:
    """dbt's closing lines: what ran, errors and warnings, and the counts."""
    kinds = Counter(_kind(ws, uid) for uid in ids)
    hooks = sum(1 for r in outcome.results if r.unique_id.startswith("operation."))
    counted = ([plural(hooks, "project hook")] if hooks else []) + [
        plural(n, k) for k, n in kinds.items()
    ]
    parts = ", ".join(counted)
    secs = outcome.elapsed
    info("")
    info(f"Finished running {parts} in {_hms(secs)} ({secs:.2f}s).")
    counts = Counter(r.status for r in outcome.results)
    bad = [r for r in outcome.results if r.status in ("error", "fail")]
    partial = counts["partial success"]
    warned = [r for r in outcome.results if r.status == "warn"]
    partials = f"{partial} partial {'success' if partial == 1 else 'successes'}"
    info("")
    if bad:
        errors, warnings = plural(len(bad), "error"), plural(len(warned), "warning")
        # dbt 1.9+ names partial successes (of microbatch models) in this line
        emit("EndOfRunSummary", Level.ERROR,
             f"Completed with {errors}, {partials}, and {warnings}:")  # fmt: skip
        for r in bad:
            info("")
            emit(
                "RunResultError",
                Level.ERROR,
                f"Failure in {r.unique_id}" if r.status == "fail" else f"Error in {r.unique_id}",
            )
            emit("RunResultError", Level.ERROR, f"  {r.message}")
    elif partial:
        warnings = plural(len(warned), "warning")
        emit("EndOfRunSummary", Level.WARN, f"Completed with {partials} and {warnings}")
        for r in warned:
            emit("RunResultWarning", Level.WARN, f"  Warning in {r.unique_id}: {r.message}")
    elif warned:
        emit("EndOfRunSummary", Level.WARN, f"Completed with {plural(len(warned), 'warning')}:")
        for r in warned:
            emit("RunResultWarning", Level.WARN, f"  Warning in {r.unique_id}: {r.message}")
    else:
        info("Completed successfully")
    info("")
    ok = counts["success"] + counts["pass"]
    info(
        f"Done. PASS={ok} WARN={counts['warn']} ERROR={counts['error'] + counts['fail'] + partial} "
        f"SKIP={counts['skipped']} NO-OP={counts['no-op']} TOTAL={len(outcome.results)}"
    )


def _kind(ws: Workspace, uid: str) -> str:
    if uid in ws.manifest.unit_tests:
        return "unit test"
    node = ws.manifest.nodes[uid]
    if node.resource_type == "model":
        return f"{node.materialized} model"
    if node.resource_type == "test":
        return "data test"
    return node.resource_type


def _hms(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    frac = seconds - int(seconds)
    return f"{hours} hours {minutes} minutes and {secs + frac:.2f} seconds"


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
