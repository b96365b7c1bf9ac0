"""Turning a project's files into a `Manifest`.

Order: macros and docs, then nodes (models, seeds, snapshots, analyses, singular tests),
then properties (patches, sources, exposures, generic tests), then configs, refs and
relation names. Rendering happens only where static extraction cannot answer.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.config.node_config import defaults_for, merge_config, tree_configs
from kiln.config.project import Project
from kiln.errors import KilnError, Location, ParseError
from kiln.jinja.context import ContextFactory, Recorder, parse_ref_args
from kiln.jinja.macros import BUILTIN_PACKAGE
from kiln.manifest.nodes import (
    PROJECT_HOOKS,
    Doc,
    Macro,
    Manifest,
    Node,
    RefCall,
    hook_node_name,
)
from kiln.parse.fast_scan import fast_extract
from kiln.parse.files import SourceFile, checksum_text, discover
from kiln.parse.properties import Properties, read_properties

_DOCS_BLOCK = re.compile(
    r"{%-?\s*docs\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.DOTALL
)
_SNAPSHOT_BLOCK = re.compile(
    r"{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%}(.*?){%-?\s*endsnapshot\s*-?%}", re.DOTALL
)
_BUILTIN_DIR = Path(__file__).resolve().parent.parent / "jinja" / "builtin_macros"
_REF_LIKE = ("ref(", "source(", "config(")


@dataclass(slots=True)
class FileResult:
    """What parsing one node file found (cached by checksum)."""

    refs: list[RefCall]
    sources: list[tuple[str, str]]
    configs: dict[str, Any]
    macro_ids: list[str]
    vars_used: dict[str, Any] = field(default_factory=dict)
    env_vars_used: dict[str, Any] = field(default_factory=dict)
    rendered: bool = False


@dataclass
class ParseInputs:
    """What a parse needs besides the files."""

    factory: ContextFactory
    quote_char: str = '"'
    include_database: bool = True
    cached_files: dict[str, FileResult] = field(default_factory=dict)
    # parsed YAML by `path:checksum`, and built generic tests by their entry's position
    cached_yaml: dict[str, Any] = field(default_factory=dict)
    cached_tests: dict[str, Any] = field(default_factory=dict)


class _CacheView(dict[str, Any]):
    """A dict that serves hits from an old cache and records every key used into `used`."""

    def __init__(self, old: dict[str, Any], used: dict[str, Any]) -> None:
        super().__init__()
        self._old = old
        self._used = used

    def __contains__(self, key: object) -> bool:
        return key in self._old or key in self._used

    def __getitem__(self, key: str) -> Any:
        if key not in self._used:
            self._used[key] = self._old[key]
        return self._used[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._used[key] = value


def _warn_unloaded_resources(package: Project) -> None:
    """Kiln loads a package's macros and generic tests; say so if it ships more."""
    folders = package.model_paths + package.seed_paths + package.snapshot_paths
    if any(_has_files(package.root / folder, (".sql", ".csv")) for folder in folders):
        from kiln.events.bus import warn

        warn(
            f"Package '{package.name}' has models, seeds or snapshots: Kiln loads the macros "
            "and generic tests of installed packages only, so they are not part of this project"
        )


def _has_files(folder: Path, suffixes: tuple[str, ...]) -> bool:
    """Whether a folder holds such a file anywhere below it (without reading any)."""
    return any(name.endswith(suffixes) for _, _, names in os.walk(folder) for name in names)


def builtin_macro_files() -> list[tuple[str, str, str]]:
    """(package, display path, text) of Kiln's built-in macro files."""
    return [
        (BUILTIN_PACKAGE, f"macros/{path.name}", path.read_text(encoding="utf-8"))
        for path in sorted(_BUILTIN_DIR.glob("*.sql"))
    ]


