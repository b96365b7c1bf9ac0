"""The selection methods: one pure function per method, registered in `METHODS`.

Every method has the signature `(ctx, value, args) -> set[unique_id]`: `value` is the
text after the colon, `args` the dotted arguments after the method name
(`config.materialized:table` -> `("materialized",)`). A method returns the ids of the
records it matches, reading the lookup tables of `ctx.index`, which also hold disabled
records: the evaluator keeps the enabled ones (`NodeIndex.members_of`), then applies
graph operators and indirect test selection. A new method is one function plus one
entry in `METHODS`.

A method that cannot use its value raises `MethodError`; the evaluator turns it into a
`SelectionError` with a caret under the value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kiln.manifest.nodes import SourceDefinition
from kiln.select.context import SelectionContext
from kiln.select.errors import MethodError, unknown_choice
from kiln.select.index import FqnTable, Record, Table
from kiln.select.patterns import (
    FqnMatcher,
    flatten_fqn,
    fqn_glob_matcher,
    fqn_matches,
    glob_matcher,
    has_glob,
    normalize_path_pattern,
    path_glob_match,
    version_key,
)

MethodFn = Callable[[SelectionContext, str, tuple[str, ...]], set[str]]

# every resource type dbt knows (`NodeType`), for `resource_type:` and `--resource-type`
RESOURCE_TYPES = (
    "analysis", "doc", "exposure", "fixture", "function", "group", "macro", "metric", "model",
    "operation", "rpc", "saved_query", "seed", "semantic_model", "snapshot", "source",
    "sql_operation", "test", "unit_test",
)  # fmt: skip
TEST_TYPES = ("data", "generic", "schema", "singular", "unit")
VERSION_TYPES = ("latest", "none", "old", "prerelease")
ACCESS_LEVELS = ("private", "protected", "public")


def _scan(records: dict[str, Record], keep: Callable[[Record], bool]) -> set[str]:
    return {uid for uid, rec in records.items() if keep(rec)}


def _from_table(table: Table, pattern: str) -> set[str]:
    """Ids whose key matches `pattern`: a lookup, or a scan of the keys for a glob."""
    if not has_glob(pattern):
        return set(table.get(pattern, ()))
    matches = glob_matcher(pattern)
    return {uid for key, ids in table.items() if matches(key) for uid in ids}


def select_fqn(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`fqn:` (and a bare name): the node's name or a dotted prefix of its fqn.

    Sources are never selected by fqn; exposures are. Most of the work is done per
    fqn folder (`NodeIndex.fqn_table`); only irregular members are matched one by one.
    """
    index = ctx.index
    if value == "*":
        return set(index.fqn_ids)
    table = index.fqn_table
    if has_glob(value):
        found = _fqn_glob(table, value)
        matches = fqn_glob_matcher(value)
    else:
        parts = tuple(value.split("."))
        matches = _plain_fqn_matcher(value, parts)
        found = _fqn_plain(table, value, parts)
    for uid, fqn in table.irregular.items():
        if uid in table.versioned:
            if fqn_matches(fqn, value, versioned=True):
                found.add(uid)
        elif matches(fqn, flatten_fqn(fqn)):
            found.add(uid)
    return found


def _plain_fqn_matcher(value: str, parts: tuple[str, ...]) -> FqnMatcher:
    # the wildcard-free case of `fqn_matches`, comparing slices instead of re-splitting
    size = len(parts)

    def matches(fqn: Sequence[str], flat: Sequence[str]) -> bool:
        return fqn[-1] == value or tuple(flat[:size]) == parts or tuple(flat[1 : size + 1]) == parts

    return matches


def _fqn_plain(table: FqnTable, value: str, parts: tuple[str, ...]) -> set[str]:
    """The regular members a wildcard-free selector names.

    A regular fqn is `folder + (leaf,)`: the selector names the leaf, or a prefix of
    the fqn (package included or left out) that ends inside the folder, which selects
    the whole folder, or that ends at the leaf, which selects the members with that
    leaf in that folder.
    """
    size, head, leaf = len(parts), parts[:-1], parts[-1]
    found = set(table.with_leaf(value))
    for folder, group in table.folders.items():
        if folder[:size] == parts or folder[1 : size + 1] == parts:
            found.update(group.ids)
        elif size > 1 and head in (folder, folder[1:]):
            found.update(group.with_leaf(leaf))
    return found


