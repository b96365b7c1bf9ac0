"""Lookup tables over a manifest, built lazily for the methods that need them.

Each table is a `cached_property`: `tag:` builds the tag table once, `path:` the path
table, and so on, so that a 10,000-node manifest answers most criteria with dictionary
lookups instead of a scan. Records Kiln does not model yet (metrics, semantic models,
saved queries, unit tests) are read from the manifest when it grows those collections.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
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


@dataclass(frozen=True, slots=True)
class FqnEntry:
    """A node's fqn, pre-split for matching."""

    fqn: tuple[str, ...]
    flat: tuple[str, ...]
    versioned: bool


def _enabled(record: Record) -> bool:
    config = getattr(record, "config", None)
    enabled = config.get("enabled", True) if isinstance(config, dict) else True
    return enabled is not False


def _extras(manifest: Manifest) -> Iterator[tuple[str, dict[str, Any]]]:
    for resource_type, attribute in EXTRA_COLLECTIONS.items():
        collection = getattr(manifest, attribute, None)
        if isinstance(collection, dict):
            yield resource_type, collection


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    grouped: defaultdict[str, set[str]] = defaultdict(set)
    for key, uid in pairs:
        grouped[key].add(uid)
    return {key: frozenset(ids) for key, ids in grouped.items()}


def _tags(record: Record) -> list[Any]:
    tags = getattr(record, "tags", None) or []
    return list(tags) if isinstance(tags, list | tuple) else [tags]


class NodeIndex:
    """Lazily built lookup tables over one manifest's enabled, selectable records."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest

    @cached_property
    def members(self) -> dict[str, Record]:
        """Every enabled node, source, exposure (and future record) by unique id."""
        found: dict[str, Record] = {}
        for collection in (self.manifest.nodes, self.manifest.sources, self.manifest.exposures):
            found.update((uid, rec) for uid, rec in collection.items() if _enabled(rec))
        for _, collection in _extras(self.manifest):
            found.update((uid, rec) for uid, rec in collection.items() if _enabled(rec))
        return found

    @cached_property
    def member_ids(self) -> frozenset[str]:
        """The ids of `members`."""
        return frozenset(self.members)

    @cached_property
    def resource_types(self) -> dict[str, frozenset[str]]:
        """Unique ids by resource type."""
        return _group((str(rec.resource_type), uid) for uid, rec in self.members.items())

    def of_type(self, *resource_types: str) -> frozenset[str]:
        """The ids of every member of the given resource types."""
        return frozenset().union(*(self.resource_types.get(t, ()) for t in resource_types))

    @cached_property
    def test_parents(self) -> dict[str, frozenset[str]]:
        """For every test and unit test, the nodes it depends on (indirect selection)."""
        found: dict[str, frozenset[str]] = {}
        for uid in self.of_type("test", "unit_test"):
            deps = getattr(self.members[uid], "depends_on_nodes", None) or ()
            found[uid] = frozenset(deps)
        return found

    @cached_property
    def fqns(self) -> dict[str, FqnEntry]:
        """The fqn of every member `fqn:` may select (all but sources)."""
        found: dict[str, FqnEntry] = {}
        for uid, rec in self.members.items():
            fqn = tuple(str(part) for part in getattr(rec, "fqn", ()) or ())
            if rec.resource_type == "source" or not fqn:
                continue
            versioned = rec.resource_type == "model" and getattr(rec, "version", None) is not None
            found[uid] = FqnEntry(fqn, flatten_fqn(fqn), versioned)
        return found

    @cached_property
    def fqn_keys(self) -> dict[str, frozenset[str]]:
        """Ids by each string a plain (wildcard-free) fqn selector can start with.

        A plain selector matches a node only through its name, its first fqn part or
        its second (the package left out); versioned models also by `name_vN`.
        """
        pairs: list[tuple[str, str]] = []
        for uid, entry in self.fqns.items():
            pairs.append((entry.fqn[-1], uid))
            pairs.extend((part, uid) for part in entry.flat[:2])
            if entry.versioned and len(entry.fqn) >= 2:
                pairs.append((entry.fqn[-2], uid))
                pairs.append(("_".join(entry.fqn[-2:]), uid))
        return _group(pairs)

    @cached_property
    def tags(self) -> dict[str, frozenset[str]]:
        """Ids by tag."""
        return _group((str(tag), uid) for uid, rec in self.members.items() for tag in _tags(rec))

    @cached_property
    def packages(self) -> dict[str, frozenset[str]]:
        """Ids by package name."""
        return _group((str(rec.package_name), uid) for uid, rec in self.members.items())

    @cached_property
    def paths(self) -> dict[tuple[str, ...], frozenset[str]]:
        """Ids by every path that `path:` can name for them, as segment tuples.

        A record is reachable through its file, every folder above the file, and the
        YAML file that patched it (a model described in `_marts.yml`).
        """
        pairs: list[tuple[tuple[str, ...], str]] = []
        for uid, rec in self.members.items():
            parts = PurePosixPath(str(rec.original_file_path)).parts
            pairs.extend((parts[:end], uid) for end in range(len(parts) + 1))
            patch = getattr(rec, "patch_path", None)
            if patch:
                pairs.append((PurePosixPath(patch.split("://", 1)[-1]).parts, uid))
        grouped: defaultdict[tuple[str, ...], set[str]] = defaultdict(set)
        for key, uid in pairs:
            grouped[key].add(uid)
        return {key: frozenset(ids) for key, ids in grouped.items()}

    @cached_property
    def file_names(self) -> dict[str, frozenset[str]]:
        """Ids by file name and by file name without its extension."""
        pairs: list[tuple[str, str]] = []
        for uid, rec in self.members.items():
            path = PurePosixPath(str(rec.original_file_path))
            pairs.extend(((path.name, uid), (path.stem, uid)))
        return _group(pairs)

    @cached_property
    def config_records(self) -> dict[str, Record]:
        """The members `config.<key>:` searches: nodes and sources, as dbt does."""
        nodes, sources = self.manifest.nodes, self.manifest.sources
        return {uid: rec for uid, rec in self.members.items() if uid in nodes or uid in sources}
