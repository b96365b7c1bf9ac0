"""Generic-test expansion: one `data_tests:` entry of a YAML properties file → test node data.

Names, unique_ids, aliases and kwargs follow dbt-core 1.11 exactly, because selection,
state comparison and stored artifacts all key on them:

* the full name is `<namespace>_<source_><test>_<target>_<flattened args>`, e.g.
  `relationships_stg_orders_customer_id__customer_id__ref_stg_customers_`;
* a full name of 64 characters or more gets a short name (the compiled file name and the
  default alias): the first 30 characters of `<test>_<target>` plus the md5 of the full name;
* the unique_id is `test.<package>.<name>.<last 10 hex of md5(name + repr(metadata))>`.

The module is pure: no I/O and no Jinja rendering. Refs and sources named in the arguments
are read statically off the Jinja AST; config values holding Jinja can be rendered through
an optional callback supplied by the caller.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jinja2
from jinja2 import nodes as jnodes

from kiln.errors import Location, ParseError, did_you_mean
from kiln.manifest.nodes import RefCall, TestMetadata

# The two YAML keys a test list may appear under; `tests:` is dbt's older spelling.
TEST_KEYS = ("data_tests", "tests")

# Resource kinds a generic test can be attached to, as their YAML top-level keys.
TARGET_KEYS = ("models", "seeds", "snapshots", "sources")

# Tests shipped in dbt's global project (macro.dbt.test_<name>).
BUILTIN_TESTS = frozenset({"unique", "not_null", "accepted_values", "relationships"})

# Config keys accepted at the top level of a test entry. The order is dbt's: it decides
# the order of the `config(...)` call in raw_code.
INLINE_CONFIG_KEYS = (
    "severity",
    "tags",
    "enabled",
    "where",
    "limit",
    "warn_if",
    "error_if",
    "fail_calc",
    "store_failures",
    "store_failures_as",
    "meta",
    "database",
    "schema",
    "alias",
)

GENERIC_TEST_KWARGS_NAME = "_dbt_generic_test_kwargs"
MAX_NAME_LENGTH = 64  # dbt shortens names of this length or more
TRUNCATED_PREFIX_LENGTH = 30
UNIQUE_ID_HASH_LENGTH = 10

_TEST_NAME = re.compile(
    r"(?:(?P<namespace>[A-Za-z_][0-9A-Za-z_]*)\.)?(?P<name>[A-Za-z_][0-9A-Za-z_]*)"
)
_NOT_IDENTIFIER = re.compile(r"[^0-9a-zA-Z_]+")
# A bare `ref(...)`/`source(...)` argument string is rendered as if wrapped in `{{ }}`.
_LOOKS_LIKE_CALL = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")

RenderFn = Callable[[str], Any]


@dataclass(frozen=True, slots=True)
class GenericTestTarget:
    """What a generic test is attached to.

    Attributes:
        yaml_key: the properties-file key the resource sits under: `models`, `seeds`,
            `snapshots` or `sources`.
        name: the model/seed/snapshot name, or the table name for a source.
        source_name: the source's name (only for `sources`).
        version: the model version the test applies to, for versioned models.
    """

    yaml_key: str
    name: str
    source_name: str | None = None
    version: str | int | None = None

    @property
    def is_source(self) -> bool:
        """Whether the target is a source table."""
        return self.yaml_key == "sources"


@dataclass(frozen=True, slots=True)
class GenericTest:
    """The data of one generic test node, named as dbt-core names it.

    Attributes:
        name: the full name, used in the unique_id and the fqn.
        short_name: the name of the compiled file; equals `name` unless that was too long.
        alias: the relation name for stored failures (the `alias` config or `name`).
        unique_id: `test.<package>.<name>.<10-hex hash>`.
        package_name: the package whose YAML defines the test.
        fqn: `(package, *folders, name)`.
        path: dbt's pseudo path of the compiled test, `<short_name>.sql`.
        test_metadata: macro name, namespace and kwargs, as stored in manifest.json.
        config: the test's own config (inline keys, then `config:`), in dbt's order.
        tags: the sorted union of the column's tags and the test's `tags` config.
        column_name: the column the test is listed under (None for model-level tests, even
            when they pass a `column_name` argument, as in dbt).
        file_key_name: `models.<name>`, `seeds.<name>`, `snapshots.<name>` or
            `sources.<source>`.
        raw_code: `{{ test_<name>(**_dbt_generic_test_kwargs) }}` plus a `config(...)` call.
        description: the test's `description`, or "".
        refs: refs in the arguments (including the attached model), in dbt's order.
        sources: sources in the arguments (including the attached source table).
        macro_name: the macro to call, `test_<name>`.
        macro_id: its default resolution: the namespace's package, `dbt` for builtins,
            else the defining package. A caller with a macro index may resolve otherwise.
        static_refs_complete: False when some argument holds Jinja whose refs or sources
            cannot be read statically; the caller must render the kwargs to find them.
    """

    name: str
    short_name: str
    alias: str
    unique_id: str
    package_name: str
    fqn: tuple[str, ...]
    path: str
    test_metadata: TestMetadata
    config: dict[str, Any]
    tags: tuple[str, ...]
    column_name: str | None
    file_key_name: str
    raw_code: str
    description: str
    refs: tuple[RefCall, ...]
    sources: tuple[tuple[str, str], ...]
    macro_name: str
    macro_id: str
    static_refs_complete: bool = True


@dataclass(frozen=True, slots=True)
class _Where:
    """Where an entry sits, for error messages."""

    key: str
    target: GenericTestTarget
    column_name: str | None
    location: Location | None
    test_name: str | None = None

    def describe(self) -> str:
        kind = self.target.yaml_key.removesuffix("s")
        owner = f"{self.target.source_name}.{self.target.name}" if self.target.is_source else ""
        owner = owner or self.target.name
        test = f"test {self.test_name!r}" if self.test_name else "test entry"
        column = f"column {self.column_name!r} of " if self.column_name else ""
        return f"{test} under `{self.key}` of {column}{kind} {owner!r}"

    def error(self, problem: str, hint: str) -> ParseError:
        return ParseError(f"{self.describe()}: {problem}", hint=hint, location=self.location)


@dataclass(slots=True)
class _Parts:
    """The pieces of an entry once arguments, config, name and description are split."""

    namespace: str | None
    test_name: str
    kwargs: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    custom_name: str | None = None
    description: str = ""


def build_generic_test(
    entry: object,
    *,
    key: str,
    target: GenericTestTarget,
    column_name: str | None,
    package_name: str,
    fqn_path: Sequence[str],
    column_tags: Sequence[str] = (),
    render: RenderFn | None = None,
    require_arguments_property: bool = True,
    location: Location | None = None,
) -> GenericTest:
    """Turn one entry of a `data_tests:`/`tests:` list into the data of a test node.

    Args:
        entry: the raw YAML entry: a test name, a `{test: {...}}` mapping, or a mapping with
            `test_name:`. It is not modified.
        key: the list's key, `data_tests` or `tests` (only used in messages).
        target: the model, seed, snapshot or source table the test is attached to.
        column_name: the column the list belongs to (already quoted if the column has
            `quote: true`), or None for a model-level test.
        package_name: the package (project) whose YAML file defines the test.
        fqn_path: the folders of the YAML file below the first path component (for
            `models/staging/_staging.yml`: `["staging"]`).
        column_tags: the column's tags, added to the test's tags.
        render: called on config values that contain Jinja (dbt renders them with the
            schema-YAML context: `var`, `env_var`); without it they are kept verbatim.
        require_arguments_property: dbt's `require_generic_test_arguments_property` flag
            (default on in 1.11): merge an `arguments:` block into the kwargs. When off,
            `arguments` is an ordinary kwarg.
        location: the YAML file and line of the entry, attached to errors.

    Returns:
        The test's names, unique_id, metadata, config and dependencies.

    Raises:
        ParseError: the entry is malformed; the message names the test and what to fix.
    """
    where = _Where(
        _check_key(key, location), _check_target(target, location), column_name, location
    )
    test_ref, raw_args = _split_entry(entry, where)
    where = dataclasses.replace(where, test_name=test_ref)
    args = _copy_args(raw_args, where)
    namespace, test_name = _parse_test_name(test_ref, where)
    kwargs = _collect_kwargs(args, column_name, require_arguments_property, where)
    parts = _separate_parts(namespace, test_name, kwargs, target, render, where)
    return _assemble(parts, target, column_name, package_name, fqn_path, column_tags, where)


def _check_key(key: str, location: Location | None) -> str:
    if key not in TEST_KEYS:
        raise ParseError(
            f"unknown test list key {key!r}", hint=did_you_mean(key, TEST_KEYS), location=location
        )
    return key


def _check_target(target: GenericTestTarget, location: Location | None) -> GenericTestTarget:
    if target.yaml_key not in TARGET_KEYS:
        raise ParseError(
            f"generic tests cannot be attached to {target.yaml_key!r} ({target.name!r})",
            hint=did_you_mean(target.yaml_key, TARGET_KEYS),
            location=location,
        )
    if target.is_source and not target.source_name:
        raise ParseError(
            f"source table {target.name!r} has no source name",
            hint="pass GenericTestTarget(yaml_key='sources', name=<table>, source_name=<source>)",
            location=location,
        )
    return target


def _split_entry(entry: object, where: _Where) -> tuple[str, object]:
    """The test reference (`unique`, `pkg.test`) and its raw properties."""
    if isinstance(entry, str):
        return entry, {}
    if not isinstance(entry, Mapping):
        raise where.error(
            f"expected a test name or a mapping, got {type(entry).__name__}",
            "write `- unique` or `- accepted_values: {arguments: {values: [...]}}`",
        )
    if "test_name" in entry:
        # `- name: my_test\n  test_name: unique`: the remaining keys are the arguments.
        args: object = {k: v for k, v in entry.items() if k != "test_name"}
        test_ref: object = entry["test_name"]
    elif len(entry) == 1:
        ((test_ref, args),) = entry.items()
    else:
        raise where.error(
            f"a test mapping needs exactly one key, the test name; got {sorted(map(str, entry))}",
            "indent the arguments under the test name, or name the test with `test_name:`",
        )
    if not isinstance(test_ref, str):
        raise where.error(f"the test name must be a string, got {test_ref!r}", "quote it")
    return test_ref, args


def _copy_args(args: object, where: _Where) -> dict[str, Any]:
    """A deep copy of the test's properties, so the caller's YAML data is never modified."""
    if not isinstance(args, Mapping):
        raise where.error(
            f"its properties must be a mapping, got {type(args).__name__}",
            f"write `- {where.test_name}` alone, or give `arguments:`/`config:` under it",
        )
    return copy.deepcopy(dict(args))


def _parse_test_name(test_ref: str, where: _Where) -> tuple[str | None, str]:
    """Split `pkg.test` into namespace and name."""
    match = _TEST_NAME.fullmatch(test_ref)
    if match is None:
        raise where.error(
            f"{test_ref!r} is not a valid test name",
            "use `<test>` or `<package>.<test>`, each an identifier (letters, digits, _)",
        )
    return match["namespace"], match["name"]


def _collect_kwargs(
    args: dict[str, Any], column_name: str | None, use_arguments: bool, where: _Where
) -> dict[str, Any]:
    """Merge the column and the `arguments:` block into the top-level keys, in dbt's order."""
    if column_name is not None:
        args["column_name"] = column_name
    if use_arguments and "arguments" in args:
        arguments = args.pop("arguments")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, Mapping):
            raise where.error(
                f"`arguments` must be a mapping, got {type(arguments).__name__}",
                "write `arguments: {name: value, ...}`",
            )
        # Keys in `arguments:` win over top-level keys of the same name.
        args = {**args, **arguments}
    if "model" in args:
        raise where.error(
            "`model` cannot be given as an argument",
            "remove it: the test always runs against the resource it is attached to",
        )
    return args


