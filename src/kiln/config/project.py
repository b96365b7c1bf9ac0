"""dbt_project.yml: the project's name, paths, config trees, vars and hooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.config.env import make_env_var, render_config_value
from kiln.config.yaml_io import load_yaml_text
from kiln.errors import Location, ProjectError

PROJECT_FILE = "dbt_project.yml"

# Keys of dbt_project.yml rendered at load time; config trees and hooks are rendered later,
# per node, because they may use `this`, `model` or vars that differ per node.
_RENDERED_KEYS = (
    "name",
    "profile",
    "model-paths",
    "seed-paths",
    "test-paths",
    "analysis-paths",
    "macro-paths",
    "snapshot-paths",
    "docs-paths",
    "target-path",
    "log-path",
    "packages-install-path",
    "clean-targets",
)


@dataclass(frozen=True, slots=True)
class Project:
    """A loaded dbt_project.yml."""

    root: Path
    name: str
    profile: str | None
    version: str | None
    model_paths: tuple[str, ...]
    seed_paths: tuple[str, ...]
    test_paths: tuple[str, ...]
    analysis_paths: tuple[str, ...]
    macro_paths: tuple[str, ...]
    snapshot_paths: tuple[str, ...]
    docs_paths: tuple[str, ...]
    target_path: str
    log_path: str
    packages_install_path: str
    clean_targets: tuple[str, ...]
    vars: dict[str, Any]
    config_trees: dict[str, dict[str, Any]]
    on_run_start: tuple[str, ...]
    on_run_end: tuple[str, ...]
    quoting: dict[str, Any]
    flags: dict[str, Any]
    dispatch: tuple[dict[str, Any], ...]
    raw: dict[str, Any] = field(repr=False)

    @property
    def all_source_paths(self) -> tuple[str, ...]:
        """Every folder dbt reads project files from (used for docs blocks)."""
        paths = (
            self.model_paths
            + self.seed_paths
            + self.test_paths
            + self.analysis_paths
            + self.macro_paths
            + self.snapshot_paths
        )
        return tuple(dict.fromkeys(paths))

    def kiln_setting(self, name: str, default: Any = None) -> Any:
        """A Kiln-only setting from `flags:` (`kiln_<name>`) or a top-level `kiln:` block."""
        block = self.raw.get("kiln") or {}
        if isinstance(block, dict) and name in block:
            return block[name]
        return self.flags.get(f"kiln_{name}", default)


def _paths(raw: dict[str, Any], key: str, default: list[str]) -> tuple[str, ...]:
    value = raw.get(key, default)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProjectError(
            f"'{key}' must be a list of folder names", location=Location(PROJECT_FILE)
        )
    return tuple(value)


def _hooks(raw: dict[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if isinstance(value, str):
        value = [value]
    return tuple(str(v) for v in value)


def load_project(project_dir: Path) -> Project:
    """Read `dbt_project.yml` from a project folder.

    Raises:
        ProjectError: the file is missing, not a mapping, or lacks a name.
    """
    path = project_dir / PROJECT_FILE
    if not path.is_file():
        raise ProjectError(
            f"no {PROJECT_FILE} found in {project_dir}",
            hint="run kiln inside a dbt project or pass --project-dir",
        )
    raw = load_yaml_text(path.read_text(encoding="utf-8"), PROJECT_FILE, error=ProjectError)
    if not isinstance(raw, dict):
        raise ProjectError(f"{PROJECT_FILE} must be a mapping", location=Location(PROJECT_FILE))
    context = {"env_var": make_env_var()}
    for key in _RENDERED_KEYS:
        if key in raw:
            raw[key] = render_config_value(raw[key], context)
    name = raw.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise ProjectError(
            "dbt_project.yml needs a 'name' made of letters, digits and underscores",
            location=Location(PROJECT_FILE),
        )
    trees = {
        "models": raw.get("models") or {},
        "seeds": raw.get("seeds") or {},
        "snapshots": raw.get("snapshots") or {},
        "tests": {**(raw.get("tests") or {}), **(raw.get("data_tests") or {})},
        "sources": raw.get("sources") or {},
        "exposures": raw.get("exposures") or {},
        "analyses": raw.get("analyses") or {},
        "unit_tests": raw.get("unit_tests") or {},
    }
    model_paths = _paths(raw, "model-paths", ["models"])
    return Project(
        root=project_dir,
        name=name,
        profile=raw.get("profile"),
        version=str(raw["version"]) if raw.get("version") is not None else None,
        model_paths=model_paths,
        seed_paths=_paths(raw, "seed-paths", ["seeds"]),
        test_paths=_paths(raw, "test-paths", ["tests"]),
        analysis_paths=_paths(raw, "analysis-paths", ["analyses"]),
        macro_paths=_paths(raw, "macro-paths", ["macros"]),
        snapshot_paths=_paths(raw, "snapshot-paths", ["snapshots"]),
        docs_paths=_paths(raw, "docs-paths", []),
        target_path=str(raw.get("target-path", "target")),
        log_path=str(raw.get("log-path", "logs")),
        packages_install_path=str(raw.get("packages-install-path", "dbt_packages")),
        clean_targets=_paths(raw, "clean-targets", []),
        vars=dict(raw.get("vars") or {}),
        config_trees=trees,
        on_run_start=_hooks(raw, "on-run-start"),
        on_run_end=_hooks(raw, "on-run-end"),
        quoting=dict(raw.get("quoting") or {}),
        flags=dict(raw.get("flags") or {}),
        dispatch=tuple(raw.get("dispatch") or ()),
        raw=raw,
    )
