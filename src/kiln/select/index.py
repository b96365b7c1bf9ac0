"""Lookup tables over a manifest, built lazily for the methods that need them.

Each table is a `cached_property` built in one pass over the records it covers: `tag:`
builds the tag table once, `path:` the file tables, and so on, so that a 10,000-node
manifest answers most criteria with dictionary lookups instead of a scan, and a table
nobody asks for is never built. One CLI invocation builds its tables afresh, so a
table must cost little more than the scan it replaces: the passes are plain loops
over dicts, with no per-record function calls or copies, and whatever a query can
decide per group (a folder, a distinct file path, a distinct config value) is decided
once per group rather than once per node. The passes are memory-bound (every record
is a few scattered objects), so the fewer of them a selection needs, the better: the
method tables cover every record, enabled or not, and only what a selection picks is
checked for being enabled (see `NodeIndex`).

Records Kiln does not model yet (metrics, semantic models, saved queries, unit tests)
are read from the manifest when it grows those collections.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
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


# resource types kept in a collection of their own -> its Manifest attribute
_OWN_COLLECTIONS = {"source": "sources", "exposure": "exposures", **EXTRA_COLLECTIONS}
_TEST_TYPES = ("test", "unit_test")


def _enabled(record: Record) -> bool:
    config = getattr(record, "config", None)
    return not isinstance(config, dict) or config.get("enabled", True) is not False


def _disabled(collection: dict[str, Any]) -> list[str]:
    """The ids of records whose config says `enabled: false`."""
    return [
        uid
        for uid, record in collection.items()
        if isinstance(config := getattr(record, "config", None), dict)
        and config.get("enabled", True) is False
    ]


def _extras(manifest: Manifest) -> Iterator[dict[str, Any]]:
    for attribute in EXTRA_COLLECTIONS.values():
        collection = getattr(manifest, attribute, None)
        if isinstance(collection, dict):
            yield collection


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


@dataclass(frozen=True, slots=True)
class FqnFolder:
    """The regular members of one fqn folder: their ids and, in the same order, leaves."""

    ids: list[str]
    leaves: list[str]

    def joined(self, ids: list[str], leaves: list[str]) -> FqnFolder:
        """This folder with more members."""
        return FqnFolder(self.ids + ids, self.leaves + leaves)

    def with_leaf(self, leaf: str) -> list[str]:
        """The ids in this folder whose fqn ends in `leaf`."""
        return [uid for uid, name in zip(self.ids, self.leaves, strict=True) if name == leaf]


@dataclass(frozen=True, slots=True)
class FqnTable:
    """What `fqn:` needs, grouped so that most of a query is decided per folder.

    A *regular* member has an fqn of two or more parts, a leaf without dots, and no
    version; its flattened fqn is its folder key plus its leaf. Everything else is
    *irregular* and matched one by one (there are few: versioned models, dotted
    names, a one-part fqn).

    Attributes:
        folders: the regular members by their flattened fqn without the leaf, e.g.
            `("shop", "staging")`.
        leaves: the first regular id with each leaf (the node's name).
        more_leaves: the other regular ids, for a leaf that several members share.
        irregular: the fqn of every irregular member, by id.
        versioned: the irregular ids that are versioned models.
    """

    folders: dict[tuple[str, ...], FqnFolder]
    leaves: dict[str, str]
    more_leaves: Table
    irregular: dict[str, Sequence[str]]
    versioned: frozenset[str]

    def with_leaf(self, leaf: str) -> list[str]:
        """The regular ids whose fqn ends in `leaf`."""
        first = self.leaves.get(leaf)
        return [] if first is None else [first, *self.more_leaves.get(leaf, ())]


@dataclass(frozen=True, slots=True)
class ConfigValues:
    """One config key's values over the nodes and sources, for `config.<key>:`.

    A list value counts as each of its items; values that are neither text, a number
    nor a boolean (mappings, None, a missing key) match nothing and are left out.

    Attributes:
        text: ids by text value.
        scalars: ids by `(type, value)` for booleans and numbers (the type keeps
            `True` and `1` apart).
    """

    text: Table
    scalars: dict[tuple[type, Hashable], list[str]]


_MISSING = object()


def config_value(config: Any, keys: Sequence[str]) -> Any:
    """The value at `keys` in a (nested) config, or a marker object when it is missing.

    Example:
        >>> config_value({"meta": {"owner": "ann"}}, ("meta", "owner"))
        'ann'
    """
    for key in keys:
        if isinstance(config, dict):
            config = config.get(key, _MISSING)
        else:
            config = getattr(config, key, _MISSING)
        if config is _MISSING:
            break
    return config


class NodeIndex:
    """Lazily built lookup tables over one manifest's selectable records.

    The tables cover every record, enabled or not: a method's matches become part of a
    selection through `members_of`, which keeps the enabled ones. That check, like the
    resource-type and test checks, looks ids up one by one while they are few, and uses
    a table over the whole project once they are many (or the table exists): a pass
    over the records in storage order costs about a third of what looking the same
    records up by id does, so a small selection never pays for a whole-project table.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._parents: dict[str, frozenset[str]] = {}
        self._config: dict[tuple[str, ...], ConfigValues] = {}

    def _collections(self) -> list[dict[str, Any]]:
        manifest = self.manifest
        return [manifest.nodes, manifest.sources, manifest.exposures, *_extras(manifest)]

    def _items(self, *, sources: bool = True) -> Iterator[tuple[str, Record]]:
        """Every record, enabled or not, by id (in storage order)."""
        skip = None if sources else self.manifest.sources
        collections = [c for c in self._collections() if c is not skip]
        return chain.from_iterable(collection.items() for collection in collections)

    @cached_property
    def _others(self) -> dict[str, Record]:
        """The records kept outside `manifest.nodes` (sources, exposures, ...), by id."""
        found: dict[str, Record] = {}
        for collection in self._collections()[1:]:
            found.update(collection)
        return found

    @cached_property
    def size(self) -> int:
        """How many records the manifest holds, enabled or not."""
        return sum(len(collection) for collection in self._collections())

    def record(self, uid: str) -> Record | None:
        """The record with this id, enabled or not."""
        return self.manifest.nodes.get(uid) or self._others.get(uid)

    def _few(self, ids: Collection[str], table: str) -> bool:
        """Whether to look `ids` up one by one rather than use the whole-project `table`.

        Measured on a 20,000-record project: a lookup by id costs about three times
        what one record of a table pass does.
        """
        return table not in self.__dict__ and len(ids) * 3 < self.size

    @cached_property
    def members(self) -> dict[str, Record]:
        """Every enabled node, source, exposure (and future record) by unique id."""
        found: dict[str, Record] = {}
        for collection in self._collections():
            disabled = _disabled(collection)
            if not disabled:
                found.update(collection)
                continue
            skip = set(disabled)
            found.update((uid, rec) for uid, rec in collection.items() if uid not in skip)
        return found

    @cached_property
    def member_ids(self) -> frozenset[str]:
        """The ids of `members`."""
        return frozenset(self.members)

    def members_of(self, ids: set[str]) -> set[str]:
        """The ids that name an enabled record."""
        if not self._few(ids, "member_ids"):
            return ids & self.member_ids
        nodes, others = self.manifest.nodes, self._others
        return {  # `_enabled` inlined: this runs once per id
            uid
            for uid in ids
            if (rec := nodes.get(uid) or others.get(uid)) is not None
            and (
                not isinstance(config := getattr(rec, "config", None), dict)
                or config.get("enabled", True) is not False
            )
        }

    @cached_property
    def resource_types(self) -> dict[str, frozenset[str]]:
        """Unique ids by resource type."""
        table: defaultdict[str, list[str]] = defaultdict(list)
        for uid, rec in self.members.items():
            table[rec.resource_type].append(uid)
        return {key: frozenset(ids) for key, ids in table.items()}

    def of_type(self, *resource_types: str) -> frozenset[str]:
        """The ids of every member of the given resource types."""
        if len(resource_types) == 1:
            return self.resource_types.get(resource_types[0], frozenset())
        return frozenset().union(*(self.resource_types.get(t, ()) for t in resource_types))

    def of_types(self, ids: AbstractSet[str], resource_types: Collection[str]) -> frozenset[str]:
        """The members among `ids` (all members) whose resource type is in `resource_types`."""
        if not self._few(ids, "resource_types"):
            kinds = self.resource_types.items()
            unwanted = [found for kind, found in kinds if kind not in resource_types]
            return frozenset(ids).difference(*unwanted)
        nodes, others = self.manifest.nodes, self._others
        return frozenset(
            uid for uid in ids if (nodes.get(uid) or others[uid]).resource_type in resource_types
        )

    def records(self, *resource_types: str) -> dict[str, Record]:
        """The members of the given resource types, by id.

        Types kept in a collection of their own (sources, exposures, metrics, ...) are
        read from it; the others need the whole-project `resource_types` table.
        """
        attributes = [_OWN_COLLECTIONS.get(kind) for kind in resource_types]
        if None in attributes or "resource_types" in self.__dict__:
            members = self.members
            return {uid: members[uid] for uid in self.of_type(*resource_types)}
        found: dict[str, Record] = {}
        for attribute in attributes:
            collection = getattr(self.manifest, str(attribute), None)
            if isinstance(collection, dict):
                found.update((uid, rec) for uid, rec in collection.items() if _enabled(rec))
        return found

    @cached_property
    def test_ids(self) -> frozenset[str]:
        """Tests and unit tests: what indirect selection may add."""
        return self.of_type(*_TEST_TYPES)

    def tests_among(self, ids: set[str]) -> set[str]:
        """The enabled tests and unit tests among `ids`."""
        if not self._few(ids, "resource_types"):
            return ids & self.test_ids
        nodes, others = self.manifest.nodes, self._others
        return {
            uid
            for uid in ids
            if (rec := nodes.get(uid) or others.get(uid)) is not None
            and rec.resource_type in _TEST_TYPES
            and (
                not isinstance(config := getattr(rec, "config", None), dict)
                or config.get("enabled", True) is not False
            )
        }

    def test_parents(self, uid: str) -> frozenset[str]:
        """The nodes test `uid` depends on."""
        found = self._parents.get(uid)
        if found is None:
            record = self.record(uid)
            found = self._parents[uid] = frozenset(getattr(record, "depends_on_nodes", ()))
        return found

    @cached_property
    def fqn_ids(self) -> frozenset[str]:
        """Every member `fqn:` may select: all but sources."""
        return self.member_ids.difference(self.manifest.sources)

    @cached_property
    def fqn_table(self) -> FqnTable:
        """The fqns of every record but sources, grouped by folder and by leaf."""
        by_folder: defaultdict[tuple[str, ...], tuple[list[str], list[str]]] = defaultdict(
            lambda: ([], [])
        )
        leaves: dict[str, str] = {}
        more_leaves: defaultdict[str, list[str]] = defaultdict(list)
        irregular: dict[str, Sequence[str]] = {}
        versioned: list[str] = []
        # one pass over (typically) every node of the project: keep the body lean
        for uid, rec in self._items(sources=False):
            fqn = rec.fqn or ("",)
            leaf = fqn[-1]
            if getattr(rec, "version", None) is not None and rec.resource_type == "model":
                versioned.append(uid)
                irregular[uid] = fqn
            elif len(fqn) < 2 or "." in leaf:
                irregular[uid] = fqn
            else:
                ids, names = by_folder[tuple(fqn[:-1])]
                ids.append(uid)
                names.append(leaf)
                if leaves.setdefault(leaf, uid) is not uid:
                    more_leaves[leaf].append(uid)
        folders = _flat_folders(by_folder)
        return FqnTable(folders, leaves, dict(more_leaves), irregular, frozenset(versioned))

    @cached_property
    def tags(self) -> Table:
        """Ids by tag."""
        table: defaultdict[str, list[str]] = defaultdict(list)
        for uid, rec in self._items():
            # `Node.tags` copies `config["tags"]` on every access: read the config
            tags = rec.config.get("tags") if rec.__class__ is Node else getattr(rec, "tags", None)
            if not tags:
                continue
            if not isinstance(tags, list | tuple):
                tags = (tags,)
            for tag in tags:
                table[tag if tag.__class__ is str else str(tag)].append(uid)
        return dict(table)

    @cached_property
    def packages(self) -> Table:
        """Ids by package name."""
        table: defaultdict[str, list[str]] = defaultdict(list)
        for uid, rec in self._items():
            table[rec.package_name].append(uid)
        return dict(table)

    @cached_property
    def files(self) -> Table:
        """Ids by the file that defines them (`original_file_path`)."""
        table: defaultdict[Any, list[str]] = defaultdict(list)
        for uid, rec in self._items():
            table[rec.original_file_path].append(uid)
        # `./models/a.sql` -> `models/a.sql`, once per distinct file, and only if needed
        odd = [path for path in table if path.__class__ is not str or path.startswith("./")]
        for path in odd:
            ids = table.pop(path)
            table[str(path).removeprefix("./")] += ids
        return dict(table)

    @cached_property
    def file_folders(self) -> dict[str, list[str]]:
        """The keys of `files` by their folder, with its trailing `/` (`""` at the root).

        Example: `models/staging/` -> `["models/staging/stg_orders.sql", ...]`.
        """
        table: defaultdict[str, list[str]] = defaultdict(list)
        for path in self.files:
            table[path[: path.rfind("/") + 1]].append(path)
        return dict(table)

    @cached_property
    def patches(self) -> Table:
        """Ids by the YAML file that patched them (a model described in `_marts.yml`)."""
        table: defaultdict[str, list[str]] = defaultdict(list)
        for uid, rec in self._items():
            patch = getattr(rec, "patch_path", None)
            if patch:
                table[patch].append(uid)
        # `shop://models/_marts.yml` -> `models/_marts.yml`, once per distinct file
        return _merged((patch.split("://", 1)[-1], ids) for patch, ids in table.items())

    @cached_property
    def file_names(self) -> Table:
        """Ids by file name and by file name without its extension."""
        table: defaultdict[str, list[str]] = defaultdict(list)
        for path, ids in self.files.items():
            name, stem = file_name_and_stem(path)
            table[name].extend(ids)
            if stem != name:
                table[stem].extend(ids)
        return dict(table)

    def config_values(self, keys: tuple[str, ...]) -> ConfigValues:
        """The values of the (nested) config key `keys` over the nodes and sources, as dbt."""
        found = self._config.get(keys)
        if found is None:
            found = self._config[keys] = self._build_config_values(keys)
        return found

    def _build_config_values(self, keys: tuple[str, ...]) -> ConfigValues:
        text: defaultdict[str, list[str]] = defaultdict(list)
        scalars: defaultdict[tuple[type, Hashable], list[str]] = defaultdict(list)
        top = keys[0] if len(keys) == 1 else None
        manifest = self.manifest
        records: Iterable[tuple[str, Record]] = chain(
            manifest.nodes.items(), manifest.sources.items()
        )
        for uid, rec in records:
            config = rec.config
            if top is not None and isinstance(config, dict):
                value = config.get(top, _MISSING)  # the usual case, without a call
            else:
                value = config_value(config, keys)
            if value.__class__ is str:
                text[value].append(uid)
                continue
            for item in value if isinstance(value, list | tuple) else (value,):
                if isinstance(item, str):
                    text[item].append(uid)
                elif isinstance(item, bool | int | float):
                    scalars[(item.__class__, item)].append(uid)
        return ConfigValues(dict(text), dict(scalars))

    @cached_property
    def test_kinds(self) -> dict[str, frozenset[str]]:
        """Test ids by kind: `generic` (from a test block), `singular` (a .sql file), `unit`."""
        kinds: dict[str, list[str]] = {"generic": [], "singular": [], "unit": []}
        for uid, rec in self._items(sources=False):
            if rec.resource_type == "test":
                generic = getattr(rec, "test_metadata", None) is not None
                kinds["generic" if generic else "singular"].append(uid)
            elif rec.resource_type == "unit_test":
                kinds["unit"].append(uid)
        return {kind: frozenset(ids) for kind, ids in kinds.items()}

    @cached_property
    def test_names(self) -> Table:
        """Test ids by the generic test they were made from (`""` for singular tests)."""
        table: defaultdict[str, list[str]] = defaultdict(list)
        for uid, rec in self.manifest.nodes.items():
            if rec.resource_type == "test":
                metadata = rec.test_metadata
                table["" if metadata is None else str(metadata.name)].append(uid)
        return dict(table)

    def empty_models_among(self, ids: AbstractSet[str]) -> set[str]:
        """The models among `ids` whose file holds only whitespace.

        dbt skips such a model (`node.empty`) everywhere but in `ls`.
        """
        nodes = self.manifest.nodes
        return {
            uid
            for uid in ids
            if (rec := nodes.get(uid)) is not None
            and rec.resource_type == "model"
            and (not (code := str(getattr(rec, "raw_code", "x"))) or code.isspace())
        }


def _flat_folders(
    by_folder: dict[tuple[str, ...], tuple[list[str], list[str]]],
) -> dict[tuple[str, ...], FqnFolder]:
    """Folders keyed by their flattened fqn: `("a.b",)` and `("a", "b")` are one folder."""
    folders: dict[tuple[str, ...], FqnFolder] = {}
    for folder, (ids, leaves) in by_folder.items():
        key = flatten_fqn(folder)
        known = folders.get(key)
        folders[key] = FqnFolder(ids, leaves) if known is None else known.joined(ids, leaves)
    return folders


def _merged(pairs: Iterable[tuple[str, list[str]]]) -> Table:
    """`(key, ids)` pairs as one table, joining the ids of keys that repeat."""
    table: Table = {}
    for key, ids in pairs:
        if key in table:
            table[key] = table[key] + ids
        else:
            table[key] = ids
    return table