def _fqn_glob(table: FqnTable, selector: str) -> set[str]:
    """The regular members a wildcard selector matches (`fqn_glob_matcher`, per folder).

    The leaf is matched against the whole selector; the prefix rule compares the parts
    before the first wildcard with the folder and matches the rest of the fqn, as one
    dotted string, against the rest of the selector.
    """
    found: set[str] = set()
    if "." not in selector or "[" in selector:
        # a regular leaf has no dot: a selector holding a literal dot cannot match it
        leaf_matches, more = glob_matcher(selector), table.more_leaves
        for leaf, uid in table.leaves.items():
            if leaf_matches(leaf):
                found.add(uid)
                found.update(more.get(leaf, ()))
    parts = selector.split(".")
    first = next(i for i, part in enumerate(parts) if has_glob(part))
    head, tail = tuple(parts[:first]), ".".join(parts[first:])
    rest, everything = glob_matcher(tail), set(tail) == {"*"}
    for folder, group in table.folders.items():
        for shifted in (folder, folder[1:]):  # with the package, and without it
            if len(shifted) + 1 < len(parts) or shifted[:first] != head:
                continue
            if everything:
                found.update(group.ids)
                continue
            stem = ".".join(shifted[first:])
            found.update(
                uid
                for uid, leaf in zip(group.ids, group.leaves, strict=True)
                if rest(f"{stem}.{leaf}" if stem else leaf)
            )
    return found


