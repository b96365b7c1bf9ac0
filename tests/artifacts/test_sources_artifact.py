"""sources.json: source freshness results written in dbt's schema v3 and read back."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dbt_artifacts_parser.parser import parse_sources

from kiln.artifacts import SOURCES_SCHEMA, SourceFreshnessResult, read_sources, write_sources
from kiln.errors import ArtifactError, IncompatibleArtifactError
from kiln.execute.result import Timing

META: dict[str, Any] = {
    "invocation_id": "6f1c1d4e-7a43-4b9a-9a53-2f6f3f0f6b11",
    "generated_at": datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC),
    "elapsed_time": 0.5,
}
SNAPSHOTTED_AT = datetime(2024, 5, 1, 12, 30, 0, tzinfo=UTC)
CRITERIA = {
    "warn_after": {"count": 24, "period": "hour"},
    "error_after": {"count": 72, "period": "hour"},
}


def _checked(name: str, status: str, hours_old: int) -> SourceFreshnessResult:
    return SourceFreshnessResult(
        unique_id=f"source.shop.raw.{name}",
        status=status,
        criteria=CRITERIA,
        max_loaded_at=datetime(2024, 5, 1, 12 - hours_old, 30, 0, tzinfo=UTC),
        snapshotted_at=SNAPSHOTTED_AT,
        timing=(Timing("execute", "2024-05-01T12:30:00Z", "2024-05-01T12:30:01Z"),),
        adapter_response={"_message": "OK"},
        execution_time=0.02,
    )


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Any]:
    results = [
        _checked("customers", "pass", 1),
        _checked("orders", "warn", 3),
        _checked("payments", "error", 5),
        SourceFreshnessResult("source.shop.raw.items", "runtime error", error="no such table"),
    ]
    data: dict[str, Any] = json.loads(
        write_sources(tmp_path / "s.json", results, **META).read_text()
    )
    return data


def test_sources_follow_published_schema(written, valid_against):
    valid_against(written, "sources_v3")


def test_sources_load_with_dbt_artifacts_parser(written):
    assert type(parse_sources(written)).__name__ == "SourcesV3"


def test_metadata_names_schema_and_plain_dbt_version(written):
    assert written["metadata"]["dbt_schema_version"] == SOURCES_SCHEMA.url
    assert SOURCES_SCHEMA.url == "https://schemas.getdbt.com/dbt/sources/v3.json"
    assert re.fullmatch(r"\d+\.\d+\.\d+", written["metadata"]["dbt_version"])


def test_checked_source_records_age_and_criteria(written):
    result = written["results"][1]

    assert result["status"] == "warn"
    assert result["max_loaded_at"] == "2024-05-01T09:30:00+00:00"
    assert result["snapshotted_at"] == "2024-05-01T12:30:00+00:00"
    assert result["max_loaded_at_time_ago_in_s"] == 3 * 3600
    assert result["criteria"] == {**CRITERIA, "filter": None}


def test_runtime_error_is_written_as_the_short_error_record(written):
    assert written["results"][3] == {
        "unique_id": "source.shop.raw.items",
        "error": "no such table",
        "status": "runtime error",
    }


def test_checked_result_without_timestamps_is_rejected(tmp_path: Path):
    results = [SourceFreshnessResult("source.shop.raw.orders", "pass")]

    with pytest.raises(ArtifactError, match="needs max_loaded_at"):
        write_sources(tmp_path / "sources.json", results, **META)


def test_read_sources_round_trips_and_rejects_other_versions(tmp_path: Path, written):
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(written))
    assert read_sources(path) == written

    written["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/sources/v2.json"
    path.write_text(json.dumps(written))
    with pytest.raises(IncompatibleArtifactError, match="Kiln reads .*sources/v3"):
        read_sources(path)
