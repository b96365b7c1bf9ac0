"""Small hand-built manifest records for artifact tests: one factory per resource type."""

from __future__ import annotations

from typing import Any

from kiln.execute.result import NodeResult, Timing
from kiln.manifest.nodes import (
    Doc,
    Exposure,
    Macro,
    Manifest,
    Node,
    RefCall,
    SourceDefinition,
    TestMetadata,
)

PROJECT = "shop"


def _node(resource_type: str, name: str, folder: str, **fields: Any) -> Node:
    extension = ".csv" if resource_type == "seed" else ".sql"
    defaults: dict[str, Any] = {
        "unique_id": f"{resource_type}.{PROJECT}.{name}",
        "resource_type": resource_type,
        "package_name": PROJECT,
        "name": name,
        "path": f"{name}{extension}",
        "original_file_path": f"{folder}/{name}{extension}",
        "fqn": [PROJECT, name],
        "checksum": "0" * 64,
        "database": "shop_dev",
        "schema": "main",
        "alias": name,
        "created_at": 1700000000.0,
    }
    return Node(**{**defaults, **fields})


def _relation(name: str) -> str:
    return f'"shop_dev"."main"."{name}"'


def make_model(
    name: str = "orders",
    *,
    sql: str = "select 1 as id",
    refs: tuple[str, ...] = (),
    sources: tuple[tuple[str, str], ...] = (),
    depends_on: tuple[str, ...] = (),
    **fields: Any,
) -> Node:
    """A model; `refs` names other models, `depends_on` lists parent unique ids."""
    return _node(
        "model",
        name,
        "models",
        raw_code=sql,
        refs=[RefCall(r) for r in refs],
        sources=list(sources),
        depends_on_nodes=list(depends_on),
        config={"materialized": "view", **fields.pop("config", {})},
        relation_name=_relation(name),
        **fields,
    )


def make_seed(name: str = "raw_orders", **fields: Any) -> Node:
    """A seed (CSV)."""
    return _node(
        "seed", name, "seeds", config={"tags": ["raw"]}, relation_name=_relation(name), **fields
    )


def make_snapshot(name: str = "orders_snapshot", *, depends_on: tuple[str, ...] = ()) -> Node:
    """A timestamp snapshot."""
    config = {"unique_key": "id", "strategy": "timestamp", "updated_at": "updated_at"}
    return _node(
        "snapshot",
        name,
        "snapshots",
        raw_code="select * from {{ ref('orders') }}",
        depends_on_nodes=list(depends_on),
        config=config,
        relation_name=_relation(name),
    )


def make_generic_test(
    test_name: str, model: str, column: str, *, enabled: bool = True, **fields: Any
) -> Node:
    """A generic test (`unique`, `not_null`, ...) on one column of a model."""
    name = f"{test_name}_{model}_{column}"
    model_id = f"model.{PROJECT}.{model}"
    kwargs = {"column_name": column, "model": f"{{{{ get_where_subquery(ref('{model}')) }}}}"}
    return _node(
        "test",
        name,
        "models",
        unique_id=f"test.{PROJECT}.{name}.0123456789",
        path=f"{name}.sql",
        original_file_path="models/schema.yml",
        checksum="",
        schema="main_dbt_test__audit",
        raw_code=f"{{{{ test_{test_name}(**_dbt_generic_test_kwargs) }}}}",
        refs=[RefCall(model)],
        depends_on_macros=[f"macro.dbt.test_{test_name}"],
        depends_on_nodes=[model_id],
        config={"enabled": enabled, "severity": "ERROR", **fields.pop("config", {})},
        test_metadata=TestMetadata(name=test_name, kwargs=kwargs),
        column_name=column,
        attached_node=model_id,
        file_key_name=f"models.{model}",
        **fields,
    )


def make_singular_test(name: str = "assert_positive", *, depends_on: tuple[str, ...] = ()) -> Node:
    """A singular test (a SQL file under tests/)."""
    return _node(
        "test",
        name,
        "tests",
        raw_code="select * from {{ ref('orders') }} where id < 0",
        depends_on_nodes=list(depends_on),
        schema="main_dbt_test__audit",
    )


def make_analysis(name: str = "top_orders", *, depends_on: tuple[str, ...] = ()) -> Node:
    """An analysis."""
    return _node(
        "analysis", name, "analyses", raw_code="select 1", depends_on_nodes=list(depends_on)
    )


def make_operation(index: int = 0) -> Node:
    """An on-run-start hook."""
    name = f"{PROJECT}-on-run-start-{index}"
    return _node(
        "operation",
        name,
        "hooks",
        path=f"hooks/{name}.sql",
        original_file_path="./dbt_project.yml",
        raw_code="select 1",
        config={"tags": ["on-run-start"]},
    )


