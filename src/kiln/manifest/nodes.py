"""Kiln's own node records.

These are Kiln's internal shape; `kiln.artifacts` converts them to dbt's published
manifest schema. Records are filled once by the parser and then treated as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# Resource types that become DAG nodes in manifest.nodes (sources, exposures live apart).
NODE_RESOURCE_TYPES = (
    "model",
    "seed",
    "snapshot",
    "test",
    "analysis",
    "operation",
    "sql_operation",
)


@dataclass(frozen=True, slots=True)
class RefCall:
    """One `ref()` call as written: `ref('pkg', 'name', v=1)`."""

    name: str
    package: str | None = None
    version: str | int | None = None

    def __reduce__(self) -> tuple[type[RefCall], tuple[str, str | None, str | int | None]]:
        # The generated pickling of frozen slotted dataclasses looks up fields() per
        # object, which dominated unpickling a large project's cached manifest.
        return RefCall, (self.name, self.package, self.version)


@dataclass(slots=True)
class TestMetadata:
    """What a generic test node was generated from."""

    name: str
    kwargs: dict[str, Any]
    namespace: str | None = None


@dataclass(slots=True, eq=False)
class Node:
    """A model, seed, snapshot, test, analysis or operation."""

    unique_id: str
    resource_type: str
    package_name: str
    name: str
    path: str
    original_file_path: str
    fqn: list[str]
    raw_code: str = ""
    language: str = "sql"
    checksum: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    unrendered_config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    docs: dict[str, Any] = field(default_factory=lambda: {"show": True, "node_color": None})
    patch_path: str | None = None
    refs: list[RefCall] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    depends_on_macros: list[str] = field(default_factory=list)
    depends_on_nodes: list[str] = field(default_factory=list)
    database: str | None = None
    schema: str = ""
    alias: str = ""
    relation_name: str | None = None
    # generic and singular tests
    test_metadata: TestMetadata | None = None
    column_name: str | None = None
    attached_node: str | None = None
    file_key_name: str | None = None
    # snapshots / versions / groups
    version: str | int | None = None
    latest_version: str | int | None = None
    group: str | None = None
    access: str | None = None
    # vars and env vars read while rendering (name -> value fingerprint), for state comparison
    vars_used: dict[str, Any] = field(default_factory=dict)
    env_vars_used: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    @property
    def tags(self) -> list[str]:
        tags = self.config.get("tags") or []
        return list(tags) if isinstance(tags, list) else [tags]

    @property
    def materialized(self) -> str:
        return str(self.config.get("materialized", ""))

    @property
    def is_ephemeral(self) -> bool:
        return self.materialized == "ephemeral"

    @property
    def is_relational(self) -> bool:
        """Whether the node is a relation in the warehouse (what `ref` renders to)."""
        return self.resource_type in ("model", "seed", "snapshot") and not self.is_ephemeral

    def __reduce__(self) -> tuple[Any, tuple[tuple[Any, ...]]]:
        # Pickled as the tuple of field values, rebuilt by __init__: restoring slots by
        # name took a third of loading a large project's cached manifest.
        return _node_from_values, (tuple([getattr(self, name) for name in _NODE_FIELDS]),)


_NODE_FIELDS = tuple(f.name for f in fields(Node))


def _node_from_values(values: tuple[Any, ...]) -> Node:
    return Node(*values)


PROJECT_HOOKS = ("on-run-start", "on-run-end")


def hook_node_name(package: str, hook: str, index: int) -> str:
    """dbt's name for a project hook's `operation` node: `<package>-on-run-start-0`."""
    return f"{package}-{hook}-{index}"


def hook_of(node: Node) -> tuple[str, int] | None:
    """(hook, index) of a project hook's `operation` node (see `hook_node_name`), else None."""
    if node.resource_type != "operation":
        return None
    rest, _, index = node.name.rpartition("-")
    hook = next((h for h in PROJECT_HOOKS if rest.endswith(f"-{h}")), None)
    return (hook, int(index)) if hook is not None and index.isdigit() else None


