"""`kiln retry` and `kiln clone`: commands built on a previous invocation's artifacts."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiln.cli.options import project_options, run_options, selection_options
from kiln.errors import KilnError
from kiln.events.bus import Level, emit, info
from kiln.invocation import Invocation

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.adapters.relation import Relation
    from kiln.execute.result import NodeResult, PriorRun
    from kiln.parse.load import Workspace
    from kiln.state.prior import PriorManifest

# what `retry` re-runs, and the commands whose run it can repeat
RETRY_STATUSES = frozenset({"error", "fail", "skipped", "runtime error", "partial success"})
RETRYABLE_COMMANDS = ("run", "build", "seed", "test", "snapshot")
# options of the original invocation that `retry` lets the user override
_RETRY_OVERRIDES = (
    "project_dir",
    "profiles_dir",
    "target_path",
    "log_path",
    "threads",
    "debug",
    "quiet",
)


@click.command()
@project_options
@click.option("--threads", type=int, default=None, help="Worker threads (default: as before).")
def retry(**kw: Any) -> None:
    """Re-run the nodes that failed or were skipped in the previous invocation."""
    from kiln.cli.main import run_command

    run_command("retry", do_retry, **kw)


@click.command()
@project_options
@selection_options
@run_options
def clone(**kw: Any) -> None:
    """Create the selected nodes as clones (or views) of the --state relations."""
    from kiln.cli.main import run_command

    run_command("clone", do_clone, **kw)


# ---- retry -----------------------------------------------------------------------------------


class RetryError(KilnError):
    """There is no previous invocation `retry` can repeat."""


def do_retry(inv: Invocation) -> int:
    """Repeat the previous command, with its arguments, on its failed and skipped nodes."""
    from kiln.artifacts import read_run_results
    from kiln.cli import commands

    path = _previous_results(inv)
    previous = read_run_results(path)
    args = dict(previous.get("args") or {})
    command = str(args.pop("which", "") or "")
    if command not in RETRYABLE_COMMANDS:
        raise RetryError(
            f"{path} records a `{command or '?'}` invocation, which retry cannot repeat",
            hint=f"retry repeats {', '.join(RETRYABLE_COMMANDS)}",
        )
    ids = frozenset(
        str(r["unique_id"])
        for r in previous.get("results") or []
        if r.get("status") in RETRY_STATUSES
    )
    if not ids:
        info("Nothing to retry: the previous invocation had no errors, failures or skips.")
        return 0
    info(f"Retrying {len(ids)} node(s) of the previous `{command}`")
    prior = _prior_run(previous)
    return commands._run_task(
        _previous_invocation(command, args, inv), command, only=ids, prior_run=prior
    )


def _prior_run(previous: dict[str, Any]) -> PriorRun:
    """What the repeated run tells microbatch models: when it started, and the batches of
    each model that partly failed (dbt re-runs only their failed batches; a model whose
    batches all failed runs its whole range again, which may rebuild it)."""
    from kiln.execute.result import PriorBatches, PriorRun

    batches = {}
    for result in previous.get("results") or []:
        found = result.get("batch_results") or {}
        if found.get("successful") and found.get("failed"):
            batches[str(result["unique_id"])] = PriorBatches.from_artifact(found)
    metadata = previous.get("metadata") or {}
    started = metadata.get("invocation_started_at") or metadata.get("generated_at")
    return PriorRun(started_at=_timestamp(started), batches=batches)


def _timestamp(value: Any) -> datetime | None:
    """An artifact's timestamp (`2024-05-01T12:00:00.000000Z`), UTC; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _previous_results(inv: Invocation) -> Path:
    """run_results.json of --state if given, else of the project's target folder."""
    from kiln.config.project import load_project

    if inv.state:
        folder = Path(inv.state)
    else:
        project = load_project(Path(inv.project_dir).resolve())
        folder = project.root / (inv.target_path or project.target_path)
    path = folder / "run_results.json"
    if not path.is_file():
        raise RetryError(
            f"no previous run to retry: {path} does not exist",
            hint="retry repeats the last run, build, seed, test or snapshot of this project",
        )
    return path


