"""`kiln deps --add-package name@version`: add (or replace) an entry in packages.yml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kiln.deps.errors import DependencyError
from kiln.deps.events import report
from kiln.deps.lockfile import dump_package_yaml
from kiln.deps.specs import DEPENDENCIES_FILE, KIND_KEY, PACKAGES_FILE

SOURCES = ("hub", "git", "local")
# characters around a name inside a path or URL that make it a whole word there
_BOUNDARY = "/."


def split_requested(value: str) -> tuple[str, str | None]:
    """`name@version` -> (name, version); a git SSH address keeps its `git@host:` part.

    Example:
        >>> split_requested("dbt-labs/dbt_utils@1.1.1")
        ('dbt-labs/dbt_utils', '1.1.1')
        >>> split_requested("git@github.com:org/repo.git")
        ('git@github.com:org/repo.git', None)
    """
    name, at, version = value.rpartition("@")
    if not at or not name or "/" in version or ":" in version:
        return value, None
    return name, version or None


def new_entry(name: str, version: str | None, source: str) -> dict[str, Any]:
    """The packages.yml entry `--add-package` writes.

    Example:
        >>> new_entry("dbt-labs/dbt_utils", ">=1.0.0,<2.0.0", "hub")
        {'package': 'dbt-labs/dbt_utils', 'version': ['>=1.0.0', '<2.0.0']}
    """
    if source == "local":
        return {"local": name}
    if not version:
        raise DependencyError(
            f"--add-package {name} needs a version when --source is {source}",
            hint=f"write it as {name}@<version>",
        )
    key = "revision" if source == "git" else "version"
    value: str | list[str] = version.split(",") if "," in version else version
    return {KIND_KEY[source]: name, key: value}


def is_same_package(identifier: str, name: str) -> bool:
    """Whether an existing entry's path, URL or hub name refers to the package being added.

    `_` and `-` are interchangeable and the name may appear without its namespace, but
    only as a whole word of the path or URL (`dbt-core` does not match `dbt-core-utils`).

    Example:
        >>> is_same_package("https://github.com/dbt-labs/dbt-utils.git", "dbt-labs/dbt_utils")
        True
        >>> is_same_package("https://github.com/x/dbt-core-utils.git", "dbt-core")
        False
    """
    short = name.rsplit("/", 1)[-1]
    variants = {v for n in (name, short) for v in (n, n.replace("_", "-"), n.replace("-", "_"))}
    for variant in variants:
        for match in re.finditer(re.escape(variant), identifier):
            start, end = match.start(), match.end()
            before = start == 0 or identifier[start - 1] in _BOUNDARY
            after = end == len(identifier) or identifier[end] in _BOUNDARY
            if before and after:
                return True
    return False


def add_package(root: Path, requested: str, source: str) -> None:
    """Add the requested package to the project's packages file, replacing older entries.

    Raises:
        DependencyError: no version for a hub or git package, or the file is malformed.
    """
    from kiln.config.yaml_io import load_yaml_text

    name, version = split_requested(requested)
    entry = new_entry(name, version, source)
    path = _packages_file(root)
    if not path.exists():
        path.write_text(dump_package_yaml({"packages": []}), encoding="utf-8")
        report("Formatting", f"Created {path.name}")
    data = load_yaml_text(path.read_text(encoding="utf-8"), path.name, error=DependencyError)
    data = data if isinstance(data, dict) else {}
    entries = data.get("packages") or []
    if not isinstance(entries, list):
        raise DependencyError(
            f"{path.name}: 'packages' must be a list", hint="fix the file, then add again"
        )
    kept = []
    for existing in entries:
        identifier = _identifier(existing)
        if identifier and is_same_package(identifier, name):
            report(
                "DepsFoundDuplicatePackage",
                f"Found duplicate package in {path.name}, removing: {existing}",
            )
            continue
        kept.append(existing)
    data["packages"] = [*kept, entry]
    path.write_text(dump_package_yaml(data, sort_keys=False), encoding="utf-8")
    report("DepsAddPackage", f"Added new package {name}@{version} to {path}")


def _packages_file(root: Path) -> Path:
    """dependencies.yml when it holds the packages list, else packages.yml."""
    from kiln.config.yaml_io import load_yaml_file

    deps = root / DEPENDENCIES_FILE
    if deps.is_file():
        data = load_yaml_file(deps, DEPENDENCIES_FILE)
        if isinstance(data, dict) and "packages" in data:
            return deps
    return root / PACKAGES_FILE


def _identifier(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    for key in (*KIND_KEY.values(), "private"):
        if isinstance(entry.get(key), str):
            return str(entry[key])
    return None
