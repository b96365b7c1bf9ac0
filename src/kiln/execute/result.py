"""What running one node produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Timing:
    """One phase of a node's run (`compile` or `execute`), ISO timestamps in UTC."""

    name: str
    started_at: str
    completed_at: str


@dataclass(slots=True)
class NodeResult:
    """The outcome of one node, as run_results.json records it.

    `status` uses dbt's values: success, error, skipped (models, seeds, snapshots),
    pass, fail, warn, error, skipped (tests), no-op (exposures and ephemeral nodes).
    """

    unique_id: str
    status: str
    message: str | None = None
    thread_id: str = "Thread-1"
    timing: list[Timing] = field(default_factory=list)
    execution_time: float = 0.0
    adapter_response: dict[str, Any] = field(default_factory=dict)
    failures: int | None = None
    compiled_code: str | None = None
    relation_name: str | None = None
    batch_results: dict[str, Any] | None = None
