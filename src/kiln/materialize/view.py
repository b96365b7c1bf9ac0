"""Views: created or replaced atomically, replacing a table of the same name if need be."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.materialize.table import INTERMEDIATE_SUFFIX, run_hooks

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter, AdapterResponse
    from kiln.adapters.relation import Relation
    from kiln.materialize import BuildRequest


def build_view(adapter: Adapter, req: BuildRequest) -> AdapterResponse:
    """Build a view model: pre-hooks, create or replace, post-hooks, in one transaction.

    Raises:
        DatabaseError: the view's SQL or a hook failed; the old relation is unchanged.
    """
    target = req.relation.incorporate(type="view")
    existing = adapter.get_relation(target.database, target.schema, target.identifier)
    with adapter.node_scope(req.node_id, req.config), adapter.transaction():
        run_hooks(adapter, req.pre_hooks)
        if adapter.capabilities.create_or_replace_view:
            response = _replace_view(adapter, target, existing, req.sql)
        else:
            response = _swap_in_view(adapter, target, req.sql)
        run_hooks(adapter, req.post_hooks)
    return response


def _replace_view(
    adapter: Adapter, target: Relation, existing: Relation | None, sql: str
) -> AdapterResponse:
    if existing is not None and not existing.is_view:
        adapter.drop_relation(existing)
    return adapter.create_view_as(target, sql, replace=True)


def _swap_in_view(adapter: Adapter, target: Relation, sql: str) -> AdapterResponse:
    """dbt's default: build `<name>__dbt_tmp` as a view, then swap it in."""
    intermediate = adapter.derived_relation(target, INTERMEDIATE_SUFFIX)
    adapter.drop_relation(intermediate.incorporate(type=None))
    response = adapter.create_view_as(intermediate, sql)
    adapter.swap_relation(intermediate, target)
    return response
