"""Compiling nodes at run time: rendering with real relations and injecting ephemeral CTEs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.adapters.base import SQL_PREAMBLE
from kiln.adapters.relation import EventTimeFilter, Relation
from kiln.errors import CompilationError, KilnError, Location
from kiln.jinja.context import ConfigObject, parse_ref_args
from kiln.jinja.environment import render_string
from kiln.manifest.nodes import Node, RefCall

if TYPE_CHECKING:
    from kiln.adapters.base import Capabilities
    from kiln.materialize.microbatch import Batch
    from kiln.parse.load import Workspace

CTE_PREFIX = "__dbt__cte__"
# the workspace attribute holding `--defer` relations (unique id -> Relation)
DEFERRED_ATTR = "deferred_relations"
_WITH = re.compile(r"with\b", re.IGNORECASE)
_LOOKS_LIKE_CALL = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$", re.DOTALL)


@dataclass
class Compiled:
    """A node's SQL after rendering, with the ephemeral CTEs it needs injected."""

    sql: str
    ctes: list[tuple[str, str]] = field(default_factory=list)


class RelationResolver:
    """Maps refs and sources to relations; ephemeral refs become CTE names.

    `deferred` holds relations from a prior state for refs that are not built here. The
    CLI computes them with `kiln.state.defer` (for `--defer`) and leaves them on the
    workspace as `DEFERRED_ATTR`, which every resolver of the invocation starts from.
    """

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.by_name: dict[tuple[str, str], Node] = {}
        for node in ws.manifest.nodes.values():
            if node.resource_type in ("model", "seed", "snapshot"):
                self.by_name.setdefault((node.package_name, node.name), node)
        self.sources = {(s.source_name, s.name): s for s in ws.manifest.sources.values()}
        self.deferred: dict[str, Relation] = dict(getattr(ws, DEFERRED_ATTR, None) or {})
        capabilities = _capabilities(ws)
        self.include_database = bool(capabilities.catalogs)
        self.subquery_alias = bool(capabilities.subquery_alias)

    def relation_of(self, node: Node) -> Relation:
        return Relation(
            node.database,
            node.schema,
            node.alias or node.name,
            type=_relation_type(node),
            quote_char=self.ws.factory.quote_char,
            include_database=self.include_database,
        )

    def ref_node(self, call: RefCall, package: str) -> Node:
        node = self.by_name.get((call.package or package, call.name)) or self.by_name.get(
            (self.ws.project.name, call.name)
        )
        if node is None:
            raise CompilationError(f"ref('{call.name}') names no node")
        return node

    def source_relation(self, source_name: str, table_name: str) -> Relation:
        src = self.sources.get((source_name, table_name))
        if src is None:
            raise CompilationError(f"source('{source_name}', '{table_name}') names no source")
        return Relation(
            src.database,
            src.schema,
            src.identifier,
            quote_char=self.ws.factory.quote_char,
            include_database=self.include_database,
        )

    def source_event_time(self, source_name: str, table_name: str) -> str | None:
        """The `event_time` config of a source table, if it has one."""
        src = self.sources.get((source_name, table_name))
        value = src.config.get("event_time") if src is not None else None
        return str(value) if value else None


def _relation_type(node: Node) -> str | None:
    mat = node.materialized
    if mat in ("table", "incremental", "seed", "snapshot"):
        return "table"
    if mat == "view":
        return "view"
    return None


def _capabilities(ws: Workspace) -> Capabilities:
    from kiln.adapters.registry import load_adapter_class

    return load_adapter_class(ws.target.type).capabilities


