"""Loading a `--state` folder: the prior manifest.json, and on demand its run results,
source freshness results and Kiln's kiln_state.json.

Only manifest.json is read up front (every `state:` method and `--defer` need it); the
other files are read the first time a method asks for them, so `state:modified` never
pays for a large run_results.json.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import msgspec

from kiln.errors import ArtifactError, Location
from kiln.state.sidecar import Sidecar, read_sidecar


class StateError(ArtifactError):
    """A `--state` folder cannot be used (missing files, another project)."""


# the collections of manifest.json that hold selectable records, searched in this order
RECORD_COLLECTIONS = ("nodes", "sources", "exposures", "unit_tests")


class _Document(msgspec.Struct):
    """The top level of manifest.json, with each record left undecoded until used."""

    metadata: dict[str, Any] = {}
    nodes: dict[str, msgspec.Raw] = {}
    sources: dict[str, msgspec.Raw] = {}
    exposures: dict[str, msgspec.Raw] = {}
    unit_tests: dict[str, msgspec.Raw] = {}
    macros: dict[str, Any] = {}


class PriorManifest:
    """A prior manifest.json whose node, source and exposure records decode on first use.

    A 5,000-model manifest is ~25 MB of JSON; most comparisons need a handful of its
    records (kiln_state.json says which nodes are unchanged), so decoding the rest would
    dominate `ls -s state:modified`.

    Args:
        metadata: the `metadata` block.
        collections: records by collection name and unique id, as dicts or undecoded.
        macros: the `macros` block.
    """

    def __init__(
        self,
        metadata: Mapping[str, Any],
        collections: Mapping[str, Mapping[str, Any]],
        macros: Mapping[str, Any],
    ) -> None:
        self.metadata = metadata
        self.macros = macros
        self._collections = collections
        self._decoded: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> PriorManifest:
        """Wrap a manifest.json already decoded to a dict."""
        collections = {name: document.get(name) or {} for name in RECORD_COLLECTIONS}
        return cls(document.get("metadata") or {}, collections, document.get("macros") or {})

    def ids(self, collection: str) -> Iterable[str]:
        """The unique ids of one collection (`nodes`, `sources`, ...)."""
        return self._collections.get(collection, {}).keys()

    def __contains__(self, uid: object) -> bool:
        return any(uid in self._collections.get(c, {}) for c in RECORD_COLLECTIONS)

    def record(self, uid: str) -> dict[str, Any] | None:
        """The record with this unique id in any collection, None if there is none."""
        found = self._decoded.get(uid)
        if found is not None:
            return found
        for name in RECORD_COLLECTIONS:
            value = self._collections.get(name, {}).get(uid)
            if value is not None:
                decoded = msgspec.json.decode(value) if isinstance(value, msgspec.Raw) else value
                self._decoded[uid] = decoded
                return decoded  # type: ignore[no-any-return]
        return None


@dataclass
class PriorArtifacts:
    """The artifacts of a previous invocation.

    Attributes:
        folder: the `--state` folder.
        manifest: its manifest.json, in the current schema.
    """

    folder: Path
    manifest: PriorManifest
    _loaded: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def written_by_kiln(self) -> bool:
        """Whether Kiln (not dbt-core) wrote the manifest (Kiln records its version)."""
        env = self.manifest.metadata.get("env") or {}
        return "KILN_VERSION" in env

    @property
    def adapter_type(self) -> str | None:
        """The adapter the prior manifest was parsed for."""
        value = self.manifest.metadata.get("adapter_type")
        return str(value) if value else None

    @cached_property
    def sidecar(self) -> Sidecar | None:
        """kiln_state.json, when the state folder has one written with this manifest."""
        found = read_sidecar(self.folder)
        if found is None or found.invocation_id != self.manifest.metadata.get("invocation_id"):
            return None  # absent, or left over from another run: its digests would lie
        return found

    def run_results(self) -> dict[str, Any]:
        """run_results.json of the state folder.

        Raises:
            StateError: the folder has none.
        """
        from kiln.artifacts import read_run_results

        return self._optional("run_results.json", read_run_results, "`result:` selectors")

    def sources(self) -> dict[str, Any]:
        """sources.json of the state folder.

        Raises:
            StateError: the folder has none.
        """
        from kiln.artifacts import read_sources

        return self._optional("sources.json", read_sources, "`source_status:` selectors")

    def _optional(self, name: str, reader: Any, needed_by: str) -> dict[str, Any]:
        if name not in self._loaded:
            path = self.folder / name
            if not path.is_file():
                raise StateError(
                    f"{needed_by} need {name} in the --state folder, and {self.folder} has none",
                    hint=f"point --state at the target/ folder of a run that wrote {name}",
                    location=Location(str(path)),
                )
            self._loaded[name] = reader(path)
        data: dict[str, Any] = self._loaded[name]
        return data


def resolve_state_folder(value: str, project_root: Path) -> Path:
    """The `--state` folder: relative to the working directory, else to the project.

    Raises:
        StateError: neither exists.
    """
    given = Path(value).expanduser()
    for candidate in (given, project_root / given):
        if candidate.is_dir():
            return candidate.resolve()
    raise StateError(
        f"the --state folder {value} does not exist",
        hint="pass the target/ folder of a previous run (it must hold manifest.json)",
    )


def load_prior(folder: Path, project_name: str) -> PriorArtifacts:
    """Read the state folder's manifest.json and check that it belongs to this project.

    Raises:
        StateError: manifest.json is missing or belongs to another project.
        IncompatibleArtifactError: its schema version is not one Kiln reads.
        ArtifactError: it is not valid JSON.
    """
    path = folder / "manifest.json"
    if not path.is_file():
        raise StateError(
            f"the --state folder {folder} has no manifest.json",
            hint="pass the target/ folder of a previous parse, run or build",
            location=Location(str(path)),
        )
    manifest = _read_manifest(path)
    found = manifest.metadata.get("project_name")
    if found and found != project_name:
        raise StateError(
            f"the --state manifest belongs to project {found!r}, not {project_name!r}",
            hint="pass the target/ folder of a run of this project",
            location=Location(str(path)),
        )
    return PriorArtifacts(folder, manifest)


def _read_manifest(path: Path) -> PriorManifest:
    """The manifest, records undecoded when it has the current schema version.

    Any other version goes through `kiln.artifacts.read_manifest`, which upgrades older
    versions and rejects unknown ones.
    """
    from kiln.artifacts import MANIFEST_SCHEMA, read_manifest

    try:
        document = msgspec.json.decode(path.read_bytes(), type=_Document)
    except (msgspec.DecodeError, OSError):
        document = None
    url = (document.metadata.get("dbt_schema_version") if document else None) or ""
    if document is None or url != MANIFEST_SCHEMA.url:
        return PriorManifest.from_document(read_manifest(path))
    collections = {name: getattr(document, name) for name in RECORD_COLLECTIONS}
    return PriorManifest(document.metadata, collections, document.macros)
