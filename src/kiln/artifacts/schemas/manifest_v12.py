"""manifest.json in dbt's published schema v12 (dbt-core 1.8 to 1.11).

Kiln's records (`kiln.manifest.nodes`) are converted field by field into the shape dbt-core
1.11 writes: every record is built in dbt's key order, config defaults for each resource type
are filled in from the tables below, and id-keyed collections are sorted so that two runs over
the same project produce identical bytes. The published schema is the reference:
https://schemas.getdbt.com/dbt/manifest/v12.json
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from kiln.artifacts.files import read_json
from kiln.artifacts.schemas.base import (
    SchemaVersion,
    Upgrade,
    artifact_metadata,
    check_and_upgrade,
    format_iso,
    freshness_threshold,
    with_schema_version,
)
from kiln.errors import ArtifactError, did_you_mean
from kiln.manifest.graph import Graph
from kiln.manifest.nodes import (
    Doc,
    Exposure,
    Macro,
    Manifest,
    Node,
    RefCall,
    SourceDefinition,
    UnitTest,
    hook_of,
)

SCHEMA: Final = SchemaVersion("manifest", 12)

# --- config defaults, per resource type, in dbt's field order --------------------------------

_DOCS: Final[dict[str, Any]] = {"show": True, "node_color": None}

_CONFIG_HEAD: Final[dict[str, Any]] = {
    "enabled": True,
    "alias": None,
    "schema": None,
    "database": None,
    "tags": [],
    "meta": {},
    "group": None,
    "static_analysis": None,
}

# dbt's NodeConfig: what models, seeds, snapshots, analyses and hooks all carry.
_NODE_CONFIG: Final[dict[str, Any]] = {
    **_CONFIG_HEAD,
    "materialized": "view",
    "incremental_strategy": None,
    "batch_size": None,
    "lookback": 1,
    "begin": None,
    "persist_docs": {},
    "post-hook": [],
    "pre-hook": [],
    "quoting": {},
    "column_types": {},
    "full_refresh": None,
    "unique_key": None,
    "on_schema_change": "ignore",
    "on_configuration_change": "apply",
    "grants": {},
    "packages": [],
    "docs": _DOCS,
    "contract": {"enforced": False, "alias_types": True},
    "event_time": None,
    "concurrent_batches": None,
}

_SNAPSHOT_META_COLUMNS: Final[dict[str, Any]] = dict.fromkeys(
    ("dbt_valid_to", "dbt_valid_from", "dbt_scd_id", "dbt_updated_at", "dbt_is_deleted")
)

CONFIG_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "model": {**_NODE_CONFIG, "access": "protected", "freshness": None},
    "seed": {**_NODE_CONFIG, "materialized": "seed", "delimiter": ",", "quote_columns": None},
    "snapshot": {
        **_NODE_CONFIG,
        "materialized": "snapshot",
        "strategy": None,
        "target_schema": None,
        "target_database": None,
        "updated_at": None,
        "check_cols": None,
        "snapshot_meta_column_names": _SNAPSHOT_META_COLUMNS,
        "dbt_valid_to_current": None,
    },
    "test": {
        **_CONFIG_HEAD,
        "schema": "dbt_test__audit",
        "materialized": "test",
        "severity": "ERROR",
        "store_failures": None,
        "store_failures_as": None,
        "where": None,
        "limit": None,
        "fail_calc": "count(*)",
        "warn_if": "!= 0",
        "error_if": "!= 0",
    },
    "analysis": _NODE_CONFIG,
    "operation": _NODE_CONFIG,
    "sql_operation": _NODE_CONFIG,
}

_COLUMN_DEFAULTS: Final[dict[str, Any]] = {
    "name": "",
    "description": "",
    "meta": {},
    "data_type": None,
    "constraints": [],
    "quote": None,
    "config": {"meta": {}, "tags": []},
    "tags": [],
    "granularity": None,
    "doc_blocks": [],
}

# config() calls may spell hooks with an underscore; dbt stores them dashed.
_CONFIG_KEY_ALIASES: Final = {"pre_hook": "pre-hook", "post_hook": "post-hook"}
_HOOK_DEFAULTS: Final[dict[str, Any]] = {"sql": "", "transaction": True, "index": None}
_SOURCE_QUOTING: Final[dict[str, Any]] = dict.fromkeys(
    ("database", "schema", "identifier", "column")
)
_DEFAULT_QUOTING: Final[dict[str, Any]] = {
    "database": True,
    "schema": True,
    "identifier": True,
    "column": None,
}


def with_defaults(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` over a copy of `defaults`: default keys first, in order, then extra keys.

    Nested mappings that have defaults of their own (`docs`, `contract`, ...) are filled too.

    Example:
        >>> with_defaults({"a": 1, "docs": {"show": True, "x": None}}, {"z": 0, "docs": {"x": 2}})
        {'a': 1, 'docs': {'show': True, 'x': 2}, 'z': 0}
    """
    # Shallow on purpose: the result is serialized right away, and copying every nested
    # value dominated the time to write large manifests.
    out: dict[str, Any] = dict(defaults)
    for key, value in values.items():
        default = out.get(key)
        if isinstance(default, dict) and default and isinstance(value, Mapping):
            out[key] = {**default, **value}
        else:
            out[key] = value
    return out


