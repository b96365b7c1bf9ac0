"""The second half of parsing: patches, configs, generic tests, sources, refs, relations."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from kiln.adapters.relation import Relation
from kiln.errors import Location, ParseError, did_you_mean
from kiln.jinja.environment import render_string
from kiln.jinja.macros import BUILTIN_PACKAGE
from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Exposure, Node, RefCall, SourceDefinition, TestMetadata
from kiln.parse.generic_tests import GenericTest, GenericTestTarget, build_generic_test
from kiln.parse.properties import Properties, TestEntries, column_infos

if TYPE_CHECKING:
    from kiln.jinja.macros import MacroDef
    from kiln.parse.parser import ProjectParser

_TREE_KEY = {
    "model": "models",
    "seed": "seeds",
    "snapshot": "snapshots",
    "test": "tests",
    "analysis": "analyses",
}
_PATCH_KEY = {"model": "models", "seed": "seeds", "snapshot": "snapshots", "analysis": "analyses"}


class Resolver:
    """Completes the nodes a `ProjectParser` found."""

    def __init__(self, parser: ProjectParser, props: Properties) -> None:
        self.p = parser
        self.props = props
        self.manifest = parser.manifest
        self.package = parser.package
        self.target = parser.factory.target
        self._doc_context: Any = None  # one render context for every description

    def run(self) -> None:
        self._apply_patches_and_configs()
        self._build_sources()
        self._build_generic_tests()
        self._build_exposures()
        self._move_disabled()
        self._check_snapshot_configs()
        self._resolve_dependencies()
        self._build_unit_tests()
        self._assign_relations()
        self.p.finish_macro_dependencies()
        self._check_cycles()

    # ---- patches and configs -----------------------------------------------------------------

    def _apply_patches_and_configs(self) -> None:
        for node in self.manifest.nodes.values():
            patch_key = _PATCH_KEY.get(node.resource_type)
            patch = self.props.patches.get((patch_key, node.name)) if patch_key else None
            entry: dict[str, Any] = patch.data if patch else {}
            result = self.p.file_results.get(node.unique_id)
            file_config = dict(result.configs) if result else {}
            yml_config = dict(entry.get("config") or {})
            for key in ("tags", "meta", "docs", "access", "group"):
                if key in entry and key not in yml_config:
                    yml_config[key] = entry[key]
            if node.resource_type == "snapshot" and patch is None:
                yml_config = self._yaml_snapshot_config(node)
            config, unrendered = self.p.node_config(
                node, _TREE_KEY[node.resource_type], yml_config, file_config
            )
            node.config, node.unrendered_config = config, unrendered
            if patch is not None:
                node.patch_path = f"{self.package}://{patch.file.path}"
                node.description = self._render_doc(
                    str(entry.get("description") or ""), patch.file.path
                )
                node.columns = self._columns(entry, patch.file.path)
            node.meta = dict(config.get("meta") or {})
            node.docs = {"show": True, "node_color": None, **(config.get("docs") or {})}
            node.group = config.get("group")
            node.access = (
                config.get("access", "protected") if node.resource_type == "model" else None
            )
            if result is not None:
                node.depends_on_macros = list(result.macro_ids)
                node.vars_used, node.env_vars_used = result.vars_used, result.env_vars_used

    def _yaml_snapshot_config(self, node: Node) -> dict[str, Any]:
        for file, entry in self.props.yaml_snapshots:
            if entry.get("name") == node.name:
                node.patch_path = f"{self.package}://{file.path}"
                node.description = str(entry.get("description") or "")
                node.columns = column_infos(entry)
                return dict(entry.get("config") or {})
        return {}

    def _columns(self, entry: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
        columns = column_infos(entry)
        for info in columns.values():
            info["description"] = self._render_doc(info["description"], path)
        return columns

    def _render_doc(self, text: str, path: str) -> str:
        if "{{" not in text:
            return text
        if self._doc_context is None:
            self._doc_context = self.p.factory.context(
                {"doc": self._doc}, self.package, None, execute=False
            )
        try:
            return render_string(text, self._doc_context, path)
        except ParseError as exc:
            exc.location = Location(path)
            raise

    def _doc(self, *args: str) -> str:
        """`doc('name')` / `doc('package', 'name')` in descriptions."""
        name = args[-1]
        package = args[0] if len(args) == 2 else self.package
        found = self.manifest.docs.get(f"doc.{package}.{name}")
        if found is None:
            raise ParseError(
                f"documentation for '{name}' not found",
                hint="define it in a {% docs %} block in a .md file",
            )
        return found.block_contents

    # ---- sources and exposures ---------------------------------------------------------------

    def _build_sources(self) -> None:
        tree = self.p.project.config_trees.get("sources") or {}
        from kiln.config.node_config import merge_config, tree_configs

        for file, raw_source, raw_table in self.props.sources:
            source = self._rendered(raw_source, file.path)
            table = self._rendered(raw_table, file.path)
            sname, tname = str(source["name"]), str(table["name"])
            uid = f"source.{self.package}.{sname}.{tname}"
            fqn = [self.package, *file.folder_parts, sname, tname]
            config: dict[str, Any] = {"enabled": True}
            for level in tree_configs(tree, fqn):
                merge_config(config, level)
            merge_config(config, source.get("config") or {})
            merge_config(config, table.get("config") or {})
            quoting = {**(source.get("quoting") or {}), **(table.get("quoting") or {})}
            freshness = merge_freshness(source, table)
            node = SourceDefinition(
                unique_id=uid,
                package_name=self.package,
                source_name=sname,
                name=tname,
                path=file.path,
                original_file_path=file.path,
                fqn=fqn,
                identifier=str(table.get("identifier") or tname),
                schema=str(table.get("schema") or source.get("schema") or sname),
                database=table.get("database") or source.get("database") or self.target.database,
                description=self._render_doc(str(table.get("description") or ""), file.path),
                source_description=str(source.get("description") or ""),
                loader=str(source.get("loader") or ""),
                loaded_at_field=_inherited(source, table, "loaded_at_field"),
                loaded_at_query=_inherited(source, table, "loaded_at_query"),
                freshness=freshness,
                quoting=quoting,
                columns=self._columns(table, file.path),
                meta=dict(table.get("meta") or {}),
                source_meta=dict(source.get("meta") or {}),
                tags=sorted(set(source.get("tags") or []) | set(table.get("tags") or [])),
                config=config,
                unrendered_config={},
                created_at=self.p.now,
            )
            if not config.get("enabled", True):
                self.manifest.disabled.setdefault(uid, []).append(node)
                continue
            if uid in self.manifest.sources:
                raise ParseError(
                    f"source '{sname}.{tname}' is defined twice", location=Location(file.path)
                )
            self.manifest.sources[uid] = node

    def _rendered(self, entry: dict[str, Any], path: str) -> dict[str, Any]:
        """Properties with Jinja in their values rendered (`schema: "{{ var('x') }}"`).

        Descriptions (rendered later with `doc()`), tests and nested tables are left alone.
        """
        skip = ("description", "tables", "columns", "data_tests", "tests")
        if not any(isinstance(v, str) and "{{" in v for k, v in entry.items() if k not in skip):
            return entry
        ctx = self.p.factory.context({}, self.package, None, execute=False)
        out = dict(entry)
        for key, value in entry.items():
            if key not in skip and isinstance(value, str) and "{{" in value:
                out[key] = render_string(value, ctx, path).strip()
        return out

    def _build_exposures(self) -> None:
        for file, entry in self.props.exposures:
            name = str(entry["name"])
            uid = f"exposure.{self.package}.{name}"
            refs: list[RefCall] = []
            sources: list[tuple[str, str]] = []
            for dep in entry.get("depends_on") or []:
                self._record_dep_string(str(dep), refs, sources, file.path)
            self.manifest.exposures[uid] = Exposure(
                unique_id=uid,
                name=name,
                package_name=self.package,
                path=file.resource_path,
                original_file_path=file.path,
                fqn=[self.package, *file.folder_parts, name],
                type=str(entry.get("type") or ""),
                owner=dict(entry.get("owner") or {}),
                description=str(entry.get("description") or ""),
                label=entry.get("label"),
                maturity=entry.get("maturity"),
                url=entry.get("url"),
                meta=dict(entry.get("meta") or {}),
                tags=list(entry.get("tags") or []),
                config={"enabled": True, **(entry.get("config") or {})},
                refs=refs,
                sources=sources,
                created_at=self.p.now,
            )

    def _record_dep_string(
        self, text: str, refs: list[RefCall], sources: list[tuple[str, str]], path: str
    ) -> None:
        from kiln.jinja.context import parse_ref_args

        def ref(*args: Any, **kwargs: Any) -> str:
            refs.append(parse_ref_args(args, kwargs))
            return ""

        def source(a: str, b: str) -> str:
            sources.append((a, b))
            return ""

        render_string("{{ " + text + " }}", {"ref": ref, "source": source}, path)

    # ---- generic tests -----------------------------------------------------------------------

    def _build_generic_tests(self) -> None:
        for entries in self.props.tests:
            for index, (column, key, entry, col_tags) in enumerate(entries.entries):
                self._build_one_test(entries, column, key, entry, col_tags, index)

    def _generic_test(
        self,
        entries: TestEntries,
        column: str | None,
        key: str,
        entry: Any,
        col_tags: list[str],
        index: int,
    ) -> GenericTest:
        """Build a test's data, reusing the cached one while its YAML file is unchanged."""
        file = entries.file
        cache_key = (
            f"{file.path}:{file.checksum}:{entries.resource_key}:{entries.source_name}:"
            f"{entries.name}:{index}"
        )
        cached = self.p.inputs.cached_tests.get(cache_key)
        if cached is None:
            target = GenericTestTarget(
                entries.resource_key, entries.name, entries.source_name, entries.version
            )
            cached = build_generic_test(
                entry,
                key=key,
                target=target,
                column_name=column,
                package_name=self.package,
                fqn_path=file.folder_parts,
                column_tags=col_tags,
                location=Location(file.path),
            )
        self.p.test_results[cache_key] = cached
        return cached  # type: ignore[no-any-return]

    def _build_one_test(
        self,
        entries: TestEntries,
        column: str | None,
        key: str,
        entry: Any,
        col_tags: list[str],
        index: int,
    ) -> None:
        file = entries.file
        test = self._generic_test(entries, column, key, entry, col_tags, index)
        node = Node(
            unique_id=test.unique_id,
            resource_type="test",
            package_name=self.package,
            name=test.name,
            path=test.path,
            original_file_path=file.path,
            fqn=list(test.fqn),
            raw_code=test.raw_code,
            checksum="",
            description=test.description,
            refs=list(test.refs),
            sources=list(test.sources),
            test_metadata=test.test_metadata,
            column_name=test.column_name,
            file_key_name=test.file_key_name,
            created_at=self.p.now,
        )
        config, unrendered = self.p.node_config(node, "tests", dict(test.config), {})
        if test.tags:
            config["tags"] = sorted(set(config.get("tags") or []) | set(test.tags))
        if test.alias != test.name:
            config.setdefault("alias", test.alias)
        node.config, node.unrendered_config = config, unrendered
        node.config["severity"] = str(node.config.get("severity", "ERROR")).upper()
        macro = self.p.registry.lookup(test.macro_name, test.test_metadata.namespace)
        if macro is None:
            raise ParseError(
                f"test '{test.test_metadata.name}' on '{entries.name}' calls a test that does "
                f"not exist (no macro '{test.macro_name}')",
                hint="define it with {% test ... %} in tests/generic/ or macros/, "
                "or install the package that provides it",
                location=Location(file.path),
            )
        self._check_test_arguments(test.test_metadata, macro, entries, column, file.path)
        node.depends_on_macros = [macro.unique_id]
        if "get_where_subquery" in macro.macro_sql or macro.package != BUILTIN_PACKAGE:
            node.depends_on_macros.append("macro.dbt.get_where_subquery")
        node.attached_node = None
        if test.unique_id in self.manifest.nodes:
            return  # dbt keeps the first of two identical test definitions
        self.manifest.nodes[test.unique_id] = node

    def _check_snapshot_configs(self) -> None:
        """A snapshot without a usable strategy or unique_key fails the parse, as in dbt."""
        from kiln.errors import CompilationError
        from kiln.materialize.snapshot import SnapshotSpec

        for node in self.manifest.nodes.values():
            if node.resource_type != "snapshot":
                continue
            try:
                SnapshotSpec.from_config(node.config, node.name)
            except CompilationError as exc:
                raise ParseError(
                    exc.message, hint=exc.hint, location=Location(node.original_file_path)
                ) from exc

    # ---- unit tests -------------------------------------------------------------------------

    def _build_unit_tests(self) -> None:
        from kiln.parse.unit_tests import UnitTestBuilder

        project = self.p.project
        UnitTestBuilder(
            self.manifest,
            self.package,
            project.root,
            project.test_paths,
            project.config_trees.get("unit_tests") or {},
            self.p.now,
        ).add_all(self.props.unit_tests)

    def _check_test_arguments(
        self,
        metadata: TestMetadata,
        macro: MacroDef,
        entries: TestEntries,
        column: str | None,
        path: str,
    ) -> None:
        """A generic test must get every argument its macro has no default for."""
        missing = [a for a in _required_arguments(macro) if a not in metadata.kwargs]
        if not missing:
            return
        kind = entries.resource_key.removesuffix("s")
        owner = f"column '{column}' of {kind}" if column else kind
        names = ", ".join(f"'{a}'" for a in missing)
        raise ParseError(
            f"test '{metadata.name}' on {owner} '{entries.name}' is missing its argument "
            f"{names} (it is defined as {macro.name}({', '.join(macro.arguments)}))",
            hint=f"pass it under `arguments:`, e.g. `arguments: {{{missing[0]}: ...}}`",
            location=Location(path),
        )

    # ---- disabled nodes -------------------------------------------------------------------

    def _move_disabled(self) -> None:
        for uid in [u for u, n in self.manifest.nodes.items() if not n.config.get("enabled", True)]:
            node = self.manifest.nodes.pop(uid)
            self.manifest.disabled.setdefault(uid, []).append(node)

    # ---- refs and sources -------------------------------------------------------------------

    def _resolve_dependencies(self) -> None:
        by_name: dict[tuple[str, str], list[Node]] = {}
        for node in self.manifest.nodes.values():
            if node.resource_type in ("model", "seed", "snapshot"):
                by_name.setdefault((node.package_name, node.name), []).append(node)
        sources = {(s.source_name, s.name): s.unique_id for s in self.manifest.sources.values()}
        for node in self.manifest.nodes.values():
            result = self.p.file_results.get(node.unique_id)
            if result is not None and node.test_metadata is None:
                node.refs, node.sources = list(result.refs), list(result.sources)
            deps = [self._source_id(node, s, sources) for s in node.sources]
            deps += [self._ref_id(node, ref, by_name) for ref in node.refs]
            node.depends_on_nodes = list(dict.fromkeys(deps))
            if node.resource_type == "test" and node.test_metadata is not None:
                node.attached_node = self._attached(node)
        for exposure in self.manifest.exposures.values():
            deps = [self._source_id(exposure, s, sources) for s in exposure.sources]
            deps += [self._ref_id(exposure, r, by_name) for r in exposure.refs]
            exposure.depends_on_nodes = list(dict.fromkeys(deps))

    def _attached(self, node: Node) -> str | None:
        kwargs_model = str(
            (node.test_metadata.kwargs if node.test_metadata else {}).get("model", "")
        )
        for dep in node.depends_on_nodes:
            dep_node = self.manifest.nodes.get(dep)
            if dep_node is not None and f"'{dep_node.name}'" in kwargs_model:
                return dep
        return None

    def _source_id(
        self, node: Node | Exposure, src: tuple[str, str], sources: dict[tuple[str, str], str]
    ) -> str:
        found = sources.get(src)
        if found is None:
            known = [f"{a}.{b}" for a, b in sources]
            raise ParseError(
                f"{node.resource_type} '{node.name}' depends on a source named "
                f"'{src[0]}.{src[1]}' which was not found",
                hint=did_you_mean(f"{src[0]}.{src[1]}", known)
                if known
                else "declare it under sources:",
                location=Location(node.original_file_path),
            )
        return found

    def _ref_id(
        self, node: Node | Exposure, ref: RefCall, by_name: dict[tuple[str, str], list[Node]]
    ) -> str:
        package = ref.package or self.package
        candidates = by_name.get((package, ref.name)) or (
            by_name.get((self.package, ref.name)) if ref.package is None else None
        )
        if candidates:
            return candidates[0].unique_id
        disabled = [u for u in self.manifest.disabled if u.split(".")[-1] == ref.name]
        if disabled:
            hint = f"'{ref.name}' is disabled: enable it or remove the ref"
        else:
            hint = did_you_mean(ref.name, [n for _, n in by_name])
        raise ParseError(
            f"{node.resource_type} '{node.name}' depends on a node named '{ref.name}' "
            "which was not found",
            hint=hint,
            location=Location(node.original_file_path),
        )

    # ---- relation names ----------------------------------------------------------------------

    def _assign_relations(self) -> None:
        from kiln.parse.naming import Namer

        namer = Namer(self.p)
        for node in self.manifest.nodes.values():
            namer.assign(node)
        for src in self.manifest.sources.values():
            rel = Relation(
                src.database,
                src.schema,
                src.identifier,
                quote_char=self.p.inputs.quote_char,
                include_database=self.p.inputs.include_database,
            )
            src.relation_name = rel.render()

    def _check_cycles(self) -> None:
        cycle = Graph.from_manifest(self.manifest).find_cycle()
        if cycle:
            first = self.manifest.get(cycle[0])
            path = first.original_file_path if first is not None else None
            raise ParseError(
                "found a cycle: " + " --> ".join(cycle),
                hint="remove one of the refs so the models form a DAG",
                location=Location(path) if path else None,
            )


