"""What every artifact schema version shares: the version id, metadata and the upgrade chain."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiln import DBT_COMPAT_VERSION, __version__
from kiln.errors import IncompatibleArtifactError, Location
from kiln.execute.result import Timing

# An upgrade turns an artifact of schema version N into one of version N + 1.
Upgrade = Callable[[dict[str, Any]], dict[str, Any]]

_SCHEMA_URL = re.compile(
    r"^https://schemas\.getdbt\.com/dbt/(?P<name>[a-z-]+)/v(?P<version>\d+)\.json$"
)

# `metadata` allows no extra keys in any schema; `env` is the one free-form string map, so
# Kiln records its own version there (dbt fills `env` from DBT_ENV_CUSTOM_ENV_* variables).
KILN_VERSION_ENV_KEY = "KILN_VERSION"


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One published dbt artifact schema, e.g. `manifest` v12.

    Example:
        >>> SchemaVersion("run-results", 6).url
        'https://schemas.getdbt.com/dbt/run-results/v6.json'
    """

    name: str
    version: int

    @property
    def url(self) -> str:
        """The `metadata.dbt_schema_version` value written for this schema."""
        return f"https://schemas.getdbt.com/dbt/{self.name}/v{self.version}.json"

    @classmethod
    def from_url(cls, url: object) -> SchemaVersion | None:
        """Parse a `dbt_schema_version` value; None when it is not a dbt schema URL.

        Example:
            >>> SchemaVersion.from_url("https://schemas.getdbt.com/dbt/manifest/v11.json")
            SchemaVersion(name='manifest', version=11)
        """
        match = _SCHEMA_URL.match(url) if isinstance(url, str) else None
        if match is None:
            return None
        return cls(match["name"], int(match["version"]))


def format_timestamp(moment: datetime) -> str:
    """A UTC timestamp as dbt writes `generated_at`; naive datetimes are taken as UTC.

    Example:
        >>> format_timestamp(datetime(2024, 5, 1, 12, 0, 0))
        '2024-05-01T12:00:00.000000Z'
    """
    return _as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_iso(moment: datetime | None) -> str | None:
    """A UTC timestamp with offset (`run_started_at`); None stays None.

    Example:
        >>> format_iso(datetime(2024, 5, 1, 12, 0, 0, 5))
        '2024-05-01T12:00:00.000005+00:00'
    """
    return None if moment is None else _as_utc(moment).isoformat()


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def artifact_metadata(
    schema: SchemaVersion,
    *,
    invocation_id: str | None,
    generated_at: datetime,
    invocation_started_at: datetime | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The metadata block every artifact starts with, in dbt's key order.

    Args:
        schema: the schema the artifact follows.
        invocation_id: the id of the Kiln invocation that wrote it.
        generated_at: when the artifact was written.
        invocation_started_at: when the invocation began; omitted from the record as null.
        env: `DBT_ENV_CUSTOM_ENV_*` values (prefix stripped) to record.

    Returns:
        The `metadata` mapping. `dbt_version` is the dbt release Kiln is compatible with,
        a plain `major.minor.patch`, because consumers compare it as a dbt version.
    """
    return {
        "dbt_schema_version": schema.url,
        "dbt_version": DBT_COMPAT_VERSION,
        "generated_at": format_timestamp(generated_at),
        "invocation_id": invocation_id,
        "invocation_started_at": (
            None if invocation_started_at is None else format_timestamp(invocation_started_at)
        ),
        "env": {**(env or {}), KILN_VERSION_ENV_KEY: __version__},
    }


def timing_info(timing: Timing) -> dict[str, Any]:
    """A `TimingInfo` record (run results v6, sources v3)."""
    return {
        "name": timing.name,
        "started_at": timing.started_at,
        "completed_at": timing.completed_at,
    }


def freshness_threshold(freshness: Mapping[str, Any] | None) -> dict[str, Any]:
    """A `FreshnessThreshold` record (manifest v12 sources, sources v3 `criteria`).

    dbt always writes both thresholds; an unset one is a `Time` record of nulls.

    Example:
        >>> freshness_threshold({"warn_after": {"count": 1, "period": "day"}})["error_after"]
        {'count': None, 'period': None}
    """
    values = dict(freshness or {})
    return {
        "warn_after": {"count": None, "period": None, **(values.get("warn_after") or {})},
        "error_after": {"count": None, "period": None, **(values.get("error_after") or {})},
        "filter": values.get("filter"),
    }


def check_and_upgrade(
    data: object, path: str, current: SchemaVersion, upgrades: Mapping[int, Upgrade]
) -> dict[str, Any]:
    """Check an artifact's schema version and upgrade it to `current`.

    Args:
        data: the decoded JSON document.
        path: where it was read from, for error messages.
        current: the schema version Kiln reads.
        upgrades: `version -> upgrade to version + 1`, for every older version Kiln accepts.

    Returns:
        The document in the `current` schema version.

    Raises:
        IncompatibleArtifactError: it is not this kind of artifact, or its version is newer
            than `current` or older than the oldest upgrade.
    """
    metadata = data.get("metadata") if isinstance(data, dict) else None
    found_url = metadata.get("dbt_schema_version") if isinstance(metadata, dict) else None
    found = SchemaVersion.from_url(found_url)
    if not isinstance(data, dict) or found is None or found.name != current.name:
        raise _incompatible(current, found_url, path, upgrades)
    if found.version != current.version and found.version not in upgrades:
        raise _incompatible(current, found_url, path, upgrades)
    upgraded: dict[str, Any] = data
    for version in range(found.version, current.version):
        upgraded = upgrades[version](upgraded)
    return upgraded


def with_schema_version(data: dict[str, Any], schema: SchemaVersion) -> dict[str, Any]:
    """A shallow copy of an artifact whose `metadata.dbt_schema_version` names `schema`."""
    return {**data, "metadata": {**data.get("metadata", {}), "dbt_schema_version": schema.url}}


def _incompatible(
    current: SchemaVersion, found: object, path: str, upgrades: Mapping[int, Upgrade]
) -> IncompatibleArtifactError:
    readable = ", ".join(
        SchemaVersion(current.name, v).url for v in sorted({*upgrades, current.version})
    )
    return IncompatibleArtifactError(
        f"{path} has dbt_schema_version {found!r}; Kiln reads {current.url}",
        hint=f"readable versions: {readable}; regenerate the artifact with a matching dbt or Kiln",
        location=Location(path),
    )