class Compiler:
    """Renders nodes with a runtime context (one per invocation, shared by threads)."""

    def __init__(self, ws: Workspace, resolver: RelationResolver) -> None:
        self.ws = ws
        self.resolver = resolver
        self._ephemeral_cache: dict[str, Compiled] = {}

    def node_context(
        self,
        node: Node,
        *,
        is_incremental: bool = False,
        ctes: list[tuple[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
        batch: Batch | None = None,
    ) -> Any:
        """The Jinja context a node renders with at run time.

        `batch` is the microbatch batch being compiled: `model.batch` describes it, and
        refs and sources to upstreams with an `event_time` are limited to its window.
        """
        resolver = self.resolver
        collected = ctes if ctes is not None else []

        def limited(relation: Relation, event_time: Any) -> Relation:
            if batch is None or not event_time:
                return relation
            start, end = batch.bounds
            window = EventTimeFilter(str(event_time), start, end, resolver.subquery_alias)
            return relation.incorporate(event_time_filter=window)

        def ref(*args: Any, **kwargs: Any) -> Any:
            call = parse_ref_args(args, kwargs)
            target = resolver.ref_node(call, node.package_name)
            if target.is_ephemeral:
                self._add_ephemeral(target, collected)
                return CTE_PREFIX + target.name
            deferred = resolver.deferred.get(target.unique_id)
            relation = deferred if deferred is not None else resolver.relation_of(target)
            return limited(relation, target.config.get("event_time"))

        def source(source_name: str, table_name: str) -> Relation:
            relation = resolver.source_relation(source_name, table_name)
            return limited(relation, resolver.source_event_time(source_name, table_name))

        model, node_var = node_dict(node), node_dict(node)
        if batch is not None:
            model["batch"] = node_var["batch"] = batch.context()
        values: dict[str, Any] = {
            "ref": ref,
            "source": source,
            "config": ConfigObject(node.config, None),
            "this": resolver.relation_of(node),
            "is_incremental": lambda: is_incremental,
            "model": model,
            "node": node_var,
        }
        values.update(extra or {})
        return self.ws.factory.context(values, node.package_name, None, execute=True)

    def _add_ephemeral(self, node: Node, ctes: list[tuple[str, str]]) -> None:
        name = CTE_PREFIX + node.name
        if any(existing == name for existing, _ in ctes):
            return
        compiled = self._ephemeral_cache.get(node.unique_id)
        if compiled is None:
            inner: list[tuple[str, str]] = []
            sql = self.render(node, node.raw_code, self.node_context(node, ctes=inner))
            compiled = Compiled(sql, inner)
            self._ephemeral_cache[node.unique_id] = compiled
        for cte in compiled.ctes:
            if all(existing != cte[0] for existing, _ in ctes):
                ctes.append(cte)
        ctes.append((name, compiled.sql))

    def render(self, node: Node, text: str, context: Any) -> str:
        """Render text in a context; errors name the node's file."""
        try:
            return render_string(text, context, node.original_file_path)
        except KilnError as exc:
            if exc.location is None:
                exc.location = Location(node.original_file_path)
            raise

    def compile(
        self, node: Node, *, is_incremental: bool = False, batch: Batch | None = None
    ) -> str:
        """The node's runnable SQL (for one batch of a microbatch model when `batch` is set)."""
        ctes: list[tuple[str, str]] = []
        extra = None
        if node.test_metadata is not None:
            extra = {"_dbt_generic_test_kwargs": self._test_kwargs(node, ctes)}
        context = self.node_context(
            node, is_incremental=is_incremental, ctes=ctes, extra=extra, batch=batch
        )
        sql = self.render(node, node.raw_code, context)
        return inject_ctes(sql, ctes)

    def _test_kwargs(self, node: Node, ctes: list[tuple[str, str]]) -> dict[str, Any]:
        assert node.test_metadata is not None
        context = self.node_context(node, ctes=ctes)
        return {
            k: self._render_kwarg(node, v, context) for k, v in node.test_metadata.kwargs.items()
        }

    def _render_kwarg(self, node: Node, value: Any, context: Any) -> Any:
        if isinstance(value, str):
            if _LOOKS_LIKE_CALL.match(value):
                return self.render(node, "{{ " + value + " }}", context)
            if "{{" in value or "{%" in value:
                return self.render(node, value, context)
            return value
        if isinstance(value, list):
            return [self._render_kwarg(node, v, context) for v in value]
        if isinstance(value, dict):
            return {k: self._render_kwarg(node, v, context) for k, v in value.items()}
        return value

    def render_hooks(self, node: Node, key: str) -> list[str]:
        """The node's pre- or post-hooks, rendered."""
        hooks = node.config.get(key) or []
        out = []
        context = None
        for hook in hooks:
            sql = hook.get("sql", "") if isinstance(hook, dict) else str(hook)
            if not sql.strip():
                continue
            if context is None:
                context = self.node_context(node)
            out.append(self.render(node, sql, context))
        return out


def inject_ctes(sql: str, ctes: list[tuple[str, str]]) -> str:
    """Prepend ephemeral CTEs, merging into the query's own WITH clause if it has one.

    Example:
        >>> inject_ctes("with a as (select 1) select * from a", [("__dbt__cte__e", "select 2")])
        'with  __dbt__cte__e as (\\nselect 2\\n), a as (select 1) select * from a'
        >>> inject_ctes("select 1", [("__dbt__cte__e", "select 2")])
        'with __dbt__cte__e as (\\nselect 2\\n) select 1'

    The spacing is dbt's, byte for byte, so compiled_code compares equal.
    """
    if not ctes:
        return sql
    block = ", ".join(f" {name} as (\n{body}\n)" for name, body in ctes)
    start = SQL_PREAMBLE.match(sql)
    offset = start.end() if start else 0
    own_with = _WITH.match(sql, offset)
    if own_with:
        keyword = own_with.group(0)  # the user's own spelling: `WITH` stays `WITH`
        return f"{sql[:offset]}{keyword} {block}, {sql[own_with.end() :].lstrip()}"
    return f"{sql[:offset]}with{block} {sql[offset:]}"


def node_dict(node: Node) -> dict[str, Any]:
    """The `model` variable: the node as a dict, the way dbt macros read it."""
    return {
        "unique_id": node.unique_id,
        "name": node.name,
        "alias": node.alias,
        "schema": node.schema,
        "database": node.database,
        "resource_type": node.resource_type,
        "package_name": node.package_name,
        "fqn": node.fqn,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "config": node.config,
        "tags": node.tags,
        "description": node.description,
        "columns": node.columns,
        "meta": node.meta,
        "raw_code": node.raw_code,
        "raw_sql": node.raw_code,
        "language": node.language,
        "refs": [{"name": r.name, "package": r.package, "version": r.version} for r in node.refs],
        "sources": [list(s) for s in node.sources],
        "depends_on": {"nodes": node.depends_on_nodes, "macros": node.depends_on_macros},
        "relation_name": node.relation_name,
        "version": node.version,
        "checksum": {"name": "sha256", "checksum": node.checksum},
    }
