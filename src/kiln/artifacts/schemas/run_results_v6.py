"""run_results.json in dbt's published schema v6 (dbt-core 1.8 to 1.11).

https://schemas.getdbt.com/dbt/run-results/v6.json
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from kiln.artifacts.files import read_json
from kiln.artifacts.schemas.base import (
    SchemaVersion,
    Upgrade,
    artifact_metadata,
    check_and_upgrade,
    timing_info,
    with_schema_version,
)
from kiln.errors import ArtifactError, did_you_mean
from kiln.execute.result import NodeResult

SCHEMA: Final = SchemaVersion("run-results", 6)

# The schema's status enums: nodes that build, tests, and source freshness checks.
STATUSES: Final = frozenset(
    {"success", "error", "skipped", "partial success", "no-op"}
    | {"pass", "fail", "warn"}
    | {"runtime error"}
)


def _batch_results(batch_results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if batch_results is None:
        return None
    # Each batch is a (start, end) pair of ISO timestamps (`2024-01-01T00:00:00+00:00`).
    return {
        outcome: [[_stamp(start), _stamp(end)] for start, end in batch_results.get(outcome) or []]
        for outcome in ("successful", "failed")
    }


def _stamp(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def result_v6(result: NodeResult) -> dict[str, Any]:
    """One `RunResultOutput` record.

    Raises:
        ArtifactError: the status is not one the schema allows.
    """
    if result.status not in STATUSES:
        raise ArtifactError(
            f"{result.unique_id}: run status {result.status!r} is not a dbt run-results status",
            hint=did_you_mean(result.status, STATUSES),
        )
    return {
        "status": result.status,
        "timing": [timing_info(t) for t in result.timing],
        "thread_id": result.thread_id,
        "execution_time": result.execution_time,
        "adapter_response": dict(result.adapter_response),
        "message": result.message,
        "failures": result.failures,
        "unique_id": result.unique_id,
        # dbt writes `compiled: null` for nodes that never compile (seeds, exposures).
        "compiled": result.compiled
        if result.compiled is not None
        else (True if result.compiled_code is not None else None),
        "compiled_code": result.compiled_code,
        "relation_name": result.relation_name,
        "batch_results": _batch_results(result.batch_results),
    }


def to_run_results_v6(
    results: Iterable[NodeResult],
    *,
    invocation_id: str,
    generated_at: datetime,
    elapsed_time: float,
    args: Mapping[str, Any],
    invocation_started_at: datetime | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The run_results.json document, in schema v6.

    Args:
        results: one result per node, in completion order (dbt's order).
        invocation_id: the id of the invocation writing the artifact.
        generated_at: when it is written.
        elapsed_time: wall-clock seconds of the whole run.
        args: the invocation's flags, as dbt records them (`which`, `select`, ...).
        invocation_started_at: when the invocation began.
        env: `DBT_ENV_CUSTOM_ENV_*` values to record (Kiln adds `KILN_VERSION`).

    Returns:
        A JSON-compatible dict in dbt's key order; `args` keys are sorted.

    Raises:
        ArtifactError: a result has a status the schema does not allow.
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
        "results": [result_v6(r) for r in results],
        "elapsed_time": elapsed_time,
        "args": {key: args[key] for key in sorted(args)},
    }


def upgrade_v4_to_v5(data: dict[str, Any]) -> dict[str, Any]:
    """Run results v4 (dbt 1.3) to v5 (dbt 1.4 to 1.7): results gained compile fields."""
    compiled = {"compiled": None, "compiled_code": None, "relation_name": None}
    results = [{**compiled, **r} for r in data.get("results", [])]
    return with_schema_version({**data, "results": results}, SchemaVersion("run-results", 5))


def upgrade_v5_to_v6(data: dict[str, Any]) -> dict[str, Any]:
    """Run results v5 to v6 (dbt 1.8+): only optional fields were added."""
    return with_schema_version(data, SCHEMA)


UPGRADES: Final[dict[int, Upgrade]] = {4: upgrade_v4_to_v5, 5: upgrade_v5_to_v6}


def read_run_results(path: str) -> dict[str, Any]:
    """Read a run_results.json as a v6-shaped dict, upgrading v4 and v5 files.

    Raises:
        ArtifactError: the file is missing or not JSON.
        IncompatibleArtifactError: it is not run results, or its schema version is unknown.
    """
    return check_and_upgrade(read_json(path), path, SCHEMA, UPGRADES)
