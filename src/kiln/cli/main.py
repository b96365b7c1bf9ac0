"""The `kiln` command: dbt's commands and flags, one error boundary, dbt's exit codes."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kiln import DBT_COMPAT_VERSION, __version__
from kiln.cli.deps_cmd import deps
from kiln.cli.options import project_options, run_options, selection_options
from kiln.cli.source_commands import source
from kiln.cli.state_commands import clone, retry
from kiln.errors import KilnError
from kiln.invocation import Invocation


def make_invocation(command: str, **kw: Any) -> Invocation:
    """Click keyword arguments -> the frozen Invocation."""
    raw = {k: v for k, v in kw.items() if v not in (None, (), False)}
    return Invocation(
        command=command,
        project_dir=kw.get("project_dir") or ".",
        profiles_dir=kw.get("profiles_dir"),
        profile=kw.get("profile"),
        target=kw.get("target"),
        vars=kw.get("vars_") or {},
        select=tuple(_split_words(kw.get("select") or ())),
        exclude=tuple(_split_words(kw.get("exclude") or ())),
        selector=kw.get("selector"),
        resource_types=tuple(_split_words(kw.get("resource_types") or ())),
        exclude_resource_types=tuple(_split_words(kw.get("exclude_resource_types") or ())),
        indirect_selection=kw.get("indirect_selection") or "eager",
        threads=kw.get("threads"),
        full_refresh=bool(kw.get("full_refresh")),
        fail_fast=bool(kw.get("fail_fast")),
        target_path=kw.get("target_path"),
        log_path=kw.get("log_path"),
        partial_parse=kw.get("partial_parse", True),
        debug=bool(kw.get("debug")),
        quiet=bool(kw.get("quiet")),
        log_format="json" if kw.get("log_format") == "json" else "text",
        state=kw.get("state"),
        defer=bool(kw.get("defer")),
        favor_state=bool(kw.get("favor_state")),
        output=kw.get("output") or "selector",
        output_keys=tuple(_split_words(kw.get("output_keys") or ())),
        limit=kw.get("limit"),
        inline=kw.get("inline"),
        macro=kw.get("macro"),
        macro_args=kw.get("args") or {},
        store_failures=bool(kw.get("store_failures")),
        empty=bool(kw.get("empty")),
        event_time_start=kw.get("event_time_start"),
        event_time_end=kw.get("event_time_end"),
        raw_args={k: v for k, v in raw.items() if k != "vars_"}
        | ({"vars": kw["vars_"]} if kw.get("vars_") else {}),
    )


def _split_words(values: tuple[str, ...] | list[str]) -> list[str]:
    """dbt accepts `-s "a b"` and `-s a -s b` alike."""
    out: list[str] = []
    for value in values:
        out.extend(value.split())
    return out


def run_command(command: str, task: Callable[[Invocation], int], **kw: Any) -> None:
    """The one error boundary: KilnError -> one line and exit 2 (or its own code)."""
    inv = make_invocation(command, **kw)
    from kiln.cli.logging_setup import setup_logging

    setup_logging(inv)
    from kiln.execute.interrupt import interrupt_guard

    try:
        with interrupt_guard():
            code = task(inv)
    except KilnError as exc:
        if inv.debug:
            traceback.print_exc()
        from kiln.events.bus import Level, emit

        emit("MainEncounteredError", Level.ERROR, f"Encountered an error:\n{exc.render()}")
        code = 2
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - the last resort boundary
        if inv.debug:
            traceback.print_exc()
        from kiln.events.bus import Level, emit

        emit(
            "MainEncounteredError",
            Level.ERROR,
            f"Internal error (this is a bug in Kiln): {type(exc).__name__}: {exc}. "
            "Run again with --debug for the traceback.",
        )
        code = 2
    from kiln.jinja.code_cache import flush_code_cache

    flush_code_cache()
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__,
    "--version",
    "-v",
    message=f"kiln %(version)s (dbt-core compatible: {DBT_COMPAT_VERSION})",
)
def cli() -> None:
    """Kiln: build dbt projects, faster, with production tooling built in."""


def _tasks() -> Any:
    from kiln.cli import commands

    return commands


@cli.command()
@project_options
def parse(**kw: Any) -> None:
    """Parse the project and write target/manifest.json."""
    run_command("parse", _tasks().do_parse, **kw)


@cli.command(name="ls")
@project_options
@selection_options
@click.option(
    "--output", "-o", type=click.Choice(["name", "path", "json", "selector"]), default="selector"
)
@click.option("--output-keys", multiple=True)
@click.option("--explain", is_flag=True, default=False, help="Say why each node was selected.")
def ls_cmd(**kw: Any) -> None:
    """List the selected resources."""
    run_command("ls", _tasks().do_ls, **kw)


cli.add_command(ls_cmd, name="list")
cli.add_command(source)
cli.add_command(retry)
cli.add_command(clone)
cli.add_command(deps)


def _node_command(name: str, doc: str) -> None:
    @project_options
    @selection_options
    @run_options
    def command(**kw: Any) -> None:
        run_command(name, getattr(_tasks(), f"do_{name}"), **kw)

    command.__doc__ = doc
    cli.command(name=name)(command)


for _name, _doc in (
    ("run", "Build the selected models."),
    ("seed", "Load the seed CSV files."),
    ("test", "Run data tests."),
    ("snapshot", "Run snapshots."),
    ("build", "Seeds, models, snapshots and tests, in DAG order."),
    ("compile", "Write compiled SQL to target/compiled."),
):
    _node_command(_name, _doc)


@cli.command()
@project_options
@selection_options
@run_options
@click.option("--limit", type=int, default=5)
@click.option("--inline", default=None, help="SQL to preview instead of a node.")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text")
def show(**kw: Any) -> None:
    """Preview the rows of a node or of inline SQL."""
    run_command("show", _tasks().do_show, **kw)


@cli.command(name="run-operation")
@click.argument("macro")
@click.option(
    "--args",
    default=None,
    callback=lambda c, p, v: __import__("kiln.cli.options", fromlist=["x"])._parse_vars(c, p, v),
)
@project_options
def run_operation(**kw: Any) -> None:
    """Run a macro."""
    run_command("run-operation", _tasks().do_run_operation, **kw)


@cli.command()
@project_options
def debug(**kw: Any) -> None:
    """Check the project, the profile and the connection."""
    kw["debug_cmd"] = True
    kw["debug"] = False
    run_command("debug", _tasks().do_debug, **kw)


@cli.command()
@project_options
def clean(**kw: Any) -> None:
    """Delete the clean-targets folders."""
    run_command("clean", _tasks().do_clean, **kw)


@cli.command()
@click.argument("project_name", required=False)
@click.option("--skip-profile-setup", is_flag=True, default=False)
def init(project_name: str | None, skip_profile_setup: bool) -> None:
    """Create a new project."""
    from kiln.cli.init_cmd import init_project

    sys.exit(init_project(Path.cwd(), project_name or "my_project", skip_profile_setup))


def main() -> None:
    cli(prog_name="kiln")
