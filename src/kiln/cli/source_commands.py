"""`kiln source freshness`: dbt's `source` command group.

Exit codes as dbt's: 0 when every source passes or only warns, 1 when one is stale past
`error_after` or could not be checked, 2 when the invocation cannot run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiln.cli.options import project_options
from kiln.invocation import Invocation

if TYPE_CHECKING:
    from kiln.artifacts import SourceFreshnessResult
    from kiln.parse.load import Workspace


@click.group(name="source")
def source() -> None:
    """Commands on sources."""


@source.command(name="freshness")
@project_options
@click.option(
    "-s", "--select", "select", multiple=True, help="Sources to check (e.g. source:raw.orders)."
)
@click.option("--exclude", multiple=True, help="Sources to leave out.")
@click.option("--selector", default=None, help="A selector from selectors.yml.")
@click.option("--threads", type=int, default=None, help="Worker threads (default: profile).")
@click.option(
    "-o",
    "--output",
    "output_path",
    default=None,
    help="Where to write the results (default: <target-path>/sources.json).",
)
def freshness(**kw: Any) -> None:
    """Check how recently each source table was loaded."""
    from kiln.cli.main import run_command

    run_command("source", do_source_freshness, **kw)


def do_source_freshness(inv: Invocation) -> int:
    """Select sources with a freshness threshold, check them, write sources.json."""
    from kiln.cli.commands import _load, _select
    from kiln.events.bus import Level, emit, info
    from kiln.execute.freshness import (
        checkable_sources,
        freshness_exit_code,
        report_problems,
        run_freshness,
    )

    ws = _load(inv)
    selected = _select(ws)
    sources = checkable_sources(
        ws.manifest.sources[uid] for uid in selected if uid in ws.manifest.sources
    )
    if not sources:
        emit(
            "NoNodesSelected",
            Level.WARN,
            "Nothing to do. Try checking your model configs and model specification args",
        )
        return 0
    info(f"Concurrency: {ws.target.threads} threads (target='{ws.target.name}')")
    info("")
    adapter = ws.open_adapter()
    t0 = time.perf_counter()
    try:
        results = run_freshness(adapter, sources, ws.target.threads)
    finally:
        adapter.close()
    _write_results(ws, inv, results, time.perf_counter() - t0)
    names = {s.unique_id: f"{s.source_name}.{s.name}" for s in sources}
    report_problems(results, names.__getitem__)
    return freshness_exit_code(results)


def _write_results(
    ws: Workspace, inv: Invocation, results: list[SourceFreshnessResult], elapsed: float
) -> None:
    """sources.json at `--output`, or in the target folder."""
    from kiln.artifacts import write_sources
    from kiln.cli.commands import _utcnow
    from kiln.events.bus import info

    output = inv.raw_args.get("output_path")
    write_sources(
        Path(output) if output else ws.target_dir / "sources.json",
        results,
        invocation_id=ws.invocation_id,
        generated_at=_utcnow(),
        elapsed_time=elapsed,
        invocation_started_at=ws.started_at,
    )
    info("")
    plural = "s" if len(results) != 1 else ""
    info(f"Finished running {len(results)} source{plural} in {elapsed:.2f}s.")
