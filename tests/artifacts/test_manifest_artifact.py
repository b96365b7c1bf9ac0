"""manifest.json: Kiln's Manifest written in dbt's schema v12 and read back."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dbt_artifacts_parser.parser import parse_manifest

from kiln import __version__
from kiln.artifacts import MANIFEST_SCHEMA, manifest_dict, read_manifest, write_manifest
from kiln.errors import ArtifactError, IncompatibleArtifactError

from .factories import make_manifest, make_model, make_shop_manifest

GENERATED_AT = datetime(2024, 5, 1, 12, 30, 0, 123456, tzinfo=UTC)
META: dict[str, Any] = {
    "invocation_id": "6f1c1d4e-7a43-4b9a-9a53-2f6f3f0f6b11",
    "generated_at": GENERATED_AT,
    "invocation_started_at": datetime(2024, 5, 1, 12, 29, 58, tzinfo=UTC),
    "env": {"TEAM": "data"},
    "project_root": "/srv/shop",
}


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Any]:
    path = write_manifest(tmp_path / "target" / "manifest.json", make_shop_manifest(), **META)
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_manifest_follows_published_schema(written, valid_against):
    valid_against(written, "manifest_v12")


def test_manifest_loads_with_dbt_artifacts_parser(written):
    parsed = parse_manifest(written)

    assert type(parsed).__name__ == "ManifestV12"
    assert parsed.nodes["model.shop.orders"].config.materialized == "incremental"


def test_metadata_names_schema_and_plain_dbt_version(written):
    metadata = written["metadata"]

    assert metadata["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/manifest/v12.json"
    assert metadata["dbt_schema_version"] == MANIFEST_SCHEMA.url
    assert re.fullmatch(r"\d+\.\d+\.\d+", metadata["dbt_version"])
    assert metadata["generated_at"] == "2024-05-01T12:30:00.123456Z"
    assert metadata["invocation_started_at"] == "2024-05-01T12:29:58.000000Z"
    assert metadata["invocation_id"] == META["invocation_id"]
    assert metadata["project_name"] == "shop"
    assert metadata["project_id"] == hashlib.md5(b"shop").hexdigest()
    assert metadata["user_id"] is None
    assert metadata["send_anonymous_usage_stats"] is False
    assert metadata["adapter_type"] == "duckdb"
    assert metadata["env"] == {"TEAM": "data", "KILN_VERSION": __version__}


def test_every_resource_type_is_filed_under_its_collection(written):
    assert sorted(written["nodes"]) == [
        "analysis.shop.top_orders",
        "model.shop.orders",
        "model.shop.stg_orders",
        "operation.shop.shop-on-run-start-0",
        "seed.shop.raw_orders",
        "snapshot.shop.orders_snapshot",
        "test.shop.assert_positive",
        "test.shop.not_null_orders_id.0123456789",
        "test.shop.unique_orders_id.0123456789",
    ]
    assert list(written["sources"]) == ["source.shop.raw.orders"]
    assert list(written["macros"]) == ["macro.shop.cents_to_dollars"]
    assert list(written["docs"]) == ["doc.shop.order_status"]
    assert list(written["exposures"]) == ["exposure.shop.dashboard"]
    assert list(written["disabled"]) == ["model.shop.legacy"]
    assert written["disabled"]["model.shop.legacy"][0]["config"]["enabled"] is False


def test_model_records_refs_dependencies_and_filled_config(written):
    model = written["nodes"]["model.shop.orders"]

    assert model["refs"] == [
        {"name": "stg_orders", "package": None, "version": None},
        {"name": "raw_orders", "package": None, "version": None},
    ]
    assert model["depends_on"] == {
        "macros": ["macro.shop.cents_to_dollars"],
        "nodes": ["model.shop.stg_orders", "seed.shop.raw_orders"],
    }
    assert model["checksum"] == {"name": "sha256", "checksum": "0" * 64}
    config = model["config"]
    assert config["materialized"] == "incremental"
    assert config["unique_key"] == "id"
    assert config["on_schema_change"] == "ignore"
    assert config["contract"] == {"enforced": False, "alias_types": True}
    assert config["post-hook"] == [{"sql": "analyze", "transaction": True, "index": None}]
    assert config["access"] == "protected"
    assert model["contract"] == {"enforced": False, "alias_types": True, "checksum": None}
    assert model["columns"]["id"]["description"] == "The order id."
    assert model["columns"]["id"]["constraints"] == []


def test_model_primary_key_is_inferred_from_unique_and_not_null_tests(written):
    assert written["nodes"]["model.shop.orders"]["primary_key"] == ["id"]
    assert written["nodes"]["model.shop.stg_orders"]["primary_key"] == []


def test_generic_test_records_what_it_tests(written):
    test = written["nodes"]["test.shop.unique_orders_id.0123456789"]

    assert test["test_metadata"]["name"] == "unique"
    assert test["test_metadata"]["kwargs"]["column_name"] == "id"
    assert test["attached_node"] == "model.shop.orders"
    assert test["column_name"] == "id"
    assert test["file_key_name"] == "models.orders"
    assert test["checksum"] == {"name": "none", "checksum": ""}
    assert test["config"]["schema"] == "dbt_test__audit"
    assert test["config"]["fail_calc"] == "count(*)"
    assert "pre-hook" not in test["config"]


def test_singular_test_has_no_generic_test_fields(written):
    test = written["nodes"]["test.shop.assert_positive"]

    assert "test_metadata" not in test
    assert "attached_node" not in test
    assert test["depends_on"]["nodes"] == ["model.shop.orders"]


def test_seed_depends_only_on_macros_and_records_root_path(written):
    seed = written["nodes"]["seed.shop.raw_orders"]

    assert seed["depends_on"] == {"macros": []}
    assert seed["root_path"] == "/srv/shop"
    assert seed["config"]["delimiter"] == ","
    assert "refs" not in seed


def test_snapshot_and_hook_fields(written):
    snapshot = written["nodes"]["snapshot.shop.orders_snapshot"]
    hook = written["nodes"]["operation.shop.shop-on-run-start-0"]

    assert snapshot["config"]["strategy"] == "timestamp"
    assert snapshot["config"]["snapshot_meta_column_names"]["dbt_scd_id"] is None
    assert hook["index"] == 0
    assert hook["tags"] == ["on-run-start"]


def test_source_macro_doc_and_exposure_records(written):
    source = written["sources"]["source.shop.raw.orders"]
    macro = written["macros"]["macro.shop.cents_to_dollars"]
    exposure = written["exposures"]["exposure.shop.dashboard"]

    assert source["freshness"]["warn_after"] == {"count": 24, "period": "hour"}
    assert source["freshness"]["error_after"] == {"count": None, "period": None}
    assert source["quoting"] == dict.fromkeys(("database", "schema", "identifier", "column"))
    assert macro["depends_on"] == {"macros": []}
    assert macro["supported_languages"] is None
    assert written["docs"]["doc.shop.order_status"]["resource_type"] == "doc"
    assert exposure["owner"] == {"email": "data@example.com", "name": None}
    assert exposure["depends_on"]["nodes"] == ["model.shop.orders"]


def test_parent_and_child_maps_cover_nodes_sources_and_exposures(written):
    parents, children = written["parent_map"], written["child_map"]

    assert parents["model.shop.orders"] == ["model.shop.stg_orders", "seed.shop.raw_orders"]
    assert parents["source.shop.raw.orders"] == []
    assert parents["exposure.shop.dashboard"] == ["model.shop.orders"]
    assert children["model.shop.orders"] == [
        "analysis.shop.top_orders",
        "exposure.shop.dashboard",
        "snapshot.shop.orders_snapshot",
        "test.shop.assert_positive",
        "test.shop.not_null_orders_id.0123456789",
        "test.shop.unique_orders_id.0123456789",
    ]
    every_id = {*written["nodes"], *written["sources"], *written["exposures"]}
    assert set(parents) == set(children) == every_id


def test_output_does_not_depend_on_insertion_order(tmp_path: Path):
    first = make_shop_manifest()
    second = make_manifest(*reversed(list(first.nodes.values())), *first.sources.values())
    second.macros, second.docs, second.exposures = first.macros, first.docs, first.exposures
    second.disabled = first.disabled

    a = write_manifest(tmp_path / "a.json", first, **META).read_bytes()
    b = write_manifest(tmp_path / "b.json", second, **META).read_bytes()

    assert a == b


def test_write_leaves_no_temporary_files_and_replaces_the_old_artifact(tmp_path: Path):
    path = tmp_path / "manifest.json"
    path.write_text("old")

    write_manifest(path, make_shop_manifest(), **META)

    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
    assert json.loads(path.read_text())["metadata"]["project_name"] == "shop"


def test_failed_serialization_keeps_the_previous_artifact(tmp_path: Path):
    path = tmp_path / "manifest.json"
    path.write_text("previous")
    manifest = make_manifest(make_model(meta={"not_json": object()}))

    with pytest.raises(ArtifactError, match="cannot serialize"):
        write_manifest(path, manifest, **META)

    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_unknown_resource_type_is_an_artifact_error(tmp_path: Path):
    model = make_model()
    model.resource_type = "modle"
    manifest = make_manifest(model)

    with pytest.raises(ArtifactError, match="'modle' has no manifest v12 shape") as info:
        write_manifest(tmp_path / "manifest.json", manifest, **META)

    assert info.value.hint == "did you mean 'model'?"


def test_read_manifest_returns_what_was_written(tmp_path: Path, written):
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(written))

    assert read_manifest(path) == written


def _with_version(data: dict[str, Any], version: int) -> dict[str, Any]:
    url = f"https://schemas.getdbt.com/dbt/manifest/v{version}.json"
    return {**data, "metadata": {**data["metadata"], "dbt_schema_version": url}}


def test_read_manifest_upgrades_v10_and_v11(tmp_path: Path, written, valid_against):
    v10 = _with_version(written, 10)
    for key in ("unit_tests", "saved_queries", "functions"):
        del v10[key]
    v10["nodes"]["model.shop.orders"]["deferred"] = False
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(v10))

    upgraded = read_manifest(path)

    assert upgraded["metadata"]["dbt_schema_version"] == MANIFEST_SCHEMA.url
    assert upgraded["unit_tests"] == {} and upgraded["saved_queries"] == {}
    assert "deferred" not in upgraded["nodes"]["model.shop.orders"]
    valid_against(upgraded, "manifest_v12")


@pytest.mark.parametrize(
    "schema_version",
    [
        "https://schemas.getdbt.com/dbt/manifest/v13.json",
        "https://schemas.getdbt.com/dbt/manifest/v9.json",
        "https://schemas.getdbt.com/dbt/run-results/v6.json",
        None,
    ],
)
def test_read_manifest_rejects_unknown_versions(tmp_path: Path, written, schema_version):
    written["metadata"]["dbt_schema_version"] = schema_version
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(written))

    with pytest.raises(IncompatibleArtifactError, match="Kiln reads .*manifest/v12") as info:
        read_manifest(path)

    assert info.value.location is not None and info.value.location.path == str(path)


def test_read_manifest_reports_missing_and_invalid_files(tmp_path: Path):
    with pytest.raises(ArtifactError, match="does not exist"):
        read_manifest(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        read_manifest(tmp_path / "bad.json")


def test_manifest_dict_builds_the_document_without_writing(valid_against):
    data = manifest_dict(make_shop_manifest(), adapter_type="postgres")

    assert data["metadata"]["invocation_id"] is None
    assert data["metadata"]["adapter_type"] == "postgres"
    assert "model.shop.orders" in data["nodes"]
    valid_against(data, "manifest_v12")