@dataclass(slots=True, eq=False)
class SourceDefinition:
    """One table of a `sources:` entry."""

    unique_id: str
    package_name: str
    source_name: str
    name: str
    path: str
    original_file_path: str
    fqn: list[str]
    identifier: str
    schema: str
    database: str | None = None
    description: str = ""
    source_description: str = ""
    loader: str = ""
    loaded_at_field: str | None = None
    loaded_at_query: str | None = None
    freshness: dict[str, Any] | None = None
    quoting: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    source_meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    unrendered_config: dict[str, Any] = field(default_factory=dict)
    relation_name: str | None = None
    created_at: float = 0.0

    resource_type = "source"


@dataclass(slots=True, eq=False)
class Macro:
    """A `{% macro %}`, `{% test %}` or `{% materialization %}` block."""

    unique_id: str
    name: str
    package_name: str
    path: str
    original_file_path: str
    macro_sql: str
    depends_on_macros: list[str] = field(default_factory=list)
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    arguments: list[dict[str, Any]] = field(default_factory=list)
    patch_path: str | None = None
    created_at: float = 0.0

    resource_type = "macro"


@dataclass(slots=True, eq=False)
class Exposure:
    """An `exposures:` entry."""

    unique_id: str
    name: str
    package_name: str
    path: str
    original_file_path: str
    fqn: list[str]
    type: str
    owner: dict[str, Any]
    description: str = ""
    label: str | None = None
    maturity: str | None = None
    url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=lambda: {"enabled": True})
    unrendered_config: dict[str, Any] = field(default_factory=dict)
    refs: list[RefCall] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    depends_on_nodes: list[str] = field(default_factory=list)
    depends_on_macros: list[str] = field(default_factory=list)
    created_at: float = 0.0

    resource_type = "exposure"


@dataclass(slots=True, eq=False)
class UnitTest:
    """A `unit_tests:` entry: a model run on literal input rows, compared with expected rows.

    `given` and `expect` keep the YAML shapes (`input`, `rows`, `format`, `fixture`);
    `depends_on_nodes` holds the tested model only, as in dbt.
    """

    unique_id: str
    name: str
    package_name: str
    path: str
    original_file_path: str
    fqn: list[str]
    model: str
    given: list[dict[str, Any]] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    overrides: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=lambda: {"enabled": True, "tags": []})
    depends_on_nodes: list[str] = field(default_factory=list)
    depends_on_macros: list[str] = field(default_factory=list)
    version: str | int | None = None
    schema: str | None = None
    created_at: float = 0.0

    resource_type = "unit_test"

    @property
    def tags(self) -> list[str]:
        tags = self.config.get("tags") or []
        return list(tags) if isinstance(tags, list) else [tags]


@dataclass(slots=True, eq=False)
class Doc:
    """A `{% docs %}` block."""

    unique_id: str
    name: str
    package_name: str
    path: str
    original_file_path: str
    block_contents: str

    resource_type = "doc"


@dataclass(slots=True, eq=False)
class Manifest:
    """Everything parsed from a project."""

    project_name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    sources: dict[str, SourceDefinition] = field(default_factory=dict)
    macros: dict[str, Macro] = field(default_factory=dict)
    docs: dict[str, Doc] = field(default_factory=dict)
    exposures: dict[str, Exposure] = field(default_factory=dict)
    disabled: dict[str, list[Node | SourceDefinition | Exposure]] = field(default_factory=dict)
    selectors: dict[str, Any] = field(default_factory=dict)
    unit_tests: dict[str, UnitTest] = field(default_factory=dict)
    # adapter type the manifest was parsed for, used by adapter.dispatch
    adapter_type: str = "duckdb"
    # Which parse produced this content (kiln.parse.cache): two manifests of the same
    # generation are equal but for the nodes in `patched` (edited SQL bodies patched in).
    # Artifact writers use it to reuse what they wrote for that generation.
    generation: str = ""
    patched: frozenset[str] = frozenset()

    def get(self, unique_id: str) -> Node | SourceDefinition | Exposure | UnitTest | None:
        """The node, source, exposure or unit test with this unique id."""
        found = self.nodes.get(unique_id)
        if found is not None:
            return found
        return (
            self.sources.get(unique_id)
            or self.exposures.get(unique_id)
            or self.unit_tests.get(unique_id)
        )

    def all_selectable(self) -> dict[str, Node | SourceDefinition | Exposure]:
        """Every node that the selection language can return."""
        out: dict[str, Node | SourceDefinition | Exposure] = {}
        out.update(self.nodes)
        out.update(self.sources)
        out.update(self.exposures)
        return out
