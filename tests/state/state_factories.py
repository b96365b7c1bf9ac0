"""Factories for state tests: two manifests (prior and current) and a selector over them.

    prior = make_manifest(make_model("a", raw_code="select 1"))
    current = make_manifest(make_model("a", raw_code="select 2"))
    assert pick(prior, current, "state:modified") == {"model.p.a"}

The prior side goes through `manifest_dict`, i.e. exactly what Kiln writes to
manifest.json, so these tests also cover the round trip through the artifact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kiln.artifacts import manifest_dict
from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Exposure, Macro, Manifest, Node, SourceDefinition, TestMetadata
from kiln.select import select_nodes
from kiln.state.prior import PriorArtifacts, PriorManifest
from kiln.state.selector import CurrentProject, StateSelector

PACKAGE = "p"


def make_model(name: str, raw_code: str = "select 1", **fields: Any) -> Node:
    """A model `models/<name>.sql` (view unless `config` says otherwise)."""
    config = {"enabled": True, "materialized": "view", **fields.pop("config", {})}
    return Node(
        unique_id=f"model.{PACKAGE}.{name}",
        resource_type="model",
        package_name=PACKAGE,
        name=name,
        path=f"{name}.sql",
        original_file_path=f"models/{name}.sql",
        fqn=fields.pop("fqn", [PACKAGE, name]),
        raw_code=raw_code,
        checksum=fields.pop("checksum", "c"),
        config=config,
        unrendered_config=fields.pop("unrendered_config", {}),
        schema="main",
        alias=name,
        **fields,
    )


def make_seed(name: str, checksum: str = "abc") -> Node:
    return Node(
        unique_id=f"seed.{PACKAGE}.{name}",
        resource_type="seed",
        package_name=PACKAGE,
        name=name,
        path=f"{name}.csv",
        original_file_path=f"seeds/{name}.csv",
        fqn=[PACKAGE, name],
        checksum=checksum,
        config={"enabled": True, "materialized": "seed"},
        schema="main",
        alias=name,
    )


def make_test(name: str, on: str, config: Mapping[str, Any] | None = None) -> Node:
    """A generic `not_null` test on model `on`; `config` goes into its unrendered config."""
    suffix = "".join(f'{{{{ config({k}="{v}") }}}}' for k, v in (config or {}).items())
    return Node(
        unique_id=f"test.{PACKAGE}.{name}",
        resource_type="test",
        package_name=PACKAGE,
        name=name,
        path=f"{name}.sql",
        original_file_path="models/schema.yml",
        fqn=[PACKAGE, name],
        raw_code="{{ test_not_null(**_dbt_generic_test_kwargs) }}" + suffix,
        config={"enabled": True, "materialized": "test", **(config or {})},
        unrendered_config=dict(config or {}),
        depends_on_nodes=[f"model.{PACKAGE}.{on}"],
        test_metadata=TestMetadata("not_null", {"column_name": "id"}),
        attached_node=f"model.{PACKAGE}.{on}",
    )


def make_source(name: str, **fields: Any) -> SourceDefinition:
    return SourceDefinition(
        unique_id=f"source.{PACKAGE}.raw.{name}",
        package_name=PACKAGE,
        source_name="raw",
        name=name,
        path="models/sources.yml",
        original_file_path="models/sources.yml",
        fqn=[PACKAGE, "raw", name],
        identifier=fields.pop("identifier", name),
        schema=fields.pop("schema", "raw"),
        database=fields.pop("database", "dev"),
        **fields,
    )


def make_exposure(name: str, depends_on: list[str], **fields: Any) -> Exposure:
    return Exposure(
        unique_id=f"exposure.{PACKAGE}.{name}",
        name=name,
        package_name=PACKAGE,
        path="models/exposures.yml",
        original_file_path="models/exposures.yml",
        fqn=[PACKAGE, name],
        type=fields.pop("type", "dashboard"),
        owner=fields.pop("owner", {"email": "a@example.com"}),
        depends_on_nodes=depends_on,
        **fields,
    )


def make_macro(
    name: str, sql: str = "{% macro x() %}1{% endmacro %}", calls: Sequence[str] = ()
) -> Macro:
    return Macro(
        unique_id=f"macro.{PACKAGE}.{name}",
        name=name,
        package_name=PACKAGE,
        path=f"macros/{name}.sql",
        original_file_path=f"macros/{name}.sql",
        macro_sql=sql,
        depends_on_macros=[f"macro.{PACKAGE}.{c}" for c in calls],
    )


def make_manifest(*records: Any) -> Manifest:
    manifest = Manifest(project_name=PACKAGE)
    for record in records:
        if isinstance(record, SourceDefinition):
            manifest.sources[record.unique_id] = record
        elif isinstance(record, Exposure):
            manifest.exposures[record.unique_id] = record
        elif isinstance(record, Macro):
            manifest.macros[record.unique_id] = record
        else:
            manifest.nodes[record.unique_id] = record
    return manifest


class FixedVars:
    """A var lookup over a plain dict (what `VarResolver` does for one package)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def lookup(self, name: str, package: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def make_state(
    prior: Manifest,
    current: Manifest,
    folder: Path = Path("/nonexistent"),
    *,
    include_vars: bool = False,
    current_vars: Mapping[str, Any] | None = None,
) -> StateSelector:
    """A `StateSelector` comparing `current` with `prior` as Kiln writes it."""
    document = manifest_dict(prior, invocation_id="prior")
    document["metadata"]["env"] = {"KILN_VERSION": "test"}
    return StateSelector(
        PriorArtifacts(folder, PriorManifest.from_document(document)),
        CurrentProject(current, folder, FixedVars(current_vars or {}), folder, include_vars),
    )


def pick(
    prior: Manifest, current: Manifest, expression: str, state: StateSelector | None = None
) -> set[str]:
    """The ids `expression` selects in `current` against `prior` (no tests by indirection)."""
    state = state or make_state(prior, current)
    return set(
        select_nodes(
            current,
            Graph.from_manifest(current),
            select=[expression],
            indirect_selection="empty",
            resource_types=["all"],
            state=state,
        )
    )
