"""Which resource types each command returns, and `--resource-type` handling.

The selection itself ignores resource types; the last step keeps only the types the
command works on. The table mirrors dbt-core's tasks: `ls` lists everything but
analyses unless asked (`--resource-type all`), `run` runs models, `build` builds
models, seeds, snapshots, tests and reports exposures, and so on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kiln.errors import SelectionError
from kiln.select.errors import unknown_choice
from kiln.select.methods import RESOURCE_TYPES


@dataclass(frozen=True, slots=True)
class CommandResourceTypes:
    """The resource types of one command.

    Attributes:
        default: what the command returns without `--resource-type`.
        all: what `--resource-type all` means for it.
        include_empty: whether models with an empty body are kept (only `ls` keeps them).
    """

    default: frozenset[str]
    all: frozenset[str]
    include_empty: bool = False


_LS_DEFAULT = frozenset({
    "model", "snapshot", "seed", "test", "unit_test", "source", "exposure", "metric",
    "semantic_model", "saved_query",
})  # fmt: skip
_BUILD = frozenset({"model", "seed", "snapshot", "test", "unit_test", "exposure", "saved_query"})
_COMPILE = frozenset({
    "model", "test", "snapshot", "analysis", "seed", "operation", "sql_operation",
})  # fmt: skip


def _fixed(*types: str) -> CommandResourceTypes:
    return CommandResourceTypes(frozenset(types), frozenset(types))


COMMANDS: dict[str, CommandResourceTypes] = {
    "ls": CommandResourceTypes(_LS_DEFAULT, _LS_DEFAULT | {"analysis"}, include_empty=True),
    "build": CommandResourceTypes(_BUILD, _BUILD),
    "run": _fixed("model"),
    "test": _fixed("test", "unit_test"),
    "seed": _fixed("seed"),
    "snapshot": _fixed("snapshot"),
    "compile": CommandResourceTypes(_COMPILE, _COMPILE),
    "show": CommandResourceTypes(_COMPILE, _COMPILE),
    "docs": CommandResourceTypes(_COMPILE, _COMPILE),
    "clone": _fixed("model", "seed", "snapshot"),
    "source": _fixed("source"),
}
COMMANDS["list"] = COMMANDS["ls"]
RESOURCE_TYPE_CHOICES = (*sorted(_LS_DEFAULT | {"analysis"}), "all", "default")


def command_types(command: str) -> CommandResourceTypes:
    """The resource-type table entry of `command`.

    Raises:
        SelectionError: the command is not in the table.
    """
    if command not in COMMANDS:
        raise SelectionError(unknown_choice("command", command, COMMANDS))
    return COMMANDS[command]


def resolve_resource_types(
    command: str,
    resource_types: Sequence[str] | None = None,
    exclude_resource_types: Sequence[str] | None = None,
) -> frozenset[str]:
    """The resource types a command keeps, given `--resource-type` and its exclusion.

    Repeated `--resource-type` flags are a union; `all` and `default` expand to the
    command's sets; `--exclude-resource-type` is removed last.

    Example:
        >>> sorted(resolve_resource_types("ls", ["exposure", "snapshot"]))
        ['exposure', 'snapshot']
        >>> "analysis" in resolve_resource_types("ls", None, ["test"])
        False

    Raises:
        SelectionError: a resource type name is unknown.
    """
    table = command_types(command)
    chosen = set(table.default)
    if resource_types:
        chosen = set()
        for name in _checked(resource_types, RESOURCE_TYPE_CHOICES):
            chosen |= table.all if name == "all" else table.default if name == "default" else {name}
    excluded = set(_checked(exclude_resource_types or (), RESOURCE_TYPES))
    return frozenset(chosen - excluded)


def _checked(names: Sequence[str], valid: Sequence[str]) -> Sequence[str]:
    for name in names:
        if name not in valid and name not in RESOURCE_TYPES:
            raise SelectionError(unknown_choice("resource type", name, valid))
    return names
