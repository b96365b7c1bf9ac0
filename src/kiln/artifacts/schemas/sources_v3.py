"""sources.json (source freshness results) in dbt's published schema v3 (dbt-core 1.5+).

https://schemas.getdbt.com/dbt/sources/v3.json
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from kiln.artifacts.files import read_json
from kiln.artifacts.records import SourceFreshnessResult
from kiln.artifacts.schemas.base import (
    SchemaVersion,
    artifact_metadata,
    check_and_upgrade,
    format_iso,
    freshness_threshold,
    timing_info,
)
from kiln.errors import ArtifactError, did_you_mean

SCHEMA: Final = SchemaVersion("sources", 3)

STATUSES: Final = frozenset({"pass", "warn", "error", "runtime error"})


def freshness_result_v3(result: SourceFreshnessResult) -> dict[str, Any]:
    """One result: a `SourceFreshnessOutput`, or a `SourceFreshnessRuntimeError`.

    Raises:
        ArtifactError: the status is unknown, or a checked result lacks its timestamps.
    """
    if result.status not in STATUSES:
        raise ArtifactError(
            f"{result.unique_id}: freshness status {result.status!r} is not a dbt status",
            hint=did_you_mean(result.status, STATUSES),
        )
    if result.status == "runtime error":
        return {"unique_id": result.unique_id, "error": result.error, "status": result.status}
    if result.max_loaded_at is None or result.snapshotted_at is None:
        raise ArtifactError(
            f"{result.unique_id}: a {result.status!r} freshness result needs max_loaded_at "
            "and snapshotted_at",
            hint="report a failed freshness query as status 'runtime error' with its error",
        )
    age = result.snapshotted_at - result.max_loaded_at
    return {
        "unique_id": result.unique_id,
        "max_loaded_at": format_iso(result.max_loaded_at),
        "snapshotted_at": format_iso(result.snapshotted_at),
        "max_loaded_at_time_ago_in_s": age.total_seconds(),
        "status": result.status,
        "criteria": freshness_threshold(result.criteria),
        "adapter_response": dict(result.adapter_response),
        "timing": [timing_info(t) for t in result.timing],
        "thread_id": result.thread_id,
        "execution_time": result.execution_time,
    }


def to_sources_v3(
    results: Iterable[SourceFreshnessResult],
    *,
    invocation_id: str,
    generated_at: datetime,
    elapsed_time: float,
    invocation_started_at: datetime | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The sources.json document, in schema v3.

    Args:
        results: one result per checked source table.
        invocation_id: the id of the invocation writing the artifact.
        generated_at: when it is written.
        elapsed_time: wall-clock seconds of the whole freshness run.
        invocation_started_at: when the invocation began.
        env: `DBT_ENV_CUSTOM_ENV_*` values to record (Kiln adds `KILN_VERSION`).

    Raises:
        ArtifactError: a result cannot be represented (see `freshness_result_v3`).
    """
    metadata = artifact_metadata(
        SCHEMA,
        invocation_id=invocation_id,
        generated_at=generated_at,
        invocation_started_at=invocation_started_at,
        env=env,
    )
    return {
        "metadata": metadata,
        "results": [freshness_result_v3(r) for r in results],
        "elapsed_time": elapsed_time,
    }


def read_sources(path: str) -> dict[str, Any]:
    """Read a sources.json (v3 only: older versions predate dbt 1.5 and are not upgraded).

    Raises:
        ArtifactError: the file is missing or not JSON.
        IncompatibleArtifactError: it is not a sources artifact of schema v3.
    """
    return check_and_upgrade(read_json(path), path, SCHEMA, {})
