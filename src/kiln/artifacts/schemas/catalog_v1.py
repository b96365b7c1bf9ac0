"""catalog.json (what `docs generate` reads from the warehouse) in dbt's schema v1.

https://schemas.getdbt.com/dbt/catalog/v1.json
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from kiln.artifacts.files import read_json
from kiln.artifacts.records import CatalogStat, CatalogTable
from kiln.artifacts.schemas.base import SchemaVersion, artifact_metadata, check_and_upgrade

SCHEMA: Final = SchemaVersion("catalog", 1)

_HAS_STATS_DESCRIPTION: Final = "Indicates whether there are statistics for this table"


def _stats(stats: Sequence[CatalogStat]) -> dict[str, dict[str, Any]]:
    out = {
        s.id: {
            "id": s.id,
            "label": s.label,
            "value": s.value,
            "include": s.include,
            "description": s.description,
        }
        for s in stats
        if s.id != "has_stats"
    }
    # dbt always appends `has_stats`, never shown itself, saying whether any other stat exists.
    out["has_stats"] = {
        "id": "has_stats",
        "label": "Has Stats?",
        "value": bool(out),
        "include": False,
        "description": _HAS_STATS_DESCRIPTION,
    }
    return out


def table_v1(table: CatalogTable) -> dict[str, Any]:
    """One `CatalogTable` record; columns are keyed by name in position order."""
    columns = sorted(table.columns, key=lambda c: c.index)
    return {
        "metadata": {
            "type": table.type,
            "schema": table.schema,
            "name": table.name,
            "database": table.database,
            "comment": table.comment,
            "owner": table.owner,
        },
        "columns": {
            c.name: {"type": c.type, "index": c.index, "name": c.name, "comment": c.comment}
            for c in columns
        },
        "stats": _stats(table.stats),
        "unique_id": table.unique_id,
    }


def to_catalog_v1(
    tables: Iterable[CatalogTable],
    *,
    invocation_id: str,
    generated_at: datetime,
    errors: Sequence[str] | None = None,
    invocation_started_at: datetime | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The catalog.json document, in schema v1.

    Args:
        tables: one entry per node or source relation found in the warehouse; sources
            (unique ids starting with `source.`) are filed under `sources`.
        invocation_id: the id of the invocation writing the artifact.
        generated_at: when it is written.
        errors: catalog queries that failed; None (dbt's null) when all succeeded.
        invocation_started_at: when the invocation began.
        env: `DBT_ENV_CUSTOM_ENV_*` values to record (Kiln adds `KILN_VERSION`).
    """
    nodes: dict[str, dict[str, Any]] = {}
    sources: dict[str, dict[str, Any]] = {}
    for table in sorted(tables, key=lambda t: t.unique_id):
        target = sources if table.unique_id.startswith("source.") else nodes
        target[table.unique_id] = table_v1(table)
    metadata = artifact_metadata(
        SCHEMA,
        invocation_id=invocation_id,
        generated_at=generated_at,
        invocation_started_at=invocation_started_at,
        env=env,
    )
    return {
        "metadata": metadata,
        "nodes": nodes,
        "sources": sources,
        "errors": list(errors) if errors is not None else None,
    }


def read_catalog(path: str) -> dict[str, Any]:
    """Read a catalog.json (schema v1, the only version dbt has published).

    Raises:
        ArtifactError: the file is missing or not JSON.
        IncompatibleArtifactError: it is not a catalog of schema v1.
    """
    return check_and_upgrade(read_json(path), path, SCHEMA, {})
