"""Package entries: packages.yml / dependencies.yml, their rendering and validation.

Each kind of entry is declared as data (`FIELDS`): its keys and the defaults dbt's
dataclasses fill in. The defaults matter beyond validation: they are part of the lock hash
(`kiln.deps.lockfile.lock_hash`), so they must be exactly dbt's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.deps.errors import DependencyError
from kiln.deps.semver import parse_constraint, split_requirements
from kiln.errors import KilnError, Location, did_you_mean

PACKAGES_FILE = "packages.yml"
DEPENDENCIES_FILE = "dependencies.yml"

_REQUIRED = object()

# kind -> the key naming the package, then every key an entry may have with dbt's default
# (`_REQUIRED`: no default). Order and defaults follow dbt-core 1.11 contracts/project.py.
KIND_KEY = {"local": "local", "tarball": "tarball", "git": "git", "hub": "package"}
FIELDS: dict[str, dict[str, Any]] = {
    "local": {"local": _REQUIRED, "name": None},
    "tarball": {"tarball": _REQUIRED, "name": _REQUIRED},
    "git": {
        "git": _REQUIRED,
        "revision": None,
        "warn-unpinned": None,
        "subdirectory": None,
        "name": None,
    },
    "hub": {"package": _REQUIRED, "version": _REQUIRED, "install_prerelease": False, "name": None},
}
# the Python types a key accepts (None is accepted wherever the default is None)
_TYPES: dict[str, tuple[type, ...]] = {
    "local": (str,),
    "tarball": (str,),
    "git": (str,),
    "package": (str,),
    "name": (str,),
    "subdirectory": (str,),
    "revision": (str, int, float),
    "version": (str, int, float, list),
    "warn-unpinned": (bool,),
    "install_prerelease": (bool,),
}


@dataclass(frozen=True, slots=True)
class PackageSpec:
    """One entry of a packages list, validated, with dbt's defaults filled in.

    Attributes:
        kind: "local", "git", "tarball" or "hub".
        fields: the rendered values (env_var/var applied), defaults included.
        unrendered: the entry exactly as written in the file.
        origin: the file (and line) that declared it, for error messages.
    """

    kind: str
    fields: Mapping[str, Any]
    unrendered: Mapping[str, Any] = field(default_factory=dict)
    origin: Location = field(default_factory=lambda: Location(PACKAGES_FILE))

    @property
    def source(self) -> str:
        """What the entry points at: the path, URL or hub name."""
        return str(self.fields[KIND_KEY[self.kind]])


@dataclass(frozen=True, slots=True)
class DeclaredPackages:
    """The packages a project asks for, and the file they came from."""

    file_name: str
    specs: tuple[PackageSpec, ...] = ()


def make_render_context(cli_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The Jinja context dbt renders package files with: `env_var` and the --vars `var`."""
    from kiln.config.env import make_env_var

    return {"env_var": make_env_var(), "var": _make_var(cli_vars)}


def _make_var(cli_vars: Mapping[str, Any]) -> Callable[..., Any]:
    missing = object()

    def var(name: str, default: Any = missing) -> Any:
        if name in cli_vars:
            return cli_vars[name]
        if default is not missing:
            return default
        raise DependencyError(
            f"Required var '{name}' not found",
            hint="package files only see --vars: pass it with --vars or give var() a default",
        )

    return var


def read_declared(
    folder: Path, display_dir: str, context: Mapping[str, Any] | None, *, is_root: bool
) -> DeclaredPackages:
    """The packages a project folder declares in packages.yml or dependencies.yml.

    Args:
        folder: the project folder.
        display_dir: how messages name the folder ("" for the root project).
        context: the render context; None leaves values as written.
        is_root: dbt leaves the root project's dependencies.yml unrendered.

    Raises:
        DependencyError: both files declare packages, or an entry is malformed.
    """
    found = _read_file(folder, PACKAGES_FILE, display_dir)
    deps = _read_file(folder, DEPENDENCIES_FILE, display_dir)
    if _has_packages(found) and _has_packages(deps):
        raise DependencyError(
            "packages are declared in both packages.yml and dependencies.yml",
            hint="keep the 'packages:' list in one of the two files",
            location=Location(_display(display_dir, DEPENDENCIES_FILE)),
        )
    if _has_packages(deps):
        found = deps
        if is_root:
            context = None
    if found is None:
        return DeclaredPackages(PACKAGES_FILE)
    name, text, data = found
    display = _display(display_dir, name)
    return DeclaredPackages(name, parse_package_list(data, text, display, context))


def _display(display_dir: str, name: str) -> str:
    return f"{display_dir.rstrip('/')}/{name}" if display_dir else name


def _read_file(folder: Path, name: str, display_dir: str) -> tuple[str, str, Any] | None:
    from kiln.config.yaml_io import load_yaml_text

    path = folder / name
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    data = load_yaml_text(text, _display(display_dir, name), error=DependencyError)
    return name, text, data