def _separate_parts(
    namespace: str | None,
    test_name: str,
    kwargs: dict[str, Any],
    target: GenericTestTarget,
    render: RenderFn | None,
    where: _Where,
) -> _Parts:
    """Move config, name and description out of the kwargs; add the `model` kwarg."""
    kwargs["model"] = _model_kwarg(target)
    parts = _Parts(namespace, test_name, kwargs)
    parts.config = _pop_config(kwargs, render, where)
    description = kwargs.pop("description", "")
    if not isinstance(description, str):
        raise where.error("`description` must be a string", "quote the description")
    parts.description = description
    if "name" in kwargs:
        custom_name = kwargs.pop("name")
        if not isinstance(custom_name, str) or not custom_name:
            raise where.error(f"`name` must be a non-empty string, got {custom_name!r}", "quote it")
        parts.custom_name = custom_name
    return parts


def _model_kwarg(target: GenericTestTarget) -> str:
    """The `model` kwarg dbt passes to every generic test."""
    if target.is_source:
        relation = f"source('{target.source_name}', '{target.name}')"
    elif target.version:
        relation = f"ref('{target.name}', version='{target.version}')"
    else:
        relation = f"ref('{target.name}')"
    return f"{{{{ get_where_subquery({relation}) }}}}"


def _pop_config(kwargs: dict[str, Any], render: RenderFn | None, where: _Where) -> dict[str, Any]:
    """The test's config: inline keys (in dbt's order) first, then the rest of `config:`."""
    has_nested = "config" in kwargs
    nested = kwargs.pop("config", None) or {}
    if not isinstance(nested, Mapping):
        raise where.error(
            f"`config` must be a mapping, got {type(nested).__name__}",
            "write `config: {severity: warn, ...}`",
        )
    nested = dict(nested)
    config: dict[str, Any] = {}
    for key in INLINE_CONFIG_KEYS:
        value = kwargs.pop(key, None)
        if value and key in nested:
            raise where.error(
                f"`{key}` is given both at the top level and under `config:`",
                f"keep only `config: {{{key}: ...}}`",
            )
        if not value and has_nested:
            # dbt's precedence, kept for identical results: when a `config:` block exists,
            # a falsy top-level value (`enabled: false`) is replaced by the nested one,
            # or dropped if the block lacks the key.
            value = nested.pop(key, None)
        config[key] = value
    config.update(nested)
    rendered = {key: _render(value, render) for key, value in config.items()}
    return {key: value for key, value in rendered.items() if value is not None}


