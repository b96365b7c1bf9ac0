"""The vendored dbt JSON Schemas are the ones of the dbt release Kiln is compatible with."""

from __future__ import annotations

import json

import pytest

from kiln import DBT_COMPAT_VERSION
from kiln.artifacts import CATALOG_SCHEMA, MANIFEST_SCHEMA, RUN_RESULTS_SCHEMA, SOURCES_SCHEMA

from .conftest import SCHEMAS


@pytest.mark.parametrize(
    ("fixture", "schema"),
    [
        ("manifest_v12", MANIFEST_SCHEMA),
        ("run_results_v6", RUN_RESULTS_SCHEMA),
        ("sources_v3", SOURCES_SCHEMA),
        ("catalog_v1", CATALOG_SCHEMA),
    ],
)
def test_vendored_schema_matches_written_version_and_dbt_release(fixture, schema):
    document = json.loads((SCHEMAS / f"{fixture}.json").read_text())

    assert document["$id"] == schema.url
    assert document["properties"]["metadata"]["properties"]["dbt_version"]["default"] == (
        DBT_COMPAT_VERSION
    )
