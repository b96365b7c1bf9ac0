"""Project hooks (on-run-start / on-run-end) and `run-operation`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiln.errors import ProjectError, did_you_mean
from kiln.events.bus import info
from kiln.jinja.environment import render_string

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.execute.result import NodeResult
    from kiln.parse.load import Workspace


def _context(ws: Workspace, extra: dict[str, Any]) -> Any:
    return ws.factory.context(extra, ws.project.name, None, execute=True)


def run_project_hooks(ws: Workspace, adapter: Adapter, key: str, results: list[NodeResult]) -> None:
    """Render and run each `on-run-start`/`on-run-end` statement."""
    hooks = ws.project.on_run_start if key == "on-run-start" else ws.project.on_run_end
    if not hooks:
        return
    ctx = _context(
        ws, {"results": results, "schemas": sorted({n.schema for n in ws.manifest.nodes.values()})}
    )
    info(f"Running {len(hooks)} {key} hook{'s' if len(hooks) != 1 else ''}")
    for hook in hooks:
        sql = render_string(hook, ctx, "dbt_project.yml").strip()
        if sql:
            adapter.execute(sql)
            adapter.commit()


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
