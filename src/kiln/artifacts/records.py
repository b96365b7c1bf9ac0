"""Kiln-side inputs of sources.json and catalog.json.

The manifest and run results are written from `kiln.manifest` and `kiln.execute` records.
Freshness checks and warehouse catalog introspection have no record of their own elsewhere
yet, so the shapes the artifact writers accept are declared here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiln.execute.result import Timing


@dataclass(frozen=True, slots=True)
class SourceFreshnessResult:
    """The outcome of one source freshness check.

    `status` is pass, warn, error or runtime error; a runtime error carries `error` and no
    timestamps. `criteria` is the source's `freshness:` config (warn_after, error_after, filter).
    """

    unique_id: str
    status: str
    criteria: Mapping[str, Any] | None = None
    max_loaded_at: datetime | None = None
    snapshotted_at: datetime | None = None
    timing: tuple[Timing, ...] = ()
    thread_id: str = "Thread-1"
    execution_time: float = 0.0
    adapter_response: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogColumn:
    """A column as the warehouse describes it; `index` is its 1-based position."""

    name: str
    type: str
    index: int
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogStat:
    """One table statistic (row count, bytes, ...) as the adapter reports it."""

    id: str
    label: str
    value: bool | str | float | None
    include: bool = True
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogTable:
    """A relation of a node or source, as the warehouse describes it.

    `type` is the warehouse's own word ("BASE TABLE", "VIEW", ...), as dbt records it.
    """

    unique_id: str
    database: str | None
    schema: str
    name: str
    type: str
    columns: tuple[CatalogColumn, ...] = ()
    comment: str | None = None
    owner: str | None = None
    stats: tuple[CatalogStat, ...] = ()
