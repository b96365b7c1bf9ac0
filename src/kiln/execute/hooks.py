"""Project hooks (on-run-start / on-run-end) and `run-operation`."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from kiln.errors import KilnError, ProjectError, did_you_mean
from kiln.events.bus import Level, emit, info
from kiln.events.format import progress_line
from kiln.jinja.environment import render_string

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.execute.result import NodeResult
    from kiln.manifest.nodes import Node
    from kiln.parse.load import Workspace


def _context(ws: Workspace, extra: dict[str, Any]) -> Any:
    return ws.factory.context(extra, ws.project.name, None, execute=True)


def project_hooks(ws: Workspace, key: str) -> list[Node]:
    """The project's `operation` nodes of one hook (`on-run-start`/`on-run-end`), in order."""
    from kiln.manifest.nodes import hook_of

    found: list[tuple[int, Node]] = []
    for node in ws.manifest.nodes.values():
        hook = hook_of(node)
        if hook is not None and hook[0] == key and node.package_name == ws.project.name:
            found.append((hook[1], node))
    return [node for _, node in sorted(found, key=lambda pair: pair[0])]


def run_project_hooks(
    ws: Workspace, adapter: Adapter, key: str, results: list[NodeResult]
) -> list[NodeResult]:
    """Render and run each `on-run-start`/`on-run-end` statement, as dbt's hook nodes.

    Returns one result per hook for run_results.json. After a failing hook the remaining
    ones are skipped; the caller decides what a failure means for the run.
    """
    from kiln.execute.result import NodeResult

    hooks = project_hooks(ws, key)
    if not hooks:
        return []
    ctx = _hook_context(ws, results)
    if key == "on-run-end":
        info("")  # dbt sets each hook block apart from the node lines
    out: list[NodeResult] = []
    for number, node in enumerate(hooks, 1):
        label = f"{node.package_name}.{key}.{number - 1}"  # dbt's hook label
        line = partial(progress_line, number, len(hooks))
        if out and out[-1].status != "success":
            message = f"{label} skipped"
            out.append(NodeResult(node.unique_id, "skipped", message, "main", failures=1))
            emit("LogHookEndLine", Level.INFO, line(f"SKIP hook: {label}", "SKIP in 0.00s"))
            continue
        emit("LogHookStartLine", Level.INFO, line(f"START hook: {label}", "RUN"))
        result = _run_hook(node, label, ctx, adapter)
        took = f"in {result.execution_time:.2f}s"
        if result.status == "success":
            emit("LogHookEndLine", Level.INFO, line(f"OK hook: {label}", f"OK {took}"))
        else:
            emit("LogHookEndLine", Level.ERROR, line(f"ERROR hook: {label}", f"ERROR {took}"))
        out.append(result)
    if key == "on-run-start":
        info("")
    return out


def _hook_context(ws: Workspace, results: list[NodeResult]) -> Any:
    schemas = sorted({n.schema for n in ws.manifest.nodes.values()})
    return _context(ws, {"results": results, "schemas": schemas})


def compile_hook(ws: Workspace, node: Node) -> str:
    """A project hook's SQL as `compile` shows it (no run results yet)."""
    return render_string(node.raw_code, _hook_context(ws, []), "dbt_project.yml")


def _run_hook(node: Node, label: str, ctx: Any, adapter: Adapter) -> NodeResult:
    from kiln.execute.result import NodeResult, Timing, utc_stamp

    started, compile_start = time.perf_counter(), utc_stamp()
    sql: str | None = None
    compile_end = ""
    status, message, failures = "success", f"{label} passed", 0
    try:
        sql = render_string(node.raw_code, ctx, "dbt_project.yml")
        compile_end = utc_stamp()
        statement = sql.strip()
        if statement:
            adapter.execute(statement)
            adapter.commit()
    except KilnError as exc:
        adapter.rollback()
        compile_end = compile_end or utc_stamp()
        status, message, failures = "error", f"{label} failed, error:\n {exc.message}", 1
    timing = [
        Timing("compile", compile_start, compile_end),
        Timing("execute", compile_end, utc_stamp()),
    ]
    elapsed = time.perf_counter() - started
    return NodeResult(
        node.unique_id,
        status,
        message,
        "main",
        timing,
        elapsed,
        failures=failures,
        compiled_code=sql,
        compiled=sql is not None,
    )


def check_operation(ws: Workspace, macro_name: str) -> None:
    """Raise (exit 2) when `run-operation` names no macro."""
    package, _, name = macro_name.rpartition(".")
    if ws.factory.registry.lookup(name, package or None) is None:
        known = [m.name for m in ws.factory.registry.all_macros()]
        raise ProjectError(f"no macro named '{macro_name}'", hint=did_you_mean(name, known))


def run_operation(ws: Workspace, adapter: Adapter, macro_name: str, args: dict[str, Any]) -> Any:
    """Call a macro with keyword arguments (`kiln run-operation name --args '{...}'`)."""
    check_operation(ws, macro_name)
    package, _, name = macro_name.rpartition(".")
    ctx = _context(ws, {"__kiln_args": args})
    proxy = ctx[name] if not package else getattr(ctx[package], name)
    result = proxy(**args)
    adapter.commit()
    return result