def _previous_invocation(command: str, args: dict[str, Any], inv: Invocation) -> Invocation:
    """The original invocation, with the options given to `retry` itself taking precedence."""
    from kiln.cli.main import make_invocation

    if "vars" in args:
        args["vars_"] = args.pop("vars")
    for key in _RETRY_OVERRIDES:
        if key in inv.raw_args:
            args[key] = inv.raw_args[key]
    if "vars" in inv.raw_args:  # dbt lets `retry --vars` replace the recorded vars
        args["vars_"] = inv.raw_args["vars"]
    for key in ("event_time_start", "event_time_end"):  # recorded as ISO text
        if isinstance(args.get(key), str):
            args[key] = datetime.fromisoformat(args[key])
    # retry runs exactly the failed nodes: no tests join them by indirect selection
    args["indirect_selection"] = "empty"
    return make_invocation(command, **args)


# ---- clone -----------------------------------------------------------------------------------


class CloneError(KilnError):
    """`clone` was called without what it needs."""


def do_clone(inv: Invocation) -> int:
    """Clone each selected model, seed and snapshot from the --state environment."""
    from kiln.cli import commands
    from kiln.execute.tasks import runnable_ids

    ws = commands._load(inv)
    commands._write_manifest(ws)
    state = commands._state(ws)
    if state is None:
        raise CloneError("clone needs --state: the target/ folder of the environment to clone from")
    selected = commands._select(ws, ("model", "seed", "snapshot"))
    ids = [
        uid
        for uid in runnable_ids(ws, selected, "build")
        if ws.manifest.nodes[uid].resource_type in ("model", "seed", "snapshot")
    ]
    adapter = ws.open_adapter()
    t0 = time.perf_counter()
    try:
        results = [
            _clone_one(ws, adapter, state.prior.manifest, uid, (i + 1, len(ids)))
            for i, uid in enumerate(ids)
        ]
    finally:
        adapter.close()
    commands._write_run_results(ws, results, time.perf_counter() - t0)
    errors = sum(1 for r in results if r.status == "error")
    info(f"Finished cloning {len(results)} node(s): {len(results) - errors} ok, {errors} error(s)")
    return 1 if errors else 0


def _clone_one(
    ws: Workspace, adapter: Adapter, prior: PriorManifest, uid: str, position: tuple[int, int]
) -> NodeResult:
    from kiln.events.format import progress_line
    from kiln.execute.result import NodeResult

    started = time.perf_counter()
    try:
        status, message = _clone_relation(ws, adapter, prior, uid)
    except KilnError as exc:
        status, message = "error", exc.render()
    line = progress_line(*position, f"clone {uid}: {message}", status.upper())
    emit("LogModelResult", Level.ERROR if status == "error" else Level.INFO, line, unique_id=uid)
    result = NodeResult(uid, status, message)
    result.execution_time = time.perf_counter() - started
    return result


def _clone_relation(
    ws: Workspace, adapter: Adapter, prior: PriorManifest, uid: str
) -> tuple[str, str]:
    """(status, message) of cloning one node, as dbt's clone materialization decides."""
    from kiln.adapters.base import SchemaRef
    from kiln.execute.compiler import RelationResolver
    from kiln.state.defer import prior_relation

    data = prior.record(uid)
    if data is None or (data.get("config") or {}).get("materialized") == "ephemeral":
        return "success", "no relation in the state manifest"
    node = ws.manifest.nodes[uid]
    target = RelationResolver(ws).relation_of(node)
    existing = adapter.get_relation(target.database, target.schema, target.identifier)
    if existing is not None and not ws.invocation.full_refresh:
        return "success", f"{existing.render()} already exists"
    source = prior_relation(
        data, quote_char=adapter.quote_char, include_database=adapter.capabilities.catalogs
    )
    adapter.create_schema(SchemaRef(target.database, target.schema or adapter.schema))
    if existing is not None:
        adapter.drop_relation(existing)
    return "success", _create_clone(adapter, source, target)


def _create_clone(adapter: Adapter, source: Relation, target: Relation) -> str:
    """A zero-copy clone where the adapter offers one for tables, a view otherwise."""
    clone_relation = getattr(adapter, "clone_relation", None)
    if adapter.capabilities.clone and clone_relation is not None and source.is_table:
        clone_relation(source, target)
        return f"cloned {source.render()}"
    adapter.create_view_as(target.incorporate(type="view"), f"select * from {source.render()}")
    return f"view over {source.render()}"