def _render(value: Any, render: RenderFn | None) -> Any:
    if render is not None and isinstance(value, str) and ("{{" in value or "{%" in value):
        return render(value)
    return value


def _assemble(
    parts: _Parts,
    target: GenericTestTarget,
    column_name: str | None,
    package_name: str,
    fqn_path: Sequence[str],
    column_tags: Sequence[str],
    where: _Where,
) -> GenericTest:
    """Name the test and gather everything a node needs."""
    if parts.custom_name is not None:
        name = short_name = parts.custom_name
    else:
        short_name, name = synthesize_names(
            _test_type(parts, target), _target_name(target), parts.kwargs
        )
        if short_name != name:
            # dbt stores the short name as the alias, so it shows up in raw_code too.
            parts.config.setdefault("alias", short_name)
    metadata = TestMetadata(name=parts.test_name, kwargs=parts.kwargs, namespace=parts.namespace)
    refs, sources, complete = _dependencies(parts, target)
    macro_name = f"test_{parts.test_name}"
    return GenericTest(
        name=name,
        short_name=short_name,
        alias=str(parts.config.get("alias", name)),
        unique_id=f"test.{package_name}.{name}.{unique_id_hash(name, metadata)}",
        package_name=package_name,
        fqn=(package_name, *fqn_path, name),
        path=f"{short_name}.sql",
        test_metadata=metadata,
        config=parts.config,
        tags=_tags(parts.config, column_tags, where),
        column_name=column_name,
        file_key_name=_file_key_name(target),
        raw_code=_raw_code(parts, macro_name),
        description=parts.description,
        refs=refs,
        sources=sources,
        macro_name=macro_name,
        macro_id=_macro_id(parts, package_name),
        static_refs_complete=complete,
    )


