"""Loading a `--state` folder: the prior manifest.json, and on demand its run results,
source freshness results and Kiln's kiln_state.json.

Only manifest.json is read up front (every `state:` method and `--defer` need it); the
other files are read the first time a method asks for them, so `state:modified` never
pays for a large run_results.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from kiln.errors import ArtifactError, Location
from kiln.state.sidecar import Sidecar, read_sidecar


class StateError(ArtifactError):
    """A `--state` folder cannot be used (missing files, another project)."""


@dataclass
class PriorArtifacts:
    """The artifacts of a previous invocation.

    Attributes:
        folder: the `--state` folder.
        manifest: its manifest.json, upgraded to the current schema.
    """

    folder: Path
    manifest: dict[str, Any]
    _loaded: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def written_by_kiln(self) -> bool:
        """Whether Kiln (not dbt-core) wrote the manifest (Kiln records its version)."""
        env = (self.manifest.get("metadata") or {}).get("env") or {}
        return "KILN_VERSION" in env

    @property
    def adapter_type(self) -> str | None:
        """The adapter the prior manifest was parsed for."""
        value = (self.manifest.get("metadata") or {}).get("adapter_type")
        return str(value) if value else None

    @cached_property
    def sidecar(self) -> Sidecar | None:
        """kiln_state.json, when the state folder has one."""
        return read_sidecar(self.folder)

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
    """
    from kiln.artifacts import read_manifest

    path = folder / "manifest.json"
    if not path.is_file():
        raise StateError(
            f"the --state folder {folder} has no manifest.json",
            hint="pass the target/ folder of a previous parse, run or build",
            location=Location(str(path)),
        )
    manifest = read_manifest(path)
    found = (manifest.get("metadata") or {}).get("project_name")
    if found and found != project_name:
        raise StateError(
            f"the --state manifest belongs to project {found!r}, not {project_name!r}",
            hint="pass the target/ folder of a run of this project",
            location=Location(str(path)),
        )
    return PriorArtifacts(folder, manifest)
