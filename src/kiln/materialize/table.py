"""Tables: build into `<name>__dbt_tmp`, then swap it in place of the old relation.

Everything runs in one transaction (where the warehouse has them), so a failing build or
hook leaves the previous table or view, and its rows, untouched. This module also holds
the primitives the other materializations share: running hooks and the build-and-swap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter, AdapterResponse
    from kiln.adapters.relation import Relation
    from kiln.materialize import BuildRequest

INTERMEDIATE_SUFFIX = "__dbt_tmp"


def build_table(adapter: Adapter, req: BuildRequest) -> AdapterResponse:
    """Build a table model atomically: pre-hooks, build, swap, post-hooks, commit.

    Returns:
        The response of the CREATE TABLE AS (rows affected where the engine reports them).

    Raises:
        DatabaseError: the build or a hook failed; the old relation is unchanged.
    """
    target = req.relation.incorporate(type="table")
    # The node scope tags the statements (cost attribution) and carries the layout configs.
    with adapter.node_scope(req.node_id, req.config), adapter.transaction():
        run_hooks(adapter, req.pre_hooks)
        response = replace_with_table(adapter, target, req.sql)
        run_hooks(adapter, req.post_hooks)
    return response


def replace_with_table(adapter: Adapter, target: Relation, sql: str) -> AdapterResponse:
    """Create `target`'s intermediate table from `sql` and swap it in.

    Call inside a transaction: the caller decides where it begins and ends.
    """
    intermediate = adapter.derived_relation(target, INTERMEDIATE_SUFFIX)
    # A run killed between build and swap leaves this behind; its type is unknown.
    adapter.drop_relation(intermediate.incorporate(type=None))
    response = adapter.create_table_as(intermediate, sql)
    adapter.swap_relation(intermediate, target)
    return response


def should_full_refresh(req: BuildRequest) -> bool:
    """dbt's rule: a node's `full_refresh` config, when set, overrides `--full-refresh`."""
    configured = req.config.get("full_refresh")
    return req.full_refresh if configured is None else bool(configured)


def run_hooks(adapter: Adapter, hooks: Sequence[str]) -> None:
    """Run rendered hook SQL in order, skipping empty ones."""
    for hook in hooks:
        if hook.strip():
            adapter.execute(hook)