class ProjectParser:
    """Parses one project (and Kiln's built-in macros) into a Manifest."""

    def __init__(self, inputs: ParseInputs) -> None:
        self.inputs = inputs
        self.factory = inputs.factory
        self.project = inputs.factory.project
        self.root = self.project.root
        self.package = self.project.name
        self.registry = inputs.factory.registry
        self.manifest = Manifest(project_name=self.package, adapter_type=self.factory.target.type)
        self.file_results: dict[str, FileResult] = {}
        self.now = time.time()
        self._macro_closure_refs: dict[str, bool] = {}
        self.file_keys: dict[str, str] = {}

    # ---- entry point -------------------------------------------------------------------

    def parse(self) -> Manifest:
        """Parse every file and return the manifest."""
        self._load_macros()
        self._load_docs()
        self.yaml_results: dict[str, Any] = {}
        self.test_results: dict[str, Any] = {}
        props = read_properties(self._property_files(), self._yaml_cache())
        self._parse_models()
        self._parse_seeds()
        self._parse_snapshots(props)
        self._parse_analyses()
        self._parse_singular_tests()
        from kiln.parse.resolve import Resolver

        Resolver(self, props).run()
        self._add_project_hooks()
        return self.manifest

    def _yaml_cache(self) -> dict[str, Any]:
        """Cached YAML, copied into `yaml_results` so the next cache holds what is current."""
        cache = _CacheView(self.inputs.cached_yaml, self.yaml_results)
        return cache  # type: ignore[return-value]

    # ---- macros and docs ---------------------------------------------------------------

    def _load_macros(self) -> None:
        for package, display, text in builtin_macro_files():
            for m in self.registry.add_file(package, display, text):
                self._add_macro_record(m.name, package, m.path, m.path, m.macro_sql, m.calls)
        for installed in self.factory.packages:
            self._load_project_macros(installed)
            _warn_unloaded_resources(installed)
        self._load_project_macros(self.project)

    def _load_project_macros(self, project: Project) -> None:
        """Macros and `{% test %}` blocks of a project, under its own package name.

        Paths are relative to that project's root, as dbt records a package's files.
        """
        from kiln.jinja.environment import rewrite_dbt_tags

        macro_files = discover(project.root, project.macro_paths, (".sql",))
        generic = [
            f
            for f in discover(project.root, project.test_paths, (".sql",))
            if f.resource_path.split("/")[0] == "generic"
        ]
        for file in macro_files + generic:
            rewritten = rewrite_dbt_tags(file.text)
            for m in self.registry.add_file(project.name, file.path, file.text, rewritten):
                # dbt's `path` of a macro is its file's path from the project root too
                self._add_macro_record(
                    m.name, project.name, file.path, file.path, m.macro_sql, m.calls
                )

    def _add_macro_record(
        self, name: str, package: str, path: str, original: str, sql: str, calls: frozenset[str]
    ) -> None:
        uid = f"macro.{package}.{name}"
        self.manifest.macros[uid] = Macro(
            unique_id=uid,
            name=name,
            package_name=package,
            path=path,
            original_file_path=original,
            macro_sql=sql,
            depends_on_macros=[],
            created_at=self.now,
        )

    def finish_macro_dependencies(self) -> None:
        """Fill each macro's `depends_on.macros` once every macro is known."""
        for macro_def in self.registry.all_macros():
            record = self.manifest.macros.get(macro_def.unique_id)
            if record is not None:
                record.depends_on_macros = self.registry.depends_on(
                    macro_def.calls - {macro_def.name}
                )

    def _load_docs(self) -> None:
        folders = self.project.docs_paths or self.project.all_source_paths
        for file in discover(self.root, folders, (".md",)):
            for match in _DOCS_BLOCK.finditer(file.text):
                name = match.group(1)
                uid = f"doc.{self.package}.{name}"
                self.manifest.docs[uid] = Doc(
                    uid, name, self.package, file.resource_path, file.path, match.group(2).strip()
                )

    def _property_files(self) -> list[SourceFile]:
        p = self.project
        folders = p.all_source_paths
        return discover(self.root, folders, (".yml", ".yaml"))

    # ---- node files ----------------------------------------------------------------------

    def _new_node(
        self,
        resource_type: str,
        file: SourceFile,
        name: str,
        fqn: list[str],
        raw_code: str,
        path: str | None = None,
    ) -> Node:
        uid = f"{resource_type}.{self.package}.{name}"
        return Node(
            unique_id=uid,
            resource_type=resource_type,
            package_name=self.package,
            name=name,
            path=path or file.resource_path,
            original_file_path=file.path,
            fqn=fqn,
            raw_code=raw_code,
            checksum=file.checksum,
            created_at=self.now,
        )

    def _add_node(self, node: Node, file: SourceFile) -> None:
        existing = self.manifest.nodes.get(node.unique_id)
        if existing is not None:
            raise ParseError(
                f"two {node.resource_type}s are named '{node.name}' "
                f"({existing.original_file_path} and {file.path})",
                hint="rename one of them: names must be unique within a project",
                location=Location(file.path),
            )
        self.manifest.nodes[node.unique_id] = node

    def _add_project_hooks(self) -> None:
        """One `operation` node per on-run-start / on-run-end statement, as dbt records them.

        Named `<project>-<hook>-<n>` in the target's schema; the checksum is the project
        file's; they depend on the macros they call.
        """
        project = self.project
        if not (project.on_run_start or project.on_run_end):
            return
        hooks = zip(PROJECT_HOOKS, (project.on_run_start, project.on_run_end), strict=True)
        project_file = self.root / "dbt_project.yml"
        checksum = checksum_text(project_file.read_text(encoding="utf-8"))
        target = self.factory.target
        for key, statements in hooks:
            for index, sql in enumerate(statements):
                name = hook_node_name(self.package, key, index)
                found = fast_extract(sql) if "{" in sql else None
                calls = set(found.macro_calls) if found is not None else set()
                self.manifest.nodes[f"operation.{self.package}.{name}"] = Node(
                    unique_id=f"operation.{self.package}.{name}",
                    resource_type="operation",
                    package_name=self.package,
                    name=name,
                    path=f"hooks/{name}.sql",
                    original_file_path="./dbt_project.yml",
                    fqn=[self.package, "hooks", name],
                    raw_code=sql,
                    checksum=checksum,
                    depends_on_macros=self.registry.depends_on(calls),
                    database=target.database,
                    schema=target.schema,
                    alias=name,
                    created_at=self.now,
                )

    def _parse_models(self) -> None:
        for file in discover(self.root, self.project.model_paths, (".sql",)):
            fqn = [self.package, *file.folder_parts, file.stem]
            node = self._new_node("model", file, file.stem, fqn, file.text)
            self._extract(node, file)
            self._add_node(node, file)

    def _parse_seeds(self) -> None:
        for file in discover(self.root, self.project.seed_paths, (".csv",)):
            fqn = [self.package, *file.folder_parts, file.stem]
            node = self._new_node("seed", file, file.stem, fqn, "")
            node.checksum = file.checksum
            self.file_results[node.unique_id] = FileResult([], [], {}, [])
            self._add_node(node, file)

    def _parse_analyses(self) -> None:
        for file in discover(self.root, self.project.analysis_paths, (".sql",)):
            fqn = [self.package, "analysis", *file.folder_parts, file.stem]
            node = self._new_node(
                "analysis", file, file.stem, fqn, file.text, path=f"analysis/{file.resource_path}"
            )
            self._extract(node, file)
            self._add_node(node, file)

    def _parse_singular_tests(self) -> None:
        for file in discover(self.root, self.project.test_paths, (".sql",)):
            if file.resource_path.split("/")[0] == "generic":
                continue
            fqn = [self.package, *file.folder_parts, file.stem]
            node = self._new_node("test", file, file.stem, fqn, file.text)
            self._extract(node, file)
            self._add_node(node, file)

    def _parse_snapshots(self, props: Properties) -> None:
        for file in discover(self.root, self.project.snapshot_paths, (".sql",)):
            for match in _SNAPSHOT_BLOCK.finditer(file.text):
                name, body = match.group(1), match.group(2)
                fqn = [self.package, *file.folder_parts, file.stem, name]
                node = self._new_node("snapshot", file, name, fqn, body)
                self._extract(node, file, text=body)
                self._add_node(node, file)
        for file, entry in props.yaml_snapshots:
            name = str(entry["name"])
            body = "select * from {{ " + str(entry["relation"]) + " }}"
            fqn = [self.package, *file.folder_parts, name]
            node = self._new_node(
                "snapshot", file, name, fqn, body, path=f"{file.resource_path}/{name}.sql"
            )
            node.checksum = file.checksum
            self._extract(node, file, text=body)
            self._add_node(node, file)

    # ---- extraction ----------------------------------------------------------------------

    def _extract(self, node: Node, file: SourceFile, text: str | None = None) -> None:
        text = file.text if text is None else text
        key = f"{node.unique_id}:{checksum_text(text)}"
        cached = self.inputs.cached_files.get(key)
        if cached is None:
            cached = self._extract_uncached(node, file.path, text)
        self.file_results[node.unique_id] = cached
        self.file_keys[node.unique_id] = key

    def extract_text(self, node: Node, path: str, text: str) -> FileResult:
        """What one node's text refs, sources, configures and calls (no cache)."""
        return self._extract_uncached(node, path, text)

    def _extract_uncached(self, node: Node, path: str, text: str) -> FileResult:
        if "{" not in text:
            return FileResult([], [], {}, [])
        found = fast_extract(text)
        if found is None:
            from kiln.jinja.environment import parse_ast
            from kiln.parse import static

            found = static.extract(parse_ast(text, path))
        calls = self.registry.macro_calls(found.macro_calls) if found is not None else []
        if found is not None and not any(
            self._macro_needs_render(n) or self.registry.lookup(n) is None for n in calls
        ):
            macro_ids = self.registry.depends_on(set(calls))
            if found.uses_is_incremental:
                macro_ids = ["macro.dbt.is_incremental", *macro_ids]
            return FileResult(found.refs, found.sources, found.configs, macro_ids)
        return self._render_for_parse(node, path, text)

    def _macro_needs_render(self, name: str) -> bool:
        """Whether a macro (or one it calls) calls ref/source/config, so rendering is needed."""
        cached = self._macro_closure_refs.get(name)
        if cached is not None:
            return cached
        self._macro_closure_refs[name] = False  # breaks recursion
        macro = self.registry.lookup(name)
        result = False
        if macro is not None:
            result = any(tok in macro.macro_sql for tok in _REF_LIKE) or any(
                self._macro_needs_render(called) for called in macro.calls if called != name
            )
        self._macro_closure_refs[name] = result
        return result

    def _render_for_parse(self, node: Node, path: str, text: str) -> FileResult:
        from kiln.jinja.environment import parse_ast, render_string
        from kiln.parse import static

        recorder = Recorder()
        called: list[str] = []
        ctx = self.factory.context(
            self._parse_node_values(node, recorder), self.package, recorder, execute=False
        )
        try:
            render_string(text, ctx, path)
        except KilnError as exc:
            # a failure while parsing stops the invocation (exit 2), as in dbt
            raise ParseError(
                exc.message, hint=exc.hint, location=exc.location or Location(path)
            ) from None
        tree = parse_ast(text, path)
        found = static.extract(tree)
        if found is None:
            called = self._called_names(tree)
        else:
            called = found.macro_calls
        return FileResult(
            recorder.refs,
            recorder.sources,
            recorder.configs,
            self.registry.depends_on(set(called)),
            dict(recorder.vars_used),
            dict(recorder.env_vars_used),
            rendered=True,
        )

    @staticmethod
    def _called_names(tree: Any) -> list[str]:
        import jinja2.nodes

        from kiln.jinja.macros import called_name
        from kiln.parse import static

        names = []
        for call in tree.find_all(jinja2.nodes.Call):
            name = called_name(call)
            if name is not None and name.split(".", 1)[0] not in static.CONTEXT_NAMES:
                names.append(name)
        return names

    def _parse_node_values(self, node: Node, recorder: Recorder) -> dict[str, Any]:
        target = self.factory.target

        def ref(*args: Any, **kwargs: Any) -> Any:
            call = parse_ref_args(args, kwargs)
            recorder.refs.append(call)
            return self._placeholder(call.name)

        def source(source_name: str, table_name: str) -> Any:
            recorder.sources.append((str(source_name), str(table_name)))
            return self._placeholder(str(table_name))

        from kiln.jinja.context import ConfigObject

        this = self._placeholder(node.name)
        return {
            "ref": ref,
            "source": source,
            "config": ConfigObject({}, recorder),
            "this": this,
            "is_incremental": lambda: False,
            "model": {"name": node.name, "unique_id": node.unique_id},
            "database": target.database,
            "schema": target.schema,
        }

    def _placeholder(self, identifier: str) -> Any:
        from kiln.adapters.relation import Relation

        t = self.factory.target
        return Relation(
            t.database,
            t.schema,
            identifier,
            quote_char=self.inputs.quote_char,
            include_database=self.inputs.include_database,
        )

    # ---- configs ---------------------------------------------------------------------------

    def node_config(
        self, node: Node, tree_key: str, yml_config: dict[str, Any], file_config: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(config, unrendered_config) of a node from project tree, yml and config() call."""
        config = defaults_for(node.resource_type)
        unrendered: dict[str, Any] = {}
        tree = self.project.config_trees.get(tree_key) or {}
        path = node.fqn if node.resource_type != "analysis" else [node.fqn[0], *node.fqn[2:]]
        # unrendered_config keeps each key as last written (dbt does not accumulate it)
        for level in tree_configs(tree, path):
            merge_config(config, self._render_values(level))
            unrendered.update(level)
        for layer in (yml_config, file_config):
            merge_config(config, layer)
            unrendered.update(layer)
        return config, unrendered

    def _render_values(self, level: dict[str, Any]) -> dict[str, Any]:
        """Render Jinja in project-tree config values (hooks stay raw until run time)."""
        if not any(isinstance(v, str) and "{{" in v for v in level.values()):
            return level
        from kiln.jinja.environment import render_string

        ctx = self.factory.context({}, self.package, None, execute=False)
        out = {}
        for key, value in level.items():
            if isinstance(value, str) and "{{" in value and "hook" not in key:
                out[key] = render_string(value, ctx, "dbt_project.yml")  # type: ignore[arg-type]
            else:
                out[key] = value
        return out