def select_tag(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`tag:`: any tag of the node matches (globs allowed)."""
    return _from_table(ctx.index.tags, value)


def select_path(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`path:`: the file, a folder above it, or the YAML file that patched the node.

    The pattern is a glob over whole relative paths (`models/*/fct_*` does not reach
    `models/marts/core/fct_orders.sql`), as `Path.glob` from the project root. A glob
    is matched once per folder (`NodeIndex.file_folders`), then against file names only.
    """
    if value.startswith("/"):
        raise MethodError(f"path {value!r} must be relative to the project root")
    pattern = normalize_path_pattern(value)
    index = ctx.index
    if not pattern:
        tables = (index.files, index.patches)
        return {uid for table in tables for ids in table.values() for uid in ids}
    if has_glob(value):
        paths = _glob_paths(index.file_folders, pattern)
        patches = [path for path in index.patches if path_glob_match(path.split("/"), pattern)]
    else:
        prefix = "/".join(pattern)
        below = prefix + "/"
        paths = [path for path in index.files if path == prefix or path.startswith(below)]
        patches = [prefix] if prefix in index.patches else []
    # a patching YAML file counts itself, not through its folders
    found = {uid for path in paths for uid in index.files[path]}
    found.update(uid for path in patches for uid in index.patches[path])
    return found


def _glob_paths(folders: dict[str, list[str]], pattern: tuple[str, ...]) -> list[str]:
    """The files that match `pattern`, or sit below a folder that does.

    Args:
        folders: file paths by folder (with its trailing `/`), as `NodeIndex.file_folders`.
        pattern: the glob's segments.
    """
    matched: dict[tuple[str, ...], bool] = {}

    def folder_matches(parts: tuple[str, ...]) -> bool:
        # this folder or one above it, the project root included
        for end in range(len(parts) + 1):
            above = parts[:end]
            if above not in matched:
                matched[above] = path_glob_match(above, pattern)
            if matched[above]:
                return True
        return False

    found: list[str] = []
    name_matches = glob_matcher(pattern[-1])
    for folder, files in folders.items():
        parts = tuple(folder.split("/")[:-1])
        if folder_matches(parts):
            found.extend(files)
        elif "**" in pattern:
            found.extend(path for path in files if path_glob_match(path.split("/"), pattern))
        elif len(parts) == len(pattern) - 1 and path_glob_match(parts, pattern[:-1]):
            # without `**`, a file matches when its folder matches all but the last segment
            size = len(folder)
            found.extend(path for path in files if name_matches(path[size:]))
    return found


def select_file(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`file:`: the file name, with or without its extension (globs allowed)."""
    return _from_table(ctx.index.file_names, value)


def select_package(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`package:`: the package the node is defined in (globs allowed)."""
    return _from_table(ctx.index.packages, value)


def config_value_matches(value: Any, wanted: str, *, ignore_case: bool = False) -> bool:
    """dbt's config comparison: equality, list membership, and `true`/`false` for booleans.

    Numbers compare by their text, so that a YAML selector's `value: 5` and the CLI's
    `:5` select the same nodes.

    Example:
        >>> config_value_matches(["marts", "orders"], "orders"), config_value_matches(True, "TRUE")
        (True, True)
        >>> config_value_matches("WARN", "warn")
        False
        >>> config_value_matches("WARN", "warn", ignore_case=True)
        True
    """
    if isinstance(value, list | tuple):
        return any(_scalar_matches(item, wanted, ignore_case) for item in value)
    return _scalar_matches(value, wanted, ignore_case)


def _scalar_matches(value: Any, wanted: str, ignore_case: bool) -> bool:
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    if isinstance(value, str):
        return value.upper() == wanted.upper() if ignore_case else value == wanted
    if isinstance(value, int | float):
        return str(value) == wanted
    return False


def select_config(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`config.<key>(.<nested>)*:`: a node's config value equals, or a list holds, `value`.

    `severity` compares case-insensitively (`warn` = `WARN`), as in dbt. The values of
    one key are collected once (`NodeIndex.config_values`) and compared once each.
    """
    ignore_case = args == ("severity",)
    values = ctx.index.config_values(args)
    if ignore_case:
        wanted = value.upper()
        found = {uid for text, ids in values.text.items() if text.upper() == wanted for uid in ids}
    else:
        found = set(values.text.get(value, ()))
    for (_, scalar), ids in values.scalars.items():
        if _scalar_matches(scalar, value, ignore_case):
            found.update(ids)
    return found


def select_resource_type(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`resource_type:`: model, seed, snapshot, test, source, exposure, analysis, ..."""
    if value not in RESOURCE_TYPES:
        raise MethodError(unknown_choice("resource type", value, RESOURCE_TYPES))
    return set(ctx.index.of_type(value))


# test type -> the test kinds (`NodeIndex.test_kinds`) it selects
_TEST_TYPES: dict[str, tuple[str, ...]] = {
    "generic": ("generic",),
    "schema": ("generic",),  # dbt's old name for generic tests
    "singular": ("singular",),
    "data": ("generic", "singular"),  # data tests are both kinds since dbt 1.8
    "unit": ("unit",),
}


def select_test_type(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`test_type:`: generic, singular, unit, or data (generic and singular)."""
    kinds = _TEST_TYPES.get(value)
    if kinds is None:
        raise MethodError(unknown_choice("test type", value, TEST_TYPES))
    index = ctx.index
    found: set[str] = set()
    for kind in kinds:
        found.update(index.test_kinds[kind])
    return found


def select_test_name(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`test_name:`: the generic test a test was made from (`unique`, `accepted_values`)."""
    return _from_table(ctx.index.test_names, value)


def _split(value: str, kind: str, forms: tuple[str, ...]) -> list[str]:
    """`value` split on dots, padded on the left with `*`, for a `kind` of 1..n parts."""
    parts = value.split(".")
    if len(parts) > len(forms):
        shapes = " or ".join(f"`{form}`" for form in forms)
        raise MethodError(f"invalid {kind} selector {value!r}: expected {shapes}")
    return ["*"] * (len(forms) - len(parts)) + parts


def select_source(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`source:`: `source`, `source.table` or `package.source.table` (globs allowed)."""
    forms = ("source_name", "source_name.table_name", "package.source_name.table_name")
    if "." in value:
        package, source, table = _split(value, "source", forms)
    else:
        package, source, table = "*", value, "*"
    package_ok, source_ok, table_ok = map(glob_matcher, (package, source, table))
    return _scan(
        ctx.index.records("source"),
        lambda rec: (
            isinstance(rec, SourceDefinition)
            and package_ok(rec.package_name)
            and source_ok(rec.source_name)
            and table_ok(rec.name)
        ),
    )


def _named(resource_type: str) -> MethodFn:
    """A method selecting `resource_type` records by `name` or `package.name`."""

    def select(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
        forms = (f"{resource_type}_name", f"package.{resource_type}_name")
        package, name = _split(value, resource_type, forms)
        package_ok, name_ok = glob_matcher(package), glob_matcher(name)
        return _scan(
            ctx.index.records(resource_type),
            lambda rec: package_ok(rec.package_name) and name_ok(rec.name),
        )

    select.__name__ = f"select_{resource_type}"
    select.__doc__ = f"`{resource_type}:`: by name or `package.name` (globs allowed)."
    return select


def select_group(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`group:`: nodes (and metrics) assigned to the group."""
    matches = glob_matcher(value)
    return {
        uid
        for uid, rec in ctx.index.members.items()
        if rec.resource_type not in ("source", "exposure")
        and (group := _group_of(rec)) is not None
        and matches(str(group))
    }


def _group_of(rec: Record) -> Any:
    config = getattr(rec, "config", None)
    from_config = config.get("group") if isinstance(config, dict) else None
    return getattr(rec, "group", None) or from_config


def select_access(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`access:`: models by access level; a model without one is `protected`."""
    if value not in ACCESS_LEVELS:
        raise MethodError(unknown_choice("access level", value, ACCESS_LEVELS))
    models = ctx.index.records("model")
    return _scan(models, lambda rec: (getattr(rec, "access", None) or "protected") == value)


def _version_matches(rec: Record, kind: str) -> bool:
    version, latest = getattr(rec, "version", None), getattr(rec, "latest_version", None)
    if kind == "none":
        return version is None
    if kind == "latest":
        return version is not None and str(version) == str(latest)
    if version is None or latest is None:
        return False
    if kind == "old":
        return version_key(version) < version_key(latest)
    return version_key(version) > version_key(latest)


def select_version(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`version:`: models that are the `latest`, a `prerelease`, `old`, or unversioned (`none`)."""
    if value not in VERSION_TYPES:
        raise MethodError(unknown_choice("version selector", value, VERSION_TYPES))
    models = ctx.index.records("model")
    return _scan(models, lambda rec: _version_matches(rec, value))


def _prior(method: str) -> MethodFn:
    """A method answered by the prior-state hook (`ctx.state`)."""

    def select(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
        if ctx.state is None:
            raise MethodError(
                f"'{method}:' compares with a previous invocation: pass --state <dir> "
                "(the target/ folder of that run)"
            )
        return ctx.index.members_of(set(ctx.state.select(method, value, ctx)))

    select.__name__ = f"select_{method}"
    select.__doc__ = f"`{method}:`: delegated to the prior-state hook `ctx.state`."
    return select


METHODS: dict[str, MethodFn] = {
    "fqn": select_fqn,
    "tag": select_tag,
    "path": select_path,
    "file": select_file,
    "package": select_package,
    "config": select_config,
    "resource_type": select_resource_type,
    "test_type": select_test_type,
    "test_name": select_test_name,
    "source": select_source,
    "exposure": _named("exposure"),
    "metric": _named("metric"),
    "semantic_model": _named("semantic_model"),
    "saved_query": _named("saved_query"),
    "unit_test": _named("unit_test"),
    "group": select_group,
    "access": select_access,
    "version": select_version,
    "state": _prior("state"),
    "result": _prior("result"),
    "source_status": _prior("source_status"),
}
# `selector:` is resolved by the evaluator, which can evaluate another selector's tree
METHOD_NAMES = frozenset(METHODS) | {"selector"}
METHODS_WITH_ARGS = frozenset({"config"})