def _has_packages(found: tuple[str, str, Any] | None) -> bool:
    return found is not None and isinstance(found[2], dict) and "packages" in found[2]


def parse_package_list(
    data: Any, text: str, display: str, context: Mapping[str, Any] | None
) -> tuple[PackageSpec, ...]:
    """Validate the `packages:` list of a loaded file and render its entries.

    Raises:
        DependencyError: the file is not a mapping with a `packages:` list, or an entry is
            malformed (the message names the file and the entry's line).
    """
    if data is None or data == {}:
        return ()
    entries = data.get("packages", _REQUIRED) if isinstance(data, dict) else _REQUIRED
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise DependencyError(
            "expected a mapping with a 'packages:' list of package entries",
            hint="write it as `packages:` followed by `- package: dbt-labs/dbt_utils` items",
            location=Location(display),
        )
    lines = _entry_lines(text)
    specs = []
    for index, raw in enumerate(entries):
        where = Location(display, lines[index] if index < len(lines) else None)
        specs.append(parse_entry(raw, where, context))
    return tuple(specs)


def _entry_lines(text: str) -> list[int]:
    """The 1-based line of each item of the `packages:` list (empty if not found)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "packages" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_entry(raw: Any, where: Location, context: Mapping[str, Any] | None) -> PackageSpec:
    """One package entry, rendered (when `context` is given) and validated.

    Raises:
        DependencyError: the entry is not a mapping, has no or several kinds, unknown keys,
            values of the wrong type, or a malformed hub version.
    """
    if not isinstance(raw, dict):
        raise DependencyError(
            f"a package entry must be a mapping, got {raw!r}",
            hint="write entries like `- package: dbt-labs/dbt_utils` with `version:` below",
            location=where,
        )
    rendered = _render(raw, where, context)
    kind = _kind_of(rendered, where)
    allowed = FIELDS[kind]
    for key in rendered:
        if key not in allowed:
            raise DependencyError(
                f"unknown key {key!r} in a {kind} package entry",
                hint=did_you_mean(str(key), allowed),
                location=where,
            )
    values = {key: rendered.get(key, default) for key, default in allowed.items()}
    for key, value in values.items():
        _check_value(kind, key, value, allowed[key], where)
    if kind == "hub":
        _check_hub(values, where)
    return PackageSpec(kind, values, copy.deepcopy(raw), where)


def _render(raw: dict[str, Any], where: Location, context: Mapping[str, Any] | None) -> Any:
    if context is None:
        return copy.deepcopy(raw)
    from kiln.config.env import render_config_value

    try:
        return render_config_value(copy.deepcopy(raw), context)
    except KilnError as exc:  # a missing env var or var: say which entry needs it
        raise DependencyError(exc.message, hint=exc.hint, location=where) from None


def _kind_of(entry: dict[str, Any], where: Location) -> str:
    if "private" in entry:
        raise DependencyError(
            f"cannot install private package {entry['private']!r}: it needs a git provider "
            "integration",
            hint="declare it as a `git:` package with the repository URL instead",
            location=where,
        )
    kinds = [kind for kind, key in KIND_KEY.items() if key in entry]
    if len(kinds) == 1:
        return kinds[0]
    keys = ", ".join(KIND_KEY.values())
    if not kinds:
        raise DependencyError(
            f"a package entry needs one of {keys}; got keys {', '.join(map(str, entry))}",
            hint="e.g. `- package: dbt-labs/dbt_utils` or `- local: ../my_package`",
            location=where,
        )
    raise DependencyError(
        f"a package entry mixes {' and '.join(KIND_KEY[k] for k in kinds)}",
        hint="split it into one entry per package",
        location=where,
    )


def _check_value(kind: str, key: str, value: Any, default: Any, where: Location) -> None:
    if value is _REQUIRED:
        raise DependencyError(
            f"a {kind} package entry needs a {key!r} key",
            hint=f"add `{key}:` to the entry",
            location=where,
        )
    if value is None and default is not _REQUIRED:
        return
    if not isinstance(value, _TYPES[key]) or value == "":
        expected = " or ".join(t.__name__ for t in _TYPES[key])
        raise DependencyError(
            f"{key!r} of a {kind} package entry must be a non-empty {expected}, got {value!r}",
            location=where,
        )


def _check_hub(values: dict[str, Any], where: Location) -> None:
    name = values["package"]
    if "/" not in name:
        raise DependencyError(
            f"hub package {name!r} needs a namespace",
            hint="hub packages are named like `dbt-labs/dbt_utils`",
            location=where,
        )
    texts = split_requirements(values["version"])
    if not texts:
        raise DependencyError(
            f"hub package {name} needs a version", hint="add e.g. `version: 1.1.1`", location=where
        )
    for text in texts:
        if parse_constraint(text) is None:
            raise DependencyError(
                f"{text!r} is not a valid version requirement for {name}",
                hint="use major.minor.patch with an optional =, >, >=, < or <=, e.g. '>=1.0.0'",
                location=where,
            )
