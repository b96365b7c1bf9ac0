"""What counts as a change between a prior node and the current one: one table of checks.

`MODIFIED_CHECKS` maps each `state:` value to a pure function `(old, new, ctx) -> bool`
over two `Facts` (None where the node does not exist on that side). The rules follow
dbt-core's (`same_body`, `same_config`, ... in `contracts/graph/nodes.py`), with two
deliberate differences that remove false positives:

* config values written as Jinja in a `config(...)` call are compared as written, not
  as rendered, so a different `--target` or env var does not count as a change;
* a source's database and schema are compared as written in its yml.

A node that exists only in the prior manifest (deleted, renamed or disabled) is never
selected: `new` is None for it, and every check answers False.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kiln.state.facts import GENERIC_TEST, Facts, canonical
from kiln.state.sqlconfig import config_call_sources

# configs dbt leaves out of `same_config` (they belong to the relation check, or are metadata)
_NODE_CONFIG_EXCLUDED = frozenset({"alias", "schema", "database", "tags", "group"})
# source configs Kiln compares through the source's own fields (spelled alike by dbt and Kiln)
_SOURCE_CONFIG_FIELDS = frozenset(
    {"freshness", "loaded_at_field", "loaded_at_query", "meta", "tags", "enabled"}
)
NODE_KINDS = frozenset({"node", "model", "seed", GENERIC_TEST})


@dataclass(frozen=True)
class CompareContext:
    """What checks need besides the two nodes.

    Attributes:
        macros_reached: the modified macros a node's `depends_on.macros` reach,
            directly or through other macros (see `macros.MacroChanges`).
        vars_changed: the vars whose values differ for a node (`vars.VarChanges`).
        env_vars_changed: the same for env vars.
        include_vars: `state:modified` also counts changed vars (the project opted in
            with `flags: {kiln_state_modified_includes_vars: true}`).
    """

    macros_reached: Callable[[Facts], tuple[str, ...]] = lambda facts: ()
    vars_changed: Callable[[str], tuple[str, ...]] = lambda uid: ()
    env_vars_changed: Callable[[str], tuple[str, ...]] = lambda uid: ()
    include_vars: bool = False


Same = Callable[[Facts, Facts], bool]
Check = Callable[[Facts | None, Facts | None, CompareContext], bool]


# ---- the facets: each says whether one aspect of two nodes is the same ----------------------


def same_body(old: Facts, new: Facts) -> bool:
    """The code is unchanged; for seeds, the file checksum (dbt's large-seed rule applies).

    A seed over dbt's size limit is recorded by its path: two path checksums are the
    same when the path is (a change inside cannot be seen), a path against a hash never.
    """
    if new.kind == "seed":
        # (name, value) pairs: a path checksum equals only the same path, never a hash
        return old.checksum == new.checksum
    # dbt strips the file's leading and trailing whitespace from raw_code, Kiln does not
    return old.raw_code.strip() == new.raw_code.strip()


def same_configs(old: Facts, new: Facts) -> bool:
    """The configs as written are the same (`same_config`), ignoring relation keys.

    Example:
        >>> a = Facts("model.p.m", "model", unrendered_config={"materialized": "view"})
        >>> b = Facts("model.p.m", "model", unrendered_config={"materialized": "table"})
        >>> same_configs(a, a), same_configs(a, b)
        (True, False)
    """
    before, after = _config_view(old), _config_view(new)
    if new.kind == "source" and not _same_keys(old.extra, new.extra, _SOURCE_FRESHNESS):
        return False
    if before == after:
        return True
    return bool(_as_written(old, before) == _as_written(new, after))


_SOURCE_FRESHNESS = ("freshness", "loaded_at_field", "loaded_at_query")


def _config_view(facts: Facts) -> dict[str, Any]:
    excluded = _SOURCE_CONFIG_FIELDS if facts.kind == "source" else _NODE_CONFIG_EXCLUDED
    return {
        _HOOK_KEYS.get(k, k): v for k, v in facts.unrendered_config.items() if k not in excluded
    }


# dbt records `post_hook=` of a config() call as `post-hook`; Kiln as written
_HOOK_KEYS = {"post_hook": "post-hook", "pre_hook": "pre-hook"}


def _as_written(facts: Facts, view: Mapping[str, Any]) -> Any:
    """`view` with non-literal `config(...)` arguments replaced by their Jinja text.

    Kiln records the rendered value of a config set by Jinja (`schema=env_var('S')`),
    which differs between environments although nobody changed the code.
    """
    written = config_call_sources(facts.raw_code) if "config" in facts.raw_code else {}
    return canonical({k: written.get(k, v) for k, v in view.items()})


def _same_keys(a: Mapping[str, Any], b: Mapping[str, Any], keys: Iterable[str]) -> bool:
    return all(a.get(k) == b.get(k) for k in keys)


def same_persisted_descriptions(old: Facts, new: Facts) -> bool:
    """Descriptions are unchanged where `persist_docs` writes them to the warehouse."""
    if new.persist_docs.get("relation") and old.description != new.description:
        return False
    return not (
        new.persist_docs.get("columns") and old.column_descriptions != new.column_descriptions
    )


def same_relation(old: Facts, new: Facts) -> bool:
    """The configured database, schema and alias (a source's database/schema/identifier).

    Configured values, not rendered ones: `generate_schema_name` and the target decide
    the rendered relation, and they may differ between environments.
    """
    if old.location == new.location:
        return True
    if new.kind == "source":
        return False
    keys = ("database", "schema", "alias")
    before = _as_written(old, dict(zip(keys, old.location, strict=True)))
    return bool(before == _as_written(new, dict(zip(keys, new.location, strict=True))))


def same_contract(old: Facts, new: Facts) -> bool:
    """The model's contract is unchanged (only enforced contracts can change)."""
    if not old.contract.enforced and not new.contract.enforced:
        return True
    return old.contract == new.contract


def same_fqn(old: Facts, new: Facts) -> bool:
    """The node did not move (folder, name)."""
    return old.fqn == new.fqn


def same_refs(old: Facts, new: Facts) -> bool:
    """What refs to a model resolve to: latest version, access, deprecation date."""
    return old.refs == new.refs


def same_extra(old: Facts, new: Facts) -> bool:
    """Per-kind facts: a source's quoting and external, an exposure's owner, url, ..."""
    return bool(canonical(old.extra) == canonical(new.extra))


SAME: dict[str, Same] = {
    "body": same_body,
    "configs": same_configs,
    "persisted_descriptions": same_persisted_descriptions,
    "relation": same_relation,
    "contract": same_contract,
    "fqn": same_fqn,
    "refs": same_refs,
    "extra": same_extra,
}

# What `state:modified` compares, per kind (dbt's `same_contents` of each class).
CONTENT_FACETS: dict[str, tuple[str, ...]] = {
    "node": ("body", "configs", "persisted_descriptions", "fqn", "relation", "contract"),
    "seed": ("body", "configs", "persisted_descriptions", "fqn", "relation", "contract"),
    "model": ("body", "configs", "persisted_descriptions", "fqn", "relation", "contract", "refs"),
    GENERIC_TEST: ("configs", "fqn"),
    "source": ("relation", "fqn", "configs", "extra"),
    "exposure": ("fqn", "extra", "configs"),
    "unit_test": ("fqn", "configs"),
}

# Which kinds each `state:modified.<facet>` applies to (dbt: the class has `same_<facet>`).
FACET_KINDS: dict[str, frozenset[str]] = {
    "body": NODE_KINDS,
    "configs": NODE_KINDS | {"source", "exposure", "unit_test"},
    "persisted_descriptions": NODE_KINDS,
    "relation": NODE_KINDS | {"source"},
    "contract": NODE_KINDS,
}


# ---- the checks ---------------------------------------------------------------------------


def is_new(old: Facts | None, new: Facts | None, ctx: CompareContext) -> bool:
    """`state:new`: the node did not exist in the prior manifest."""
    return new is not None and old is None


def is_old(old: Facts | None, new: Facts | None, ctx: CompareContext) -> bool:
    """`state:old`: the node existed in the prior manifest."""
    return new is not None and old is not None


def content_changes(old: Facts, new: Facts) -> list[str]:
    """The facets of `CONTENT_FACETS` that differ between two versions of a node."""
    facets = CONTENT_FACETS.get(new.kind, ("fqn", "configs"))
    return [facet for facet in facets if not SAME[facet](old, new)]


def is_modified(old: Facts | None, new: Facts | None, ctx: CompareContext) -> bool:
    """`state:modified`: new, or changed in content, upstream macros or (opted in) vars.

    As in dbt, a new source or exposure counts as unchanged (`same_contents(None)`).
    """
    if new is None:
        return False
    if old is None:
        return new.kind not in ("source", "exposure")
    if content_changes(old, new) or ctx.macros_reached(new):
        return True
    return ctx.include_vars and bool(ctx.vars_changed(new.unique_id))


def is_unmodified(old: Facts | None, new: Facts | None, ctx: CompareContext) -> bool:
    """`state:unmodified`: everything current that `state:modified` does not select."""
    return new is not None and not is_modified(old, new, ctx)


def facet_check(facet: str) -> Check:
    """`state:modified.<facet>`: a new node, or one whose facet differs (where it applies)."""

    def check(old: Facts | None, new: Facts | None, ctx: CompareContext) -> bool:
        if new is None or new.kind not in FACET_KINDS[facet]:
            return False
        return old is None or not SAME[facet](old, new)

    check.__name__ = f"modified_{facet}"
    check.__doc__ = f"`state:modified.{facet}`: new, or {facet} changed."
    return check


def macros_modified(old: Facts | None, new: Facts | None, ctx: CompareContext) -> bool:
    """`state:modified.macros`: a macro the node uses (transitively) changed."""
    return new is not None and bool(ctx.macros_reached(new))


def vars_modified(old: Facts | None, new: Facts | None, ctx: CompareContext) -> bool:
    """`state:modified.vars` (Kiln): a var the node reads has another value."""
    return new is not None and old is not None and bool(ctx.vars_changed(new.unique_id))


def env_vars_modified(old: Facts | None, new: Facts | None, ctx: CompareContext) -> bool:
    """`state:modified.env_vars` (Kiln): an env var the node's code reads has another value."""
    return new is not None and old is not None and bool(ctx.env_vars_changed(new.unique_id))


MODIFIED_CHECKS: dict[str, Check] = {
    "new": is_new,
    "old": is_old,
    "modified": is_modified,
    "unmodified": is_unmodified,
    "modified.body": facet_check("body"),
    "modified.configs": facet_check("configs"),
    "modified.persisted_descriptions": facet_check("persisted_descriptions"),
    "modified.relation": facet_check("relation"),
    "modified.contract": facet_check("contract"),
    "modified.macros": macros_modified,
    "modified.vars": vars_modified,
    "modified.env_vars": env_vars_modified,
}


def explain_changes(old: Facts | None, new: Facts, ctx: CompareContext) -> list[str]:
    """Why a node counts as modified, in words: `new`, facets, `macro X`, `var Y`."""
    if old is None:
        return ["new"]
    reasons = content_changes(old, new)
    reasons += [f"macro {uid}" for uid in ctx.macros_reached(new)]
    reasons += [f"var {name}" for name in ctx.vars_changed(new.unique_id)]
    reasons += [f"env var {name}" for name in ctx.env_vars_changed(new.unique_id)]
    return reasons


def breaking_changes(old: Facts, new: Facts) -> list[str]:
    """How a change breaks an enforced contract (dbt's categories), [] if it does not.

    Example:
        >>> from kiln.state.facts import Contract
        >>> before = Facts("m", "model", contract=Contract(True, (("id", "int", ()),)))
        >>> breaking_changes(before, Facts("m", "model", contract=Contract(True, ())))
        ['column id removed']
    """
    if not old.contract.enforced:
        return []
    if not new.contract.enforced:
        return ["contract no longer enforced"]
    before = {name: (dtype, kinds) for name, dtype, kinds in old.contract.columns}
    after = {name: (dtype, kinds) for name, dtype, kinds in new.contract.columns}
    out = [f"column {name} removed" for name in before if name not in after]
    for name, (dtype, kinds) in before.items():
        if name in after and after[name][0] != dtype:
            out.append(f"column {name} type {dtype} -> {after[name][0]}")
        lost = sorted(set(kinds) - set(after.get(name, ("", kinds))[1]))
        out += [f"column {name} lost its {kind} constraint" for kind in lost]
    if old.contract.materialized and old.contract.materialized != new.contract.materialized:
        out.append(f"materialized {old.contract.materialized} -> {new.contract.materialized}")
    return out
