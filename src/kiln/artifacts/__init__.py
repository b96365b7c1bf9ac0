"""Kiln's artifacts: manifest.json and run_results.json in dbt's published schemas.

This is the unversioned API the rest of Kiln uses. Which schema version is written, and which
older versions are upgraded on reading, is decided here and in `kiln.artifacts.schemas`,
which nothing outside this package imports.

Example:
    write_manifest("target/manifest.json", manifest,
                   invocation_id=invocation.id, generated_at=datetime.now(UTC))
    prior = read_manifest("prod-state/manifest.json")   # v12-shaped dict
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack

from kiln.artifacts.files import write_json_atomic
from kiln.artifacts.schemas import manifest_v12, run_results_v6
from kiln.artifacts.schemas.base import SchemaVersion
from kiln.execute.result import NodeResult
from kiln.manifest.nodes import Manifest

__all__ = [
    "MANIFEST_SCHEMA",
    "RUN_RESULTS_SCHEMA",
    "ManifestMeta",
    "RunResultsMeta",
    "SchemaVersion",
    "read_manifest",
    "read_run_results",
    "write_manifest",
    "write_run_results",
]

# The schema versions Kiln writes.
MANIFEST_SCHEMA = manifest_v12.SCHEMA
RUN_RESULTS_SCHEMA = run_results_v6.SCHEMA

StrPath = str | os.PathLike[str]


class ManifestMeta(TypedDict, total=False):
    """Invocation facts recorded in manifest.json (see `write_manifest`)."""

    invocation_id: Required[str]
    generated_at: Required[datetime]
    adapter_type: str | None
    env: Mapping[str, str] | None
    project_id: str | None
    invocation_started_at: datetime | None
    quoting: Mapping[str, bool | None] | None
    project_root: str | None


class RunResultsMeta(TypedDict, total=False):
    """Invocation facts recorded in run_results.json (see `write_run_results`)."""

    invocation_id: Required[str]
    generated_at: Required[datetime]
    elapsed_time: Required[float]
    args: Required[Mapping[str, Any]]
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
    return write_json_atomic(path, manifest_v12.to_manifest_v12(manifest, **meta))


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