def _test_type(parts: _Parts, target: GenericTestTarget) -> str:
    """The name prefix: `[<namespace>_][source_]<test>`."""
    test_type = f"source_{parts.test_name}" if target.is_source else parts.test_name
    return f"{parts.namespace}_{test_type}" if parts.namespace else test_type


def _target_name(target: GenericTestTarget) -> str:
    if target.is_source:
        return f"{target.source_name}_{target.name}"
    if target.version:
        return f"{target.name}_v{target.version}"
    return target.name


def _file_key_name(target: GenericTestTarget) -> str:
    owner = target.source_name if target.is_source else target.name
    return f"{target.yaml_key}.{owner}"


def _macro_id(parts: _Parts, package_name: str) -> str:
    if parts.namespace:
        return f"macro.{parts.namespace}.test_{parts.test_name}"
    if parts.test_name in BUILTIN_TESTS:
        return f"macro.dbt.test_{parts.test_name}"
    return f"macro.{package_name}.test_{parts.test_name}"


def synthesize_names(
    test_type: str, target_name: str, kwargs: Mapping[str, Any]
) -> tuple[str, str]:
    """dbt's synthesized test name and its short form.

    The arguments are flattened in key order (skipping `model`): a mapping contributes its
    values, a list its items, anything else itself; each is stringified, runs of
    non-identifier characters become `_`, and the pieces are joined with `__`.

    Args:
        test_type: `[<namespace>_][source_]<test>`.
        target_name: the model name (`<name>_v<version>` if versioned) or `<source>_<table>`.
        kwargs: the test's kwargs.

    Returns:
        `(short_name, full_name)`; they are equal unless the full name has 64+ characters.

    Example:
        >>> synthesize_names("unique", "stg_orders", {"column_name": "order_id"})
        ('unique_stg_orders_order_id', 'unique_stg_orders_order_id')
        >>> synthesize_names("accepted_values", "orders", {"values": ["a b", 1]})[1]
        'accepted_values_orders_a_b__1'
    """
    pieces: list[str] = []
    for arg_name in sorted(kwargs):
        if arg_name == "model":  # already part of the name as the target
            continue
        value = kwargs[arg_name]
        if isinstance(value, Mapping):
            pieces.extend(str(v) for v in value.values())
        elif isinstance(value, list | tuple):
            pieces.extend(str(v) for v in value)
        else:
            pieces.append(str(value))
    identifier = f"{test_type}_{target_name}"
    full_name = f"{identifier}_" + "__".join(_NOT_IDENTIFIER.sub("_", p) for p in pieces)
    if len(full_name) < MAX_NAME_LENGTH:
        return full_name, full_name
    digest = hashlib.md5(full_name.encode("utf-8")).hexdigest()
    return f"{identifier[:TRUNCATED_PREFIX_LENGTH]}_{digest}", full_name


