"""The relation cache agrees with the warehouse after Kiln's DDL, user SQL and rollbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kiln.adapters.base import SchemaRef
from kiln.adapters.relation import Relation
from kiln.materialize import build_table, build_view

from .conftest import Warehouse, request_for


def _count_listings(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> list[SchemaRef]:
    """Record every schema listing the adapter makes from now on."""
    calls: list[SchemaRef] = []
    original: Callable[[SchemaRef], list[Relation]] = warehouse.adapter.list_relations

    def counted(schema: SchemaRef) -> list[Relation]:
        calls.append(schema)
        return original(schema)

    monkeypatch.setattr(warehouse.adapter, "list_relations", counted)
    return calls


def _truth(warehouse: Warehouse) -> dict[str, str | None]:
    """What the warehouse holds, listed without the cache."""
    adapter = warehouse.adapter
    listing = type(adapter).list_relations(adapter, SchemaRef(warehouse.database, warehouse.schema))
    return {r.identifier.lower(): r.type for r in listing}


def _cached(warehouse: Warehouse, *names: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in names:
        relation = warehouse.adapter.get_relation(warehouse.database, warehouse.schema, name)
        if relation is not None:
            found[name] = relation.type
    return found


def test_builds_are_followed_without_listing_the_schema_again(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    listings = _count_listings(warehouse, monkeypatch)
    adapter = warehouse.adapter
    names = ("dim", "stg", "renamed")
    assert _cached(warehouse, *names) == {}
    build_table(adapter, request_for(warehouse.rel("dim"), "select 1 as id"))
    build_view(adapter, request_for(warehouse.rel("stg"), "select 2 as id"))
    build_table(adapter, request_for(warehouse.rel("dim"), "select 3 as id"))
    assert _cached(warehouse, *names) == _truth(warehouse) == {"dim": "table", "stg": "view"}
    adapter.rename_relation(warehouse.rel("stg").incorporate(type="view"), warehouse.rel("renamed"))
    assert _cached(warehouse, *names) == _truth(warehouse) == {"dim": "table", "renamed": "view"}
    adapter.drop_relation(warehouse.rel("renamed"))
    assert _cached(warehouse, *names) == _truth(warehouse) == {"dim": "table"}
    # One listing served every lookup of the two builds, the rename and the drop. Where a
    # CASCADE drop can take other relations with it, the two drops (the old table's backup,
    # the view) each cost one more listing.
    assert len(listings) == (3 if adapter.capabilities.drops_dependents else 1)


def test_user_sql_that_changes_relations_is_seen(warehouse: Warehouse) -> None:
    adapter = warehouse.adapter
    build_table(adapter, request_for(warehouse.rel("dim"), "select 1 as id"))
    assert _cached(warehouse, "dim", "made_by_hook") == {"dim": "table"}
    adapter.execute(f"drop table {warehouse.rel('dim')}")
    adapter.execute(f"create table {warehouse.rel('made_by_hook')} as select 1 as id")
    assert _cached(warehouse, "dim", "made_by_hook") == {"made_by_hook": "table"}
    # A query leaves the cache in place, and still answers from it.
    adapter.fetch(f"select * from {warehouse.rel('made_by_hook')}")
    assert _cached(warehouse, "dim", "made_by_hook") == _truth(warehouse)


def test_a_rolled_back_build_is_forgotten(warehouse: Warehouse) -> None:
    adapter = warehouse.adapter
    if not adapter.capabilities.ddl_in_transactions or not adapter.capabilities.transactions:
        pytest.skip(f"{warehouse.kind} does not roll back DDL")
    with pytest.raises(RuntimeError), adapter.transaction():
        adapter.create_table_as(warehouse.rel("tmp"), "select 1 as id")
        assert _cached(warehouse, "tmp") == {"tmp": "table"}
        raise RuntimeError("the build failed after the create")
    assert _cached(warehouse, "tmp") == _truth(warehouse) == {}


def test_dropping_a_table_with_dependent_views_matches_the_warehouse(warehouse: Warehouse) -> None:
    adapter = warehouse.adapter
    base, view = warehouse.rel("base"), warehouse.rel("on_base")
    build_table(adapter, request_for(base, "select 1 as id"))
    build_view(adapter, request_for(view, f"select * from {base}"))
    assert _cached(warehouse, "base", "on_base") == {"base": "table", "on_base": "view"}
    adapter.drop_relation(base)
    # PostgreSQL's CASCADE takes the view with it; DuckDB and Spark keep it.
    expected: dict[str, Any] = _truth(warehouse)
    assert "base" not in expected
    assert _cached(warehouse, "base", "on_base") == expected
