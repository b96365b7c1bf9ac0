"""Turn `kiln ls ...` argument lists into `select_nodes` keyword arguments.

This is the part of the CLI that matters for selection, so that the conformance goldens
(`selection.json`, recorded as command lines) and the fixture files can be replayed
through the library without the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiln.select import COMMANDS

# option -> (select_nodes keyword, repeatable)
_OPTIONS: dict[str, tuple[str, bool]] = {
    "--select": ("select", True),
    "-s": ("select", True),
    "--models": ("select", True),
    "-m": ("select", True),
    "--exclude": ("exclude", True),
    "--selector": ("selector", False),
    "--resource-type": ("resource_types", True),
    "--resource-types": ("resource_types", True),
    "--exclude-resource-type": ("exclude_resource_types", True),
    "--exclude-resource-types": ("exclude_resource_types", True),
    "--indirect-selection": ("indirect_selection", False),
}
# options that only shape the output
_IGNORED = {"--output", "-o", "--output-keys"}


class UnmappedArgs(ValueError):
    """The argument list uses something the mapping does not know."""


def selection_kwargs(args: Sequence[str]) -> dict[str, Any]:
    """`select_nodes` keyword arguments (plus `command`) for a command line.

    Example:
        >>> selection_kwargs(["ls", "--select", "a b", "c", "--select", "d", "--exclude", "e"])
        {'command': 'ls', 'select': ['a b', 'c', 'd'], 'exclude': ['e']}
    """
    rest = list(args)
    kwargs: dict[str, Any] = {"command": "ls"}
    if rest and rest[0] in COMMANDS:
        kwargs["command"] = rest.pop(0)
    while rest:
        flag = rest.pop(0)
        values = []
        # like dbt's multi-value options, a flag takes every word up to the next flag
        while rest and not rest[0].startswith("-"):
            values.append(rest.pop(0))
        if not values:
            raise UnmappedArgs(f"{flag} has no value")
        if flag in _IGNORED:
            continue
        if flag not in _OPTIONS:
            raise UnmappedArgs(f"unknown option {flag}")
        key, repeatable = _OPTIONS[flag]
        if repeatable:
            kwargs.setdefault(key, []).extend(values)
        elif len(values) > 1:
            raise UnmappedArgs(f"{flag} takes one value")
        else:
            kwargs[key] = values[0]
    if flag_models(args):
        kwargs["resource_types"] = ["model"]
    return kwargs


def flag_models(args: Sequence[str]) -> bool:
    """Whether `--models`/`-m` was used, which limits `ls` to models as in dbt."""
    return any(arg in ("--models", "-m") for arg in args)