def make_source(source_name: str = "raw", name: str = "orders", **fields: Any) -> SourceDefinition:
    """One table of a `sources:` entry."""
    defaults: dict[str, Any] = {
        "unique_id": f"source.{PROJECT}.{source_name}.{name}",
        "package_name": PROJECT,
        "source_name": source_name,
        "name": name,
        "path": "models/sources.yml",
        "original_file_path": "models/sources.yml",
        "fqn": [PROJECT, source_name, name],
        "identifier": name,
        "schema": "main",
        "database": "shop_dev",
        "relation_name": _relation(name),
    }
    return SourceDefinition(**{**defaults, **fields})


def make_macro(name: str = "cents_to_dollars", **fields: Any) -> Macro:
    """A macro of the project."""
    defaults: dict[str, Any] = {
        "unique_id": f"macro.{PROJECT}.{name}",
        "name": name,
        "package_name": PROJECT,
        "path": f"macros/{name}.sql",
        "original_file_path": f"macros/{name}.sql",
        "macro_sql": f"{{% macro {name}(x) %}}{{{{ x }}}} / 100{{% endmacro %}}",
    }
    return Macro(**{**defaults, **fields})


def make_doc(name: str = "order_status") -> Doc:
    """A docs block."""
    return Doc(
        unique_id=f"doc.{PROJECT}.{name}",
        name=name,
        package_name=PROJECT,
        path="docs.md",
        original_file_path="models/docs.md",
        block_contents="Lifecycle status of an order.",
    )


def make_exposure(name: str = "dashboard", *, depends_on: tuple[str, ...] = ()) -> Exposure:
    """A dashboard exposure."""
    return Exposure(
        unique_id=f"exposure.{PROJECT}.{name}",
        name=name,
        package_name=PROJECT,
        path="exposures.yml",
        original_file_path="models/exposures.yml",
        fqn=[PROJECT, name],
        type="dashboard",
        owner={"email": "data@example.com"},
        depends_on_nodes=list(depends_on),
    )


def make_manifest(*records: Node | SourceDefinition | Macro | Doc | Exposure) -> Manifest:
    """A manifest holding `records`, each filed under its collection."""
    manifest = Manifest(project_name=PROJECT)
    collections: dict[type, dict[str, Any]] = {
        Node: manifest.nodes,
        SourceDefinition: manifest.sources,
        Macro: manifest.macros,
        Doc: manifest.docs,
        Exposure: manifest.exposures,
    }
    for record in records:
        collections[type(record)][record.unique_id] = record
    return manifest


def make_result(unique_id: str, status: str, **fields: Any) -> NodeResult:
    """A run result with compile and execute timings."""
    timing = [
        Timing("compile", "2024-05-01T12:00:00.000000Z", "2024-05-01T12:00:00.100000Z"),
        Timing("execute", "2024-05-01T12:00:00.100000Z", "2024-05-01T12:00:01.000000Z"),
    ]
    return NodeResult(
        unique_id=unique_id, status=status, timing=timing, execution_time=1.0, **fields
    )


def make_shop_manifest() -> Manifest:
    """One record of every resource type, wired into a small graph.

    raw.orders (source) -> stg_orders -> orders <- raw_orders (seed); orders feeds a snapshot,
    two generic tests, a singular test, an analysis and an exposure; one model is disabled.
    """
    manifest = make_manifest(
        make_source(freshness={"warn_after": {"count": 24, "period": "hour"}}),
        make_seed(),
        make_model(
            "stg_orders",
            sql="select * from {{ source('raw', 'orders') }}",
            sources=(("raw", "orders"),),
            depends_on=("source.shop.raw.orders",),
        ),
        make_model(
            "orders",
            sql="select * from {{ ref('stg_orders') }} join {{ ref('raw_orders') }} using (id)",
            refs=("stg_orders", "raw_orders"),
            depends_on=("model.shop.stg_orders", "seed.shop.raw_orders"),
            depends_on_macros=["macro.shop.cents_to_dollars"],
            config={"materialized": "incremental", "unique_key": "id", "post_hook": "analyze"},
            columns={"id": {"description": "The order id."}},
        ),
        make_snapshot(depends_on=("model.shop.orders",)),
        make_generic_test("unique", "orders", "id"),
        make_generic_test("not_null", "orders", "id"),
        make_singular_test(depends_on=("model.shop.orders",)),
        make_analysis(depends_on=("model.shop.orders",)),
        make_operation(),
        make_macro(),
        make_doc(),
        make_exposure(depends_on=("model.shop.orders",)),
    )
    legacy = make_model("legacy", config={"enabled": False})
    manifest.disabled[legacy.unique_id] = [legacy]
    return manifest