def unique_id_hash(name: str, metadata: TestMetadata) -> str:
    """The 10-hex suffix of a generic test's unique_id.

    dbt hashes the name followed by the `repr` of the metadata with every mapping's keys
    sorted and every scalar stringified, so configs never change the id.

    Example:
        >>> md = TestMetadata("unique", {"column_name": "order_id",
        ...     "model": "{{ get_where_subquery(ref('stg_orders')) }}"})
        >>> unique_id_hash("unique_stg_orders_order_id", md)
        'e3b841c71a'
    """
    as_dict = {"namespace": metadata.namespace, "name": metadata.name, "kwargs": metadata.kwargs}
    digest = hashlib.md5((name + repr(_hashable(as_dict))).encode("utf-8")).hexdigest()
    return digest[-UNIQUE_ID_HASH_LENGTH:]


def _hashable(value: Any) -> Any:
    # Only exact dicts and lists are walked; everything else (tuples included) is str()'d.
    if type(value) is dict:
        return {k: _hashable(value[k]) for k in sorted(value)}
    if type(value) is list:
        return [_hashable(v) for v in value]
    return str(value)


def _tags(config: Mapping[str, Any], column_tags: Sequence[str], where: _Where) -> tuple[str, ...]:
    tags = config.get("tags", [])
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise where.error(
            f"`tags` must be a string or a list of strings, got {tags!r}", "quote them"
        )
    return tuple(sorted({*column_tags, *tags}))


