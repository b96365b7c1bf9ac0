"""Database, schema and alias of each node: dbt's `generate_*_name` rules.

The built-in rules run in Python; a project that overrides one of the macros gets it
rendered through Jinja for every node, as dbt does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiln.adapters.relation import Relation
from kiln.jinja.environment import render_string
from kiln.jinja.macros import BUILTIN_PACKAGE
from kiln.manifest.nodes import Node

if TYPE_CHECKING:
    from kiln.parse.parser import ProjectParser

_RELATIONAL = ("model", "seed", "snapshot")


class Namer:
    """Assigns `database`, `schema`, `alias` and `relation_name`."""

    def __init__(self, parser: ProjectParser) -> None:
        self.p = parser
        self.target = parser.factory.target
        self.custom = {
            kind: self._overridden(f"generate_{kind}_name")
            for kind in ("schema", "alias", "database")
        }

    def _overridden(self, name: str) -> bool:
        macro = self.p.registry.lookup(name)
        return macro is not None and macro.package != BUILTIN_PACKAGE

    def assign(self, node: Node) -> None:
        config = node.config
        if node.resource_type == "snapshot" and config.get("target_schema"):
            node.schema = str(config["target_schema"])
        elif node.resource_type == "test":
            audit = config.get("schema") or "dbt_test__audit"
            node.schema = self._generate("schema", audit, node)
        else:
            node.schema = self._generate("schema", config.get("schema"), node)
        if node.resource_type == "snapshot" and config.get("target_database"):
            node.database = str(config["target_database"])
        else:
            node.database = self._generate("database", config.get("database"), node)
        node.alias = self._generate("alias", config.get("alias"), node)
        node.relation_name = None
        if node.resource_type in _RELATIONAL and not node.is_ephemeral:
            rel = Relation(
                node.database,
                node.schema,
                node.alias,
                quote_char=self.p.inputs.quote_char,
                include_database=self.p.inputs.include_database,
            )
            node.relation_name = rel.render()

    def _generate(self, kind: str, custom: Any, node: Node) -> str:
        if self.custom[kind]:
            return self._render(kind, custom, node)
        if kind == "schema":
            if custom is None or custom == "":
                return self.target.schema
            return f"{self.target.schema}_{str(custom).strip()}"
        if kind == "database":
            return str(custom).strip() if custom is not None else (self.target.database or "")
        if custom:
            return str(custom).strip()
        if node.version is not None:
            return f"{node.name}_v{str(node.version).replace('.', '_')}"
        return node.name

    def _render(self, kind: str, custom: Any, node: Node) -> str:
        node_ctx = {
            "name": node.name,
            "unique_id": node.unique_id,
            "resource_type": node.resource_type,
            "package_name": node.package_name,
            "fqn": node.fqn,
            "config": node.config,
            "tags": node.tags,
            "original_file_path": node.original_file_path,
            "path": node.path,
            "version": node.version,
        }
        ctx = self.p.factory.context(
            {"__kiln_custom": custom, "__kiln_node": node_ctx},
            node.package_name,
            None,
            execute=False,
        )
        text = "{{ generate_" + kind + "_name(__kiln_custom, __kiln_node) }}"
        return render_string(text, ctx, node.original_file_path).strip()  # type: ignore[arg-type]
