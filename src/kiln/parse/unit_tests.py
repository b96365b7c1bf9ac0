"""`unit_tests:` entries of properties files → `UnitTest` records.

A unit test names a model, literal rows for the model's inputs (`given`) and the rows the
model must return (`expect`). Parsing checks the shape and that the model exists, reads
fixture files, and names the test as dbt does: `unit_test.<package>.<model>.<name>`, with
the fqn `[package, *folders of the YAML file, model, name]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiln.config.node_config import merge_config, tree_configs
from kiln.errors import Location, ParseError, did_you_mean
from kiln.manifest.nodes import Manifest, UnitTest
from kiln.parse.files import SourceFile

FORMATS = ("dict", "csv", "sql")
FIXTURE_SUFFIX = {"csv": ".csv", "sql": ".sql"}
# `ref('m')`, `ref('pkg', 'm')`, `source('s', 't')` or `this`, as written in `input:`.
_INPUT = re.compile(
    r"^\s*(?:(?P<kind>ref|source)\s*\(\s*(?P<args>[^)]*)\)|(?P<this>this))\s*$", re.DOTALL
)
_CONFIG_KEYS = ("tags", "meta", "enabled")


def parse_input(text: str) -> tuple[str, tuple[str, ...]] | None:
    """Split a `given` input into its kind and literal arguments; None if malformed.

    Example:
        >>> parse_input("ref('stg_orders')")
        ('ref', ('stg_orders',))
        >>> parse_input('source("raw", "orders")')
        ('source', ('raw', 'orders'))
        >>> parse_input("this")
        ('this', ())
    """
    match = _INPUT.match(text)
    if match is None:
        return None
    if match["this"]:
        return "this", ()
    args = tuple(a.strip().strip("'\"") for a in match["args"].split(",") if a.strip())
    return match["kind"], args


class UnitTestBuilder:
    """Builds the unit tests of one project from its properties files.

    Args:
        manifest: the manifest being parsed (models must already be in it).
        package: the project's name.
        root: the project folder (fixture files are read below it).
        test_paths: the project's test folders (fixtures live in `<test-path>/fixtures/`).
        tree: the `unit_tests:` config tree of dbt_project.yml.
        created_at: the parse time stamp.
    """

    def __init__(
        self,
        manifest: Manifest,
        package: str,
        root: Path,
        test_paths: tuple[str, ...],
        tree: Mapping[str, Any],
        created_at: float,
    ) -> None:
        self.manifest = manifest
        self.package = package
        self.root = root
        self.test_paths = test_paths
        self.tree = tree
        self.created_at = created_at
        self.models = {
            n.name: n.unique_id for n in manifest.nodes.values() if n.resource_type == "model"
        }

    def add_all(self, entries: list[tuple[SourceFile, dict[str, Any]]]) -> None:
        """Add every enabled unit test to `manifest.unit_tests`.

        Raises:
            ParseError: an entry is malformed or names a model that does not exist.
        """
        for file, entry in entries:
            test = self.build(file, entry)
            if test is None:
                continue
            if test.unique_id in self.manifest.unit_tests:
                raise ParseError(
                    f"unit test '{test.name}' of model '{test.model}' is defined twice",
                    hint="give each unit test of a model its own name",
                    location=Location(file.path),
                )
            self.manifest.unit_tests[test.unique_id] = test

    def build(self, file: SourceFile, entry: dict[str, Any]) -> UnitTest | None:
        """One unit test, or None when it (or its model) is disabled."""
        name = _required_str(entry, "name", "a unit test", file)
        where = f"unit test '{name}'"
        model = _required_str(entry, "model", where, file)
        fqn = [self.package, *file.folder_parts, model, name]
        config = self._config(entry, fqn, where, file)
        model_id = self.models.get(model)
        if model_id is None:
            if any(uid.split(".")[-1] == model for uid in self.manifest.disabled):
                return None  # dbt disables the unit tests of a disabled model
            raise ParseError(
                f"{where} tests model '{model}', which does not exist",
                hint=did_you_mean(model, self.models) if self.models else "add the model",
                location=Location(file.path),
            )
        if not config.get("enabled", True):
            return None
        return UnitTest(
            unique_id=f"unit_test.{self.package}.{model}.{name}",
            name=name,
            package_name=self.package,
            path=file.resource_path,
            original_file_path=file.path,
            fqn=fqn,
            model=model,
            given=[self._given(g, where, file) for g in _list(entry, "given", where, file)],
            expect=self._expect(entry.get("expect"), where, file),
            description=str(entry.get("description") or ""),
            overrides=_overrides(entry.get("overrides"), where, file),
            config=config,
            depends_on_nodes=[model_id],
            created_at=self.created_at,
        )

    def _config(
        self, entry: dict[str, Any], fqn: list[str], where: str, file: SourceFile
    ) -> dict[str, Any]:
        config: dict[str, Any] = {"enabled": True, "tags": [], "meta": {}}
        for level in tree_configs(self.tree, fqn):
            merge_config(config, {k: v for k, v in level.items() if k in _CONFIG_KEYS})
        own = entry.get("config") or {}
        if not isinstance(own, Mapping):
            raise ParseError(
                f"{where}: `config` must be a mapping",
                hint="write `config: {tags: [...], enabled: true}`",
                location=Location(file.path),
            )
        merge_config(config, own)
        return config

    def _given(self, raw: Any, where: str, file: SourceFile) -> dict[str, Any]:
        if not isinstance(raw, Mapping) or "input" not in raw:
            raise ParseError(
                f"{where}: each `given` entry needs an `input`",
                hint="write `- input: ref('model_name')` followed by `rows:`",
                location=Location(file.path),
            )
        text = str(raw["input"])
        if parse_input(text) is None:
            raise ParseError(
                f"{where}: `input: {text}` is not ref(...), source(...) or this",
                hint="write `input: ref('model_name')` or `input: source('src', 'table')`",
                location=Location(file.path),
            )
        return {"input": text, **self._fixture(raw, f"{where}, input {text}", file)}

    def _expect(self, raw: Any, where: str, file: SourceFile) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise ParseError(
                f"{where} has no `expect`",
                hint="add `expect: {rows: [...]}` with the rows the model must return",
                location=Location(file.path),
            )
        return self._fixture(raw, f"{where}, expect", file)

    def _fixture(self, raw: Mapping[str, Any], where: str, file: SourceFile) -> dict[str, Any]:
        """`rows`, `format` and `fixture` of a given/expect entry, fixture files read."""
        fmt = str(raw.get("format") or "dict")
        if fmt not in FORMATS:
            raise ParseError(
                f"{where}: unknown format '{fmt}'",
                hint=did_you_mean(fmt, FORMATS),
                location=Location(file.path),
            )
        rows = raw.get("rows")
        fixture = raw.get("fixture")
        if fixture is not None and rows is None:
            rows = self._read_fixture(str(fixture), fmt, where, file)
        if fmt == "dict" and rows is not None and not _dict_rows(rows):
            raise ParseError(
                f"{where}: `rows` must be a list of mappings for format: dict",
                hint="write `rows: [{id: 1, name: a}]`, or set `format: csv` or `format: sql`",
                location=Location(file.path),
            )
        if fmt != "dict" and rows is not None and not isinstance(rows, str):
            raise ParseError(
                f"{where}: `rows` must be text for format: {fmt}",
                hint="use a YAML block (`rows: |`) holding the CSV or SQL",
                location=Location(file.path),
            )
        return {"rows": rows, "format": fmt, "fixture": fixture}

    def _read_fixture(self, name: str, fmt: str, where: str, file: SourceFile) -> str:
        suffix = FIXTURE_SUFFIX.get(fmt)
        if suffix is None:
            raise ParseError(
                f"{where}: fixture files need format: csv or format: sql",
                location=Location(file.path),
            )
        for folder in self.test_paths:
            for path in sorted((self.root / folder / "fixtures").rglob(f"{name}{suffix}")):
                return path.read_text(encoding="utf-8")
        raise ParseError(
            f"{where}: fixture '{name}{suffix}' not found",
            hint=f"put it in {self.test_paths[0] if self.test_paths else 'tests'}/fixtures/",
            location=Location(file.path),
        )


def _required_str(entry: Mapping[str, Any], key: str, where: str, file: SourceFile) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ParseError(
            f"{where} has no `{key}`",
            hint=f"add `{key}:` to the entry under unit_tests:",
            location=Location(file.path),
        )
    return value


def _list(entry: Mapping[str, Any], key: str, where: str, file: SourceFile) -> list[Any]:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{where}: `{key}` must be a list", location=Location(file.path))
    return value


def _dict_rows(rows: Any) -> bool:
    return isinstance(rows, list) and all(isinstance(r, Mapping) for r in rows)


def _overrides(raw: Any, where: str, file: SourceFile) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - {"macros", "vars", "env_vars"}:
        raise ParseError(
            f"{where}: `overrides` takes `macros`, `vars` and `env_vars` mappings",
            location=Location(file.path),
        )
    return {key: dict(value or {}) for key, value in raw.items()}
