"""YAML properties files: model/seed/snapshot patches, sources, exposures, docs, tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiln.config.yaml_io import load_yaml_text
from kiln.errors import Location, ParseError
from kiln.parse.files import SourceFile

PATCH_KEYS = ("models", "seeds", "snapshots", "analyses", "macros")


@dataclass(slots=True)
class Patch:
    """What a properties file says about one model/seed/snapshot/analysis/macro."""

    resource_key: str
    name: str
    file: SourceFile
    data: dict[str, Any]


@dataclass(slots=True)
class TestEntries:
    """The generic tests listed for one target, with the columns they sit under."""

    resource_key: str
    name: str
    file: SourceFile
    entries: list[tuple[str | None, str, Any, list[str]]]  # column, key, entry, column tags
    source_name: str | None = None
    version: str | int | None = None


@dataclass(slots=True)
class Properties:
    """Everything read from the project's properties files."""

    patches: dict[tuple[str, str], Patch] = field(default_factory=dict)
    sources: list[tuple[SourceFile, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    exposures: list[tuple[SourceFile, dict[str, Any]]] = field(default_factory=list)
    yaml_snapshots: list[tuple[SourceFile, dict[str, Any]]] = field(default_factory=list)
    tests: list[TestEntries] = field(default_factory=list)
    groups: list[tuple[SourceFile, dict[str, Any]]] = field(default_factory=list)
    unit_tests: list[tuple[SourceFile, dict[str, Any]]] = field(default_factory=list)


def read_properties(
    files: list[SourceFile], yaml_cache: dict[str, Any] | None = None
) -> Properties:
    """Parse every properties file into patches, sources, exposures and test entries.

    `yaml_cache` maps `path:checksum` to parsed YAML; it is read and filled, so unchanged
    files are not parsed again (YAML parsing dominated re-parses of large projects).
    """
    props = Properties()
    cache = {} if yaml_cache is None else yaml_cache
    for file in files:
        key = f"{file.path}:{file.checksum}"
        if key in cache:
            data = cache[key]
        else:
            data = cache[key] = load_yaml_text(file.text, file.path)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ParseError("a properties file must be a mapping", location=Location(file.path))
        _read_one(file, data, props)
    return props


def _read_one(file: SourceFile, data: dict[str, Any], props: Properties) -> None:
    for key in PATCH_KEYS:
        for entry in _entries(data, key, file):
            name = _name(entry, key, file)
            if key == "snapshots" and "relation" in entry:
                props.yaml_snapshots.append((file, entry))
            elif (key, name) in props.patches:
                other = props.patches[(key, name)].file.path
                raise ParseError(
                    f"{key[:-1]} '{name}' is described twice (also in {other})",
                    hint="keep one entry",
                    location=Location(file.path),
                )
            else:
                props.patches[(key, name)] = Patch(key, name, file, entry)
            if key != "macros":
                _collect_tests(props, key, name, entry, file)
    for source in _entries(data, "sources", file):
        _name(source, "sources", file)
        for table in source.get("tables") or []:
            if not isinstance(table, dict) or "name" not in table:
                raise ParseError(
                    f"source '{source['name']}' has a table without a name",
                    location=Location(file.path),
                )
            props.sources.append((file, source, table))
            tests = TestEntries("sources", table["name"], file, [], source_name=source["name"])
            _add_test_entries(tests, table)
            if tests.entries:
                props.tests.append(tests)
    for exposure in _entries(data, "exposures", file):
        _name(exposure, "exposures", file)
        props.exposures.append((file, exposure))
    for group in _entries(data, "groups", file):
        props.groups.append((file, group))
    for unit in _entries(data, "unit_tests", file):
        props.unit_tests.append((file, unit))


def _entries(data: dict[str, Any], key: str, file: SourceFile) -> list[dict[str, Any]]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ParseError(
            f"'{key}:' must be a list of mappings",
            hint=f"write each entry as '- name: ...' under {key}:",
            location=Location(file.path),
        )
    return value


def _name(entry: dict[str, Any], key: str, file: SourceFile) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ParseError(f"an entry under '{key}:' has no name", location=Location(file.path))
    return name


def _collect_tests(
    props: Properties, key: str, name: str, entry: dict[str, Any], file: SourceFile
) -> None:
    tests = TestEntries(key, name, file, [])
    _add_test_entries(tests, entry)
    if tests.entries:
        props.tests.append(tests)


def _add_test_entries(tests: TestEntries, entry: dict[str, Any]) -> None:
    for list_key in ("data_tests", "tests"):
        for test in entry.get(list_key) or []:
            tests.entries.append((None, list_key, test, []))
    for column in entry.get("columns") or []:
        if not isinstance(column, dict) or "name" not in column:
            continue
        col_name = str(column["name"])
        if column.get("quote"):
            col_name = f'"{col_name}"'
        col_tags = list(column.get("tags") or [])
        for list_key in ("data_tests", "tests"):
            for test in column.get(list_key) or []:
                tests.entries.append((col_name, list_key, test, col_tags))


def column_infos(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`columns` as dbt stores them in the manifest (name → column info)."""
    out: dict[str, dict[str, Any]] = {}
    for column in entry.get("columns") or []:
        if not isinstance(column, dict) or "name" not in column:
            continue
        name = str(column["name"])
        out[name] = {
            "name": name,
            "description": str(column.get("description") or ""),
            "meta": dict(column.get("meta") or (column.get("config") or {}).get("meta") or {}),
            "data_type": column.get("data_type"),
            "constraints": list(column.get("constraints") or []),
            "quote": column.get("quote"),
            "config": {
                "meta": dict(column.get("meta") or {}),
                "tags": list(column.get("tags") or []),
            },
            "tags": list(column.get("tags") or []),
            "granularity": column.get("granularity"),
            "doc_blocks": [],
        }
    return out