@functools.cache
def _required_arguments_of(source: str, path: str, name: str) -> tuple[str, ...]:
    from jinja2 import nodes

    from kiln.jinja.environment import parse_ast

    for found in parse_ast(source, path).find_all(nodes.Macro):
        if found.name == name:
            without_default = found.args[: len(found.args) - len(found.defaults)]
            return tuple(arg.name for arg in without_default if arg.name != "model")
    return ()


def _required_arguments(macro: MacroDef) -> tuple[str, ...]:
    """The test macro's arguments without a default (besides `model`, always passed)."""
    return _required_arguments_of(macro.file_source, macro.path, macro.name)


_UNSET = object()


def _own(entry: dict[str, Any], key: str) -> Any:
    """A source or table property, written at the top level or under `config:`."""
    if key in entry:
        return entry[key]
    return (entry.get("config") or {}).get(key, _UNSET)


def _inherited(source: dict[str, Any], table: dict[str, Any], key: str) -> Any:
    """The table's value, else the source's (None when neither sets it)."""
    for entry in (table, source):
        value = _own(entry, key)
        if value is not _UNSET:
            return value
    return None


def merge_freshness(source: dict[str, Any], table: dict[str, Any]) -> dict[str, Any] | None:
    """A table's freshness: the source's, overridden key by key by the table's.

    `warn_after`/`error_after` merge one level deeper; `freshness: null` on the table
    turns the check off, as in dbt.

    Example:
        >>> merge_freshness({"freshness": {"warn_after": {"count": 1, "period": "day"},
        ...                                "filter": "x"}},
        ...                 {"freshness": {"warn_after": {"count": 2}}})
        {'warn_after': {'count': 2, 'period': 'day'}, 'filter': 'x'}
    """
    base, update = _own(source, "freshness"), _own(table, "freshness")
    if update is None:
        return None
    if base is _UNSET or base is None:
        return None if update is _UNSET else dict(update)
    if update is _UNSET:
        return dict(base)
    merged = {**base, **update}
    for key in ("warn_after", "error_after"):
        if isinstance(base.get(key), dict) and isinstance(update.get(key), dict):
            merged[key] = {**base[key], **update[key]}
    return merged
