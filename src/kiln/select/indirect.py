"""Indirect selection: which tests join a selection because their parents did.

This is dbt's two-step scheme (`graph/selector.py`), mode by mode:

* eager: a test joins when *any* of its parents is selected;
* cautious: only when *all* its parents are selected;
* buildable: when every parent is selected or is an ancestor of the selection (or a
  source), i.e. the test can run once the selection is built;
* empty: no test joins.

Step one (`expand`) runs per criterion: tests that qualify become *direct*, the others
with a selected parent are kept aside as *indirect*. Step two (`incorporate`) runs at
every union/intersection/difference: an indirect test whose parents are now all
selected (cautious), or buildable, is promoted. So `stg_orders stg_customers` in
cautious mode keeps the relationships test between the two, which neither criterion
alone would.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.select.ast import IndirectSelection
from kiln.select.context import SelectionContext
from kiln.select.graph_ops import ancestors, neighbours


@dataclass(frozen=True, slots=True)
class Picked:
    """What a sub-expression selected: `direct` ids, and tests held `indirect`ly."""

    direct: frozenset[str]
    indirect: frozenset[str] = frozenset()


def expand(
    selected: set[str], mode: IndirectSelection, ctx: SelectionContext, *, closed: bool = False
) -> Picked:
    """Step one: sort the tests hanging off `selected` into direct and indirect.

    Args:
        selected: what a criterion matched, graph operators applied.
        mode: the indirect-selection mode of that criterion.
        ctx: the context (graph and test parents).
        closed: `selected` holds every child of its members (an `x+` criterion), so
            the tests hanging off it are selected already, whatever the mode.
    """
    if closed or mode is IndirectSelection.EMPTY:
        return Picked(frozenset(selected))
    parents_of = ctx.index.test_parents
    # a test selected already stays selected whatever its parents: look at the others
    candidates = ctx.index.tests_among(set(neighbours(ctx.graph.children, selected)) - selected)
    if mode is IndirectSelection.EAGER:
        return Picked(frozenset(selected).union(candidates))
    direct, indirect = set(selected), set()
    buildable = _buildable_scope(selected, ctx) if mode is IndirectSelection.BUILDABLE else set()
    for test in candidates:
        parents = parents_of(test)
        if parents <= selected or (mode is IndirectSelection.BUILDABLE and parents <= buildable):
            direct.add(test)
        else:
            indirect.add(test)
    return Picked(frozenset(direct), frozenset(indirect))


def _buildable_scope(selected: set[str], ctx: SelectionContext) -> set[str]:
    # sources are always "built", so a test on a source never waits for one
    return selected | ancestors(ctx.graph, selected) | ctx.index.records("source").keys()


def incorporate(
    direct: frozenset[str], indirect: frozenset[str], mode: IndirectSelection, ctx: SelectionContext
) -> frozenset[str]:
    """Step two: promote held tests whose parents a combination has now selected.

    Args:
        direct: the combination's direct ids.
        indirect: the combination of every part's direct and indirect ids.
        mode: the combination's indirect-selection mode (only cautious and buildable
            promote; eager tests were all direct already, empty has none).
        ctx: the context.
    """
    if direct == indirect or mode not in (IndirectSelection.CAUTIOUS, IndirectSelection.BUILDABLE):
        return direct
    scope: set[str] = set(direct)
    if mode is IndirectSelection.BUILDABLE:
        scope |= ancestors(ctx.graph, direct)
    parents_of = ctx.index.test_parents
    held = ctx.index.tests_among(set(indirect - direct))
    return direct | {uid for uid in held if parents_of(uid) <= scope}
