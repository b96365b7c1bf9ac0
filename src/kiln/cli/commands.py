"""Command implementations: load the workspace, select, hand over to a task."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln import DBT_COMPAT_VERSION, __version__
from kiln.errors import CompilationError, DatabaseError, KilnError
from kiln.events.bus import Level, emit, info
from kiln.invocation import Invocation

if TYPE_CHECKING:
    from kiln.execute.result import NodeResult, PriorRun
    from kiln.execute.tasks import RunOutcome
    from kiln.parse.load import Workspace
    from kiln.state import StateSelector


def _load(inv: Invocation) -> Workspace:
    from kiln.parse.load import load_workspace

    info(f"Running with kiln={__version__} (dbt-core {DBT_COMPAT_VERSION} compatible)")
    ws = load_workspace(inv)
    _add_file_log(ws)
    return ws


def _add_file_log(ws: Workspace) -> None:
    from kiln.events.bus import get_bus
    from kiln.events.sinks import TextFileSink

    with contextlib.suppress(OSError):
        get_bus().add(TextFileSink(ws.log_dir / "dbt.log"))


def _found_line(ws: Workspace) -> None:
    from collections import Counter

    kinds = Counter(n.resource_type for n in ws.manifest.nodes.values())
    parts = [
        f"{n} {t}{'s' if n != 1 and not t.endswith('s') else ''}" for t, n in sorted(kinds.items())
    ]
    parts.append(f"{len(ws.manifest.sources)} sources")
    parts.append(f"{len(ws.manifest.exposures)} exposures")
    parts.append(f"{len(ws.manifest.macros)} macros")
    info("Found " + ", ".join(parts))


def _write_manifest(ws: Workspace) -> None:
    from kiln.artifacts import write_manifest

    ws.manifest.selectors = _selectors_raw(ws)
    write_manifest(
        ws.target_dir / "manifest.json",
        ws.manifest,
        invocation_id=ws.invocation_id,
        generated_at=_utcnow(),
        invocation_started_at=ws.started_at,
        adapter_type=ws.target.type,
        project_root=str(ws.project.root),
    )
    from kiln.state import write_state_file

    write_state_file(ws)


def _selectors_raw(ws: Workspace) -> dict[str, Any]:
    path = ws.project.root / "selectors.yml"
    if not path.is_file():
        return {}
    from kiln.config.yaml_io import load_yaml_file

    data = load_yaml_file(path, "selectors.yml") or {}
    return {str(s["name"]): s for s in data.get("selectors") or [] if isinstance(s, dict)}


def _select(ws: Workspace, default_types: tuple[str, ...] | None = None) -> frozenset[str]:
    from kiln.select import select_nodes

    inv = ws.invocation
    return select_nodes(
        ws.manifest,
        ws.graph,
        select=inv.select or None,
        exclude=inv.exclude or None,
        selector=inv.selector,
        selectors=_selectors_raw(ws),
        resource_types=inv.resource_types or default_types,
        exclude_resource_types=inv.exclude_resource_types or None,
        indirect_selection=inv.indirect_selection,
        command=inv.command,
        state=_state(ws),
    )


def _state(ws: Workspace) -> StateSelector | None:
    if not ws.invocation.state:
        return None
    # selection and --defer both need it: read the --state folder once per workspace
    cached: StateSelector | None = getattr(ws, "_kiln_prior_state", None)
    if cached is None:
        from kiln.state import load_state

        cached = load_state(ws)
        setattr(ws, "_kiln_prior_state", cached)  # noqa: B010 - no Workspace field for it
    return cached


def _apply_defer(ws: Workspace, selected: frozenset[str], *, builds_selected: bool) -> None:
    """With --defer, refs to nodes not built here resolve to the --state relations."""
    if not ws.invocation.defer:
        return
    from kiln.execute.compiler import DEFERRED_ATTR
    from kiln.state import StateError
    from kiln.state.defer import defer_relations

    state = _state(ws)
    if state is None:
        raise StateError("--defer needs --state: the folder of the artifacts to defer to")
    relations = defer_relations(ws, state, selected, builds_selected=builds_selected)
    setattr(ws, DEFERRED_ATTR, relations)


def _write_run_results(ws: Workspace, results: list[NodeResult], elapsed: float) -> None:
    from kiln.artifacts import write_run_results

    write_run_results(
        ws.target_dir / "run_results.json",
        results,
        invocation_id=ws.invocation_id,
        elapsed_time=elapsed,
        generated_at=_utcnow(),
        invocation_started_at=ws.started_at,
        args={"which": ws.invocation.command, **ws.invocation.raw_args},
    )


def _utcnow() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# ---- commands ----------------------------------------------------------------------------


def do_parse(inv: Invocation) -> int:
    t0 = time.perf_counter()
    ws = _load(inv)
    _write_manifest(ws)
    _found_line(ws)
    info(f"Performance info: parsed in {time.perf_counter() - t0:.2f}s")
    return 0


def do_ls(inv: Invocation) -> int:
    from kiln.cli.listing import list_lines
    from kiln.events.bus import get_bus

    ws = _load_quiet(inv)
    selected = _select(ws)
    if not selected:
        emit(
            "NoNodesSelected",
            Level.WARN,
            "No nodes selected! Nothing to do. Check your selection arguments.",
        )
        return 0
    lines = (
        _explain_lines(ws, selected)
        if inv.raw_args.get("explain")
        else list_lines(ws, selected, inv.output, inv.output_keys)
    )
    for line in lines:
        emit("ListCmdOut", Level.INFO, line, raw=True)
    del get_bus
    return 0


def _explain_lines(ws: Workspace, selected: frozenset[str]) -> list[str]:
    from kiln.state.explain import explain, explain_lines

    inv = ws.invocation
    reasons = explain(
        ws.manifest,
        ws.graph,
        selected,
        select=inv.select,
        selector=inv.selector,
        selectors=_selectors_raw(ws),
        indirect_selection=inv.indirect_selection,
        state=_state(ws),
    )
    return list(explain_lines(reasons, json_output=inv.output == "json"))


def _load_quiet(inv: Invocation) -> Workspace:
    from kiln.parse.load import load_workspace

    return load_workspace(inv)


def _run_task(
    inv: Invocation,
    command: str,
    only: frozenset[str] | None = None,
    prior_run: PriorRun | None = None,
) -> int:
    """Run `command` on the selection, or on exactly the ids `only` (for `retry`, which
    also passes what the repeated run left: `prior_run`)."""
    from kiln.execute.tasks import concurrency_banner, finished_summary, runnable_ids

    ws = _load(inv)
    ws.prior_run = prior_run
    _write_manifest(ws)
    _found_line(ws)
    selected = _select(ws) if only is None else only & ws.manifest.nodes.keys()
    ids = runnable_ids(ws, selected, command)
    if not ids:
        emit(
            "NoNodesSelected",
            Level.WARN,
            "Nothing to do. Try checking your model configs and model specification args",
        )
        _write_run_results(ws, [], 0.0)
        return 0
    adapter = ws.open_adapter()
    try:
        _apply_defer(ws, selected, builds_selected=True)
        concurrency_banner(ws)
        outcome = _execute_with_hooks(ws, adapter, ids, command)
        if command == "build":
            outcome.results.extend(_exposure_results(ws, selected))
        _write_run_results(ws, outcome.results, outcome.elapsed)
        finished_summary(ws, ids, outcome)
    finally:
        adapter.close()
    if outcome.interrupted:
        return 130
    return outcome.exit_code


def _execute_with_hooks(ws: Workspace, adapter: Any, ids: list[str], command: str) -> RunOutcome:
    from kiln.execute.hooks import run_project_hooks
    from kiln.execute.tasks import execute_nodes, skip_nodes

    started = run_project_hooks(ws, adapter, "on-run-start", [])
    start_failed = any(r.status == "error" for r in started)
    if start_failed and ws.project.flags.get("skip_nodes_if_on_run_start_fails"):
        outcome = skip_nodes(ws, adapter, ids)
        executed: list[NodeResult] = []
    else:
        outcome = execute_nodes(ws, adapter, ids, command)
        executed = outcome.results
    ended = []
    if not outcome.interrupted:
        ended = run_project_hooks(ws, adapter, "on-run-end", executed)
    outcome.results[:0] = started
    outcome.results.extend(ended)
    return outcome


def _exposure_results(ws: Workspace, selected: frozenset[str]) -> list[NodeResult]:
    from kiln.execute.result import NodeResult

    return [
        NodeResult(uid, "no-op", "NO-OP")
        for uid in sorted(selected)
        if uid in ws.manifest.exposures
    ]


def do_run(inv: Invocation) -> int:
    return _run_task(inv, "run")


def do_seed(inv: Invocation) -> int:
    return _run_task(inv, "seed")


def do_test(inv: Invocation) -> int:
    return _run_task(inv, "test")


def do_snapshot(inv: Invocation) -> int:
    return _run_task(inv, "snapshot")


def do_build(inv: Invocation) -> int:
    return _run_task(inv, "build")


def do_compile(inv: Invocation) -> int:
    from kiln.execute.compile_task import compile_nodes

    ws = _load(inv)
    _write_manifest(ws)
    _found_line(ws)
    selected = _select(ws)
    _apply_defer(ws, selected, builds_selected=False)
    results, elapsed = compile_nodes(ws, selected)
    _write_run_results(ws, results, elapsed)
    return 1 if any(r.status == "error" for r in results) else 0


def do_show(inv: Invocation) -> int:
    from kiln.execute.compile_task import show_rows

    ws = _load(inv)
    selected = _select(ws) if not inv.inline else frozenset()
    _apply_defer(ws, selected, builds_selected=False)
    for line in show_rows(ws, selected, inv.inline, inv.limit or 5, inv.output):
        emit("ShowNode", Level.INFO, line, raw=True)
    return 0


def do_run_operation(inv: Invocation) -> int:
    from kiln.execute.hooks import check_operation, run_operation

    ws = _load(inv)
    check_operation(ws, inv.macro or "")
    adapter = ws.open_adapter()
    t0 = time.perf_counter()
    try:
        run_operation(ws, adapter, inv.macro or "", inv.macro_args)
    except (CompilationError, DatabaseError) as exc:
        # like dbt, a macro that fails while running is a failed operation (exit 1)
        emit(
            "RunOperationError",
            Level.ERROR,
            f"Encountered an error while running operation: {exc.render()}",
        )
        return 1
    finally:
        adapter.close()
    emit(
        "RunOperationSuccess",
        Level.DEBUG,
        f"Finished operation {inv.macro} in {time.perf_counter() - t0:.2f}s",
    )
    return 0


def do_debug(inv: Invocation) -> int:
    from kiln.config.profiles import find_profiles_dir, load_target
    from kiln.config.project import load_project

    root = Path(inv.project_dir).resolve()
    info(f"kiln version: {__version__}")
    project = load_project(root)
    info(f"dbt_project.yml file [OK found and valid] ({root / 'dbt_project.yml'})")
    profiles_dir = find_profiles_dir(inv.profiles_dir, root)
    target = load_target(profiles_dir, inv.profile or project.profile, inv.target, inv.threads)
    info(f"profiles.yml file [OK found and valid] ({profiles_dir / 'profiles.yml'})")
    info(f"  adapter type: {target.type}, target: {target.name}, schema: {target.schema}")
    from kiln.adapters.registry import create_adapter

    adapter = create_adapter(target.credentials)
    try:
        adapter.execute("select 1 as ok", fetch=True)
    except KilnError as exc:
        emit("DebugCmdResult", Level.ERROR, f"Connection test: [ERROR] {exc.message}")
        return 1
    finally:
        adapter.close()
    info("Connection test: [OK connection ok]")
    info("All checks passed!")
    return 0


def do_clean(inv: Invocation) -> int:
    from kiln.config.project import load_project

    project = load_project(Path(inv.project_dir).resolve())
    for folder in project.clean_targets or (project.target_path,):
        path = (project.root / folder).resolve()
        if project.root.resolve() not in path.parents:
            emit("CleanSkip", Level.WARN, f"Not cleaning {path}: it is outside the project")
            continue
        if path.exists():
            shutil.rmtree(path)
            info(f"Cleaned {folder}/")
    info("Finished cleaning all paths.")
    return 0


def json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, default=str)