def _raw_code(parts: _Parts, macro_name: str) -> str:
    """`{{ [ns.]test_<name>(**_dbt_generic_test_kwargs) }}` plus the config as a call."""
    macro = f"{parts.namespace}.{macro_name}" if parts.namespace else macro_name
    code = f"{{{{ {macro}(**{GENERIC_TEST_KWARGS_NAME}) }}}}"
    if not parts.config:
        return code
    # Strings are double-quoted; anything else is written as Python's str() (dbt's format).
    values = ",".join(f"{k}={_config_literal(v)}" for k, v in parts.config.items())
    return f"{code}{{{{ config({values}) }}}}"


def _config_literal(value: Any) -> str:
    if isinstance(value, str):
        escaped = value.replace('"', '\\"')
        return f'"{escaped}"'
    return str(value)


def _dependencies(
    parts: _Parts, target: GenericTestTarget
) -> tuple[tuple[RefCall, ...], tuple[tuple[str, str], ...], bool]:
    """Refs and sources the test depends on, in the order dbt records them."""
    if parts.test_name in ("unique", "not_null") and parts.namespace in (None, "dbt"):
        # dbt does not render the kwargs of these two builtins: only the target counts.
        if target.is_source:
            return (), ((str(target.source_name), target.name),), True
        return (RefCall(name=target.name, version=target.version),), (), True
    refs: list[RefCall] = []
    sources: list[tuple[str, str]] = []
    complete = True
    for keypath, text in _string_leaves(parts.kwargs, ()):
        if keypath == ("column_name",):  # dbt never renders the column name
            continue
        complete &= _scan_jinja(text, refs, sources)
    return tuple(refs), tuple(sources), complete


def _string_leaves(
    value: Any, keypath: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield keypath, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _string_leaves(item, (*keypath, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _string_leaves(item, (*keypath, index))


def _scan_jinja(text: str, refs: list[RefCall], sources: list[tuple[str, str]]) -> bool:
    """Append the literal ref/source calls in one kwarg; False if some were not literal."""
    if _LOOKS_LIKE_CALL.match(text):
        text = f"{{{{ {text} }}}}"
    if "{{" not in text and "{%" not in text:
        return True
    from kiln.parse.fast_scan import fast_extract

    found = fast_extract(text)  # literal calls without a Jinja parse (most kwargs)
    if found is not None:
        refs.extend(found.refs)
        sources.extend(found.sources)
        return True
    try:
        tree = _jinja_env().parse(text)
    except jinja2.TemplateSyntaxError:
        return False  # rendering will report it; nothing can be read statically
    complete = True
    for call in tree.find_all(jnodes.Call):
        function = call.node.name if isinstance(call.node, jnodes.Name) else None
        if function == "ref":
            ref = _literal_ref(call)
            if ref is None:
                complete = False
            else:
                refs.append(ref)
        elif function == "source":
            source = _literal_source(call)
            if source is None:
                complete = False
            else:
                sources.append(source)
    return complete


@cache
def _jinja_env() -> jinja2.Environment:
    # Only used to parse; `do` is the one extension dbt enables that changes the syntax.
    return jinja2.Environment(extensions=["jinja2.ext.do"])


def _literal_ref(call: jnodes.Call) -> RefCall | None:
    """`ref('name')`, `ref('pkg', 'name')`, with `version=`/`v=`; None if not literal."""
    if call.dyn_args or call.dyn_kwargs or not 1 <= len(call.args) <= 2:
        return None
    names = [a.value for a in call.args if isinstance(a, jnodes.Const)]
    if len(names) != len(call.args) or not all(isinstance(n, str) for n in names):
        return None
    version: Any = None
    for keyword in call.kwargs:
        if keyword.key not in ("version", "v") or not isinstance(keyword.value, jnodes.Const):
            return None
        version = keyword.value.value
    if len(names) == 1:
        return RefCall(name=names[0], version=version)
    return RefCall(name=names[1], package=names[0], version=version)


def _literal_source(call: jnodes.Call) -> tuple[str, str] | None:
    """`source('src', 'table')`; None if not literal."""
    if call.dyn_args or call.dyn_kwargs or call.kwargs or len(call.args) != 2:
        return None
    values = [a.value for a in call.args if isinstance(a, jnodes.Const)]
    if len(values) != 2 or not all(isinstance(v, str) for v in values):
        return None
    return values[0], values[1]
