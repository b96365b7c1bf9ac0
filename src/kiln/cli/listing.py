"""`kiln ls` output: name, path, selector or JSON lines, as dbt prints them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.parse.load import Workspace

DEFAULT_JSON_KEYS = (
    "name",
    "resource_type",
    "package_name",
    "original_file_path",
    "unique_id",
    "alias",
    "config",
    "tags",
    "depends_on",
)


def list_lines(
    ws: Workspace, selected: frozenset[str], output: str, keys: tuple[str, ...]
) -> Iterator[str]:
    """One line per selected node, sorted like dbt (by unique id)."""
    manifest = ws.manifest
    for uid in sorted(selected):
        node = manifest.get(uid)
        if node is None:
            continue
        if output == "name":
            yield _list_name(node)
        elif output == "path":
            yield node.original_file_path
        elif output == "json":
            yield json.dumps(_json_record(node, keys), default=str)
        else:
            yield _selector_name(node, uid)


def _list_name(node: Any) -> str:
    if node.resource_type == "source":
        return f"{node.source_name}.{node.name}"
    return str(node.name)


def _selector_name(node: Any, uid: str) -> str:
    kind = node.resource_type
    if kind == "source":
        return f"source:{'.'.join([node.package_name, node.source_name, node.name])}"
    if kind == "exposure":
        return f"exposure:{'.'.join(node.fqn)}"
    if kind == "unit_test":
        return f"unit_test:{node.package_name}.{node.model}.{node.name}"
    return ".".join(node.fqn)


def _json_record(node: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    full = {
        "name": node.name,
        "resource_type": node.resource_type,
        "package_name": node.package_name,
        "original_file_path": node.original_file_path,
        "unique_id": node.unique_id,
        "alias": getattr(node, "alias", None) or None,
        "config": node.config,
        "tags": list(node.tags),
        "depends_on": {
            "nodes": list(getattr(node, "depends_on_nodes", [])),
            "macros": list(getattr(node, "depends_on_macros", [])),
        },
        "fqn": list(node.fqn),
        "path": node.path,
    }
    if node.resource_type == "source":
        full["source_name"] = node.source_name
    wanted = keys or DEFAULT_JSON_KEYS
    return {k: full.get(k) for k in wanted if k in full}
