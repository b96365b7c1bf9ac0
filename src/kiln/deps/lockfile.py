"""package-lock.yml: dbt's lock hash, and reading and writing the lock as dbt 1.11 does."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kiln.deps.errors import DependencyError
from kiln.deps.specs import PackageSpec, parse_package_list
from kiln.errors import Location

LOCK_FILE = "package-lock.yml"
HASH_KEY = "sha1_hash"


@dataclass(frozen=True, slots=True)
class LockFile:
    """A read package-lock.yml: the pinned packages and the hash of the list it came from."""

    specs: tuple[PackageSpec, ...]
    sha1_hash: str | None


def hash_document(spec: PackageSpec) -> dict[str, Any]:
    """The dict dbt serializes for one entry when hashing: values, defaults, `unrendered`.

    dbt drops a `name` that is None so that adding the key did not change existing hashes.

    Example:
        >>> from kiln.deps.specs import PackageSpec
        >>> hash_document(PackageSpec("local", {"local": "../p", "name": None}, {"local": "../p"}))
        {'local': '../p', 'unrendered': {'local': '../p'}}
    """
    values = {k: v for k, v in spec.fields.items() if not (k == "name" and v is None)}
    return {**values, "unrendered": dict(spec.unrendered)}


def lock_hash(specs: Iterable[PackageSpec]) -> str:
    """The `sha1_hash` dbt writes: sha1 of the sorted JSON documents of the entries, one a line.

    Example:
        >>> from kiln.deps.specs import PackageSpec
        >>> lock_hash([PackageSpec("local", {"local": "../mypkg"}, {"local": "../mypkg"})])
        '8138791b1fe85874f5310c92e0dc3f4078c86f65'
    """
    lines = sorted(json.dumps(hash_document(spec), sort_keys=True) for spec in specs)
    return hashlib.sha1("\n".join(lines).encode("utf-8")).hexdigest()


class _ListIndentDumper(yaml.SafeDumper):
    """Indents list items under their key, as dbt's lock writer does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Never indentless: `- item` sits two spaces in from its key."""
        super().increase_indent(flow, False)


def dump_package_yaml(data: Mapping[str, Any], *, sort_keys: bool = True) -> str:
    """YAML text in dbt's packages/lock layout (lists indented under their key)."""
    return str(
        yaml.dump(dict(data), Dumper=_ListIndentDumper, sort_keys=sort_keys, allow_unicode=True)
    )


def write_lock(path: Path, entries: Sequence[Mapping[str, Any]], sha1_hash: str) -> None:
    """Write package-lock.yml: the pinned entries (each with its `name`) and the hash."""
    document = {"packages": [dict(entry) for entry in entries], HASH_KEY: sha1_hash}
    path.write_text(dump_package_yaml(document), encoding="utf-8")


def read_lock_hash(path: Path) -> str | None:
    """The `sha1_hash` recorded in package-lock.yml (None if absent)."""
    return _hash_of(_load(path)[1])


def read_lock(path: Path, context: Mapping[str, Any] | None) -> LockFile:
    """Read package-lock.yml, rendering its entries with `context` (as dbt does).

    Raises:
        DependencyError: the file is not valid YAML or holds a malformed entry.
    """
    text, data = _load(path)
    specs = parse_package_list({"packages": data.get("packages")}, text, LOCK_FILE, context)
    return LockFile(specs, _hash_of(data))


def _hash_of(data: Mapping[str, Any]) -> str | None:
    found = data.get(HASH_KEY)
    return str(found) if found is not None else None


def _load(path: Path) -> tuple[str, dict[str, Any]]:
    from kiln.config.yaml_io import load_yaml_text

    text = path.read_text(encoding="utf-8")
    data = load_yaml_text(text, LOCK_FILE, error=DependencyError)
    if data is not None and not isinstance(data, dict):
        raise DependencyError(
            "package-lock.yml must be a mapping with 'packages' and 'sha1_hash'",
            hint="delete it and run `kiln deps` to write it again",
            location=Location(LOCK_FILE),
        )
    return text, data or {}
