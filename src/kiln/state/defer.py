"""`--defer` / `--favor-state`: which refs resolve to the prior environment's relations.

dbt's rule (`RuntimeRefResolver.create_relation`): a ref to a node that has a relation
in the state manifest resolves to that relation when `--defer` is on and either
`--favor-state` is set and the node is not selected, or the node's own relation does not
exist in the target environment. Ephemeral nodes are compiled in, never deferred, and
`{{ this }}` is never a ref, so it never defers.

Kiln decides this once, before running: `deferred_ids` is the pure rule, and the result
becomes `RelationResolver.deferred`, which `ref` consults.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from kiln.adapters.relation import Relation
from kiln.manifest.nodes import Manifest

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.parse.load import Workspace
    from kiln.state.prior import PriorManifest
    from kiln.state.selector import StateSelector

REFABLE = frozenset({"model", "seed", "snapshot"})


def deferrable(prior: PriorManifest, manifest: Manifest) -> list[str]:
    """Nodes with a relation on both sides: refable, not ephemeral, in both manifests."""
    out = []
    for uid in prior.ids("nodes"):
        current = manifest.nodes.get(uid)
        if current is None or not current.is_relational:
            continue
        data = prior.record(uid) or {}
        config = data.get("config") or {}
        if data.get("resource_type") in REFABLE and config.get("materialized") != "ephemeral":
            out.append(uid)
    return out


def deferred_ids(
    candidates: Collection[str],
    selected: Collection[str],
    existing: Collection[str],
    *,
    favor_state: bool,
    builds_selected: bool,
) -> set[str]:
    """The nodes whose refs resolve to the state's relation.

    Args:
        candidates: nodes with a relation in both manifests (`deferrable`).
        selected: the nodes this invocation selected.
        existing: candidates whose relation exists in the target environment.
        favor_state: `--favor-state`: prefer the state even where the relation exists.
        builds_selected: the command builds the selected nodes before their children
            (run, build, seed, snapshot), so they exist by the time a child is compiled.

    Example:
        >>> sorted(deferred_ids({"a", "b", "c"}, {"c"}, {"b"}, favor_state=False,
        ...                     builds_selected=True))
        ['a']
        >>> sorted(deferred_ids({"a", "b", "c"}, {"c"}, {"b"}, favor_state=True,
        ...                     builds_selected=True))
        ['a', 'b']
    """
    out = set()
    for uid in candidates:
        chosen = uid in selected
        if chosen and builds_selected:
            continue
        if (favor_state and not chosen) or uid not in existing:
            out.add(uid)
    return out


def prior_relation(data: Mapping[str, Any], *, quote_char: str, include_database: bool) -> Relation:
    """The relation a prior manifest node was built as."""
    materialized = (data.get("config") or {}).get("materialized")
    kind = "view" if materialized == "view" else "table"
    return Relation(
        data.get("database"),
        data.get("schema"),
        str(data.get("alias") or data.get("name")),
        type=kind,
        quote_char=quote_char,
        include_database=include_database,
    )


def defer_relations(
    ws: Workspace, state: StateSelector, selected: Collection[str], *, builds_selected: bool
) -> dict[str, Relation]:
    """unique id -> the prior relation its refs resolve to, for this invocation.

    Args:
        ws: the workspace (its adapter is opened to see which relations exist).
        state: the loaded `--state`.
        selected: the selected unique ids.
        builds_selected: see `deferred_ids`.
    """
    inv = ws.invocation
    prior = state.prior.manifest
    candidates = deferrable(prior, ws.manifest)
    chosen = set(selected)
    # only nodes whose fate depends on existence are looked up in the warehouse
    unsure = [
        uid
        for uid in candidates
        if not (uid in chosen and builds_selected) and not (inv.favor_state and uid not in chosen)
    ]
    existing = _existing(ws, unsure)
    ids = deferred_ids(
        candidates, chosen, existing, favor_state=inv.favor_state, builds_selected=builds_selected
    )
    from kiln.adapters.registry import load_adapter_class

    catalogs = load_adapter_class(ws.target.type).capabilities.catalogs
    quote = ws.factory.quote_char
    return {
        uid: prior_relation(prior.record(uid) or {}, quote_char=quote, include_database=catalogs)
        for uid in sorted(ids)
    }


def _existing(ws: Workspace, ids: Collection[str]) -> set[str]:
    """The ids among `ids` whose relation exists in the target environment."""
    if not ids:
        return set()
    by_schema: dict[tuple[str | None, str], list[str]] = {}
    for uid in ids:
        node = ws.manifest.nodes[uid]
        by_schema.setdefault((node.database, node.schema), []).append(uid)
    opened_here = ws.adapter is None
    adapter = ws.open_adapter()
    try:
        names = {key: _relation_names(adapter, *key) for key in by_schema}
    finally:
        if opened_here:
            adapter.close()  # compile/show: the next statement reconnects if needed
    nodes = ws.manifest.nodes
    return {
        uid
        for key, uids in by_schema.items()
        for uid in uids
        if (nodes[uid].alias or nodes[uid].name).casefold() in names[key]
    }


def _relation_names(adapter: Adapter, database: str | None, schema: str) -> set[str]:
    from kiln.adapters.base import SchemaRef
    from kiln.errors import DatabaseError

    try:
        return {
            r.identifier.casefold() for r in adapter.list_relations(SchemaRef(database, schema))
        }
    except DatabaseError:
        return set()  # e.g. the schema does not exist yet
