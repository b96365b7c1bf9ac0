"""Flags shared by commands, spelled as dbt spells them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
import yaml

F = TypeVar("F", bound=Callable[..., Any])


def _parse_vars(ctx: click.Context, param: click.Parameter, value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a YAML or JSON mapping, e.g. '{key: value}'")
    return parsed


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


project_options = _stack(
    click.option(
        "--project-dir",
        default=None,
        envvar="DBT_PROJECT_DIR",
        help="Folder holding dbt_project.yml (default: the current folder).",
    ),
    click.option(
        "--profiles-dir",
        default=None,
        help="Folder holding profiles.yml (default: DBT_PROFILES_DIR, ., ~/.dbt).",
    ),
    click.option("--profile", default=None, help="Profile to use instead of the project's."),
    click.option("-t", "--target", default=None, help="Target of the profile to use."),
    click.option(
        "--vars",
        "vars_",
        default=None,
        callback=_parse_vars,
        help="Variables as YAML or JSON, e.g. '{start_date: 2024-01-01}'.",
    ),
    click.option("--target-path", default=None, envvar="DBT_TARGET_PATH"),
    click.option("--log-path", default=None, envvar="DBT_LOG_PATH"),
    click.option(
        "--partial-parse/--no-partial-parse",
        default=True,
        help="Reuse the parse cache in the target folder.",
    ),
    click.option(
        "--debug", "-d", is_flag=True, default=False, help="Debug logging and Python tracebacks."
    ),
    click.option("--quiet", "-q", is_flag=True, default=False, help="Only print errors."),
    click.option("--log-format", type=click.Choice(["text", "json", "default"]), default="text"),
    click.option("--log-level", default=None, hidden=True),
    click.option("--use-colors/--no-use-colors", default=None, hidden=True),
    click.option("--printer-width", default=None, hidden=True),
    click.option(
        "--state",
        default=None,
        envvar=["KILN_STATE", "DBT_STATE"],
        help="Folder with the artifacts of a previous run, for state: selectors.",
    ),
    click.option("--defer/--no-defer", default=False),
    click.option("--favor-state/--no-favor-state", default=False),
)

selection_options = _stack(
    click.option(
        "-s",
        "--select",
        "--models",
        "-m",
        "select",
        multiple=True,
        help="Selection expression (repeatable).",
    ),
    click.option("--exclude", multiple=True, help="Expression of nodes to leave out."),
    click.option("--selector", default=None, help="A selector from selectors.yml."),
    click.option("--resource-type", "--resource-types", "resource_types", multiple=True),
    click.option(
        "--exclude-resource-type",
        "--exclude-resource-types",
        "exclude_resource_types",
        multiple=True,
    ),
    click.option(
        "--indirect-selection",
        type=click.Choice(["eager", "cautious", "buildable", "empty"]),
        default="eager",
        envvar="DBT_INDIRECT_SELECTION",
    ),
)

run_options = _stack(
    click.option("--threads", type=int, default=None, help="Worker threads (default: profile)."),
    click.option("-x", "--fail-fast/--no-fail-fast", default=False),
    click.option("--full-refresh", "-f", is_flag=True, default=False),
    click.option("--store-failures", is_flag=True, default=False),
    click.option("--empty/--no-empty", default=False, hidden=True),
    click.option(
        "--event-time-start",
        type=click.DateTime(),
        default=None,
        help="Microbatch models: first instant to (re)process (UTC).",
    ),
    click.option(
        "--event-time-end",
        type=click.DateTime(),
        default=None,
        help="Microbatch models: end of the range to process (UTC, exclusive).",
    ),
)
