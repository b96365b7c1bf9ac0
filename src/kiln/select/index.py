"""Lookup tables over a manifest, built lazily for the methods that need them.

Each table is a `cached_property`: `tag:` builds the tag table once, `path:` the file
table, and so on, so that a 10,000-node manifest answers most criteria with dictionary
lookups instead of a scan, and a table nobody asks for is never built. Records Kiln does
not model yet (metrics, semantic models, saved queries, unit tests) are read from the
manifest when it grows those collections.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

from kiln.manifest.nodes import Exposure, Manifest, Node, SourceDefinition
from kiln.select.patterns import flatten_fqn

# resource type -> Manifest attribute, for record kinds a later manifest may carry
EXTRA_COLLECTIONS = {
    "metric": "metrics",
    "semantic_model": "semantic_models",
    "saved_query": "saved_queries",
    "unit_test": "unit_tests",
}

Record = Node | SourceDefinition | Exposure | Any
Table = dict[str, list[str]]


def _enabled(record: Record) -> bool:
    config = getattr(record, "config", None)
    return not isinstance(config, dict) or config.get("enabled", True) is not False


def _extras(manifest: Manifest) -> Iterator[dict[str, Any]]:
    for attribute in EXTRA_COLLECTIONS.values():
        collection = getattr(manifest, attribute, None)
        if isinstance(collection, dict):
            yield collection


def _add(table: Table, key: str, uid: str) -> None:
    found = table.get(key)
    if found is None:
        table[key] = [uid]
    else:
        found.append(uid)


def _tags(record: Record) -> list[Any]:
    tags = getattr(record, "tags", None) or []
    return list(tags) if isinstance(tags, list | tuple) else [tags]


def file_name_and_stem(path: str) -> tuple[str, str]:
    """The last path segment, and the same without its extension.

    Example:
        >>> file_name_and_stem("models/staging/stg_orders.sql")
        ('stg_orders.sql', 'stg_orders')
        >>> file_name_and_stem("seeds/.hidden")
        ('.hidden', '.hidden')
    """
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name, name[:dot] if dot > 0 else name


class NodeIndex:
    """Lazily built lookup tables over one manifest's enabled, selectable records."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest

    @cached_property
    def members(self) -> dict[str, Record]:
        """Every enabled node, source, exposure (and future record) by unique id."""
        found: dict[str, Record] = {}
        collections: list[dict[str, Any]] = [
            self.manifest.nodes, self.manifest.sources, self.manifest.exposures,
        ]  # fmt: skip
        for collection in [*collections, *_extras(self.manifest)]:
            for uid, record in collection.items():
                if _enabled(record):
                    found[uid] = record
        return found

    @cached_property
    def member_ids(self) -> frozenset[str]:
        """The ids of `members`."""
        return frozenset(self.members)

    @cached_property
    def resource_types(self) -> dict[str, frozenset[str]]:
        """Unique ids by resource type."""
        table: Table = {}
        for uid, record in self.members.items():
            _add(table, record.resource_type, uid)
        return {key: frozenset(ids) for key, ids in table.items()}

    def of_type(self, *resource_types: str) -> frozenset[str]:
        """The ids of every member of the given resource types."""
        if len(resource_types) == 1:
            return self.resource_types.get(resource_types[0], frozenset())
        return frozenset().union(*(self.resource_types.get(t, ()) for t in resource_types))

    def records(self, *resource_types: str) -> dict[str, Record]:
        """The members of the given resource types, by id."""
        members = self.members
        return {uid: members[uid] for uid in self.of_type(*resource_types)}

    @cached_property
    def test_ids(self) -> frozenset[str]:
        """Tests and unit tests: what indirect selection may add."""
        return self.of_type("test", "unit_test")

    def test_parents(self, uid: str) -> frozenset[str]:
        """The nodes test `uid` depends on."""
        cache = self._parents
        found = cache.get(uid)
        if found is None:
            found = cache[uid] = frozenset(getattr(self.members[uid], "depends_on_nodes", ()))
        return found

    @cached_property
    def _parents(self) -> dict[str, frozenset[str]]:
        return {}

    @cached_property
    def fqn_ids(self) -> frozenset[str]:
        """Every member `fqn:` may select: all but sources."""
        return self.member_ids - self.of_type("source")

    @cached_property
    def fqns(self) -> dict[str, Sequence[str]]:
        """The fqn of every member in `fqn_ids` (the records' own lists, not copies)."""
        members = self.members
        return {uid: members[uid].fqn or ("",) for uid in self.fqn_ids}

    @cached_property
    def flat_fqns(self) -> dict[str, tuple[str, ...]]:
        """The flattened fqn of the few members with a dotted fqn part; others are flat."""
        return {uid: flatten_fqn(fqn) for uid, fqn in self.fqns.items() if "." in "".join(fqn)}

    def flat_fqn(self, uid: str) -> Sequence[str]:
        """The fqn of `uid` with dotted parts split, as dbt compares prefixes."""
        return self.flat_fqns.get(uid) or self.fqns[uid]

    @cached_property
    def versioned(self) -> frozenset[str]:
        """Versioned models, whose fqn ends in (name, "vN")."""
        models = self.records("model").items()
        return frozenset(uid for uid, rec in models if getattr(rec, "version", None) is not None)

    @cached_property
    def fqn_keys(self) -> Table:
        """Ids by each string a plain (wildcard-free) fqn selector can start with.

        A plain selector matches a node only through its name, its first fqn part or
        its second (the package left out); versioned models also by `name` and `name_vN`.
        """
        table: Table = {}
        flat_fqns = self.flat_fqns
        for uid, fqn in self.fqns.items():
            flat = flat_fqns.get(uid, fqn)
            # inlined `_add`: this loop runs once per node of the project
            for key in (fqn[-1], flat[0], flat[1] if len(flat) > 1 else flat[0]):
                found = table.get(key)
                if found is None:
                    table[key] = [uid]
                elif found[-1] != uid:
                    found.append(uid)
        for uid in self.versioned:
            fqn = self.fqns[uid]
            _add(table, fqn[-2], uid)
            _add(table, "_".join(fqn[-2:]), uid)
        return table

    @cached_property
    def tags(self) -> Table:
        """Ids by tag."""
        table: Table = {}
        for uid, record in self.members.items():
            for tag in _tags(record):
                _add(table, str(tag), uid)
        return table

    @cached_property
    def packages(self) -> Table:
        """Ids by package name."""
        table: Table = {}
        for uid, record in self.members.items():
            _add(table, record.package_name, uid)
        return table

    @cached_property
    def files(self) -> Table:
        """Ids by the file that defines them (`original_file_path`)."""
        table: Table = {}
        for uid, record in self.members.items():
            _add(table, str(record.original_file_path).removeprefix("./"), uid)
        return table

    @cached_property
    def patches(self) -> Table:
        """Ids by the YAML file that patched them (a model described in `_marts.yml`)."""
        table: Table = {}
        for uid, record in self.members.items():
            patch = getattr(record, "patch_path", None)
            if patch:
                _add(table, patch.split("://", 1)[-1], uid)
        return table

    @cached_property
    def file_names(self) -> Table:
        """Ids by file name and by file name without its extension."""
        table: Table = {}
        for path, ids in self.files.items():
            name, stem = file_name_and_stem(path)
            table.setdefault(name, []).extend(ids)
            if stem != name:
                table.setdefault(stem, []).extend(ids)
        return table

    @cached_property
    def config_records(self) -> dict[str, Record]:
        """The members `config.<key>:` searches: nodes and sources, as dbt does."""
        nodes, sources = self.manifest.nodes, self.manifest.sources
        return {uid: rec for uid, rec in self.members.items() if uid in nodes or uid in sources}
