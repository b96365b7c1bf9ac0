"""catalog.json: warehouse metadata written in dbt's schema v1 and read back."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dbt_artifacts_parser.parser import parse_catalog

from kiln.artifacts import (
    CATALOG_SCHEMA,
    CatalogColumn,
    CatalogStat,
    CatalogTable,
    read_catalog,
    write_catalog,
)
from kiln.errors import IncompatibleArtifactError

META: dict[str, Any] = {
    "invocation_id": "6f1c1d4e-7a43-4b9a-9a53-2f6f3f0f6b11",
    "generated_at": datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC),
}


def _table(unique_id: str, name: str, *stats: CatalogStat) -> CatalogTable:
    columns = (
        CatalogColumn("status", "VARCHAR", 2),
        CatalogColumn("id", "INTEGER", 1, comment="The order id."),
    )
    return CatalogTable(unique_id, "shop_dev", "main", name, "BASE TABLE", columns, stats=stats)


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Any]:
    tables = [
        _table("model.shop.orders", "orders", CatalogStat("row_count", "Row Count", 42)),
        _table("source.shop.raw.orders", "raw_orders"),
    ]
    path = write_catalog(tmp_path / "catalog.json", tables, **META)
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_catalog_follows_published_schema(written, valid_against):
    valid_against(written, "catalog_v1")


def test_catalog_loads_with_dbt_artifacts_parser(written):
    assert type(parse_catalog(written)).__name__ == "CatalogV1"


def test_metadata_names_schema_and_plain_dbt_version(written):
    assert written["metadata"]["dbt_schema_version"] == CATALOG_SCHEMA.url
    assert CATALOG_SCHEMA.url == "https://schemas.getdbt.com/dbt/catalog/v1.json"
    assert re.fullmatch(r"\d+\.\d+\.\d+", written["metadata"]["dbt_version"])
    assert written["errors"] is None


def test_nodes_and_sources_are_filed_apart_with_columns_in_position_order(written):
    assert list(written["nodes"]) == ["model.shop.orders"]
    assert list(written["sources"]) == ["source.shop.raw.orders"]
    table = written["nodes"]["model.shop.orders"]
    assert table["metadata"]["type"] == "BASE TABLE"
    assert list(table["columns"]) == ["id", "status"]
    assert table["columns"]["id"] == {
        "type": "INTEGER",
        "index": 1,
        "name": "id",
        "comment": "The order id.",
    }


def test_has_stats_is_always_present_and_says_whether_other_stats_exist(written):
    with_stats = written["nodes"]["model.shop.orders"]["stats"]
    without = written["sources"]["source.shop.raw.orders"]["stats"]

    assert list(with_stats) == ["row_count", "has_stats"]
    assert with_stats["has_stats"]["value"] is True
    assert without["has_stats"] == {
        "id": "has_stats",
        "label": "Has Stats?",
        "value": False,
        "include": False,
        "description": "Indicates whether there are statistics for this table",
    }


def test_read_catalog_round_trips_and_rejects_a_manifest(tmp_path: Path, written):
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(written))
    assert read_catalog(path) == written

    written["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v12.json"
    path.write_text(json.dumps(written))
    with pytest.raises(IncompatibleArtifactError, match="Kiln reads .*catalog/v1"):
        read_catalog(path)
