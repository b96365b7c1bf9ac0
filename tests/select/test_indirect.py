"""Indirect selection of tests, mode by mode, on a small graph.

src ──▶ a ──▶ b        t_a: a           t_ab: a, b
        │              t_src_a: src, a  t_bc: b, c
        └───▶ c
"""

from __future__ import annotations

import pytest
from select_factories import graph_of, ids, make_manifest, make_model, make_source, make_test

from kiln.select import IndirectSelection, SelectionContext
from kiln.select.indirect import Picked, expand, incorporate

YML = "models/schema.yml"


@pytest.fixture(scope="module")
def ctx() -> SelectionContext:
    def test(name: str, *parents: str) -> object:
        deps = [p if p.startswith("source.") else f"model.shop.{p}" for p in parents]
        return make_test(name, "0123456789", depends_on=deps, yml=YML, test_name="x")

    manifest = make_manifest(
        make_source("raw", "src", yml=YML),
        make_model("a", depends_on=["source.shop.raw.src"]),
        make_model("b", depends_on=["model.shop.a"]),
        make_model("c", depends_on=["model.shop.a"]),
        test("t_a", "a"),  # type: ignore[arg-type]
        test("t_ab", "a", "b"),  # type: ignore[arg-type]
        test("t_bc", "b", "c"),  # type: ignore[arg-type]
        test("t_src_a", "source.shop.raw.src", "a"),  # type: ignore[arg-type]
    )
    return SelectionContext(manifest, graph_of(manifest))


def t(*names: str) -> set[str]:
    return {f"test.shop.{name}.0123456789" for name in names}


@pytest.mark.parametrize(
    ("mode", "selected", "direct", "held"),
    [
        (IndirectSelection.EAGER, {"b"}, t("t_ab", "t_bc"), set()),
        (IndirectSelection.CAUTIOUS, {"b"}, set(), t("t_ab", "t_bc")),
        (IndirectSelection.BUILDABLE, {"b"}, t("t_ab"), t("t_bc")),
        (IndirectSelection.BUILDABLE, {"a"}, t("t_a", "t_src_a"), t("t_ab")),
        (IndirectSelection.CAUTIOUS, {"a"}, t("t_a"), t("t_ab", "t_src_a")),
        (IndirectSelection.EMPTY, {"a", "b"}, set(), set()),
    ],
)
def test_expand(
    ctx: SelectionContext,
    mode: IndirectSelection,
    selected: set[str],
    direct: set[str],
    held: set[str],
) -> None:
    models = ids(*(f"model:{name}" for name in selected))
    assert expand(models, mode, ctx) == Picked(frozenset(models | direct), frozenset(held))


def test_cautious_promotes_tests_once_every_parent_is_selected(ctx: SelectionContext) -> None:
    b, c = ids("model:b"), ids("model:c")
    left, right = (expand(x, IndirectSelection.CAUTIOUS, ctx) for x in (b, c))
    direct = left.direct | right.direct
    wider = direct | left.indirect | right.indirect
    assert incorporate(direct, wider, IndirectSelection.CAUTIOUS, ctx) == direct | t("t_bc")
    assert incorporate(direct, wider, IndirectSelection.EAGER, ctx) == direct


def test_buildable_promotes_tests_whose_parents_are_upstream(ctx: SelectionContext) -> None:
    direct = frozenset(ids("model:b"))
    wider = direct | t("t_ab")
    assert incorporate(direct, wider, IndirectSelection.BUILDABLE, ctx) == direct | t("t_ab")
