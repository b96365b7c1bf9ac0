"""What running one node produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_stamp() -> str:
    """Now, as run_results.json writes timing timestamps."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class Timing:
    """One phase of a node's run (`compile` or `execute`), ISO timestamps in UTC."""

    name: str
    started_at: str
    completed_at: str


@dataclass(slots=True)
class NodeResult:
    """The outcome of one node, as run_results.json records it.

    `status` uses dbt's values: success, error, skipped, partial success (models, seeds,
    snapshots), pass, fail, warn, error, skipped (tests), no-op (exposures and ephemeral
    nodes). `batch_results` is a microbatch model's `{"successful": [[start, end], ...],
    "failed": [...]}` (ISO timestamps). `compiled` overrides what run_results.json says
    (by default: whether there is compiled code); dbt writes false for microbatch models.
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
    compiled: bool | None = None


Window = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class PriorBatches:
    """A microbatch model's batches in the run `kiln retry` repeats (UTC, aware).

    Only models that partly failed have them: retry re-runs exactly the failed batches and
    reports the successful ones again, as dbt does.
    """

    successful: tuple[Window, ...]
    failed: tuple[Window, ...]

    @classmethod
    def from_artifact(cls, data: Mapping[str, Any]) -> PriorBatches:
        """Read run_results.json's `batch_results` (`[[start, end], ...]` ISO strings).

        Example:
            >>> PriorBatches.from_artifact({"failed": [["2024-01-02T00:00:00+00:00",
            ...     "2024-01-03T00:00:00+00:00"]]}).failed[0][0].day
            2
        """

        def windows(key: str) -> tuple[Window, ...]:
            return tuple((_moment(start), _moment(end)) for start, end in data.get(key) or ())

        return cls(successful=windows("successful"), failed=windows("failed"))


@dataclass(frozen=True, slots=True)
class PriorRun:
    """What `kiln retry` hands the runner about the invocation it repeats.

    `started_at`: when that invocation started (microbatch ranges end there again, so the
    same batches are computed). `batches`: unique_id -> batches of each partly failed
    microbatch model.
    """

    started_at: datetime | None = None
    batches: Mapping[str, PriorBatches] = field(default_factory=dict)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