def node_config(resource_type: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """A node's `config` as dbt writes it: the resource type's defaults, then the node's values.

    Example:
        >>> node_config("seed", {"tags": "raw", "post_hook": "grant select"})["post-hook"]
        [{'sql': 'grant select', 'transaction': True, 'index': None}]
    """
    values = {_CONFIG_KEY_ALIASES.get(key, key): value for key, value in config.items()}
    out = with_defaults(CONFIG_DEFAULTS[resource_type], values)
    out["tags"] = _as_list(out.get("tags"))
    for key in ("pre-hook", "post-hook"):
        if key in out:
            out[key] = [_hook(hook) for hook in _as_list(out[key])]
    return out


def _hook(hook: object) -> dict[str, Any]:
    if isinstance(hook, Mapping):
        return with_defaults(_HOOK_DEFAULTS, hook)
    return with_defaults(_HOOK_DEFAULTS, {"sql": str(hook)})


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def columns_v12(columns: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Column properties with dbt's `ColumnInfo` defaults filled in, in declaration order."""
    return {
        name: with_defaults(_COLUMN_DEFAULTS, {"name": name, **info})
        for name, info in columns.items()
    }


# --- nodes: one field table per node shape ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    """What converting one node needs beyond the node itself."""

    project_root: str | None
    tests_by_node: Mapping[str, tuple[Node, ...]]


def _checksum(node: Node) -> dict[str, str]:
    # dbt writes {"name": "none", "checksum": ""} for nodes without a file of their own
    # (generic tests generated from YAML).
    if not node.checksum:
        return {"name": "none", "checksum": ""}
    return {"name": "sha256", "checksum": node.checksum}


def _refs(refs: Iterable[RefCall]) -> list[dict[str, Any]]:
    return [{"name": r.name, "package": r.package, "version": r.version} for r in refs]


def _depends_on(node: Node) -> dict[str, list[str]]:
    # Seeds cannot depend on nodes, so dbt's SeedNode carries only macro dependencies.
    if node.resource_type == "seed":
        return {"macros": list(node.depends_on_macros)}
    return {"macros": list(node.depends_on_macros), "nodes": list(node.depends_on_nodes)}


def _contract(node: Node) -> dict[str, Any]:
    config = with_defaults(_NODE_CONFIG["contract"], node.config.get("contract") or {})
    return {"enforced": config["enforced"], "alias_types": config["alias_types"], "checksum": None}


def _test_metadata(node: Node) -> dict[str, Any] | None:
    meta = node.test_metadata
    if meta is None:
        return None
    return {"name": meta.name, "kwargs": dict(meta.kwargs), "namespace": meta.namespace}


def _hook_index(node: Node) -> int | None:
    # dbt records a hook's position separately (at parse time; the manifest `dbt run`
    # rewrites afterwards counts from 1).
    hook = hook_of(node)
    return hook[1] if hook is not None else None


def _node_tags(node: Node) -> list[str]:
    # dbt dedupes node-level tags only; a hook node is tagged with its hook.
    tags = list(dict.fromkeys(node.tags))
    hook = hook_of(node)
    if hook is not None and hook[0] not in tags:
        tags.append(hook[0])
    return tags


def infer_primary_key(node: Node, tests: Iterable[Node]) -> list[str]:
    """dbt's inferred `primary_key` of a model, from its constraints and generic tests.

    In order: a column-level primary_key constraint, columns with both `unique` and
    `not_null` tests, then columns with `unique` tests (enabled before disabled). Kiln does not
    record model-level constraints yet, which dbt checks first. Columns are sorted: dbt collects
    them in a set, so its own order is not stable.
    """
    for name, column in node.columns.items():
        if any(c.get("type") == "primary_key" for c in column.get("constraints") or []):
            return [name]
    enabled: set[str] = set()
    disabled: set[str] = set()
    not_null: set[str] = set()
    for test in tests:
        meta = test.test_metadata
        if meta is None:
            continue
        columns = _tested_columns(meta.kwargs)
        if meta.name in ("unique", "unique_combination_of_columns"):
            (enabled if test.config.get("enabled", True) else disabled).update(columns)
        elif meta.name == "not_null":
            not_null.update(columns)
    for candidates in (not_null & (enabled | disabled), enabled, disabled):
        if candidates:
            return sorted(candidates)
    return []


def _tested_columns(kwargs: Mapping[str, Any]) -> list[str]:
    if "column_name" in kwargs:
        return [str(kwargs["column_name"])]
    return [str(c) for c in kwargs.get("combination_of_columns") or []]


_NodeField = Callable[[Node, _Context], Any]

# How each published field is read off a Kiln node. Fields Kiln does not track yet are written
# as dbt writes them for a freshly parsed (not yet compiled) node.
NODE_FIELDS: Final[dict[str, _NodeField]] = {
    "database": lambda n, _: n.database,
    "schema": lambda n, _: n.schema,
    "name": lambda n, _: n.name,
    "resource_type": lambda n, _: n.resource_type,
    "package_name": lambda n, _: n.package_name,
    "path": lambda n, _: n.path,
    "original_file_path": lambda n, _: n.original_file_path,
    "unique_id": lambda n, _: n.unique_id,
    "fqn": lambda n, _: list(n.fqn),
    "alias": lambda n, _: n.alias or n.name,
    "checksum": lambda n, _: _checksum(n),
    "config": lambda n, _: node_config(n.resource_type, n.config),
    "tags": lambda n, _: _node_tags(n),
    "description": lambda n, _: n.description,
    "columns": lambda n, _: columns_v12(n.columns),
    "meta": lambda n, _: dict(n.meta),
    "group": lambda n, _: n.group if n.group is not None else n.config.get("group"),
    "docs": lambda n, _: with_defaults(_DOCS, n.docs),
    "patch_path": lambda n, _: n.patch_path,
    "build_path": lambda n, _: None,
    "unrendered_config": lambda n, _: dict(n.unrendered_config),
    "created_at": lambda n, _: n.created_at,
    "relation_name": lambda n, _: n.relation_name,
    "raw_code": lambda n, _: n.raw_code,
    "doc_blocks": lambda n, _: [],
    "root_path": lambda _, ctx: ctx.project_root,
    "language": lambda n, _: n.language,
    "refs": lambda n, _: _refs(n.refs),
    "sources": lambda n, _: [[source, table] for source, table in n.sources],
    "metrics": lambda n, _: [],
    "functions": lambda n, _: [],
    "depends_on": lambda n, _: _depends_on(n),
    "compiled_path": lambda n, _: None,
    "contract": lambda n, _: _contract(n),
    "access": lambda n, _: n.access or n.config.get("access") or "protected",
    "constraints": lambda n, _: [],
    "version": lambda n, _: n.version,
    "latest_version": lambda n, _: n.latest_version,
    "deprecation_date": lambda n, _: None,
    "primary_key": lambda n, ctx: infer_primary_key(n, ctx.tests_by_node.get(n.unique_id, ())),
    "time_spine": lambda n, _: None,
    "column_name": lambda n, _: n.column_name,
    "file_key_name": lambda n, _: n.file_key_name,
    "attached_node": lambda n, _: n.attached_node,
    "test_metadata": lambda n, _: _test_metadata(n),
    "index": lambda n, _: _hook_index(n),
}

_PARSED: Final = (
    "database", "schema", "name", "resource_type", "package_name", "path",
    "original_file_path", "unique_id", "fqn", "alias", "checksum", "config", "tags",
    "description", "columns", "meta", "group", "docs", "patch_path", "build_path",
    "unrendered_config", "created_at", "relation_name", "raw_code", "doc_blocks",
)  # fmt: skip
_COMPILED: Final = (
    "language", "refs", "sources", "metrics", "functions", "depends_on", "compiled_path",
    "contract",
)  # fmt: skip

# The published field list of each node shape, in dbt's order.
NODE_SHAPES: Final[dict[str, tuple[str, ...]]] = {
    "model": _PARSED + _COMPILED + (
        "access", "constraints", "version", "latest_version", "deprecation_date",
        "primary_key", "time_spine",
    ),
    "seed": _PARSED + ("root_path", "depends_on"),
    "snapshot": _PARSED + _COMPILED,
    "analysis": _PARSED + _COMPILED,
    "singular_test": _PARSED + _COMPILED,
    "generic_test": _PARSED + _COMPILED + (
        "column_name", "file_key_name", "attached_node", "test_metadata",
    ),
    "operation": _PARSED + _COMPILED + ("index",),
    "sql_operation": _PARSED + _COMPILED,
}  # fmt: skip


def node_shape(node: Node) -> str:
    """The `NODE_SHAPES` key of a node: its resource type, with tests split in two kinds.

    Raises:
        ArtifactError: the resource type has no manifest v12 node shape.
    """
    if node.resource_type == "test":
        return "singular_test" if node.test_metadata is None else "generic_test"
    if node.resource_type not in NODE_SHAPES:
        raise ArtifactError(
            f"{node.unique_id}: resource type {node.resource_type!r} has no manifest v12 shape",
            hint=did_you_mean(node.resource_type, [*NODE_SHAPES, "test"]),
        )
    return node.resource_type


def node_v12(node: Node, context: _Context) -> dict[str, Any]:
    """One entry of `nodes` (or of `disabled`)."""
    return {field: NODE_FIELDS[field](node, context) for field in NODE_SHAPES[node_shape(node)]}


# --- sources, macros, docs, exposures --------------------------------------------------------


def _source_config(source: SourceDefinition, freshness: dict[str, Any]) -> dict[str, Any]:
    # dbt copies the table-level properties into the source's config before applying it.
    defaults = {
        "enabled": True,
        "event_time": None,
        "freshness": freshness,
        "loaded_at_field": source.loaded_at_field,
        "loaded_at_query": source.loaded_at_query,
        "meta": dict(source.meta),
        "tags": list(source.tags),
        "static_analysis": None,
    }
    return with_defaults(defaults, source.config)


def source_v12(source: SourceDefinition) -> dict[str, Any]:
    """One entry of `sources`."""
    freshness = freshness_threshold(source.freshness)
    return {
        "database": source.database,
        "schema": source.schema,
        "name": source.name,
        "resource_type": "source",
        "package_name": source.package_name,
        "path": source.path,
        "original_file_path": source.original_file_path,
        "unique_id": source.unique_id,
        "fqn": list(source.fqn),
        "source_name": source.source_name,
        "source_description": source.source_description,
        "loader": source.loader,
        "identifier": source.identifier,
        "quoting": with_defaults(_SOURCE_QUOTING, source.quoting),
        "loaded_at_field": source.loaded_at_field,
        "loaded_at_query": source.loaded_at_query,
        "freshness": freshness,
        "external": None,
        "description": source.description,
        "columns": columns_v12(source.columns),
        "meta": dict(source.meta),
        "source_meta": dict(source.source_meta),
        "tags": list(source.tags),
        "config": _source_config(source, freshness),
        "patch_path": None,
        "unrendered_config": dict(source.unrendered_config),
        "relation_name": source.relation_name,
        "created_at": source.created_at,
        "unrendered_database": None,
        "unrendered_schema": None,
        "doc_blocks": [],
    }


def macro_v12(macro: Macro) -> dict[str, Any]:
    """One entry of `macros`."""
    argument_defaults = {"name": "", "type": None, "description": ""}
    return {
        "name": macro.name,
        "resource_type": "macro",
        "package_name": macro.package_name,
        "path": macro.path,
        "original_file_path": macro.original_file_path,
        "unique_id": macro.unique_id,
        "macro_sql": macro.macro_sql,
        "depends_on": {"macros": list(macro.depends_on_macros)},
        "description": macro.description,
        "meta": dict(macro.meta),
        "docs": dict(_DOCS),
        "config": {"meta": dict(macro.meta), "docs": dict(_DOCS)},
        "patch_path": macro.patch_path,
        "arguments": [with_defaults(argument_defaults, arg) for arg in macro.arguments],
        "created_at": macro.created_at,
        "supported_languages": None,
    }


def doc_v12(doc: Doc) -> dict[str, Any]:
    """One entry of `docs`."""
    return {
        "name": doc.name,
        "resource_type": "doc",
        "package_name": doc.package_name,
        "path": doc.path,
        "original_file_path": doc.original_file_path,
        "unique_id": doc.unique_id,
        "block_contents": doc.block_contents,
    }


def exposure_v12(exposure: Exposure) -> dict[str, Any]:
    """One entry of `exposures`."""
    config_defaults = {"enabled": True, "tags": list(exposure.tags), "meta": dict(exposure.meta)}
    return {
        "name": exposure.name,
        "resource_type": "exposure",
        "package_name": exposure.package_name,
        "path": exposure.path,
        "original_file_path": exposure.original_file_path,
        "unique_id": exposure.unique_id,
        "fqn": list(exposure.fqn),
        "type": exposure.type,
        "owner": with_defaults({"email": None, "name": None}, exposure.owner),
        "description": exposure.description,
        "label": exposure.label,
        "maturity": exposure.maturity,
        "meta": dict(exposure.meta),
        "tags": list(exposure.tags),
        "config": with_defaults(config_defaults, exposure.config),
        "unrendered_config": dict(exposure.unrendered_config),
        "url": exposure.url,
        "depends_on": {
            "macros": list(exposure.depends_on_macros),
            "nodes": list(exposure.depends_on_nodes),
        },
        "refs": _refs(exposure.refs),
        "sources": [[source, table] for source, table in exposure.sources],
        "metrics": [],
        "created_at": exposure.created_at,
    }


def unit_test_v12(test: UnitTest) -> dict[str, Any]:
    """One entry of `unit_tests`: a `UnitTestDefinition`."""
    config = {"tags": test.tags, "meta": dict(test.config.get("meta") or {})}
    return {
        "model": test.model,
        "given": [_fixture_v12(given, with_input=True) for given in test.given],
        "expect": _fixture_v12(test.expect, with_input=False),
        "name": test.name,
        "resource_type": "unit_test",
        "package_name": test.package_name,
        "path": test.path,
        "original_file_path": test.original_file_path,
        "unique_id": test.unique_id,
        "fqn": list(test.fqn),
        "description": test.description,
        "overrides": copy.deepcopy(test.overrides),
        "depends_on": {
            "macros": list(test.depends_on_macros),
            "nodes": list(test.depends_on_nodes),
        },
        "config": {**config, "enabled": bool(test.config.get("enabled", True))},
        "checksum": None,
        "schema": test.schema,
        "created_at": test.created_at,
        "versions": None,
        "version": test.version,
    }


def _fixture_v12(fixture: Mapping[str, Any], *, with_input: bool) -> dict[str, Any]:
    out = {"input": fixture.get("input")} if with_input else {}
    out["rows"] = copy.deepcopy(fixture.get("rows"))
    out["format"] = fixture.get("format") or "dict"
    out["fixture"] = fixture.get("fixture")
    return out


# --- the whole manifest -----------------------------------------------------------------------


def to_manifest_v12(
    manifest: Manifest, *, project_root: str | None = None, **meta: Any
) -> dict[str, Any]:
    """The manifest.json document for `manifest`, in schema v12.

    Args:
        manifest: the parsed project.
        project_root: the absolute project folder, recorded as each seed's `root_path`.
        **meta: the metadata arguments of `manifest_metadata`.

    Returns:
        A JSON-compatible dict whose keys and records follow dbt's order.
    """
    rest, nodes = manifest_parts(manifest, project_root=project_root, **meta)
    metadata = rest.pop("metadata")
    return {"metadata": metadata, "nodes": dict(nodes), **rest}


def manifest_parts(
    manifest: Manifest, *, project_root: str | None = None, **meta: Any
) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    """The document without `nodes`, and the (unique id, record) of each node, one at a
    time in the document's order: a writer streams them instead of holding every record."""
    context = node_context(manifest, project_root)
    rest = {"metadata": manifest_metadata(manifest, **meta)}
    rest.update(_resources(manifest, context))
    rest.update(_maps(manifest))
    nodes = ((uid, node_v12(n, context)) for uid, n in sorted(manifest.nodes.items()))
    return rest, nodes


def manifest_metadata(
    manifest: Manifest,
    *,
    invocation_id: str | None,
    generated_at: datetime,
    adapter_type: str | None = None,
    env: Mapping[str, str] | None = None,
    project_id: str | None = None,
    invocation_started_at: datetime | None = None,
    quoting: Mapping[str, bool | None] | None = None,
) -> dict[str, Any]:
    """The `metadata` record of manifest.json.

    Args:
        manifest: the parsed project.
        invocation_id: the id of the invocation writing the artifact.
        generated_at: when it is written.
        adapter_type: the adapter name; defaults to `manifest.adapter_type`.
        env: `DBT_ENV_CUSTOM_ENV_*` values to record (Kiln adds `KILN_VERSION`).
        project_id: defaults to the md5 of the project name, as dbt computes it.
        invocation_started_at: when the invocation began.
        quoting: the project's quoting policy; defaults to dbt's (quote all but columns).
    """
    return {
        **artifact_metadata(
            SCHEMA,
            invocation_id=invocation_id,
            generated_at=generated_at,
            invocation_started_at=invocation_started_at,
            env=env,
        ),
        "project_name": manifest.project_name,
        "project_id": project_id or hashlib.md5(manifest.project_name.encode()).hexdigest(),
        "user_id": None,
        "send_anonymous_usage_stats": False,
        "adapter_type": adapter_type or manifest.adapter_type,
        "quoting": with_defaults(_DEFAULT_QUOTING, quoting or {}),
        "run_started_at": format_iso(invocation_started_at),
    }


def node_context(
    manifest: Manifest, project_root: str | None, for_nodes: Collection[str] | None = None
) -> _Context:
    """What `node_v12` needs beyond each node: the project folder and attached tests
    (of the nodes in `for_nodes` only, when given)."""
    tests: Iterable[Node] = manifest.nodes.values()
    if for_nodes is not None:
        tests = [n for n in tests if n.attached_node in for_nodes]
    return _Context(project_root, _tests_by_attached_node(tests))


def _resources(manifest: Manifest, context: _Context) -> dict[str, Any]:
    """Every collection but `nodes`, in dbt's order."""
    return {
        "sources": {uid: source_v12(s) for uid, s in sorted(manifest.sources.items())},
        "macros": {uid: macro_v12(m) for uid, m in sorted(manifest.macros.items())},
        "docs": {uid: doc_v12(d) for uid, d in sorted(manifest.docs.items())},
        "exposures": {uid: exposure_v12(e) for uid, e in sorted(manifest.exposures.items())},
        "metrics": {},
        "groups": {},
        "selectors": copy.deepcopy(manifest.selectors),
        "disabled": {
            uid: [_disabled_v12(record, context) for record in records]
            for uid, records in sorted(manifest.disabled.items())
        },
    }


def _maps(manifest: Manifest) -> dict[str, Any]:
    graph = Graph.from_manifest(manifest)
    # Graph.children also holds ids that are only depended upon (e.g. a disabled parent);
    # dbt's maps have exactly one key per node, source and exposure.
    known = sorted(graph.parents)
    return {
        "parent_map": {uid: sorted(graph.parents[uid]) for uid in known},
        "child_map": {uid: sorted(graph.children.get(uid, ())) for uid in known},
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {uid: unit_test_v12(t) for uid, t in sorted(manifest.unit_tests.items())},
        "functions": {},
    }


def _disabled_v12(record: Node | SourceDefinition | Exposure, context: _Context) -> dict[str, Any]:
    if isinstance(record, SourceDefinition):
        return source_v12(record)
    if isinstance(record, Exposure):
        return exposure_v12(record)
    return node_v12(record, context)


def _tests_by_attached_node(nodes: Iterable[Node]) -> dict[str, tuple[Node, ...]]:
    grouped: dict[str, list[Node]] = {}
    for node in sorted(nodes, key=lambda n: n.unique_id):
        if node.resource_type == "test" and node.attached_node and node.test_metadata:
            grouped.setdefault(node.attached_node, []).append(node)
    return {uid: tuple(tests) for uid, tests in grouped.items()}


# --- reading ----------------------------------------------------------------------------------


def upgrade_v10_to_v11(data: dict[str, Any]) -> dict[str, Any]:
    """Manifest v10 (dbt 1.6) to v11 (dbt 1.7): v11 added saved queries."""
    return with_schema_version({"saved_queries": {}, **data}, SchemaVersion("manifest", 11))


def upgrade_v11_to_v12(data: dict[str, Any]) -> dict[str, Any]:
    """Manifest v11 (dbt 1.7) to v12 (dbt 1.8+): unit tests added, node `deferred` dropped."""

    def without_deferred(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        return {key: value for key, value in node.items() if key != "deferred"}

    out = {**data, "unit_tests": data.get("unit_tests", {})}
    out["nodes"] = {uid: without_deferred(n) for uid, n in data.get("nodes", {}).items()}
    out["disabled"] = {
        uid: [without_deferred(n) for n in records]
        for uid, records in data.get("disabled", {}).items()
    }
    return with_schema_version(out, SCHEMA)


UPGRADES: Final[dict[int, Upgrade]] = {10: upgrade_v10_to_v11, 11: upgrade_v11_to_v12}


def read_manifest(path: str) -> dict[str, Any]:
    """Read a manifest.json as a v12-shaped dict, upgrading v10 and v11 manifests.

    Raises:
        ArtifactError: the file is missing or not JSON.
        IncompatibleArtifactError: it is not a manifest, or its schema version is unknown.
    """
    return check_and_upgrade(read_json(path), path, SCHEMA, UPGRADES)
