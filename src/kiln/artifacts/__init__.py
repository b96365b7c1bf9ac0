"""Kiln's artifacts: manifest, run_results, sources and catalog JSON in dbt's published schemas.

This is the unversioned API the rest of Kiln uses (`records` declares the inputs of sources.json
and catalog.json, which no other package owns yet). Which schema version is written, and which
older versions are upgraded on reading, is decided here and in `kiln.artifacts.schemas`,
which nothing outside this package imports.

Example:
    write_manifest("target/manifest.json", manifest,
                   invocation_id=invocation.id, generated_at=datetime.now(UTC))
    prior = read_manifest("prod-state/manifest.json")   # v12-shaped dict
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack

from kiln.artifacts.files import write_json_atomic
from kiln.artifacts.records import (
    CatalogColumn,
    CatalogStat,
    CatalogTable,
    SourceFreshnessResult,
)
from kiln.artifacts.schemas import catalog_v1, manifest_v12, run_results_v6, sources_v3
from kiln.artifacts.schemas.base import SchemaVersion
from kiln.execute.result import NodeResult
from kiln.manifest.nodes import Manifest

__all__ = [
    "CATALOG_SCHEMA",
    "MANIFEST_SCHEMA",
    "RUN_RESULTS_SCHEMA",
    "SOURCES_SCHEMA",
    "CatalogColumn",
    "CatalogMeta",
    "CatalogStat",
    "CatalogTable",
    "ManifestMeta",
    "ManifestOptions",
    "RunResultsMeta",
    "SchemaVersion",
    "SourceFreshnessResult",
    "SourcesMeta",
    "manifest_dict",
    "read_catalog",
    "read_manifest",
    "read_run_results",
    "read_sources",
    "write_catalog",
    "write_manifest",
    "write_run_results",
    "write_sources",
]

# The schema versions Kiln writes.
MANIFEST_SCHEMA = manifest_v12.SCHEMA
RUN_RESULTS_SCHEMA = run_results_v6.SCHEMA
SOURCES_SCHEMA = sources_v3.SCHEMA
CATALOG_SCHEMA = catalog_v1.SCHEMA

StrPath = str | os.PathLike[str]


class ManifestOptions(TypedDict, total=False):
    """Optional facts recorded in manifest.json (see `manifest_v12.to_manifest_v12`)."""

    adapter_type: str | None
    env: Mapping[str, str] | None
    project_id: str | None
    invocation_started_at: datetime | None
    quoting: Mapping[str, bool | None] | None
    project_root: str | None


class ManifestMeta(ManifestOptions, total=False):
    """Invocation facts recorded in manifest.json (see `write_manifest`)."""

    invocation_id: Required[str | None]
    generated_at: Required[datetime]


class RunResultsMeta(TypedDict, total=False):
    """Invocation facts recorded in run_results.json (see `write_run_results`)."""

    invocation_id: Required[str]
    generated_at: Required[datetime]
    elapsed_time: Required[float]
    args: Required[Mapping[str, Any]]
    invocation_started_at: datetime | None
    env: Mapping[str, str] | None


class SourcesMeta(TypedDict, total=False):
    """Invocation facts recorded in sources.json (see `write_sources`)."""

    invocation_id: Required[str]
    generated_at: Required[datetime]
    elapsed_time: Required[float]
    invocation_started_at: datetime | None
    env: Mapping[str, str] | None


class CatalogMeta(TypedDict, total=False):
    """Invocation facts recorded in catalog.json (see `write_catalog`)."""

    invocation_id: Required[str]
    generated_at: Required[datetime]
    errors: Sequence[str] | None
    invocation_started_at: datetime | None
    env: Mapping[str, str] | None


def write_manifest(path: StrPath, manifest: Manifest, **meta: Unpack[ManifestMeta]) -> Path:
    """Write `manifest` as manifest.json (schema v12), atomically.

    Args:
        path: the file to write, usually `<target-path>/manifest.json`.
        manifest: the parsed project.
        **meta: invocation facts: `invocation_id` and `generated_at` are required;
            `adapter_type`, `env`, `project_id`, `invocation_started_at`, `quoting` and
            `project_root` are optional.

    Returns:
        The path written.

    Raises:
        ArtifactError: the manifest holds a value JSON cannot represent, or the file cannot
            be written.
    """
    from kiln.artifacts.manifest_file import write_manifest_file

    return write_manifest_file(Path(path), manifest, **meta)


def manifest_dict(
    manifest: Manifest,
    *,
    invocation_id: str | None = None,
    generated_at: datetime | None = None,
    **options: Unpack[ManifestOptions],
) -> dict[str, Any]:
    """The manifest.json document as a dict, without writing it (e.g. Jinja's `graph`).

    Args:
        manifest: the parsed project.
        invocation_id: recorded in `metadata`; null when not given.
        generated_at: recorded in `metadata`; now when not given.
        **options: as for `write_manifest`.

    Returns:
        A new JSON-compatible dict each call; callers may mutate it.
    """
    return manifest_v12.to_manifest_v12(
        manifest,
        invocation_id=invocation_id,
        generated_at=generated_at or datetime.now(UTC),
        **options,
    )


def write_run_results(
    path: StrPath, results: Iterable[NodeResult], **meta: Unpack[RunResultsMeta]
) -> Path:
    """Write `results` as run_results.json (schema v6), atomically.

    Args:
        path: the file to write, usually `<target-path>/run_results.json`.
        results: one result per node, in completion order.
        **meta: `invocation_id`, `generated_at`, `elapsed_time` and `args` are required;
            `invocation_started_at` and `env` are optional.

    Returns:
        The path written.

    Raises:
        ArtifactError: a status is not a dbt status, a value cannot be serialized, or the
            file cannot be written.
    """
    return write_json_atomic(path, run_results_v6.to_run_results_v6(results, **meta))


def read_manifest(path: StrPath) -> dict[str, Any]:
    """Read a manifest.json written by dbt or Kiln, as a dict in the current schema (v12).

    Manifests of schema v10 and v11 are upgraded on the way in.

    Raises:
        ArtifactError: the file is missing or is not JSON.
        IncompatibleArtifactError: it is not a manifest, or its schema version is unknown.
    """
    return manifest_v12.read_manifest(os.fspath(path))


def read_run_results(path: StrPath) -> dict[str, Any]:
    """Read a run_results.json written by dbt or Kiln, as a dict in the current schema (v6).

    Run results of schema v4 and v5 are upgraded on the way in.

    Raises:
        ArtifactError: the file is missing or is not JSON.
        IncompatibleArtifactError: it is not run results, or its schema version is unknown.
    """
    return run_results_v6.read_run_results(os.fspath(path))


def write_sources(
    path: StrPath, results: Iterable[SourceFreshnessResult], **meta: Unpack[SourcesMeta]
) -> Path:
    """Write source freshness results as sources.json (schema v3), atomically.

    Args:
        path: the file to write, usually `<target-path>/sources.json`.
        results: one result per checked source table.
        **meta: `invocation_id`, `generated_at` and `elapsed_time` are required;
            `invocation_started_at` and `env` are optional.

    Returns:
        The path written.

    Raises:
        ArtifactError: a result has an unknown status or lacks its timestamps, or the file
            cannot be written.
    """
    return write_json_atomic(path, sources_v3.to_sources_v3(results, **meta))


def write_catalog(
    path: StrPath, tables: Iterable[CatalogTable], **meta: Unpack[CatalogMeta]
) -> Path:
    """Write what the warehouse says about each relation as catalog.json (schema v1), atomically.

    Args:
        path: the file to write, usually `<target-path>/catalog.json`.
        tables: one entry per node or source relation.
        **meta: `invocation_id` and `generated_at` are required; `errors`,
            `invocation_started_at` and `env` are optional.

    Returns:
        The path written.

    Raises:
        ArtifactError: the file cannot be written.
    """
    return write_json_atomic(path, catalog_v1.to_catalog_v1(tables, **meta))


def read_sources(path: StrPath) -> dict[str, Any]:
    """Read a sources.json (schema v3) written by dbt or Kiln.

    Raises:
        ArtifactError: the file is missing or is not JSON.
        IncompatibleArtifactError: it is not a sources artifact of schema v3.
    """
    return sources_v3.read_sources(os.fspath(path))


def read_catalog(path: StrPath) -> dict[str, Any]:
    """Read a catalog.json (schema v1) written by dbt or Kiln.

    Raises:
        ArtifactError: the file is missing or is not JSON.
        IncompatibleArtifactError: it is not a catalog of schema v1.
    """
    return catalog_v1.read_catalog(os.fspath(path))
