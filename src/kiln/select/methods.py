"""The selection methods: one pure function per method, registered in `METHODS`.

Every method has the signature `(ctx, value, args) -> set[unique_id]`: `value` is the
text after the colon, `args` the dotted arguments after the method name
(`config.materialized:table` -> `("materialized",)`). A method returns the members of
the manifest it matches; graph operators and indirect test selection are applied by
the evaluator. A new method is one function plus one entry in `METHODS`.

A method that cannot use its value raises `MethodError`; the evaluator turns it into a
`SelectionError` with a caret under the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kiln.manifest.nodes import SourceDefinition
from kiln.select.context import SelectionContext
from kiln.select.errors import MethodError, unknown_choice
from kiln.select.index import Record, Table
from kiln.select.patterns import (
    FqnMatcher,
    fqn_glob_matcher,
    fqn_matches,
    glob_match,
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

    Sources are never selected by fqn; exposures are.
    """
    index = ctx.index
    if value == "*":
        return set(index.fqn_ids)
    versioned = index.versioned
    if has_glob(value):
        matches = fqn_glob_matcher(value)
        candidates: Iterable[str] = index.fqns
    else:
        parts = tuple(value.split("."))
        matches = _plain_fqn_matcher(value, parts)
        keys = index.fqn_keys
        candidates = {
            *keys.get(value, ()),
            *keys.get(parts[0], ()),
            *keys.get("_".join(parts[-2:]), ()),
        }
    fqns = index.fqns

    def keep(uid: str) -> bool:
        if uid in versioned:
            return fqn_matches(fqns[uid], value, versioned=True)
        return matches(fqns[uid], index.flat_fqn(uid))

    return {uid for uid in candidates if keep(uid)}


def _plain_fqn_matcher(value: str, parts: tuple[str, ...]) -> FqnMatcher:
    # the wildcard-free case of `fqn_matches`, comparing slices instead of re-splitting
    size = len(parts)

    def matches(fqn: Sequence[str], flat: Sequence[str]) -> bool:
        return fqn[-1] == value or tuple(flat[:size]) == parts or tuple(flat[1 : size + 1]) == parts

    return matches


def select_tag(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`tag:`: any tag of the node matches (globs allowed)."""
    return _from_table(ctx.index.tags, value)


def select_path(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`path:`: the file, a folder above it, or the YAML file that patched the node.

    The pattern is a glob over whole relative paths (`models/*/fct_*` does not reach
    `models/marts/core/fct_orders.sql`), as `Path.glob` from the project root.
    """
    if value.startswith("/"):
        raise MethodError(f"path {value!r} must be relative to the project root")
    pattern = normalize_path_pattern(value)
    index = ctx.index
    if has_glob(value):
        keep = _path_globber(pattern)
    else:
        prefix = "/".join(pattern)
        keep = _path_prefixer(prefix)
    found = {uid for path, ids in index.files.items() if keep(path, True) for uid in ids}
    # a patching YAML file counts itself, not through its folders
    found.update(uid for path, ids in index.patches.items() if keep(path, False) for uid in ids)
    return found


PathTest = Callable[[str, bool], bool]


def _path_prefixer(prefix: str) -> PathTest:
    def keep(path: str, folders: bool) -> bool:
        if not prefix or path == prefix:
            return True
        return folders and path.startswith(prefix) and path[len(prefix)] == "/"

    return keep


def _path_globber(pattern: tuple[str, ...]) -> PathTest:
    folders: dict[tuple[str, ...], bool] = {}

    def keep(path: str, with_folders: bool) -> bool:
        parts = tuple(path.split("/"))
        if path_glob_match(parts, pattern):
            return True
        if not with_folders:
            return False
        # a file matches when any folder above it does; folders repeat, so remember them
        for end in range(len(parts)):
            folder = parts[:end]
            if folder not in folders:
                folders[folder] = path_glob_match(folder, pattern)
            if folders[folder]:
                return True
        return False

    return keep


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


_MISSING = object()


def _descend(config: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if isinstance(config, dict):
            config = config.get(key, _MISSING)
        else:
            config = getattr(config, key, _MISSING)
        if config is _MISSING:
            break
    return config


def select_config(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`config.<key>(.<nested>)*:`: a node's config value equals, or a list holds, `value`.

    `severity` compares case-insensitively (`warn` = `WARN`), as in dbt.
    """
    ignore_case = args == ("severity",)

    def keep(rec: Record) -> bool:
        return config_value_matches(_descend(rec.config, args), value, ignore_case=ignore_case)

    return _scan(ctx.index.config_records, keep)


def select_resource_type(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`resource_type:`: model, seed, snapshot, test, source, exposure, analysis, ..."""
    if value not in RESOURCE_TYPES:
        raise MethodError(unknown_choice("resource type", value, RESOURCE_TYPES))
    return set(ctx.index.of_type(value))


def _is_generic(rec: Record) -> bool:
    return rec.resource_type == "test" and getattr(rec, "test_metadata", None) is not None


def _is_singular(rec: Record) -> bool:
    return rec.resource_type == "test" and getattr(rec, "test_metadata", None) is None


_TEST_TYPE_CHECKS: dict[str, tuple[Callable[[Record], bool], ...]] = {
    "generic": (_is_generic,),
    "schema": (_is_generic,),  # dbt's old name for generic tests
    "singular": (_is_singular,),
    "data": (_is_generic, _is_singular),  # data tests are both kinds since dbt 1.8
    "unit": (lambda rec: rec.resource_type == "unit_test",),
}


def select_test_type(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`test_type:`: generic, singular, unit, or data (generic and singular)."""
    checks = _TEST_TYPE_CHECKS.get(value)
    if checks is None:
        raise MethodError(unknown_choice("test type", value, TEST_TYPES))
    tests = ctx.index.records("test", "unit_test")
    return _scan(tests, lambda rec: any(check(rec) for check in checks))


def select_test_name(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`test_name:`: the generic test a test was made from (`unique`, `accepted_values`)."""
    matches = glob_matcher(value)
    tests = ctx.index.records("test")
    return _scan(tests, lambda rec: matches(_test_name(rec)))


def _test_name(rec: Record) -> str:
    metadata = getattr(rec, "test_metadata", None)
    return "" if metadata is None else str(metadata.name)


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
    return _scan(
        ctx.index.records("source"),
        lambda rec: (
            isinstance(rec, SourceDefinition)
            and glob_match(rec.package_name, package)
            and glob_match(rec.source_name, source)
            and glob_match(rec.name, table)
        ),
    )


def _named(resource_type: str) -> MethodFn:
    """A method selecting `resource_type` records by `name` or `package.name`."""

    def select(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
        forms = (f"{resource_type}_name", f"package.{resource_type}_name")
        package, name = _split(value, resource_type, forms)
        return _scan(
            ctx.index.records(resource_type),
            lambda rec: glob_match(rec.package_name, package) and glob_match(rec.name, name),
        )

    select.__name__ = f"select_{resource_type}"
    select.__doc__ = f"`{resource_type}:`: by name or `package.name` (globs allowed)."
    return select


def select_group(ctx: SelectionContext, value: str, args: tuple[str, ...]) -> set[str]:
    """`group:`: nodes (and metrics) assigned to the group."""
    matches = glob_matcher(value)
    records = {uid: rec for uid, rec in ctx.index.members.items() if _groupable(rec)}
    return _scan(records, lambda rec: matches(str(_group_of(rec))))


def _groupable(rec: Record) -> bool:
    return rec.resource_type not in ("source", "exposure") and _group_of(rec) is not None


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
        return set(ctx.state.select(method, value, ctx)) & ctx.index.member_ids

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
